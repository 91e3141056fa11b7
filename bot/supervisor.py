"""Run Rasa server, action server and gateway as supervised child processes.

Each child runs in its own process group. A child that exits is restarted with exponential
backoff; ``<run_dir>/supervisor.json`` records pids, ports, states and restart counts (the
gateway's ``/health`` reports them; fault tests find the processes to kill there). Children start
in stages (``ChildSpec.stage``: databases before the services that need them), each stage once
the previous one is healthy. SIGINT/SIGTERM stop every child, later stages first: the child's stop
signal to its group, SIGKILL after a grace period, so no orphan process stays behind.

A health URL is ``http(s)://…`` (200 means healthy), ``postgresql://…`` (a connection succeeds)
or ``redis://…`` (PING answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import aiohttp

from bot.settings import Settings

Progress = Callable[[str], None]

GRACE_SECONDS = 10.0
MAX_BACKOFF = 30.0


class ChildState(StrEnum):
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    RESTARTING = "restarting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ChildSpec:
    name: str
    argv: tuple[str, ...]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    # The port it serves (for the status file), its start stage, the signal that stops it
    # cleanly (PostgreSQL: SIGINT = fast shutdown) and an OS user to run as (root only).
    port: int | None = None
    stage: int = 0
    stop_signal: int = signal.SIGTERM
    user: str | None = None


@dataclass(slots=True)
class Child:
    spec: ChildSpec
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    state: ChildState = ChildState.STOPPED
    restarts: int = 0
    started_at: float = 0.0
    last_exit: int | None = None


class StartupFailed(RuntimeError):
    code = "startup-failed"


class Supervisor:
    def __init__(self, specs: list[ChildSpec], run_dir: Path, progress: Progress = print) -> None:
        self._run_dir = run_dir
        self._progress = progress
        self._children = [Child(spec, run_dir / f"{spec.name}.log") for spec in specs]
        self._stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    @property
    def children(self) -> list[Child]:
        return self._children

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self, timeout: float,
                    gates: Mapping[str, Awaitable[None]] | None = None) -> None:
        """Start the children stage by stage; each stage once the previous one is healthy.

        A child named in ``gates`` is spawned once its gate is done, while the rest of its
        stage starts (``run``: the action server waits for the search index, Rasa does not).
        A gate that fails stops the start-up with its message.
        """
        self._run_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        gates = gates or {}
        for stage in sorted({c.spec.stage for c in self._children}):
            group = [c for c in self._children if c.spec.stage == stage]
            launches = [asyncio.ensure_future(self._launch(c, gates.get(c.spec.name)))
                        for c in group]
            try:
                await self._wait_healthy(group, deadline, launches)
            finally:
                for launch in launches:
                    launch.cancel()

    async def _launch(self, child: Child, gate: Awaitable[None] | None) -> None:
        if gate is not None:
            await gate
        await self._spawn(child)
        self._watchers.append(asyncio.create_task(self._watch(child)))

    async def _wait_healthy(self, children: list[Child], deadline: float,
                            launches: Sequence[asyncio.Future[None]] = ()) -> None:
        async with aiohttp.ClientSession() as session:
            pending = list(children)
            while pending:
                for launch in launches:
                    if launch.done() and not launch.cancelled() and launch.exception():
                        raise StartupFailed(str(launch.exception())) from launch.exception()
                if time.monotonic() > deadline:
                    names = ", ".join(c.spec.name for c in pending)
                    raise StartupFailed(f"Nicht rechtzeitig bereit: {names} (Protokolle in "
                                        f"{self._run_dir})")
                for child in list(pending):
                    if child.process is None:  # still behind its gate
                        continue
                    if await _probe(session, child.spec.health_url):
                        child.state = ChildState.HEALTHY
                        pending.remove(child)
                        self._progress(f"  ✓ {child.spec.name} bereit "
                                       f"({time.monotonic() - child.started_at:.1f} s)")
                        self._write_status()
                await asyncio.sleep(0.25)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._watchers:
            task.cancel()
        for task in self._watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for stage in sorted({c.spec.stage for c in self._children}, reverse=True):
            await asyncio.gather(*(self._terminate(c) for c in self._children
                                   if c.spec.stage == stage))
        self._write_status()

    async def monitor(self, interval: float = 2.0) -> None:
        """Probe health periodically (for the status file) until cancelled."""
        async with aiohttp.ClientSession() as session:
            while True:
                for child in self._children:
                    if child.state in (ChildState.HEALTHY, ChildState.UNHEALTHY):
                        ok = await _probe(session, child.spec.health_url)
                        child.state = ChildState.HEALTHY if ok else ChildState.UNHEALTHY
                self._write_status()
                await asyncio.sleep(interval)

    # -- internals ------------------------------------------------------------------------------
    async def _spawn(self, child: Child) -> None:
        env = dict(os.environ)
        env.update(child.spec.env)
        log = child.log_path.open("ab")
        try:
            child.process = await asyncio.create_subprocess_exec(
                *_as_user(child.spec.user), *child.spec.argv, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT, env=env, start_new_session=True)
        finally:
            log.close()
        child.state = ChildState.STARTING
        child.started_at = time.monotonic()
        self._write_status()

    async def _watch(self, child: Child) -> None:
        """Restart the child whenever it exits, with backoff, until stopping."""
        backoff = 1.0
        while not self._stopping:
            assert child.process is not None
            code = await child.process.wait()
            if self._stopping:
                return
            child.last_exit = code
            child.state = ChildState.RESTARTING
            child.restarts += 1
            self._write_status()
            self._progress(f"  ! {child.spec.name} beendet (Exit-Code {code}); Neustart in "
                           f"{backoff:.0f} s (Protokoll: {child.log_path})")
            await asyncio.sleep(backoff)
            # A child that ran for a while before dying gets a fresh backoff.
            backoff = 1.0 if time.monotonic() - child.started_at > 60 else min(
                backoff * 2, MAX_BACKOFF)
            await self._spawn(child)
            child.state = ChildState.UNHEALTHY  # until the monitor sees it healthy
            self._write_status()

    async def _terminate(self, child: Child) -> None:
        proc = child.process
        if proc is None or proc.returncode is not None:
            child.state = ChildState.STOPPED
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, child.spec.stop_signal)
        try:
            await asyncio.wait_for(proc.wait(), GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        # Anything the child left in its group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        child.state = ChildState.STOPPED

    def _write_status(self) -> None:
        status = {
            "supervisor_pid": os.getpid(),
            "updated_at": time.time(),
            "children": {
                c.spec.name: {
                    "pid": c.process.pid if c.process else None,
                    "port": c.spec.port,
                    "state": c.state.value,
                    "restarts": c.restarts,
                    "last_exit": c.last_exit,
                }
                for c in self._children
            },
        }
        path = self._run_dir / "supervisor.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2), encoding="utf-8")
        tmp.replace(path)


async def run_until_stopped(supervisor: Supervisor, timeout: float, *,
                            ready: Callable[[], Awaitable[None]], say: Progress,
                            gates: Mapping[str, Awaitable[None]] | None = None,
                            farewell: str = "Alle Dienste beendet.") -> int:
    """``buergerbot run`` and ``cluster``: start the children, call ``ready`` once all are
    healthy (warm-up, the URLs), watch them until SIGINT/SIGTERM, then stop every child.
    Returns the exit code (1 when the start failed)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    startup = asyncio.create_task(supervisor.start(timeout, gates))
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({startup, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if startup in done:
            startup.result()
            await ready()
            monitor = asyncio.create_task(supervisor.monitor())
            await stopper
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        else:
            startup.cancel()
            with contextlib.suppress(asyncio.CancelledError, StartupFailed):
                await startup
    except StartupFailed as err:
        say(f"Start fehlgeschlagen: {err}")
        return 1
    finally:
        stopper.cancel()
        say("Dienste werden beendet ...")
        await supervisor.stop()
        say(farewell)
    return 0


def _as_user(user: str | None) -> tuple[str, ...]:
    """An argv prefix that runs a child as ``user`` (only when we are root and it differs).

    ``setpriv`` (util-linux) changes the ids and execs the program in place, so the child's pid
    and signals are the program's own. Not Popen's ``user``/``group``: uvloop, which Rasa's
    Sanic installs as the event loop policy, rejects them.
    """
    if user is None or os.geteuid() != 0 or user == "root":
        return ()
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        raise StartupFailed(f"Benutzer {user!r} fehlt auf diesem System.") from None
    return ("setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
            "--init-groups", "--")


async def _probe(session: aiohttp.ClientSession, url: str) -> bool:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    try:
        if scheme == "postgresql":
            return await _probe_postgres(url)
        if scheme in ("redis", "rediss"):
            return await _probe_redis(url)
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
            return resp.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False


async def _probe_postgres(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("+asyncpg", "").replace("+psycopg2", ""),
                                     timeout=2)
    except (asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close(timeout=2)
    return True


async def _probe_redis(url: str) -> bool:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except RedisError:
        return False
    finally:
        await client.close(close_connection_pool=True)


def read_status(run_dir: Path) -> dict[str, object] | None:
    """The supervisor's status file, or None when no supervisor runs this state dir."""
    try:
        data = json.loads((run_dir / "supervisor.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stack_specs(settings: Settings, model: Path, env: dict[str, str]) -> list[ChildSpec]:
    """The children of ``buergerbot run``: action server, Rasa (``rasa``, and ``rasa-2`` ...
    with ``rasa_workers`` > 1) and gateway."""
    py = sys.executable
    run = settings.run_dir
    rasa = [ChildSpec(
        "rasa" if i == 0 else f"rasa-{i + 1}",
        (py, "-m", "bot.rasa_run", "run", "--model", str(model),
         "--endpoints", str(run / "endpoints.yml"),
         "--credentials", str(run / "credentials.yml"), "--port", str(settings.rasa_port + i),
         "--interface", settings.host),
        f"{url}/", env) for i, url in enumerate(settings.rasa_urls)]
    actions = ChildSpec("action_server", (py, "-m", "bot.actions.server"),
                        f"{settings.action_url}/health", env)
    gateway = ChildSpec("gateway", (py, "-m", "bot.gateway"),
                        f"{settings.gateway_url}/health/live", env)
    return [actions, *rasa, gateway]


def write_rasa_endpoints(settings: Settings, run_dir: Path | None = None) -> None:
    """Rasa keeps its own endpoints.yml/credentials.yml; we generate them from the settings.

    With ``tracker_store_url`` Rasa keeps conversations in that SQL database, with ``redis_url``
    its conversation locks in Redis — both needed when several Rasa instances share the work.
    The file may then hold passwords, so only its owner may read it. credentials.yml holds the
    one input channel, Rasa's REST channel as :mod:`bot.rasa_channel` changes it.
    """
    from bot.cluster.endpoints import rasa_credentials, rasa_endpoints

    run_dir = run_dir or settings.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: several Rasa instances of one machine may start at once.
    tmp = run_dir / f".endpoints.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Generated by buergerbot from its settings; do not edit.\n"
                 + rasa_endpoints(settings))
    tmp.replace(run_dir / "endpoints.yml")
    (run_dir / "credentials.yml").write_text(
        "# Generated by buergerbot from its settings; do not edit.\n" + rasa_credentials(),
        encoding="utf-8")
