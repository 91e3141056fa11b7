"""Keep CPython's cyclic garbage collector out of start-up and out of the serving path.

Loading Rasa's model creates about 900 000 long-lived objects (TensorFlow, the domain, lookup
tables). CPython runs a *full* collection each time the objects that survived younger
collections have grown by a quarter, and a full collection walks every tracked object: a Rasa
server ran 13 of them while loading, 7 s of CPU, the last one 1.4 s; the action server 6
(1 s), the index check 8 (2 s). Once serving, the next full collection would stop the process
for more than a second in the middle of citizens' turns.

:func:`paused` holds the collector off while a process loads; afterwards one collection frees
the start-up garbage and :func:`gc.freeze` moves everything that survived into a permanent
generation that later collections skip. Objects created while serving are collected as
before, and a full collection then takes milliseconds. Memory is freed as before by reference
counting; only reference cycles wait for the collector.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

log = structlog.get_logger(__name__)


_held: tuple[int, int, int] | None = None  # the thresholds before hold()


def hold() -> None:
    """Stop automatic collections until :func:`settle` (holding twice is holding once).

    Threshold 0, not ``gc.disable()``: libraries switch the collector on and off themselves
    (srsly, which loads spaCy's lookup tables, ends with ``gc.enable()``); thresholds they leave
    alone.
    """
    global _held
    if _held is None:
        _held = gc.get_threshold()
        gc.set_threshold(0)


def settle(*, collect: bool = True) -> float:
    """Collect once (unless ``collect=False``: a command that ends soon), freeze the survivors,
    restore automatic collections; returns the seconds taken. Frozen objects are also skipped
    by the interpreter's last collection at exit (0.75 s for the index check)."""
    global _held
    started = time.perf_counter()
    if collect:
        gc.collect()
    gc.freeze()
    if _held is not None:
        gc.set_threshold(*_held)
        _held = None
    return time.perf_counter() - started


@contextmanager
def paused(what: str, *, collect: bool = True) -> Iterator[None]:
    """No automatic collection inside; :func:`settle` at the end, also after an error."""
    hold()
    try:
        yield
    finally:
        seconds = settle(collect=collect)
        log.debug("gc.settled", what=what, seconds=round(seconds, 2),
                  frozen=gc.get_freeze_count())
