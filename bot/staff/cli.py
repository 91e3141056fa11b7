"""``buergerbot staff add|passwd|remove|list``: manage console accounts in the database the
gateway uses (SQLite under the state directory, or PostgreSQL through the database URL)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

ROLES = ("agent", "supervisor")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="staff_command", required=True)
    p = sub.add_parser("add", help="Konto anlegen")
    p.add_argument("--username", required=True, help="Benutzername (Kleinbuchstaben)")
    p.add_argument("--password", help="Passwort (ohne Angabe wird es abgefragt)")
    p.add_argument("--role", choices=ROLES, default="agent", help="agent oder supervisor")
    p.add_argument("--display-name", help="Name, den Bürgerinnen und Bürger sehen "
                   "(Standard: Benutzername)")
    p = sub.add_parser("passwd", help="Passwort ändern (beendet offene Sitzungen)")
    p.add_argument("--username", required=True)
    p.add_argument("--password", help="neues Passwort (ohne Angabe wird es abgefragt)")
    p = sub.add_parser("remove", help="Konto löschen (beendet offene Sitzungen)")
    p.add_argument("--username", required=True)
    sub.add_parser("list", help="Konten auflisten")


def _password(given: str | None) -> str:
    if given is not None:
        return given
    first = getpass.getpass("Passwort: ")
    if getpass.getpass("Passwort wiederholen: ") != first:
        raise SystemExit("Die Passwörter stimmen nicht überein.")
    return first


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.handoff.model import StaffRole
    from bot.handoff.service import utcnow
    from bot.staff.accounts import AccountExists, Accounts
    from bot.staff.config import StaffConfig
    from bot.staff.passwords import PasswordPolicyError, Passwords, check_password, check_username
    from bot.store import Store

    config = StaffConfig()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(settings.db_url)
    accounts = Accounts(store.engine)
    try:
        command = args.staff_command
        if command == "list":
            for account in await accounts.all():
                print(f"{account.username}\t{account.role.value}\t{account.display_name}")
            return 0
        username = args.username.strip()
        if command == "remove":
            if not await accounts.remove(username):
                print(f"Fehler: Konto {username} gibt es nicht.")
                return 1
            print(f"Konto {username} gelöscht.")
            return 0
        try:
            check_username(username)
            password = check_password(_password(args.password), config)
        except PasswordPolicyError as err:
            print(f"Fehler: {err}")
            return 1
        password_hash = await asyncio.to_thread(lambda: Passwords(config).hash(password))
        if command == "add":
            try:
                await accounts.add(username, (args.display_name or username).strip()[:100],
                                   StaffRole(args.role), password_hash, utcnow())
            except AccountExists:
                print(f"Fehler: Konto {username} gibt es schon.")
                return 1
            print(f"Konto {username} ({args.role}) angelegt.")
            return 0
        if not await accounts.set_password(username, password_hash, utcnow()):
            print(f"Fehler: Konto {username} gibt es nicht.")
            return 1
        print(f"Passwort für {username} geändert; offene Sitzungen wurden beendet.")
        return 0
    finally:
        await store.close()
