#!/usr/bin/env bash
# Creates .venv with the exact, tested package set (requirements/lock.txt + requirements/rasa.txt).
# Idempotent: `make install` only calls this when the lock files changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "buergerbot: Python 3.11 wird benötigt ('$PYTHON' nicht gefunden). Setzen Sie PYTHON=/pfad/zu/python3.11." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    echo "buergerbot: '$PYTHON' ist nicht Python 3.11 ($("$PYTHON" --version 2>&1))." >&2
    exit 1
fi

start=$(date +%s)
step() { printf '\n==> [%s/5] %s\n' "$1" "$2"; }

step 1 "Virtuelle Umgebung .venv anlegen"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# torch first and pinned: anything that asks for a torch range later finds it satisfied
# instead of pulling the CUDA build.
step 2 "PyTorch (CPU) installieren"
"${PIP[@]}" install --progress-bar off "$(grep -E '^torch==' requirements/lock.txt)"

step 3 "Abhängigkeiten aus requirements/lock.txt installieren"
"${PIP[@]}" install --progress-bar off -r requirements/lock.txt

# Rasa 3.6.21 declares python<3.11 but runs on 3.11 with the set above.
step 4 "Rasa Open Source 3.6.21 und rasa-sdk 3.6.2 installieren"
"${PIP[@]}" install --progress-bar off --no-deps --ignore-requires-python -r requirements/rasa.txt

step 5 "buergerbot selbst installieren (editierbar)"
"${PIP[@]}" install --progress-bar off --no-deps -e .

echo "$(( $(date +%s) - start ))" > .venv/.install-seconds
touch .venv/.installed
printf '\nInstallation fertig in %s s.\n' "$(cat .venv/.install-seconds)"
