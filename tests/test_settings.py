from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_use_loopback_and_sample_city() -> None:
    s = Settings.load(env={})
    assert s.host == "127.0.0.1" and s.gateway_port == 8080
    assert s.catalogue.name == "musterstadt.json"
    assert s.rasa_telemetry is False


def test_env_over_file_over_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text('gateway_port = 9000\nrasa_port = 6000\nallowed_origins = ["https://a.example"]\n')
    s = Settings.load(env={"BUERGERBOT_CONFIG": str(cfg), "BUERGERBOT_RASA_PORT": "6001"})
    assert (s.gateway_port, s.rasa_port) == (9000, 6001)
    assert s.allowed_origins == ("https://a.example",)
    assert Settings.load(env={}, config_file=cfg, gateway_port=9100).gateway_port == 9100


@pytest.mark.parametrize("env, fragment", [
    ({"BUERGERBOT_RASA_TELEMETRY": "yes"}, "Wahrheitswert"),
    ({"BUERGERBOT_GATEWAY_PORT": "80a"}, "GATEWAY_PORT"),
    ({"BUERGERBOT_GATEWAY_PORT": "70000"}, "1..65535"),
    ({"BUERGERBOT_NO_SUCH_THING": "1"}, "unbekannte Einstellung"),
    ({"BUERGERBOT_LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"BUERGERBOT_RASA_WORKERS": "0"}, "RASA_WORKERS"),
    ({"BUERGERBOT_RASA_WORKERS": "9"}, "RASA_WORKERS"),
    ({"BUERGERBOT_RASA_WORKERS": "2", "BUERGERBOT_RASA_ENDPOINT": "http://lb:5005"},
     "RASA_ENDPOINT"),
    ({"BUERGERBOT_RASA_WORKERS": "3", "BUERGERBOT_RASA_PORT": "65534"}, "fehlen Ports"),
])
def test_bad_values_fail_with_the_variable_named(env: dict, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.load(env=env)


def test_strict_bools_and_round_trip_through_env() -> None:
    s = Settings.load(env={"BUERGERBOT_RASA_TELEMETRY": "1", "BUERGERBOT_ALLOWED_ORIGINS": "a, b"})
    assert s.rasa_telemetry is True and s.allowed_origins == ("a", "b")
    assert Settings.load(env=s.to_env()) == s


def test_bad_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("gateway_port = \n")
    with pytest.raises(SettingsError, match="kein gültiges TOML"):
        Settings.load(env={}, config_file=bad)
    with pytest.raises(SettingsError, match="nicht gefunden"):
        Settings.load(env={}, config_file=tmp_path / "missing.toml")


def test_rasa_workers_sit_on_consecutive_ports() -> None:
    s = Settings.load(env={"BUERGERBOT_RASA_WORKERS": "3", "BUERGERBOT_RASA_PORT": "6000"})
    assert s.rasa_urls == ("http://127.0.0.1:6000", "http://127.0.0.1:6001",
                           "http://127.0.0.1:6002")
    assert Settings.load(env={}).rasa_urls == ("http://127.0.0.1:5005",)
    behind = Settings.load(env={"BUERGERBOT_RASA_ENDPOINT": "http://lb:5005/"})
    assert behind.rasa_urls == ("http://lb:5005",)
