"""Values derived from long-lived objects (a format's label tuple, a portal's bodies, a config), found by
the object's identity.

Hashing a tuple of 30 labels or 5,000 bodies on every lookup would cost what the cache saves. The stored
reference keeps the object alive, so its id cannot be reused by another; ``limit`` bounds what many
reloads of the rules or the config leave behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[V]):
    def __init__(self, make: Callable[[Any], V], limit: int = 64) -> None:
        self.make = make
        self.limit = limit
        self._values: dict[int, tuple[Any, V]] = {}

    def __call__(self, obj: Any) -> V:
        hit = self._values.get(id(obj))
        if hit is None or hit[0] is not obj:
            if len(self._values) >= self.limit:
                self._values.clear()
            hit = self._values[id(obj)] = (obj, self.make(obj))
        return hit[1]

    def clear(self) -> None:
        self._values.clear()


class Bounded(dict[K, V]):
    """A memo of what reports bring (label texts, header layouts, key sets): it empties itself when full, so a
    service that runs for years keeps a season's worth at most. The caller looks up with ``get`` (or ``in``)
    and stores a miss with ``put``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def bounded_per_object(limit: int) -> ByIdentity[Bounded[Any, Any]]:
    """One Bounded memo per long-lived object (a format's label tuple, a table spec, a section list)."""
    return ByIdentity(lambda _obj: Bounded(limit))
