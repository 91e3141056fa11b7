"""Every typed wire message of the voice line round-trips (events, settings validation)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from voice.errors import ConfigError
from voice.events import EventType, VoiceEvent
from voice.settings import VoiceSettings


def test_every_event_type_round_trips() -> None:
    for type_ in EventType:
        event = VoiceEvent(type_, "call-1", {"text": "Grüß Gott", "n": 2}, 1.25)
        assert VoiceEvent.from_wire(event.to_wire()) == event


def test_malformed_events_are_rejected() -> None:
    with pytest.raises(TypeError):
        VoiceEvent.from_wire([])
    with pytest.raises(ValueError):
        VoiceEvent.from_wire({"type": "nope", "call_id": "c"})


def test_settings_are_validated_with_german_messages() -> None:
    with pytest.raises(ConfigError, match="Unbekannte Sprachausgabe"):
        VoiceSettings(tts_engine="say")
    with pytest.raises(ConfigError, match="Piper"):
        VoiceSettings(tts_engine="piper")
    with pytest.raises(ConfigError):
        VoiceSettings(max_calls=0)


def test_settings_from_the_gateway_settings() -> None:
    gateway = SimpleNamespace(vosk_model_path="var/models/vosk-model-small-de-0.15",
                              tts_engine="espeak-ng", worker_threads=3,
                              voice_end_silence_ms=700)
    settings = VoiceSettings.from_settings(gateway, max_reprompts=2)
    assert settings.model_path == Path("var/models/vosk-model-small-de-0.15")
    assert settings.tts_engine == "espeak-ng"
    assert settings.worker_threads == 3
    assert settings.vad.end_silence_ms == 700
    assert settings.max_reprompts == 2
    assert VoiceSettings.from_settings(SimpleNamespace()) == VoiceSettings()
