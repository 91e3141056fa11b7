"""The one client through which the gateway reaches the dialogue engine (Rasa's REST channel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from bot.messages import BotMessage, WireError

log = structlog.get_logger(__name__)


class DialogueUnavailable(Exception):
    """Rasa or the action server cannot answer right now (down, timed out, broken answer)."""

    code = "dialogue-unavailable"

    def __init__(self, component: str, detail: str) -> None:
        super().__init__(f"{component}: {detail}")
        self.component = component
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    ok: bool
    detail: str = ""


class RasaClient:
    """Talks to one Rasa server (REST webhook) and checks it and its action server."""

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str, action_url: str,
                 timeout: float) -> None:
        self._session = session
        self._rasa_url = rasa_url.rstrip("/")
        self._action_url = action_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(2.0, timeout))
        self._probe_timeout = aiohttp.ClientTimeout(total=2.0)

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        body = {"sender": conversation_id, "message": text, "metadata": metadata or {}}
        try:
            async with self._session.post(f"{self._rasa_url}/webhooks/rest/webhook", json=body,
                                          timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise DialogueUnavailable("rasa", f"HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError) as err:
            raise DialogueUnavailable("rasa", type(err).__name__) from err
        if not isinstance(data, list):
            raise DialogueUnavailable("rasa", "unexpected answer")
        messages: list[BotMessage] = []
        for item in data:
            try:
                messages.append(BotMessage.from_rasa(item))
            except WireError as err:
                log.warning("gateway.dialogue.bad_message", error=str(err))
        if not messages:
            # Rasa answers an empty list when a custom action failed (e.g. the action server is
            # down). Tell that apart from a deliberately silent bot by asking the action server.
            action = await self.check_actions()
            if not action.ok:
                raise DialogueUnavailable("action_server", action.detail)
        return messages

    async def check_rasa(self) -> ComponentHealth:
        return await self._probe("rasa", f"{self._rasa_url}/")

    async def check_actions(self) -> ComponentHealth:
        return await self._probe("action_server", f"{self._action_url}/health")

    async def _probe(self, name: str, url: str) -> ComponentHealth:
        try:
            async with self._session.get(url, timeout=self._probe_timeout) as resp:
                if resp.status == 200:
                    return ComponentHealth(name, True)
                return ComponentHealth(name, False, f"HTTP {resp.status}")
        except (TimeoutError, aiohttp.ClientError) as err:
            return ComponentHealth(name, False, type(err).__name__ or "nicht erreichbar")
