"""The one client through which the gateway reaches the dialogue engine (Rasa's REST channel)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
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


def worker_for(conversation_id: str, workers: int) -> int:
    """Which of ``workers`` Rasa processes serves the conversation: the same in every gateway
    process and after restarts (CRC-32 of the id, not Python's salted ``hash``)."""
    return zlib.crc32(conversation_id.encode("utf-8")) % workers if workers > 1 else 0


class RasaClient:
    """Talks to the instance's Rasa servers (REST webhook) and checks them and the action server.

    With several Rasa processes (``rasa_workers``) a conversation always goes to the same one,
    chosen by a stable hash of its id: each process keeps the conversations it serves (and, with
    the in-memory tracker store, their state), so none is served by two at once.
    """

    def __init__(self, session: aiohttp.ClientSession, rasa_urls: Sequence[str],
                 action_url: str, timeout: float) -> None:
        if not rasa_urls:
            raise ValueError("at least one Rasa URL")
        self._session = session
        self._rasa_urls = [url.rstrip("/") for url in rasa_urls]
        self._action_url = action_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(2.0, timeout))
        self._probe_timeout = aiohttp.ClientTimeout(total=2.0)

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        body = {"sender": conversation_id, "message": text, "metadata": metadata or {}}
        try:
            async with self._session.post(f"{self.rasa_url_for(conversation_id)}"
                                          "/webhooks/rest/webhook", json=body,
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

    def rasa_url_for(self, conversation_id: str) -> str:
        """The Rasa process that serves this conversation."""
        return self._rasa_urls[worker_for(conversation_id, len(self._rasa_urls))]

    async def check_rasa(self) -> ComponentHealth:
        """Up only when every Rasa process is (each serves its share of conversations)."""
        if len(self._rasa_urls) == 1:
            return await self._probe("rasa", f"{self._rasa_urls[0]}/")
        probes = await asyncio.gather(*(self._probe("rasa", f"{url}/")
                                        for url in self._rasa_urls))
        down = [f"{url}: {probe.detail}" for url, probe in zip(self._rasa_urls, probes,
                                                                 strict=True) if not probe.ok]
        return ComponentHealth("rasa", not down, "; ".join(down))

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
