"""The custom actions Rasa calls. Each one is thin: read the turn from the tracker, call one
dialogue function, send its messages as BotMessage JSON and return its slots as events."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import answer, escalation, office_reply
from bot.actions.registry import Services, registry
from bot.actions.reply import Context, Reply
from bot.actions.turn import Turn, turn_from_tracker
from retrieval.api import Decision


class DialogueAction(Action, abc.ABC):
    """Shared shape of our actions; subclasses implement :meth:`reply` (abstract, so rasa_sdk
    does not register this class itself)."""

    @abc.abstractmethod
    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        services = registry.get()
        turn = turn_from_tracker(tracker)
        result = await self.reply(services, Context(services.catalogue, services.clock()), turn)
        for message in result.messages:
            dispatcher.utter_message(json_message=message.to_wire())
        return [SlotSet(name, value) for name, value in result.slots.items()]


async def _decide(services: Services, turn: Turn) -> Decision | None:
    """Retrieval on the citizen's words; button payloads carry no words to search."""
    if turn.is_payload:
        return None
    return await services.decide(turn.text, turn.entities.get("service", ()))


class ActionAnswerService(DialogueAction):
    def name(self) -> str:
        return "action_answer_service"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return answer.answer(ctx, turn, await _decide(services, turn))


class ActionShowOffices(DialogueAction):
    def name(self) -> str:
        return "action_show_offices"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return office_reply.location_reply(ctx, turn)


class ActionLifeSituation(DialogueAction):
    def name(self) -> str:
        return "action_life_situation"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return answer.life_situation(ctx, turn, await _decide(services, turn))


class ActionHandoff(DialogueAction):
    def name(self) -> str:
        return "action_handoff"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return escalation.handoff(ctx, turn)


class ActionFallback(DialogueAction):
    def name(self) -> str:
        return "action_fallback"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return answer.fallback(ctx, turn, await _decide(services, turn))


class ActionConfirm(DialogueAction):
    def name(self) -> str:
        return "action_confirm"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return escalation.confirm(ctx, turn)


class ActionDecline(DialogueAction):
    def name(self) -> str:
        return "action_decline"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return escalation.decline(turn)


class ActionSimpleLanguage(DialogueAction):
    def name(self) -> str:
        return "action_simple_language"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return answer.simple_language(ctx, turn)


class ActionNotSure(DialogueAction):
    """The policies' last resort: ask to rephrase and forget the turn, so the dialogue goes on
    as if it had not happened (like Rasa's action_default_fallback)."""

    def name(self) -> str:
        return "action_not_sure"

    async def reply(self, services: Services, ctx: Context, turn: Turn) -> Reply:
        return escalation.not_sure(turn)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return [*await super().run(dispatcher, tracker, domain), UserUtteranceReverted()]
