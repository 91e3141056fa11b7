"""Shared fixtures. Tests run against real components; helpers here only pick free ports and
temporary state directories, and wait for servers to come up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MUNICH = SHARED / "catalogues" / "muenchen-2026-06-08"

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_block(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports")


def terminate(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, SIGKILL after ``grace`` seconds; returns once the process is gone."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Polls ``predicate`` until it is true. Connection errors and half-written status files
    count as "not yet"; ``proc`` exiting first fails at once with the tail of ``log``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"the process under test exited ({proc.returncode}) before "
                                 f"{what}:\n{tail}")
        try:
            if predicate():
                return
        except (requests.RequestException, OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running_action_server(state: Path) -> Iterator[str]:
    """``python -m bot.actions.server`` on a free port with ``state`` as its state directory,
    healthy (catalogue indexed and warmed up); yields its URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "BUERGERBOT_STATE_DIR": str(state), "BUERGERBOT_HOST": "127.0.0.1",
           "BUERGERBOT_ACTION_PORT": str(port), "PYTHONWARNINGS": "ignore"}
    log = state / "actions.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.actions.server"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).status_code == 200, 180,
                   "the action server to come up", proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="session", autouse=True)
def _session_event_loop() -> Iterator[None]:
    """The main thread's current event loop, owned and closed here.

    Before each async test pytest-asyncio (1.1) asks for the thread's current loop; when none
    was ever set, asyncio creates one. The first ``asyncio.run()`` in a test (the CLI tests)
    replaces it and nobody closes it: it is garbage-collected later, in whichever test happens
    to run then, as an "unclosed event loop" ResourceWarning — an error under
    filterwarnings=error, in a test that has nothing to do with it.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()


@pytest.fixture
def munich_path() -> Path:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip("Munich catalogue not found next to the repository (../shared)")
    return MUNICH
