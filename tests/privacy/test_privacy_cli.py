"""``buergerbot privacy export|delete|purge`` run as a real process against a real store (SQLite
in a state directory, or PostgreSQL by URL) and Rasa's real SQL tracker store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.feedback import FeedbackStore, Rating
from bot.handoff.state import HandoffStatus
from bot.store import Store
from tests.handoff.fixtures import AGENT_A, FakeClock, make_service
from tests.privacy.rasa_tracker import save_events

OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)


@dataclass
class Target:
    store: Store
    env: dict[str, str]
    cwd: Path
    tracker_url: str


@pytest.fixture
async def target(db_url: str, tmp_path: Path) -> AsyncIterator[Target]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUERGERBOT_")}
    state = tmp_path / "state"
    state.mkdir()
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{state / 'buergerbot.db'}"
        tracker = f"sqlite:///{tmp_path / 'rasa.db'}"
    else:
        url = tracker = db_url
        env["BUERGERBOT_DATABASE_URL"] = db_url
    env["BUERGERBOT_STATE_DIR"] = str(state)
    env["BUERGERBOT_TRACKER_STORE_URL"] = tracker
    store = await Store.open(url)
    yield Target(store, env, tmp_path, tracker)
    await store.close()


async def cli(target: Target, *args: str, stdin: str = "",
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "privacy", *args],
        env=env or target.env, cwd=target.cwd, input=stdin, capture_output=True, text=True,
        timeout=120, check=False)


async def _conversation(target: Target, cid: str, *, ticket: bool = False) -> None:
    store = target.store
    await store.append(cid, [("citizen", "Ich heiße Anna Schmidt, 0170 1234567", {}),
                             ("bot", "Guten Tag!", {})])
    await (await FeedbackStore.open(store)).rate(cid, 2, Rating.DOWN)
    service = make_service(store, clock=FakeClock())
    await store.set_handoff(cid, HandoffStatus.QUEUED, {"reason": "complaint"})
    await service.claim(cid, AGENT_A)
    if ticket:
        await service.close(cid, AGENT_A, "callback_needed",
                            callback={"name": "Anna Schmidt", "phone": "0170 1234567"})
    else:
        await service.close(cid, AGENT_A, "resolved")
    await save_events(target.tracker_url, {cid: dt.datetime.now(dt.UTC).timestamp()})


async def _exists(store: Store, cid: str) -> bool:
    async with store.engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT COUNT(*) FROM conversations WHERE id = :c"),
                                   {"c": cid})).scalar() == 1


async def test_export_writes_everything_about_the_conversation(target: Target) -> None:
    await _conversation(target, "conv-1", ticket=True)
    out = target.cwd / "auskunft.json"
    result = await cli(target, "export", "conv-1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Fertig" in result.stderr and "Nachrichten" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["conversation"]["id"] == "conv-1"
    assert [m["text"] for m in data["messages"]][:2] == ["Ich heiße Anna Schmidt, 0170 1234567",
                                                        "Guten Tag!"]
    assert data["feedback"][0]["rating"] == "down"
    assert data["handoffs"][0]["reason"] == "complaint"
    assert data["tickets"][0]["name"] == "Anna Schmidt"
    assert {e["action"] for e in data["handoff_audit"]} >= {"claimed", "closed"}
    assert {e["event"] for e in data["tracker_events"]} == {"user", "bot"}
    assert data["messages"][0]["created_at"].endswith("+00:00")

    to_stdout = await cli(target, "export", "conv-1")
    assert to_stdout.returncode == 0
    assert json.loads(to_stdout.stdout)["conversation"]["id"] == "conv-1"


async def test_export_of_an_unknown_or_invalid_id_is_a_clear_error(target: Target) -> None:
    await _conversation(target, "conv-1")
    out = target.cwd / "nichts.json"
    result = await cli(target, "export", "gibtsnicht", "--out", str(out))
    assert result.returncode == 1
    assert "Fehler: Ein Gespräch mit der ID »gibtsnicht« gibt es nicht" in result.stderr
    assert not out.exists() and result.stdout == ""
    result = await cli(target, "export", "../etc/passwd")
    assert result.returncode == 1 and "keine gültige Gesprächs-ID" in result.stderr


async def test_delete_asks_first_and_then_removes_every_trace(target: Target) -> None:
    await _conversation(target, "conv-1", ticket=True)
    await _conversation(target, "conv-2")
    refused = await cli(target, "delete", "conv-1", stdin="n\n")
    assert refused.returncode == 1 and "Abgebrochen" in refused.stderr
    assert "Nachrichten" in refused.stderr  # it said what would go
    assert await _exists(target.store, "conv-1")

    confirmed = await cli(target, "delete", "conv-1", stdin="j\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Gespräch conv-1 gelöscht" in confirmed.stderr
    assert "Rasa-Ereignisse: 2" in confirmed.stderr
    assert not await _exists(target.store, "conv-1")
    async with target.store.engine.connect() as conn:
        for table in ("messages", "feedback", "handoffs", "tickets", "handoff_audit"):
            left = (await conn.execute(sa.text(
                f"SELECT COUNT(*) FROM {table} WHERE conversation_id = 'conv-1'"))).scalar()
            assert left == 0, table
    assert await _exists(target.store, "conv-2")  # the other one is untouched

    again = await cli(target, "delete", "conv-1", "--yes")
    assert again.returncode == 1 and "gibt es nicht" in again.stderr
    assert (await cli(target, "delete", "conv-2", "--yes")).returncode == 0


async def test_purge_dry_run_counts_and_purge_deletes(target: Target) -> None:
    await _conversation(target, "old")
    await _conversation(target, "new")
    async with target.store.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE conversations SET updated_at = :t WHERE id = 'old'"),
                           {"t": OLD.replace(tzinfo=None)})
    await save_events(target.tracker_url, {"gone-long-ago": OLD.timestamp()})

    dry = await cli(target, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert report["counts"]["conversations"] == 1
    assert report["counts"]["tracker_events"] == 4  # old's two, and the ghost's two
    assert "Würde löschen" in dry.stderr and "30 Tage" in dry.stderr
    assert await _exists(target.store, "old")

    real = await cli(target, "purge")
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)["counts"] == report["counts"]
    assert not await _exists(target.store, "old") and await _exists(target.store, "new")
    assert json.loads((await cli(target, "purge")).stdout)["counts"] == {}


async def test_a_missing_database_is_not_created(target: Target, tmp_path: Path) -> None:
    if "BUERGERBOT_DATABASE_URL" in target.env:
        pytest.skip("only the SQLite default lives in the state directory")
    env = dict(target.env, BUERGERBOT_STATE_DIR=str(tmp_path / "leer"))
    result = await cli(target, "purge", env=env)
    assert result.returncode == 1 and "Keine Datenbank" in result.stderr
    assert not (tmp_path / "leer").exists()
