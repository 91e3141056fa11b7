"""Every voice module imports on its own in a fresh interpreter (no import cycles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VOICE = Path(__file__).resolve().parents[2] / "voice"
MODULES = sorted(f"voice.{p.stem}" for p in VOICE.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    subprocess.run([sys.executable, "-W", "error", "-c", f"import {module}"], check=True,
                   cwd=VOICE.parent)
