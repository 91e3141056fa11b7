"""The whole stack, for real: `buergerbot run` with Rasa, action server and gateway.

Uses <repo>/var/test-stack as state dir so the trained model and indexes are reused between runs
(their fingerprints decide whether they are stale). The first run trains (minutes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.gateway.dialogue import worker_for
from tests.conftest import MUNICH, REPO, free_block, free_port, wait_until

pytestmark = pytest.mark.slow

STATE = REPO / "var" / "test-stack"
STARTUP_LIMIT = 1800  # includes a first training run on a 2-core CI machine
NET_AUDIT = REPO / "tests" / "privacy" / "netaudit"  # sitecustomize.py recording outside calls


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    url: str
    state: Path
    log: Path
    net_audit: Path

    def children(self) -> dict[str, dict]:
        status = json.loads((self.state / "run" / "supervisor.json").read_text())
        return status["children"]

    def chat(self, cid: str, text: str) -> requests.Response:
        return requests.post(f"{self.url}/api/v1/chat", json={"conversation_id": cid, "text": text},
                             timeout=30)

    def health(self) -> requests.Response:
        return requests.get(f"{self.url}/health", timeout=5)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)



def start_stack(extra: list[str], log_name: str) -> Stack:
    port = free_port()
    log = STATE / f"{log_name}.log"
    STATE.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "bot.cli", "run", "--state-dir", str(STATE), "--port", str(port),
           "--rasa-port", str(free_port()), "--action-port", str(free_port()), *extra]
    audit = STATE / f"{log_name}-net-audit.log"
    audit.unlink(missing_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONWARNINGS="ignore",
               NET_AUDIT_FILE=str(audit),
               PYTHONPATH=os.pathsep.join(filter(None, [str(NET_AUDIT),
                                                        os.environ.get("PYTHONPATH")])))
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    stack = Stack(proc, f"http://127.0.0.1:{port}", STATE, log, audit)
    wait_until(lambda: stack.health().status_code == 200, STARTUP_LIMIT, "a healthy stack",
               proc, log)
    return stack


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    s = start_stack([], "musterstadt")
    yield s
    s.stop()


def test_passport_question_is_answered_in_german_with_its_source(stack: Stack) -> None:
    resp = stack.chat("stack-passport", "Was brauche ich für einen Reisepass?")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["conversation_id"] == "stack-passport"
    assert body["handoff"] is None
    texts = " ".join(m["text"] for m in body["messages"])
    assert "Reisepass" in texts
    sources = [s["service_id"] for m in body["messages"] for s in m["sources"]]
    assert "reisepass" in sources
    history = requests.get(f"{stack.url}/api/v1/conversations/stack-passport/messages",
                           timeout=5).json()["messages"]
    assert history[0]["role"] == "citizen" and history[1]["role"] == "bot"


def test_no_third_party_calls(stack: Stack) -> None:
    """Start-up and a chat turn reach nothing beyond this machine (every Python process of the
    stack records outside destinations; the audit's positive control is in
    tests/privacy/test_netaudit.py)."""
    assert stack.chat("stack-offline", "Wie melde ich meinen Hund an?").status_code == 200
    for name, child in stack.children().items():  # every child runs with the audit hook
        environ = Path(f"/proc/{child['pid']}/environ").read_bytes().split(b"\0")
        assert f"NET_AUDIT_FILE={stack.net_audit}".encode() in environ, name
    calls = stack.net_audit.read_text() if stack.net_audit.exists() else ""
    assert calls == "", f"calls to other hosts:\n{calls}"


def test_explicit_request_for_a_person_escalates(stack: Stack) -> None:
    body = stack.chat("stack-human", "Ich möchte mit einem Menschen sprechen").json()
    if body["handoff"] is not None:
        # Someone is on duty: the conversation waits in the queue and the bot stays silent.
        assert body["handoff"]["status"] == "queued"
        again = stack.chat("stack-human", "Hallo?").json()
        assert again["messages"] == [] and again["handoff"]["status"] == "queued"
    else:
        # Out of service hours or nobody online: a callback is offered instead (issue 7).
        payloads = [b["payload"] for m in body["messages"] for b in m["buttons"]]
        assert "/callback_yes" in payloads, body


def test_crashed_child_is_restarted_and_reported_in_health(stack: Stack) -> None:
    before = stack.children()["action_server"]
    os.killpg(before["pid"], signal.SIGKILL)
    wait_until(lambda: "action_server" in stack.health().json()["down"], 30,
               "health to report the action server down")
    wait_until(lambda: stack.health().status_code == 200, 180, "the action server to come back")
    after = stack.health().json()["components"]["action_server"]
    assert after["restarts"] == before["restarts"] + 1
    assert stack.children()["action_server"]["pid"] != before["pid"]
    resp = stack.chat("stack-after-crash", "Was kostet ein Personalausweis?")
    assert resp.status_code == 200 and resp.json()["messages"]


def test_sigterm_stops_every_child(stack: Stack) -> None:
    pids = [c["pid"] for c in stack.children().values()]
    assert all(pid_alive(p) for p in pids)
    assert stack.stop() == 0
    wait_until(lambda: not any(pid_alive(p) for p in pids), 15, "all children to exit")


def test_munich_catalogue_cites_the_munich_passport_service() -> None:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip("Munich catalogue not found next to the repository (../shared)")
    s = start_stack(["--catalogue", str(MUNICH)], "muenchen")
    try:
        body = s.chat("munich-passport", "Was brauche ich für einen Reisepass?").json()
        sources = [src["service_id"] for m in body["messages"] for src in m["sources"]]
        assert "1063453" in sources, body
    finally:
        assert s.stop() == 0


def test_two_rasa_processes_keep_their_conversations_and_restart_alone() -> None:
    """``--rasa-workers 2``: two real Rasa servers, each conversation keeps its context on its
    own one; when one is killed only its conversations get a quick 503 until the supervisor
    has restarted it, the other one's go on."""
    s = start_stack(["--rasa-port", str(free_block(2)), "--rasa-workers", "2"], "two-workers")
    try:
        assert {"rasa", "rasa-2"} <= set(s.children())
        cids = [next(f"two-{w}-{n}" for n in range(100) if worker_for(f"two-{w}-{n}", 2) == w)
                for w in (0, 1)]
        for cid in cids:
            first = s.chat(cid, "Was brauche ich für einen Reisepass?").json()
            follow = s.chat(cid, "Und was kostet der?").json()
            for body in (first, follow):
                sources = [src["service_id"] for m in body["messages"] for src in m["sources"]]
                assert "reisepass" in sources, (cid, body)

        os.killpg(s.children()["rasa-2"]["pid"], signal.SIGKILL)
        wait_until(lambda: "rasa" in s.health().json()["down"], 30, "health to report Rasa down")
        assert s.chat(cids[0], "Was kostet ein Personalausweis?").status_code == 200
        refused = s.chat(cids[1], "Was kostet ein Personalausweis?")
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "dialogue-unavailable"
        wait_until(lambda: s.health().status_code == 200, 300, "the second Rasa to come back")
        again = s.chat(cids[1], "Was kostet ein Personalausweis?")
        assert again.status_code == 200 and again.json()["messages"]
        processes = s.health().json()["components"]["rasa"]["processes"]
        assert processes["rasa-2"]["restarts"] == 1 and processes["rasa"]["restarts"] == 0
    finally:
        assert s.stop() == 0
