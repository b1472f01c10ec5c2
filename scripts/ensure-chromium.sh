#!/usr/bin/env bash
# Debian's chromium, which the viewer's browser tests drive headless through playwright-core (tests/viewer).
# `npm test` and `.ci/run` call this: it installs chromium with apt-get when it is missing (as root, or through sudo),
# and says what to do where it cannot. DUET_CHROMIUM names another browser binary and skips the install.
set -euo pipefail
browser="${DUET_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ -n "${DUET_CHROMIUM:-}" ]; then
  echo "ensure-chromium: DUET_CHROMIUM=$browser is not an executable file" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
else
  echo "ensure-chromium: /usr/bin/chromium is missing and this user cannot install it; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  echo "or set DUET_CHROMIUM to a Chromium binary." >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium for the viewer's browser tests (once)" >&2
$sudo apt-get update -qq >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
