#!/usr/bin/env bash
# The whole test suite: one debug build, every test target on it, and the generated-docs check.
# Needs dbus, gnome-keyring and libsecret-tools installed (.ci/run installs them); each keyring
# test starts its own private session bus and keyring, never touching yours.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
swift test --skip-build
scripts/generate-docs.sh --check
