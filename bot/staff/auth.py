"""Login with lockout, sessions, logout. argon2 runs on a small bounded executor."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Callable
from concurrent.futures import Executor

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.handoff import repo
from bot.handoff.repo import as_datetime, naive
from bot.staff.accounts import Accounts
from bot.staff.lockout import Failures, LockoutPolicy
from bot.staff.passwords import Passwords
from bot.staff.sessions import Session, Sessions

log = structlog.get_logger(__name__)


class InvalidCredentials(Exception):
    code = "invalid-credentials"


class AccountLocked(Exception):
    code = "account-locked"

    def __init__(self, retry_after: float) -> None:
        super().__init__(self.code)
        self.retry_after = retry_after


class Auth:
    def __init__(self, engine: AsyncEngine, accounts: Accounts, sessions: Sessions,
                 passwords: Passwords, policy: LockoutPolicy, executor: Executor,
                 clock: Callable[[], dt.datetime]) -> None:
        self._engine = engine
        self.accounts = accounts
        self.sessions = sessions
        self._passwords = passwords
        self._policy = policy
        self._executor = executor
        self._clock = clock
        # Attempts on one username run one after the other, so parallel guesses cannot all
        # slip in before the lock (one gateway process).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = \
            weakref.WeakValueDictionary()

    async def _blocking(self, fn: Callable[..., bool], *args: object) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def login(self, username: str, password: str) -> tuple[str, Session]:
        name = username.strip().lower()[:64]
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        async with lock:
            return await self._login(name, password)

    async def _login(self, name: str, password: str) -> tuple[str, Session]:
        now = self._clock()
        failures = await self._failures(name)
        wait = self._policy.locked_for(failures, naive(now))
        if wait > 0:
            log.info("staff.login.locked")
            raise AccountLocked(wait)
        account = await self.accounts.get(name)
        ok = await self._blocking(self._passwords.verify,
                                  account.password_hash if account else None, password)
        if not ok or account is None:
            after = self._policy.after_failure(failures, naive(now))
            await self._record_failure(name, after, now, known=account is not None)
            log.info("staff.login.failed", known_user=account is not None, failures=after.count)
            if after.locked_until is not None:
                raise AccountLocked(self._policy.locked_for(after, naive(now)))
            raise InvalidCredentials()
        async with self._engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM staff_login_failures WHERE username = :u"),
                               {"u": name})
            await repo.audit(conn, at=now, actor=name, action="login")
        if self._passwords.needs_rehash(account.password_hash):
            new_hash = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._passwords.hash, password)
            await self.accounts.set_password(name, new_hash, now, end_sessions=False)
        log.info("staff.login.ok", staff=name)
        return await self.sessions.create(account.actor, now)

    async def logout(self, token: str, session: Session) -> None:
        await self.sessions.delete(token)
        async with self._engine.begin() as conn:
            await repo.audit(conn, at=self._clock(), actor=session.actor.username,
                             action="logout")

    async def session(self, token: str) -> Session | None:
        return await self.sessions.lookup(token, self._clock())

    async def _failures(self, name: str) -> Failures | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT failures, locked_until FROM staff_login_failures WHERE username = :u"),
                {"u": name})).first()
        if row is None:
            return None
        return Failures(int(row[0]), as_datetime(row[1]) if row[1] is not None else None)

    async def _record_failure(self, name: str, after: Failures, now: dt.datetime, *,
                              known: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO staff_login_failures (username, failures, locked_until,"
                " last_failure) VALUES (:u, :n, :until, :now) ON CONFLICT (username) DO UPDATE"
                " SET failures = excluded.failures, locked_until = excluded.locked_until,"
                " last_failure = excluded.last_failure"),
                {"u": name, "n": after.count, "until": after.locked_until, "now": naive(now)})
            if known:  # never write what someone typed as a username into the audit log
                await repo.audit(conn, at=now, actor=name, action="login_failed",
                                 detail={"failures": after.count,
                                         "locked": after.locked_until is not None})
