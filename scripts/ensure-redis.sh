#!/usr/bin/env bash
# Debian's redis-server, which the queue's tests run on 127.0.0.1 with real `duet worker` processes
# (tests/runner/queue). `npm test` and `.ci/run` call this: it installs redis-server with apt-get when it is missing
# (as root, or through sudo), and says what to do where it cannot. DUET_REDIS_SERVER names another redis-server binary
# and skips the install. Nothing is started here: each test starts its own server on a free port and stops it.
set -euo pipefail
server="${DUET_REDIS_SERVER:-redis-server}"
command -v "$server" >/dev/null 2>&1 && exit 0
if [ -n "${DUET_REDIS_SERVER:-}" ]; then
  echo "ensure-redis: DUET_REDIS_SERVER=$server is not an executable" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
else
  echo "ensure-redis: redis-server is missing and this user cannot install it; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends redis-server" >&2
  echo "or set DUET_REDIS_SERVER to a redis-server binary." >&2
  exit 1
fi
echo "ensure-redis: installing Debian's redis-server for the queue's tests (once)" >&2
$sudo apt-get update -qq >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >&2
