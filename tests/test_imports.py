"""Every module imports on its own in a fresh interpreter (catches import cycles)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

MODULES = sorted(
    ".".join(p.relative_to(REPO).with_suffix("").parts)
    for pkg in ("bot", "retrieval", "voice")
    for p in (REPO / pkg).rglob("*.py")
    if p.name != "__main__.py"
)


def test_there_are_modules_to_check() -> None:
    assert "bot.gateway.app" in {m.removesuffix(".__init__") for m in MODULES}


@pytest.mark.parametrize("module", [m.removesuffix(".__init__") for m in MODULES])
def test_module_imports_alone(module: str) -> None:
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", f"import {module}"],
                            check=False, capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
