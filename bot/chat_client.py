"""``buergerbot chat``: a terminal client of the chat API for quick tries."""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Any

import aiohttp


def render(answer: dict[str, Any]) -> str:
    """Plain-text rendering of one chat API answer."""
    lines: list[str] = []
    for message in answer.get("messages", []):
        lines.append(f"Bot: {message.get('text', '')}")
        for i, button in enumerate(message.get("buttons", []), start=1):
            lines.append(f"   [{i}] {button.get('title')}")
        for source in message.get("sources", []):
            url = f" – {source['url']}" if source.get("url") else ""
            lines.append(f"   Quelle: {source.get('title')}{url}")
    handoff = answer.get("handoff")
    if handoff:
        lines.append(f"   (Übergabe an Mitarbeitende: {handoff.get('status')})")
    return "\n".join(lines)


async def run_terminal_chat(url: str, conversation_id: str | None) -> int:
    cid = conversation_id or "cli-" + secrets.token_hex(6)
    print(f"Gespräch {cid} mit {url}. Beenden mit 'exit' oder Strg+D. Zahlen wählen Knöpfe.")
    buttons: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                text = await asyncio.to_thread(input, "Sie: ")
            except EOFError:
                print()
                return 0
            text = text.strip()
            if text in {"exit", "quit"}:
                return 0
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            try:
                async with session.post(f"{url.rstrip('/')}/api/v1/chat",
                                        json={"conversation_id": cid, "text": text},
                                        timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    answer = await resp.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError) as err:
                print(f"Gateway nicht erreichbar ({type(err).__name__}). Läuft 'buergerbot run'?",
                      file=sys.stderr)
                continue
            if "error" in answer:
                print(f"Fehler: {answer['error'].get('message')}")
                continue
            print(render(answer))
            buttons = [b for m in answer.get("messages", []) for b in m.get("buttons", [])]
