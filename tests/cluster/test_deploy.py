"""The deployment files (deploy/) refer to what exists: settings, entry points, health routes,
ports; they parse; nginx accepts its configurations and systemd its units. (Docker and
Kubernetes themselves cannot run here.)"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.settings import PREFIX, Settings
from tests.conftest import REPO, free_port

DEPLOY = REPO / "deploy"
OURS = [p for p in DEPLOY.rglob("*") if p.is_file() and "prometheus" not in p.parts]
MODULES = {"bot.gateway", "bot.actions.server", "bot.cluster.rasa_server"}


def _yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def test_every_yaml_file_parses() -> None:
    files = [p for p in OURS if p.suffix in (".yml", ".yaml")]
    assert len(files) >= 9
    for path in files:
        assert _yaml_docs(path), path


def test_every_setting_named_in_deploy_exists() -> None:
    known = {PREFIX + f.name.upper() for f in fields(Settings)}
    used = {name for p in OURS for name in re.findall(r"BUERGERBOT_[A-Z0-9_]+", p.read_text())}
    assert used, "no settings found"
    assert used - known == set()


def _commands() -> list[list[str]]:
    out: list[list[str]] = []
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    out += [s["command"] for s in compose["services"].values()
            if s.get("image") == "buergerbot:latest"]
    for path in (DEPLOY / "kubernetes").glob("*.yaml"):
        for doc in _yaml_docs(path):
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            out += [c["command"] for c in spec.get("containers", [])]
    for unit in (DEPLOY / "systemd").glob("*.service"):
        line = next(ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart="))
        program, *rest = line.removeprefix("ExecStart=").split()
        assert program.startswith("/opt/buergerbot/.venv/bin/"), program
        out.append([Path(program).name, *rest])
    return out


def test_every_command_is_a_real_entry_point() -> None:
    commands = _commands()
    assert len(commands) >= 10
    seen = set()
    for cmd in commands:
        if cmd[0] == "buergerbot":
            build_parser().parse_args(cmd[1:])  # exits on an unknown subcommand
            seen.add(" ".join(cmd[:2]))
        else:
            assert cmd[:2] == ["python", "-m"], cmd
            module = cmd[2]
            assert module in MODULES, module
            spec = importlib.util.find_spec(module)
            assert spec is not None, module
            seen.add(module)
    assert MODULES <= seen and "buergerbot migrate" in seen


def test_kubernetes_probes_and_ports_match_the_components() -> None:
    from bot.gateway.app import create_app

    app = create_app(Settings.load(env={}, rasa_port=free_port(), action_port=free_port()))
    gateway_paths = {r.resource.canonical for r in app.router.routes() if r.resource}
    expected = {"gateway": ("8080", {"/health/ready", "/health/live"}),
                "rasa": ("5005", {"/"}), "action": ("5055", {"/health"})}
    found = {}
    for path in (DEPLOY / "kubernetes").glob("*.yaml"):
        for doc in _yaml_docs(path):
            if doc["kind"] != "Deployment":
                continue
            [container] = doc["spec"]["template"]["spec"]["containers"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            port = str(container["ports"][0]["containerPort"])
            role = container["name"]
            assert env[f"BUERGERBOT_{role.upper()}_PORT"] == port
            probes = {container[p]["httpGet"]["path"]
                      for p in ("startupProbe", "readinessProbe", "livenessProbe")}
            found[role] = (port, probes)
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert found == expected
    assert {"/health/ready", "/health/live"} <= gateway_paths


def test_compose_settings_point_at_its_own_services() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["rasa"]["deploy"]["replicas"] == 2
    assert services["actions"]["deploy"]["replicas"] == 2
    assert services["gateway"]["deploy"]["replicas"] == 2
    env = services["gateway"]["environment"]
    assert env["BUERGERBOT_RASA_ENDPOINT"] == "http://nginx:5005"
    assert env["BUERGERBOT_ACTION_ENDPOINT"] == "http://nginx:5055"
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert env["BUERGERBOT_TRUSTED_PROXIES"] == subnet
    conf = (DEPLOY / "nginx" / "compose.conf").read_text()
    for host_port in ("gateway:8080", "rasa:5005", "actions:5055"):
        assert f"server {host_port} " in conf


@pytest.mark.parametrize("name", ["compose.conf", "buergerbot.conf"])
def test_nginx_accepts_the_shipped_configurations(name: str, tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).is_file():
        pytest.skip("nginx is not installed (Debian: apt-get install -y nginx)")
    text = (DEPLOY / "nginx" / name).read_text()
    # What only exists on the real machines: container names, TLS files, addresses.
    text = re.sub(r"server (gateway|rasa|actions):", "server 127.0.0.1:", text)
    text = re.sub(r"\s*ssl_certificate(_key)? [^;]+;", "", text).replace(" ssl http2", "")
    text = text.replace("10.0.1.10:", "127.0.0.1:")
    (tmp_path / "site.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ include {tmp_path}/site.conf; }}\n")
    check = subprocess.run([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", "stderr", "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("unit", ["buergerbot-gateway@8081.service",
                                  "buergerbot-rasa@5006.service",
                                  "buergerbot-actions@5056.service",
                                  "buergerbot-migrate.service"])
def test_systemd_accepts_the_units(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    venv = REPO / ".venv"  # the units name /opt/buergerbot/.venv, which is not here
    for path in (DEPLOY / "systemd").iterdir():
        text = path.read_text().replace("/opt/buergerbot/.venv", str(venv))
        (tmp_path / path.name).write_text(text)
    template = re.sub(r"@[^.]+\.", "@.", unit)
    if template != unit:
        shutil.copy(tmp_path / template, tmp_path / unit)
    text = (tmp_path / unit).read_text()
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "User=buergerbot",
                   "EnvironmentFile=/etc/buergerbot/buergerbot.env"):
        assert option in text, option
    check = subprocess.run([analyze, "verify", "--man=no", unit], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    problems = [ln for ln in (check.stdout + check.stderr).splitlines() if unit in ln
                or "buergerbot" in ln]
    assert check.returncode == 0 and problems == [], check.stdout + check.stderr
