"""The metric families of the gateway and the action server, each in its own registry (one per
app object: tests build as many apps as they like, and nothing is global).

Labels never carry conversation ids, texts or addresses: routes are templates
(``/api/v1/conversations/{conversation_id}/messages``), everything else is a small fixed set.
The list with types and example queries is docs/OBSERVABILITY.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds; HTTP and dialogue latencies of a chat turn range from milliseconds to the timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Real-time factor of speech recognition: decode time / audio time (below 1 keeps up).
RTF_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)


class Outcome(StrEnum):
    """What a chat turn gave the citizen, read from the shape of the answer."""

    ANSWERED = "answered"  # an answer from the catalogue (with sources)
    CLARIFY = "clarify"  # asked back which service was meant (choice buttons)
    ABSTAIN = "abstain"  # nothing fitting; a person was offered (yes/no buttons)
    HANDOFF = "handoff"  # the turn ended with the conversation handed to staff or a callback
    SILENT = "silent"  # a person owns the conversation: the bot stayed silent
    OTHER = "other"  # greetings, rephrase requests, small talk, yes/no follow-ups
    ERROR = "error"  # the dialogue engine was unavailable or the turn failed


CLARIFY_PAYLOAD = "/choose_service"
HUMAN_OFFER_PAYLOADS = frozenset({"/affirm", "/deny"})


def classify(messages: Iterable[dict[str, Any]], handoff: object | None) -> Outcome:
    """The outcome of a turn from its messages in wire form (``{"text", "sources",
    "buttons"}``) and the handoff field; pure, for the chat API, the socket and the phone."""
    items = list(messages)
    if handoff is not None or any(m.get("handoff") for m in items):
        return Outcome.HANDOFF
    if not items:
        return Outcome.SILENT
    if any(m.get("sources") for m in items):
        return Outcome.ANSWERED
    payloads = {str(b.get("payload", "")) for m in items for b in m.get("buttons") or ()
                if isinstance(b, dict)}
    if any(p.startswith(CLARIFY_PAYLOAD) for p in payloads):
        return Outcome.CLARIFY
    if payloads & HUMAN_OFFER_PAYLOADS == HUMAN_OFFER_PAYLOADS:
        return Outcome.ABSTAIN
    return Outcome.OTHER


class GatewayMetrics:
    """Every metric of one gateway process."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "buergerbot_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=r)
        self.http_latency = Histogram(
            "buergerbot_http_request_duration_seconds",
            "Time to the response of an HTTP request (WebSocket sessions excluded).",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.chat_turns = Counter(
            "buergerbot_chat_turns", "Citizen messages answered, by channel and outcome.",
            ["channel", "outcome"], registry=r)
        self.dialogue_latency = Histogram(
            "buergerbot_dialogue_request_duration_seconds",
            "Round trip of one message to the dialogue engine (Rasa REST webhook).",
            ["result"], buckets=LATENCY_BUCKETS, registry=r)
        self.websockets_open = Gauge(
            "buergerbot_websockets_open", "Open WebSockets by kind.", ["kind"], registry=r)
        self.rate_limited = Counter(
            "buergerbot_rate_limited", "Requests refused by a rate or connection limit.",
            ["channel", "limit"], registry=r)
        self.handoff_events = Counter(
            "buergerbot_handoff_events",
            "Handoff lifecycle events (queued, assigned, returned_to_bot, requeued, closed, "
            "callback_offered, callback_requested, abandoned); outcome for closed.",
            ["event", "outcome"], registry=r)
        self.handoff_queue = Gauge(
            "buergerbot_handoff_queue_length",
            "Conversations waiting for (queued) or with (assigned) a person, read from the "
            "store at scrape time (the same for every gateway on one database).",
            ["status"], registry=r)
        self.conversations_started = Counter(
            "buergerbot_conversations_started",
            "Conversations whose first citizen message (or call) arrived, by channel.",
            ["channel"], registry=r)
        self.conversations_escalated = Counter(
            "buergerbot_conversations_escalated",
            "Escalations to a person (queued, or a callback offered instead), by channel.",
            ["channel"], registry=r)
        self.voice_calls_active = Gauge(
            "buergerbot_voice_calls_active", "Voice calls in progress.", registry=r)
        self.voice_audio_seconds = Counter(
            "buergerbot_voice_audio_seconds", "Seconds of caller audio fed to the recogniser.",
            registry=r)
        self.voice_decode_seconds = Counter(
            "buergerbot_voice_decode_seconds",
            "Seconds the recogniser worked (wall time inside the worker thread).", registry=r)
        self.voice_rtf = Histogram(
            "buergerbot_voice_recognition_rtf",
            "Real-time factor of each recognised audio chunk (decode time / audio time).",
            buckets=RTF_BUCKETS, registry=r)
        self.ready = Gauge(
            "buergerbot_gateway_ready", "1 when the last readiness check passed.", registry=r)
        for channel in ("web", "ws", "voice"):  # series exist from the start (rate() needs 0)
            self.conversations_started.labels(channel)
            self.conversations_escalated.labels(channel)
            self.chat_turns.labels(channel, Outcome.ERROR.value)
        for status in ("queued", "assigned"):
            self.handoff_queue.labels(status)


class ActionMetrics:
    """The action server's metrics: retrieval latency and decisions."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.retrieval_latency = Histogram(
            "buergerbot_retrieval_duration_seconds",
            "Time of one retrieval decision (embedding, search, ranking) in the worker thread.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.decisions = Counter(
            "buergerbot_retrieval_decisions", "Retrieval decisions by kind.", ["kind"],
            registry=r)
        for kind in ("answer", "clarify", "abstain"):
            self.decisions.labels(kind)
