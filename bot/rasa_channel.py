"""Rasa's REST channel, except that a turn that fails says so: HTTP 503 instead of an empty answer.

Rasa 3.6's ``RestInput`` wraps the whole turn in ``except Exception`` and answers 200 with the
messages collected so far, usually ``[]``. A turn that failed — e.g. because the Redis lock
store cannot be reached — then looks to the gateway like a bot that deliberately said nothing,
and the citizen gets neither an answer nor an error. :class:`StrictRestInput` keeps Rasa's
channel as it is — the name ``rest`` (so the URL stays ``/webhooks/rest/webhook``), the request
fields, the health route, ``stream=true`` — and changes only that case: the error is logged
without the citizen's text and the answer is ``503 {"error": "turn-failed", "detail":
"<exception type>"}``, which the gateway turns into its retryable ``dialogue-unavailable``.

A tracker store that cannot be read or written fails the turn too (bot/rasa_tracker_store.py
takes Rasa's silent fallback away; ``python -m bot.rasa_run run`` installs it). What still
answers 200: a failing custom action (Rasa's processor logs it and goes on without the action's
events, so the gateway asks the action server's health on an empty answer) and a cancelled turn
(the client went away; as in Rasa, the messages collected so far, logged without the text).
``stream=true`` is Rasa's own code: a turn that fails there leaves the stream open without its
closing ``DONE``; the gateway never streams.

Configured as the only entry of Rasa's credentials.yml, ``bot.rasa_channel.StrictRestInput:``
(Rasa builds a channel that is not one of its own from the key as a module path;
bot/cluster/endpoints.py writes the file).
"""

from __future__ import annotations

import inspect
import traceback
from asyncio import CancelledError
from collections.abc import Awaitable, Callable

import rasa.utils.endpoints
import structlog
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

structlogger = structlog.get_logger()

TURN_FAILED = "turn-failed"


class StrictRestInput(RestInput):
    """``rest``: Rasa's REST channel whose failed turns answer 503 (see the module)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        # RestInput.blueprint with the turn's ``except`` changed; the rest as Rasa has it.
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}",
                            module.__name__ if module is not None else None)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender_id, input_channel,
                                         metadata),
                    content_type="text/event-stream")
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender_id,
                                                 input_channel=input_channel, metadata=metadata))
            except CancelledError:
                structlogger.error("rest.message.received.timeout", sender_id=sender_id)
            except Exception as err:  # noqa: BLE001 - any failed turn answers 503
                return turn_failed(err, sender_id)
            return response.json(collector.messages)

        return webhook


def turn_failed(err: Exception, sender_id: str | None) -> HTTPResponse:
    """Log a failed turn (where it failed, not what the exception says: a database error may
    quote the citizen's words) and answer 503."""
    structlogger.error("rest.message.received.failure", sender_id=sender_id,
                       error=type(err).__name__, frames=_frames(err))
    return response.json({"error": TURN_FAILED, "detail": type(err).__name__}, status=503)


def _frames(err: BaseException) -> str:
    """The traceback of ``err`` and its causes, in Python's order (the first cause first):
    exception types and code locations only."""
    chain: list[traceback.TracebackException] = []
    exc: traceback.TracebackException | None = traceback.TracebackException.from_exception(err)
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    parts: list[str] = []
    for link in reversed(chain):
        name = (f"{link.exc_type.__module__}.{link.exc_type.__qualname__}"
                if link.exc_type is not None else "?")
        parts += [*link.stack.format(), f"{name}\n"]
    return "".join(parts)
