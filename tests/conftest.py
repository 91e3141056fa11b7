"""Shared fixtures. Tests run against real components; helpers here only pick free ports and
temporary state directories."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MUNICH = SHARED / "catalogues" / "muenchen-2026-06-08"

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def munich_path() -> Path:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip("Munich catalogue not found next to the repository (../shared)")
    return MUNICH
