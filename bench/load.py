"""Load test: N simulated citizens in multi-turn conversations, then a reconciliation.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8080 [options]   # a running stack
    .venv/bin/python bench/load.py --state-dir var/test-stack [--cpus 0]   # starts one instance

Each citizen runs conversation after conversation: a question from
tests/data/musterstadt_questions.jsonl, one to three follow-ups ("Was kostet das?", "Wo ist das
Amt?", ...) and a closing "Danke", over POST /api/v1/chat or the chat WebSocket (``--ws-share``),
with optional think time. Every message carries a fresh ``message_id`` (the socket frame's
``ref``); on 503/5xx, 409 message-in-progress, a dropped connection or a timeout the client
retries transparently with the same id and exponential backoff, so a retry is never stored or
answered twice. Reported: throughput (answered messages/s after the warm-up), client-perceived
latency p50/p95/p99 (first send to answer, retries included), errors by kind, retries.

At the end every conversation's stored history is read back (GET .../messages) and reconciled
with what the clients sent: every acknowledged message must be stored exactly once and, where
the client got an answer, be followed by a stored bot answer; a message the client gave up on
may be stored at most once. Exit status 1 if anything is lost, duplicated or unanswered.

With ``--state-dir`` the tool starts ``buergerbot run --no-train`` (``--cluster``: ``buergerbot
cluster --no-train``) on a temporary state dir that links the given dir's trained model and
search index (fresh SQLite database unless ``--database-url``; the cluster brings its own
PostgreSQL), optionally pinned with ``taskset -c CPUS``, and lifts the per-client rate
limits through the environment (a load test comes from one address). The load generator can be
pinned to other cores with ``--client-cpus``. ``--cpu-quota N`` runs the started instance and
all its children in a CPU cgroup limited to N CPUs' worth of time (e.g. 0.75 for one instance
and 1.5 for the cluster: "twice the cores" on a machine too small to give each its own cores
and the load generator others; needs root and the cgroup ``cpu`` controller); the report then
holds the CPU time the instance used per answered message. The load generator's own CPU time
per message is always reported. ``--json PATH`` writes the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stack import ENV, percentile, questions, wait_http
from tests.conftest import free_block, free_port

FOLLOW_UPS = ["Was kostet das?", "Wo ist das Amt?", "Welche Unterlagen brauche ich?",
              "Wie lange dauert das?", "Kann ich das online erledigen?", "Wann hat das Amt offen?"]
CLOSINGS = ["Danke", "Vielen Dank, tschüss", "Danke, das hilft mir"]
RETRY_STATUS = {500, 502, 503, 504}
RETRY_CODES = {"dialogue-unavailable", "storage-unavailable", "message-in-progress",
               "internal-error"}


# -- what the clients did -------------------------------------------------------------------------
@dataclass
class Sent:
    """One citizen message as the client saw it."""

    conversation_id: str
    message_id: str
    text: str
    acked: bool = False
    answered: bool = False  # the client got at least one bot message for it
    attempts: int = 0
    latency_ms: float | None = None
    measured: bool = False  # sent after the warm-up


@dataclass
class Stats:
    sent: list[Sent] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # every failed attempt, by kind
    gave_up: Counter[str] = field(default_factory=Counter)  # messages given up, by last error
    retries: int = 0


def script(rng: random.Random, pool: list[str]) -> list[str]:
    """One citizen's conversation: a question, 1-3 follow-ups, a thank-you."""
    return ([rng.choice(pool)] + rng.sample(FOLLOW_UPS, rng.randint(1, 3))
            + [rng.choice(CLOSINGS)])


def backoff(attempt: int, rng: random.Random) -> float:
    return min(5.0, 0.2 * 2 ** (attempt - 1)) * (0.5 + rng.random())


class GiveUp(Exception):
    pass


# -- the two kinds of client -------------------------------------------------------------------
class HttpCitizen:
    def __init__(self, session: aiohttp.ClientSession, url: str, args: argparse.Namespace,
                 stats: Stats, rng: random.Random) -> None:
        self.session, self.url, self.args, self.stats, self.rng = session, url, args, stats, rng

    async def open(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id

    async def close(self) -> None:
        return None

    async def say(self, sent: Sent) -> None:
        body = {"conversation_id": sent.conversation_id, "text": sent.text,
                "message_id": sent.message_id}
        deadline = time.monotonic() + self.args.retry_for
        timeout = aiohttp.ClientTimeout(total=self.args.timeout)
        while True:
            sent.attempts += 1
            kind, wait, data = "", 0.0, None
            try:
                async with self.session.post(f"{self.url}/api/v1/chat", json=body,
                                             timeout=timeout) as resp:
                    raw = await resp.read()
                    if resp.status == 200:
                        data = json.loads(raw)
                        sent.acked, sent.answered = True, bool(data.get("messages"))
                        return
                    # A proxy's own error page (nginx 502 while a gateway restarts) is no JSON.
                    with contextlib.suppress(ValueError):
                        data = json.loads(raw)
                    error = data.get("error") if isinstance(data, dict) else None
                    code = error.get("code", "?") if isinstance(error, dict) else "proxy"
                    kind = f"http-{resp.status}-{code}"
                    if resp.status == 429:
                        wait = float(resp.headers.get("Retry-After", "1"))
                    elif resp.status not in RETRY_STATUS and code not in RETRY_CODES:
                        self.stats.errors[kind] += 1
                        raise GiveUp(kind)
            except (TimeoutError, aiohttp.ClientError, ValueError) as err:
                kind = f"connection-{type(err).__name__}"
            self.stats.errors[kind] += 1
            if time.monotonic() + wait > deadline:
                raise GiveUp(kind)
            self.stats.retries += 1
            await asyncio.sleep(wait or backoff(sent.attempts, self.rng))


class WsCitizen:
    """A widget-like client: one socket per conversation, resends its frame (same ref) after a
    reconnect or an error frame."""

    def __init__(self, session: aiohttp.ClientSession, url: str, args: argparse.Namespace,
                 stats: Stats, rng: random.Random) -> None:
        self.session, self.url, self.args, self.stats, self.rng = session, url, args, stats, rng
        self.sock: aiohttp.ClientWebSocketResponse | None = None
        self.after = 0

    async def open(self, conversation_id: str) -> None:
        await self.close()
        self.conversation_id, self.after = conversation_id, 0

    async def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(Exception):
                await self.sock.close()
        self.sock = None

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        if self.sock is None or self.sock.closed:
            self.sock = await self.session.ws_connect(f"{self.url}/api/v1/ws", timeout=5.0)
            await self.sock.send_json({"type": "hello", "conversation_id": self.conversation_id,
                                       "after": self.after})
        return self.sock

    async def _frame(self, sock: aiohttp.ClientWebSocketResponse, until: float) -> dict[str, Any]:
        msg = await sock.receive(timeout=max(0.01, until - time.monotonic()))
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionResetError(f"socket {msg.type.name.lower()}")
        frame = json.loads(msg.data)
        if frame.get("type") == "messages" and frame["messages"]:
            self.after = max(self.after, frame["messages"][-1]["seq"])
        return frame

    async def say(self, sent: Sent) -> None:
        deadline = time.monotonic() + self.args.retry_for
        saw_bot = False
        while True:
            sent.attempts += 1
            kind, wait = "", 0.0
            try:
                sock = await self._connect()
                await sock.send_json({"type": "message", "text": sent.text,
                                      "ref": sent.message_id})
                until = time.monotonic() + self.args.timeout
                while True:
                    frame = await self._frame(sock, until)
                    if frame["type"] == "messages":
                        saw_bot = saw_bot or any(m["role"] == "bot" for m in frame["messages"])
                        if frame.get("ref") == sent.message_id:
                            sent.acked, sent.answered = True, saw_bot
                            return
                    elif frame["type"] == "error" and frame.get("ref") == sent.message_id:
                        kind = f"ws-{frame['code']}"
                        if frame["code"] == "rate-limited":
                            wait = float(frame.get("retry_after") or 1)
                        elif frame["code"] not in RETRY_CODES:
                            self.stats.errors[kind] += 1
                            raise GiveUp(kind)
                        break
            except (TimeoutError, aiohttp.ClientError, ConnectionError, ValueError) as err:
                kind = f"ws-connection-{type(err).__name__}"
                await self.close()
            self.stats.errors[kind] += 1
            if time.monotonic() + wait > deadline:
                raise GiveUp(kind)
            self.stats.retries += 1
            await asyncio.sleep(wait or backoff(sent.attempts, self.rng))


# -- the run -------------------------------------------------------------------------------------
async def citizen(n: int, url: str, args: argparse.Namespace, stats: Stats,
                  session: aiohttp.ClientSession, pool: list[str], t0: float,
                  stop_at: float) -> None:
    rng = random.Random(args.seed * 100_003 + n)
    use_ws = n < round(args.citizens * args.ws_share)
    client = (WsCitizen if use_ws else HttpCitizen)(session, url, args, stats, rng)
    run = uuid.uuid4().hex[:8]
    turns = 0
    conversation = 0
    try:
        while time.monotonic() < stop_at and (not args.turns or turns < args.turns):
            conversation += 1
            cid = f"load-{run}-{n}-{conversation}"
            await client.open(cid)
            for i, text in enumerate(script(rng, pool)):
                if time.monotonic() >= stop_at or (args.turns and turns >= args.turns):
                    break
                sent = Sent(cid, f"{'w' if use_ws else 'h'}{n}-{conversation}-{i}", text,
                            measured=time.monotonic() - t0 >= args.warmup)
                stats.sent.append(sent)
                turns += 1
                started = time.perf_counter()
                try:
                    await client.say(sent)
                    sent.latency_ms = (time.perf_counter() - started) * 1000
                except GiveUp as err:
                    stats.gave_up[str(err)] += 1
                    break  # a real citizen would give up this conversation, too
                if args.think > 0:
                    await asyncio.sleep(rng.expovariate(1 / args.think))
    finally:
        await client.close()


async def history(session: aiohttp.ClientSession, url: str, cid: str) -> list[dict[str, Any]]:
    """The whole stored history of a conversation (retrying while the stack recovers)."""
    messages: list[dict[str, Any]] = []
    for attempt in range(1, 31):
        try:
            after = messages[-1]["seq"] if messages else 0
            async with session.get(f"{url}/api/v1/conversations/{cid}/messages",
                                   params={"after": str(after)},
                                   timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status == 404:
                    return messages
                if resp.status == 429:
                    await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
                    continue
                if resp.status != 200:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
                page = (await resp.json())["messages"]
            messages.extend(page)
            if len(page) < 500:
                return messages
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(min(5.0, 0.5 * attempt))
    raise RuntimeError(f"could not read the history of {cid}")


def _answered(stored: list[dict[str, Any]], index: int) -> bool:
    """A bot message follows the citizen message at ``index`` before the next citizen one."""
    for message in stored[index + 1:]:
        if message["role"] == "citizen":
            return False
        if message["role"] == "bot":
            return True
    return False


def reconcile_conversation(sent: list[Sent], stored: list[dict[str, Any]]) -> Counter[str]:
    """Count lost, duplicated, unanswered and foreign messages of one conversation."""
    result: Counter[str] = Counter()
    citizen_at: dict[str, list[int]] = {}
    for index, message in enumerate(stored):
        if message["role"] == "citizen":
            citizen_at.setdefault(message.get("message_id") or "", []).append(index)
    known = {s.message_id for s in sent}
    result["foreign"] += sum(len(v) for k, v in citizen_at.items() if k not in known)
    for s in sent:
        at = citizen_at.get(s.message_id, [])
        result["stored"] += len(at)
        if len(at) > 1:
            result["duplicated"] += len(at) - 1
        if s.acked and not at:
            result["lost"] += 1
        if at and any(stored[i]["text"] != s.text for i in at):
            result["altered"] += 1
        if s.acked and s.answered and at and not any(_answered(stored, i) for i in at):
            result["unanswered"] += 1
    return result


async def reconcile(url: str, stats: Stats) -> dict[str, int]:
    by_conversation: dict[str, list[Sent]] = {}
    for s in stats.sent:
        by_conversation.setdefault(s.conversation_id, []).append(s)
    total: Counter[str] = Counter()
    gate = asyncio.Semaphore(8)
    async with aiohttp.ClientSession() as session:
        async def one(cid: str, sent: list[Sent]) -> None:
            async with gate:
                total.update(reconcile_conversation(sent, await history(session, url, cid)))
        await asyncio.gather(*(one(c, s) for c, s in by_conversation.items()))
    return {k: total.get(k, 0) for k in ("stored", "lost", "duplicated", "unanswered", "altered",
                                         "foreign")}


async def run_load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    stats = Stats()
    pool = questions()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    t0 = time.monotonic()
    stop_at = t0 + args.warmup + args.duration if args.duration else float("inf")
    load_before = os.getloadavg()
    group: CpuCgroup | None = getattr(args, "cgroup", None)  # set by single_instance
    client_cpu_before = _own_cpu_seconds()
    instance_cpu_before = group.cpu_seconds() if group is not None else 0.0
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(citizen(n, url, args, stats, session, pool, t0, stop_at)
                               for n in range(args.citizens)))
    ended = time.monotonic()
    client_cpu = _own_cpu_seconds() - client_cpu_before
    instance_cpu = group.cpu_seconds() - instance_cpu_before if group is not None else None
    measured = [s for s in stats.sent if s.measured and s.acked]
    window = ended - t0 - args.warmup if args.duration else ended - t0
    if measured and not args.duration:  # turns mode: measure from the first measured send
        window = ended - t0 - min(args.warmup, ended - t0)
    lat = [s.latency_ms for s in measured if s.latency_ms is not None]
    report: dict[str, Any] = {
        "citizens": args.citizens, "ws_citizens": round(args.citizens * args.ws_share),
        "duration_s": round(window, 1), "warmup_s": args.warmup, "think_s": args.think,
        "messages_sent": len(stats.sent),
        "messages_answered": sum(s.acked for s in stats.sent),
        "throughput_msg_s": round(len(measured) / window, 2) if window > 0 else 0.0,
        "latency_ms": ({"p50": round(percentile(lat, 50), 1), "p95": round(percentile(lat, 95), 1),
                        "p99": round(percentile(lat, 99), 1), "max": round(max(lat), 1)}
                       if lat else None),
        "retries": stats.retries,
        "errors": dict(stats.errors.most_common()),
        "gave_up": dict(stats.gave_up.most_common()),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    answered = max(report["messages_answered"], 1)
    report["client_cpu_ms_per_msg"] = round(1000 * client_cpu / answered, 2)
    if instance_cpu is not None:
        report["cpu_quota"] = args.cpu_quota
        report["instance_cpu_ms_per_msg"] = round(1000 * instance_cpu / answered, 2)
    report["reconciliation"] = await reconcile(url, stats)
    return report


# -- CPU accounting and limits -----------------------------------------------------------------------
def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class CpuCgroup:
    """A CPU cgroup limited to ``cpus`` CPUs' time: cgroup v2 (``cpu.max``, usage in
    ``cpu.stat``) or v1 (``cpu.cfs_quota_us`` in the ``cpu`` hierarchy, usage from a twin group
    in ``cpuacct``)."""

    dirs: tuple[Path, ...]  # the group in each hierarchy it lives in
    v2: bool

    @classmethod
    def create(cls, cpus: float) -> CpuCgroup:
        name = f"buergerbot-load-{os.getpid()}"
        v2 = (CGROUP_ROOT / "cgroup.controllers").is_file()
        dirs = ((CGROUP_ROOT / name,) if v2
                else (CGROUP_ROOT / "cpu" / name, CGROUP_ROOT / "cpuacct" / name))
        period = 100_000
        try:
            if v2:
                (CGROUP_ROOT / "cgroup.subtree_control").write_text("+cpu")
            for path in dirs:
                path.mkdir()
            if v2:
                (dirs[0] / "cpu.max").write_text(f"{int(cpus * period)} {period}")
            else:
                (dirs[0] / "cpu.cfs_period_us").write_text(str(period))
                (dirs[0] / "cpu.cfs_quota_us").write_text(str(int(cpus * period)))
        except OSError as err:
            raise SystemExit(f"--cpu-quota braucht Root-Rechte und den cgroup-Controller "
                             f"'cpu' ({err})") from err
        return cls(dirs, v2)

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` run by a shell that first moves itself into the group (children inherit)."""
        join = " && ".join(f'echo $$ > "{path}/cgroup.procs"' for path in self.dirs)
        return ["sh", "-c", f'{join} && exec "$@"', "sh", *cmd]

    def cpu_seconds(self) -> float:
        if not self.v2:
            return int((self.dirs[1] / "cpuacct.usage").read_text()) / 1e9
        for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        for path in self.dirs:
            for _ in range(50):  # the processes may still be leaving
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


# -- a single instance started by the tool ------------------------------------------------------------
def spawn(cmd: list[str], env: dict[str, str], log: Path,
          group: CpuCgroup | None = None) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own process group (and CPU cgroup), output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(group.wrap(cmd) if group is not None else cmd, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@contextlib.asynccontextmanager
async def single_instance(args: argparse.Namespace) -> AsyncIterator[tuple[str, Path]]:
    """Start one instance (or with ``args.cluster`` the cluster); yield its URL and its
    (temporary) state dir."""
    source = args.state_dir.resolve()
    if not getattr(args, "train", False) and not any(
            (source / "models").glob("buergerbot-*.tar.gz")):
        raise SystemExit(f"{source}/models enthält kein trainiertes Modell "
                         "(erst `buergerbot train --state-dir ...`)")
    with tempfile.TemporaryDirectory(prefix="bb-load-") as tmp:
        state = Path(tmp)
        state.chmod(0o755)  # the cluster's PostgreSQL runs as its own user below it
        for name in ("models", "index"):
            (source / name).mkdir(parents=True, exist_ok=True)
            if (source / name).is_dir():
                (state / name).symlink_to(source / name, target_is_directory=True)
        cluster = getattr(args, "cluster", False)
        workers = getattr(args, "rasa_workers", 1)
        ports = [free_block(3 if cluster else n) for n in (1, workers, 1)]
        port = ports[0]
        cmd = [sys.executable, "-m", "bot.cli", "cluster" if cluster else "run",
               *([] if getattr(args, "train", False) else ["--no-train"]),
               "--state-dir", str(state), "--port", str(port), "--rasa-port", str(ports[1]),
               "--action-port", str(ports[2])]
        if cluster:
            cmd += ["--postgres-port", str(free_port()), "--redis-port", str(free_port())]
        elif workers > 1:
            cmd += ["--rasa-workers", str(workers)]
        if args.catalogue:
            cmd += ["--catalogue", str(args.catalogue)]
        if args.cpus:
            cmd = ["taskset", "-c", args.cpus, *cmd]
        env = dict(ENV)
        if args.database_url:
            env["BUERGERBOT_DATABASE_URL"] = args.database_url
        log = state / "run.log"
        group = args.cgroup = (CpuCgroup.create(args.cpu_quota)
                               if getattr(args, "cpu_quota", 0.0) else None)
        proc = spawn(cmd, env, log, group)
        try:
            url = f"http://127.0.0.1:{port}"
            print("Starte den Cluster ..." if cluster else "Starte eine Instanz ...",
                  file=sys.stderr, flush=True)
            await wait_http(f"{url}/health", 2400 if getattr(args, "train", False) else 900,
                            proc, log)
            yield url, state
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            if group is not None:
                group.remove()
            if getattr(args, "logs", None):
                args.logs.mkdir(parents=True, exist_ok=True)
                for path in [log, *(state / "run").glob("*.log")]:
                    shutil.copy(path, args.logs / path.name)


def stop_on_sigterm() -> None:
    """SIGTERM cancels the run, so the started instance is stopped on the way out."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running gateway or the cluster's entry point")
    target.add_argument("--state-dir", type=Path,
                        help="start one instance from this dir's trained model and index")
    p.add_argument("--catalogue", type=Path, help="catalogue of the started instance")
    p.add_argument("--cluster", action="store_true",
                   help="with --state-dir: start `buergerbot cluster` (2 instances, PostgreSQL, "
                        "Redis, nginx) instead of one instance")
    p.add_argument("--train", action="store_true",
                   help="with --state-dir: train first if the model is stale (into its models/)")
    p.add_argument("--database-url", default="", help="database of the started instance")
    p.add_argument("--rasa-workers", type=int, default=1,
                   help="Rasa processes of the started instance (not with --cluster)")
    p.add_argument("--cpus", default="", help="taskset CPU list for the started instance")
    p.add_argument("--cpu-quota", type=float, default=0.0,
                   help="limit the started instance to this many CPUs' time (cgroup; root)")
    p.add_argument("--logs", type=Path, help="copy the started instance's logs here at the end")
    p.add_argument("--client-cpus", default="", help="CPU list for this load generator")
    p.add_argument("--citizens", type=int, default=50, help="concurrent conversations")
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of measured load after the warm-up (0: use --turns)")
    p.add_argument("--turns", type=int, default=0, help="messages per citizen (0: no limit)")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds not measured")
    p.add_argument("--think", type=float, default=0.0, help="mean think time per turn (s)")
    p.add_argument("--ws-share", type=float, default=0.2,
                   help="share of citizens on the WebSocket (the gateway allows 20 sockets per "
                        "client address)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per attempt")
    p.add_argument("--retry-for", type=float, default=90.0,
                   help="seconds a client keeps retrying one message before it gives up")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="write the report here as well")
    return p


def check_args(args: argparse.Namespace) -> None:
    if args.citizens < 1 or not 0.0 <= args.ws_share <= 1.0:
        raise SystemExit("--citizens muss ≥ 1 und --ws-share zwischen 0 und 1 sein")
    if args.duration <= 0 and args.turns <= 0:
        raise SystemExit("--duration oder --turns angeben")
    if args.cpu_quota and (args.url or not 0.05 <= args.cpu_quota <= (os.cpu_count() or 1)):
        raise SystemExit("--cpu-quota gilt nur mit --state-dir, zwischen 0.05 und der Zahl der "
                         "Kerne")
    if not 1 <= args.rasa_workers <= 8 or (args.rasa_workers > 1 and (args.cluster or args.url)):
        raise SystemExit("--rasa-workers (1 bis 8) gilt nur für eine mit --state-dir gestartete "
                         "Instanz, nicht mit --cluster")
    if min(args.warmup, args.think, args.turns) < 0 or args.timeout <= 0:
        raise SystemExit("Zeiten und Zahlen dürfen nicht negativ sein")


async def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    stop_on_sigterm()
    check_args(args)
    if args.client_cpus:
        os.sched_setaffinity(0, {int(c) for c in args.client_cpus.split(",")})
    if args.url:
        report = await run_load(args.url.rstrip("/"), args)
    else:
        async with single_instance(args) as (url, _state):
            report = await run_load(url, args)
    report = {"date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": f"{platform.node()} · {os.cpu_count()} cores · "
                         f"Python {platform.python_version()}",
              "command": "bench/load.py " + " ".join(sys.argv[1:] if argv is None else argv),
              **report}
    text = json.dumps(report, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    rec = report["reconciliation"]
    return 1 if rec["lost"] or rec["duplicated"] or rec["unanswered"] or rec["altered"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
