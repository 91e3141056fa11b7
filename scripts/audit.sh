#!/usr/bin/env bash
# Dependency audit (docs/SECURITY.md) and the environment of the security tools.
#
#   bash scripts/audit.sh install      create/update .venv/tools from requirements/tools.txt
#   bash scripts/audit.sh [--offline=warn|fail]
#                                      audit requirements/lock.txt + requirements/rasa.txt with
#                                      pip-audit (and tests/web with npm audit) against the
#                                      accepted exceptions in requirements/audit-ignore.toml
#
# The tools live in their own environment because pip-audit and schemathesis need newer
# packaging/jsonschema/pytest than Rasa 3.6.21's pinned set in .venv allows.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
TOOLS=.venv/tools

install_tools() {
    if [ -f "$TOOLS/.installed" ] && cmp -s requirements/tools.txt "$TOOLS/.installed"; then
        return 0
    fi
    echo "==> Sicherheitswerkzeuge (pip-audit, schemathesis) in $TOOLS installieren"
    [ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip --disable-pip-version-check install --progress-bar off -q \
        --no-deps -r requirements/tools.txt
    cp requirements/tools.txt "$TOOLS/.installed"
}

if [ "${1:-}" = "install" ]; then
    install_tools
    exit 0
fi
install_tools
exec "$TOOLS/bin/python" scripts/audit.py --pip-audit "$TOOLS/bin/pip-audit" "$@"
