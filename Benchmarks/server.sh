#!/usr/bin/env bash
# wrk against GET /v1/whoami (a valid key) and GET /healthz on a release build, with 100 and with
# 100,000 keys in the SQLite database. Prints requests/s, latency percentiles and the ratio.
# Bounded: each run lasts DURATION (default 10s) with CONNECTIONS (default 32) connections.
# Needs: wrk, sqlite3, python3 (apt-get install wrk sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install wrk sqlite3" >&2; exit 1; }
done
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18480}

make -s build >&2
bin="$(swift build -c release --show-bin-path)/dev-infra-server"
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Rows shaped as the server writes them, made by a second implementation of the key format.
add_keys() {
    python3 - "$1" "$2" <<'PY'
import hashlib, random, sqlite3, string, sys
db, count = sys.argv[1], int(sys.argv[2])
alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
rand = random.Random(42)
con = sqlite3.connect(db)
rows = []
for _ in range(count):
    kid = ''.join(rand.choice(alphabet) for _ in range(12))
    sec = ''.join(rand.choice(alphabet) for _ in range(32))
    rows.append((kid, hashlib.sha256(sec.encode()).digest(), "bench", 1, None, "keys:read", 1800000000))
con.executemany("INSERT INTO api_keys (key_id, secret_hash, name, owner_id, team, scopes, created_at) VALUES (?,?,?,?,?,?,?)", rows)
con.commit()
PY
}

report() {  # name, url, key
    local args=(-t2 -c"$CONNECTIONS" -d"$DURATION" --latency)
    if [ -n "${3:-}" ]; then args+=(-H "Authorization: Bearer $3"); fi
    wrk "${args[@]}" "$2" > "$work/wrk.txt"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
    printf '| %-8s | %-10s | %9s | %8s | %8s | %s |\n' "$keys" "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
    echo "$rps"  > "$work/$1.rps"
}

echo "| keys     | endpoint   | req/s     | p50      | p99      | non-2xx |"
echo "|---|---|---:|---:|---:|---:|"
for keys in 100 100000; do
    rm -f "$work"/server.sqlite*
    db="sqlite:$work/server.sqlite"
    admin=$("$bin" admin bootstrap --database "$db")
    add_keys "$work/server.sqlite" $((keys - 1))
    # A limit the benchmark cannot reach: this measures the server, not the limiter.
    "$bin" serve --port "$PORT" --database "$db" --rate-limit 10000000 --log-level warning 2>"$work/server.log" &
    server_pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    report healthz "http://127.0.0.1:$PORT/healthz"
    report whoami "http://127.0.0.1:$PORT/v1/whoami" "$admin"
    python3 -c "import sys; print(f'|          | whoami/healthz | {float(open(sys.argv[1]).read())/float(open(sys.argv[2]).read()):.2f} | | | |')" \
        "$work/whoami.rps" "$work/healthz.rps"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
