#!/bin/sh
# Install the Chrome Recorder's replay library (@puppeteer/replay, puppeteer-core) for
# tests/test_recorder_reference.py, at the versions of its package-lock.json.
# Idempotent: nothing to do when node_modules matches the lock file. Without npm or
# the registry the tests skip, except in CI (CI set), where this fails instead.
set -u
dir=tests/recorder-reference
stamp=$dir/node_modules/.collector-installed

if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ] \
    && [ -f "$dir/node_modules/@puppeteer/replay/package.json" ] \
    && [ -f "$dir/node_modules/puppeteer-core/package.json" ]; then
    exit 0
fi
fail() {
    if [ -n "${CI:-}" ]; then
        echo "recorder reference: $1 (required in CI)" >&2
        exit 1
    fi
    echo "recorder reference: $1; tests/test_recorder_reference.py will skip" >&2
    exit 0
}
command -v npm >/dev/null 2>&1 || fail "npm not found"
if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    touch "$stamp"
    echo "recorder reference: @puppeteer/replay installed in $dir"
else
    fail "npm ci failed"
fi
