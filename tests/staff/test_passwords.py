import pytest

from bot.staff.config import StaffConfig
from bot.staff.passwords import PasswordPolicyError, Passwords, check_password, check_username
from tests.staff.conftest import FAST


def test_hash_and_verify() -> None:
    passwords = Passwords(FAST)
    hashed = passwords.hash("richtig-langes-passwort")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "richtig-langes-passwort")
    assert not passwords.verify(hashed, "falsch")
    assert not passwords.verify(None, "richtig-langes-passwort")  # unknown user
    assert not passwords.verify("kein-hash", "x")
    assert Passwords(StaffConfig(argon2_memory_kib=2048, argon2_time_cost=1,
                                 argon2_parallelism=1)).needs_rehash(hashed)


@pytest.mark.parametrize("password", ["kurz", "a" * 20, "x" * 2000, "abcdefghijk\x00l"])
def test_password_policy(password: str) -> None:
    with pytest.raises(PasswordPolicyError):
        check_password(password, StaffConfig())


@pytest.mark.parametrize("username", ["A", "Anna", "anna berger", "../x", "", "x" * 65])
def test_username_rules(username: str) -> None:
    with pytest.raises(PasswordPolicyError):
        check_username(username)
    assert check_username("anna.berger-2") == "anna.berger-2"
