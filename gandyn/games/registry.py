"""A small name -> entry catalogue with aliases and did-you-mean errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from gandyn.errors import UnknownNameError

__all__ = ["Registry"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


EntryT = TypeVar("EntryT", bound=_Named)


class Registry(Generic[EntryT]):
    """Entries looked up by name or alias, case-insensitively, ``_`` read as ``-``.

    Parameters
    ----------
    kind
        What the entries are ("loss", "game", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, EntryT] = {}
        self._lookup: dict[str, str] = {}

    def add(self, entry: EntryT) -> EntryT:
        """Register ``entry`` under its name and aliases; names must be unique."""
        for key in (entry.name, *entry.aliases):
            norm = self._normalize(key)
            if norm in self._lookup:
                raise ValueError(f"{self.kind} name {key!r} registered twice")
            self._lookup[norm] = entry.name
        self._entries[entry.name] = entry
        return entry

    @staticmethod
    def _normalize(name: str) -> str:
        return name.strip().lower().replace("_", "-")

    def get(self, name: str) -> EntryT:
        """Return the entry called ``name``; raise :class:`UnknownNameError` if none."""
        canonical = self._lookup.get(self._normalize(name))
        if canonical is None:
            raise UnknownNameError(self.kind, name, self._lookup.keys())
        return self._entries[canonical]

    def names(self) -> list[str]:
        """Canonical names in registration order."""
        return list(self._entries)

    def __iter__(self) -> Iterator[EntryT]:
        return iter(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalize(name) in self._lookup

    def __len__(self) -> int:
        return len(self._entries)
