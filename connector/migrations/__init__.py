"""Versioned schema migrations (Alembic), run by ``cti db upgrade``."""
