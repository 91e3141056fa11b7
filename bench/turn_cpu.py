"""CPU time per chat turn in each process of a running stack — robust to a busy machine.

    .venv/bin/python bench/turn_cpu.py [--state-dir var] [--url http://127.0.0.1:8080] [--turns 200]
                                       [--per-conversation 1]

Reads the supervisor's status file (``<state_dir>/run/supervisor.json``) of a running
``buergerbot run``, sends sequential chat turns (questions from
tests/data/musterstadt_questions.jsonl, each in a new conversation, or ``--per-conversation N``
turns in each, to see what a longer conversation costs) and reports, per child
process group (Rasa, action server, gateway), the CPU seconds it spent per turn, read from
/proc. Wall-clock latency depends on what else the machine runs; CPU time per turn hardly does,
so this is the number to compare before and after a change.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in the process group."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def ask(url: str, text: str, conversation_id: str | None = None) -> None:
    conversation_id = conversation_id or f"cpu-{uuid.uuid4().hex[:16]}"
    body = json.dumps({"conversation_id": conversation_id, "text": text}).encode()
    request = urllib.request.Request(f"{url}/api/v1/chat", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, default=REPO / "var")
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--per-conversation", type=int, default=1,
                        help="turns in each conversation (default 1: a new one per turn)")
    args = parser.parse_args(argv)
    status_file = args.state_dir / "run" / "supervisor.json"
    try:
        children = json.loads(status_file.read_text(encoding="utf-8"))["children"]
    except (OSError, ValueError, KeyError):
        print(f"Kein laufender Stack: {status_file} fehlt oder ist unlesbar.", file=sys.stderr)
        return 2
    rows = (REPO / "tests" / "data" / "musterstadt_questions.jsonl").read_text("utf-8")
    questions = [json.loads(line)["question"] for line in rows.splitlines() if line.strip()]
    for i in range(5):  # warm-up
        ask(args.url, questions[i])
    before = {name: group_cpu_seconds(child["pid"]) for name, child in children.items()}
    started = time.perf_counter()
    conversation = ""
    for i in range(args.turns):
        if i % max(1, args.per_conversation) == 0:
            conversation = f"cpu-{uuid.uuid4().hex[:16]}"
        ask(args.url, questions[i % len(questions)], conversation)
    wall = time.perf_counter() - started
    after = {name: group_cpu_seconds(child["pid"]) for name, child in children.items()}
    result = {name: round(1000 * (after[name] - before[name]) / args.turns, 1)
              for name in children}
    for name, ms in result.items():
        print(f"{name:16s} {ms:6.1f} ms CPU per turn")
    print(f"{'total':16s} {sum(result.values()):6.1f} ms CPU per turn; "
          f"wall {1000 * wall / args.turns:.1f} ms per turn (sequential)")
    print(json.dumps({"cpu_ms_per_turn": result, "wall_ms_per_turn": round(1000 * wall /
                                                                             args.turns, 1),
                      "turns": args.turns, "per_conversation": args.per_conversation,
                      "loadavg": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
