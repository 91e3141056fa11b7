"""What a freshly loaded model predicts, for tests/rasa/test_rasa_speedups.py.

``python -m tests.rasa.predict_after_load MODEL fast|rasa`` loads MODEL with our loader
(bot/rasa_speedups.py) or with Rasa's own, and prints one JSON object: the NLU output for the
test texts, TED's own action probabilities at every point of the test stories and in random
conversations, and how many models were loaded the fast way. Each loader runs in a process of
its own: in one process, a second load of the same model gives TED probabilities that differ
from the first (by up to 0.01), whichever loader is used.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from typing import Any

from tests.conftest import REPO

TEXTS_FROM_QUESTIONS = 40
EXTRA_TEXTS = ["Hallo", "Danke, tschüss", "Was kostet das?", "qwertz uiop",
               "Ich will einen Menschen"]


def predictions(model: str, loader: str) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.utils.tensorflow.models import RasaModel

    from bot import rasa_speedups
    from tests.rasa.test_rasa_speedups import _random_trackers, _story_trackers

    rasa_speedups.install()
    if loader == "rasa":
        RasaModel.load = classmethod(rasa_speedups.original_load)  # type: ignore[method-assign]
    rows = (REPO / "tests" / "data" / "musterstadt_questions.jsonl").read_text("utf-8")
    texts = [json.loads(line)["question"] for line in rows.splitlines() if line.strip()]
    texts = texts[:TEXTS_FROM_QUESTIONS] + EXTRA_TEXTS

    agent = Agent.load(model)
    nlu = []
    for text in texts:
        p = asyncio.run(agent.parse_message(text))
        nlu.append({"text": text,
                    "ranking": [(r["name"], r["confidence"]) for r in p["intent_ranking"]],
                    "entities": [(e["entity"], e["value"], e["start"], e["end"])
                                 for e in p["entities"]]})
    nodes = agent.processor.graph_runner._instantiated_nodes.values()  # type: ignore[union-attr]
    ted = next(n._component for n in nodes if type(n._component) is TEDPolicy)
    trackers = _story_trackers(agent) + _random_trackers(agent.domain, 60)
    return {"fast_loads": rasa_speedups.fast_loads, "nlu": nlu,
            "ted": [ted.predict_action_probabilities(t, agent.domain).probabilities
                    for t in trackers]}


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    result = predictions(sys.argv[1], sys.argv[2])
    print("PREDICTIONS " + json.dumps(result))
