"""``buergerbot privacy export|delete|purge``: a citizen's data on request, and the retention
purge by hand, against the database the gateway uses (and Rasa's tracker store when
``tracker_store_url`` is set). Messages are German; errors exit with 1 (bad request, unknown
conversation) or 2 (database not reachable)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings

CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # as the chat API accepts them
LABELS = {
    "conversations": "Gespräche", "messages": "Nachrichten", "feedback": "Bewertungen",
    "handoffs": "Übergaben an Mitarbeitende", "tickets": "Rückruf-Tickets",
    "callback_forms": "Rückrufformulare", "handoff_audit": "Protokolleinträge",
    "client_turns": "gespeicherte Antworten", "tracker_events": "Rasa-Ereignisse",
}


class CommandError(Exception):
    """A German message for the user and the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="privacy_command", required=True)
    p = sub.add_parser("export", help="alles Gespeicherte zu einem Gespräch als JSON ausgeben "
                       "(Auskunft nach Art. 15 DSGVO)")
    p.add_argument("conversation_id", help="Gesprächs-ID")
    p.add_argument("--out", type=Path, help="in diese Datei schreiben (Standard: Ausgabe)")
    p = sub.add_parser("delete", help="ein Gespräch mit allen Daten endgültig löschen")
    p.add_argument("conversation_id", help="Gesprächs-ID")
    p.add_argument("--yes", action="store_true", help="ohne Rückfrage löschen")
    p = sub.add_parser("purge", help="abgelaufene Daten jetzt löschen (Aufbewahrungsfristen)")
    p.add_argument("--dry-run", action="store_true", help="nur zählen, nichts löschen")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except CommandError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return err.code


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _summary(counts: dict[str, int]) -> str:
    parts = [f"{LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items()) if v]
    return ", ".join(parts) if parts else "nichts"


def _check_id(value: str) -> str:
    if not CONVERSATION_ID.fullmatch(value):
        raise CommandError(f"»{value}« ist keine gültige Gesprächs-ID (1 bis 64 Zeichen "
                           "A-Z, a-z, 0-9, _ oder -).")
    return value


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    import sqlalchemy.exc

    from bot.privacy.tracker import TrackerEvents
    from bot.store import Store

    command = args.privacy_command
    cid = _check_id(args.conversation_id) if command in ("export", "delete") else ""
    if command == "export" and args.out is not None and args.out.is_dir():
        raise CommandError(f"{args.out} ist ein Verzeichnis; bitte einen Dateinamen angeben.")
    if not settings.database_url and not (settings.state_dir / "buergerbot.db").is_file():
        raise CommandError(f"Keine Datenbank unter {settings.state_dir} gefunden "
                           "(--state-dir oder BUERGERBOT_DATABASE_URL angeben).")
    tracker = TrackerEvents(settings.tracker_store_url) if settings.tracker_store_url else None
    try:
        store = await Store.open(settings.db_url)
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as err:
        raise CommandError(f"Die Datenbank ist nicht erreichbar ({type(err).__name__}).",
                           2) from err
    try:
        if command == "export":
            return await _export(store, tracker, cid, args.out)
        if command == "delete":
            return await _delete(store, tracker, cid, args.yes)
        return await _purge(store, settings, tracker, args.dry_run)
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as err:
        if isinstance(err, OSError) and command == "export":
            raise CommandError(f"Die Datei konnte nicht geschrieben werden: {err}") from err
        raise CommandError(f"Datenbankfehler ({type(err).__name__}); es wurde nichts "
                           "Unvollständiges geschrieben.", 2) from err
    finally:
        await store.close()
        if tracker is not None:
            await tracker.close()


async def _export(store: Any, tracker: Any, cid: str, out: Path | None) -> int:
    from bot.privacy.subject import export_conversation

    _say(f"Exportiere Gespräch {cid} …")
    data = await export_conversation(store.engine, cid, tracker)
    if data is None:
        raise CommandError(f"Ein Gespräch mit der ID »{cid}« gibt es nicht (oder es wurde "
                           "bereits gelöscht).")
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        # Personal data: readable by the owner only; written whole or not at all.
        tmp = out.with_name(out.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        tmp.replace(out)
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    _say(f"Fertig: {_summary(counts)}" + (f" → {out}" if out is not None else "") + ".")
    return 0


async def _delete(store: Any, tracker: Any, cid: str, yes: bool) -> int:
    from bot.privacy import rows
    from bot.privacy.subject import delete_conversation

    async with store.engine.connect() as conn:
        tables = await rows.conversation_tables(conn)
        found = await rows.existing(conn, [cid])
        counts = await rows.count_rows(conn, tables, [cid]) if found else {}
    if not found:
        leftover = await tracker.delete([cid]) if tracker is not None else 0
        if leftover:
            _say(f"{leftover} Rasa-Ereignisse zu {cid} gelöscht.")
        raise CommandError(f"Ein Gespräch mit der ID »{cid}« gibt es nicht (oder es wurde "
                           "bereits gelöscht).")
    if not yes:
        _say(f"Gespräch {cid}: {_summary(counts)}.")
        try:
            answer = input("Endgültig löschen? Das kann nicht rückgängig gemacht werden. "
                           "[j/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("j", "ja", "y", "yes"):
            raise CommandError("Abgebrochen, nichts gelöscht. (Ohne Rückfrage: --yes)")
    deleted = await delete_conversation(store.engine, cid, tracker)
    _say(f"Gespräch {cid} gelöscht ({_summary(deleted)}).")
    return 0


async def _purge(store: Any, settings: Settings, tracker: Any, dry_run: bool) -> int:
    from bot.privacy.retention import purge

    _say(f"Aufbewahrungsfristen: Gespräche {settings.retention_days} Tage, abgeschlossene "
         f"Rückruf-Tickets {settings.ticket_retention_days} Tage.")
    report = await purge(store, settings, dry_run=dry_run, tracker=tracker)
    verb = "Würde löschen" if dry_run else "Gelöscht"
    _say(f"{verb}: {_summary(report.counts)}.")
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    return 0
