#!/usr/bin/env bash
# Install the Debian packages the test suite uses for real, when they are missing.
# Without root (and without sudo) we say so loudly; the tests that need them then skip
# with a reason instead of failing.
set -u
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# Headless Chromium for the browser tests (Playwright drives Debian's build, never downloads one).
[ -x /usr/bin/chromium ] || need+=(chromium)
# Redis for the harvest-queue tests that share one queue between workers (tests/resolver/harvesting).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "system-deps: installing ${need[*]} from Debian's packages" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "system-deps: WARNING: not root and no sudo: cannot install ${need[*]}; tests needing them will be SKIPPED" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || echo "system-deps: WARNING: apt-get update failed" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "system-deps: WARNING: could not install ${need[*]}; tests needing them will be SKIPPED" >&2
exit 0
