"""`rasa data validate` finds nothing to complain about in the domain and training data."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_rasa_data_validate_is_clean() -> None:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings",
         "--config", "config.yml", "--domain", "bot/domain.yml", "--data", "nlu_data"],
        check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Warnings about the data that --fail-on-warnings does not count (e.g. one example under two
    # intents) are raised through rasa.shared.utils.io.raise_warning.
    assert "rasa/shared/utils/io.py" not in output, output[-4000:]
