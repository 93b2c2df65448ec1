#!/usr/bin/env bash
# The browser tests: the real dev-infra-server and dev-infra binaries, pages driven in Debian's headless
# Chromium by Selenium (no display needed). A venv at <repo>/.build-venv-browser (ignored by git as
# .build*), the pinned requirements, pytest. The binaries: $DEV_INFRA_SERVER_BIN and $DEV_INFRA_BIN
# (default <repo>/.build/debug/dev-infra-server and <repo>/.build/debug/dev-infra); Chromium and
# chromedriver come from scripts/install-test-deps.sh. Screenshots of every page, at desktop and phone
# widths, go to <repo>/.build/screenshots/; with UPDATE_README_SCREENSHOTS=1 the README's two are also
# copied to docs/screenshots/. Exits non-zero when a test fails. Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv="$repo/.build-venv-browser"

export DEV_INFRA_SERVER_BIN="${DEV_INFRA_SERVER_BIN:-$repo/.build/debug/dev-infra-server}"
export DEV_INFRA_BIN="${DEV_INFRA_BIN:-$repo/.build/debug/dev-infra}"
# Relative paths name files under the repository, whatever the caller's folder.
case "$DEV_INFRA_SERVER_BIN" in /*) ;; *) DEV_INFRA_SERVER_BIN="$repo/$DEV_INFRA_SERVER_BIN" ;; esac
case "$DEV_INFRA_BIN" in /*) ;; *) DEV_INFRA_BIN="$repo/$DEV_INFRA_BIN" ;; esac

# Reuse the venv unless its interpreter is gone (say, python3 was upgraded under it).
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
# Pinned exactly, so once installed this is a quick no-op; no stdin in CI.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" </dev/null

# Selenium Manager is never needed (the driver's path is given); keep it from phoning home if it were.
export SE_AVOID_STATS=true
# No display: Chromium runs headless, and the CLI under test must not try to open a browser.
unset DISPLAY WAYLAND_DISPLAY BROWSER

# No .pytest_cache in the source tree; -p no:cacheprovider keeps the tree clean.
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider test_pages.py "$@" </dev/null
