"""The bot's candidate answers, shown to staff as suggestions to insert.

While a person owns a conversation the citizen's messages do not reach the dialogue engine.
For suggestions, the last citizen message is sent to the engine under a separate sender id
(``<conversation>--staff-suggest``), so the real conversation's tracker stays untouched.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.messages import BotMessage

SUFFIX = "--staff-suggest"


class Dialogue(Protocol):
    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]: ...


class DialogueSuggester:
    def __init__(self, dialogue: Dialogue) -> None:
        self._dialogue = dialogue

    async def suggest(self, conversation_id: str, text: str) -> list[BotMessage]:
        """Raises whatever the dialogue client raises (DialogueUnavailable)."""
        answers = await self._dialogue.send(conversation_id + SUFFIX, text,
                                            {"channel": "staff_suggestion"})
        # A request for a person is no answer a person can insert.
        return [m for m in answers if m.handoff is None and m.text.strip()]
