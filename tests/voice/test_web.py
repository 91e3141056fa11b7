"""The voice routes in an aiohttp app: the browser page and its WebSocket protocol, the
vosk-server compatible endpoint, the call route for the PBX, and a missing model."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from bot.messages import BotMessage
from tests.voice.voice_helpers import (
    RecordingDialogue,
    RecordingQueue,
    espeak,
    silence,
    voice_settings,
)
from voice.audio import AudioFormat
from voice.browser import (
    Bye,
    Clear,
    End,
    ErrorMessage,
    EventMessage,
    Hello,
    Key,
    Ready,
    Typed,
    client_from_wire,
    server_from_wire,
)
from voice.events import EventType, VoiceEvent
from voice.handoff import Route
from voice.settings import Prompts, VoiceSettings
from voice.vosk_ws import Config, Eof, Reset, control_from_wire
from voice.web import VoiceDeps, create_voice_app

SHORT = Prompts(greeting="Guten Tag.", transfer="Ich verbinde.")
Client = Callable[[web.Application], Awaitable[TestClient]]


def test_browser_messages_round_trip() -> None:
    for message in [Hello(48000), Key("0"), Typed("Was kostet ein Pass?"), Bye()]:
        assert client_from_wire(json.dumps(message.to_wire())) == message
    event = VoiceEvent(EventType.STT_END, "c", {"text": "hallo"}, 1.5)
    for reply in [Ready("c", AudioFormat(16000)), EventMessage(event), Clear(),
                  End(Route("transfer", "staff")), ErrorMessage("voice-bad-dtmf", "x")]:
        assert server_from_wire(json.loads(json.dumps(reply.to_wire()))) == reply


def test_vosk_control_messages_round_trip_and_refuse_a_model_change() -> None:
    for message in [Config(16000, False, 2, ("여권",)), Eof(), Reset()]:
        assert control_from_wire(json.dumps(message.to_wire())) == message
    assert control_from_wire('{"eof" : 1}') == Eof()
    with pytest.raises(ValueError, match="fixed"):
        control_from_wire('{"config": {"model": "/other"}}')


@pytest.fixture
def recorded() -> dict[str, Any]:
    return {"dialogue": RecordingDialogue(), "queue": RecordingQueue()}


def voice_app(settings: VoiceSettings, recorded: dict[str, Any]) -> web.Application:
    return create_voice_app(settings, lambda _app: VoiceDeps(recorded["dialogue"],
                                                            recorded["queue"]))


async def receive_json(ws: Any) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=60)
        if msg.type is WSMsgType.TEXT:
            return json.loads(msg.data)
        if msg.type is not WSMsgType.BINARY:
            raise AssertionError(f"connection ended: {msg.type}")


async def until_event(ws: Any, type_: EventType, audio: list[bytes] | None = None) -> dict:
    while True:
        msg = await ws.receive(timeout=60)
        if msg.type is WSMsgType.BINARY:
            if audio is not None:
                audio.append(msg.data)
            continue
        assert msg.type is WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data["type"] == "event" and data["event"]["type"] == type_.value:
            return data["event"]


async def test_browser_call_typed_turn_and_key_zero(aiohttp_client: Client, ko_model_path: Path,
                                                   recorded: dict[str, Any]) -> None:
    recorded["dialogue"].default = [BotMessage("Der Pass kostet 70 €.")]
    client = await aiohttp_client(voice_app(voice_settings(ko_model_path, prompts=SHORT),
                                            recorded))
    page = await client.get("/voice")
    assert page.status == 200 and "Gespräch beginnen" in await page.text()
    assert (await client.get("/voice/static/voice.js")).status == 200
    async with client.ws_connect("/voice/ws") as ws:
        await ws.send_json(Hello(48000).to_wire())
        ready = server_from_wire(await receive_json(ws))
        assert isinstance(ready, Ready) and ready.audio == AudioFormat(16000)
        audio: list[bytes] = []
        await until_event(ws, EventType.PLAYBACK_END, audio)
        assert audio and all(len(a) == 640 for a in audio)
        await ws.send_json({"type": "dtmf", "digit": "x"})
        assert await receive_json(ws) == {"type": "error", "code": "voice-bad-dtmf",
                                          "message": "Unbekannte Taste."}
        await ws.send_json(Typed("Was kostet ein Reisepass?").to_wire())
        spoken = await until_event(ws, EventType.TTS_START)
        assert spoken["data"]["text"] == "Der Pass kostet siebzig Euro."
        await ws.send_json(Key("0").to_wire())
        await until_event(ws, EventType.HANDOFF_QUEUED)
        while (message := await receive_json(ws))["type"] != "end":
            pass
        assert message == {"type": "end", "route": {"action": "transfer", "target": "staff"}}
    [(call_id, request, _)] = recorded["queue"].items
    assert request.reason == "explicit_request"
    assert recorded["dialogue"].calls[0][1] == "Was kostet ein Reisepass?"
    route = await client.get(f"/voice/calls/{call_id}/route")
    assert await route.json() == {"action": "transfer", "target": "staff"}
    text = await client.get(f"/voice/calls/{call_id}/route", params={"format": "text"})
    assert await text.text() == "transfer staff"
    assert (await client.get("/voice/calls/nope/route")).status == 404


async def test_browser_microphone_audio_at_48_khz_is_recognised(
        aiohttp_client: Client, ko_model_path: Path, recorded: dict[str, Any]) -> None:
    client = await aiohttp_client(voice_app(voice_settings(ko_model_path, prompts=SHORT),
                                            recorded))
    async with client.ws_connect("/voice/ws") as ws:
        await ws.send_json(Hello(48000).to_wire())
        await until_event(ws, EventType.PLAYBACK_END)
        pcm = silence(400, 48000) + espeak("여권을 신청하고 싶습니다", "ko", 48000) \
            + silence(800, 48000)
        for i in range(0, len(pcm), 1920):  # 20 ms browser frames
            await ws.send_bytes(pcm[i:i + 1920])
        heard = await until_event(ws, EventType.STT_END)
        assert heard["data"]["text"] and heard["data"]["words"]
        await until_event(ws, EventType.DIALOGUE_END)
        await ws.send_json(Bye().to_wire())
    assert recorded["dialogue"].calls[0][1] == heard["data"]["text"]


async def test_browser_call_must_start_with_hello(aiohttp_client: Client, ko_model_path: Path,
                                                 recorded: dict[str, Any]) -> None:
    client = await aiohttp_client(voice_app(voice_settings(ko_model_path, prompts=SHORT),
                                            recorded))
    async with client.ws_connect("/voice/ws") as ws:
        await ws.send_bytes(b"\x00\x00")
        assert (await receive_json(ws))["code"] == "voice-no-hello"
        assert (await ws.receive(timeout=10)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)


async def test_vosk_server_compatible_endpoint(aiohttp_client: Client, ko_model_path: Path,
                                               recorded: dict[str, Any]) -> None:
    client = await aiohttp_client(voice_app(voice_settings(ko_model_path), recorded))
    async with client.ws_connect("/voice/asr") as ws:
        await ws.send_str('{"config": {"model": "other"}}')
        assert (await ws.receive_json())["error"]["code"] == "vosk-model-change-refused"
        await ws.send_str(json.dumps({"config": {"sample_rate": 8000,
                                                 "phrase_list": ["여권", "아니요"]}}))
        pcm = silence(300, 8000) + espeak("아니요", "ko", 8000) + silence(600, 8000)
        replies = []
        for i in range(0, len(pcm), 1600):  # 100 ms messages, like vosk-server's test.py
            await ws.send_bytes(pcm[i:i + 1600])
            replies.append(await ws.receive_json())
        assert all("partial" in r or "text" in r for r in replies)
        await ws.send_bytes(b"\x00")
        assert (await ws.receive_json())["error"]["code"] == "vosk-bad-audio"
        await ws.send_str('{"eof" : 1}')
        final = await ws.receive_json()
        assert (await ws.receive(timeout=10)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    texts = [r["text"] for r in replies if r.get("text")] + [final["text"]]
    assert " ".join(t for t in texts if t) == "아니요"


async def test_without_a_model_the_voice_routes_say_so(aiohttp_client: Client,
                                                       recorded: dict[str, Any],
                                                       tmp_path: Path) -> None:
    client = await aiohttp_client(voice_app(VoiceSettings(model_path=tmp_path), recorded))
    response = await client.get("/voice/ws")
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "asr-model-missing"
    assert (await client.get("/voice")).status == 200
