"""bot/rasa_tracker_store.py against real components: Rasa 3.6's own tracker stores in this
process with :func:`install` applied (as ``bot.rasa_run`` applies it), and a real Rasa server
(``python -m bot.rasa_run run`` with the trained model, and the gateway in front of it) whose SQL
tracker store is a real PostgreSQL (tests/handoff/pg.py) that the tests kill and start again,
or make refuse a save half-way through with a trigger. One Rasa server and one PostgreSQL of its
own for the module; the action server is a closed port (no turn here needs one). What a turn
stored is read from PostgreSQL itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests

from bot.settings import Settings
from bot.supervisor import write_rasa_endpoints
from tests.conftest import free_port
from tests.handoff.pg import PgCluster, killable_cluster
from tests.rasa.server import gateway_in_front, running_rasa

pytestmark = [
    pytest.mark.slow,
    # Rasa, TensorFlow and their dependencies warn on import.
    pytest.mark.filterwarnings("ignore"),
]

GREETING = "Guten Tag! Ich bin der digitale Assistent der Stadtverwaltung."
# A citizen's words with a name in them: they must not reach Rasa's log when the turn fails.
PRIVATE = "Guten Tag, hier ist Erika Mustermann"
FAILURE = "rest.message.received.failure"  # bot/rasa_channel.py's log event
RASA_FALLBACK = "Error happened when trying to"  # FailSafeTrackerStore's own log line


@dataclass
class Rasa:
    url: str
    log: Path
    database: str  # the tracker store's database (SQLAlchemy URL, also a libpq URI)

    def say(self, sender: str, text: str) -> requests.Response:
        return requests.post(f"{self.url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": text}, timeout=60)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    """A PostgreSQL of this module's own: it gets killed, so it cannot be the shared one."""
    with killable_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_up(pg: PgCluster) -> Iterator[PgCluster]:
    """The module's PostgreSQL, running at the start and at the end of the test."""
    if not _accepts(pg):
        pg.start_again()
    yield pg
    if not _accepts(pg):
        pg.start_again()


@pytest.fixture(scope="module")
def rasa(trained_model: Path, pg: PgCluster,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rasa]:
    state = tmp_path_factory.mktemp("rasa-tracker-store")
    database = pg.create_database()
    settings = Settings.load(env={}, state_dir=state, host="127.0.0.1", rasa_port=free_port(),
                             action_port=free_port(), tracker_store_url=database)
    log = state / "rasa.log"
    with running_rasa(settings, trained_model, log):
        yield Rasa(settings.rasa_url, log, database)


@pytest.fixture
def installed() -> Iterator[None]:
    """bot.rasa_tracker_store installed in this process (as bot.rasa_run does in Rasa's), and
    Rasa's own code back afterwards."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore

    from bot import rasa_tracker_store

    rasa_tracker_store.install()
    try:
        yield
    finally:
        Agent._create_tracker_store = staticmethod(  # type: ignore[method-assign]
            rasa_tracker_store.original_create_tracker_store)
        SQLTrackerStore.__init__ = rasa_tracker_store.original_sql_init  # type: ignore[method-assign]
        rasa_tracker_store._installed = False


# The two tests in this process come first: they kill PostgreSQL while the module's Rasa would
# sit idle, and a Rasa whose pooled connections predate a restart fails its next turn once (503,
# after which SQLAlchemy discards the pool) — the Rasa tests below would start with that.


async def test_an_agents_tracker_store_raises_instead_of_falling_back(
        pg_up: PgCluster, installed: None, tmp_path: Path) -> None:
    import sqlalchemy.exc
    from rasa.core.agent import Agent
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = Agent(tracker_store=_sql_tracker_store(pg_up.create_database(), tmp_path))
    tracker = DialogueStateTracker.from_events("u1", [UserUttered("Reisepass")])
    await agent.tracker_store.save(tracker)

    pg_up.kill(backends=True)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await agent.tracker_store.retrieve("u1")
    tracker.update(UserUttered("Personalausweis"))  # something to write
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await agent.tracker_store.save(tracker)
    assert agent.tracker_store._fallback_tracker_store is None  # nothing kept in memory

    # buergerbot run (no tracker_store_url): Rasa's in-memory store, as before
    in_memory = Agent().tracker_store
    await in_memory.save(tracker)
    kept = await in_memory.retrieve("u1")
    assert kept is not None and kept.latest_message.text == "Personalausweis"


def test_the_sql_tracker_store_waits_at_start_for_its_database(
        pg_up: PgCluster, installed: None, tmp_path: Path) -> None:
    from bot.rasa_tracker_store import START_RETRY_SECONDS

    database = pg_up.create_database()  # new: its events table does not exist yet
    pg_up.kill(backends=True)
    created: list[object] = []
    starting = threading.Thread(
        target=lambda: created.append(_sql_tracker_store(database, tmp_path)), daemon=True)
    starting.start()
    time.sleep(2 * START_RETRY_SECONDS)
    assert starting.is_alive()  # Rasa's own store gave up at once and came up without a table

    pg_up.start_again()
    starting.join(30)
    assert created and not starting.is_alive()
    assert _sql(database, "SELECT count(*) FROM events") == [(0,)]


def test_a_turn_while_postgresql_is_down_answers_503_and_its_retry_is_stored_once(
        rasa: Rasa, pg_up: PgCluster) -> None:
    [hello] = rasa.say("k1", "Guten Tag").json()
    assert hello["text"].startswith(GREETING)

    pg_up.kill(backends=True)  # the whole server at once, as in a crash
    failures = rasa.log_text().count(FAILURE)
    failed = rasa.say("k1", PRIVATE)
    assert failed.status_code == 503  # Rasa's fallback answered 200, as a new conversation
    assert failed.json() == {"error": "turn-failed", "detail": "OperationalError"}
    log = rasa.log_text()
    assert log.count(FAILURE) == failures + 1 and RASA_FALLBACK not in log
    assert "Mustermann" not in log

    pg_up.start_again()
    answer = rasa.say("k1", PRIVATE)  # the client's retry of the same message
    assert answer.status_code == 200
    assert [bool(m.get("text")) for m in answer.json()] == [True]
    assert _user_texts(rasa, "k1") == ["Guten Tag", PRIVATE]
    _say_without_failure(rasa, "k1-control")
    assert _stored(rasa, "k1") == _stored(rasa, "k1-control")  # every event exactly once


def test_a_save_refused_half_way_stores_nothing_and_its_retry_is_stored_once(
        rasa: Rasa, pg_up: PgCluster) -> None:
    [hello] = rasa.say("s1", "Guten Tag").json()
    assert hello["text"].startswith(GREETING)
    before = _stored(rasa, "s1")

    # The turn runs (NLU, policies, the bot's answer); its one INSERT of all its events then
    # fails at the bot's row, after the citizen's row was written in the same statement. The
    # error quotes the row, as a database error may.
    _sql(rasa, """
        CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused: %', NEW.data; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW
            WHEN (NEW.sender_id = 's1' AND NEW.type_name = 'bot') EXECUTE FUNCTION refuse_row();
    """)
    try:
        failures = rasa.log_text().count(FAILURE)
        failed = rasa.say("s1", PRIVATE)
        assert failed.status_code == 503  # Rasa's fallback kept the events in its memory: 200
        assert failed.json() == {"error": "turn-failed", "detail": "InternalError"}
        log = rasa.log_text()
        assert log.count(FAILURE) == failures + 1 and RASA_FALLBACK not in log
        assert "Mustermann" not in log
        assert _stored(rasa, "s1") == before  # not the citizen's row either
    finally:
        _sql(rasa, "DROP TRIGGER refuse ON events; DROP FUNCTION refuse_row();")

    answer = rasa.say("s1", PRIVATE)  # the client's retry
    assert answer.status_code == 200
    assert [bool(m.get("text")) for m in answer.json()] == [True]
    assert _user_texts(rasa, "s1") == ["Guten Tag", PRIVATE]
    _say_without_failure(rasa, "s1-control")
    assert _stored(rasa, "s1") == _stored(rasa, "s1-control")


async def test_the_chat_api_reports_the_failed_turn_and_its_retry_is_stored_once(
        rasa: Rasa, pg_up: PgCluster, aiohttp_client: Any, aiohttp_server: Any,
        tmp_path: Path) -> None:
    gateway = await gateway_in_front(rasa.url, aiohttp_client, aiohttp_server, tmp_path)
    body = {"conversation_id": "gw1", "text": "Guten Tag", "message_id": "m1"}

    await asyncio.to_thread(pg_up.kill, backends=True)
    resp = await gateway.post("/api/v1/chat", json=body)
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "dialogue-unavailable"

    await asyncio.to_thread(pg_up.start_again)
    resp = await gateway.post("/api/v1/chat", json=body)  # the client's retry
    assert resp.status == 200
    [hello] = (await resp.json())["messages"]
    assert hello["text"].startswith(GREETING)
    assert await asyncio.to_thread(_user_texts, rasa, "gw1") == ["Guten Tag"]




def _accepts(pg: PgCluster) -> bool:
    try:
        psycopg2.connect(host="127.0.0.1", port=pg.port, user=pg.user, dbname="postgres",
                         connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def _sql(target: Rasa | str, statement: str) -> list[tuple[object, ...]] | None:
    url = target.database if isinstance(target, Rasa) else target
    with contextlib.closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(statement)
        return cur.fetchall() if cur.description else None


def _stored(rasa: Rasa, sender: str) -> list[tuple[object, ...]]:
    """The conversation's events in PostgreSQL, in order: type, intent, action and (for the
    citizen's events) text. The bot's texts are left out: a response may have variants."""
    with contextlib.closing(psycopg2.connect(rasa.database)) as conn, conn.cursor() as cur:
        cur.execute("SELECT type_name, intent_name, action_name, data FROM events "
                    "WHERE sender_id = %s ORDER BY id", (sender,))
        return [(kind, intent, action, json.loads(data).get("text") if kind == "user" else None)
                for kind, intent, action, data in cur.fetchall()]


def _user_texts(rasa: Rasa, sender: str) -> list[object]:
    return [text for kind, _, _, text in _stored(rasa, sender) if kind == "user"]


def _say_without_failure(rasa: Rasa, sender: str) -> None:
    """The same two turns in a conversation that never failed: what should be stored."""
    for text in ("Guten Tag", PRIVATE):
        assert rasa.say(sender, text).status_code == 200


def _sql_tracker_store(database: str, state: Path) -> object:
    """Rasa's SQL tracker store from the endpoints.yml we generate for ``database``."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    settings = Settings.load(env={}, state_dir=state, tracker_store_url=database)
    write_rasa_endpoints(settings)
    return TrackerStore.create(
        read_endpoint_config(str(settings.run_dir / "endpoints.yml"), "tracker_store"))
