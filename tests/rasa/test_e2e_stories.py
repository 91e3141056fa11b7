"""The test stories (tests/test_stories.yml) against the real trained model.

Every user turn goes through the NLU (intent and entities must match the story) and the
policies (every following action must match). A turn is correct when both hold; we require
at least 95 % correct turns and every flow to be represented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

STORIES = REPO / "tests" / "test_stories.yml"
MIN_TURN_ACCURACY = 0.95
MIN_STORIES = 60  # multi-turn conversations (two or more citizen turns), as issue 4 asks


def count_turns(events: list[Any]) -> tuple[int, int]:
    """(turns, wrong turns) of one evaluated story."""
    from rasa.core.test import WronglyClassifiedUserUtterance, WronglyPredictedAction
    from rasa.shared.core.events import UserUttered

    turns = 0
    failed: set[int] = set()
    for event in events:
        if isinstance(event, UserUttered):
            turns += 1
            if isinstance(event, WronglyClassifiedUserUtterance):
                failed.add(turns)
        elif isinstance(event, WronglyPredictedAction):
            failed.add(max(turns, 1))
    return turns, len(failed)


async def evaluate(model: Path, out: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.test import _collect_story_predictions, _create_data_generator
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter

    agent = Agent.load(str(model))
    generator = _create_data_generator(str(STORIES), agent, None, True)
    trackers = generator.generate_story_trackers()
    evaluation, _, _ = await _collect_story_predictions(trackers, agent, use_e2e=True)
    turns = wrong = multi_turn = 0
    for tracker in evaluation.successful_stories:
        n = count_turns(list(tracker.events))[0]
        turns += n
        multi_turn += n >= 2
    failures = []
    for tracker in evaluation.failed_stories:
        n, bad = count_turns(list(tracker.events))
        turns += n
        wrong += bad
        multi_turn += n >= 2
        failures.append(tracker.export_stories(YAMLStoryWriter(), e2e=True))
    result = {"stories": len(trackers), "multi_turn_stories": multi_turn,
              "failed_stories": len(evaluation.failed_stories),
              "turns": turns, "wrong_turns": wrong,
              "turn_accuracy": (turns - wrong) / turns if turns else 0.0}
    out.mkdir(parents=True, exist_ok=True)
    (out / "e2e_result.json").write_text(json.dumps(result, indent=2))
    (out / "failed_test_stories.yml").write_text("\n".join(failures))
    return result


@pytest.mark.slow
# Rasa, TensorFlow and their dependencies warn on import and while predicting.
@pytest.mark.filterwarnings("ignore")
async def test_story_turns_are_correct(trained_model: Path, tmp_path: Path) -> None:
    result = await evaluate(trained_model, tmp_path)
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert result["multi_turn_stories"] >= MIN_STORIES, result
    assert result["turn_accuracy"] >= MIN_TURN_ACCURACY, f"{result}\n{failed}"


def test_stories_cover_every_intent_response_and_action() -> None:
    import yaml

    stories = yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]
    domain = yaml.safe_load((REPO / "bot" / "domain.yml").read_text(encoding="utf-8"))
    steps = [step for story in stories for step in story["steps"]]
    intents = {s["intent"] for s in steps if "intent" in s}
    actions = {s["action"] for s in steps if "action" in s}
    assert set(domain["intents"]) | {"nlu_fallback"} == intents
    core_fallback = {"action_not_sure"}  # chosen when no policy is sure, never by a story
    assert set(domain["actions"]) | set(domain["responses"]) == actions | core_fallback
