"""`python -m bot.actions.server` starts, warms up and answers Rasa's webhook calls."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.conftest import running_action_server

pytestmark = pytest.mark.slow


def test_action_server_answers_a_webhook_call(tmp_path: Path) -> None:
    with running_action_server(tmp_path) as url:
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
        # built and warmed first
        assert "actions.server.ready_to_serve" in (tmp_path / "actions.log").read_text()
