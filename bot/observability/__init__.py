"""Observability: Prometheus metrics, readiness and drain, the guard in front of ``/metrics``.

* :mod:`bot.observability.metrics` — the metric families (one registry per app, no globals)
  and the pure classification of a chat answer;
* :mod:`bot.observability.access` — who may read ``/metrics``;
* :mod:`bot.observability.gateway` — the aiohttp side: request middleware, ``/metrics``,
  ``/health/ready``, drain on SIGTERM, the measured chat service and the handoff observer;
* :mod:`bot.observability.voice` — recognition load of the voice line;
* :mod:`bot.observability.actions` — the action server's ``/metrics`` (Sanic) and the measured
  retriever.

Structured logs are configured in :mod:`bot.logs`. See docs/OBSERVABILITY.md.
"""
