"""The shared behaviour of option objects: frozen dataclasses holding one config section.

A subclass is a ``@dataclass(frozen=True)`` whose fields (with their defaults — the only place a
default is defined) are the keys of the section, sets ``SECTION`` (the config key, as messages
name it) and validates its values in ``__post_init__`` (:meth:`Options.refuse` raises ``ERROR``,
``ValueError`` unless the subclass names a more specific error). :meth:`Options.from_config` builds one from the config mapping, refusing unknown
keys by name; :meth:`Options.as_dict` is the plain mapping the computations and the JSON records use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields


class Options:
    """Mixin of the option dataclasses (``SECTION``: the config key of the section)."""

    SECTION = ""
    ERROR: type[Exception] = ValueError

    @classmethod
    def from_config(cls, section: Mapping | Options | None):
        """Options from the config mapping (None or {}: the defaults; an instance is returned as
        is); an unknown key raises ``ERROR`` naming it and the known ones."""
        if isinstance(section, cls):
            return section
        values = dict(section or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise cls.ERROR(f"{cls.SECTION}: unknown keys {unknown}; expected a subset of {known}")
        return cls(**values)

    def as_dict(self) -> dict:
        """The options as a plain dict, fields in their declared order, values as given."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def refuse(self, key: str, rule: str):
        """Raise ``ERROR("<SECTION>.<key> = <value>; <rule>")``."""
        raise self.ERROR(f"{self.SECTION}.{key} = {getattr(self, key)!r}; {rule}")

    def require_at_least(self, minimum: int, *keys: str) -> None:
        """Refuse an integer option of ``keys`` below ``minimum``."""
        for key in keys:
            if int(getattr(self, key)) < minimum:
                self.refuse(key, f"must be ≥ {minimum}")

    def require_positive(self, *keys: str) -> None:
        """Refuse a real option of ``keys`` that is not > 0."""
        for key in keys:
            if not float(getattr(self, key)) > 0:
                self.refuse(key, "must be positive")

    def require_nonnegative(self, *keys: str) -> None:
        """Refuse a real option of ``keys`` that is not ≥ 0."""
        for key in keys:
            if not float(getattr(self, key)) >= 0:
                self.refuse(key, "must be ≥ 0")
