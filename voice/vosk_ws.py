"""A WebSocket endpoint that speaks vosk-server's protocol, for PBXs and tools that have a
vosk-server client (Asterisk's res_speech_vosk, FreeSWITCH modules, jambonz, scripts).

Client: an optional text message ``{"config": {"sample_rate": 8000, "words": true,
"max_alternatives": 0, "phrase_list": [...]}}``, then binary s16le mono audio at that rate,
then ``{"eof" : 1}``. Server: one JSON reply per audio message, a result at an endpoint
(``{"text", "result"}``) or else ``{"partial"}``; after eof the final result, then it closes.
``{"reset" : 1}`` returns the final result and goes on.

Differences from vosk-server, on purpose: the model is ours and read-only (a ``model`` key is
refused); audio is resampled to the model's 16 kHz by us; a malformed message gets
``{"error": {"code", "message"}}`` instead of a dropped connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from voice.asr import RecognitionStream
from voice.audio import StreamResampler
from voice.errors import AsrError
from voice.runtime import VoiceRuntime

log = structlog.get_logger(__name__)

DEFAULT_RATE = 8000  # vosk-server's default


class VoskWireError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Config:
    sample_rate: int = DEFAULT_RATE
    words: bool = True
    max_alternatives: int = 0
    phrase_list: tuple[str, ...] | None = None

    def to_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sample_rate": self.sample_rate, "words": self.words,
                                "max_alternatives": self.max_alternatives}
        if self.phrase_list is not None:
            data["phrase_list"] = list(self.phrase_list)
        return {"config": data}


@dataclass(frozen=True, slots=True)
class Eof:
    def to_wire(self) -> dict[str, Any]:
        return {"eof": 1}


@dataclass(frozen=True, slots=True)
class Reset:
    def to_wire(self) -> dict[str, Any]:
        return {"reset": 1}


Control = Config | Eof | Reset


def control_from_wire(raw: str, current: Config | None = None) -> Control:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise VoskWireError("vosk-bad-message", "message is not JSON") from err
    if not isinstance(data, dict):
        raise VoskWireError("vosk-bad-message", "message must be an object")
    if "eof" in data:
        return Eof()
    if "reset" in data:
        return Reset()
    config = data.get("config")
    if not isinstance(config, dict):
        raise VoskWireError("vosk-bad-message", "expected config, eof or reset")
    if "model" in config:
        raise VoskWireError("vosk-model-change-refused", "the model is fixed by the server")
    base = current or Config()
    try:
        rate = int(float(config.get("sample_rate", base.sample_rate)))
        alternatives = int(config.get("max_alternatives", base.max_alternatives))
    except (TypeError, ValueError) as err:
        raise VoskWireError("vosk-bad-config", "sample_rate and max_alternatives are "
                            "numbers") from err
    if not 8000 <= rate <= 96000 or not 0 <= alternatives <= 10:
        raise VoskWireError("vosk-bad-config", "sample_rate or max_alternatives out of range")
    phrases = config.get("phrase_list", base.phrase_list)
    if phrases is not None and (not isinstance(phrases, (list, tuple))
                                or not all(isinstance(p, str) for p in phrases)):
        raise VoskWireError("vosk-bad-config", "phrase_list must be a list of strings")
    return Config(rate, bool(config.get("words", base.words)), alternatives,
                  tuple(phrases) if phrases is not None else None)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


async def handle_vosk_connection(ws: web.WebSocketResponse, runtime: VoiceRuntime) -> None:
    config = Config()
    stream: RecognitionStream | None = None
    resampler: StreamResampler | None = None
    async for msg in ws:
        try:
            if msg.type is WSMsgType.TEXT:
                control = control_from_wire(msg.data, config)
                if isinstance(control, Config):
                    if stream is not None:
                        raise VoskWireError("vosk-config-too-late",
                                            "config must come before the audio")
                    config = control
                    continue
                final = await stream.final_json() if stream is not None \
                    else json.dumps({"text": ""})
                await ws.send_str(final)
                if isinstance(control, Eof):
                    break
                continue
            if msg.type is not WSMsgType.BINARY:
                continue
            if len(msg.data) % 2:
                raise VoskWireError("vosk-bad-audio", "audio must be 16-bit samples")
            if stream is None:
                stream = await runtime.open_stream()
                grammar = None
                if config.phrase_list:
                    grammar = runtime.model.known_phrases(config.phrase_list) or None
                await stream.configure(words=config.words,
                                       max_alternatives=config.max_alternatives,
                                       grammar=grammar)
                resampler = StreamResampler(config.sample_rate, 16000)
            assert resampler is not None
            await ws.send_str(await stream.process_chunk(resampler.process_pcm(msg.data)))
        except VoskWireError as err:
            await ws.send_json(_error(err.code, err.message))
        except AsrError as err:
            log.error("voice.vosk_ws.failed", code=err.code)
            await ws.send_json(_error(err.code, "recognition failed"))
            break
    await ws.close()
