"""Small caches: an LRU map (every Code Mode cache is one, owned by `CodeMode`) and a lazy text."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LruCache", "Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `maxsize` entries; the least recently used one goes first.

    Keys built from `CatalogTool` objects compare by identity (the catalog builds new objects on
    every refresh), so a refreshed tool misses and its stale entry ages out.
    """

    __slots__ = ("_data", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value for `key`, made with `make()` and stored on a miss."""
        try:
            value = self._data[key]
        except KeyError:
            value = make()
            self._data[key] = value
            if len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            return value
        self._data.move_to_end(key)
        return value

    def get(self, key: K) -> V | None:
        """The cached value for `key`, or None."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store `value` under `key`, evicting the least recently used entry when full."""
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Memo:
    """A text computed on first use and kept; `lines` splits it once for ranged reads."""

    __slots__ = ("_lines", "_make", "_text")

    def __init__(self, make: Callable[[], str]) -> None:
        self._make: Callable[[], str] | None = make
        self._text: str | None = None
        self._lines: tuple[str, ...] | None = None

    @property
    def text(self) -> str:
        """The text, made on the first call."""
        if self._text is None:
            assert self._make is not None
            self._text, self._make = self._make(), None  # drop the closure: it holds the renderer
        return self._text

    @property
    def lines(self) -> tuple[str, ...]:
        """`text` split into lines (without line ends)."""
        if self._lines is None:
            self._lines = tuple(self.text.splitlines())
        return self._lines
