"""Helpers for the cluster tests: a state directory the postgres user can reach, and ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A temporary state directory; as root readable for the postgres and redis users (pytest's
    own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="buergerbot-cluster-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return False


def group_alive(pgid: int) -> bool:
    """Whether any thread of the process group still runs. A killed multi-threaded server's
    leader shows as a zombie while its other threads still exit, and its listening socket is
    open until the last one is gone, so the leader's state alone says too little."""
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                return True
    return False
