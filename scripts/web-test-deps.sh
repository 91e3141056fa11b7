#!/usr/bin/env bash
# What the browser tests (tests/web) need besides the Python environment:
#   - Debian's Chromium (installed with apt when missing and we are root; Playwright's own
#     browser download is never used),
#   - axe-core from the npm registry, pinned with its integrity hash in tests/web/package-lock.json
#     and installed into tests/web/node_modules (gitignored); never from a CDN.
# Safe to run again: does nothing when both are present and the lock file did not change.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh chromium

web=tests/web
stamp=$web/node_modules/.lock-installed
if [ ! -f "$web/node_modules/axe-core/axe.min.js" ] || ! cmp -s "$web/package-lock.json" "$stamp"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "Hinweis: npm fehlt; die Barrierefreiheitsprüfung (axe-core) wird übersprungen." >&2
        exit 0
    fi
    echo "==> axe-core aus der npm-Registry installieren ($web/node_modules)"
    npm ci --prefix "$web" --no-audit --no-fund --ignore-scripts --loglevel=error
    cp "$web/package-lock.json" "$stamp"
fi
