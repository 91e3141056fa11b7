"""bench/load.py: its reconciliation catches what it must, and a short run against a real gateway
(real app, HTTP server and SQLite store; Rasa a recording stand-in, see tests/faults) reports
clean numbers. Load figures themselves belong to docs/BENCHMARKS.md, not to tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import load
from bot.gateway.app import create_app
from bot.settings import Settings
from tests.conftest import free_port
from tests.faults.test_message_ids import Dialogue


def _stored(*rows: tuple[str, str, str | None]) -> list[dict[str, Any]]:
    return [{"seq": i, "role": role, "text": text, **({"message_id": mid} if mid else {})}
            for i, (role, text, mid) in enumerate(rows, start=1)]


def _sent(mid: str, text: str, *, acked: bool = True, answered: bool = True) -> load.Sent:
    return load.Sent("c1", mid, text, acked=acked, answered=answered)


def test_a_clean_conversation_reconciles() -> None:
    sent = [_sent("a", "Reisepass?"), _sent("b", "Danke")]
    stored = _stored(("citizen", "Reisepass?", "a"), ("bot", "Im Bürgerbüro.", None),
                     ("citizen", "Danke", "b"), ("bot", "Gern geschehen.", None))
    result = load.reconcile_conversation(sent, stored)
    assert result["stored"] == 2
    assert result["lost"] == result["duplicated"] == result["unanswered"] == 0


def test_lost_duplicated_unanswered_altered_and_foreign_are_counted() -> None:
    sent = [_sent("a", "Reisepass?"), _sent("b", "Was kostet das?"), _sent("c", "Wo?"),
            _sent("d", "Danke"), _sent("e", "Tschüss", acked=False)]
    stored = _stored(("citizen", "Reisepass?", "a"), ("citizen", "Reisepass?", "a"),
                     ("bot", "Antwort", None),
                     ("citizen", "Was kostet das?", "b"),  # no answer before the next one
                     ("citizen", "Danke!", "d"), ("bot", "Bitte", None),
                     ("citizen", "Hallo", "x"))
    result = load.reconcile_conversation(sent, stored)
    assert result["duplicated"] == 1  # a
    assert result["unanswered"] == 1  # b
    assert result["lost"] == 1  # c (acknowledged, not stored); e was never acknowledged
    assert result["altered"] == 1  # d
    assert result["foreign"] == 1  # x


def test_a_message_answered_by_nobody_need_not_have_a_bot_answer() -> None:
    # While a person owns the conversation the bot is silent: the client got no answer.
    sent = [_sent("a", "Hallo?", answered=False)]
    assert load.reconcile_conversation(sent, _stored(("citizen", "Hallo?", "a")))[
        "unanswered"] == 0


async def test_a_short_run_against_a_real_gateway(aiohttp_server, tmp_path: Path) -> None:
    rasa = Dialogue()
    port = (await aiohttp_server(rasa.app(), port=free_port())).port
    settings = Settings.load(env={}, state_dir=tmp_path, rasa_port=port, action_port=port,
                             rate_limit_client_per_minute=100_000,
                             rate_limit_conversation_per_minute=100_000)
    server = await aiohttp_server(create_app(settings))
    args = load.parser().parse_args([
        "--url", str(server.make_url("")).rstrip("/"), "--citizens", "6", "--ws-share", "0.5",
        "--duration", "0", "--turns", "5", "--warmup", "0"])
    load.check_args(args)
    report = await load.run_load(str(server.make_url("")).rstrip("/"), args)
    assert report["messages_sent"] == report["messages_answered"] == 30
    assert report["errors"] == {} and report["gave_up"] == {}
    assert report["reconciliation"] == {"stored": 30, "lost": 0, "duplicated": 0,
                                        "unanswered": 0, "altered": 0, "foreign": 0}
    assert len(rasa.received) == 30
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
    assert report["client_cpu_ms_per_msg"] > 0
    assert "instance_cpu_ms_per_msg" not in report  # no instance of its own, no cgroup


def _cgroups_writable() -> bool:
    root = load.CGROUP_ROOT
    target = root if (root / "cgroup.controllers").is_file() else root / "cpu"
    return os.geteuid() == 0 and os.access(target, os.W_OK)


@pytest.mark.skipif(not _cgroups_writable(), reason="needs root and a writable cgroup 'cpu'")
def test_a_cpu_quota_group_holds_the_started_process_and_counts_its_cpu_time() -> None:
    group = load.CpuCgroup.create(0.5)
    try:
        if group.v2:
            assert (group.dirs[0] / "cpu.max").read_text().split() == ["50000", "100000"]
        else:
            assert (group.dirs[0] / "cpu.cfs_quota_us").read_text().strip() == "50000"
        burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n" \
               "print(open('/proc/self/cgroup').read())"
        out = subprocess.run(group.wrap([sys.executable, "-c", burn]), capture_output=True,
                             text=True, check=True).stdout
        assert group.dirs[0].name in out  # the child ran inside the group
        assert group.cpu_seconds() >= 0.3  # and its CPU time was counted there
    finally:
        group.remove()
    assert not any(path.exists() for path in group.dirs)


def test_a_cpu_quota_needs_an_instance_of_its_own() -> None:
    args = load.parser().parse_args(["--url", "http://127.0.0.1:1", "--cpu-quota", "1"])
    with pytest.raises(SystemExit, match="--cpu-quota"):
        load.check_args(args)
