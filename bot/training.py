"""Train the Rasa model only when its inputs changed.

The fingerprint covers config.yml, the domain, every file under nlu_data/, the custom NLU
components and the Rasa version; the model is stored as ``<models_dir>/buergerbot-<fp>.tar.gz``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot import paths
from bot.settings import Settings

Progress = Callable[[str], None]


class TrainingError(RuntimeError):
    code = "training-failed"


def training_inputs() -> list[Path]:
    files = [paths.RASA_CONFIG, paths.RASA_DOMAIN]
    for root in (paths.RASA_DATA, paths.RASA_CODE):
        if root.is_dir():
            files.extend(sorted(p for p in root.rglob("*") if p.is_file()
                                and p.suffix in {".yml", ".yaml", ".txt", ".json", ".py"}))
    return files


def fingerprint() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"rasa={version('rasa')}".encode())
    for file in training_inputs():
        if not file.is_file():
            raise TrainingError(f"Trainingsdatei fehlt: {file}")
        digest.update(str(file.relative_to(paths.PROJECT_ROOT)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"buergerbot-{fingerprint()}.tar.gz"


def rasa_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.to_env())
    env["RASA_TELEMETRY_ENABLED"] = "true" if settings.rasa_telemetry else "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def ensure_model(settings: Settings, *, force: bool = False,
                 progress: Progress = print) -> Path:
    """Return the trained model for the current inputs, training it first if needed."""
    target = model_path(settings)
    if target.is_file() and not force:
        progress(f"Rasa-Modell ist aktuell: {target.name}")
        return target
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    progress("Rasa-Modell wird trainiert (Trainingsdaten, Domain oder Konfiguration haben sich "
             "geändert) – das dauert einige Minuten ...")
    started = time.monotonic()
    cmd = [sys.executable, "-m", "bot.rasa_run", "train",
           "--config", str(paths.RASA_CONFIG), "--domain", str(paths.RASA_DOMAIN),
           "--data", str(paths.RASA_DATA), "--out", str(settings.models_dir),
           "--fixed-model-name", target.name.removesuffix(".tar.gz"), "--force"]
    log_file = settings.models_dir / "train.log"
    with log_file.open("w", encoding="utf-8") as log, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=rasa_env(settings), cwd=paths.PROJECT_ROOT,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if _is_progress_line(line):
                progress("  " + line.strip()[:160])
        code = proc.wait()
    if code != 0 or not target.is_file():
        raise TrainingError(f"Training fehlgeschlagen (Exit-Code {code}); Protokoll: {log_file}")
    for old in settings.models_dir.glob("buergerbot-*.tar.gz"):
        if old != target:
            old.unlink()
    progress(f"Rasa-Modell trainiert in {time.monotonic() - started:.0f} s: {target.name}")
    return target


def _is_progress_line(line: str) -> bool:
    """Lines worth showing from Rasa's chatty training output."""
    if "Epochs:" in line:  # tqdm redraws; show only finished bars
        return "100%" in line
    keys = ("Starting to train component", "Finished training component",
            "Your Rasa model is trained", "Error", "error:")
    return any(k in line for k in keys)


def build_index(env: dict[str, str]) -> int:
    """``buergerbot index`` in a child process (loads or builds the search index), so the
    embedding model's memory is returned before the stack starts; its exit code."""
    return subprocess.call([sys.executable, "-m", "bot.cli", "index"], env=env)


async def index_ready(env: dict[str, str]) -> None:
    """:func:`build_index` off the event loop, for a start-up gate: the children that need the
    index wait for this; it raises (German message) when the index could not be built."""
    if await asyncio.to_thread(build_index, env) != 0:
        raise RuntimeError("Suchindex konnte nicht erstellt werden.")
