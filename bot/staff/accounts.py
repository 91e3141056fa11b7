"""Staff accounts in SQL (table ``staff_accounts``, migration 2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.handoff.model import Actor, StaffRole
from bot.handoff.repo import naive


class AccountExists(Exception):
    code = "account-exists"


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    display_name: str
    role: StaffRole
    password_hash: str

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.display_name, self.role)


class Accounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, username: str, display_name: str, role: StaffRole, password_hash: str,
                  now: dt.datetime) -> Account:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO staff_accounts (username, display_name, role, password_hash,"
                    " created_at, password_changed_at) VALUES (:u, :d, :r, :h, :now, :now)"),
                    {"u": username, "d": display_name, "r": role.value, "h": password_hash,
                     "now": naive(now)})
        except IntegrityError as err:
            raise AccountExists(username) from err
        return Account(username, display_name, role, password_hash)

    async def get(self, username: str) -> Account | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT username, display_name, role, password_hash FROM staff_accounts"
                " WHERE username = :u"), {"u": username})).first()
        return None if row is None else Account(row[0], row[1], StaffRole(row[2]), row[3])

    async def all(self) -> list[Account]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT username, display_name, role, password_hash FROM staff_accounts"
                " ORDER BY username"))).all()
        return [Account(r[0], r[1], StaffRole(r[2]), r[3]) for r in rows]

    async def set_password(self, username: str, password_hash: str, now: dt.datetime, *,
                           end_sessions: bool = True) -> bool:
        """Store a new hash; by default every open session of the account ends."""
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.text(
                "UPDATE staff_accounts SET password_hash = :h, password_changed_at = :now"
                " WHERE username = :u"), {"h": password_hash, "now": naive(now), "u": username})
            if end_sessions:
                await conn.execute(sa.text("DELETE FROM staff_sessions WHERE username = :u"),
                                   {"u": username})
            await conn.execute(sa.text("DELETE FROM staff_login_failures WHERE username = :u"),
                               {"u": username})
        return bool(result.rowcount == 1)

    async def remove(self, username: str) -> bool:
        async with self._engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM staff_sessions WHERE username = :u"),
                               {"u": username})
            result = await conn.execute(sa.text(
                "DELETE FROM staff_accounts WHERE username = :u"), {"u": username})
        return bool(result.rowcount == 1)
