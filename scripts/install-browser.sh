#!/bin/sh
# Installs Debian's Chromium for the browser test (tests/web/test_browser.py), if it is missing.
# Playwright drives it through executable_path=/usr/bin/chromium: never `playwright install`.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed at /usr/bin/chromium"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
/usr/bin/chromium --version
