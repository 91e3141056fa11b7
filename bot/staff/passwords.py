"""Password hashing with argon2id (argon2-cffi). Blocking: call through the auth executor."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.staff.config import StaffConfig

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class PasswordPolicyError(ValueError):
    """The password or username does not meet the rules; the message is German."""


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise PasswordPolicyError("Benutzernamen bestehen aus 2 bis 64 Kleinbuchstaben, Ziffern, "
                                  "Punkt, Binde- oder Unterstrich.")
    return username


def check_password(password: str, config: StaffConfig) -> str:
    if len(password) < config.min_password_length:
        raise PasswordPolicyError(
            f"Das Passwort muss mindestens {config.min_password_length} Zeichen lang sein.")
    if len(password) > 1024 or "\x00" in password:
        raise PasswordPolicyError("Das Passwort ist zu lang oder enthält ungültige Zeichen.")
    if len(set(password)) < 4:
        raise PasswordPolicyError("Das Passwort ist zu einfach.")
    return password


class Passwords:
    def __init__(self, config: StaffConfig) -> None:
        self._hasher = PasswordHasher(time_cost=config.argon2_time_cost,
                                      memory_cost=config.argon2_memory_kib,
                                      parallelism=config.argon2_parallelism)
        # Verified against when the username is unknown, so both cases take the same time.
        self._dummy = self._hasher.hash("buergerbot-no-such-user")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and \
                password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
