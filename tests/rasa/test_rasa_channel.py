"""bot/rasa_channel.py on a real Rasa server: ``python -m bot.rasa_run run`` with the trained
model and the endpoints.yml/credentials.yml that ``write_rasa_endpoints`` generates, its
conversation locks in a real ``redis-server`` (tests/redis_server.py) that the tests stop and
start again. One Rasa server for the module (its start takes ~20 s); the action server is a
closed port, as the turns here need none but the one that shows what a failing action does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from bot.settings import Settings
from bot.supervisor import write_rasa_endpoints
from tests.conftest import free_port
from tests.rasa.server import gateway_in_front, running_rasa
from tests.redis_server import RedisServer, running_redis

pytestmark = [
    pytest.mark.slow,
    # Rasa, TensorFlow and their dependencies warn on import.
    pytest.mark.filterwarnings("ignore"),
]

GREETING = "Guten Tag! Ich bin der digitale Assistent der Stadtverwaltung."
# A citizen's words with a name in them: they must not reach Rasa's log when the turn fails.
PRIVATE = "Guten Tag, hier ist Erika Mustermann"


@dataclass
class Rasa:
    url: str
    log: Path

    def say(self, sender: str, text: str) -> requests.Response:
        return requests.post(f"{self.url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": text}, timeout=30)


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_up(redis: RedisServer) -> Iterator[RedisServer]:
    """The module's Redis, running at the start and at the end of the test."""
    redis.start()
    yield redis
    redis.start()


@pytest.fixture(scope="module")
def rasa(trained_model: Path, redis: RedisServer,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rasa]:
    state = tmp_path_factory.mktemp("rasa-channel")
    settings = Settings.load(env={}, state_dir=state, host="127.0.0.1", rasa_port=free_port(),
                             action_port=free_port(), redis_url=redis.url)
    log = state / "rasa.log"
    with running_rasa(settings, trained_model, log):
        yield Rasa(settings.rasa_url, log)


def test_the_generated_credentials_name_our_channel_and_rasa_builds_it(tmp_path: Path) -> None:
    from rasa.core.run import create_http_input_channels

    from bot.rasa_channel import StrictRestInput

    write_rasa_endpoints(Settings.load(env={}, state_dir=tmp_path))
    credentials = tmp_path / "run" / "credentials.yml"
    assert yaml.safe_load(credentials.read_text()) == {"bot.rasa_channel.StrictRestInput": None}
    [channel] = create_http_input_channels(None, str(credentials))
    assert type(channel) is StrictRestInput
    assert channel.name() == "rest" and channel.url_prefix() == "rest"  # the URL stays


def test_a_failed_turn_is_logged_by_type_and_place_not_by_what_the_exception_says() -> None:
    from structlog.testing import capture_logs

    from bot.rasa_channel import turn_failed

    name = PRIVATE.rsplit(" ", 1)[1]  # a database error may quote the citizen's words
    try:
        try:
            raise KeyError(name)
        except KeyError as err:
            raise RuntimeError(f"INSERT INTO events VALUES ('{name}')") from err
    except RuntimeError as err:
        with capture_logs() as logs:
            answer = turn_failed(err, "c9")
    assert answer.status == 503
    assert json.loads(answer.body) == {"error": "turn-failed", "detail": "RuntimeError"}
    [entry] = logs
    assert (entry["event"], entry["sender_id"], entry["error"]) == (
        "rest.message.received.failure", "c9", "RuntimeError")
    assert "Mustermann" not in str(entry)
    frames = entry["frames"]
    assert frames.index("builtins.KeyError") < frames.index("builtins.RuntimeError")
    assert frames.count("test_rasa_channel.py") == 2  # where each was raised


def test_a_turn_without_its_lock_answers_503_and_runs_once_redis_is_back(
        rasa: Rasa, redis_up: RedisServer) -> None:
    [hello] = rasa.say("c1", "Guten Tag").json()
    assert hello["text"].startswith(GREETING)

    redis_up.stop()
    failed = rasa.say("c1", PRIVATE)
    assert failed.status_code == 503
    assert failed.json() == {"error": "turn-failed", "detail": "ConnectionError"}
    log = rasa.log.read_text(errors="replace")
    assert "rest.message.received.failure" in log and "rasa_lock.py" in log
    assert "Mustermann" not in log

    redis_up.start()
    answer = rasa.say("c1", PRIVATE)  # the client's retry of the same message
    assert answer.status_code == 200
    assert [bool(m.get("text")) for m in answer.json()] == [True]


def test_a_failing_action_still_answers_200_for_the_gateway_to_check(rasa: Rasa,
                                                                     redis_up: RedisServer) -> None:
    # Rasa's processor logs the unreachable action server and finishes the turn; the gateway
    # asks the action server's health when the answer is empty (bot/gateway/dialogue.py).
    answer = rasa.say("c2", "Was brauche ich für einen Reisepass?")
    assert answer.status_code == 200 and answer.json() == []


async def test_the_chat_api_reports_the_failed_turn_and_its_retry_is_answered(
        rasa: Rasa, redis_up: RedisServer, aiohttp_client: Any, aiohttp_server: Any,
        tmp_path: Path) -> None:
    gateway = await gateway_in_front(rasa.url, aiohttp_client, aiohttp_server, tmp_path)
    body = {"conversation_id": "gw1", "text": "Guten Tag", "message_id": "m1"}

    redis_up.stop()
    resp = await gateway.post("/api/v1/chat", json=body)
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "dialogue-unavailable"

    redis_up.start()
    resp = await gateway.post("/api/v1/chat", json=body)  # the client's retry
    assert resp.status == 200
    [hello] = (await resp.json())["messages"]
    assert hello["text"].startswith(GREETING)
    history = await (await gateway.get("/api/v1/conversations/gw1/messages")).json()
    assert [(m["role"], m["text"][:9]) for m in history["messages"]] == [
        ("citizen", "Guten Tag"), ("bot", "Guten Tag")]


