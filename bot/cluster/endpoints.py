"""Rasa's ``endpoints.yml`` from our settings: action server, SQL tracker store, Redis lock store;
and its ``credentials.yml``: our REST channel.

Keys as Rasa 3.6 reads them: ``tracker_store: {type: SQL, dialect, url (host), port, db,
username, password, query}`` becomes ``SQLTrackerStore(host=url, **rest)`` and
``lock_store: {type: <module.Class>, url (host), port, db, password, use_ssl, key_prefix}``
becomes ``Class(endpoint_config=...)`` (rasa/core/tracker_store.py, rasa/core/lock_store.py);
the class is our :class:`bot.cluster.rasa_lock.RedisMutexLockStore` (two Redis round trips per
message instead of Rasa's seven, and atomic).
``credentials.yml`` names :class:`bot.rasa_channel.StrictRestInput` by its module path, as Rasa
loads a channel that is not one of its own; it is Rasa's ``rest`` channel (same URL) whose failed
turns answer 503 instead of an empty 200.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from bot.settings import PREFIX, Settings, SettingsError

# Rasa's lock keys in Redis start with this (alphanumeric, as RedisLockStore demands), so the
# locks never mix with the gateways' keys in the same Redis database.
LOCK_KEY_PREFIX = "buergerbot"
LOCK_STORE_CLASS = "bot.cluster.rasa_lock.RedisMutexLockStore"
REST_CHANNEL_CLASS = "bot.rasa_channel.StrictRestInput"


def tracker_store(url: str) -> dict[str, Any]:
    """The ``tracker_store`` section for an SQLAlchemy URL (postgresql://… or sqlite:///…)."""
    parts = urlsplit(url)
    dialect = parts.scheme.split("+", 1)[0]  # Rasa uses its own (synchronous) driver
    if dialect == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": unquote(parts.path[1:])}
    if dialect != "postgresql":
        raise SettingsError(f"{PREFIX}TRACKER_STORE_URL: nur postgresql:// oder sqlite:///")
    db = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not db:
        raise SettingsError(f"{PREFIX}TRACKER_STORE_URL: Rechner und Datenbank fehlen "
                            "(postgresql://benutzer:passwort@rechner:5432/datenbank)")
    section: dict[str, Any] = {"type": "SQL", "dialect": "postgresql", "url": parts.hostname,
                               "port": _port(parts, 5432, "TRACKER_STORE_URL"), "db": db}
    if parts.username:
        section["username"] = unquote(parts.username)
    if parts.password:
        section["password"] = unquote(parts.password)
    if parts.query:
        section["query"] = dict(parse_qsl(parts.query))
    return section


def lock_store(url: str) -> dict[str, Any]:
    """The ``lock_store`` section for a redis://[user:password@]host:port/db URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise SettingsError(f"{PREFIX}REDIS_URL: erwartet redis://rechner:6379/0")
    db_text = parts.path.lstrip("/") or "0"
    if not db_text.isdigit():
        raise SettingsError(f"{PREFIX}REDIS_URL: die Datenbank ist eine Zahl (…/0)")
    section: dict[str, Any] = {"type": LOCK_STORE_CLASS, "url": parts.hostname,
                               "port": _port(parts, 6379, "REDIS_URL"), "db": int(db_text),
                               "key_prefix": LOCK_KEY_PREFIX}
    if parts.username:
        section["username"] = unquote(parts.username)
    if parts.password:
        section["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        section["use_ssl"] = True
    return section


def rasa_endpoints(settings: Settings) -> str:
    """The YAML body of Rasa's endpoints.yml."""
    config: dict[str, Any] = {"action_endpoint": {"url": f"{settings.action_url}/webhook"}}
    if settings.tracker_store_url:
        config["tracker_store"] = tracker_store(settings.tracker_store_url)
    if settings.redis_url:
        config["lock_store"] = lock_store(settings.redis_url)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def rasa_credentials() -> str:
    """The YAML body of Rasa's credentials.yml: our REST channel, no settings."""
    return f"{REST_CHANNEL_CLASS}:\n"


def _port(parts: Any, default: int, name: str) -> int:
    try:
        return int(parts.port or default)
    except ValueError as err:  # urlsplit raises on a port outside 0..65535 or not a number
        raise SettingsError(f"{PREFIX}{name}: ungültiger Port") from err
