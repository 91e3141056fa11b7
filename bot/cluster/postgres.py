"""PostgreSQL from Debian's package as a cluster child: data directory created on first start
(initdb, role and database ``buergerbot``), then ``postgres`` in the foreground.

As root the server runs as the ``postgres`` user (initdb refuses root); otherwise as whoever
starts the cluster. Passwords (scram-sha-256) are generated once and kept under
``<state_dir>/cluster/secrets``. Only TCP on loopback, no Unix socket (its path length limit
would depend on where the state directory is).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from bot.cluster.layout import INTERNAL_HOST, ClusterError, ClusterLayout
from bot.supervisor import ChildSpec, Progress

SERVICE_USER = "postgres"
INSTALL_HINT = ("PostgreSQL ist nicht installiert (Debian: apt-get install -y postgresql; "
                "`make run-cluster` installiert es als root selbst).")


def bindir() -> Path:
    """The newest installed PostgreSQL's programs."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise ClusterError(INSTALL_HINT)
    return Path(found[-1]).parent


def run_as() -> str | None:
    """The OS user for PostgreSQL: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError as err:
        raise ClusterError(f"Benutzer {SERVICE_USER} fehlt; {INSTALL_HINT}") from err
    return SERVICE_USER


def _run(cmd: list[str], user: str | None, stdin: str = "") -> str:
    try:
        done = subprocess.run(cmd, check=False, input=stdin, capture_output=True, text=True,
                              timeout=300, user=user, group=user,
                              extra_groups=[] if user else None)
    except (OSError, subprocess.SubprocessError) as err:
        raise ClusterError(f"{Path(cmd[0]).name} ließ sich nicht ausführen: {err}") from err
    output = done.stdout + done.stderr
    if done.returncode != 0 or "ERROR:" in output:
        raise ClusterError(f"{Path(cmd[0]).name} ist fehlgeschlagen:\n{output[-2000:]}")
    return output


def ensure_initialised(layout: ClusterLayout, progress: Progress) -> None:
    """Create the data directory, the role and the database on first start; keep them after."""
    data = layout.postgres_dir / "data"
    password = layout.secret("postgres")
    if (data / "PG_VERSION").is_file():
        return
    progress(f"  PostgreSQL-Datenverzeichnis wird angelegt: {data}")
    bins, user = bindir(), run_as()
    layout.postgres_dir.mkdir(parents=True, exist_ok=True)
    data.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        layout.postgres_dir.chmod(0o755)  # the postgres user must reach its data directory
        shutil.chown(data, user, user)
    # initdb reads the superuser's password from a file it can open as its own user.
    pwfile = layout.postgres_dir / "initdb.pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(layout.secret("postgres-superuser") + "\n")
    try:
        if user is not None:
            shutil.chown(pwfile, user, user)
        _run([str(bins / "initdb"), "-D", str(data.resolve()), "-U", "postgres",
              f"--pwfile={pwfile.resolve()}", "--auth-host=scram-sha-256",
              "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], user)
    finally:
        pwfile.unlink(missing_ok=True)
    # Single-user mode: no port, no socket, nothing reachable while the role is created.
    _run([str(bins / "postgres"), "--single", "-D", str(data.resolve()), "-c",
          "unix_socket_directories=", "postgres"], user,
         stdin=f"CREATE ROLE buergerbot LOGIN PASSWORD '{password}';\n"
               "CREATE DATABASE buergerbot OWNER buergerbot;\n")


def spec(layout: ClusterLayout) -> ChildSpec:
    data = (layout.postgres_dir / "data").resolve()
    argv = (str(bindir() / "postgres"), "-D", str(data), "-p", str(layout.postgres_port),
            "-c", f"listen_addresses={INTERNAL_HOST}", "-c", "unix_socket_directories=",
            "-c", "max_connections=300", "-c", "logging_collector=off")
    # Health: a real login as the application role.
    return ChildSpec("postgres", argv, layout.postgres_url(layout.secret("postgres")),
                     port=layout.postgres_port, stage=0,
                     stop_signal=signal.SIGINT,  # "fast" shutdown: clean, no waiting for clients
                     user=run_as())

