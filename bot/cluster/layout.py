"""Where each part of the one-machine cluster listens and keeps its files (pure, no I/O but the
secrets)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

# Internal parts listen on loopback only; just nginx's public port follows ``host``.
INTERNAL_HOST = "127.0.0.1"
DEFAULT_POSTGRES_PORT = 5433  # beside a system PostgreSQL on 5432
DEFAULT_REDIS_PORT = 6380  # beside a system Redis on 6379
MAX_INSTANCES = 8


class ClusterError(RuntimeError):
    """The cluster cannot start; the message is German and says what to do."""


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """Ports and directories of ``buergerbot cluster``.

    nginx serves the public ``gateway_port`` and balances over gateways on the next ports; it
    also sits on ``rasa_port`` and ``action_port`` in front of Rasa and action servers on the
    ports after those. PostgreSQL and Redis get their own ports, files under
    ``<state_dir>/cluster``.
    """

    base: Path
    host: str
    public_port: int
    gateway_ports: tuple[int, ...]
    rasa_lb_port: int
    rasa_ports: tuple[int, ...]
    action_lb_port: int
    action_ports: tuple[int, ...]
    postgres_port: int
    redis_port: int

    @classmethod
    def from_settings(cls, settings: Settings, *, instances: int = 2,
                      postgres_port: int = DEFAULT_POSTGRES_PORT,
                      redis_port: int = DEFAULT_REDIS_PORT) -> ClusterLayout:
        if not 1 <= instances <= MAX_INSTANCES:
            raise ClusterError(f"Anzahl der Instanzen muss zwischen 1 und {MAX_INSTANCES} "
                               "liegen")

        def after(port: int) -> tuple[int, ...]:
            return tuple(port + i for i in range(1, instances + 1))

        layout = cls(
            base=settings.state_dir / "cluster", host=settings.host,
            public_port=settings.gateway_port, gateway_ports=after(settings.gateway_port),
            rasa_lb_port=settings.rasa_port, rasa_ports=after(settings.rasa_port),
            action_lb_port=settings.action_port, action_ports=after(settings.action_port),
            postgres_port=postgres_port, redis_port=redis_port)
        layout.check()
        return layout

    def check(self) -> None:
        ports = self.ports()
        bad = [f"{name} {port}" for name, port in ports if not 1 <= port <= 65535]
        if bad:
            raise ClusterError(f"Ports außerhalb von 1..65535: {', '.join(bad)}")
        seen: dict[int, str] = {}
        for name, port in ports:
            if port in seen:
                raise ClusterError(f"Port {port} ist doppelt vergeben ({seen[port]} und {name}); "
                                   "bitte andere Ports wählen (--port, --rasa-port, ...)")
            seen[port] = name

    def ports(self) -> list[tuple[str, int]]:
        """Every port the cluster listens on, with the part that listens there."""
        out = [("nginx (öffentlich)", self.public_port), ("nginx (Rasa)", self.rasa_lb_port),
               ("nginx (Action-Server)", self.action_lb_port),
               ("postgres", self.postgres_port), ("redis", self.redis_port)]
        for kind, ports in (("gateway", self.gateway_ports), ("rasa", self.rasa_ports),
                            ("action_server", self.action_ports)):
            out += [(f"{kind}-{i}", port) for i, port in enumerate(ports, start=1)]
        return out

    # -- URLs -------------------------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else INTERNAL_HOST
        return f"http://{host if ':' not in host else f'[{host}]'}:{self.public_port}"

    @property
    def rasa_lb_url(self) -> str:
        return f"http://{INTERNAL_HOST}:{self.rasa_lb_port}"

    @property
    def action_lb_url(self) -> str:
        return f"http://{INTERNAL_HOST}:{self.action_lb_port}"

    def postgres_url(self, password: str) -> str:
        return f"postgresql://buergerbot:{password}@{INTERNAL_HOST}:{self.postgres_port}/buergerbot"

    def redis_url(self, password: str) -> str:
        return f"redis://:{password}@{INTERNAL_HOST}:{self.redis_port}/0"

    # -- files ------------------------------------------------------------------------------------
    @property
    def postgres_dir(self) -> Path:
        return self.base / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.base / "redis"

    @property
    def nginx_dir(self) -> Path:
        return self.base / "nginx"

    def secret(self, name: str) -> str:
        """A generated password, kept in ``<base>/secrets/<name>`` (readable by its owner only)
        so that the data of PostgreSQL and Redis stay usable across starts."""
        folder = self.base / "secrets"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / name
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
        value = secrets.token_urlsafe(24)  # URL-safe: goes into database and Redis URLs as is
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
        return value
