"""The browser voice page for real: headless Chromium with a fake microphone that plays
synthetic speech, driven over the DevTools protocol. Skips without Debian's chromium."""

from __future__ import annotations

import asyncio
import json
import shutil
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.messages import BotMessage
from tests.voice.voice_helpers import (
    RecordingDialogue,
    RecordingQueue,
    espeak,
    silence,
    voice_settings,
)
from voice.settings import Prompts
from voice.web import VoiceDeps, create_voice_app

Client = Callable[[web.Application], Awaitable[TestClient]]


class DevTools:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._id = 0

    async def evaluate(self, expression: str) -> Any:
        self._id += 1
        await self._ws.send_json({"id": self._id, "method": "Runtime.evaluate",
                                  "params": {"expression": expression, "returnByValue": True,
                                             "userGesture": True, "awaitPromise": True}})
        while True:
            reply = await self._ws.receive_json(timeout=30)
            if reply.get("id") == self._id:
                return reply["result"]["result"].get("value")


async def wait_for(devtools: DevTools, expression: str, timeout: float = 90) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := await devtools.evaluate(expression)):
            await asyncio.sleep(0.25)
    return value


async def test_voice_page_in_chromium(aiohttp_client: Client, ko_model_path: Path,
                                      tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian package chromium not installed")
    dialogue = RecordingDialogue(default=[BotMessage("Dafür brauchen Sie einen Termin.")])
    app = create_voice_app(voice_settings(ko_model_path, prompts=Prompts(greeting="Guten Tag.")),
                           lambda _app: VoiceDeps(dialogue, RecordingQueue()))
    client = await aiohttp_client(app)
    mic = tmp_path / "mic.wav"
    with wave.open(str(mic), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        wav.writeframes(silence(2500, 48000) + espeak("여권을 신청하고 싶습니다", "ko", 48000)
                        + silence(6000, 48000))
    profile = tmp_path / "profile"
    proc = await asyncio.create_subprocess_exec(
        chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}", "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}", "--remote-debugging-port=0",
        f"http://127.0.0.1:{client.port}/voice",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        async with asyncio.timeout(60):
            while not port_file.is_file() or not port_file.read_text().strip():
                await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(30):
                while True:
                    targets = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                    pages = [t for t in targets if t["type"] == "page" and "/voice" in t["url"]]
                    if pages:
                        break
                    await asyncio.sleep(0.2)
            async with http.ws_connect(pages[0]["webSocketDebuggerUrl"],
                                       max_msg_size=0) as ws:
                devtools = DevTools(ws)
                # The page's script has run once its keypad is there.
                await wait_for(devtools, "document.querySelectorAll('#keypad button').length")
                await devtools.evaluate("document.getElementById('start').click()")
                await wait_for(devtools, "document.querySelector('#log .bot') !== null")
                caller = await wait_for(
                    devtools, "(document.querySelector('#log .caller') || {}).textContent")
                await wait_for(devtools, "document.querySelectorAll('#log .bot').length >= 2")
                log = await devtools.evaluate("document.getElementById('log').innerText")
                await devtools.evaluate(
                    "[...document.querySelectorAll('#keypad button')]"
                    ".find(b => b.textContent === '0').click()")
                status = await wait_for(
                    devtools, "document.getElementById('status').textContent.includes("
                              "'verbunden') && document.getElementById('status').textContent")
    finally:
        proc.terminate()
        await proc.wait()
    assert "Guten Tag." in log and "Dafür brauchen Sie einen Termin." in log
    assert caller and dialogue.calls[0][1] == caller
    assert status == "Sie werden mit einer Mitarbeiterin oder einem Mitarbeiter verbunden."
    assert json.dumps(log)  # the page's transcript is plain text
