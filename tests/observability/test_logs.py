"""bot/logs.py: one JSON object per line, for structlog and stdlib records alike, with personal
data redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bot.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_with_role_logger_and_redaction() -> None:
    stream = io.StringIO()
    configure_logging("INFO", log_format="json", role="gateway", stream=stream)
    log = structlog.get_logger("bot.gateway.test")
    log.info("gateway.test.event", note="Ich heiße Anna Schmidt, schreiben Sie an "
             "anna.schmidt@example.org", details={"tel": "Tel. 0170 1234567"}, count=3)
    log.debug("gateway.test.hidden")  # below the level
    logging.getLogger("aiohttp.server").error("Fehler bei %s", "max@example.org")
    try:
        raise ValueError("Mein Name ist Max Mustermann")
    except ValueError:
        log.exception("gateway.test.failed")
    lines = _lines(stream)  # every line parses as JSON
    assert [line["event"] for line in lines] == [
        "gateway.test.event", "Fehler bei [E-MAIL]", "gateway.test.failed"]
    first = lines[0]
    assert {"timestamp", "level", "event", "logger", "role"} <= set(first)
    assert (first["level"], first["logger"], first["role"]) == ("info", "bot.gateway.test",
                                                                "gateway")
    assert first["note"] == "Ich heiße [NAME], schreiben Sie an [E-MAIL]"
    assert first["details"] == {"tel": "Tel. [TELEFON]"}
    assert first["count"] == 3
    assert (lines[1]["logger"], lines[1]["level"]) == ("aiohttp.server", "error")
    assert "ValueError" in lines[2]["exception"]
    assert "Mustermann" not in lines[2]["exception"]
    text = stream.getvalue()
    assert "example.org" not in text and "Anna" not in text and "1234567" not in text


@pytest.mark.usefixtures("restore_logging")
def test_console_format_is_one_readable_line() -> None:
    stream = io.StringIO()
    configure_logging("INFO", log_format="console", role="actions", stream=stream)
    structlog.get_logger("bot.actions").info("actions.test", email="a@b.de")
    (line,) = stream.getvalue().splitlines()
    assert "actions.test" in line and "[E-MAIL]" in line and "a@b.de" not in line


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError):
        configure_logging("INFO", log_format="xml")
