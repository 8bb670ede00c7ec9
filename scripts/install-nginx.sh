#!/bin/sh
# Installs Debian's nginx for the reverse-proxy test (tests/safety/test_behind_nginx.py), if it is missing.
# The test runs its own nginx as a foreground process with a temporary prefix: the system service is not needed.
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    echo "nginx: already installed ($(/usr/sbin/nginx -v 2>&1))"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nginx
# The package starts a system nginx on port 80; the test does not use it and CI should not keep it.
$SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
/usr/sbin/nginx -v
