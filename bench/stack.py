"""Benchmark the whole stack beside a plain Rasa REST bot, in one run.

    .venv/bin/python bench/stack.py [--catalogue PATH] [--requests 300] [--concurrency 20]

Measures: Rasa training time (forced), retrieval index build, start-up to healthy with a trained
model, resident memory of the whole stack (supervisor + all child process groups), and chat
round-trip latency p50/p95 (sequential, and N concurrent conversations) through POST
/api/v1/chat, beside the same numbers for bench/plain_rasa served by `rasa run` and asked on its
REST webhook directly. Prints a Markdown block for docs/BENCHMARKS.md and a JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import free_port

PY = sys.executable
ENV = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
           PYTHONWARNINGS="ignore",
           # A load test comes from one address: lift the citizens' rate limits for it.
           BUERGERBOT_RATE_LIMIT_CLIENT_PER_MINUTE="1000000",
           BUERGERBOT_RATE_LIMIT_CONVERSATION_PER_MINUTE="1000000")

FALLBACK_QUESTIONS = [
    "Was brauche ich für einen Reisepass?", "Was kostet ein Personalausweis?",
    "Wie melde ich meinen Wohnsitz an?", "Wo kann ich mein Auto zulassen?",
    "Ich möchte meinen Hund anmelden", "Wie beantrage ich ein Führungszeugnis?",
    "Hallo", "Wie lange dauert ein neuer Pass?", "Ich habe meinen Ausweis verloren",
    "Wo bekomme ich eine Geburtsurkunde?",
]


def questions() -> list[str]:
    path = REPO / "tests" / "data" / "musterstadt_questions.jsonl"
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        return [r["question"] for r in rows][:200]
    return FALLBACK_QUESTIONS


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def rss_of_groups(pids: list[int]) -> int:
    """Resident memory (bytes) of every process whose process group is one of ``pids``."""
    groups = set(pids)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            pgid = int(stat.rsplit(")", 1)[1].split()[2])
            if pgid in groups or int(entry.name) in groups:
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


async def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None,
                    log: Path | None = None) -> float:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < timeout:
            if proc is not None and proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log else ""
                raise RuntimeError(f"process exited ({proc.returncode}) before {url}:\n{tail}")
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return time.monotonic() - started
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def load(url: str, body_for, n: int, concurrency: int) -> tuple[list[float], int]:
    """``n`` requests from ``concurrency`` conversations; returns latencies (ms) and errors."""
    latencies: list[float] = []
    errors = 0
    qs = questions()
    counter = iter(range(n))

    async def worker(w: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in counter:
            body = body_for(f"bench-{w}-{i // 5}", qs[i % len(qs)])
            t = time.perf_counter()
            try:
                async with session.post(url, json=body,
                                        timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
            latencies.append((time.perf_counter() - t) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(worker(w, session) for w in range(concurrency)))
    return latencies, errors


def timed(cmd: list[str], **kw) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - started


def summary(lat: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(lat), 1), "p95_ms": round(percentile(lat, 95), 1)}


async def bench_buergerbot(args: argparse.Namespace, state: Path) -> dict:
    result: dict = {}
    base = [PY, "-m", "bot.cli"]
    cat = ["--catalogue", str(args.catalogue)] if args.catalogue else []
    print("buergerbot: Training (erzwungen) ...", flush=True)
    result["train_s"] = round(timed(base + ["train", "--force", "--state-dir", str(state)]), 1)
    print("buergerbot: Suchindex ...", flush=True)
    result["index_s"] = round(timed(base + ["index", "--state-dir", str(state)] + cat), 1)
    ports = {"--port": free_port(), "--rasa-port": free_port(), "--action-port": free_port()}
    cmd = base + ["run", "--no-train", "--state-dir", str(state)] + cat
    for flag, port in ports.items():
        cmd += [flag, str(port)]
    gateway = f"http://127.0.0.1:{ports['--port']}"
    print("buergerbot: Start bis gesund ...", flush=True)
    log = state / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=ENV, stdout=out, stderr=subprocess.STDOUT,  # noqa: ASYNC220 (returns at once)
                                start_new_session=True)
    try:
        result["startup_s"] = round(await wait_http(f"{gateway}/health", 240, proc, log), 1)
        status = json.loads((state / "run" / "supervisor.json").read_text())
        pids = [proc.pid] + [c["pid"] for c in status["children"].values()]
        await load(f"{gateway}/api/v1/chat", lambda c, q: {"conversation_id": c, "text": q}, 20, 1)
        seq, err1 = await load(f"{gateway}/api/v1/chat",
                               lambda c, q: {"conversation_id": c, "text": q}, args.requests, 1)
        conc, err2 = await load(f"{gateway}/api/v1/chat",
                                lambda c, q: {"conversation_id": c, "text": q}, args.requests,
                                args.concurrency)
        result["rss_mb"] = round(rss_of_groups(pids) / 2**20)
        result["sequential"] = summary(seq)
        result["concurrent"] = summary(conc)
        result["errors"] = err1 + err2
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    return result


async def bench_plain(args: argparse.Namespace, state: Path) -> dict:
    result: dict = {}
    plain = REPO / "bench" / "plain_rasa"
    print("Plain Rasa: Training ...", flush=True)
    result["train_s"] = round(timed(
        [PY, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(state), "--fixed-model-name", "plain", "--force"],
        cwd=plain), 1)
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 (returns at once; health is polled asynchronously)
        [PY, "-m", "rasa", "run", "--model", str(state / "plain.tar.gz"), "--port", str(port),
         "--interface", "127.0.0.1"], env=ENV, cwd=plain, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        result["startup_s"] = round(await wait_http(f"http://127.0.0.1:{port}/", 240), 1)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        await load(url, lambda c, q: {"sender": c, "message": q}, 20, 1)
        seq, e1 = await load(url, lambda c, q: {"sender": c, "message": q}, args.requests, 1)
        conc, e2 = await load(url, lambda c, q: {"sender": c, "message": q}, args.requests,
                              args.concurrency)
        result["rss_mb"] = round(rss_of_groups([proc.pid]) / 2**20)
        result["sequential"] = summary(seq)
        result["concurrent"] = summary(conc)
        result["errors"] = e1 + e2
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalogue", type=Path)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmp:
        ours = await bench_buergerbot(args, Path(tmp) / "bb")
        plain = await bench_plain(args, Path(tmp) / "plain")
    install = REPO / ".venv" / ".install-seconds"
    report = {
        "machine": f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "command": "bench/stack.py " + " ".join(sys.argv[1:]),
        "install_s_last": float(install.read_text()) if install.is_file() else None,
        "buergerbot": ours, "plain_rasa": plain,
    }
    print(f"\n| | buergerbot | plain Rasa REST |\n|---|---|---|\n"
          f"| training (s) | {ours['train_s']} | {plain['train_s']} |\n"
          f"| index build (s) | {ours['index_s']} | – |\n"
          f"| start-up to healthy (s) | {ours['startup_s']} | {plain['startup_s']} |\n"
          f"| resident memory, whole stack (MB) | {ours['rss_mb']} | {plain['rss_mb']} |\n"
          f"| chat p50 / p95 sequential (ms) | {ours['sequential']['p50_ms']} / "
          f"{ours['sequential']['p95_ms']} | {plain['sequential']['p50_ms']} / "
          f"{plain['sequential']['p95_ms']} |\n"
          f"| chat p50 / p95, {args.concurrency} concurrent (ms) | {ours['concurrent']['p50_ms']}"
          f" / {ours['concurrent']['p95_ms']} | {plain['concurrent']['p50_ms']} / "
          f"{plain['concurrent']['p95_ms']} |\n"
          f"| errors | {ours['errors']} | {plain['errors']} |")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
