import pytest

from bot.handoff.state import ALLOWED, BOT_SILENT, HandoffStatus, IllegalTransition, transition


def test_lifecycle_bot_queued_assigned_back_to_bot() -> None:
    s = transition(HandoffStatus.BOT, HandoffStatus.QUEUED)
    s = transition(s, HandoffStatus.ASSIGNED)
    assert transition(s, HandoffStatus.BOT) is HandoffStatus.BOT


@pytest.mark.parametrize("current, target", [
    (HandoffStatus.BOT, HandoffStatus.ASSIGNED),
    (HandoffStatus.BOT, HandoffStatus.CLOSED),
    (HandoffStatus.CLOSED, HandoffStatus.ASSIGNED),
    (HandoffStatus.QUEUED, HandoffStatus.QUEUED),
])
def test_illegal_moves_raise(current: HandoffStatus, target: HandoffStatus) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(current, target)
    assert err.value.current is current and err.value.target is target


def test_every_state_has_a_way_out_and_the_bot_is_silent_only_with_a_person() -> None:
    assert set(ALLOWED) == set(HandoffStatus)
    assert all(ALLOWED[s] for s in HandoffStatus)
    assert BOT_SILENT == {HandoffStatus.QUEUED, HandoffStatus.ASSIGNED}
