#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when any is missing: as root directly, else
# with sudo. Nothing else: the Python tools (schemathesis, selenium) go into .build-venv*/ when their
# scripts run.
set -euo pipefail

packages=(
    dbus gnome-keyring libsecret-1-0 libsecret-tools   # a real Secret Service for the keyring tests
    python3-dbus python3-gi                            # the small Python Secret Service of one test
    libsqlite3-dev                                     # GRDB links the system SQLite
    python3 python3-venv                               # kill tests, hostile servers, schemathesis
    openssl curl ca-certificates                       # the TLS tests' throwaway CA, and curl over https
    bsdutils util-linux                                # `script` for terminal tests, `setpriv`, `flock`
    strace                                             # the kill tests' kills at exact write steps
    postgresql-15 postgresql-client-15                 # the server suites' second backend (scripts/start-postgres.sh)
    nginx                                              # the gateway tests (examples/nginx), auth_request module
    chromium chromium-driver fonts-dejavu-core         # the browser tests (tests/browser): headless Chromium, its chromedriver, a font for screenshots
)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Packages' own services (nginx on port 80, a PostgreSQL cluster) are not started: the tests start
# their own, on loopback. policy-rc.d is Debian's switch for that, removed again afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
