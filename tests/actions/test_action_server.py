"""`python -m bot.actions.server` starts, warms up and answers Rasa's webhook calls."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port

pytestmark = pytest.mark.slow


def test_action_server_answers_a_webhook_call(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BUERGERBOT_STATE_DIR": str(tmp_path), "BUERGERBOT_HOST": "127.0.0.1",
           "BUERGERBOT_ACTION_PORT": str(port), "PYTHONWARNINGS": "ignore"}
    log = tmp_path / "actions.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.actions.server"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "action server did not come up"
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        body = {
            "next_action": "action_answer_service", "sender_id": "t",
            "tracker": {
                "sender_id": "t", "slots": {"language": "de", "service_id": None},
                "latest_message": {"text": "Was kostet ein Reisepass?",
                                   "intent": {"name": "ask_service"}, "entities": []},
                "events": [], "paused": False, "followup_action": None, "active_loop": {},
                "latest_action_name": "action_listen",
            },
            "domain": {},
        }
        answer = requests.post(f"{url}/webhook", json=body, timeout=30).json()
        slots = {e["name"]: e["value"] for e in answer["events"] if e["event"] == "slot"}
        assert slots["service_id"] == "reisepass" and slots["aspect"] == "fees"
        [message] = answer["responses"]
        assert "70 Euro" in message["custom"]["text"]
        assert (tmp_path / "index").is_dir()  # the index is persisted in the state dir
        assert "actions.server.ready_to_serve" in log.read_text()  # built and warmed first
    finally:
        proc.terminate()
        proc.wait(30)
