"""nginx from Debian's package as the cluster's load balancer, in the foreground (``daemon off``).

Three servers: the public port → the gateways (WebSocket upgrade passed through, the client's
address appended to X-Forwarded-For), and on loopback a port → the Rasa servers and a port → the
action servers. ``proxy_next_upstream error timeout`` sends a request on to the next instance
when one cannot be reached; a request already sent is never repeated for POST (no turn is
answered twice) — except to the action servers, whose actions only read the catalogue and the
tracker they are sent, so repeating one is safe. An instance that failed is left out for
``FAIL_TIMEOUT``; a restarted one binds its port only once it is ready.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from bot.cluster.layout import INTERNAL_HOST, ClusterError, ClusterLayout
from bot.supervisor import ChildSpec

INSTALL_HINT = ("nginx ist nicht installiert (Debian: apt-get install -y nginx; "
                "`make run-cluster` installiert es als root selbst).")
HEALTH_PATH = "/nginx-health"
FAIL_TIMEOUT = "10s"
# Idle connections nginx keeps open to each upstream. Without them nginx opens (and the
# instance accepts and tears down) a new TCP connection for every request on every hop.
KEEPALIVE_CONNECTIONS = 32
# Shorter than every upstream's own idle timeout (Rasa SDK's Sanic 5 s, Rasa 120 s, the gateway's
# aiohttp 75 s), so nginx closes an idle connection before the instance does and never sends a
# request into a connection the instance is closing.
KEEPALIVE_TIMEOUT = "4s"
# The gateway pings its sockets every 30 s, so a quiet minute means the gateway is gone.
SOCKET_READ_TIMEOUT = "75s"
# When no gateway can answer (all down, or one died with the request), citizens get the API's
# JSON error shape instead of nginx's HTML page; the widget shows the message.
UNAVAILABLE_BODY = ('{"error": {"code": "service-unavailable", "message": "Der Dienst ist '
                    'gerade nicht erreichbar. Bitte versuchen Sie es in einigen Sekunden '
                    'erneut."}}')


def binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ClusterError(INSTALL_HINT)


def worker_user() -> str | None:
    """Workers drop root to Debian's web server user; unprivileged nginx keeps its user."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def _listen(host: str, port: int) -> str:
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _upstream(name: str, ports: tuple[int, ...]) -> list[str]:
    servers = [f"        server {INTERNAL_HOST}:{p} max_fails=1 fail_timeout={FAIL_TIMEOUT};"
               for p in ports]
    # The zone shares which instance failed between nginx's worker processes.
    return [f"    upstream {name} {{", f"        zone {name} 64k;", *servers,
            f"        keepalive {KEEPALIVE_CONNECTIONS};",
            f"        keepalive_timeout {KEEPALIVE_TIMEOUT};", "    }"]


def _balancer(listen: str, upstream: str, read_timeout: str, extra: list[str], *,
              repeat_sent: bool = False, fallback: list[str] | None = None) -> list[str]:
    retry = "error timeout non_idempotent" if repeat_sent else "error timeout"
    return [
        "    server {",
        f"        listen {listen};",
        f"        location = {HEALTH_PATH} {{ access_log off; return 200 \"ok\\n\"; }}",
        "        location / {",
        f"            proxy_pass http://{upstream};",
        "            proxy_http_version 1.1;",
        f"            proxy_next_upstream {retry};",
        "            proxy_next_upstream_tries 0;",
        "            proxy_connect_timeout 2s;",
        f"            proxy_read_timeout {read_timeout};",
        f"            proxy_send_timeout {read_timeout};",
        *extra,
        "        }",
        *(fallback or []),
        "    }",
    ]


def render_config(layout: ClusterLayout, *, prefix: Path, user: str | None) -> str:
    """The whole nginx.conf (pure: same layout, same text)."""
    temp = prefix.resolve() / "temp"
    public = [
        "            error_page 502 503 504 = @unavailable;",
        "            proxy_set_header Host $host;",
        "            proxy_set_header Upgrade $http_upgrade;",
        "            proxy_set_header Connection $connection_upgrade;",
        "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "            proxy_set_header X-Forwarded-Proto $scheme;",
        "            proxy_set_header X-Real-IP \"\";",
    ]
    internal = ["            proxy_set_header Connection \"\";"]
    unavailable = [
        "        location @unavailable {",
        "            default_type application/json;",
        "            add_header Retry-After 5 always;",
        f"            return 503 '{UNAVAILABLE_BODY}';",
        "        }",
    ]
    lines = [
        "# Generated by buergerbot cluster; do not edit (it is rewritten at every start).",
        *([f"user {user};"] if user else []),
        "daemon off;",
        "worker_processes 2;",
        f"pid {prefix.resolve() / 'nginx.pid'};",
        "error_log stderr warn;",
        "events { worker_connections 2048; }",
        "http {",
        "    access_log off;  # no citizen addresses on disk",
        "    server_tokens off;",
        "    client_max_body_size 1m;",
        # Bodies up to the limit stay in memory: a larger one (Rasa sends the whole tracker to
        # the action servers) would otherwise be written to a temporary file — citizens' words
        # on disk — and sent on in a second segment that waits for a delayed ACK (≈ 40 ms per
        # request on a kept-alive connection).
        "    client_body_buffer_size 1m;",
        "    proxy_max_temp_file_size 0;  # answers larger than the buffers are streamed, not stored",
        f"    client_body_temp_path {temp / 'client_body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
        # A WebSocket upgrade is passed on; any other request keeps the upstream connection
        # (an empty Connection header: nginx's keepalive, not "close").
        "    map $http_upgrade $connection_upgrade { default upgrade; '' ''; }",
        *_upstream("gateways", layout.gateway_ports),
        *_upstream("rasa_servers", layout.rasa_ports),
        *_upstream("action_servers", layout.action_ports),
        *_balancer(_listen(layout.host, layout.public_port), "gateways", SOCKET_READ_TIMEOUT,
                   public, fallback=unavailable),
        *_balancer(_listen(INTERNAL_HOST, layout.rasa_lb_port), "rasa_servers", "60s",
                   internal),
        *_balancer(_listen(INTERNAL_HOST, layout.action_lb_port), "action_servers", "60s",
                   internal, repeat_sent=True),
        "}",
        "",
    ]
    return "\n".join(lines)


def spec(layout: ClusterLayout) -> ChildSpec:
    """Write the configuration, let nginx check it, and describe the child."""
    prefix = layout.nginx_dir
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render_config(layout, prefix=prefix, user=worker_user()), encoding="utf-8")
    argv = (binary(), "-p", str(prefix.resolve()), "-c", str(conf.resolve()), "-e", "stderr")
    check = subprocess.run([*argv, "-t", "-q"], check=False, capture_output=True, text=True,
                           timeout=30)
    if check.returncode != 0:
        raise ClusterError(f"nginx-Konfiguration {conf} ist ungültig:\n{check.stderr[-2000:]}")
    health = f"{layout.public_url}{HEALTH_PATH}"
    return ChildSpec("nginx", argv, health, port=layout.public_port, stage=9)
