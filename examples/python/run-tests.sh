#!/usr/bin/env bash
# The Python example's end-to-end test: a venv at <repo>/.build-venv-examples (ignored by git as
# .build*), the pinned requirements, pytest. Needs the server binary (<repo>/.build/debug/dev-infra-server,
# or $DEV_INFRA_SERVER_BIN). Exits non-zero when a test fails. Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv="$repo/.build-venv-examples"

# Reuse the venv unless its interpreter is gone (say, python3 was upgraded under it).
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
# Pinned exactly, so once installed this is a quick no-op; no stdin in CI.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" </dev/null

# No .pytest_cache in the source tree; -p no:cacheprovider keeps the tree clean.
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider test_qa_tasks.py "$@" </dev/null
