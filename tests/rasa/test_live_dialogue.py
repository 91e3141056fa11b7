"""Whole conversations through the trained Rasa model and a running action server.

The e2e stories check the policies' choices; these check what the citizen actually gets back,
turn by turn, with the real catalogue, retrieval and actions behind Rasa.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running_action_server

pytestmark = [
    pytest.mark.slow,
    # Rasa, TensorFlow and their dependencies warn on import and while predicting.
    pytest.mark.filterwarnings("ignore"),
]


@pytest.fixture(scope="module")
def action_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_action_server(tmp_path_factory.mktemp("state")) as url:
        yield url


@pytest.fixture(scope="module")
def agent(trained_model: Path, action_url: str) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(trained_model), action_endpoint=EndpointConfig(f"{action_url}/webhook"))


async def say(agent: Any, conversation: str, text: str) -> list[dict[str, Any]]:
    """The bot's messages for one user message, as BotMessage wire dicts."""
    out = await agent.handle_text(text, sender_id=conversation)
    return [m.get("custom") or {"text": m.get("text") or "", "buttons": m.get("buttons") or []}
            for m in out]


async def test_the_passport_conversation(agent: Any) -> None:
    [docs] = await say(agent, "pass", "Was brauche ich für einen Reisepass?")
    assert "Lichtbild" in docs["text"]
    [fees] = await say(agent, "pass", "Und was kostet der?")
    assert "70 Euro" in fees["text"] and "Reisepass" in fees["text"]
    [where] = await say(agent, "pass", "Wo kann ich das machen?")
    assert "Bürgerbüro Mitte" in where["text"] and "Postleitzahl" in where["text"]
    [local] = await say(agent, "pass", "Ich wohne in 12345")
    assert "Bürgerbüro Nord" in local["text"] and "Bürgerbüro Süd" not in local["text"]


async def test_no_answer_then_yes_hands_over_once(agent: Any) -> None:
    [offer] = await say(agent, "space", "Wie beantrage ich eine Lizenz für mein Raumschiff?")
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    messages = await say(agent, "space", "/affirm")
    assert len(messages) == 1 and messages[0]["handoff"]["reason"] == "low_confidence"
    # The conversation goes on normally afterwards.
    [thanks] = await say(agent, "space", "Danke")
    assert thanks["text"].startswith("Gern geschehen")


async def test_two_misses_then_a_person(agent: Any) -> None:
    [first] = await say(agent, "miss", "qwertz uiop")
    assert "anders formulieren" in first["text"]
    [second] = await say(agent, "miss", "asdkjh qwe")
    assert second["buttons"] and "Mitarbeiter" in second["text"]
    messages = await say(agent, "miss", "ja")
    assert len(messages) == 1 and messages[0]["handoff"]["reason"] == "not_understood"


async def test_clarify_and_choose(agent: Any) -> None:
    [question] = await say(agent, "dog", "Wie melde ich meinen Hund an?")
    choices = [b["payload"] for b in question["buttons"] if b["payload"].startswith("/choose")]
    assert choices
    [answer] = await say(agent, "dog", choices[0])
    assert answer["sources"] and answer["sources"][0]["service_id"] in question["text"] + str(
        choices)


async def test_english_and_back(agent: Any) -> None:
    [hello] = await say(agent, "en", "Hello")
    assert hello["text"].startswith("Hello!")
    [fees] = await say(agent, "en", "How much does a passport cost?")
    assert fees["text"].startswith("The city's information is only available in German")
    [bye] = await say(agent, "en", "Bye")
    assert bye["text"].startswith("Goodbye")


async def test_distress_hands_over_with_help_numbers(agent: Any) -> None:
    [reply] = await say(agent, "sos", "Ich weiß nicht mehr weiter")
    assert "112" in reply["text"] and reply["handoff"]["reason"] == "distress"
