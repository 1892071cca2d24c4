#!/bin/sh
# PostgreSQL for the inbox's tests (tests/pg_cluster.py starts a throwaway cluster of its
# own; nothing here starts a server). Installed with apt when run as root; elsewhere the
# PostgreSQL half of tests/test_inbox.py skips (and fails in CI, where this installs it).
set -eu

if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "postgresql: found"
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgresql: not found, installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    exit 0
fi
echo "postgresql: not found; the inbox's PostgreSQL tests will skip (sudo apt-get install -y postgresql)"
