"""The whole cluster, for real: `buergerbot cluster` with PostgreSQL, Redis, 2 action servers,
2 Rasa servers, 2 gateways and nginx, in a temporary state directory.

The trained model and the search index are shared with tests/test_stack.py (<repo>/var/test-stack
is linked in), so only a changed model is trained. Faults are made the way the load tests will
make them: the status file names each child's pid, which is killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.cluster import nginx, postgres, redis
from bot.cluster.layout import ClusterError
from tests.cluster.conftest import group_alive, pid_alive
from tests.conftest import REPO, free_block, wait_until

pytestmark = pytest.mark.slow

CACHE = REPO / "var" / "test-stack"  # models and index, shared with tests/test_stack.py
STARTUP_LIMIT = 1800  # a first training run on a 2-core machine
RESTART_LIMIT = 600  # a Rasa server loading its model while the machine is busy


@dataclass
class Cluster:
    proc: subprocess.Popen[bytes]
    url: str
    state: Path
    log: Path

    def children(self) -> dict[str, dict]:
        return json.loads((self.state / "run" / "supervisor.json").read_text())["children"]

    def chat(self, cid: str, text: str) -> requests.Response:
        return requests.post(f"{self.url}/api/v1/chat", json={"conversation_id": cid, "text": text},
                             timeout=60)

    def kill(self, name: str) -> int:
        """SIGKILL a healthy child's process group; returns once every process of it is gone."""
        wait_until(lambda: self.children()[name]["state"] == "healthy", RESTART_LIMIT,
                   f"{name} to be healthy", self.proc, self.log)
        pid = self.children()[name]["pid"]
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not group_alive(pid), 30, f"{name} to die")
        return pid

    def wait_healthy_again(self, name: str, old_pid: int) -> None:
        def back() -> bool:
            child = self.children()[name]
            return child["pid"] != old_pid and child["state"] == "healthy"
        wait_until(back, RESTART_LIMIT, f"{name} to be restarted and healthy", self.proc, self.log)

    def ask(self, cid: str, text: str) -> tuple[str, list[str]]:
        """The texts and cited services of a successful answer (else the logs that explain)."""
        resp = self.chat(cid, text)
        assert resp.status_code == 200, f"{resp.status_code} {resp.text[:300]}\n{self.logs()}"
        messages = resp.json()["messages"]
        assert messages, f"an empty answer\n{self.logs()}"
        return (" ".join(m["text"] for m in messages),
                [s["service_id"] for m in messages for s in m["sources"]])

    def logs(self) -> str:
        run = self.state / "run"
        parts = [f"== {p.name}\n" + p.read_text(errors="replace")[-1500:]
                 for p in sorted(run.glob("*.log")) if p.stem in ("nginx", "gateway-1",
                                                                   "gateway-2")]
        return "\n".join(parts) + "\n== status " + json.dumps(self.children())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(120)



@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        postgres.bindir(), redis.binary(), nginx.binary()
    except ClusterError as err:
        pytest.skip(str(err))
    state = Path(tempfile.mkdtemp(prefix="buergerbot-cluster-"))
    state.chmod(0o755)  # the postgres and redis users must reach their directories
    for name in ("models", "index"):
        (CACHE / name).mkdir(parents=True, exist_ok=True)
        (state / name).symlink_to(CACHE / name)
    base = free_block(9)
    log = state / "cluster.log"
    cmd = [sys.executable, "-m", "bot.cli", "cluster", "--state-dir", str(state),
           "--port", str(base), "--rasa-port", str(base + 3), "--action-port", str(base + 6),
           "--postgres-port", str(free_block(1)), "--redis-port", str(free_block(1))]
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONWARNINGS="ignore",
               BUERGERBOT_STARTUP_TIMEOUT=str(STARTUP_LIMIT))
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=REPO)
    c = Cluster(proc, f"http://127.0.0.1:{base}", state, log)
    try:
        wait_until(lambda: "buergerbot-Cluster läuft" in log.read_text(), STARTUP_LIMIT,
                   "a running cluster", proc, log)
        yield c
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(120)
        shutil.rmtree(state, ignore_errors=True)


def test_the_passport_question_is_answered_through_nginx(cluster: Cluster) -> None:
    assert sorted(cluster.children()) == [
        "action_server-1", "action_server-2", "gateway-1", "gateway-2", "nginx", "postgres",
        "rasa-1", "rasa-2", "redis"]
    text, sources = cluster.ask("cl-passport", "Was brauche ich für einen Reisepass?")
    assert "Reisepass" in text and "reisepass" in sources
    health = requests.get(f"{cluster.url}/health", timeout=10)
    assert health.status_code == 200, health.text


def test_a_conversation_keeps_its_context_across_rasa_instances(cluster: Cluster) -> None:
    # Turn 1 can only be served by rasa-2, turn 2 only by rasa-1: the tracker is in PostgreSQL.
    old = cluster.kill("rasa-1")
    text, _ = cluster.ask("cl-context", "Was brauche ich für einen Reisepass?")
    assert "Lichtbild" in text
    cluster.wait_healthy_again("rasa-1", old)
    cluster.kill("rasa-2")
    text, sources = cluster.ask("cl-context", "Und was kostet der?")
    assert "70 Euro" in text and "Reisepass" in text and "reisepass" in sources


@pytest.mark.parametrize("victim", ["gateway-1", "action_server-2", "rasa-1"])
def test_the_survivors_answer_when_one_instance_dies(cluster: Cluster, victim: str) -> None:
    if victim == "rasa-1":  # the previous test left rasa-2 restarting
        wait_until(lambda: cluster.children()["rasa-2"]["state"] == "healthy", RESTART_LIMIT,
                   "rasa-2 to be back", cluster.proc, cluster.log)
    cluster.kill(victim)  # waits until it is healthy first
    for i in range(4):  # round robin: every instance would have had its turn
        text, sources = cluster.ask(f"cl-{victim}-{i}", "Was kostet ein Personalausweis?")
        assert "personalausweis" in sources, text


def test_stop_ends_every_child_and_keeps_the_database(cluster: Cluster) -> None:
    pids = [c["pid"] for c in cluster.children().values() if c["pid"]]
    assert cluster.stop() == 0
    wait_until(lambda: not any(pid_alive(p) for p in pids), 30, "all children to exit")
    assert "Alle Dienste beendet" in cluster.log.read_text()
    pg_log = (cluster.state / "run" / "postgres.log").read_text()
    assert "database system is shut down" in pg_log  # a clean shutdown, no recovery next time
    assert (cluster.state / "cluster" / "postgres" / "data" / "PG_VERSION").is_file()
