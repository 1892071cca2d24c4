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

# Chromium's headless shell (same engine, no desktop browser around it) is what headless
# runs use when it is there: a new page costs it a fraction of what it costs chromium.
# Optional for collector, installed when we can (the tests expect it).
ensure_headless_shell() {
    if found=$(usable chromium-headless-shell chrome-headless-shell); then
        echo "headless shell: $found"
    elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "headless shell: not found, installing Debian's chromium-headless-shell package"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq chromium-headless-shell >/dev/null; }
        usable chromium-headless-shell >/dev/null \
            || { echo "headless shell: installed but does not run" >&2; exit 1; }
        echo "headless shell: $(command -v chromium-headless-shell)"
    else
        echo "headless shell: not found (optional: sudo apt-get install -y chromium-headless-shell)"
    fi
}

if found=$(usable chromium chromium-browser google-chrome); then
    echo "chromium: $found"
    ensure_headless_shell
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
    apt-get install -y -qq chromium chromium-headless-shell >/dev/null
    usable chromium >/dev/null || { echo "chromium: installed but does not run" >&2; exit 1; }
    echo "chromium: $(command -v chromium)"
    ensure_headless_shell
    exit 0
fi

echo "chromium: not found. Install it with: sudo apt-get install -y chromium" >&2
exit 1
