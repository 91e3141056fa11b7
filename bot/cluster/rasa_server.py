"""The Rasa server as a deployable entry point: ``python -m bot.cluster.rasa_server``.

Reads the settings like the other components (``BUERGERBOT_*``), writes Rasa's endpoints.yml and
credentials.yml into ``<state_dir>/run`` (action server, SQL tracker store, Redis lock store) and
replaces itself with ``rasa run`` on ``host:rasa_port`` — for systemd units, containers and
Kubernetes, where no buergerbot supervisor starts Rasa. The model is the one trained for the
current inputs if present, else the newest in ``<state_dir>/models``.
"""

from __future__ import annotations

import os
import sys

from bot.settings import Settings, SettingsError
from bot.supervisor import write_rasa_endpoints


def rasa_argv(settings: Settings) -> list[str]:
    from bot.training import model_path

    model = model_path(settings)
    return [sys.executable, "-m", "bot.rasa_run", "run",
            "--model", str(model if model.is_file() else settings.models_dir),
            "--endpoints", str(settings.run_dir / "endpoints.yml"),
            "--credentials", str(settings.run_dir / "credentials.yml"),
            "--port", str(settings.rasa_port), "--interface", settings.host]


def main() -> int:
    from bot.training import rasa_env

    try:
        settings = Settings.load()
    except SettingsError as err:
        print(f"buergerbot rasa: {err}", file=sys.stderr)
        return 2
    if not settings.models_dir.is_dir() or not any(settings.models_dir.glob("*.tar.gz")):
        print(f"buergerbot rasa: kein trainiertes Modell in {settings.models_dir} "
              "(zuerst `buergerbot train`)", file=sys.stderr)
        return 1
    try:
        write_rasa_endpoints(settings)
    except (SettingsError, OSError) as err:
        print(f"buergerbot rasa: {err}", file=sys.stderr)
        return 2
    argv = rasa_argv(settings)
    os.execve(argv[0], argv, rasa_env(settings))
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
