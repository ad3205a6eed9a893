#!/bin/sh
# Make Debian's chromium available for the browser tests (tests/test_report_browser.py).
# A no-op when /usr/bin/chromium exists; installs it with apt-get when running as root;
# otherwise says how and exits 0 so the browser test skips with its own reason.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core
    exit 0
fi
echo "ensure-chromium: /usr/bin/chromium is missing and this is not root with apt-get;" \
     "install it with: sudo apt-get install -y chromium (browser tests will skip)" >&2
