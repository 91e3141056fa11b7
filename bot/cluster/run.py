"""``buergerbot cluster``: the whole scale-out topology on one machine, under one supervisor.

Stages (each starts once the one before is healthy; stopping goes backwards):

    0  postgres, redis
    1  action_server-1..n, rasa-1..n   (Rasa: SQL tracker store + Redis lock store)
    2… gateway-1, gateway-2, …         (one after the other: the first migrates the database)
    9  nginx                           (public port → gateways; loopback → Rasa, action servers)

The supervisor's status file ``<state_dir>/run/supervisor.json`` lists every child with its
pid, port and state (fault tests and operators find the processes there).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.cluster import nginx, postgres, redis
from bot.cluster.layout import INTERNAL_HOST, ClusterError, ClusterLayout
from bot.settings import Settings
from bot.supervisor import (
    ChildSpec,
    Supervisor,
    read_status,
    run_until_stopped,
    write_rasa_endpoints,
)

Say = Callable[[str], None]
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
GATEWAY_STAGE = 2


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    instances: int = 2
    postgres_port: int = 5433
    redis_port: int = 6380
    train: bool = True


def child_settings(settings: Settings, layout: ClusterLayout, database_url: str,
                   redis_url: str) -> Settings:
    """What every instance shares: loopback, the balancers, PostgreSQL and Redis."""
    trusted = tuple(dict.fromkeys(settings.trusted_proxies + LOOPBACK_PROXIES))
    return settings.replace(host=INTERNAL_HOST, rasa_endpoint=layout.rasa_lb_url,
                            action_endpoint=layout.action_lb_url, database_url=database_url,
                            tracker_store_url=database_url, redis_url=redis_url,
                            trusted_proxies=trusted)


def instance_specs(shared: Settings, layout: ClusterLayout, model: Path,
                   env_for: Callable[[Settings], dict[str, str]]) -> list[ChildSpec]:
    """Action servers, Rasa servers and gateways (pure: no files, no processes)."""
    py = sys.executable
    run = shared.run_dir
    specs: list[ChildSpec] = []
    for i, port in enumerate(layout.action_ports, start=1):
        own = shared.replace(action_port=port)
        specs.append(ChildSpec(f"action_server-{i}", (py, "-m", "bot.actions.server"),
                               f"http://{INTERNAL_HOST}:{port}/health", env_for(own),
                               port=port, stage=1))
    # A conversation's lock in Redis outlives a Rasa that died holding it only this long
    # (Rasa's default is 60 s; a turn the gateway still waits for takes rasa_timeout at most).
    lock_lifetime = str(max(15, int(2 * shared.rasa_timeout)))
    for i, port in enumerate(layout.rasa_ports, start=1):
        own = shared.replace(rasa_port=port)
        argv = (py, "-m", "bot.rasa_run", "run", "--model", str(model),
                "--endpoints", str(run / "endpoints.yml"),
                "--credentials", str(run / "credentials.yml"),
                "--port", str(port), "--interface", INTERNAL_HOST)
        env = {**env_for(own), "TICKET_LOCK_LIFETIME": lock_lifetime}
        specs.append(ChildSpec(f"rasa-{i}", argv, f"http://{INTERNAL_HOST}:{port}/", env,
                               port=port, stage=1))
    for i, port in enumerate(layout.gateway_ports, start=1):
        own = shared.replace(gateway_port=port)
        specs.append(ChildSpec(f"gateway-{i}", (py, "-m", "bot.gateway"),
                               f"http://{INTERNAL_HOST}:{port}/health/live", env_for(own),
                               port=port, stage=GATEWAY_STAGE + i - 1))
    return specs


# -- checks before anything starts ----------------------------------------------------------------
def busy_ports(layout: ClusterLayout) -> list[str]:
    """Parts whose port something else already listens on."""
    busy = []
    for name, port in layout.ports():
        host = layout.host if name == "nginx (öffentlich)" else INTERNAL_HOST
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                busy.append(f"{name} ({port})")
    return busy


def other_supervisor(run_dir: Path) -> int | None:
    """The pid of a buergerbot supervisor that still runs this state directory, if any."""
    status = read_status(run_dir)
    pid = status.get("supervisor_pid") if status else None
    if not isinstance(pid, int) or pid == os.getpid():
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if b"bot.cli" in cmdline or b"buergerbot" in cmdline else None


# -- the command -----------------------------------------------------------------------------------
async def run_cluster(settings: Settings, options: ClusterOptions, say: Say) -> int:
    from bot.catalogue import load_catalogue
    from bot.staff.mount import options_from_settings
    from bot.training import ensure_model, index_ready, model_path, rasa_env

    started = time.monotonic()
    say("buergerbot-Cluster startet ...")
    layout = ClusterLayout.from_settings(settings, instances=options.instances,
                                         postgres_port=options.postgres_port,
                                         redis_port=options.redis_port)
    pid = other_supervisor(settings.run_dir)
    if pid is not None:
        raise ClusterError(f"In {settings.state_dir} läuft bereits buergerbot (PID {pid}); "
                           "bitte zuerst beenden oder --state-dir wählen.")
    busy = busy_ports(layout)
    if busy:
        raise ClusterError("Diese Ports sind schon belegt: " + ", ".join(busy)
                           + ". Bitte andere wählen (--port, --rasa-port, --action-port, "
                           "--postgres-port, --redis-port).")
    options_from_settings(settings)  # service hours etc.: a typo stops here, not in a child
    catalogue = load_catalogue(settings.catalogue)
    say(f"[1/5] Katalog {catalogue.city}: {len(catalogue.services)} Leistungen, "
        f"{len(catalogue.offices)} Ämter ({settings.catalogue})")
    say("[2/5] Rasa-Modell prüfen")
    if options.train:
        model = await asyncio.to_thread(ensure_model, settings, progress=say)
    else:
        model = model_path(settings)
        if not model.is_file():
            say("Kein trainiertes Modell vorhanden; bitte ohne --no-train starten.")
            return 1
    # The index is checked (or built) while PostgreSQL is prepared and the databases and Rasa
    # start; only the action servers wait for it.
    say("[3/5] Suchindex prüfen (die Action-Server starten danach)")
    indexed = asyncio.create_task(index_ready(rasa_env(settings)))
    try:
        say("[4/5] PostgreSQL, Redis und nginx vorbereiten")
        await asyncio.to_thread(postgres.ensure_initialised, layout, say)
        database_url = layout.postgres_url(layout.secret("postgres"))
        redis_url = layout.redis_url(layout.secret("redis"))
        shared = child_settings(settings, layout, database_url, redis_url)
        write_rasa_endpoints(shared)
        specs = [postgres.spec(layout), redis.spec(layout),
                 *instance_specs(shared, layout, model, rasa_env), nginx.spec(layout)]
        say(f"[5/5] Dienste starten: PostgreSQL, Redis, je {options.instances} × Action-Server, "
            "Rasa und Gateway, nginx")
        supervisor = Supervisor(specs, settings.run_dir, progress=say)
        gates = {spec.name: indexed for spec in specs if spec.name.startswith("action_server-")}
        return await _serve(supervisor, settings, layout, started, say, gates)
    finally:
        indexed.cancel()
        if indexed.done() and not indexed.cancelled():
            indexed.exception()  # reported through the start-up already (or not needed)


async def _serve(supervisor: Supervisor, settings: Settings, layout: ClusterLayout,
                 started: float, say: Say,
                 gates: Mapping[str, Awaitable[None]] | None = None) -> int:
    async def ready() -> None:
        await _warm_up(layout)
        url = layout.public_url
        say(f"\nbuergerbot-Cluster läuft (bereit nach {time.monotonic() - started:.1f} s):\n"
            f"  Chat-API:      {url}/api/v1/chat\n"
            f"  Status:        {url}/health\n"
            f"  Website-Demo:  {url}/\n"
            f"  Mitarbeitende: {url}/staff\n"
            f"  Rasa (intern): {layout.rasa_lb_url} → Ports "
            f"{', '.join(map(str, layout.rasa_ports))}\n"
            f"  Actions (int.):{layout.action_lb_url} → Ports "
            f"{', '.join(map(str, layout.action_ports))}\n"
            f"  PostgreSQL:    {INTERNAL_HOST}:{layout.postgres_port} (Daten in "
            f"{layout.postgres_dir})\n"
            f"  Redis:         {INTERNAL_HOST}:{layout.redis_port}\n"
            f"  Prozessliste:  {settings.run_dir / 'supervisor.json'}\n"
            "Beenden mit Strg+C.")

    return await run_until_stopped(
        supervisor, settings.startup_timeout, ready=ready, say=say, gates=gates,
        farewell="Alle Dienste beendet (Daten von PostgreSQL bleiben erhalten).")


async def _warm_up(layout: ClusterLayout) -> None:
    """One message through each Rasa server, so no citizen pays for graph compilation."""
    async with aiohttp.ClientSession() as session:
        for i, port in enumerate(layout.rasa_ports, start=1):
            body = {"sender": f"buergerbot-warmup-{i}", "message": "Hallo"}
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.post(f"http://{INTERNAL_HOST}:{port}/webhooks/rest/webhook",
                                        json=body, timeout=aiohttp.ClientTimeout(total=30)) as r:
                    await r.read()
