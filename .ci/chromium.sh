#!/usr/bin/env bash
# Make Debian's Chromium available for tests/web (Playwright drives it headless through executable_path=/usr/bin/chromium;
# the tests skip without it). Idempotent: does nothing when the browser is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
[ -x /usr/bin/chromium ] || { echo "chromium install left no /usr/bin/chromium" >&2; exit 1; }
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
