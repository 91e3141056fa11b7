"""The trained Rasa model, once per test session.

The model is the one ``buergerbot train`` would use: ``var/models/buergerbot-<fingerprint>``.
When config, domain, training data or custom NLU components changed, it is trained again
(one training run, a few minutes); otherwise it is reused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from bot.settings import Settings
    from bot.training import ensure_model

    settings = Settings.load(state_dir=REPO / "var")
    return ensure_model(settings, progress=lambda line: None)
