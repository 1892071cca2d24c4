#!/bin/sh
# Build the demo shop's script from its TypeScript (collector/demo/src) into a minified
# collector/demo/static/shop.js and its source map shop.js.map. The built files are
# committed, so `collector demo` needs no npm; tests/test_demo_build.py checks they match
# the sources. Uses the esbuild that scripts/ensure-npm-fixture.sh installs (make setup).
# Usage: sh scripts/build-demo.sh [ROOT]   (ROOT/src/main.ts -> ROOT/static/shop.js)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
esbuild=$here/tests/sourcemap-app/node_modules/.bin/esbuild
root=${1:-$here/collector/demo}
[ -x "$esbuild" ] || { echo "build-demo: esbuild missing: run make setup first" >&2; exit 3; }
cd "$root"
"$esbuild" src/main.ts --bundle --minify --sourcemap --target=es2020 \
    --outfile=static/shop.js --log-level=warning
