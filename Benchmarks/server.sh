#!/usr/bin/env bash
# wrk against a release build of dev-infra-server, on SQLite and on PostgreSQL, with 1,000 and
# with 1,000,000 keys in the database. For each backend and key count:
#   - GET /healthz and GET /v1/whoami (one valid key): req/s, p50, p99, non-2xx, and the ratios
#     whoami/healthz of req/s and of p99 (DURATION each, 2 threads, CONNECTIONS connections);
#   - POST /v1/keys with the admin key: keys created per second (CREATE_DURATION, 2 threads, 8
#     connections);
#   - the server's resident memory (VmRSS) before and after AUTH_REQUESTS authenticated requests
#     spread over the VALID_KEYS valid keys (round robin), and its peak (VmHWM).
# Prints Markdown tables on stdout; progress goes to stderr.
#
#   Benchmarks/server.sh                          # make -s build, then every measurement
#   BIN=/path/to/dev-infra-server Benchmarks/server.sh    # that binary, no build
#   Benchmarks/server.sh seed URL COUNT KEYS_FILE # seed only (see below), for a database made by
#                                                 #   `dev-infra-server admin bootstrap`
#   Benchmarks/server.sh selftest                 # the key format here against the Swift fixtures
#
# Environment (defaults in brackets):
#   BACKENDS ["sqlite postgres"]  KEY_COUNTS ["1000 1000000"]  VALID_KEYS [10000]
#   DURATION [10s]  CONNECTIONS [64]  CREATE_DURATION [5s]
#   AUTH_REQUESTS [1000000]  AUTH_MAX_SECONDS [600]: the memory run stops at AUTH_REQUESTS
#     responses, or after AUTH_MAX_SECONDS (then its row says how many it got)
#   RATE_LIMIT [1000000]: --rate-limit, per key and second: out of reach, so this measures the
#     server, not the limiter
#   SERVER_ARGS: more `serve` options, e.g. "--key-cache-size 0" (every request reads the database)
#   PG_URL_QUERY: appended to the PostgreSQL URL, e.g. "?sslmode=disable"
#   PORT: the server's port [a free one]  BIN: the server binary [the release build]
#
# Seeding is by SQL, not through the API: rows shaped as the server writes them (migration v1 of
# SQLiteRepository, the same columns in PostgreSQL), made by a second implementation of the key
# format (Python's zlib.crc32 and hashlib). A database of N keys holds the admin's key and N-1
# seeded ones, of which min(VALID_KEYS, N-1) are valid keys whose raw strings go to a file; the
# others have random secret hashes. SQLite: sqlite3 executemany in one transaction; PostgreSQL:
# psql \copy in CSV, then ANALYZE. The time it takes is printed.
#
# Check that the non-2xx column is 0: the rate limit applies per key (out of reach here), and the
# server's limiter for refused credentials answers 429 once keys are wrong, which would then be
# measured instead of authentication. The script stops before measuring if the whoami key is refused.
#
# Everything listens on 127.0.0.1; every step is bounded in time; temp folders go on exit.
# Needs: wrk, sqlite3, python3, curl, and for PostgreSQL the postgresql-15 server binaries and psql
# (apt-get install wrk sqlite3 curl postgresql-15 postgresql-client-15).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077   # databases, keys and the server key are private to this user

BACKENDS=${BACKENDS:-sqlite postgres}
KEY_COUNTS=${KEY_COUNTS:-1000 1000000}
VALID_KEYS=${VALID_KEYS:-10000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
CREATE_DURATION=${CREATE_DURATION:-5s}
AUTH_REQUESTS=${AUTH_REQUESTS:-1000000}
AUTH_MAX_SECONDS=${AUTH_MAX_SECONDS:-600}
RATE_LIMIT=${RATE_LIMIT:-1000000}
SERVER_ARGS=${SERVER_ARGS:-}
PG_URL_QUERY=${PG_URL_QUERY:-}
SEED_TIMEOUT=${SEED_TIMEOUT:-900}

progress() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { echo "server.sh: $*" >&2; exit 1; }

# The key format and the seeding, in Python (python3 -c "$keytool" COMMAND ...):
#   selftest FIXTURES                     the fixture vectors, and a round trip of generated keys
#   seed URL COUNT VALID KEYS_FILE SEED   COUNT rows (VALID valid ones, written to KEYS_FILE);
#                                         prints the seconds it took
keytool=$(cat <<'PY'
import hashlib, json, random, subprocess, sys, time, zlib

ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

def base62(value, width):
    """Base62.encode: most significant digit first, left-padded with '0' to width digits."""
    digits = bytearray(b"0" * width)
    index = width - 1
    while value > 0 and index >= 0:
        digits[index] = ALPHABET[value % 62]
        value //= 62
        index -= 1
    return digits.decode()

def checksum(key_id, secret):
    """APIKey.checksum: base62 (6 digits) of the CRC-32 (zlib) of 'dinf_<key id>_<secret>'."""
    return base62(zlib.crc32(f"dinf_{key_id}_{secret}".encode()), 6)

def raw_key(key_id, secret):
    return f"dinf_{key_id}_{secret}{checksum(key_id, secret)}"

def parse(raw):
    """APIKey.parse, for keys this script made: (key id, secret), or ValueError."""
    if len(raw) != 56 or not raw.startswith("dinf_") or raw[17] != "_":
        raise ValueError("shape")
    key_id, secret, given = raw[5:17], raw[18:50], raw[50:]
    if any(c.encode() not in ALPHABET for c in key_id + secret + given):
        raise ValueError("not base62")
    if given != checksum(key_id, secret):
        raise ValueError("checksum")
    return key_id, secret

# Base62.random's distribution: bytes below 248 (= 4 * 62), each taken modulo 62; the rest dropped.
TABLE = bytes(ALPHABET[b % 62] if b < 248 else 0 for b in range(256))
DROP = bytes(range(248, 256))

def base62_stream(rng, count):
    out = bytearray()
    while len(out) < count:
        out += rng.randbytes(count - len(out) + 64).translate(TABLE, DROP)
    return out[:count].decode()

def generate(rng, count):
    """count distinct (key id, secret) pairs."""
    pairs, seen = [], set()
    while len(pairs) < count:
        need = count - len(pairs)
        text = base62_stream(rng, need * 44)
        for i in range(need):
            key_id = text[i * 44:i * 44 + 12]
            if key_id not in seen:
                seen.add(key_id)
                pairs.append((key_id, text[i * 44 + 12:(i + 1) * 44]))
    return pairs

def selftest(fixtures):
    with open(fixtures) as f:
        vectors = json.load(f)
    for vector in vectors["valid"]:
        made = raw_key(vector["key_id"], vector["secret"])
        assert checksum(vector["key_id"], vector["secret"]) == vector["checksum"], vector
        assert made == vector["key"], (made, vector["key"])
        assert parse(vector["key"]) == (vector["key_id"], vector["secret"])
    for vector in vectors["invalid"]:
        try:
            parse(vector["input"])
        except ValueError:
            continue
        raise AssertionError(f"an invalid vector parsed: {vector}")
    rng = random.Random(1)
    for key_id, secret in generate(rng, 1000):
        assert parse(raw_key(key_id, secret)) == (key_id, secret)
    for value in (0, 1, 61, 62, 2**31, 2**32 - 1):
        digits = base62(value, 6)
        assert len(digits) == 6 and sum(ALPHABET.index(c.encode()) * 62 ** (5 - i) for i, c in enumerate(digits)) == value
    assert base62(0, 6) == "000000" and base62(61, 6) == "00000z" and base62(62, 6) == "000010"
    print(f"key format: {len(vectors['valid'])} valid and {len(vectors['invalid'])} invalid fixture vectors, "
          "and 1000 generated keys, check", file=sys.stderr)

def seed(url, count, valid, keys_file, seed_value):
    started = time.monotonic()
    rng = random.Random(seed_value)
    pairs = generate(rng, count)
    valid = min(valid, count)
    now = int(time.time())
    scopes = "keys:read keys:write"   # Scope.encode: sorted, space-separated
    with open(keys_file, "w") as f:
        for key_id, secret in pairs[:valid]:
            f.write(raw_key(key_id, secret) + "\n")
    # The valid keys' rows hold SHA-256 of the secret (ServerSecrets.hash); the others a random hash.
    hashes = [hashlib.sha256(secret.encode()).digest() for _, secret in pairs[:valid]]
    hashes += [rng.randbytes(32) for _ in range(count - valid)]
    # In key id order: each index then grows at its end, several times faster than random order.
    order = sorted(range(count), key=lambda i: pairs[i][0])
    generated = time.monotonic()
    if url.startswith("sqlite:"):
        import sqlite3
        con = sqlite3.connect(url[len("sqlite:"):], timeout=30)
        (owner,) = con.execute("SELECT id FROM users ORDER BY id LIMIT 1").fetchone() or (None,)
        if owner is None:
            sys.exit("no user in the database: run `dev-infra-server admin bootstrap` first")
        con.execute("PRAGMA cache_size = -262144")   # 256 MB, this connection only
        with con:
            con.executemany(
                "INSERT INTO api_keys (key_id, secret_hash, name, owner_id, team, scopes, created_at) VALUES (?,?,?,?,?,?,?)",
                ((pairs[i][0], hashes[i], "bench", owner, None, scopes, now) for i in order))
        (stored,) = con.execute("SELECT count(*) FROM api_keys").fetchone()
        con.close()
    elif url.startswith(("postgres://", "postgresql://")):
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
        owner = subprocess.run(psql + ["-At", "-c", "SELECT id FROM users ORDER BY id LIMIT 1"],
                               check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        if not owner:
            sys.exit("no user in the database: run `dev-infra-server admin bootstrap` first")
        # CSV: an unquoted empty field is NULL (team); bytea in hex input format, \x...
        copy = subprocess.Popen(psql + ["-c", "\\copy api_keys (key_id, secret_hash, name, owner_id, team, scopes, created_at) "
                                              "FROM pstdin WITH (FORMAT csv)"], stdin=subprocess.PIPE)
        batch = []
        for i in order:
            batch.append(f"{pairs[i][0]},\\x{hashes[i].hex()},bench,{owner},,{scopes},{now}\n")
            if len(batch) == 10000:
                copy.stdin.write("".join(batch).encode())
                batch = []
        copy.stdin.write("".join(batch).encode())
        copy.stdin.close()
        if copy.wait() != 0:
            sys.exit("psql \\copy failed")
        subprocess.run(psql + ["-c", "ANALYZE api_keys"], check=True, timeout=600)
        stored = int(subprocess.run(psql + ["-At", "-c", "SELECT count(*) FROM api_keys"],
                                    check=True, capture_output=True, text=True, timeout=60).stdout)
    else:
        sys.exit(f"not a database URL this script seeds: {url}")
    done = time.monotonic()
    print(f"seeded {count} keys ({valid} valid) in {done - started:.1f} s "
          f"(generating {generated - started:.1f} s, loading {done - generated:.1f} s); the table holds {stored} keys",
          file=sys.stderr)
    print(f"{done - started:.1f}")

command = sys.argv[1]
if command == "selftest":
    selftest(sys.argv[2])
elif command == "seed":
    seed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
else:
    sys.exit(f"unknown keytool command {command}")
PY
)

fixtures=Tests/DevInfraCoreTests/Fixtures/key-format-vectors.json

case ${1:-} in
    selftest)
        python3 -c "$keytool" selftest "$fixtures"
        exit 0
        ;;
    seed)
        [ $# -eq 4 ] || die "usage: Benchmarks/server.sh seed URL COUNT KEYS_FILE"
        timeout "$SEED_TIMEOUT" python3 -c "$keytool" seed "$2" "$3" "$VALID_KEYS" "$4" 42
        exit 0
        ;;
    "") ;;
    *) die "unknown command $1 (none, seed or selftest)" ;;
esac

for tool in wrk sqlite3 python3 curl; do
    command -v "$tool" >/dev/null || die "missing $tool: apt-get install wrk sqlite3 curl"
done
case " $BACKENDS " in
    *" postgres "*) command -v psql >/dev/null || die "missing psql: apt-get install postgresql-15 postgresql-client-15" ;;
esac
for backend in $BACKENDS; do
    case $backend in sqlite | postgres) ;; *) die "unknown backend $backend (sqlite, postgres)" ;; esac
done
python3 -c "$keytool" selftest "$fixtures"

if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    make -s build >&2
    bin="$(swift build -c release --show-bin-path)/dev-infra-server"
fi
[ -x "$bin" ] || die "no server binary at $bin"

work=$(mktemp -d)
pgdir=""
server_pid=""
child=""
# Runs a command in the background and waits for it: bash runs a trap only once its foreground
# command ends, but interrupts `wait` at once, so Ctrl-C or a TERM stops a 10-minute wrk too.
run() {
    "$@" &
    child=$!
    local status=0
    wait "$child" || status=$?
    child=""
    return "$status"
}
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
cleanup() {
    if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
    stop_server
    if [ -n "$pgdir" ]; then scripts/start-postgres.sh --stop "$pgdir" >&2 || true; rm -rf "$pgdir"; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
base="http://127.0.0.1:$PORT"
head -c 32 /dev/urandom > "$work/server.key"
chmod 0600 "$work/server.key"

# POST /v1/keys as the admin (BENCH_ADMIN_KEY), the body of the README's example.
cat > "$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name":"bench","scopes":["keys:read"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ADMIN_KEY")
LUA

# GET /v1/whoami with the keys of BENCH_KEYS_FILE in turn (each thread from its own offset), until
# the threads have BENCH_REQUESTS responses between them; each thread that is done stops and
# leaves a file BENCH_MARK<thread> (wrk waits out -d even when its threads stopped: the script
# interrupts it then, and wrk's summary covers the time until then).
cat > "$work/many-keys.lua" <<'LUA'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

function init(args)
    local total = tonumber(os.getenv("BENCH_REQUESTS"))
    local count = tonumber(os.getenv("BENCH_THREADS"))
    limit = math.floor(total / count) + ((id <= total % count) and 1 or 0)
    requests = {}
    for key in io.lines(os.getenv("BENCH_KEYS_FILE")) do
        requests[#requests + 1] = wrk.format("GET", "/v1/whoami", { ["Authorization"] = "Bearer " .. key })
    end
    if #requests == 0 then error("no keys in " .. os.getenv("BENCH_KEYS_FILE")) end
    next_index = math.floor((id - 1) * #requests / count)
    responses = 0
end

function request()
    next_index = next_index % #requests + 1
    return requests[next_index]
end

function response(status, headers, body)
    responses = responses + 1
    if responses == limit then
        local mark = io.open(os.getenv("BENCH_MARK") .. id, "w")
        mark:write(responses)
        mark:close()
        wrk.thread:stop()
    end
end
LUA

# "rps p50 p99 non2xx errors requests" of a wrk output (latencies as wrk prints them).
wrk_numbers() {
    awk '
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        /Non-2xx or 3xx responses/ { non2xx = $NF }
        /Socket errors/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
        / requests in / { requests = $1 }
        END { printf "%s %s %s %s %s %s\n", rps, (p50 ? p50 : "-"), (p99 ? p99 : "-"), non2xx + 0, errors + 0, requests + 0 }
    ' "$1"
}
# wrk's latency text (123.45us, 1.23ms, 1.02s, 1.5m) in microseconds.
micros() {
    awk -v t="$1" 'BEGIN {
        n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : (u == "m") ? 60000000 : 0
        print n * f
    }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }
rss() { awk -v f="$2" '$1 == f":" { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }

warnings=()
row() {  # backend keys endpoint numbers...
    local backend=$1 keys=$2 endpoint=$3 rps=$4 p50=$5 p99=$6 non2xx=$7 errors=$8
    printf '| %-8s | %9s | %-16s | %10s | %9s | %9s | %7s | %6s |\n' "$backend" "$keys" "$endpoint" "$rps" "$p50" "$p99" "$non2xx" "$errors"
    if [ "$non2xx" != "0" ] && [ "$non2xx" != "" ]; then
        warnings+=("$backend, $keys keys, $endpoint: $non2xx non-2xx answers: not a clean measurement")
    fi
}

# Whole seconds in a wrk duration (10, 10s, 2m, 1h), rounded up.
seconds_of() {
    awk -v t="$1" 'BEGIN {
        n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        n *= (u == "h") ? 3600 : (u == "m") ? 60 : 1
        print (n == int(n)) ? n : int(n) + 1
    }'
}

run_wrk() {  # output-file duration wrk-arguments...: bounded by the duration and a margin
    local out=$1 duration=$2
    shift 2
    run timeout --signal=INT $(( $(seconds_of "$duration") + 60 )) wrk -d"$duration" "$@" > "$out" 2>&1 \
        || { cat "$out" >&2; die "wrk failed"; }
}

start_server() {  # database-url
    # shellcheck disable=SC2086  # SERVER_ARGS is a list of options
    "$bin" serve --port "$PORT" --database "$1" --rate-limit "$RATE_LIMIT" --log-level warning \
        --secret-file "$work/server.key" $SERVER_ARGS 2>"$work/server.log" &
    server_pid=$!
    for _ in $(seq 200); do
        curl -sf --max-time 2 "$base/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$work/server.log" >&2
    die "the server did not answer $base/healthz"
}

memory_rows=()
seed_rows=()
bench() {  # backend keys url
    local backend=$1 keys=$2 url=$3
    progress "$backend, $keys keys: bootstrap and seeding"
    run timeout 120 "$bin" admin bootstrap --database "$url" > "$work/admin.txt" || die "admin bootstrap failed on $url"
    local admin
    admin=$(cat "$work/admin.txt")
    run timeout "$SEED_TIMEOUT" python3 -c "$keytool" seed "$url" $((keys - 1)) "$VALID_KEYS" "$work/valid-keys.txt" 42 \
        > "$work/seed-seconds.txt" || die "seeding failed on $url"
    seed_rows+=("| $backend | $keys | $(wc -l < "$work/valid-keys.txt") | $(cat "$work/seed-seconds.txt") |")
    # With no valid seeded key (VALID_KEYS=0, or a database of one key), the admin's key serves.
    [ -s "$work/valid-keys.txt" ] || echo "$admin" > "$work/valid-keys.txt"
    local key
    key=$(head -n 1 "$work/valid-keys.txt")

    start_server "$url"
    local rss_start
    rss_start=$(rss "$server_pid" VmRSS)
    # A seeded key must be accepted, else whoami would measure refusals (and the refusal limiter).
    local status
    status=$(curl -s --max-time 5 -o "$work/whoami.json" -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v1/whoami")
    [ "$status" = 200 ] || { cat "$work/whoami.json" >&2; echo >&2; die "a seeded key was refused ($status) on $backend"; }

    local -a h w c
    progress "$backend, $keys keys: GET /healthz, GET /v1/whoami ($DURATION each)"
    run_wrk "$work/healthz.txt" "$DURATION" -t2 -c"$CONNECTIONS" --latency "$base/healthz"
    read -r -a h <<< "$(wrk_numbers "$work/healthz.txt")"
    row "$backend" "$keys" "GET /healthz" "${h[@]:0:5}"
    run_wrk "$work/whoami.txt" "$DURATION" -t2 -c"$CONNECTIONS" --latency -H "Authorization: Bearer $key" "$base/v1/whoami"
    read -r -a w <<< "$(wrk_numbers "$work/whoami.txt")"
    row "$backend" "$keys" "GET /v1/whoami" "${w[@]:0:5}"
    printf '| %-8s | %9s | %-16s | %10s | %9s | %9s | %7s | %6s |\n' "$backend" "$keys" "whoami/healthz" \
        "$(ratio "${w[0]}" "${h[0]}")" "" "$(ratio "$(micros "${w[2]}")" "$(micros "${h[2]}")")" "" ""

    progress "$backend, $keys keys: POST /v1/keys ($CREATE_DURATION)"
    status=$(curl -s --max-time 5 -o "$work/create.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
        -H "Content-Type: application/json" -d '{"name":"bench","scopes":["keys:read"]}' "$base/v1/keys")
    if [ "$status" != 201 ]; then
        progress "POST /v1/keys answered $status, not 201: $(head -c 300 "$work/create.json")"
    fi
    BENCH_ADMIN_KEY=$admin run_wrk "$work/create.txt" "$CREATE_DURATION" -t2 -c8 --latency -s "$work/create.lua" "$base/v1/keys"
    read -r -a c <<< "$(wrk_numbers "$work/create.txt")"
    row "$backend" "$keys" "POST /v1/keys" "${c[@]:0:5}"

    progress "$backend, $keys keys: $AUTH_REQUESTS whoami over $(wc -l < "$work/valid-keys.txt") keys (at most ${AUTH_MAX_SECONDS}s)"
    local rss_before rss_after peak
    rss_before=$(rss "$server_pid" VmRSS)
    rm -f "$work"/mark-*
    BENCH_REQUESTS=$AUTH_REQUESTS BENCH_THREADS=2 BENCH_KEYS_FILE="$work/valid-keys.txt" BENCH_MARK="$work/mark-" \
        timeout --signal=INT $((AUTH_MAX_SECONDS + 60)) \
        wrk -t2 -c"$CONNECTIONS" -d"${AUTH_MAX_SECONDS}s" -s "$work/many-keys.lua" "$base/v1/whoami" > "$work/many.txt" 2>&1 &
    child=$!
    while kill -0 "$child" 2>/dev/null; do
        if [ -e "$work/mark-1" ] && [ -e "$work/mark-2" ]; then kill -INT "$child" 2>/dev/null || true; break; fi
        sleep 0.1
    done
    wait "$child" || { cat "$work/many.txt" >&2; die "wrk failed"; }
    child=""
    rss_after=$(rss "$server_pid" VmRSS)
    peak=$(rss "$server_pid" VmHWM)
    local -a m
    read -r -a m <<< "$(wrk_numbers "$work/many.txt")"
    memory_rows+=("| $backend | $keys | $(wc -l < "$work/valid-keys.txt") | ${m[5]} | ${m[0]} | ${m[3]} | ${m[4]} | $rss_start | $rss_before | $rss_after | $peak |")
    if [ "${m[5]}" -lt "$AUTH_REQUESTS" ]; then
        warnings+=("$backend, $keys keys: the memory run got ${m[5]} of $AUTH_REQUESTS responses in ${AUTH_MAX_SECONDS}s")
    fi
    if [ "${m[3]}" != 0 ]; then warnings+=("$backend, $keys keys: the memory run had ${m[3]} non-2xx answers"); fi
    stop_server
}

echo "| backend  |      keys | endpoint         |      req/s |       p50 |       p99 | non-2xx | errors |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
for backend in $BACKENDS; do
    if [ "$backend" = postgres ]; then
        pgdir=$(mktemp -d)
        progress "postgres: starting a throwaway PostgreSQL in $pgdir"
        pgenv=$(scripts/start-postgres.sh "$pgdir")
        eval "$pgenv"
    fi
    for keys in $KEY_COUNTS; do
        [ "$keys" -ge 1 ] || die "KEY_COUNTS must be positive numbers"
        if [ "$backend" = sqlite ]; then
            rm -f "$work"/bench.sqlite*
            bench sqlite "$keys" "sqlite:$work/bench.sqlite"
            rm -f "$work"/bench.sqlite*
        else
            db=bench_$keys
            PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$DEV_INFRA_TEST_POSTGRES_URL" \
                -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >&2
            bench postgres "$keys" "postgres://postgres@127.0.0.1:$DEV_INFRA_TEST_POSTGRES_PORT/$db$PG_URL_QUERY"
            psql -X -q -v ON_ERROR_STOP=1 -d "$DEV_INFRA_TEST_POSTGRES_URL" -c "DROP DATABASE $db WITH (FORCE)" >&2
        fi
    done
    if [ "$backend" = postgres ]; then
        scripts/start-postgres.sh --stop "$pgdir" >&2
        rm -rf "$pgdir"
        pgdir=""
    fi
done

echo
echo "Memory: VmRSS after start-up and seeding, before and after the authenticated requests (round robin over the valid keys), and the peak (VmHWM)."
echo
echo "| backend | keys | valid keys | requests | req/s | non-2xx | errors | RSS at start | RSS before | RSS after | peak |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for line in "${memory_rows[@]}"; do echo "$line"; done
echo
echo "Seeding (by SQL, before the server starts):"
echo
echo "| backend | keys | valid keys | seconds |"
echo "|---|---:|---:|---:|"
for line in "${seed_rows[@]}"; do echo "$line"; done
if [ ${#warnings[@]} -gt 0 ]; then
    echo
    for line in "${warnings[@]}"; do echo "- warning: $line"; done
fi
