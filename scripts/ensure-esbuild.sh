#!/bin/sh
# Install esbuild for tests/test_sourcemaps.py (it builds tests/sourcemap-app/src, a small
# TypeScript app, into minified bundles with source maps), at the version of its
# package-lock.json. Idempotent: nothing to do when node_modules matches the lock file.
# Without npm or the registry those tests skip, except in CI (CI set), where this fails.
set -u
dir=tests/sourcemap-app
stamp=$dir/node_modules/.collector-installed

if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ] \
    && [ -x "$dir/node_modules/.bin/esbuild" ]; then
    exit 0
fi
fail() {
    if [ -n "${CI:-}" ]; then
        echo "esbuild: $1 (required in CI)" >&2
        exit 1
    fi
    echo "esbuild: $1; tests/test_sourcemaps.py will skip" >&2
    exit 0
}
command -v npm >/dev/null 2>&1 || fail "npm not found"
if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    touch "$stamp"
    echo "esbuild: installed in $dir"
else
    fail "npm ci failed"
fi
