"""One error hierarchy for the voice line, with stable codes (the UI maps codes to German texts).

Stage boundaries translate anything unexpected into one of these (``raise AsrError(...) from
err``); ``asyncio.CancelledError`` always passes through untouched.
"""

from __future__ import annotations


class VoiceError(Exception):
    code = "voice-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(VoiceError):
    code = "voice-config-invalid"


class AsrError(VoiceError):
    code = "asr-stream-failed"


class ModelMissing(AsrError):
    code = "asr-model-missing"


class TtsError(VoiceError):
    code = "tts-failed"


class TtsUnavailable(TtsError):
    code = "tts-engine-unavailable"


class DialogueFailed(VoiceError):
    code = "dialogue-unavailable"


class ProtocolError(VoiceError):
    code = "protocol-malformed-frame"


class DownloadError(VoiceError):
    code = "download-failed"


class ChecksumMismatch(DownloadError):
    code = "download-checksum-mismatch"
