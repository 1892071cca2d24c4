#!/bin/sh
# `collector record` opens a real (headed) Chromium window; its tests give it one under
# Xvfb, a virtual X display. Installed like Chromium: Debian's package, as root, only
# when missing, so `make setup` stays cheap to repeat.
set -eu

if command -v Xvfb >/dev/null 2>&1; then
    echo "xvfb: $(command -v Xvfb)"
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "xvfb: not found, installing Debian's xvfb package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq xvfb >/dev/null
    command -v Xvfb >/dev/null 2>&1 || { echo "xvfb: installed but Xvfb is not on PATH" >&2; exit 1; }
    echo "xvfb: $(command -v Xvfb)"
    exit 0
fi
# Not fatal: only the `collector record` tests need it, and they say so when it is missing.
echo "xvfb: not found (the record tests will be skipped). Install it with: sudo apt-get install -y xvfb" >&2
exit 0
