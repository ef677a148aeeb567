"""Finding adapters: the entry-point group ``cti.crm_adapters``, built-ins included.

Only the adapters a deployment enables are imported, and one that fails to import (a missing
optional dependency, a bug) is reported by name without breaking the others. Every class is checked
before use: it must subclass :class:`CRMAdapter`, carry the entry point's name and implement the
interface version this connector speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

from .base import API_VERSION, CRMAdapter
from .settings import parse_settings

ENTRY_POINT_GROUP = "cti.crm_adapters"


class RegistryError(Exception):
    """An adapter cannot be used; the message names it and says why."""


class AdapterRegistry:
    """Adapter classes by name. Tests may ``register`` classes directly."""

    def __init__(self) -> None:
        self._classes: dict[str, type[CRMAdapter]] = {}
        self._sources: dict[str, str] = {}
        #: name -> why it could not be loaded (import error, wrong class, duplicate…)
        self.load_errors: dict[str, str] = {}
        #: Names of every adapter installed, loaded or not (for messages).
        self.installed: set[str] = set()

    @classmethod
    def from_entry_points(cls, names: Iterable[str] | None = None) -> AdapterRegistry:
        """Load the named adapters (all installed ones when ``names`` is None)."""
        wanted = None if names is None else set(names)
        registry = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            registry.installed.add(ep.name)
            if wanted is not None and ep.name not in wanted:
                continue
            source = f"{ep.value} from {ep.dist.name if ep.dist else 'unknown distribution'}"
            if ep.name in registry._classes or ep.name in registry.load_errors:
                registry.load_errors[ep.name] = (
                    f"adapter {ep.name!r} is declared twice ({source} and "
                    f"{registry._sources.get(ep.name, 'another distribution')})")
                registry._classes.pop(ep.name, None)
                continue
            try:
                adapter_class = ep.load()
            except Exception as exc:  # any import-time failure is reported, not raised
                registry.load_errors[ep.name] = (
                    f"adapter {ep.name!r} ({source}) failed to import: "
                    f"{type(exc).__name__}: {exc}")
                continue
            try:
                registry.register(adapter_class, name=ep.name, source=source)
            except RegistryError as exc:
                registry.load_errors[ep.name] = str(exc)
        return registry

    def register(self, adapter_class: Any, *, name: str | None = None, source: str = "") -> None:
        name = name or getattr(adapter_class, "name", "")
        where = f" ({source})" if source else ""
        if not (isinstance(adapter_class, type) and issubclass(adapter_class, CRMAdapter)):
            raise RegistryError(f"adapter {name!r}{where} is not a CRMAdapter subclass")
        if getattr(adapter_class, "name", None) != name:
            raise RegistryError(f"adapter {name!r}{where} declares name "
                                f"{getattr(adapter_class, 'name', None)!r}")
        if adapter_class.api_version != API_VERSION:
            raise RegistryError(f"adapter {name!r}{where} implements interface version "
                                f"{adapter_class.api_version}, this connector speaks "
                                f"{API_VERSION}")
        if name in self._classes and self._classes[name] is not adapter_class:
            raise RegistryError(f"adapter {name!r}{where} is registered twice")
        self._classes[name] = adapter_class
        self._sources[name] = source

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> type[CRMAdapter]:
        if name in self._classes:
            return self._classes[name]
        if name in self.load_errors:
            raise RegistryError(self.load_errors[name])
        installed = ", ".join(sorted(self.installed | set(self._classes))) or "none"
        raise RegistryError(f"no CRM adapter named {name!r} is installed (available: "
                            f"{installed})")

    def parse_settings(self, name: str, raw: Mapping[str, Any] | None,
                       environ: Mapping[str, str] | None = None) -> Any:
        """The adapter's ``Settings`` from its ``[crm.<name>]`` table (raises SettingsError)."""
        return parse_settings(self.get(name).Settings, raw or {}, where=f"crm.{name}",
                              environ=environ)
