"""HTTP handlers of the public chat API (``/api/v1``) and ``/health``. Handlers only validate
and delegate; the chat logic lives in :mod:`bot.gateway.chat`."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

from bot.gateway import keys
from bot.gateway.chat import MessageIdReused, TurnInProgress, handoff_view
from bot.gateway.dialogue import DialogueUnavailable
from bot.gateway.errors import ApiError, storage_unavailable
from bot.store import STORE_UNAVAILABLE
from bot.supervisor import read_status

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MESSAGE_ID = CONVERSATION_ID  # the client's own id of a message (idempotent retries)
MAX_TEXT = 2000
MAX_BODY = 16 * 1024

routes = web.RouteTableDef()


def _conversation_id(value: Any) -> str:
    if not isinstance(value, str) or not CONVERSATION_ID.fullmatch(value):
        raise ApiError(400, "invalid-conversation-id",
                       "Die conversation_id muss aus 1 bis 64 Zeichen A-Z, a-z, 0-9, _ oder - "
                       "bestehen.")
    return value


def message_id(value: Any) -> str | None:
    """The optional ``message_id`` of a chat message: a retry with the same id is answered
    from the store instead of being stored and answered again."""
    if value is None:
        return None
    if not isinstance(value, str) or not MESSAGE_ID.fullmatch(value):
        raise ApiError(400, "invalid-message-id",
                       "Die message_id muss aus 1 bis 64 Zeichen A-Z, a-z, 0-9, _ oder - "
                       "bestehen.")
    return value


def turn_error(err: Exception) -> ApiError:
    """The API error for a failed chat turn (shared by the chat socket), or re-raise."""
    if isinstance(err, DialogueUnavailable):
        return ApiError(503, "dialogue-unavailable",
                        "Der Assistent ist gerade nicht erreichbar. Ihre Nachricht wurde "
                        "gespeichert. Bitte versuchen Sie es in einigen Minuten erneut oder "
                        "rufen Sie die Behördennummer 115 an.")
    if isinstance(err, TurnInProgress):
        return ApiError(409, "message-in-progress",
                        "Ihre Nachricht wird noch bearbeitet. Bitte senden Sie sie in einigen "
                        "Sekunden mit derselben message_id erneut oder laden Sie den Verlauf.")
    if isinstance(err, MessageIdReused):
        return ApiError(409, "message-id-reused",
                        "Diese message_id gehört in diesem Gespräch schon zu einer anderen "
                        "Nachricht. Bitte verwenden Sie für jede Nachricht eine neue message_id.")
    if isinstance(err, STORE_UNAVAILABLE):
        return storage_unavailable()
    raise err


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(400, "invalid-text", "Das Feld text muss eine Zeichenkette sein.")
    if not value.strip():
        raise ApiError(400, "empty-text", "Bitte geben Sie eine Nachricht ein.")
    if len(value) > MAX_TEXT:
        raise ApiError(400, "text-too-long",
                       f"Die Nachricht ist zu lang (höchstens {MAX_TEXT} Zeichen).")
    if "\x00" in value:
        raise ApiError(400, "invalid-text", "Die Nachricht enthält ungültige Zeichen.")
    return value.strip()


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported-media-type",
                       "Bitte senden Sie die Anfrage als JSON (Content-Type: application/json).")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "payload-too-large", "Die Anfrage ist zu groß.")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "payload-too-large", "Die Anfrage ist zu groß.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ApiError(400, "malformed-json", "Die Anfrage ist kein gültiges JSON.") from err
    if not isinstance(body, dict):
        raise ApiError(400, "malformed-json", "Die Anfrage muss ein JSON-Objekt sein.")
    return body


@routes.post("/api/v1/chat")
async def post_chat(request: web.Request) -> web.Response:
    body = await _json_body(request)
    for field in ("conversation_id", "text"):
        if field not in body:
            raise ApiError(400, "missing-field", f"Das Feld {field} fehlt.")
    conversation_id = _conversation_id(body["conversation_id"])
    text = _text(body["text"])
    client_message_id = message_id(body.get("message_id"))
    # The web chat owns the rate limits and the live push (ws imports this module, hence the
    # import here): a conversation is limited however it writes, and other open tabs see it.
    from bot.gateway import ws

    widget = request.app.get(ws.WIDGET)
    if widget is not None:
        wait = widget.limits.writes_per_conversation.take(conversation_id)
        if wait > 0:
            raise ApiError(429, "rate-limited",
                           "Sie haben sehr viele Nachrichten in kurzer Zeit gesendet. Bitte "
                           f"warten Sie {max(1, round(wait))} Sekunden.")
    try:
        result = await request.app[keys.CHAT].turn(conversation_id, text,
                                                   message_id=client_message_id)
    except (DialogueUnavailable, TurnInProgress, MessageIdReused, *STORE_UNAVAILABLE) as err:
        raise turn_error(err) from err
    if widget is not None:
        widget.hub.publish(conversation_id)
    return web.json_response(result.to_api())


@routes.get("/api/v1/conversations/{conversation_id}/messages")
async def get_messages(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request.match_info["conversation_id"])
    raw_after = request.query.get("after", "0")
    if not raw_after.isdigit() or len(raw_after) > 12:
        raise ApiError(400, "invalid-after", "Der Parameter after muss eine ganze Zahl ≥ 0 sein.")
    store = request.app[keys.STORE]
    state = await store.conversation(conversation_id)
    if state is None:
        raise ApiError(404, "conversation-not-found", "Dieses Gespräch gibt es nicht.")
    messages = await store.messages(conversation_id, after=int(raw_after))
    return web.json_response({
        "conversation_id": conversation_id,
        "messages": [m.to_api() for m in messages],
        "handoff": handoff_view(state.handoff_status, state.handoff_context),
    })


@routes.get("/health/live")
async def live(_request: web.Request) -> web.Response:
    """The gateway process answers (used by the supervisor); says nothing about the rest."""
    return web.json_response({"status": "ok"})


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    dialogue = request.app[keys.DIALOGUE]
    store = request.app[keys.STORE]

    async def database() -> tuple[str, bool, str]:
        try:
            await asyncio.wait_for(store.ping(), 2.0)
            return "database", True, ""
        except Exception as err:  # noqa: BLE001 - any failure means "down" for health
            return "database", False, type(err).__name__

    rasa, actions, db = await asyncio.gather(
        dialogue.check_rasa(), dialogue.check_actions(), database())
    components = {
        "gateway": {"ok": True},
        "rasa": {"ok": rasa.ok, **({"detail": rasa.detail} if rasa.detail else {})},
        "action_server": {"ok": actions.ok, **({"detail": actions.detail} if actions.detail else {})},
        "database": {"ok": db[1], **({"detail": db[2]} if db[2] else {})},
    }
    from bot.gateway.bus import BUS  # (bus imports ws, which imports this module)

    bus = request.app.get(BUS)
    if bus is not None and bus.shared:  # several gateways: live events through Redis
        components["bus"] = bus.health()
    supervisor = read_status(request.app[keys.SETTINGS].run_dir)
    if supervisor is not None:
        children = supervisor.get("children")
        rasa_processes = {}
        for name, child in (children.items() if isinstance(children, dict) else []):
            if not isinstance(child, dict):
                continue
            if name in components:
                components[name]["restarts"] = child.get("restarts", 0)
                components[name]["state"] = child.get("state")
            if name == "rasa" or name.startswith("rasa-"):
                rasa_processes[name] = {"restarts": child.get("restarts", 0),
                                        "state": child.get("state")}
        if len(rasa_processes) > 1:  # rasa_workers > 1: each process's own record
            components["rasa"]["processes"] = rasa_processes
    down = sorted(name for name, c in components.items() if not c["ok"])
    body = {"status": "ok" if not down else "degraded", "down": down, "components": components}
    return web.json_response(body, status=200 if not down else 503)


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The description of this API (bot/gateway/openapi.yaml), parsed once."""
    text = resources.files("bot.gateway").joinpath("openapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@routes.get("/api/v1/openapi.json")
async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document(), headers={"Cache-Control": "no-cache"})
