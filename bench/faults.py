"""Fault tests: kill -9 one component at a time during a load run, then reconcile.

    # the cluster (`buergerbot cluster` / `make run-cluster`), already running:
    .venv/bin/python bench/faults.py --url http://127.0.0.1:8080 --run-dir var/run \\
        --faults rasa-1,action_server-1,gateway-1,redis,postgres
    # the cluster started by the tool (2 cores for it, the load generator on the rest):
    .venv/bin/python bench/faults.py --state-dir var/test-stack --cluster \\
        --faults rasa-1,action_server-1,gateway-1,redis,postgres
    # one instance started by the tool, on a throwaway PostgreSQL (Debian's package):
    .venv/bin/python bench/faults.py --state-dir var/test-stack --postgres \\
        --faults rasa,action_server,gateway,postgres

For every fault a fresh load run (bench/load.py's citizens, with transparent retries under the
same message_id) starts; after ``--kill-after`` seconds the component's whole process group gets
SIGKILL. A child of the supervisor (found by name in ``<run_dir>/supervisor.json``) is restarted
by the supervisor; the throwaway PostgreSQL of ``--postgres`` is restarted by this tool. The run
goes on until its end, then every conversation is read back and reconciled: zero lost, zero
duplicated, zero unanswered is the pass mark. Reported per fault: recovery time (kill until
/health is 200 again), errors the clients saw (by kind), retries, messages given up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import load
from tests.handoff.pg import PgCluster, pg_bin


@dataclass(frozen=True)
class Fault:
    """How to kill a component and how to see it back."""

    name: str
    kill: Callable[[], int]  # kills, returns the pid
    restart: Callable[[], Awaitable[None]] | None = None  # None: the supervisor restarts it


def child_pid(run_dir: Path, name: str) -> int:
    status = json.loads((run_dir / "supervisor.json").read_text("utf-8"))
    child = status["children"].get(name)
    if not child or not child.get("pid"):
        names = ", ".join(status["children"])
        raise SystemExit(f"Kein laufender Prozess {name!r} in {run_dir}/supervisor.json "
                         f"(vorhanden: {names})")
    return int(child["pid"])


def supervised(run_dir: Path, name: str) -> Fault:
    def kill() -> int:
        pid = child_pid(run_dir, name)
        os.killpg(pid, signal.SIGKILL)  # the child and everything in its process group
        return pid

    return Fault(name, kill)


def postgres_fault(cluster: PgCluster) -> Fault:
    """The throwaway PostgreSQL: SIGKILL to the postmaster, restarted here on the same data."""

    async def restart() -> None:
        await asyncio.sleep(1.0)  # down for a moment, as after a crash
        await asyncio.to_thread(cluster.start_again, 60)

    return Fault("postgres", cluster.kill, restart)


async def healthy_again(url: str, since: float, timeout: float = 180.0) -> float:
    """Seconds from ``since`` until /health answers 200 (after having failed, or not)."""
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - since < timeout:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(f"{url}/health",
                                       timeout=aiohttp.ClientTimeout(total=3)) as resp:
                    if resp.status == 200:
                        return time.monotonic() - since
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url}/health not healthy {timeout:.0f} s after the kill")


async def one_fault(url: str, fault: Fault, args: argparse.Namespace) -> dict[str, Any]:
    """A load run with one kill in it; the report of bench/load.py plus the fault's data."""
    load_args = load.parser().parse_args([
        "--url", url, "--citizens", str(args.citizens), "--duration", str(args.duration),
        "--warmup", "0", "--ws-share", str(args.ws_share), "--timeout", str(args.timeout),
        "--retry-for", str(args.retry_for), "--think", str(args.think),
        "--seed", str(args.seed)])

    async def killer() -> dict[str, Any]:
        await asyncio.sleep(args.kill_after)
        killed_at = time.monotonic()
        pid = fault.kill()
        print(f"  kill -9 {fault.name} (pid {pid})", file=sys.stderr, flush=True)
        if fault.restart is not None:
            await fault.restart()
        else:
            await asyncio.sleep(1.0)  # let /health notice before asking it
        return {"pid": pid, "recovery_s": round(await healthy_again(url, killed_at), 1)}

    kill_task = asyncio.create_task(killer())
    report = await load.run_load(url, load_args)
    kill = await kill_task
    return {"fault": fault.name, **kill, **{k: report[k] for k in (
        "messages_sent", "messages_answered", "throughput_msg_s", "latency_ms", "retries",
        "errors", "gave_up", "reconciliation")}}


@contextlib.asynccontextmanager
async def started_instance(args: argparse.Namespace) -> AsyncIterator[tuple[str, Path,
                                                                          list[Fault]]]:
    """One instance started like bench/load.py does, on a throwaway PostgreSQL if asked."""
    extra: list[Fault] = []
    cluster: PgCluster | None = None
    with contextlib.ExitStack() as stack:
        if args.postgres:
            bindir = pg_bin()
            if bindir is None:
                raise SystemExit("PostgreSQL ist nicht installiert (apt-get install -y "
                                 "postgresql)")
            cluster = PgCluster(bindir)
            cluster.start()
            stack.callback(cluster.stop)
            extra.append(postgres_fault(cluster))
        load_args = load.parser().parse_args(
            ["--state-dir", str(args.state_dir), "--database-url",
             cluster.create_database() if cluster else "", "--cpus", args.cpus,
             *(["--cluster"] if args.cluster else []), *(["--train"] if args.train else []),
             *(["--logs", str(args.logs)] if args.logs else [])])
        async with load.single_instance(load_args) as (url, state):
            yield url, state / "run", extra


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running stack (with --run-dir)")
    target.add_argument("--state-dir", type=Path, help="start one instance from this dir")
    parser.add_argument("--run-dir", type=Path, help="where the supervisor writes its status")
    parser.add_argument("--cluster", action="store_true",
                        help="start `buergerbot cluster` from --state-dir (its PostgreSQL and "
                             "Redis are children of the supervisor: faults postgres, redis)")
    parser.add_argument("--train", action="store_true",
                        help="train first if the model in --state-dir is stale")
    parser.add_argument("--postgres", action="store_true",
                        help="the started instance uses a throwaway PostgreSQL (a fault too)")
    parser.add_argument("--cpus", default="", help="taskset CPU list for the started instance")
    parser.add_argument("--logs", type=Path, help="keep the started instance's logs here")
    parser.add_argument("--faults", default="rasa,action_server,gateway",
                        help="comma-separated child names (as in supervisor.json) or postgres")
    parser.add_argument("--citizens", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per fault run")
    parser.add_argument("--kill-after", type=float, default=8.0)
    parser.add_argument("--ws-share", type=float, default=0.3)
    parser.add_argument("--think", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--retry-for", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the report here as well")
    args = parser.parse_args(argv)
    load.stop_on_sigterm()
    if args.cluster and args.postgres:
        parser.error("--postgres nur für eine Instanz; der Cluster hat sein eigenes PostgreSQL")
    if args.url and not args.run_dir:
        parser.error("--url braucht --run-dir (Statusdatei des Supervisors)")
    if args.kill_after >= args.duration:
        parser.error("--kill-after muss kleiner als --duration sein")
    results: list[dict[str, Any]] = []

    async def run_all(url: str, run_dir: Path, extra: list[Fault]) -> None:
        own = {f.name: f for f in extra}
        for name in [n.strip() for n in args.faults.split(",") if n.strip()]:
            fault = own.get(name) or supervised(run_dir, name)
            await healthy_again(url, time.monotonic())
            print(f"Fehler {name}: Last mit {args.citizens} Bürgern ...", file=sys.stderr,
                  flush=True)
            results.append(await one_fault(url, fault, args))
            print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr, flush=True)

    if args.url:
        await run_all(args.url.rstrip("/"), args.run_dir, [])
    else:
        async with started_instance(args) as (url, run_dir, extra):
            await run_all(url, run_dir, extra)
    failed = [r["fault"] for r in results if any(
        r["reconciliation"][k] for k in ("lost", "duplicated", "unanswered", "altered"))]
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "loadavg": os.getloadavg(),
              "command": "bench/faults.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "faults": results, "failed": failed}
    print(json.dumps(report, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
