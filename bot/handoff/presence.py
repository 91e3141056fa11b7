"""Which staff members have the console open.

In one gateway this is all there is. With several gateways (bot/gateway/bus.py) each keeps its
own sockets here, reports changes through ``on_change`` and is told the others' staff through
:meth:`Presence.set_remote`; ``usernames()`` and ``count()`` then mean the whole city.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Presence:
    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._open: Counter[str] = Counter()
        self._remote: frozenset[str] = frozenset()
        self._on_change = on_change

    @contextmanager
    def online(self, username: str) -> Iterator[None]:
        """Hold while a console socket of ``username`` is open (several tabs count once)."""
        self._open[username] += 1
        if self._open[username] == 1:
            self._changed()
        try:
            yield
        finally:
            self._open[username] -= 1
            if self._open[username] <= 0:
                del self._open[username]
                self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def set_remote(self, usernames: frozenset[str]) -> None:
        """The staff online on the other gateways."""
        self._remote = usernames

    def local_usernames(self) -> frozenset[str]:
        return frozenset(self._open)

    def usernames(self) -> frozenset[str]:
        return frozenset(self._open) | self._remote

    def count(self) -> int:
        return len(self.usernames())
