#!/usr/bin/env bash
# Installs Debian's Chromium for the real-browser tests (the SDK suite and the
# browser end-to-end tests drive it with playwright-core). Test tools that
# download their own browser cannot work here (no internet besides package
# registries), so the browser comes from the distribution's packages.
# Idempotent: does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "setup: installing Debian's chromium for the browser tests"
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
