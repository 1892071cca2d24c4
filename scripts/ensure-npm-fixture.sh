#!/bin/sh
# Install an npm test fixture at the versions of its package-lock.json:
#   ensure-npm-fixture.sh NAME DIR FILE...   (FILE: what must exist under DIR/node_modules)
# Idempotent: nothing to do when node_modules is newer than the lock file and holds every
# FILE. Without npm or the registry the tests that need it skip, except in CI (CI set),
# where this fails instead.
set -u
name=$1 dir=$2
shift 2
stamp=$dir/node_modules/.collector-installed

installed=yes
[ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ] || installed=no
for file in "$@"; do
    [ -e "$dir/node_modules/$file" ] || installed=no
done
[ "$installed" = yes ] && exit 0

fail() {
    if [ -n "${CI:-}" ]; then
        echo "$name: $1 (required in CI)" >&2
        exit 1
    fi
    echo "$name: $1; the tests that need it will skip" >&2
    exit 0
}
command -v npm >/dev/null 2>&1 || fail "npm not found"
if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    touch "$stamp"
    echo "$name: installed in $dir"
else
    fail "npm ci failed"
fi
