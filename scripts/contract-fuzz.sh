#!/usr/bin/env bash
# Contract fuzzing: schemathesis runs every check against the real dev-infra-server, started on a
# loopback port with a temp SQLite file, and fails on any response the OpenAPI document does not
# allow. No build: it uses an existing binary.
#
#   scripts/contract-fuzz.sh                     # CI: 30 examples per operation, fixed seed
#   MAX_EXAMPLES=500 scripts/contract-fuzz.sh    # the longer run
#   scripts/contract-fuzz.sh --continue-on-failure   # arguments go on to `schemathesis run`
#
# Environment:
#   DEV_INFRA_SERVER_BIN  the server binary (default .build/debug/dev-infra-server)
#   MAX_EXAMPLES          test cases per operation and phase (default 30)
#   SEED                  schemathesis/Hypothesis seed (default 20261126)
#   CONTRACT_FUZZ_SCHEMA  "served" (default): the document the server serves at /openapi.yaml;
#                         or a path, e.g. openapi.yaml, to fuzz the repository's document against
#                         a binary built before it changed
#   CONTRACT_FUZZ_REPORT_DIR  where the JUnit report and the server log go (default .build/contract-fuzz)
#
# schemathesis is installed with pip into .build-venv/ (gitignored) when missing, pinned below.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
server_bin=${DEV_INFRA_SERVER_BIN:-.build/debug/dev-infra-server}
max_examples=${MAX_EXAMPLES:-30}
seed=${SEED:-20261126}
schema=${CONTRACT_FUZZ_SCHEMA:-served}
report_dir=${CONTRACT_FUZZ_REPORT_DIR:-.build/contract-fuzz}
venv=.build-venv
started=$(date +%s)

if [ ! -x "$server_bin" ]; then
    echo "contract-fuzz: no server binary at $server_bin: build it first (swift build) or set DEV_INFRA_SERVER_BIN" >&2
    exit 1
fi

# --- schemathesis, pinned, in a venv (Debian 12's python3 refuses a system-wide pip install) ---
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
    if [ ! -x "$venv/bin/pip" ]; then
        rm -rf "$venv"
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            # Debian's python3 has no ensurepip without python3-venv.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
                rm -rf "$venv"
                python3 -m venv "$venv"
            else
                echo "contract-fuzz: python3 -m venv failed: install python3-venv" >&2
                exit 1
            fi
        fi
    fi
    echo "contract-fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" </dev/null
fi
st_version=$("$venv/bin/schemathesis" --version)

# --- a server on a temp database: admin key, a decoy admin key, team web, user alice ---
tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db="sqlite:$tmp/server.sqlite"
admin_key=$("$server_bin" admin bootstrap --database "$db")
"$server_bin" admin team add web --database "$db" 2>/dev/null
printf 'a-long-password' | "$server_bin" admin user add alice --team web --database "$db" 2>/dev/null

mkdir -p "$report_dir"
server_log="$report_dir/server.log"
# The document's largest rate limit (1,000,000 a second) is what a key may be given on a server run
# with this --rate-limit: a key's limit depends on the server's, which no schema can say.
serve_flags=(--host 127.0.0.1 --port 0 --database "$db" --rate-limit 1000000)
# Servers that throttle sign-in have a flag for it; the fuzzer signs in far more often than a person.
serve_help=$("$server_bin" serve --help 2>&1 || true)
case "$serve_help" in *--sign-in-limit*) serve_flags+=(--sign-in-limit 1000000) ;; esac
"$server_bin" serve "${serve_flags[@]}" 2>"$server_log" &
server_pid=$!
port=
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$server_log" | head -n 1)
    [ -n "$port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "contract-fuzz: the server exited; its log:" >&2
        cat "$server_log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "contract-fuzz: the server did not say where it listens within 30 s; its log:" >&2
    cat "$server_log" >&2
    exit 1
fi
base="http://127.0.0.1:$port"

decoy_key_id=$(curl -fsS -X POST "$base/v1/keys" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
    -d '{"name": "contract-fuzz decoy admin key", "scopes": ["keys:read", "keys:write", "projects:read", "projects:write", "audit:read", "admin"]}' \
    | sed -n 's/.*"id":"\([0-9A-Za-z]\{12\}\)".*/\1/p')
if [ -z "$decoy_key_id" ]; then
    echo "contract-fuzz: could not create the decoy key" >&2
    exit 1
fi
export CONTRACT_FUZZ_ADMIN_KEY_ID=${admin_key:5:12}
export CONTRACT_FUZZ_DECOY_KEY_ID=$decoy_key_id
export SCHEMATHESIS_HOOKS=scripts/contract-fuzz-hooks.py

if [ "$schema" = served ]; then
    location=("$base/openapi.yaml")
    # The embedded copy is a Swift string literal: it lacks the file's final newline.
    if ! { curl -fsS "$base/openapi.yaml"; echo; } | cmp -s - openapi.yaml; then
        echo "contract-fuzz: warning: the server's embedded document differs from openapi.yaml (rebuild after scripts/generate-docs.sh)" >&2
    fi
else
    location=("$schema" --url "$base")
fi

# --- fuzz ---
echo "contract-fuzz: $st_version, $server_bin on $base, seed $seed, $max_examples examples per operation" >&2
set +e
"$venv/bin/schemathesis" --config-file scripts/contract-fuzz.toml run "${location[@]}" \
    --header "Authorization: Bearer $admin_key" \
    --seed "$seed" \
    --max-examples "$max_examples" \
    --workers 1 \
    --generation-database none \
    --request-timeout 10 \
    --report junit --report-junit-path "$report_dir/junit.xml" \
    --no-color "$@" </dev/null
status=$?
set -e

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "contract-fuzz: the server died during the run; see $server_log" >&2
    [ "$status" = 0 ] && status=1
elif ! curl -fsS -o /dev/null -H "Authorization: Bearer $admin_key" "$base/v1/whoami"; then
    # The hooks keep the fuzzer from revoking or rotating its own key; if it lost it anyway, the
    # run's later answers were 401s and prove little.
    echo "contract-fuzz: the admin key no longer works after the run: the results are not meaningful" >&2
    [ "$status" = 0 ] && status=1
fi
elapsed=$(( $(date +%s) - started ))
if [ "$status" = 0 ]; then verdict=passed; else verdict="FAILED (exit $status)"; fi
echo "contract-fuzz: $verdict in ${elapsed}s: $st_version, seed $seed, $max_examples examples per operation; JUnit: $report_dir/junit.xml, server log: $server_log" >&2
exit "$status"
