"""Debian's Chromium for the browser tests: where it is and how it is started (headless, no
network chatter of its own). Playwright drives it; `playwright install` is never used."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
