#!/usr/bin/env bash
# Make Debian's PostgreSQL server binaries available for tests/catalog (the fixture starts its own throw-away server
# on 127.0.0.1 from /usr/lib/postgresql/*/bin; it never installs anything itself and skips without them).
# Idempotent: does nothing when the binaries are already there.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "postgresql: $(ls -d /usr/lib/postgresql/*/bin | tail -1) present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q postgresql
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "postgresql install left no initdb" >&2; exit 1; }
echo "postgresql: $(ls -d /usr/lib/postgresql/*/bin | tail -1) installed"
