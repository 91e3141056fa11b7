from bot.handoff.estimate import estimate_wait, position_text, wait_text


def test_estimate_scales_with_position_and_staff() -> None:
    assert estimate_wait(1, 1) == 300
    assert estimate_wait(3, 1) == 900
    assert estimate_wait(3, 2) == 600
    assert estimate_wait(3, 0) == 900  # as if one person will come
    assert estimate_wait(1, 1, [60, 120, 600]) == 120
    assert estimate_wait(1, 1, [5]) == 30  # never promise less than half a minute
    assert estimate_wait(0, 1) == 0


def test_texts() -> None:
    assert wait_text(20) == "etwa 1 Minute"
    assert wait_text(610) == "etwa 10 Minuten"
    assert wait_text(5400) == "etwa 1,5 Stunden"
    assert position_text(2, 600).startswith("Sie sind in der Warteschlange auf Platz 2.")
