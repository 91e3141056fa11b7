"""Configuration of the staff console: one frozen object with defaults, validated on creation.

Proposed as ``Settings`` fields (see docs/HANDOFF.md); until then ``setup`` uses the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StaffConfig:
    # None: the session cookie is Secure when the request arrived over TLS (directly or as
    # reported by the reverse proxy in X-Forwarded-Proto). True/False force it.
    cookie_secure: bool | None = None
    session_hours: float = 10.0  # absolute lifetime of a login
    idle_minutes: float = 60.0  # logged out after this long without a request
    lockout_attempts: int = 5  # consecutive wrong passwords before the account is locked
    lockout_minutes: float = 15.0
    # argon2id cost (argon2-cffi's defaults: RFC 9106 low-memory profile).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    hash_workers: int = 2  # threads for argon2 (bounded: each hash holds memory_kib)
    min_password_length: int = 12

    def __post_init__(self) -> None:
        if self.session_hours <= 0 or self.idle_minutes <= 0 or self.lockout_minutes <= 0:
            raise ValueError("Zeiten der Anmeldung müssen größer als 0 sein")
        if self.lockout_attempts < 1 or self.hash_workers < 1:
            raise ValueError("lockout_attempts und hash_workers müssen mindestens 1 sein")
        if self.min_password_length < 8:
            raise ValueError("Passwörter müssen mindestens 8 Zeichen lang sein dürfen")
