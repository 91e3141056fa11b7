"""A throwaway Redis server from Debian's package (``redis-server``), for tests that need the real
thing: a free port on loopback, a temporary directory, no persistence. It can be stopped and
started again on the same port (to test what a client does while Redis is away).

    with running_redis() as redis:     # skips the test when redis-server is not installed
        settings = settings.replace(redis_url=redis.url)
        redis.stop(); ...; redis.start()
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, terminate

INSTALL_HINT = ("Redis is not installed (Debian: apt-get install -y redis-server); "
                "the tests that need it are skipped")
START_TIMEOUT = 20.0


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="buergerbot-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        log = (self.dir / "redis.log").open("ab")
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
             "--logfile", ""],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{output}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop at once (SIGKILL after 10 s): clients see their connections drop."""
        process, self._process = self._process, None
        if process is None:
            return
        terminate(process)

    def _answers_ping(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A started server, stopped and removed afterwards; skips the test without the package."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(INSTALL_HINT)
    server = RedisServer(binary)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)
