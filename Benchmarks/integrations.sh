#!/usr/bin/env bash
# How fast other services can ask dev-infra about a key: wrk against a release build of
# dev-infra-server on SQLite (or DATABASE_URL), every row on the same run and machine:
#   - GET /healthz (the baseline), GET /v1/whoami (a key), GET /v1/check?scope=projects:read&team=qa
#     (forward-auth, the client's key), POST /v1/introspect (a service's key asking about a client's);
#     req/s, p50, p99, non-2xx, and req/s and p99 as ratios of /healthz's;
#   - nginx + forward-auth (examples/nginx/dev-infra.conf as users copy it) + an upstream, beside
#     nginx + the same upstream with no auth: what the check adds at the gateway. The upstream is a
#     `return 200` in the same nginx, so nginx's own cost is in both rows.
# Prints Markdown tables on stdout; progress goes to stderr.
#
#   Benchmarks/integrations.sh                       # make -s build, then every measurement
#   BIN=/path/to/dev-infra-server Benchmarks/integrations.sh
#
# Environment: DURATION [10s] CONNECTIONS [64] per wrk run; DATABASE_URL (a PostgreSQL URL made
# for this, with SERVER_SECRET_FILE) instead of a temp SQLite file; SERVER_ARGS: more `serve`
# options, e.g. "--key-cache-size 0". Limits are lifted (--rate-limit and
# --introspection-rate-limit 1000000, nginx's per-client limit_req rate rewritten) so that the
# server is measured, not its limiters; the script stops if a row has non-2xx answers.
# Everything listens on 127.0.0.1; every step is bounded in time; the temp folder goes on exit.
# Needs: wrk, curl, nginx (with auth_request: Debian's nginx or nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_ARGS=${SERVER_ARGS:-}
progress() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { echo "integrations.sh: $*" >&2; exit 1; }
for tool in wrk curl nginx; do command -v "$tool" >/dev/null || die "missing $tool: apt-get install wrk curl nginx"; done

if [ -z "${BIN:-}" ]; then
    progress "release build (make -s build)"
    make -s build >&2
    BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/dev-infra-server"
fi
[ -x "$BIN" ] || die "no server binary at $BIN"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # url
    for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done
    die "nothing answered $1"
}

# --- the server, a user in team qa, her key, and a service's introspection key ---
database=${DATABASE_URL:-sqlite:$work/server.sqlite}
secret=${SERVER_SECRET_FILE:-$work/server.key}
[ -n "${DATABASE_URL:-}" ] && [ -z "${SERVER_SECRET_FILE:-}" ] && die "DATABASE_URL needs SERVER_SECRET_FILE"
[ -e "$secret" ] || head -c 32 /dev/urandom > "$secret"
admin() { timeout 60 "$BIN" admin "$@" --database "$database"; }
admin team add qa >/dev/null
printf 'bench-password\n' | admin user add alice --team qa >/dev/null
admin_key=$(admin bootstrap)
port=$(free_port)
base=http://127.0.0.1:$port
# shellcheck disable=SC2086  # SERVER_ARGS is a list of options
"$BIN" serve --port "$port" --database "$database" --secret-file "$secret" --log-level warning \
    --rate-limit 1000000 --introspection-rate-limit 1000000 $SERVER_ARGS 2>"$work/server.log" &
pids+=($!)
wait_for "$base/healthz"
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
jwt=$(curl -sf --max-time 5 -H 'Content-Type: application/json' -d '{"username":"alice","password":"bench-password"}' \
    "$base/v1/auth/token" | json_field access_token)
key=$(curl -sf --max-time 5 -H "Authorization: Bearer $jwt" -H 'Content-Type: application/json' \
    -d '{"name":"bench","scopes":["projects:read"],"team":"qa"}' "$base/v1/keys" | json_field api_key)
service=$(curl -sf --max-time 5 -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
    -d '{"name":"bench-service","scopes":["keys:introspect"]}' "$base/v1/keys" | json_field api_key)
active=$(curl -sf --max-time 5 -H "Authorization: Bearer $service" --data-urlencode "token=$key" \
    --data "scope=projects:read&team=qa" "$base/v1/introspect" | json_field active)
[ "$active" = True ] || die "the benchmark key is not active"

# --- nginx: the example as users copy it, plus an upstream and an auth-less route to it ---
gateway=$(free_port) upstream=$(free_port) plain=$(free_port)
mkdir -p "$work/nginx/temp"
sed -e "s/127.0.0.1:8080/127.0.0.1:$port/" -e "s/127.0.0.1:9000/127.0.0.1:$upstream/" \
    -e "s/127.0.0.1:8000/127.0.0.1:$gateway/" -e 's/rate=100r\/s/rate=1000000r\/s/' \
    examples/nginx/dev-infra.conf > "$work/nginx/dev-infra.conf"
cat > "$work/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/temp/body; proxy_temp_path $work/nginx/temp/proxy;
    fastcgi_temp_path $work/nginx/temp/fastcgi; uwsgi_temp_path $work/nginx/temp/uwsgi; scgi_temp_path $work/nginx/temp/scgi;
    include $work/nginx/dev-infra.conf;
    server { listen 127.0.0.1:$upstream; location / { return 200 "ok\n"; } }
    upstream bench_plain { server 127.0.0.1:$upstream; keepalive 64; }
    server {
        listen 127.0.0.1:$plain;
        location / { proxy_pass http://bench_plain; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2>"$work/nginx/stderr" &
pids+=($!)
wait_for "http://127.0.0.1:$plain/"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $key" "http://127.0.0.1:$gateway/")
[ "$status" = 200 ] || die "the gateway refused the benchmark key ($status): $(cat "$work/nginx/error.log")"

cat > "$work/introspect.lua" <<EOF
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $service"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=$key&scope=projects:read&team=qa"
EOF

# "rps p50 p99 non2xx" of a wrk output.
numbers() {
    awk '/Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
         /Non-2xx or 3xx responses/ { non2xx = $NF }
         END { printf "%s %s %s %s\n", rps, p50, p99, non2xx + 0 }' "$1"
}
micros() {
    awk -v t="$1" 'BEGIN { n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        print n * ((u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 60000000) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
measure() {  # name wrk-arguments...
    local name=$1
    shift
    progress "$name"
    timeout --signal=INT $(( ${DURATION%s} + 60 )) wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" > "$work/$name.txt" 2>&1 \
        || { cat "$work/$name.txt" >&2; die "wrk failed"; }
    read -r -a row < <(numbers "$work/$name.txt")
    [ "${row[3]}" = 0 ] || die "$name: ${row[3]} non-2xx answers: not a clean measurement"
    eval "result_$name=(\"\${row[@]}\")"
}

measure healthz "$base/healthz"
measure whoami -H "Authorization: Bearer $key" "$base/v1/whoami"
measure check -H "Authorization: Bearer $key" "$base/v1/check?scope=projects:read&team=qa"
measure introspect -s "$work/introspect.lua" "$base/v1/introspect"
measure nginx_plain "http://127.0.0.1:$plain/"
measure nginx_check -H "Authorization: Bearer $key" "http://127.0.0.1:$gateway/"

table() {  # baseline rows...
    local baseline=$1
    shift
    local -n base_row="result_$baseline"
    printf '| %-34s | %9s | %9s | %9s | %13s | %13s |\n' "" "req/s" "p50" "p99" "req/s ÷ first" "p99 ÷ first"
    printf '| %s | --: | --: | --: | --: | --: |\n' "----------------------------------"
    for entry in "$@"; do
        local name=${entry%%=*} label=${entry#*=}
        local -n r="result_$name"
        printf '| %-34s | %9s | %9s | %9s | %13s | %13s |\n' "$label" "${r[0]}" "${r[1]}" "${r[2]}" \
            "$(ratio "${r[0]}" "${base_row[0]}")" "$(ratio "$(micros "${r[2]}")" "$(micros "${base_row[2]}")")"
    done
}
echo
echo "dev-infra-server ($(basename "${database%%:*}"), $DURATION per row, $CONNECTIONS connections, wrk -t2; $(nproc) cores)"
echo
table healthz "healthz=GET /healthz" "whoami=GET /v1/whoami" "check=GET /v1/check (forward-auth)" "introspect=POST /v1/introspect"
echo
echo "nginx in front of an upstream (return 200), one nginx process"
echo
table nginx_plain "nginx_plain=nginx + upstream" "nginx_check=nginx + /v1/check + upstream"
