"""The network audit used by tests/test_stack.py really records: a positive control with
TEST-NET addresses (RFC 5737, never routed), loopback left out, children included."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

AUDIT_DIR = Path(__file__).parent / "netaudit"
# Loaded under its own name: importing it as "sitecustomize" would shadow the real one.
_spec = importlib.util.spec_from_file_location("netaudit_hook", AUDIT_DIR / "sitecustomize.py")
assert _spec is not None and _spec.loader is not None
netaudit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(netaudit)  # installs nothing: the variable is not set here
ENV, is_local = netaudit.ENV, netaudit.is_local

CHILD = textwrap.dedent("""
    import socket, subprocess, sys

    def try_connect(address):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(address)
        except OSError:
            pass
        finally:
            s.close()

    socket.getaddrinfo("localhost", 80)
    socket.getaddrinfo("192.0.2.2", 80)
    try_connect(("127.0.0.1", 9))
    try_connect(("192.0.2.1", 9))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("127.0.0.1", 9))
    u.close()
    if len(sys.argv) == 1:  # and a grandchild, which inherits the audit
        subprocess.run([sys.executable, "-c", GRANDCHILD], check=True)
""")
GRANDCHILD = ("import socket; s = socket.socket(); s.setblocking(False)\n"
              "try:\n    s.connect(('198.51.100.1', 443))\nexcept OSError:\n    pass\n")


def _run(tmp_path: Path, code: str, audit: Path | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(AUDIT_DIR), *filter(None, [env.get("PYTHONPATH")])])
    if audit is not None:
        env[ENV] = str(audit)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, timeout=60)


def test_non_loopback_destinations_are_recorded_in_children_too(tmp_path: Path) -> None:
    audit = tmp_path / "net-audit.log"
    _run(tmp_path, f"GRANDCHILD = {GRANDCHILD!r}\n" + CHILD, audit)
    lines = audit.read_text().splitlines()
    hosts = sorted(line.split()[1] for line in lines)
    assert hosts == ["192.0.2.1", "192.0.2.2", "198.51.100.1"], lines
    assert not any("127.0.0.1" in line or "localhost" in line for line in lines)
    events = {line.split()[0] for line in lines}
    assert events == {"socket.getaddrinfo", "socket.connect"}


def test_without_the_variable_nothing_is_recorded(tmp_path: Path) -> None:
    _run(tmp_path, f"GRANDCHILD = {GRANDCHILD!r}\n" + CHILD, None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("127.5.5.5", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", True), ("::ffff:127.0.0.1", True), (None, True), (b"localhost", True),
    ("192.0.2.1", False), ("10.0.0.1", False), ("huggingface.co", False),
    ("2001:db8::1", False),
])
def test_what_counts_as_local(host: object, local: bool) -> None:
    assert is_local(host) is local
