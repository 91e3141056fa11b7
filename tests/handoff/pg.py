"""A throwaway PostgreSQL cluster from Debian's package, for tests that need the real thing.

Started once per test session in a temporary directory, on a free port, with trust auth on
loopback only; as root it runs as the ``postgres`` user (initdb refuses root). Tests skip with a
clear reason when the package is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port

INSTALL_HINT = ("PostgreSQL is not installed (Debian: apt-get install -y postgresql); "
                "the PostgreSQL variants of these tests are skipped")


def pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name))
    return Path(candidates[-1]).parent if candidates else None


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="buergerbot-pg-"))
        self.data = self.dir / "data"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
                  "--locale=C")
        self.start_server()

    def start_server(self) -> None:
        """Start the server on the existing data (again, after :meth:`kill`)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=200", "start")

    def start_again(self, attempts: int = 30) -> None:
        """Start the server after :meth:`kill`: the killed server's backends may hold its shared
        memory for a moment, so a failed start is retried (every 0.5 s)."""
        for attempt in range(attempts):
            try:
                self.start_server()
                return
            except subprocess.CalledProcessError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)

    def kill(self, *, backends: bool = False) -> int:
        """SIGKILL to the postmaster, as in a crash; returns its pid. With ``backends`` its
        children too, at the same moment (the whole server gone): otherwise orphaned backends
        may serve their open connections for a moment after the postmaster died."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        children: list[int] = []
        if backends:
            os.kill(pid, signal.SIGSTOP)  # no new backend while its children are listed
            children = [int(entry.name) for entry in Path("/proc").iterdir()
                        if entry.name.isdigit() and _parent_of(entry) == pid]
        for victim in (pid, *children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        cmd = [str(self.bindir.parent / "bin" / "createdb"), "-h", "127.0.0.1", "-p",
               str(self.port), "-U", self.user, name]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def running_cluster() -> Iterator[PgCluster]:
    bindir = pg_bin()
    if bindir is None:
        raise FileNotFoundError(INSTALL_HINT)
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _parent_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def killable_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL of the caller's own, for tests that kill it (the shared one must stay up);
    skips the test when PostgreSQL is not installed."""
    import pytest

    if pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    with running_cluster() as cluster:
        yield cluster
