"""The whole handoff in real browsers: two staff consoles and one citizen in the web widget
(Debian's Chromium driven by Playwright), against the real gateway app with a fake Rasa.

Claim race, live chat both ways, canned responses and suggestions, hand-back, the rating and
the bot answering again."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import free_port
from tests.staff.conftest import PASSWORD, Gateway
from tests.staff.fake_rasa import SENT

playwright_api = pytest.importorskip("playwright.async_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(scripts/web-test-deps.sh installs it)")
expect = playwright_api.expect
TIMEOUT = 15_000  # ms; generous, the test machine is shared


@pytest.fixture
def db_url(tmp_path) -> str:  # the browser flow runs on SQLite; the API tests cover PostgreSQL
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM)
        yield instance
        await instance.close()


async def staff_page(browser: Any, base: str, username: str) -> Any:
    context = await browser.new_context(base_url=base, locale="de-DE")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT)
    await page.goto("/staff")
    await expect(page).to_have_url(base + "/staff/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await expect(page).to_have_url(base + "/staff")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return page


async def test_two_staff_browsers_and_a_citizen(gateway: Gateway, rasa: TestServer,
                                                browser: Any) -> None:
    client = await gateway.start()
    base = str(client.make_url("")).rstrip("/")
    anna = await staff_page(browser, base, "anna")
    ben = await staff_page(browser, base, "ben")

    citizen_context = await browser.new_context(base_url=base, locale="de-DE")
    citizen = await citizen_context.new_page()
    citizen.set_default_timeout(TIMEOUT)
    await citizen.goto("/")
    await citizen.click("buergerbot-chat button.launcher")
    await citizen.click("buergerbot-chat .privacy button.primary")
    widget_input = citizen.locator("buergerbot-chat textarea#bb-input")
    await widget_input.fill("Ich möchte mit einem Menschen sprechen")
    await widget_input.press("Enter")
    await expect(citizen.locator("buergerbot-chat li.msg.bot").last).to_contain_text("Platz 1")

    # Both consoles see the new conversation without reloading.
    for page in (anna, ben):
        item = page.locator("[data-testid=queue-item]")
        await expect(item).to_have_count(1)
        await expect(item).to_have_attribute("data-status", "queued")
        await item.locator("button").click()
        await expect(page.locator("#claim")).to_be_visible()
        await expect(page.locator("#conv-summary")).to_contain_text("persönlicher Beratung")

    # The claim race: both click at once, exactly one wins.
    await asyncio.gather(anna.click("#claim"), ben.click("#claim"))
    await expect(anna.locator("#conversation")).to_have_attribute("data-status", "assigned")
    await expect(ben.locator("#conversation")).to_have_attribute("data-status", "assigned")
    anna_writes = await anna.locator("#composer").is_visible()
    ben_writes = await ben.locator("#composer").is_visible()
    assert anna_writes != ben_writes, "exactly one console may write"
    winner, loser = (anna, ben) if anna_writes else (ben, anna)
    name = "Anna Berger" if anna_writes else "Ben Yilmaz"
    await expect(loser.locator("#flash")).to_contain_text("bereits")
    await expect(citizen.locator("buergerbot-chat li.msg.system").last).to_contain_text(
        f"{name} vom Service-Team ist jetzt für Sie da")

    # Live chat, staff → citizen (with a canned response) and citizen → staff.
    await winner.locator("[data-testid=canned] button", has_text="Begrüßung").click()
    await expect(winner.locator("#text")).to_have_value(
        "Guten Tag, hier ist das Service-Team der Stadtverwaltung. Wie kann ich Ihnen helfen?")
    await winner.click("#send")
    await expect(citizen.locator("buergerbot-chat li.msg.staff").last).to_contain_text(
        "Wie kann ich Ihnen helfen?")
    await widget_input.fill("Was brauche ich für die Ummeldung?")
    await widget_input.press("Enter")
    await expect(winner.locator("[data-testid=message][data-role=citizen]").last).to_have_text(
        "Bürger/inWas brauche ich für die Ummeldung?")
    # While a person owns the conversation, the bot stays silent: the dialogue engine got
    # nothing but the first message of this conversation.
    sent = [text for sender, text in rasa.app[SENT] if not sender.endswith("--staff-suggest")]
    assert sent == ["Ich möchte mit einem Menschen sprechen"]

    # The bot's candidate answer as a suggestion, inserted and sent.
    await winner.click("#load-suggestions")
    suggestion = winner.locator("[data-testid=suggestion]")
    await expect(suggestion).to_contain_text("Der Assistent antwortet: Was brauche ich")
    await suggestion.locator("button").click()
    await winner.locator("#text").press("Enter")
    await expect(citizen.locator("buergerbot-chat li.msg.staff").last).to_contain_text(
        "Der Assistent antwortet: Was brauche ich für die Ummeldung?")

    # Hand back: the citizen is told, asked for a rating, and the bot answers again.
    await winner.click("#release-bot")
    await expect(citizen.locator("buergerbot-chat li.msg.system").last).to_contain_text(
        "wieder mit dem digitalen Assistenten")
    await expect(citizen.locator("buergerbot-chat li.msg.bot").last).to_contain_text(
        "Wie zufrieden waren Sie")
    await citizen.locator("buergerbot-chat .replies.quick button", has_text="sehr gut").click()
    await expect(citizen.locator("buergerbot-chat li.msg.bot").last).to_contain_text(
        "Vielen Dank für Ihre Bewertung")
    await widget_input.fill("Was kostet ein Reisepass?")
    await widget_input.press("Enter")
    await expect(citizen.locator("buergerbot-chat li.msg.bot").last).to_contain_text(
        "Der Assistent antwortet: Was kostet ein Reisepass?")
    for page in (anna, ben):
        await expect(page.locator("[data-testid=queue-item]")).to_have_count(0)

    # The supervisor view shows what happened.
    boss = await staff_page(browser, base, "sophie")
    await boss.click("#tab-stats")
    await expect(boss.locator("[data-testid=stat-handoff-rate]")).to_have_text("100,0 %")
    await expect(boss.locator("[data-testid=stat-rating]")).to_have_text("5")


async def test_wrong_password_in_the_login_page(gateway: Gateway, browser: Any) -> None:
    client = await gateway.start()
    base = str(client.make_url("")).rstrip("/")
    context = await browser.new_context(base_url=base, locale="de-DE")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT)
    await page.goto("/staff/login")
    await page.fill("#username", "anna")
    await page.fill("#password", "falsch")
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_have_text(
        "Benutzername oder Passwort ist falsch.")
    await expect(page).to_have_url(base + "/staff/login")
    assert await page.locator("#password").input_value() == ""


async def test_a_gateway_restart_mid_handoff_in_the_browsers(gateway: Gateway,
                                                             browser: Any) -> None:
    port = free_port()
    first = await gateway.make_client(gateway.app(), server_kwargs={"port": port})
    base = str(first.make_url("")).rstrip("/")
    anna = await staff_page(browser, base, "anna")
    citizen_context = await browser.new_context(base_url=base, locale="de-DE")
    citizen = await citizen_context.new_page()
    citizen.set_default_timeout(TIMEOUT)
    await citizen.goto("/")
    await citizen.click("buergerbot-chat button.launcher")
    await citizen.click("buergerbot-chat .privacy button.primary")
    widget_input = citizen.locator("buergerbot-chat textarea#bb-input")
    await widget_input.fill("Bitte verbinden Sie mich mit einer Person")
    await widget_input.press("Enter")
    await anna.locator("[data-testid=queue-item] button").click()
    await anna.click("#claim")
    await anna.fill("#text", "Vor dem Neustart")
    await anna.click("#send")
    await expect(citizen.locator("buergerbot-chat li.msg.staff").last).to_contain_text(
        "Vor dem Neustart")

    # The citizen leaves the page for the restart (the widget's own reconnect is tested with the
    # widget) and comes back afterwards; the console stays open and reconnects by itself.
    await citizen.goto("about:blank")
    await first.close()  # the gateway goes down mid-handoff ...
    await expect(anna.locator("#connection")).to_have_attribute("data-state", "offline")
    second = await gateway.make_client(gateway.app(), server_kwargs={"port": port})  # ... and up
    assert str(second.make_url("")).rstrip("/") == base

    await expect(anna.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(anna.locator("#composer")).to_be_visible()  # still hers
    await citizen.goto("/")
    if not await citizen.locator("buergerbot-chat textarea#bb-input").is_visible():
        await citizen.click("buergerbot-chat button.launcher")
    await expect(citizen.locator("buergerbot-chat li.msg.staff").last).to_contain_text(
        "Vor dem Neustart")
    await widget_input.fill("Sind Sie noch da?")
    await widget_input.press("Enter")
    await expect(anna.locator("[data-testid=message][data-role=citizen]").last).to_have_text(
        "Bürger/inSind Sie noch da?")
    await anna.fill("#text", "Ja, nach dem Neustart")
    await anna.click("#send")
    await expect(citizen.locator("buergerbot-chat li.msg.staff").last).to_contain_text(
        "Ja, nach dem Neustart")
    transcript = anna.locator("[data-testid=message]")
    texts = [t.split(":", 1)[-1] for t in await transcript.all_inner_texts()]
    assert any("Vor dem Neustart" in t for t in texts)
