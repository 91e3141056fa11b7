"""Where the project's own files are (Rasa config, domain, training data)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA_CONFIG = PROJECT_ROOT / "config.yml"
RASA_DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
RASA_DATA = PROJECT_ROOT / "nlu_data"
# Code that Rasa imports while training (custom NLU components): part of the fingerprint.
RASA_CODE = PROJECT_ROOT / "bot" / "nlu"
