"""The web chat in a real browser against the real stack: ask, sources, reload, quick replies,
keyboard only, axe-core audit, injection, fallback to HTTP, feedback, handoff, deletion, and
screenshots of the desktop, mobile and 200 % zoom layouts (tests/artifacts/)."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.settings import Settings
from bot.store import Store

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # the first test may wait for training

PASSPORT = "Was brauche ich für einen Reisepass?"
MOVING = "Ich ziehe nach Musterstadt"
LAUNCHER = "Fragen an die Stadt"
ACCEPT = "Verstanden, Chat starten"
INJECTION = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
             '<a href="javascript:window.__pwned=3">klick</a> [mehr](javascript:window.__pwned=4)')
SERIOUS = {"serious", "critical"}


# -- helpers ---------------------------------------------------------------------------------------
def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.get_by_role("button", name=LAUNCHER).click()
    page.get_by_role("button", name=ACCEPT).click()
    expect(page.get_by_label("Ihre Nachricht")).to_be_focused()


def history(page: Any) -> Any:
    return page.get_by_role("region", name="Gesprächsverlauf")


def ask(page: Any, text: str) -> Any:
    """Send ``text`` and return the locator of the bot answers that follow it."""
    answers = history(page).locator("li.msg.bot")
    before = answers.count()
    box = page.get_by_label("Ihre Nachricht")
    box.fill(text)
    box.press("Enter")
    expect(answers).not_to_have_count(before)
    return answers.nth(before)


def store_append(state_dir: Path, conversation_id: str,
                 items: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Write messages into the running stack's database, as another part (staff) would."""
    async def run() -> None:
        store = await Store.open(Settings.load(env={}, state_dir=state_dir).db_url)
        try:
            await store.append(conversation_id, items)
        finally:
            await store.close()

    # Playwright's sync API owns this thread's event loop; the store gets its own thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=30)


def shadow(page: Any, script: str) -> Any:
    """Evaluate ``script`` (a function body) with ``root`` = the widget's shadow root."""
    return page.evaluate(f"() => {{ const root = document.querySelector('buergerbot-chat')"
                         f".shadowRoot; {script} }}")


def focused(page: Any) -> dict[str, Any]:
    return shadow(page, """
        const el = root.activeElement;
        if (document.activeElement !== root.host || !el) return {};
        const style = getComputedStyle(el);
        return {label: el.getAttribute('aria-label') || el.textContent.trim(), tag: el.tagName,
                outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                shadow: style.boxShadow};""")


def conversation_id(page: Any, url: str) -> str:
    stored = page.evaluate(f"() => localStorage.getItem('buergerbot:{url}')")
    return json.loads(stored)["cid"]


def audit(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.evaluate(axe_source)  # through the DevTools protocol: the page's CSP stays strict
    return page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: [
            'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target)}));
    }""")


# -- the tests -------------------------------------------------------------------------------------
def test_ask_and_see_the_answer_with_its_source_link(stack: Any, watched: Any,
                                                     artifacts: Path) -> None:
    w = watched()
    page = w.page
    open_chat(page, stack.url)
    answer = ask(page, PASSPORT)
    expect(answer).to_contain_text("Reisepass")
    source = answer.locator(".sources a").first
    expect(answer.locator(".sources")).to_contain_text("Quelle")
    href = source.get_attribute("href")
    assert href and re.match(r"^https?://", href), href
    assert source.get_attribute("rel") == "noopener noreferrer"
    expect(source).to_contain_text("Reisepass")
    # The answer was announced politely while the focus stayed in the input.
    expect(page.get_by_label("Ihre Nachricht")).to_be_focused()
    live = page.locator("buergerbot-chat div[aria-live=polite]")
    expect(live).to_contain_text("Reisepass")
    page.screenshot(path=str(artifacts / "widget-desktop.png"))


def test_history_survives_reload_and_navigation(stack: Any, watched: Any) -> None:
    w = watched()
    page = w.page
    open_chat(page, stack.url)
    answer_text = ask(page, PASSPORT).locator(".bubble").text_content()
    page.reload()  # the panel stays open across the reload, without taking the focus
    expect(history(page).locator("li.msg.citizen")).to_have_text([re.compile("Reisepass")])
    expect(history(page).locator("li.msg.bot .bubble").first).to_have_text(answer_text)
    assert shadow(page, "return root.activeElement") is None
    other = w.new_page()  # navigation in a new tab of the same browser profile
    other.goto(stack.url + "/#kontakt")
    other.get_by_role("button", name=LAUNCHER).click()
    expect(history(other).locator("li.msg.bot .bubble").first).to_have_text(answer_text)
    expect(other.get_by_role("button", name=ACCEPT)).to_be_hidden()  # accepted once


def test_click_a_quick_reply(stack: Any, watched: Any) -> None:
    page = watched().page
    open_chat(page, stack.url)
    checklist = ask(page, MOVING)
    replies = checklist.get_by_role("group", name="Antwortvorschläge").get_by_role("button")
    expect(replies.first).to_be_visible()
    title = replies.first.inner_text()
    answers = history(page).locator("li.msg.bot")
    before = answers.count()
    replies.first.click()
    expect(answers).not_to_have_count(before)
    # The citizen's bubble shows the button's title, not its payload; the old replies are gone.
    expect(history(page).locator("li.msg.citizen").last).to_contain_text(title)
    expect(checklist.get_by_role("group", name="Antwortvorschläge")).to_have_count(0)
    expect(answers.last.locator(".sources a").first).to_have_attribute("href", re.compile("^http"))


def test_keyboard_only(stack: Any, watched: Any) -> None:
    page = watched().page
    page.goto(stack.url + "/")
    for _ in range(60):  # Tab through the city's page until the chat launcher has the focus
        page.keyboard.press("Tab")
        if focused(page).get("label", "").startswith(LAUNCHER):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    seen = [focused(page)]
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=ACCEPT)).to_be_focused()
    seen.append(focused(page))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Ihre Nachricht")).to_be_focused()
    seen.append(focused(page))
    page.keyboard.type(PASSPORT)
    page.keyboard.press("Enter")
    expect(history(page).locator("li.msg.bot")).to_have_count(1)
    page.keyboard.press("Tab")
    seen.append(focused(page))
    assert seen[-1]["label"] == "Senden"
    for _ in range(30):  # back into the conversation to rate the answer
        page.keyboard.press("Shift+Tab")
        if focused(page).get("label") == "Antwort war hilfreich":
            break
    else:
        pytest.fail("the rating buttons cannot be reached with Shift+Tab")
    seen.append(focused(page))
    page.keyboard.press("Space")
    up = history(page).get_by_role("button", name="Antwort war hilfreich")
    expect(up).to_have_attribute("aria-pressed", "true")
    for state in seen:  # every stop had a visible focus ring (3 px outline plus a dark halo)
        assert state["outline"] != "none" and state["width"] >= 2 and "6px" in state["shadow"], state
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name=LAUNCHER)).to_be_focused()
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_attribute("aria-expanded", "false")


def test_axe_finds_no_serious_or_critical_violation(stack: Any, watched: Any,
                                                    axe_source: str) -> None:
    page = watched().page
    page.goto(stack.url + "/")
    findings = {"closed": audit(page, axe_source)}
    page.get_by_role("button", name=LAUNCHER).click()
    findings["privacy notice"] = audit(page, axe_source)
    page.get_by_role("button", name=ACCEPT).click()
    ask(page, MOVING)
    findings["answer with quick replies"] = audit(page, axe_source)
    ask(page, PASSPORT)
    findings["answer with sources"] = audit(page, axe_source)
    page.set_viewport_size({"width": 320, "height": 640})
    findings["320 px"] = audit(page, axe_source)
    serious = {state: [v for v in found if v["impact"] in SERIOUS]
               for state, found in findings.items()}
    assert not any(serious.values()), json.dumps(serious, indent=1, ensure_ascii=False)
    others = {state: [v["id"] for v in found] for state, found in findings.items() if found}
    print("axe, less than serious:", others)  # shown with -s


def test_injection_attempts_stay_inert_text(stack: Any, watched: Any) -> None:
    w = watched()
    page = w.page
    open_chat(page, stack.url)
    box = page.get_by_label("Ihre Nachricht")
    box.fill(INJECTION)
    box.press("Enter")
    mine = history(page).locator("li.msg.citizen .bubble").last
    expect(mine).to_have_text(INJECTION)
    expect(history(page).locator("li.msg.citizen:not(.pending)")).to_have_count(1)
    # A stored staff message with markup, a javascript: link and a hostile source and button.
    cid = conversation_id(page, stack.url)
    store_append(stack.state, cid, [("staff", INJECTION + " https://example.org/ok", {
        "sources": [{"service_id": "x", "title": "<b>fett</b>", "url": "javascript:alert(1)"},
                    {"service_id": "y", "title": "Echt", "url": "https://example.org/echt"}],
        "buttons": [{"title": "<img src=x onerror=alert(1)>", "payload": "/x"}]})])
    page.reload()
    staff = history(page).locator("li.msg.staff")
    expect(staff.locator(".bubble")).to_contain_text(INJECTION)
    expect(staff.locator(".sources")).to_contain_text("<b>fett</b>")
    expect(staff.get_by_role("button", name="<img src=x onerror=alert(1)>")).to_be_visible()
    counts = shadow(page, """return {
        img: root.querySelectorAll('img').length, script: root.querySelectorAll('script').length,
        b: root.querySelectorAll('b').length,
        hrefs: [...root.querySelectorAll('a')].map(a => a.getAttribute('href'))};""")
    assert counts["img"] == counts["script"] == counts["b"] == 0, counts
    assert counts["hrefs"] and all(re.match(r"^https?://", h) for h in counts["hrefs"]), counts
    assert "https://example.org/ok" in counts["hrefs"]
    assert page.evaluate("() => window.__pwned") is None


def test_falls_back_to_http_when_the_socket_fails(stack: Any, watched: Any) -> None:
    page = watched().page
    page.route_web_socket(re.compile(r".*/api/v1/ws$"), lambda socket: socket.close())
    open_chat(page, stack.url)
    answer = ask(page, PASSPORT)
    expect(answer).to_contain_text("Reisepass")
    expect(answer.locator(".sources a").first).to_have_attribute("href", re.compile("^http"))
    answer.get_by_role("button", name="Antwort war hilfreich").click()
    expect(answer.get_by_role("button", name="Antwort war hilfreich")).to_have_attribute(
        "aria-pressed", "true")


def test_rating_is_stored_and_restored(stack: Any, watched: Any) -> None:
    page = watched().page
    open_chat(page, stack.url)
    answer = ask(page, PASSPORT)
    answer.get_by_role("button", name="Antwort war nicht hilfreich").click()
    down = history(page).get_by_role("button", name="Antwort war nicht hilfreich")
    expect(down).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(history(page).get_by_role("button", name="Antwort war hilfreich")).to_have_attribute(
        "aria-pressed", "false")


def test_talk_to_a_person_and_delete_the_conversation(stack: Any, watched: Any) -> None:
    page = watched().page
    open_chat(page, stack.url)
    ask(page, PASSPORT)
    page.get_by_role("button", name="Mit einem Menschen sprechen").click()
    # The handoff part queues (with place and wait) or, with nobody online or out of hours,
    # offers a callback.
    expect(history(page).locator("li.msg.bot").last).to_contain_text(
        re.compile("melden|Warteschlange"))
    old = conversation_id(page, stack.url)
    page.get_by_role("button", name="Gespräch löschen").click()
    expect(page.get_by_role("button", name="Abbrechen")).to_be_focused()
    page.get_by_role("button", name="Ja, löschen").click()
    expect(history(page).locator("li.msg.bot, li.msg.citizen, li.msg.system")).to_have_count(0)
    expect(history(page)).to_contain_text("Das Gespräch wurde gelöscht.")
    resp = requests.get(f"{stack.url}/api/v1/conversations/{old}/messages", timeout=10)
    assert resp.status_code == 404
    assert conversation_id(page, stack.url) != old
    answer = ask(page, PASSPORT)  # a new conversation, answered by the bot again
    expect(answer).to_contain_text("Reisepass")


def test_reduced_motion_stops_the_typing_animation(stack: Any, watched: Any) -> None:
    page = watched(reduced_motion="reduce").page
    page.goto(stack.url + "/")
    page.get_by_role("button", name=LAUNCHER).click()
    assert shadow(page, "return getComputedStyle(root.querySelector('.dots i')).animationName") \
        == "none"


def test_mobile_and_zoomed_layouts(stack: Any, watched: Any, artifacts: Path) -> None:
    layouts = {
        "mobile": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2,
                   "is_mobile": True, "has_touch": True},
        # 200 % zoom of a 1280×800 window: the page gets 640×400 CSS pixels at twice the density.
        "zoom200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
    }
    for name, options in layouts.items():
        page = watched(**options).page
        open_chat(page, stack.url)
        ask(page, PASSPORT)
        box = page.get_by_role("dialog").bounding_box()
        width, height = options["viewport"]["width"], options["viewport"]["height"]
        assert box is not None and box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, box
        for control in (page.get_by_label("Ihre Nachricht"),
                        page.get_by_role("button", name="Senden"),
                        page.get_by_role("button", name="Chat schließen")):
            expect(control).to_be_in_viewport()
        overflow = shadow(page, "const s = root.querySelector('.scroll');"
                                "return s.scrollWidth - s.clientWidth;")
        assert overflow <= 0, f"{name}: the conversation scrolls sideways by {overflow}px"
        page.screenshot(path=str(artifacts / f"widget-{name}.png"))
