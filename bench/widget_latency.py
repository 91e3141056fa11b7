"""How fast an answer shows up in the web chat, and how big the widget is.

    .venv/bin/python bench/widget_latency.py [--url http://127.0.0.1:8080] [--questions 20]

Without --url it starts the real stack (`buergerbot run` on free ports, state in var/test-stack,
so a trained model is reused). Drives Debian's Chromium (headless, through Playwright) on the
demo page: for each question it measures, inside the page with performance.now(), the time from
submitting the form to (a) the answer's element being in the DOM and (b) the next animation frame
after it (the frame that paints it). Beside that, the same questions through POST /api/v1/chat
(the dialogue engine's share). Also reports embed.js raw and gzip sizes (target: ≤ 40 KB gzip,
≤ 300 ms visible on localhost). Prints a Markdown block and a JSON line last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_stack import start_stack  # after sys.path: run as a script (the tests' helper)

QUESTIONS = [
    "Was brauche ich für einen Reisepass?", "Was kostet ein Personalausweis?",
    "Wie melde ich meinen Wohnsitz an?", "Ich möchte meinen Hund anmelden",
    "Wie beantrage ich ein Führungszeugnis?", "Wo bekomme ich eine Geburtsurkunde?",
    "Ich habe meinen Ausweis verloren", "Wie lange dauert ein neuer Pass?",
    "Wann hat das Bürgerbüro geöffnet?", "Wie bestelle ich Sperrmüll?",
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# Submit one question and resolve with [ms until in the DOM, ms until the next frame].
MEASURE = """async (text) => {
  const root = document.querySelector('buergerbot-chat').shadowRoot;
  const log = root.querySelector('ol');
  const count = () => log.querySelectorAll('li.msg.bot, li.msg.notice').length;
  const before = count();
  root.querySelector('textarea').value = text;
  return await new Promise((resolve) => {
    let t0 = 0;
    const seen = new MutationObserver(() => {
      if (count() <= before) return;
      seen.disconnect();
      const inDom = performance.now() - t0;
      requestAnimationFrame(() => resolve([inDom, performance.now() - t0]));
    });
    seen.observe(log, {childList: true});
    t0 = performance.now();
    root.querySelector('form').requestSubmit();
  });
}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def browser_latencies(url: str, questions: list[str]) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/")
        page.get_by_role("button", name="Fragen an die Stadt").click()
        page.get_by_role("button", name="Verstanden, Chat starten").click()
        page.evaluate(MEASURE, "Hallo")  # warm-up: socket open, first turn
        for i, question in enumerate(questions):
            if i and i % 6 == 0:  # a new conversation now and then (per-conversation limits)
                page.evaluate("() => localStorage.clear()")
                page.reload()
                page.get_by_role("button", name="Verstanden, Chat starten").click()
            results.append(tuple(page.evaluate(MEASURE, question)))
            time.sleep(1.1)  # stay under the per-client limit (60 messages a minute)
        browser.close()
    return results


def api_latencies(url: str, questions: list[str]) -> list[float]:
    times = []
    for i, question in enumerate(questions):
        started = time.perf_counter()
        resp = requests.post(url + "/api/v1/chat", timeout=30, json={
            "conversation_id": f"bench-api-{i // 6}-{int(time.time())}", "text": question})
        times.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
        time.sleep(1.1)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running gateway (default: start the stack)")
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    questions = (QUESTIONS * (args.questions // len(QUESTIONS) + 1))[:args.questions]
    stack = None if args.url else start_stack([], "bench-widget")
    url = args.url or stack.url
    try:
        raw = requests.get(url + "/embed.js", headers={"Accept-Encoding": "identity"},
                           timeout=10).content
        browser = browser_latencies(url, questions)
        api = api_latencies(url, questions)
    finally:
        if stack is not None:
            stack.stop()
    dom = [b[0] for b in browser]
    frame = [b[1] for b in browser]
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews this
        "questions": len(questions),
        "embed_js_bytes": len(raw), "embed_js_gzip_bytes": len(gzip.compress(raw, 9)),
        **{f"{name}_{stat}_ms": round(fn(values), 1)
           for name, values in (("dom", dom), ("frame", frame), ("api", api))
           for stat, fn in (("p50", statistics.median), ("p95", lambda v: percentile(v, 95)),
                            ("max", max))},
    }
    print(f"""
### Web chat widget ({result['date']}, {result['machine']})

| measure | p50 | p95 | max |
| --- | --- | --- | --- |
| browser: submit → answer in the DOM | {result['dom_p50_ms']} ms | {result['dom_p95_ms']} ms | {result['dom_max_ms']} ms |
| browser: submit → next frame (visible) | {result['frame_p50_ms']} ms | {result['frame_p95_ms']} ms | {result['frame_max_ms']} ms |
| POST /api/v1/chat round trip | {result['api_p50_ms']} ms | {result['api_p95_ms']} ms | {result['api_max_ms']} ms |

embed.js (JS + CSS): {result['embed_js_bytes']} bytes, {result['embed_js_gzip_bytes']} bytes gzip;
{result['questions']} questions, sequential, localhost, headless Chromium; load average (1 min)
{result['load_avg_1m']} at the end.
""")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
