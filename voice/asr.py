"""Speech recognition with Vosk: the model is loaded once per process and read-only afterwards;
every call gets its own recogniser; every Vosk call runs on the runtime's bounded executor.

Audio reaches the recogniser at 16 kHz; callers' audio is resampled to it before (see
:class:`voice.audio.StreamResampler`). Phrase hints become a Vosk grammar where the model has a
dynamic graph (``graph/HCLr.fst`` + ``Gr.fst``, as the small models do); a static ``HCLG.fst``
model ignores them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from voice.audio import ASR_RATE
from voice.errors import AsrError, ModelMissing
from voice.executor import BlockingRunner

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    confidence: float
    start: float
    end: float

    def to_wire(self) -> dict[str, Any]:
        return {"word": self.word, "conf": self.confidence, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    words: tuple[Word, ...] = ()

    @property
    def confidence(self) -> float | None:
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)

    def to_wire(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": self.confidence,
                "words": [w.to_wire() for w in self.words]}


def parse_result(raw: str) -> Transcript:
    """A Vosk result JSON → :class:`Transcript` (``[unk]`` words dropped)."""
    data = json.loads(raw)
    words = tuple(Word(str(w["word"]), float(w.get("conf", 1.0)), float(w.get("start", 0.0)),
                       float(w.get("end", 0.0)))
                  for w in data.get("result", []) if w.get("word") != "[unk]")
    text = " ".join(t for t in str(data.get("text", "")).split() if t != "[unk]")
    return Transcript(text, words)


def model_supports_grammar(path: Path) -> bool:
    return (path / "graph" / "HCLr.fst").is_file() and (path / "graph" / "Gr.fst").is_file()


class AsrModel:
    """One loaded Vosk model, shared read-only by all calls of this process."""

    def __init__(self, path: Path, model: Any) -> None:
        self.path = path
        self._model = model
        self.supports_grammar = model_supports_grammar(path)
        self._entries: dict[str, str | None] = {}  # phrase → grammar entry (None: unusable)

    @classmethod
    def load(cls, path: Path | None) -> AsrModel:
        """Blocking (seconds): call it on the executor, once, at start."""
        if path is None:
            raise ModelMissing("Kein Spracherkennungsmodell konfiguriert (vosk_model_path)")
        if not (path / "am" / "final.mdl").is_file():
            raise ModelMissing(f"Kein Vosk-Modell in {path} (am/final.mdl fehlt)")
        import vosk

        vosk.SetLogLevel(-1 if log_level_quiet() else 0)
        try:
            model = vosk.Model(str(path))
        except Exception as err:  # vosk raises a bare Exception when loading fails
            raise ModelMissing(f"Vosk-Modell in {path} lässt sich nicht laden") from err
        return cls(path, model)

    def knows(self, word: str) -> bool:
        return bool(self._model.vosk_model_find_word(word) >= 0)

    def known_phrases(self, phrases: tuple[str, ...]) -> list[str]:
        """Phrases all of whose words the model knows, lower-cased (grammar entries)."""
        out: list[str] = []
        for phrase in phrases:
            entry = self._entries.get(phrase, "")
            if entry == "":  # not looked at yet
                words = re.sub(r"[^\w\s]", " ", phrase.lower()).split()
                entry = " ".join(words) if words and all(self.knows(w) for w in words) else None
                self._entries[phrase] = entry
            if entry:
                out.append(entry)
        return list(dict.fromkeys(out))

    def recogniser(self, grammar: list[str] | None = None) -> Any:
        import vosk

        if grammar:
            rec = vosk.KaldiRecognizer(self._model, ASR_RATE,
                                       json.dumps(grammar, ensure_ascii=False))
        else:
            rec = vosk.KaldiRecognizer(self._model, ASR_RATE)
        rec.SetWords(True)
        return rec


def log_level_quiet() -> bool:
    return logging.getLogger().getEffectiveLevel() > logging.DEBUG


class RecognitionStream:
    """One call's recogniser. Audio is 16 kHz s16le.

    A Kaldi recogniser used from two threads at once aborts the whole process, so every call
    into it goes through one lock: callers cannot get this wrong.
    """

    def __init__(self, model: AsrModel, runner: BlockingRunner, recogniser: Any) -> None:
        self._model = model
        self._runner = runner
        self._rec = recogniser
        self._lock = asyncio.Lock()
        self._segments: list[Transcript] = []
        self._grammar_set = False

    @classmethod
    async def open(cls, model: AsrModel, runner: BlockingRunner) -> RecognitionStream:
        try:
            rec = await runner.run(model.recogniser)
        except Exception as err:
            log.error("voice.asr.open_failed", error=type(err).__name__)
            raise AsrError("Erkenner konnte nicht erstellt werden") from err
        return cls(model, runner, rec)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        async with self._lock:
            job = asyncio.ensure_future(self._runner.run(fn, *args))
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                # The thread is still inside Kaldi: keep the lock until it is out.
                await asyncio.wait([job])
                raise

    async def begin(self, grammar: tuple[str, ...] | None = None) -> bool:
        """Start a new utterance; returns whether a grammar is in effect."""
        phrases = self._model.known_phrases(grammar) if grammar and self._model.supports_grammar \
            else []
        use = bool(phrases)
        self._segments = []
        try:
            unk = ["[unk]"] if self._model.knows("[unk]") else []
            await self._run(self._reset, phrases + unk if use else None)
        except Exception as err:
            raise AsrError("Erkenner konnte nicht zurückgesetzt werden") from err
        return use

    def _reset(self, grammar: list[str] | None) -> None:
        self._rec.Reset()
        if grammar is not None:
            self._rec.SetGrammar(json.dumps(grammar, ensure_ascii=False))
            self._grammar_set = True
        elif self._grammar_set:
            self._rec.SetGrammar("[]")  # back to the full vocabulary
            self._grammar_set = False

    def _accept(self, pcm: bytes) -> tuple[str | None, str]:
        if self._rec.AcceptWaveform(pcm):
            # Vosk's own endpointing closed a segment inside our utterance; keep it.
            return self._rec.Result(), ""
        return None, str(json.loads(self._rec.PartialResult()).get("partial", ""))

    async def accept(self, pcm: bytes) -> str:
        """Feed audio; return the partial text of the utterance so far."""
        try:
            segment, partial = await self._run(self._accept, pcm)
        except Exception as err:
            log.error("voice.asr.failed", error=type(err).__name__)
            raise AsrError("Spracherkennung fehlgeschlagen") from err
        if segment is not None:
            parsed = parse_result(segment)
            if parsed.text:
                self._segments.append(parsed)
        return " ".join([s.text for s in self._segments] + ([partial] if partial else []))

    async def finish(self) -> Transcript:
        """End the utterance; the final transcript with word confidences."""
        try:
            raw = await self._run(self._rec.FinalResult)
        except Exception as err:
            log.error("voice.asr.failed", error=type(err).__name__)
            raise AsrError("Spracherkennung fehlgeschlagen") from err
        parts = self._segments + [parse_result(raw)]
        self._segments = []
        words = tuple(w for p in parts for w in p.words)
        return Transcript(" ".join(p.text for p in parts if p.text), words)

    # -- raw access for the vosk-server compatible endpoint -----------------------------------
    def _process_chunk(self, pcm: bytes) -> str:
        if self._rec.AcceptWaveform(pcm):
            return str(self._rec.Result())
        return str(self._rec.PartialResult())

    async def process_chunk(self, pcm: bytes) -> str:
        """vosk-server semantics: a result JSON at an endpoint, else a partial JSON."""
        try:
            return await self._run(self._process_chunk, pcm)
        except Exception as err:
            raise AsrError("Spracherkennung fehlgeschlagen") from err

    async def final_json(self) -> str:
        try:
            return str(await self._run(self._rec.FinalResult))
        except Exception as err:
            raise AsrError("Spracherkennung fehlgeschlagen") from err

    async def configure(self, *, words: bool, max_alternatives: int,
                        grammar: list[str] | None) -> None:
        def apply() -> None:
            self._rec.SetWords(words)
            self._rec.SetMaxAlternatives(max_alternatives)
            if grammar is not None and self._model.supports_grammar:
                self._rec.SetGrammar(json.dumps(grammar, ensure_ascii=False))

        await self._run(apply)
