"""The cluster's pure parts: ports, Rasa endpoint sections, the nginx configuration (checked by
the real nginx), the children's settings, and the supervisor's start stages and stop order with
real child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cluster import nginx
from bot.cluster.endpoints import lock_store, rasa_endpoints, tracker_store
from bot.cluster.layout import ClusterError, ClusterLayout
from bot.cluster.run import busy_ports, child_settings, instance_specs
from bot.settings import Settings, SettingsError
from bot.supervisor import ChildSpec, Supervisor
from tests.cluster.conftest import pid_alive
from tests.conftest import free_block


def _settings(tmp_path: Path, **changes) -> Settings:
    return Settings.load(env={}, state_dir=tmp_path, **changes)


def test_ports_follow_the_three_balancer_ports(tmp_path: Path) -> None:
    layout = ClusterLayout.from_settings(_settings(tmp_path))
    assert (layout.public_port, layout.gateway_ports) == (8080, (8081, 8082))
    assert (layout.rasa_lb_port, layout.rasa_ports) == (5005, (5006, 5007))
    assert (layout.action_lb_port, layout.action_ports) == (5055, (5056, 5057))
    assert (layout.postgres_port, layout.redis_port) == (5433, 6380)
    assert layout.base == tmp_path / "cluster"
    three = ClusterLayout.from_settings(_settings(tmp_path), instances=3)
    assert three.rasa_ports == (5006, 5007, 5008)


def test_overlapping_ports_and_bad_counts_are_refused_in_german(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="Port 5006 ist doppelt vergeben"):
        ClusterLayout.from_settings(_settings(tmp_path, action_port=5006))
    with pytest.raises(ClusterError, match="zwischen 1 und"):
        ClusterLayout.from_settings(_settings(tmp_path), instances=0)
    with pytest.raises(ClusterError, match="außerhalb"):
        ClusterLayout.from_settings(_settings(tmp_path, gateway_port=65535))


def test_busy_ports_are_named(tmp_path: Path) -> None:
    base = free_block(9)
    layout = ClusterLayout.from_settings(
        _settings(tmp_path, gateway_port=base, rasa_port=base + 3, action_port=base + 6),
        postgres_port=free_block(1), redis_port=free_block(1))
    assert busy_ports(layout) == []
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 4))
        taken.listen()
        assert busy_ports(layout) == [f"rasa-1 ({base + 4})"]


def test_rasa_store_sections_use_rasa_36_keys() -> None:
    assert tracker_store("postgresql+asyncpg://bb:p%40ss@db.intern:5432/buergerbot"
                         "?sslmode=require") == {
        "type": "SQL", "dialect": "postgresql", "url": "db.intern", "port": 5432,
        "db": "buergerbot", "username": "bb", "password": "p@ss",
        "query": {"sslmode": "require"}}
    assert tracker_store("sqlite:///var/rasa.db") == {"type": "SQL", "dialect": "sqlite",
                                                       "db": "var/rasa.db"}
    assert lock_store("rediss://:geheim@redis.intern:6380/2") == {
        "type": "bot.cluster.rasa_lock.RedisMutexLockStore", "url": "redis.intern",
        "port": 6380, "db": 2,
        "key_prefix": "buergerbot", "password": "geheim", "use_ssl": True}
    with pytest.raises(SettingsError, match="Rechner und Datenbank"):
        tracker_store("postgresql:///")
    with pytest.raises(SettingsError, match="Zahl"):
        lock_store("redis://r:6379/locks")


def test_endpoints_without_cluster_settings_are_as_before(tmp_path: Path) -> None:
    assert yaml.safe_load(rasa_endpoints(_settings(tmp_path))) == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"}}


def test_instances_reach_each_other_through_the_balancers(tmp_path: Path) -> None:
    settings = _settings(tmp_path, trusted_proxies=("10.0.0.0/8",))
    layout = ClusterLayout.from_settings(settings)
    shared = child_settings(settings, layout, "postgresql://b:pw@127.0.0.1:5433/buergerbot",
                            "redis://:pw@127.0.0.1:6380/0")
    assert shared.rasa_url == "http://127.0.0.1:5005"  # the gateways ask nginx
    assert shared.action_url == "http://127.0.0.1:5055"  # so does Rasa
    assert shared.tracker_store_url == shared.database_url
    assert shared.trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")
    specs = {s.name: s for s in instance_specs(shared, layout, tmp_path / "m.tar.gz",
                                               lambda s: s.to_env())}
    assert sorted(specs) == ["action_server-1", "action_server-2", "gateway-1", "gateway-2",
                             "rasa-1", "rasa-2"]
    assert specs["gateway-2"].env["BUERGERBOT_GATEWAY_PORT"] == "8082"
    assert specs["gateway-2"].env["BUERGERBOT_RASA_ENDPOINT"] == "http://127.0.0.1:5005"
    assert specs["action_server-1"].env["BUERGERBOT_ACTION_PORT"] == "5056"
    assert "--port" in specs["rasa-2"].argv and "5007" in specs["rasa-2"].argv
    assert specs["rasa-1"].env["TICKET_LOCK_LIFETIME"] == "20"
    # The first gateway migrates the database before the second starts.
    assert specs["gateway-1"].stage < specs["gateway-2"].stage


def test_nginx_configuration_is_valid_for_the_real_nginx(tmp_path: Path) -> None:
    try:
        binary = nginx.binary()
    except ClusterError as err:
        pytest.skip(str(err))
    layout = ClusterLayout.from_settings(_settings(tmp_path, host="0.0.0.0"))
    text = nginx.render_config(layout, prefix=tmp_path, user=None)
    assert "listen 0.0.0.0:8080;" in text and "listen 127.0.0.1:5005;" in text
    assert text.count("proxy_next_upstream error timeout;") == 2  # gateways, Rasa: never resend
    assert text.count("proxy_next_upstream error timeout non_idempotent;") == 1  # actions
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in text
    assert "daemon off;" in text
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    (tmp_path / "temp").mkdir()
    check = subprocess.run([binary, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-t"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


# -- the supervisor's stages, with real processes ---------------------------------------------
CHILD = """
import functools, http.server, pathlib, signal, sys
name, port, trace = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
def log(what):
    with trace.open("a") as fh:
        fh.write(f"{what} {name}\\n")
def stop(signum, _):
    log(f"stop({signal.Signals(signum).name})")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(trace.parent))
server = http.server.HTTPServer(("127.0.0.1", port), handler)
log("start")
server.serve_forever()
"""


async def test_stages_start_in_order_and_stop_backwards(tmp_path: Path) -> None:
    import signal

    trace = tmp_path / "trace"
    base = free_block(3)

    def spec(name: str, offset: int, stage: int, stop: signal.Signals) -> ChildSpec:
        port = base + offset
        return ChildSpec(name, (sys.executable, "-c", CHILD, name, str(port), str(trace)),
                         f"http://127.0.0.1:{port}/", port=port,
                         stage=stage, stop_signal=stop)

    specs = [spec("lb", 2, 9, signal.SIGTERM), spec("db", 0, 0, signal.SIGINT),
             spec("app", 1, 1, signal.SIGTERM)]
    supervisor = Supervisor(specs, tmp_path / "run", progress=lambda _: None)
    try:
        await supervisor.start(timeout=60)
        status = json.loads((tmp_path / "run" / "supervisor.json").read_text())["children"]
        assert {n: c["port"] for n, c in status.items()} == {"lb": base + 2, "db": base,
                                                              "app": base + 1}
        pids = [c["pid"] for c in status.values()]
    finally:
        await supervisor.stop()
    assert trace.read_text().split("\n")[:-1] == [
        "start db", "start app", "start lb",
        "stop(SIGTERM) lb", "stop(SIGTERM) app", "stop(SIGINT) db"]
    assert not any(pid_alive(p) for p in pids)


async def test_a_stage_that_never_gets_healthy_stops_the_start(tmp_path: Path) -> None:
    from bot.supervisor import StartupFailed

    port = free_block(1)  # nothing listens there
    specs = [ChildSpec("db", (sys.executable, "-c", "import time; time.sleep(60)"),
                       f"http://127.0.0.1:{port}/", stage=0),
             ChildSpec("app", (sys.executable, "-c", "import time; time.sleep(60)"),
                       f"http://127.0.0.1:{port}/", stage=1)]
    supervisor = Supervisor(specs, tmp_path / "run", progress=lambda _: None)
    with pytest.raises(StartupFailed, match="Nicht rechtzeitig bereit: db"):
        await supervisor.start(timeout=2)
    await supervisor.stop()
    app = next(c for c in supervisor.children if c.spec.name == "app")
    assert app.process is None  # the later stage was never started


async def test_without_a_gateway_nginx_answers_with_the_api_error_shape(tmp_path: Path) -> None:
    try:
        nginx.binary()
    except ClusterError as err:
        pytest.skip(str(err))
    import aiohttp

    base = free_block(9)
    layout = ClusterLayout.from_settings(
        _settings(tmp_path, gateway_port=base, rasa_port=base + 3, action_port=base + 6))
    supervisor = Supervisor([nginx.spec(layout)], tmp_path / "run", progress=lambda _: None)
    try:
        await supervisor.start(timeout=30)  # the gateways behind it are not running
        async with aiohttp.ClientSession() as session, session.post(
                f"{layout.public_url}/api/v1/chat", json={"conversation_id": "c", "text": "x"},
                headers={"X-Forwarded-For": "198.51.100.1"}) as resp:
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "5"
            body = await resp.json()
        assert body["error"]["code"] == "service-unavailable"
        assert "nicht erreichbar" in body["error"]["message"]
    finally:
        await supervisor.stop()
