"""``buergerbot staff add|passwd|remove|list`` in a real subprocess, then a login with the
account through the gateway app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.staff.conftest import Gateway


def staff_cli(db_url: str, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BUERGERBOT_")}
    env.update({"BUERGERBOT_DATABASE_URL": db_url, "BUERGERBOT_STATE_DIR": str(state_dir)})
    return subprocess.run([sys.executable, "-m", "bot.cli", "staff", *args], check=False,
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


async def test_add_passwd_remove_and_login(gateway: Gateway, tmp_path: Path) -> None:
    added = staff_cli(gateway.url, tmp_path, "add", "--username", "clara", "--password",
                      "kommandozeile-123", "--role", "supervisor", "--display-name",
                      "Clara Schmidt")
    assert added.returncode == 0, added.stderr
    assert "angelegt" in added.stdout
    again = staff_cli(gateway.url, tmp_path, "add", "--username", "clara", "--password",
                      "kommandozeile-123")
    assert again.returncode == 1 and "gibt es schon" in again.stdout
    weak = staff_cli(gateway.url, tmp_path, "add", "--username", "dora", "--password", "kurz")
    assert weak.returncode == 1 and "mindestens 12 Zeichen" in weak.stdout
    listed = staff_cli(gateway.url, tmp_path, "list")
    assert "clara\tsupervisor\tClara Schmidt" in listed.stdout

    client = await gateway.start()
    resp = await client.post("/staff/api/login", json={"username": "clara",
                                                       "password": "kommandozeile-123"})
    assert resp.status == 200
    assert (await resp.json())["staff"] == {"username": "clara", "display_name": "Clara Schmidt",
                                            "role": "supervisor"}
    assert staff_cli(gateway.url, tmp_path, "passwd", "--username", "clara", "--password",
                     "neues-passwort-456").returncode == 0
    assert (await client.get("/staff/api/me")).status == 401  # sessions ended
    assert (await client.post("/staff/api/login", json={
        "username": "clara", "password": "neues-passwort-456"})).status == 200
    assert staff_cli(gateway.url, tmp_path, "remove", "--username", "clara").returncode == 0
    assert (await client.get("/staff/api/me")).status == 401
    gone = staff_cli(gateway.url, tmp_path, "remove", "--username", "clara")
    assert gone.returncode == 1 and "gibt es nicht" in gone.stdout
