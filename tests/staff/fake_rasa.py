"""A stand-in for Rasa's REST channel and the action server's /health, on one real HTTP port
(the transport seam of the gateway). It answers like the bot: a handoff for "Mensch"/"Person",
a low-confidence handoff for "Hundesteuer-Rabatt", otherwise a plain answer; and it records
what it was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.messages import BotMessage, HandoffRequest
from tests.rasa_stand_in import rasa_stand_in

SENT = web.AppKey("sent", list)


@dataclass
class Recorder:
    sent: list[tuple[str, str]] = field(default_factory=list)


def reply_for(text: str) -> list[dict[str, Any]]:
    lower = text.lower()
    if "mensch" in lower or "person" in lower:
        request = HandoffRequest("explicit_request", "Anlass: Wunsch nach persönlicher Beratung.",
                                 ("anmeldung",), "documents")
        return [{"custom": BotMessage("Ich verbinde Sie mit dem Service-Team.",
                                      handoff=request).to_wire()}]
    if "rabatt" in lower:
        request = HandoffRequest("low_confidence", "Anlass: Keine passende Antwort.")
        return [{"custom": BotMessage("Dazu finde ich nichts. Ich verbinde Sie.",
                                      handoff=request).to_wire()}]
    return [{"text": f"Der Assistent antwortet: {text}"}]


async def _webhook(request: web.Request) -> web.Response:
    body = await request.json()
    request.app[SENT].append((body["sender"], body["message"]))
    return web.json_response(reply_for(body["message"]))


def fake_rasa_app() -> web.Application:
    app = web.Application()
    app[SENT] = []
    return rasa_stand_in(_webhook, app)
