"""Browser tests of the web chat: Playwright (Python) driving Debian's Chromium, headless, against
the real stack (`buergerbot run`: Rasa, action server, gateway) started once per session.

Needs: the Python package ``playwright`` (its bundled driver only; no browser download), Debian's
``chromium``, and axe-core from the npm registry in tests/web/node_modules. ``bash
scripts/web-test-deps.sh`` installs the latter two. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = REPO / "tests" / "artifacts"
AXE = REPO / "tests" / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def stack() -> Iterator[Any]:
    """The real stack on free ports (the lead's helper: state in var/test-stack, so the trained
    model and index are reused; the first run trains)."""
    from tests.test_stack import start_stack

    s = start_stack([], "web")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium is missing (bash scripts/web-test-deps.sh)")
    # launch() gives the browser a fresh, temporary user-data-dir; never `playwright install`.
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A fresh browser context (empty storage) whose page errors and CSP reports are kept."""

    def __init__(self, browser: Any, **options: Any) -> None:
        self.context = browser.new_context(locale="de-DE", **{"viewport": DESKTOP, **options})
        self.context.set_default_timeout(30_000)
        # Assertions wait for real answers from Rasa; on a loaded 2-core CI machine that can
        # take longer than Playwright's 5 s default. A wait, not a timed test.
        from playwright.sync_api import expect

        expect.set_options(timeout=30_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda err: self.problems.append(f"pageerror: {err}"))
        self.page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.problems.append(f"csp: {msg.text}")

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda err: self.problems.append(f"pageerror: {err}"))
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    made: list[Watched] = []

    def make(**options: Any) -> Watched:
        made.append(Watched(browser, **options))
        return made[-1]

    yield make
    for w in made:
        w.close()
    problems = [p for w in made for p in w.problems]
    assert not problems, problems


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "web-test-deps.sh")], check=False,
                       timeout=600)
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (bash scripts/web-test-deps.sh needs npm)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
