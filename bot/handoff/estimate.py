"""How long a citizen in the queue will roughly wait (pure)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

DEFAULT_HANDLE_SECONDS = 300.0


def estimate_wait(position: int, staff_online: int, recent_handle_seconds: Sequence[float] = (),
                  default_handle: float = DEFAULT_HANDLE_SECONDS) -> float:
    """Seconds until a person is free for the citizen at ``position`` (1 = next).

    Each online staff member works through the queue at the median handling time of recent
    conversations; with nobody online the estimate is as if one person were.
    """
    if position < 1:
        return 0.0
    handle = statistics.median(recent_handle_seconds) if recent_handle_seconds else default_handle
    rounds = math.ceil(position / max(1, staff_online))
    return rounds * max(30.0, handle)


def wait_text(seconds: float) -> str:
    """German, rounded the way people say it."""
    minutes = max(1, round(seconds / 60))
    if minutes == 1:
        return "etwa 1 Minute"
    if minutes < 60:
        return f"etwa {minutes} Minuten"
    hours = round(minutes / 60, 1)
    return f"etwa {hours:g} Stunden".replace(".", ",")


def position_text(position: int, seconds: float) -> str:
    return (f"Sie sind in der Warteschlange auf Platz {position}. Geschätzte Wartezeit: "
            f"{wait_text(seconds)}. Sie können hier schon schreiben, worum es geht.")
