#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with Swift:
#   1. the Debian packages the tests need (scripts/install-test-deps.sh; sudo when not root),
#   2. one debug build, every Swift test target on it (`swift test`), on SQLite, then again with a
#      throwaway PostgreSQL (scripts/start-postgres.sh): the server suites on the second backend,
#      and the replica and outage tests that need it,
#      the Python example service (examples/python) against the server binary, and the pages in
#      Debian's headless Chromium (tests/browser: Selenium, no display; screenshots in .build/screenshots),
#   3. the generated man page, completions and embedded openapi.yaml are current,
#   4. kill tests: the CLI and the server SIGKILLed mid-write, their files and database checked,
#   5. contract fuzzing: schemathesis against the running server's /openapi.yaml,
#   6. libFuzzer: each parser fuzzed briefly (a separate build under .build-fuzz).
# Budgets are small and fixed here (CI runs this); scripts/contract-fuzz.sh, scripts/fuzz.sh and
# Tests/kill/*.py take longer budgets when run by hand (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "packages"
scripts/install-test-deps.sh

step "build"
swift build --build-tests

step "swift test (SQLite)"
swift test --skip-build

step "examples: the Python service behind introspection"
examples/python/run-tests.sh

step "browser: the pages in headless Chromium, with the real CLI"
DEV_INFRA_SERVER_BIN=.build/debug/dev-infra-server DEV_INFRA_BIN=.build/debug/dev-infra tests/browser/run-tests.sh

step "swift test (PostgreSQL)"
pgdir=$(mktemp -d)
trap 'scripts/start-postgres.sh --stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
eval "$(scripts/start-postgres.sh "$pgdir")"
# One test at a time: sixty test servers migrating sixty databases at once on a 2-core machine
# push queries past the server's 5 s database timeout, which would measure the machine, not the code.
swift test --skip-build --no-parallel
scripts/start-postgres.sh --stop "$pgdir" >/dev/null
unset DEV_INFRA_TEST_POSTGRES_URL DEV_INFRA_TEST_POSTGRES_CA DEV_INFRA_TEST_POSTGRES_DIR DEV_INFRA_TEST_POSTGRES_PORT

step "generated docs"
scripts/generate-docs.sh --check

step "kill tests"
python3 Tests/kill/cli_kill_test.py
python3 Tests/kill/server_kill_test.py

step "contract fuzzing"
MAX_EXAMPLES=${MAX_EXAMPLES:-30} scripts/contract-fuzz.sh

step "libFuzzer"
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

step "done"
