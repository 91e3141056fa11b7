"""bot/rasa_speedups.py against Rasa's own code: DIET and TED loaded without tracing a
training step predict exactly what Rasa's loader gives (intents, confidences, entities, TED's
action probabilities) on the real trained model, and a restore that misses a value is refused; action results are accepted and rejected exactly as ``jsonschema.validate`` does; the
gated TED, the direct call of the traced prediction function and the graph run without dask
give exactly the predictions (and events) of Rasa's own graph, ``tf.function`` call and dask
run; action calls on a kept-alive connection send and return what Rasa's fresh session does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, free_port
from tests.handoff.fixtures import pg_cluster  # noqa: F401 - a fixture

# Rasa, TensorFlow and their dependencies warn on import and while predicting.
pytestmark = pytest.mark.filterwarnings("ignore")

VALID = {"events": [{"event": "slot", "name": "service", "value": "pass"}],
         "responses": [{"text": "Ein Reisepass kostet 70 Euro.", "buttons": [
             {"title": "Termin", "payload": "/book"}], "custom": {"sources": []}}]}
# What our actions return: slot events, "rewind", responses with custom JSON.
PLAIN = [
    {"events": [{"event": "slot", "name": "misses", "value": 1, "timestamp": None},
                {"event": "rewind", "timestamp": 1795279537.9}],
     "responses": [{"text": None, "custom": {"text": "Bitte anders formulieren."}}]},
    {"events": [{"event": "slot", "name": "service_id", "value": None,
                 "metadata": {"a": 1}}], "responses": []},
]
INVALID = [
    {"events": "slot"},
    {"events": [{"name": "service"}]},
    {"events": [{"event": 5}]},
    {"responses": "text"},
    {"responses": [5]},
    {"events": None},
    {"events": [{"event": "slot", "name": "service"}]},
    {"events": [{"event": "slot", "name": 5, "value": "pass"}]},
    {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": True}]},
    {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "now"}]},
    {"events": [{"event": "rewind", "metadata": []}]},
    {"events": [{"event": "unknown"}]},
    {"events": [{"event": "user", "parse_data": {"intent": "greet"}}]},
    {"events": [{"event": "action", "name": 5}]},
    {"events": [{"event": "entities"}]},
]
# Valid, but not among the shapes checked directly: jsonschema decides.
OTHER_VALID = [
    {"events": [{"event": "user", "text": "Hallo", "parse_data": {"intent": {"name": "greet"}}}]},
    {"events": [{"event": "action", "name": "action_listen"}, {"event": "bot", "text": "Hi"}]},
    {"events": [{"event": "entities", "entities": [{"entity": "service", "value": "pass"}]}]},
    {"events": [{"event": "slot", "name": "a", "value": 1}], "extra": 1},
]


@pytest.mark.parametrize("result", [VALID, {}, {"events": [], "responses": []}, *PLAIN,
                                    *INVALID, *OTHER_VALID])
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


@pytest.mark.parametrize("result", [VALID, {}, *PLAIN])
def test_our_action_results_skip_jsonschema(result: dict[str, Any]) -> None:
    from bot.rasa_speedups import plainly_valid_action_result

    assert plainly_valid_action_result(result)


def _predictions_after_load(model: Path, loader: str) -> dict[str, Any]:
    """tests/rasa/predict_after_load.py in a process of its own."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tests.rasa.predict_after_load", str(model), loader],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("PREDICTIONS ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("PREDICTIONS "))


@pytest.mark.slow
def test_fast_load_predicts_like_rasas_loader(trained_model: Path) -> None:
    """DIET and TED built by a prediction and restored without the optimizer predict exactly
    what Rasa's loader (one traced training step, then the weights) gives."""
    fast = _predictions_after_load(trained_model, "fast")
    reference = _predictions_after_load(trained_model, "rasa")
    assert fast["fast_loads"] == 2, "DIET and TED were not both loaded the fast way"
    assert reference["fast_loads"] == 0

    for got, want in zip(fast["nlu"], reference["nlu"], strict=True):
        assert got["entities"] == want["entities"], got["text"]
        assert [n for n, _ in got["ranking"]] == [n for n, _ in want["ranking"]], got["text"]
        for (_, p), (_, q) in zip(got["ranking"], want["ranking"], strict=True):
            assert p == pytest.approx(q, abs=1e-6), got["text"]
    assert len(fast["ted"]) > 300
    for got_p, want_p in zip(fast["ted"], reference["ted"], strict=True):
        assert got_p == pytest.approx(want_p, abs=1e-6)


def test_a_restore_that_misses_a_value_is_refused(tmp_path: Path) -> None:
    """values_not_restored names a checkpoint value no variable took and a variable without a
    value, but not the optimizer's state, so the fast load falls back instead of serving
    random weights."""
    import numpy as np
    import tensorflow as tf

    from bot.rasa_speedups import values_not_restored

    class Net(tf.keras.Model):
        def __init__(self, layers: int) -> None:
            super().__init__()
            self.hidden = [tf.keras.layers.Dense(3, name=f"d{i}") for i in range(layers)]

        def call(self, x: Any) -> Any:
            for layer in self.hidden:
                x = layer(x)
            return x

    x = np.ones((4, 3), dtype="float32")
    trained = Net(2)
    trained.compile(optimizer="adam", loss="mse")
    trained.fit(x, x, verbose=0)  # the checkpoint holds the optimizer's state too
    path = str(tmp_path / "weights")
    trained.save_weights(path)

    def restore(net: Any) -> list[str]:
        status = net.load_weights(path)
        net(x)
        return values_not_restored(status)

    same = Net(2)
    assert restore(same) == []
    np.testing.assert_array_equal(same(x).numpy(), trained(x).numpy())
    fewer = restore(Net(1))
    assert fewer and all("hidden/1" in key for key in fewer), fewer
    assert restore(Net(3))  # a variable with no value in the checkpoint


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]


def test_graphs_run_like_dask() -> None:
    """run_graph_sequentially computes what dask.get computes, calls each task once and
    raises a task's own exception."""
    import dask

    from bot.rasa_speedups import run_graph_sequentially

    calls: list[str] = []

    def node(name: str) -> Any:
        def run(*inputs: Any) -> tuple[str, Any]:
            calls.append(name)
            return name, inputs
        return run

    unhashable = _Unhashable()
    graph = {"__message__": ("__message__", "Hallo"), "__tracker__": ("__tracker__", unhashable),
             "a": (node("a"), "__message__"), "b": (node("b"), "a", "missing", ["a", 3]),
             "c": (node("c"), "b", "__tracker__", (node("inner"), "a")), "d": (node("d"),)}
    want = dask.get(graph, ["c", "d"])
    want_calls, calls[:] = list(calls), []
    got = run_graph_sequentially(graph, ["c", "d"])
    assert list(got) == list(want) and sorted(calls) == sorted(want_calls)

    def fail(*inputs: Any) -> None:
        raise ValueError("kaputt")

    with pytest.raises(ValueError, match="kaputt"):
        run_graph_sequentially({**graph, "e": (fail, "a")}, ["e"])


def _story_trackers(agent: Any) -> list[Any]:
    """Every point in the test stories where the policies predict an action."""
    from rasa.core.test import _create_data_generator
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    stories = _create_data_generator(str(REPO / "tests" / "test_stories.yml"), agent, None,
                                     True).generate_story_trackers()
    out = []
    for story in stories:
        events = list(story.events)
        out += [DialogueStateTracker.from_events(story.sender_id, events[:i], agent.domain.slots)
                for i, event in enumerate(events) if i and isinstance(event, ActionExecuted)]
    return out


def _random_trackers(domain: Any, count: int) -> list[Any]:
    """Conversations no rule or story covers (random intents and actions, some with a
    rejected action last), so that TED has to run and the fallbacks apply."""
    import random

    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    rng = random.Random(7)
    actions = [a for a in domain.action_names_or_texts
               if a != "action_listen" and not a.startswith("action_default")]
    trackers = []
    for n in range(count):
        events: list[Any] = [ActionExecuted("action_listen")]
        for _ in range(rng.randint(1, 4)):
            events.append(UserUttered("x", {"name": rng.choice(domain.intents),
                                            "confidence": 1.0}))
            events += [ActionExecuted(rng.choice(actions)) for _ in range(rng.randint(0, 2))]
            if rng.random() < 0.8:
                events.append(ActionExecuted("action_listen"))
        if rng.random() < 0.15:
            events.append(ActionExecutionRejected(rng.choice(actions)))
        trackers.append(DialogueStateTracker.from_events(f"random-{n}", events, domain.slots))
    return trackers


def _prediction(agent: Any, tracker: Any) -> tuple[Any, ...]:
    p = agent.processor._predict_next_with_tracker(tracker)
    events = [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in p.events]
    return (p.probabilities, p.policy_name, p.policy_priority, events,
            p.is_end_to_end_prediction, p.is_no_user_prediction, p.hide_rule_turn,
            p.action_metadata, sorted(p.diagnostic_data))


@pytest.mark.slow
def test_gated_ted_and_direct_calls_predict_like_rasa(trained_model: Path) -> None:
    """The same next-action prediction (probabilities, policy, events) as Rasa's own graph,
    with TED skipped when it could not be chosen, and the traced prediction functions called
    directly; the NLU's intents, confidences and entities are identical, not just close."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.utils.tensorflow.models import RasaModel

    from bot import rasa_speedups

    rasa_speedups.install()
    agent = Agent.load(str(trained_model))
    trackers = _story_trackers(agent) + _random_trackers(agent.domain, 120)
    rows = (REPO / "tests" / "data" / "musterstadt_questions.jsonl").read_text("utf-8")
    texts = [json.loads(line)["question"] for line in rows.splitlines() if line.strip()][:30]
    texts += ["Hallo", "Danke, tschüss", "Was kostet das?", "qwertz uiop", "Ja"]

    from rasa.core.policies.ted_policy import TEDPolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()  # type: ignore[union-attr]
    ted = next(n._component for n in nodes if type(n._component) is TEDPolicy)

    def run_all() -> tuple[list[Any], list[Any], list[Any]]:
        parsed = [asyncio.run(agent.parse_message(text)) for text in texts]
        return ([_prediction(agent, tracker) for tracker in trackers],
                [(p["intent_ranking"], p["entities"]) for p in parsed],
                # TED itself, whether chosen or not
                [ted.predict_action_probabilities(t, agent.domain).probabilities
                 for t in trackers[::4]])

    skips, runs, direct = (rasa_speedups.ted_skips, rasa_speedups.ted_runs,
                           rasa_speedups.direct_predict_calls)
    fast = run_all()
    assert rasa_speedups.ted_skips > skips and rasa_speedups.ted_runs > runs
    # every DIET and TED prediction called its traced function directly
    assert (rasa_speedups.direct_predict_calls - direct
            == len(texts) + rasa_speedups.ted_runs - runs + len(trackers[::4]))
    assert agent.processor.graph_runner.__dict__.get("_bot_predicts") is True  # type: ignore[union-attr]

    gated, direct_call = DaskGraphRunner._build_dask_graph, RasaModel._rasa_predict
    sequential = DaskGraphRunner.run
    DaskGraphRunner._build_dask_graph = rasa_speedups.original_build_dask_graph  # type: ignore[method-assign]
    DaskGraphRunner.run = rasa_speedups.original_graph_run  # type: ignore[method-assign]
    RasaModel._rasa_predict = rasa_speedups.original_rasa_predict  # type: ignore[method-assign]
    try:
        reference = run_all()
    finally:
        DaskGraphRunner._build_dask_graph = gated  # type: ignore[method-assign]
        DaskGraphRunner.run = sequential  # type: ignore[method-assign]
        RasaModel._rasa_predict = direct_call  # type: ignore[method-assign]
    assert len({p[1] for p in reference[0]}) > 1  # more than one policy was chosen
    for tracker, got, want in zip(trackers, fast[0], reference[0], strict=True):
        assert got == want, tracker.sender_id
    assert fast[1] == reference[1]
    assert fast[2] == reference[2]


async def test_action_calls_keep_the_connection_and_send_the_same_request() -> None:
    """Calls to the action server reuse one connection (per endpoint and loop) yet send what
    Rasa's fresh session per call sends — headers, authentication, no cookies — and get the
    same events; a connection the server closed is not reused."""
    from aiohttp import web
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot import rasa_speedups

    rasa_speedups.install()
    patched_session = EndpointConfig.session
    seen: list[tuple[Any, dict[str, str]]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        assert request.transport is not None
        seen.append((request.transport.get_extra_info("peername"),
                     {k: v for k, v in request.headers.items()
                      if k not in ("Content-Length", "Connection")}))
        response = web.json_response({"events": [
            {"event": "slot", "name": "service_id", "value": body["next_action"]}],
            "responses": [{"text": "Hallo"}]})
        response.set_cookie("session", "x")
        return response

    port = free_port()

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        return runner

    runner = await serve()
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-City": "muster"},
                              basic_auth={"username": "rasa", "password": "geheim"})
    domain = Domain.empty()

    async def call() -> list[Any]:
        action = RemoteAction("action_answer_service", endpoint)
        return await action.run(CollectingOutputChannel(),
                                TemplatedNaturalLanguageGenerator(domain.responses),
                                DialogueStateTracker("citizen-1", []), domain)

    try:
        kept = await call(), await call()
        EndpointConfig.session = rasa_speedups.original_endpoint_session  # type: ignore[method-assign]
        try:
            fresh = await call()
        finally:
            EndpointConfig.session = patched_session  # type: ignore[method-assign]
        await runner.cleanup()  # the server closes every connection and starts again
        runner = await serve()
        again = await call()
    finally:
        await runner.cleanup()
    assert kept[0] == kept[1] == fresh == again
    (first, headers), (second, _), (third, fresh_headers), (fourth, again_headers) = seen
    assert first == second  # one connection for both calls
    assert third != first and fourth != first
    assert headers == fresh_headers == again_headers  # no cookie sent back, same auth
    assert "Cookie" not in headers and headers["X-City"] == "muster"
    assert headers["Authorization"].startswith("Basic ")


def _sql_store(domain: Any, where: str) -> Any:
    """Rasa's SQL tracker store on a SQLite file or a (real) PostgreSQL database URL."""
    from urllib.parse import urlsplit

    from rasa.core.tracker_store import SQLTrackerStore

    if not where.startswith("postgresql://"):
        return SQLTrackerStore(domain, dialect="sqlite", db=where)
    url = urlsplit(where)
    return SQLTrackerStore(domain, dialect="postgresql", host=url.hostname, port=url.port,
                           db=url.path[1:], username=url.username)


async def _sql_conversation(where: str, patched: bool) -> tuple[list[tuple[str, str]], Any]:
    """Three messages of one conversation through Rasa's SQL tracker store, the way Rasa's
    processor uses it (get_or_create_tracker, append events, save), one of them starting a new
    session. Returns the stored rows (type, data without timestamps) and the trackers read back
    (latest session, all sessions) as event dicts."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    from bot import rasa_speedups

    domain = Domain.from_yaml("version: '3.1'\nintents: [greet]\nslots:\n  service:\n"
                              "    type: text\n    mappings: [{type: custom}]\n")
    methods = {name: getattr(SQLTrackerStore, name)
               for name in ("_retrieve", "save", "_additional_events")}
    if not patched:
        for name, original in zip(methods, rasa_speedups.original_sql_store, strict=True):
            setattr(SQLTrackerStore, name, original)
    store = _sql_store(domain, where)
    try:
        tracker = await store.get_or_create_tracker("citizen-1")
        for n, text in enumerate(["Hallo", "Reisepass?", "Und was kostet der?"]):
            tracker = await store.get_or_create_tracker("citizen-1")
            t = 2.0e9 + 100 * n
            if n == 2:  # a new session begins within this message
                tracker.update(ActionExecuted("action_session_start", timestamp=t))
                tracker.update(SessionStarted(timestamp=t + 1))
                tracker.update(ActionExecuted("action_listen", timestamp=t + 2))
            tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0},
                                       timestamp=t + 3))
            tracker.update(SlotSet("service", f"s{n}", timestamp=t + 4))
            tracker.update(BotUttered(f"Antwort {n}", timestamp=t + 5))
            tracker.update(ActionExecuted("action_listen", timestamp=t + 6))
            await store.save(tracker)
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT type_name, intent_name, action_name, timestamp, data FROM events "
                "ORDER BY id")).all()
        latest = await store.retrieve("citizen-1")
        full = await store.retrieve_full_tracker("citizen-1")
        read_back = ([_untimed(e.as_dict()) for e in latest.events],
                     [_untimed(e.as_dict()) for e in full.events], latest.current_slot_values())
    finally:
        for name, method in methods.items():
            setattr(SQLTrackerStore, name, method)
        store.engine.dispose()
    assert all(stamp == json.loads(data)["timestamp"] for *_, stamp, data in rows)
    stored = [(kind, intent, action, json.dumps(_untimed(json.loads(data)), sort_keys=True))
              for kind, intent, action, _, data in rows]
    return stored, read_back


def _untimed(event: dict[str, Any]) -> dict[str, Any]:
    """An event without its timestamp (the first action_listen is stamped with the clock)."""
    return {k: v for k, v in event.items() if k != "timestamp"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_sql_tracker_store_stores_and_reads_what_rasa_does(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """The SQL tracker store (rows read and written in bulk, no count before a save) stores the
    same rows as Rasa's own count-then-insert and reads back the same trackers, also across a
    new session, on SQLite and on a real PostgreSQL; it skips the count for trackers it
    retrieved or saved."""
    from bot import rasa_speedups

    if backend == "sqlite":
        fast_db, rasa_db = str(tmp_path / "fast.db"), str(tmp_path / "rasa.db")
    else:
        cluster = request.getfixturevalue("pg_cluster")
        fast_db, rasa_db = cluster.create_database(), cluster.create_database()
    rasa_speedups.install()
    before = rasa_speedups.sql_saves_without_count
    raw_before = rasa_speedups.sql_raw_reads, rasa_speedups.sql_raw_writes
    fast, fast_read = await _sql_conversation(fast_db, patched=True)
    # the new tracker (its retrieval found nothing) and the three messages: no count query
    assert rasa_speedups.sql_saves_without_count - before == 4
    raw = (rasa_speedups.sql_raw_reads - raw_before[0],
           rasa_speedups.sql_raw_writes - raw_before[1])
    # On PostgreSQL every read (4 + the two read-backs) and save (the new tracker's first
    # action_listen + 3 messages) went through the compiled statements; SQLite keeps Rasa's
    # session path.
    assert raw == ((6, 4) if backend == "postgresql" else (0, 0))
    reference, reference_read = await _sql_conversation(rasa_db, patched=False)
    assert rasa_speedups.sql_saves_without_count - before == 4
    assert fast == reference
    assert fast_read == reference_read
    # the first action_listen, 4 events per message and 3 for the new session: none twice
    assert len(fast) == 1 + 3 * 4 + 3
    latest, full, slots = fast_read
    assert len(full) == len(fast)
    assert [e["event"] for e in latest][:2] == ["session_started", "action"]  # the new session
    assert len(latest) == 2 + 4
    assert slots["service"] == "s2"


async def test_sql_tracker_store_fails_one_read_after_postgresql_dropped_its_connections(
        pg_cluster: Any) -> None:
    """After PostgreSQL dropped every connection (as in a restart), the next read through the
    raw statements fails with the error class of Rasa's own path and the one after works,
    however many dead connections the pool held: the pool is replaced, not drained one turn
    at a time."""
    from urllib.parse import urlsplit

    import psycopg2
    import sqlalchemy as sa
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    from bot import rasa_speedups

    rasa_speedups.install()
    where = pg_cluster.create_database()
    domain = Domain.from_yaml("version: '3.1'\nintents: [greet]\n")
    store = _sql_store(domain, where)
    try:
        tracker = await store.get_or_create_tracker("citizen-1")
        tracker.update(UserUttered("Hallo", {"name": "greet", "confidence": 1.0}))
        await store.save(tracker)
        held = [store.engine.raw_connection() for _ in range(3)]  # three pooled connections
        for conn in held:
            conn.close()
        admin = psycopg2.connect(host="127.0.0.1", port=pg_cluster.port, user=pg_cluster.user,
                                 dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s", (urlsplit(where).path[1:],))
            assert cursor.rowcount == 3
        admin.close()
        reads = rasa_speedups.sql_raw_reads
        with pytest.raises(sa.exc.OperationalError):
            await store.retrieve("citizen-1")
        tracker = await store.retrieve("citizen-1")
        assert rasa_speedups.sql_raw_reads - reads == 2
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["Hallo"]
    finally:
        store.engine.dispose()
