#!/bin/sh
# Make sure a Chromium that Playwright can drive is installed. Playwright cannot
# download its own browser on machines without general network access, so we
# rely on the distribution's package.
set -eu

usable() {
    for candidate in "$@"; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if "$path" --version >/dev/null 2>&1; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

if found=$(usable chromium chromium-browser google-chrome); then
    echo "chromium: $found"
    exit 0
fi
# Playwright's own browser counts too (installed with `playwright install chromium`).
if ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-*/chrome-linux*/chrome >/dev/null 2>&1; then
    echo "chromium: Playwright's own"
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium: not found, installing Debian's chromium package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    usable chromium >/dev/null || { echo "chromium: installed but does not run" >&2; exit 1; }
    echo "chromium: $(command -v chromium)"
    exit 0
fi

echo "chromium: not found. Install it with: sudo apt-get install -y chromium" >&2
exit 1
