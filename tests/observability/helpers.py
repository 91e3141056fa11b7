"""Shared by the observability tests: a real gateway in front of a Rasa stand-in, and /metrics
parsed with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.messages import BotMessage, Button, HandoffRequest, Source
from bot.settings import Settings
from tests.rasa_stand_in import rasa_stand_in as serve_webhook

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def reply_for(text: str) -> list[dict[str, Any]]:
    """Rasa's REST answer by keyword: an answer with sources, a clarify question, an abstain
    with the offer of a person, a handoff, or a greeting."""
    lower = text.lower()
    if "mensch" in lower:
        request = HandoffRequest("explicit_request", "Wunsch nach persönlicher Beratung.")
        return [{"custom": BotMessage("Ich verbinde Sie.", handoff=request).to_wire()}]
    if "ausweis" in lower:
        message = BotMessage("Einen Personalausweis beantragen Sie im Bürgerbüro.",
                             sources=(Source("pa", "Personalausweis"),))
        return [{"custom": message.to_wire()}]
    if "pass" in lower:
        buttons = (Button("Reisepass", '/choose_service{"service_id": "rp"}'),
                   Button("Kinderreisepass", '/choose_service{"service_id": "krp"}'))
        return [{"custom": BotMessage("Welche Leistung meinen Sie?", buttons=buttons).to_wire()}]
    if "drachen" in lower:
        buttons = (Button("Ja", "/affirm"), Button("Nein", "/deny"))
        return [{"custom": BotMessage("Dazu finde ich nichts. Soll ich Sie verbinden?",
                                      buttons=buttons).to_wire()}]
    return [{"text": "Guten Tag! Wie kann ich helfen?"}]


def rasa_stand_in() -> web.Application:
    """Rasa's REST webhook plus ``/`` and the action server's ``/health`` on one port."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(reply_for(body["message"]))

    return serve_webhook(webhook)


def gateway_settings(tmp_path: Path, rasa_port: int, **changes: Any) -> Settings:
    return Settings.load(env={}, state_dir=tmp_path, rasa_port=rasa_port, action_port=rasa_port,
                         rasa_timeout=3.0, **changes)


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


async def scrape(client: TestClient, **kwargs: Any) -> Samples:
    resp = await client.get("/metrics", **kwargs)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(await resp.text())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every series of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)
