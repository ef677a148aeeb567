"""Alembic environment: always driven programmatically by :mod:`connector.db`.

The connection comes from ``config.attributes["connection"]``; there is no alembic.ini.
"""

from alembic import context

from connector.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
