"""Supervisor gates: a child waits for work it needs (``run``: the action server for the search
index) while the rest of its stage starts; a failed gate stops the start-up. Real processes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.supervisor import ChildSpec, StartupFailed, Supervisor
from tests.cluster.conftest import pid_alive
from tests.cluster.test_layout import CHILD
from tests.conftest import free_block


def _specs(trace: Path) -> list[ChildSpec]:
    base = free_block(2)
    return [ChildSpec(name, (sys.executable, "-c", CHILD, name, str(base + i), str(trace)),
                      f"http://127.0.0.1:{base + i}/", port=base + i)
            for i, name in enumerate(("rasa", "actions"))]


async def _until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_a_gated_child_starts_after_its_gate_while_the_others_start(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    trace.touch()
    gate = asyncio.Event()
    supervisor = Supervisor(_specs(trace), tmp_path / "run", progress=lambda _: None)
    start = asyncio.create_task(supervisor.start(60, gates={"actions": gate.wait()}))
    try:
        await _until(lambda: "start rasa" in trace.read_text())
        await asyncio.sleep(0.5)
        actions = next(c for c in supervisor.children if c.spec.name == "actions")
        assert actions.process is None and not start.done()
        gate.set()
        await asyncio.wait_for(start, 60)
        assert trace.read_text().split("\n")[:2] == ["start rasa", "start actions"]
        pids = [c.process.pid for c in supervisor.children if c.process is not None]
        assert len(pids) == 2
    finally:
        await supervisor.stop()
    assert not any(pid_alive(p) for p in pids)


async def test_a_failed_gate_stops_the_start_with_its_message(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    trace.touch()

    async def index() -> None:
        await asyncio.sleep(0.2)
        raise RuntimeError("Suchindex konnte nicht erstellt werden.")

    supervisor = Supervisor(_specs(trace), tmp_path / "run", progress=lambda _: None)
    try:
        with pytest.raises(StartupFailed, match="Suchindex konnte nicht erstellt werden"):
            await supervisor.start(60, gates={"actions": index()})
    finally:
        await supervisor.stop()
    actions = next(c for c in supervisor.children if c.spec.name == "actions")
    assert actions.process is None
    assert "start actions" not in trace.read_text()


SERVE_AS = """
import functools, http.server, os, sys
print("uid", os.getuid(), flush=True)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="/")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a child as another user")
def test_a_child_runs_as_its_user_under_uvloop(tmp_path: Path) -> None:
    """The cluster runs PostgreSQL as ``postgres``; Rasa's Sanic installs uvloop, whose
    subprocess_exec rejects Popen's user/group arguments (this failed in CI)."""
    import pwd

    import uvloop

    port = free_block(1)
    spec = ChildSpec("db", (sys.executable, "-c", SERVE_AS, str(port)),
                     f"http://127.0.0.1:{port}/", user="nobody")
    supervisor = Supervisor([spec], tmp_path / "run", progress=lambda _: None)

    async def run() -> int:
        try:
            await supervisor.start(30)
            [child] = supervisor.children
            assert child.process is not None
            return child.process.pid
        finally:
            await supervisor.stop()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        pid = runner.run(run())
    log = (tmp_path / "run" / "db.log").read_text()
    assert f"uid {pwd.getpwnam('nobody').pw_uid}" in log
    assert not pid_alive(pid)
