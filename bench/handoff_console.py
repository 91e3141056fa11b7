"""Handoff and staff console: how fast a staff message reaches the citizen, and whether the
console stays responsive with many waiting conversations.

    .venv/bin/python bench/handoff_console.py [--waiting 200] [--messages 100]
                                              [--database-url postgresql://...] [--no-browser]

Starts the real gateway app in a child process (its own event loop, like production) with a
fake dialogue engine (tests/staff/fake_rasa.py) on a temporary SQLite database (or the given
PostgreSQL URL), seeds ``--waiting`` queued conversations with a short transcript each, and
measures from this process:

* staff message → citizen: POST /staff/api/conversations/{id}/messages until the citizen's chat
  socket (/api/v1/ws, the widget's protocol) delivers the message (target ≤ 200 ms);
* the same in real browsers (Debian's Chromium through Playwright): Enter in the staff console
  until the message is in the citizen widget's DOM and painted (clocks: performance.timeOrigin
  + performance.now() of both pages, one machine);
* with ``--waiting`` conversations waiting: GET /staff/api/queue (latency, size), GET one
  conversation, claim, and the live fan-out (claim until 20 console sockets got queue.changed);
* in the browser: console load with the full queue, and one live queue re-render.

Prints a Markdown block and a JSON line last.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import free_port  # after sys.path: run as a script

PASSWORD = "bench-passwort-123"
STAFF = [f"agent{i:02d}" for i in range(20)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def stats_ms(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1), "max": round(max(values), 1),
            "mean": round(statistics.fmean(values), 1)}


# -- the child: the gateway -----------------------------------------------------------------------
async def serve(port: int, db_url: str, waiting: int, state_dir: Path) -> None:
    from aiohttp import web

    from bot.gateway.app import create_app
    from bot.handoff.config import HandoffConfig
    from bot.handoff.events import EventHub
    from bot.handoff.hours import ServiceHours
    from bot.handoff.model import StaffRole
    from bot.handoff.presence import Presence
    from bot.handoff.service import HandoffService, utcnow
    from bot.handoff.state import HandoffStatus
    from bot.settings import Settings
    from bot.staff.accounts import Accounts
    from bot.staff.config import StaffConfig
    from bot.staff.mount import OPTIONS, Options
    from bot.staff.passwords import Passwords
    from bot.store import Store
    from tests.staff.fake_rasa import fake_rasa_app

    handoff = HandoffConfig(hours=ServiceHours.parse("mo-so 00:00-24:00"),
                            require_staff_online=False)
    store = await Store.open(db_url)
    seeder = HandoffService(store, EventHub(), handoff, Presence())
    store.add_handoff_listener(seeder)
    password_hash = Passwords(StaffConfig()).hash(PASSWORD)
    for name in STAFF:
        await Accounts(store.engine).add(name, name.title(), StaffRole.AGENT, password_hash,
                                         utcnow())
    for i in range(waiting):
        cid = f"wait{i:04d}"
        await store.append(cid, [
            ("citizen", "Guten Tag, ich habe eine Frage zur Ummeldung meines Wohnsitzes.", {}),
            ("bot", "Bitte bringen Sie Ihren Ausweis und die Meldebescheinigung mit.", {}),
            ("citizen", "Und wenn ich keine Wohnungsgeberbestätigung bekomme?", {}),
            ("bot", "Dazu finde ich leider nichts Genaues.", {}),
            ("citizen", "Dann möchte ich bitte mit einem Menschen sprechen.", {}),
        ])
        await store.set_handoff(cid, HandoffStatus.QUEUED, {
            "reason": "explicit_request", "summary": f"Anlass: Wunsch nach persönlicher "
            f"Beratung.\nThema: Ummeldung (Unterlagen). Nr. {i}", "services": ["ummeldung"],
            "aspect": "documents"})
    await store.close()

    rasa_runner = web.AppRunner(fake_rasa_app())
    await rasa_runner.setup()
    rasa_port = free_port()
    await web.TCPSite(rasa_runner, "127.0.0.1", rasa_port).start()
    settings = Settings.load(env={}, state_dir=state_dir, database_url=db_url,
                             rasa_port=rasa_port, action_port=rasa_port)
    app = create_app(settings)
    app[OPTIONS] = Options(staff=StaffConfig(), handoff=handoff)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await rasa_runner.cleanup()


# -- the parent: measurements ----------------------------------------------------------------------
async def staff_session(base: str, username: str) -> tuple[aiohttp.ClientSession, str]:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post(f"{base}/staff/api/login",
                            json={"username": username, "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["csrf_token"]
    return session, token


async def escalate(session: aiohttp.ClientSession, base: str, cid: str) -> None:
    async with session.post(f"{base}/api/v1/chat",
                            json={"conversation_id": cid, "text": "Mensch bitte"}) as resp:
        assert resp.status == 200, await resp.text()


async def staff_to_citizen(base: str, messages: int) -> list[float]:
    """POST a staff message until the citizen's chat socket delivers it."""
    citizen = aiohttp.ClientSession()
    staff, token = await staff_session(base, STAFF[0])
    try:
        await escalate(citizen, base, "latency1")
        async with staff.post(f"{base}/staff/api/conversations/latency1/claim",
                              headers={"X-CSRF-Token": token}) as resp:
            assert resp.status == 200
        ws = await citizen.ws_connect(base.replace("http", "ws") + "/api/v1/ws")
        await ws.send_json({"type": "hello", "conversation_id": "latency1", "after": 0})
        while (await ws.receive_json())["type"] != "messages":
            pass
        times = []
        for i in range(messages):
            text = f"Nachricht {i} vom Service-Team"
            started = time.perf_counter()
            async with staff.post(f"{base}/staff/api/conversations/latency1/messages",
                                  json={"text": text}, headers={"X-CSRF-Token": token}) as resp:
                assert resp.status == 200
            while True:
                frame = await ws.receive_json(timeout=10)
                if frame["type"] == "messages" and any(
                        m["text"] == text for m in frame["messages"]):
                    break
            times.append((time.perf_counter() - started) * 1000)
        await ws.close()
        return times
    finally:
        await citizen.close()
        await staff.close()


async def console_api(base: str, waiting: int) -> dict[str, Any]:
    sessions = [await staff_session(base, name) for name in STAFF]
    first, token = sessions[0]
    queue_ms, size = [], 0
    for _ in range(30):
        started = time.perf_counter()
        async with first.get(f"{base}/staff/api/queue") as resp:
            body = await resp.read()
        queue_ms.append((time.perf_counter() - started) * 1000)
        size = len(body)
    entries = json.loads(body)["queue"]
    assert sum(1 for e in entries if e["status"] == "queued") >= waiting
    detail_ms = []
    for i in range(30):
        started = time.perf_counter()
        async with first.get(f"{base}/staff/api/conversations/wait{i:04d}") as resp:
            await resp.read()
        detail_ms.append((time.perf_counter() - started) * 1000)
    # 20 consoles live; each claim must reach all of them.
    sockets = []
    for session, _ in sessions:
        ws = await session.ws_connect(base.replace("http", "ws") + "/staff/api/live")
        assert (await ws.receive_json())["type"] == "hello"
        sockets.append(ws)
    await asyncio.sleep(0.2)
    for ws in sockets:  # drain presence events
        while True:
            try:
                await ws.receive_json(timeout=0.05)
            except TimeoutError:
                break
    claim_ms, fanout_ms = [], []
    for i in range(30):
        cid = f"wait{waiting - 1 - i:04d}"

        async def changed(ws: aiohttp.ClientWebSocketResponse, cid: str = cid) -> float:
            while True:
                frame = await ws.receive_json(timeout=10)
                if frame["type"] == "queue.changed" and frame["conversation_id"] == cid:
                    return time.perf_counter()

        waiters = [asyncio.create_task(changed(ws)) for ws in sockets]
        started = time.perf_counter()
        async with first.post(f"{base}/staff/api/conversations/{cid}/claim",
                              headers={"X-CSRF-Token": token}) as resp:
            assert resp.status == 200, await resp.text()
        claim_ms.append((time.perf_counter() - started) * 1000)
        arrived = await asyncio.gather(*waiters)
        fanout_ms.append((max(arrived) - started) * 1000)
    for ws in sockets:
        await ws.close()
    for session, _ in sessions:
        await session.close()
    return {"queue_get_ms": stats_ms(queue_ms), "queue_bytes": size,
            "queue_entries": len(entries), "conversation_get_ms": stats_ms(detail_ms),
            "claim_ms": stats_ms(claim_ms), "claim_fanout_20_consoles_ms": stats_ms(fanout_ms)}


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update"]


async def browser_numbers(base: str, messages: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return {"skipped": "chromium not installed"}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        staff = await (await browser.new_context(base_url=base, bypass_csp=True)).new_page()
        started = time.perf_counter()
        await staff.goto("/staff/login")
        await staff.fill("#username", STAFF[1])
        await staff.fill("#password", PASSWORD)
        await staff.click("#login-submit")
        await staff.wait_for_url(base + "/staff")
        await staff.wait_for_function(
            "document.querySelectorAll('[data-testid=queue-item]').length >= 150")
        load_ms = (time.perf_counter() - started) * 1000
        items = await staff.locator("[data-testid=queue-item]").count()
        # One reload and re-render of the whole queue (what a queue.changed event triggers).
        rerender = await staff.evaluate("""async () => {
          const t0 = performance.now();
          await loadQueue();
          await new Promise((resolve) => requestAnimationFrame(resolve));
          return performance.now() - t0;
        }""")

        citizen = await (await browser.new_context(base_url=base, bypass_csp=True)).new_page()
        await citizen.goto("/")
        await citizen.click("buergerbot-chat button.launcher")
        await citizen.click("buergerbot-chat .privacy button.primary")
        box = citizen.locator("buergerbot-chat textarea#bb-input")
        await box.fill("Bitte eine Person")
        await box.press("Enter")
        await citizen.locator("buergerbot-chat li.msg.bot", has_text="Platz").wait_for()
        cid = await citizen.evaluate(
            "document.querySelector('buergerbot-chat').cid")
        await staff.evaluate(f"openConversation({json.dumps(cid)})")
        await staff.click("#claim")
        await staff.locator("#composer").wait_for(state="visible")
        await citizen.evaluate("""() => {
          const log = document.querySelector('buergerbot-chat').shadowRoot.querySelector('ol');
          window.__seen = [];
          new MutationObserver(() => {
            for (const li of log.querySelectorAll('li.msg.staff')) {
              if (li.dataset.benchSeen) continue;
              li.dataset.benchSeen = '1';
              const inDom = performance.timeOrigin + performance.now();
              requestAnimationFrame(() => window.__seen.push(
                [li.textContent, inDom, performance.timeOrigin + performance.now()]));
            }
          }).observe(log, {childList: true});
        }""")
        visible = []
        for i in range(messages):
            text = f"Browser-Nachricht {i}"
            await staff.fill("#text", text)
            sent_at = await staff.evaluate("""() => {
              const t = performance.timeOrigin + performance.now();
              document.getElementById('composer').requestSubmit();
              return t;
            }""")
            await citizen.wait_for_function(
                f"window.__seen.some(s => s[0].includes({json.dumps(text)}))")
            seen = await citizen.evaluate(
                f"window.__seen.find(s => s[0].includes({json.dumps(text)}))")
            visible.append(seen[2] - sent_at)
        await browser.close()
    return {"console_load_with_queue_ms": round(load_ms), "queue_items_rendered": items,
            "queue_rerender_ms": round(rerender, 1),
            "staff_to_citizen_painted_ms": stats_ms(visible)}


async def measure(base: str, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    results["staff_to_citizen_socket_ms"] = stats_ms(await staff_to_citizen(base, args.messages))
    results.update(await console_api(base, args.waiting))
    if not args.no_browser:
        results["browser"] = await browser_numbers(base, min(args.messages, 30))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.database_url, args.waiting, args.state_dir))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as tmp:
        db_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        env = dict(os.environ, PYTHONWARNINGS="ignore", BUERGERBOT_LOG_LEVEL="WARNING")
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--database-url", db_url,
             "--waiting", str(args.waiting), "--state-dir", tmp],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() == b"READY":
                    break
            else:
                raise SystemExit("gateway did not start")
            results = asyncio.run(measure(f"http://127.0.0.1:{port}", args))
        finally:
            child.terminate()
            child.wait(timeout=30)
    meta = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}",
            "database": "postgresql" if args.database_url else "sqlite",
            "waiting": args.waiting,
            "command": "python bench/handoff_console.py " + " ".join(sys.argv[1:])}
    s2c = results["staff_to_citizen_socket_ms"]
    print(f"\n## Handoff console ({meta['date']}, {meta['machine']}, {meta['database']})\n")
    print(f"`{meta['command']}`\n")
    print("| measure | p50 | p95 | max |\n|---|---|---|---|")
    print(f"| staff message → citizen socket (n={s2c['n']}) | {s2c['p50']} ms | {s2c['p95']} ms "
          f"| {s2c['max']} ms |")
    queue_label = (f"GET /staff/api/queue ({results['queue_entries']} entries, "
                   f"{results['queue_bytes'] // 1024} KB)")
    for key, label in [("queue_get_ms", queue_label),
                       ("conversation_get_ms", "GET one conversation"),
                       ("claim_ms", f"claim with {args.waiting} waiting"),
                       ("claim_fanout_20_consoles_ms", "claim → queue.changed at 20 consoles")]:
        v = results[key]
        print(f"| {label} | {v['p50']} ms | {v['p95']} ms | {v['max']} ms |")
    browser = results.get("browser")
    if browser and "skipped" not in browser:
        v = browser["staff_to_citizen_painted_ms"]
        print(f"| browser: Enter in console → painted in widget (n={v['n']}) | {v['p50']} ms "
              f"| {v['p95']} ms | {v['max']} ms |")
        print(f"\nConsole load with {browser['queue_items_rendered']} queue items: "
              f"{browser['console_load_with_queue_ms']} ms (login to list rendered); one queue "
              f"re-render: {browser['queue_rerender_ms']} ms.")
    print(json.dumps({"meta": meta, "results": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
