"""The action server's metrics: a measured retriever and ``GET /metrics`` on rasa_sdk's Sanic
app (same port as ``/webhook``; readable from ``metrics_allow`` only, never through a proxy)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.observability.access import FORBIDDEN_MESSAGE, Network, metrics_allowed
from bot.observability.metrics import ActionMetrics
from retrieval.api import Decision


class MeasuredDecider:
    """Wraps the retriever (:class:`bot.actions.registry.Decider`): times each decision in the
    worker thread and counts it by kind (answer, clarify, abstain)."""

    def __init__(self, inner: Any, metrics: ActionMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def decide(self, text: str) -> Decision:
        started = time.perf_counter()
        decision: Decision = self._inner.decide(text)
        self._metrics.retrieval_latency.observe(time.perf_counter() - started)
        self._metrics.decisions.labels(str(decision.kind)).inc()
        return decision

    def __getattr__(self, name: str) -> Any:  # anything else the retriever offers
        return getattr(self._inner, name)


def mount_metrics(app: Any, metrics: ActionMetrics, networks: tuple[Network, ...]) -> None:
    """Add ``GET /metrics`` to a Sanic app (rasa_sdk 3.6's ``create_app``)."""
    from sanic import response

    async def metrics_endpoint(request: Any) -> Any:
        if not metrics_allowed(request.ip, request.headers, networks):
            return response.json({"error": {"code": "metrics-forbidden",
                                            "message": FORBIDDEN_MESSAGE}}, status=403,
                                 ensure_ascii=False)
        return response.raw(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    app.add_route(metrics_endpoint, "/metrics", methods=["GET"], name="buergerbot_metrics")
