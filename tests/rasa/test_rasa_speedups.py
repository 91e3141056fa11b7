"""bot/rasa_speedups.py against Rasa's own code: DIET loaded without tracing a training step
predicts exactly what Rasa's loader gives (intents, confidences, entities) on the real trained
model; action results are accepted and rejected exactly as ``jsonschema.validate`` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

# Rasa, TensorFlow and their dependencies warn on import and while predicting.
pytestmark = pytest.mark.filterwarnings("ignore")

VALID = {"events": [{"event": "slot", "name": "service", "value": "pass"}],
         "responses": [{"text": "Ein Reisepass kostet 70 Euro.", "buttons": [
             {"title": "Termin", "payload": "/book"}], "custom": {"sources": []}}]}
INVALID = [
    {"events": "slot"},
    {"events": [{"name": "service"}]},
    {"events": [{"event": 5}]},
    {"responses": "text"},
    {"responses": [5]},
]


@pytest.mark.parametrize("result", [VALID, {}, {"events": [], "responses": []}, *INVALID])
def test_action_results_are_validated_like_rasa(result: dict[str, Any]) -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    from bot import rasa_speedups

    rasa_speedups.install()
    schema = RemoteAction.action_response_format_spec()
    try:
        jsonschema.validate(result, schema)
        expected = None
    except jsonschema.ValidationError as error:
        expected = error
    action = RemoteAction("action_answer_service", None)
    if expected is None:
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError) as raised:
            action._validate_action_result(result)
        assert list(raised.value.path) == list(expected.path)
        assert raised.value.message.startswith(expected.message)
        assert "Failed to validate Action server response" in raised.value.message


async def _parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        out.append({"ranking": [(r["name"], r["confidence"]) for r in parsed["intent_ranking"]],
                    "entities": [(e["entity"], e["value"], e["start"], e["end"])
                                 for e in parsed["entities"]]})
    return out


@pytest.mark.slow
async def test_fast_diet_load_predicts_like_rasas_loader(trained_model: Path) -> None:
    from rasa.utils.tensorflow.models import RasaModel

    from bot import rasa_speedups as fast_load

    fast_load.install()
    rows = (REPO / "tests" / "data" / "musterstadt_questions.jsonl").read_text("utf-8")
    texts = [json.loads(line)["question"] for line in rows.splitlines() if line.strip()][:40]
    texts += ["Hallo", "Danke, tschüss", "Was kostet das?", "qwertz uiop", "Ich will einen Menschen"]

    before = fast_load.fast_loads
    fast = await _parse_all(trained_model, texts)
    assert fast_load.fast_loads == before + 1, "DIET was not loaded the fast way"

    patched = RasaModel.load
    RasaModel.load = classmethod(fast_load.original_load)  # type: ignore[method-assign]
    try:
        reference = await _parse_all(trained_model, texts)
    finally:
        RasaModel.load = patched  # type: ignore[method-assign]
    assert fast_load.fast_loads == before + 1

    for text, got, want in zip(texts, fast, reference, strict=True):
        assert got["entities"] == want["entities"], text
        assert [name for name, _ in got["ranking"]] == [name for name, _ in want["ranking"]], text
        for (_, p), (_, q) in zip(got["ranking"], want["ranking"], strict=True):
            assert p == pytest.approx(q, abs=1e-5), text
