#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, if missing and if we may (root).
set -euo pipefail
need=()
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "Hinweis: Systempakete fehlen (${need[*]}); einige Tests werden übersprungen." >&2
    exit 0
fi
echo "==> Systempakete installieren: ${need[*]}"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
