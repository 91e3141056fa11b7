"""The voice line's configuration: one frozen dataclass, validated on creation.

The gateway's :class:`bot.settings.Settings` is the only place that reads configuration;
:meth:`VoiceSettings.from_settings` picks the voice fields from it (``vosk_model_path``,
``tts_engine``, ...). Fields the settings object does not have yet keep their defaults here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from voice.errors import ConfigError
from voice.vad import VadConfig

TTS_ENGINES = ("espeak-lib", "espeak-ng", "pico", "piper")


@dataclass(frozen=True, slots=True)
class Prompts:
    """Everything the bot says on its own (German, for citizens)."""

    greeting: str = ("Guten Tag, hier ist der digitale Bürgerservice der Stadt. "
                     "Wie kann ich Ihnen helfen? Wenn Sie mit einem Menschen sprechen möchten, "
                     "drücken Sie jederzeit die Null.")
    reprompt: str = ("Sind Sie noch da? Sagen Sie mir bitte, wie ich Ihnen helfen kann, oder "
                     "drücken Sie die Null für eine Mitarbeiterin oder einen Mitarbeiter.")
    goodbye: str = ("Ich höre Sie leider nicht mehr. Rufen Sie gern noch einmal an. "
                    "Auf Wiederhören!")
    transfer: str = ("Ich verbinde Sie jetzt mit einer Mitarbeiterin oder einem Mitarbeiter. "
                     "Bitte bleiben Sie dran.")
    not_understood: str = ("Entschuldigung, das habe ich nicht verstanden. "
                           "Können Sie das bitte wiederholen?")
    no_answer: str = ("Dazu kann ich leider nichts sagen. Können Sie Ihre Frage anders stellen? "
                      "Oder drücken Sie die Null für eine Mitarbeiterin oder einen Mitarbeiter.")
    technical_problem: str = ("Entschuldigung, ich habe gerade technische Schwierigkeiten. "
                              "Bitte versuchen Sie es gleich noch einmal, oder drücken Sie die "
                              "Null für eine Mitarbeiterin oder einen Mitarbeiter.")
    links_sent_sms: str = "Gut, ich habe Ihnen den Link per SMS geschickt."
    links_sent_email: str = "Gut, ich habe Ihnen den Link per E-Mail geschickt."
    links_unavailable: str = ("Das Verschicken ist gerade leider nicht möglich. Sie finden die "
                              "Informationen auch auf der Internetseite der Stadt.")
    busy: str = ("Leider sind gerade alle Leitungen belegt. Bitte rufen Sie später noch einmal "
                 "an. Auf Wiederhören!")


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    # Directory of an unpacked Vosk model (e.g. var/models/vosk-model-small-de-0.15).
    model_path: Path | None = None
    # "espeak-lib" (libespeak-ng from the espeakng-loader wheel, no system package),
    # "espeak-ng" or "pico" (Debian packages), "piper" (needs piper_voice).
    tts_engine: str = "espeak-lib"
    tts_voice: str = "de"
    tts_words_per_minute: int = 165
    piper_binary: str = "piper"
    piper_voice: Path | None = None
    # Threads for Vosk decoding and in-process synthesis.
    worker_threads: int = 2
    max_calls: int = 8
    # End of utterance, barge-in and silence handling (milliseconds of call audio).
    vad: VadConfig = field(default_factory=VadConfig)
    reprompt_after_ms: int = 8000
    max_reprompts: int = 1
    dtmf_timeout_ms: int = 3000
    # How far real-time playback runs ahead of the clock; small so barge-in stops it quickly.
    playback_lead_ms: int = 120
    # Restrict recognition to the offered choices plus these phrases (catalogue service
    # names) while a choice is open, where the model supports grammars.
    phrase_hints: tuple[str, ...] = ()
    use_grammar: bool = True
    transfer_target: str = "staff"
    prompts: Prompts = field(default_factory=Prompts)

    def __post_init__(self) -> None:
        if self.tts_engine not in TTS_ENGINES:
            raise ConfigError(f"Unbekannte Sprachausgabe {self.tts_engine!r}; erlaubt: "
                              f"{', '.join(TTS_ENGINES)}")
        if self.tts_engine == "piper" and self.piper_voice is None:
            raise ConfigError("Für Piper muss eine Stimme (piper_voice, .onnx) angegeben sein")
        if not 80 <= self.tts_words_per_minute <= 450:
            raise ConfigError("tts_words_per_minute muss zwischen 80 und 450 liegen")
        for name in ("worker_threads", "max_calls"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} muss mindestens 1 sein")
        if self.reprompt_after_ms < 1000 or self.dtmf_timeout_ms < 500:
            raise ConfigError("Zeitlimits für Stille und Tastenwahl sind zu kurz")
        if self.max_reprompts < 0:
            raise ConfigError("max_reprompts darf nicht negativ sein")
        if not 20 <= self.playback_lead_ms <= 60000:
            raise ConfigError("playback_lead_ms muss zwischen 20 und 60000 liegen")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> VoiceSettings:
        """Pick the voice fields from the gateway's settings (proposed names, see docs/VOICE.md)."""
        mapping = {
            "model_path": "vosk_model_path", "tts_engine": "tts_engine",
            "tts_voice": "tts_voice", "piper_binary": "piper_binary",
            "piper_voice": "piper_voice", "worker_threads": "worker_threads",
            "max_calls": "voice_max_calls",
        }
        values: dict[str, Any] = {}
        for ours, theirs in mapping.items():
            value = getattr(settings, theirs, None)
            if value not in (None, ""):
                values[ours] = Path(value) if ours in ("model_path", "piper_voice") else value
        end_silence = getattr(settings, "voice_end_silence_ms", None)
        if end_silence:
            values["vad"] = VadConfig(end_silence_ms=int(end_silence))
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known})
        return cls(**values)
