"""Structured logs with dotted event names (``gateway.handoff.queued``). No personal data:
log codes, counts and ids, never a citizen's message text — and as a second line of defence
every string value of every record is passed through :func:`bot.privacy.redact.redact_value`.

One pipeline for everything a process logs: structlog calls and stdlib ``logging`` records
(aiohttp, Sanic, rasa_sdk) alike get a timestamp, level, logger name and the process role,
are redacted, and are rendered either as readable console lines or as one JSON object per line
(``log_format = "json"``, for production log collection)::

    {"event": "gateway.start", "level": "info", "logger": "bot.gateway.app",
     "role": "gateway", "timestamp": "2026-11-21T13:40:00.123456Z", "url": "..."}
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO

import structlog

FORMATS = ("console", "json")
# Keys the pipeline itself adds; everything else may carry text from outside and is redacted.
_OWN_KEYS = frozenset({"timestamp", "level", "logger", "role"})


def _redactor() -> Callable[[Any], Any]:
    from bot.privacy.redact import redact_value

    return redact_value


def redact_processor(redact_value: Callable[[Any], Any] | None = None) -> structlog.types.Processor:
    """A structlog processor that redacts every value except the pipeline's own keys."""
    redact = redact_value or _redactor()

    def processor(_logger: Any, _name: str,
                  event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in event_dict.items():
            if key not in _OWN_KEYS and not key.startswith("_"):
                event_dict[key] = redact(value)
        return event_dict

    return processor


def _add_role(role: str) -> structlog.types.Processor:
    def processor(_logger: Any, _name: str,
                  event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event_dict.setdefault("role", role)
        return event_dict

    return processor


def configure_logging(level: str = "INFO", *, log_format: str = "console", role: str = "",
                      stream: TextIO | None = None, json_output: bool = False) -> None:
    """Configure structlog and the stdlib root logger of this process.

    ``role`` names the process in every record (``gateway``, ``actions``, ``supervisor``);
    ``json_output=True`` is the old spelling of ``log_format="json"``."""
    if json_output:
        log_format = "json"
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}")
    level = level.upper()
    shared: list[structlog.types.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_role(role or "buergerbot"),
        # Tracebacks become text first, so they are redacted like everything else.
        structlog.processors.format_exc_info,
        redact_processor(),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that print request lines or bodies at INFO/DEBUG stay at WARNING: the access
    # log of aiohttp is off anyway (paths only hold pseudonymous ids), and Sanic's and
    # rasa_sdk's debug output may contain trackers with the citizen's words.
    for name in ("aiohttp.access", "sanic.access", "rasa_sdk", "sanic.root", "sanic.error"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
