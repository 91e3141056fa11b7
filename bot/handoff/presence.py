"""Which staff members have the console open (in-process, one gateway)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class Presence:
    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    @contextmanager
    def online(self, username: str) -> Iterator[None]:
        """Hold while a console socket of ``username`` is open (several tabs count once)."""
        self._open[username] += 1
        try:
            yield
        finally:
            self._open[username] -= 1
            if self._open[username] <= 0:
                del self._open[username]

    def usernames(self) -> frozenset[str]:
        return frozenset(self._open)

    def count(self) -> int:
        return len(self._open)
