#!/usr/bin/env bash
# Does the time a refused sign-in takes tell whether the username exists? Times RUNS refused
# sign-ins (default 40) for an existing user with a wrong password, for an unknown user, and for the
# admin (who has no password), each through curl, and prints the medians. They should be within a
# few milliseconds: an unknown name is compared against a dummy bcrypt hash of the same cost.
# BIN picks the server binary (default: the debug build, so no release build is needed).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-40}
bin=${BIN:-.build/debug/dev-infra-server}
[ -x "$bin" ] || { echo "no server binary at $bin: swift build, or set BIN" >&2; exit 1; }
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

db="sqlite:$work/server.sqlite"
"$bin" admin bootstrap --database "$db" >/dev/null
"$bin" admin team add web --database "$db" 2>/dev/null
printf 'a-long-password' | "$bin" admin user add alice --team web --database "$db" 2>/dev/null
# The sign-in throttle is set out of the way: this measures bcrypt, not the 429s.
"$bin" serve --port 0 --database "$db" --sign-in-limit 1000000 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/log" 2>/dev/null && break; sleep 0.05; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/log" | cut -d: -f2)

median_ms() {
    local user=$1
    for _ in $(seq "$RUNS"); do
        curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
            -d "{\"username\":\"$user\",\"password\":\"wrong-password\"}" "http://127.0.0.1:$port/v1/auth/token"
    done | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}

printf '%-32s %8s\n' "refused sign-in" "median"
printf '%-32s %6s ms\n' "existing user, wrong password" "$(median_ms alice)"
printf '%-32s %6s ms\n' "unknown user" "$(median_ms nobody-at-all)"
printf '%-32s %6s ms\n' "admin (no password)" "$(median_ms admin)"
