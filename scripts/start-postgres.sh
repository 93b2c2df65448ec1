#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests, CI and benchmarks: loopback only, trust authentication,
# TLS with its own CA, and no durability (fsync, synchronous_commit and full_page_writes off: a
# crash of the machine may lose or corrupt the cluster, which is fine for data that is thrown away).
#
#   eval "$(scripts/start-postgres.sh DIR [PORT])"   # initdb in DIR/data, start, print exports
#   scripts/start-postgres.sh --stop DIR             # stop (pg_ctl stop -m fast); DIR is kept
#   scripts/start-postgres.sh --pause DIR            # the same as --stop
#   scripts/start-postgres.sh --resume DIR           # start again: same port, same settings
#   scripts/start-postgres.sh --restart DIR          # stop (if running), then --resume
#
# Starting (and --resume, --restart) prints, on stdout and nothing else, once the server accepts
# connections (waits at most START_TIMEOUT seconds, default 30):
#   export DEV_INFRA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   export DEV_INFRA_TEST_POSTGRES_CA=DIR/ca.crt
#   export DEV_INFRA_TEST_POSTGRES_DIR=DIR
#   export DEV_INFRA_TEST_POSTGRES_PORT=PORT
# PORT defaults to a free loopback port, chosen once and kept in DIR/settings, so that tests can
# stop the database under a running server and bring it back where the server expects it.
#
# DIR holds: data/ (the cluster, 0700), postgres.log, the unix socket, settings, ca.crt (0644),
# server.crt and server.key (0600, owned by the user running postgres). The certificate is for
# localhost, 127.0.0.1 and ::1, so sslmode=verify-full with sslrootcert=DIR/ca.crt works with either
# host name. Removing DIR (after --stop) removes everything.
#
# As root (CI), initdb and postgres run as the `postgres` system user (PG_RUN_AS to change it) via
# runuser, and DIR is given to that user; every directory above DIR must let it through (/tmp does).
# As any other user they run as that user.
#
# Environment: PGBIN (default /usr/lib/postgresql/15/bin, else `pg_config --bindir`),
# PG_RUN_AS (default postgres, used only as root), START_TIMEOUT (seconds, default 30).
set -euo pipefail

usage() {
    sed -n '6,10p' "$0" | sed 's/^#   //' >&2
    exit 2
}
die() { echo "start-postgres.sh: $*" >&2; exit 1; }

START_TIMEOUT=${START_TIMEOUT:-30}

find_pgbin() {
    if [ -n "${PGBIN:-}" ]; then
        [ -x "$PGBIN/pg_ctl" ] || die "PGBIN=$PGBIN has no pg_ctl"
    elif [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
        PGBIN=/usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
        PGBIN=$(pg_config --bindir)
    else
        die "no PostgreSQL server binaries: apt-get install postgresql-15 (or set PGBIN)"
    fi
}

# The directory as an absolute path, limited to characters that need no quoting: it goes into
# pg_ctl's -o string, which pg_ctl hands to /bin/sh.
absolute_dir() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ $dir =~ ^[A-Za-z0-9/._+-]+$ ]] || die "DIR must be a path of letters, digits and /._+- only: $dir"
    # A unix socket path has at most 107 bytes.
    [ ${#dir} -le 90 ] || die "DIR is too long for a unix socket path (${#dir} > 90 characters): $dir"
    printf '%s\n' "$dir"
}

# Runs a command as the user that owns the cluster: RUN_AS when set (we are root), else ourselves.
as_pg() {
    if [ -n "$RUN_AS" ]; then
        if command -v runuser >/dev/null; then
            runuser -u "$RUN_AS" -- "$@"
        else
            su "$RUN_AS" -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A CA and a server certificate for localhost, 127.0.0.1 and ::1, both valid ten days. The CA's
# key is deleted once it has signed: nothing else is ever signed by it.
make_certificates() (
    umask 077
    dir=$1
    tmp=$(mktemp -d)
    openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj "/CN=dev-infra throwaway test CA" \
        -keyout "$tmp/ca.key" -out "$dir/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$tmp/server.csr" 2>/dev/null
    cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
EOF
    openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.crt" -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial \
        -days 10 -sha256 -extfile "$tmp/ext.cnf" -out "$dir/server.crt" 2>/dev/null
    rm -rf "$tmp"
    chmod 0644 "$dir/ca.crt"
    chmod 0600 "$dir/server.crt" "$dir/server.key"
)

load_settings() {
    local dir=$1
    [ -f "$dir/settings" ] || die "$dir/settings is missing: not a directory made by start-postgres.sh"
    # shellcheck disable=SC1091
    . "$dir/settings"
    if [ -z "${PORT:-}" ] || [ -z "${PGBIN:-}" ]; then die "$dir/settings is incomplete"; fi
    RUN_AS=${RUN_AS:-}
    # Root acts as whoever owns the cluster, also one a normal user started.
    if [ "$(id -u)" -eq 0 ]; then
        RUN_AS=$(stat -c %U "$dir/data")
    elif [ -n "$RUN_AS" ] && [ "$RUN_AS" != "$(id -un)" ]; then
        die "the cluster in $dir runs as $RUN_AS: run this as root or as $RUN_AS"
    else
        RUN_AS=""
    fi
}

is_running() {  # dir
    as_pg "$PGBIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

start_server() {  # dir
    local dir=$1
    # Every setting is on the command line, so --resume and --restart rebuild the same server from
    # DIR/settings alone. fsync, synchronous_commit and full_page_writes off: throwaway data only.
    local options="-c listen_addresses=127.0.0.1 -p $PORT -k $dir"
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    options+=" -c max_connections=200"
    options+=" -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
    if is_running "$dir"; then
        die "the server in $dir is already running (use --restart)"
    fi
    # One deadline for both waits: pg_ctl's, then pg_isready's over TCP.
    local deadline=$((SECONDS + START_TIMEOUT))
    # pg_ctl as root's cwd (e.g. /root) would warn that the postgres user cannot enter it.
    # The server outlives this script: it must not keep the caller's stdout or stderr open (a
    # caller reading them to the end, as a test does through pipes, would wait forever).
    if ! (cd "$dir" && as_pg "$PGBIN/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -o "$options" \
            -w -t "$START_TIMEOUT" </dev/null >/dev/null 2>>"$dir/pg_ctl.log"); then
        echo "start-postgres.sh: the server did not start; the end of $dir/postgres.log:" >&2
        tail -n 20 "$dir/postgres.log" >&2 || true
        exit 1
    fi
    until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres -t 2; do
        if [ $SECONDS -ge $deadline ]; then
            echo "start-postgres.sh: no connection after ${START_TIMEOUT}s; the end of $dir/postgres.log:" >&2
            tail -n 20 "$dir/postgres.log" >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    echo "export DEV_INFRA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    echo "export DEV_INFRA_TEST_POSTGRES_CA=$dir/ca.crt"
    echo "export DEV_INFRA_TEST_POSTGRES_DIR=$dir"
    echo "export DEV_INFRA_TEST_POSTGRES_PORT=$PORT"
}

stop_server() {  # dir
    local dir=$1
    if is_running "$dir"; then
        (cd "$dir" && as_pg "$PGBIN/pg_ctl" stop -D "$dir/data" -m fast -w -t "$START_TIMEOUT" >/dev/null)
    fi
}

init_cluster() {  # dir [port]
    local dir=$1
    PORT=${2:-}
    [ -e "$dir/data" ] && die "$dir/data exists already (use --resume, or remove $dir first)"
    if [ -z "$PORT" ]; then PORT=$(free_port); fi
    if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then die "not a port: $PORT"; fi
    find_pgbin
    RUN_AS=""
    if [ "$(id -u)" -eq 0 ]; then
        RUN_AS=${PG_RUN_AS:-postgres}
        id -u "$RUN_AS" >/dev/null 2>&1 || die "postgres refuses to run as root, and there is no user $RUN_AS"
    fi
    command -v openssl >/dev/null || die "missing openssl: apt-get install openssl"
    command -v python3 >/dev/null || die "missing python3"

    make_certificates "$dir"
    if [ -n "$RUN_AS" ]; then
        chown "$RUN_AS" "$dir" "$dir/server.crt" "$dir/server.key"
        chmod 0755 "$dir"   # ca.crt readable by every user; the cluster itself is in data/, 0700
        as_pg test -x "$dir" || die "user $RUN_AS cannot enter $dir: a directory above it is closed to other users (mktemp -d makes 0700 ones: pass such a directory itself as DIR, not a folder inside it)"
    fi
    (cd "$dir" && as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # Trust, but only over the socket in DIR and from the loopback addresses.
    as_pg sh -c "cat > '$dir/data/pg_hba.conf'" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
EOF
    chmod 0700 "$dir/data"
    cat >"$dir/settings" <<EOF
# Written by scripts/start-postgres.sh; read by --resume and --restart.
PORT=$PORT
PGBIN=$PGBIN
RUN_AS=$RUN_AS
EOF
}

[ $# -ge 1 ] || usage
case $1 in
    --stop | --pause)
        [ $# -eq 2 ] || usage
        [ -d "$2" ] || { echo "start-postgres.sh: no $2: nothing to stop" >&2; exit 0; }
        dir=$(absolute_dir "$2")
        [ -f "$dir/settings" ] || { echo "start-postgres.sh: no cluster in $dir: nothing to stop" >&2; exit 0; }
        load_settings "$dir"
        stop_server "$dir"
        ;;
    --resume | --restart)
        [ $# -eq 2 ] || usage
        [ -d "$2" ] || die "no $2"
        dir=$(absolute_dir "$2")
        load_settings "$dir"
        if [ "$1" = --restart ]; then stop_server "$dir"; fi
        start_server "$dir"
        ;;
    -h | --help) usage ;;
    -*) usage ;;
    *)
        [ $# -le 2 ] || usage
        dir=$(absolute_dir "$1")
        init_cluster "$dir" "${2:-}"
        start_server "$dir"
        ;;
esac
