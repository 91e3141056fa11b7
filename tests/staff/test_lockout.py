import datetime as dt

from bot.staff.lockout import Failures, LockoutPolicy

NOW = dt.datetime(2026, 6, 10, 8, 0)


def test_locks_after_the_nth_failure_and_starts_fresh_after_the_lock() -> None:
    policy = LockoutPolicy(attempts=3, minutes=10)
    state = None
    for expected in (1, 2):
        state = policy.after_failure(state, NOW)
        assert state.count == expected and policy.locked_for(state, NOW) == 0
    state = policy.after_failure(state, NOW)
    assert policy.locked_for(state, NOW) == 600
    later = NOW + dt.timedelta(minutes=10)
    assert policy.locked_for(state, later) == 0
    assert policy.after_failure(state, later) == Failures(1, None)
    assert policy.locked_for(None, NOW) == 0
