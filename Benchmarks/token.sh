#!/usr/bin/env bash
# Times `dev-infra token` from env, file and keyring beside `secret-tool lookup` of the same
# secret, in one hyperfine run, on the release binary that `make install` builds (static Swift
# runtime). Runs in a throwaway HOME with its own session bus and gnome-keyring.
# Needs: hyperfine dbus gnome-keyring libsecret-tools (apt-get install ...).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in hyperfine dbus-daemon gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install hyperfine dbus gnome-keyring libsecret-tools" >&2; exit 1; }
done

work=$(mktemp -d)
make -s install PREFIX="$work/prefix" >&2
bin="$work/prefix/bin/dev-infra"
cleanup() { [ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/config"
mkdir -p "$HOME"
unset DEV_INFRA_API_KEY DEV_INFRA_API_KEY_FILE DEV_INFRA_PROFILE DISPLAY
dbus-daemon --session --fork --address="unix:path=$work/bus" --print-pid=1 > "$work/bus.pid"
bus_pid=$(cat "$work/bus.pid")
export DBUS_SESSION_BUS_ADDRESS="unix:path=$work/bus"
printf bench | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
sleep 0.5

# A fresh valid key, made by an implementation of the format other than ours.
key=$(python3 - <<'PY'
import random, string, zlib
alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
rand = random.SystemRandom()
kid = ''.join(rand.choice(alphabet) for _ in range(12))
sec = ''.join(rand.choice(alphabet) for _ in range(32))
body = f"dinf_{kid}_{sec}"
n = zlib.crc32(body.encode()); digits = ""
while n: n, r = divmod(n, 62); digits = alphabet[r] + digits
print(body + digits.rjust(6, "0"))
PY
)
printf '%s' "$key" | "$bin" login --offline --with-token --storage keyring --profile ring 2>/dev/null
printf '%s' "$key" | "$bin" login --offline --with-token --storage file --profile file 2>/dev/null
printf '%s' "$key" | secret-tool store --label bench bench token
[ "$("$bin" token --profile ring)" = "$key" ] && [ "$("$bin" token --profile file)" = "$key" ] \
    && [ "$(secret-tool lookup bench token)" = "$key" ] || { echo "setup failed" >&2; exit 1; }

common=(-N --warmup 20 --runs "${RUNS:-200}" --style basic)
DEV_INFRA_API_KEY="$key" hyperfine "${common[@]}" --export-json "$work/env.json" \
    -n "dev-infra token (env)" "$bin token" >&2
hyperfine "${common[@]}" --export-json "$work/stores.json" \
    -n "dev-infra token (file)" "$bin token --profile file" \
    -n "dev-infra token (keyring)" "$bin token --profile ring" \
    -n "secret-tool lookup" "secret-tool lookup bench token" \
    -n "dev-infra --version" "$bin --version" \
    -n "/bin/true" "/bin/true" >&2

# The targets are medians; hyperfine's own tables show means.
python3 - "$work/env.json" "$work/stores.json" <<'PY'
import json, sys
print("| Command | Median [ms] | Mean [ms] | Min [ms] |")
print("|:---|---:|---:|---:|")
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        print(f"| `{r['command']}` | {r['median']*1e3:.1f} | {r['mean']*1e3:.1f} | {r['min']*1e3:.1f} |")
PY
