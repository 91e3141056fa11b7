"""The action server: ``python -m bot.actions.server``.

Reads the settings (the supervisor passes them as ``BUERGERBOT_*`` variables), builds the
catalogue and retrieval index eagerly and warms them up, then serves rasa_sdk's endpoint
(``/webhook``, ``/health``, ``/actions``) on ``settings.host:settings.action_port``.
"""

from __future__ import annotations

import dataclasses
import sys
import time

import structlog

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError

log = structlog.get_logger(__name__)

ACTIONS_PACKAGE = "bot.actions"


def serve(settings: Settings) -> None:
    from bot import gcpause

    started = time.monotonic()
    # The catalogue, the index and the model stay for the life of the process: loaded without
    # the collector, then frozen out of later collections (bot/gcpause.py).
    with gcpause.paused("actions"):
        from rasa_sdk.endpoint import create_app
        from rasa_sdk.plugin import plugin_manager

        from bot.actions.registry import WARM_UP_QUERY, build_services, registry
        from bot.observability.access import parse_networks
        from bot.observability.actions import MeasuredDecider, mount_metrics
        from bot.observability.metrics import ActionMetrics

        services = build_services(settings)
        services.retriever.decide(WARM_UP_QUERY)  # warm, so the first citizen does not wait
    metrics = ActionMetrics()
    registry.configure(services=dataclasses.replace(
        services, retriever=MeasuredDecider(services.retriever, metrics)))
    log.info("actions.server.ready_to_serve", seconds=round(time.monotonic() - started, 1))
    app = create_app(ACTIONS_PACKAGE, cors_origins=[])
    mount_metrics(app, metrics, parse_networks(settings.metrics_allow))
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    log.info("actions.server.listening", host=settings.host, port=settings.action_port)
    # One worker: the registry (catalogue, index, models) lives in this process.
    app.run(settings.host, settings.action_port, workers=1, access_log=False)


def main() -> int:
    from bot import gcpause

    gcpause.hold()  # the imports below too; serve() settles once everything is loaded
    try:
        settings = Settings.load()
    except SettingsError as err:
        print(f"buergerbot actions: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, log_format=settings.log_format, role="actions")
    from bot.catalogue import CatalogueError
    from retrieval.embedding import EmbedderNotFound

    try:
        serve(settings)
    except (CatalogueError, EmbedderNotFound) as err:
        log.error("actions.server.start_failed", error=type(err).__name__)
        print(f"buergerbot actions: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
