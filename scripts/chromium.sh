#!/usr/bin/env bash
# Print the path of a headless-capable Chromium, installing Debian's
# `chromium` package with apt-get when none is found (CI: a fresh Debian
# machine, root, the Debian mirror reachable).
#
#   scripts/chromium.sh          print the browser's path (install if missing)
#
# $AIMETRICS_CHROMIUM, when set to an executable, wins and nothing is
# installed. Progress goes to stderr; stdout is only the path.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

find_browser() {
    if [ -n "${AIMETRICS_CHROMIUM:-}" ] && [ -x "${AIMETRICS_CHROMIUM}" ]; then
        echo "$AIMETRICS_CHROMIUM"; return 0
    fi
    local name
    for name in chromium chromium-browser; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"; return 0
        fi
    done
    return 1
}

if find_browser; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    log "no chromium on PATH and not root: install Debian's chromium (apt-get install chromium) or set AIMETRICS_CHROMIUM"
    exit 1
fi
log "installing Debian's chromium (apt-get update; apt-get install chromium)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# fonts-dejavu-core: the report's text needs a font; chromium alone pulls none in some images
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
find_browser || { log "chromium did not install"; exit 1; }
