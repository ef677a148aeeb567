"""The generic HTTP adapter: CRMs with no adapter of their own, through URL templates."""

from .adapter import HTTPTemplateAdapter
from .context import CallContext
from .settings import HTTPTemplateSettings

__all__ = ["CallContext", "HTTPTemplateAdapter", "HTTPTemplateSettings"]
