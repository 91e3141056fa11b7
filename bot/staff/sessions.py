"""Login sessions in SQL (table ``staff_sessions``): the cookie carries a random token, the
database only its SHA-256, so a leaked database opens no session. Each session has its own
CSRF token, sent back by the console in ``X-CSRF-Token``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.handoff.model import Actor, StaffRole
from bot.handoff.repo import as_datetime, naive

TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen is written at most this often


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    actor: Actor
    csrf_token: str
    expires_at: dt.datetime

    def csrf_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf_token.encode())


class Sessions:
    def __init__(self, engine: AsyncEngine, lifetime: dt.timedelta, idle: dt.timedelta) -> None:
        self._engine = engine
        self._lifetime = lifetime
        self._idle = idle

    async def create(self, actor: Actor, now: dt.datetime) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = naive(now) + self._lifetime
        async with self._engine.begin() as conn:
            # Housekeeping on the rare path: drop sessions that ran out.
            await conn.execute(sa.text(
                "DELETE FROM staff_sessions WHERE expires_at < :now OR last_seen < :idle"),
                {"now": naive(now), "idle": naive(now) - self._idle})
            await conn.execute(sa.text(
                "INSERT INTO staff_sessions (token_hash, username, csrf_token, created_at,"
                " last_seen, expires_at) VALUES (:t, :u, :c, :now, :now, :exp)"),
                {"t": token_hash(token), "u": actor.username, "c": csrf, "now": naive(now),
                 "exp": expires})
        return token, Session(token_hash(token), actor, csrf, expires)

    async def lookup(self, token: str, now: dt.datetime) -> Session | None:
        """The live session for a cookie token, or None (unknown, expired or idle)."""
        hashed = token_hash(token)
        current = naive(now)
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT s.csrf_token, s.expires_at, s.last_seen, a.username, a.display_name,"
                " a.role FROM staff_sessions s JOIN staff_accounts a ON a.username = s.username"
                " WHERE s.token_hash = :t"), {"t": hashed})).first()
        if row is None:
            return None
        expires, last_seen = as_datetime(row[1]), as_datetime(row[2])
        if expires <= current or last_seen + self._idle <= current:
            await self.delete(token)
            return None
        if current - last_seen >= TOUCH_EVERY:
            async with self._engine.begin() as conn:
                await conn.execute(sa.text(
                    "UPDATE staff_sessions SET last_seen = :now WHERE token_hash = :t"),
                    {"now": current, "t": hashed})
        return Session(hashed, Actor(row[3], row[4], StaffRole(row[5])), row[0], expires)

    async def delete(self, token: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM staff_sessions WHERE token_hash = :t"),
                               {"t": token_hash(token)})
