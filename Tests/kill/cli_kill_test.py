#!/usr/bin/env python3
"""Kill test A: `dev-infra` SIGKILLed at random moments while it writes config.yml / credentials.yml.

Each run starts one CLI command that rewrites the files (`login --with-token --storage file`,
`logout`, `rotate`), against a real `dev-infra-server`, and SIGKILLs it at a random moment:

* blind kills: uniformly in [0, typical run time of that command] (measured first, unkilled);
* aimed kills: when a temp file appears in the folder or credentials.yml is replaced (polled),
  plus a uniform 0-3 ms, so that a useful share of the kills lands inside the write sequence;
* pair kills: two commands on two profiles at once, one of them killed: the other must still
  succeed (the killed process's lock is released) and keep its entry;
* then, when strace can inject faults here, one run per step of the save and command (login of a
  new profile, logout, rotate): SIGKILL at the entry of that exact syscall (WRITE_STEPS).

After every run: both files parse (a strict reader of the files' shape here, and the CLI itself:
`dev-infra token --profile P`), each profile holds its old or its new entry and nothing else,
profiles no command touched are byte-for-byte what they were, the folder is 0700 and every file
in it (leftover temp files too) 0600, and the next command succeeds.

Also a known bug (id cli-key-without-url): a kill between the two renames of a profile's first
login leaves its key in credentials.yml with no api_url in config.yml.

Usage: python3 Tests/kill/cli_kill_test.py [--runs N] [--seed S] [--long]
Env: DEV_INFRA_BIN, DEV_INFRA_SERVER_BIN, KILL_TEST_SEED, KILL_TEST_LONG=1, KILL_TEST_KEEP=1,
KILL_TEST_TMPDIR, KILL_TEST_STRACE=0 (skip the strace runs), KILL_TEST_XFAIL=id,... (known bugs
reported as XFAIL instead of failing).
Exit status 0 when every run kept the guarantees, 1 with a FAIL line otherwise.
"""

import argparse
import os
import random
import re
import signal
import stat
import statistics
import subprocess
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import killtest_common as common  # noqa: E402
from killtest_common import (HTTP, KnownBugs, Server, Violation, cleanup_dir, create_key, key_id, log,  # noqa: E402
                             require_binaries, scratch_dir, snapshot_binaries, setup_database, strace_available, strace_kill_prefix)

try:  # An extra, independent parser when PyYAML happens to be installed; never required.
    import yaml as pyyaml
except ImportError:
    pyyaml = None

BYSTANDERS = ["keep-a", "keep-b", "keep-c"]
CHURN = ["p0", "p1", "p2", "p3", "p4"]
SCOPES = ["keys:read", "keys:write"]
CRED_HEADER = "# dev-infra API keys"
# The order the CLI writes its two files: a save (login, rotate) writes config.yml first, which holds
# no secret, so a kill between the two never leaves a new key without its server; a removal
# (logout) writes credentials.yml first, so the key is gone before anything else changes.
WRITE_ORDER = {"login": ("config.yml", "credentials.yml"), "rotate": ("config.yml", "credentials.yml"),
               "logout": ("credentials.yml", "config.yml")}


def write_steps(op):
    """Every step of one command's writes (`strace -f`: flock, then per file mkstemp, fchmod, write,
    fsync, rename, fsync of the folder), as (syscall, occurrence, where the kill lands)."""
    first, second = WRITE_ORDER[op]
    return [
        ("flock", 1, "before any write"),
        ("fchmod", 1, f"mid-write: {first} temp written, not renamed"),
        ("fsync", 1, f"mid-write: {first} temp written, not renamed"),
        ("rename", 1, f"mid-write: {first} temp written, not renamed"),
        ("fsync", 2, "mid-write: between the two files"),
        ("fchmod", 2, f"mid-write: {second} temp written, not renamed"),
        ("fsync", 3, f"mid-write: {second} temp written, not renamed"),
        ("rename", 2, f"mid-write: {second} temp written, not renamed"),
        ("fsync", 4, "after both writes (before exit)"),
        ("flock", 2, "after both writes (before exit)"),
    ]


WRITE_STEPS = write_steps("login")
CONFIG_HEADER = "# dev-infra settings"


def mask(text):
    """A file's text for a failure message, secrets cut to their key ids."""
    return re.sub(r"(dinf_[0-9A-Za-z]{12}_)[0-9A-Za-z]+", r"\1…", text)


# ---------------------------------------------------------------- reading the files

def parse_profile_file(path, text):
    """Strict reader of the shape the CLI writes: comments, `profiles:` (or `profiles: {}`),
    `  NAME:` and `    FIELD: VALUE`. Returns {profile: {field: value}}. Anything else is torn."""
    profiles = {}
    current = None
    seen_root = False
    if text and not text.endswith("\n"):
        raise Violation(f"{path} does not end with a newline (torn?):\n{mask(text)}")
    for number, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        if line == "" or line.startswith("#"):
            continue
        if line in ("profiles:", "profiles: {}"):
            if seen_root:
                raise Violation(f"{path}:{number}: a second 'profiles:'\n{mask(text)}")
            seen_root = True
            continue
        if not seen_root:
            raise Violation(f"{path}:{number}: content before 'profiles:': {mask(line)!r}\n{mask(text)}")
        if line.startswith("  ") and not line.startswith("   ") and line.endswith(":") and " " not in line.strip():
            current = line.strip()[:-1]
            if current in profiles:
                raise Violation(f"{path}:{number}: profile {current} twice\n{mask(text)}")
            profiles[current] = {}
            continue
        if line.startswith("    ") and not line.startswith("     ") and current is not None and ": " in line:
            field, value = line.strip().split(": ", 1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if field in profiles[current]:
                raise Violation(f"{path}:{number}: field {field} twice in profile {current}\n{mask(text)}")
            profiles[current][field] = value
            continue
        raise Violation(f"{path}:{number}: not the shape dev-infra writes (torn file?): {mask(line)!r}\n{mask(text)}")
    if text.strip() and not seen_root:
        raise Violation(f"{path}: no 'profiles:' at the top\n{mask(text)}")
    for name, fields in profiles.items():
        if not fields:
            raise Violation(f"{path}: profile {name} has no fields (torn file?)\n{mask(text)}")
    if pyyaml is not None and text.strip():
        try:
            document = pyyaml.safe_load(text)
        except pyyaml.YAMLError as error:
            raise Violation(f"{path}: PyYAML cannot parse it: {error}\n{mask(text)}")
        other = (document or {}).get("profiles") or {}
        if {k: {f: str(v) for f, v in fs.items()} for k, fs in other.items()} != profiles:
            raise Violation(f"{path}: PyYAML reads {other!r}, the strict reader {profiles!r}")
    return profiles


class Folder:
    """The CLI's config folder: files, their inodes, modes, leftover temp files."""

    def __init__(self, path):
        self.path = path
        self.config = os.path.join(path, "config.yml")
        self.credentials = os.path.join(path, "credentials.yml")

    def inode(self, path):
        try:
            return os.stat(path).st_ino
        except FileNotFoundError:
            return None

    def inodes(self):
        return self.inode(self.credentials), self.inode(self.config)

    def temp_files(self):
        try:
            return {name for name in os.listdir(self.path) if ".tmp-" in name}
        except FileNotFoundError:
            return set()

    def read(self):
        """(credentials {profile: key}, config {profile: fields}, raw texts)."""
        texts = {}
        for path in (self.credentials, self.config):
            try:
                with open(path, "rb") as f:
                    texts[path] = f.read().decode("utf-8")
            except FileNotFoundError:
                texts[path] = ""
            except UnicodeDecodeError:
                raise Violation(f"{path} is not UTF-8 (torn?)")
        creds = parse_profile_file(self.credentials, texts[self.credentials])
        config = parse_profile_file(self.config, texts[self.config])
        for path, header in ((self.credentials, CRED_HEADER), (self.config, CONFIG_HEADER)):
            if texts[path] and not texts[path].startswith(header):
                raise Violation(f"{path} does not start with its header (torn?):\n{mask(texts[path])}")
        keys = {}
        for profile, fields in creds.items():
            if set(fields) != {"api_key"}:
                raise Violation(f"{self.credentials}: profile {profile} has fields {sorted(fields)}, expected api_key only")
            keys[profile] = fields["api_key"]
        return keys, config, texts

    def check_modes(self):
        """Folder 0700; config.yml, credentials.yml, .lock and every leftover temp file 0600."""
        mode = stat.S_IMODE(os.stat(self.path).st_mode)
        if mode != 0o700:
            raise Violation(f"{self.path} has mode {mode:04o}, expected 0700")
        for name in os.listdir(self.path):
            mode = stat.S_IMODE(os.lstat(os.path.join(self.path, name)).st_mode)
            if mode != 0o600:
                raise Violation(f"{os.path.join(self.path, name)} has mode {mode:04o}, expected 0600")


# ---------------------------------------------------------------- the test

class CLIKillTest:
    def __init__(self, runs, seed):
        self.known = KnownBugs()
        self.runs = runs
        self.seed = seed
        self.rng = random.Random(seed)
        self.root = scratch_dir("dev-infra-cli-kill-")
        snapshot_binaries(self.root)
        self.server_home = os.path.join(self.root, "server")
        os.makedirs(self.server_home, mode=0o700)
        self.database = os.path.join(self.server_home, "server.sqlite")
        self.home = os.path.join(self.root, "home")
        self.xdg = os.path.join(self.root, "xdg")
        os.makedirs(self.home, mode=0o700)
        self.folder = Folder(os.path.join(self.xdg, "dev-infra"))
        self.server = None
        self.http = None
        self.durations = {"login": [], "logout": [], "rotate": []}
        self.stats = Counter()
        self.by_mode = {"blind": Counter(), "aimed": Counter()}
        self.cross_file = Counter()
        self.leftovers = set()
        self.cli_calls = 0
        self.use_strace = strace_available()
        self.orphans = set()     # profiles whose key has no api_url (tolerated known bug): next op re-logs in
        self.fresh = []          # profiles made by a first login during the runs: bystanders after it
        self.running = set()     # CLI processes not yet reaped (each in its own process group)

    # -- environment

    def env(self):
        env = {
            "HOME": self.home,
            "XDG_CONFIG_HOME": self.xdg,
            "DEV_INFRA_API_URL": self.url,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
        }
        return env  # no DBUS_SESSION_BUS_ADDRESS, DISPLAY, DEV_INFRA_API_KEY*, DEV_INFRA_PROFILE

    def start_server(self):
        self.admin_key = setup_database(self.server_home, self.database)
        self.server = Server(self.server_home, self.database, os.path.join(self.root, "server.log"))
        port = self.server.start()
        self.url = f"http://127.0.0.1:{port}"
        self.http = HTTP(port)

    def new_key(self):
        self.key_counter = getattr(self, "key_counter", 0) + 1
        return create_key(self.http, self.admin_key, f"cli-kill-{self.key_counter}", SCOPES)

    def key_record(self, kid):
        status, _, body = self.http.request("GET", f"/v1/keys/{kid}", key=self.admin_key)
        if status != 200:
            raise Violation(f"GET /v1/keys/{kid} answered {status}: {body}")
        return body

    # -- commands

    def command(self, op, profile, key=None):
        """(argv, stdin bytes) of one file-writing command."""
        if op == "login":
            return [common.CLI_BIN, "login", "--with-token", "--storage", "file", "--profile", profile], (key + "\n").encode()
        if op == "logout":
            return [common.CLI_BIN, "logout", "--profile", profile], b""
        if op == "rotate":
            return [common.CLI_BIN, "rotate", "--profile", profile, "--grace", "1h", "-q"], b""
        raise ValueError(op)

    def spawn(self, op, profile, key=None, prefix=()):
        argv, stdin = self.command(op, profile, key)
        argv = list(prefix) + argv
        self.cli_calls += 1
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env(), start_new_session=True)
        self.running.add(proc)
        proc.stdin.write(stdin)  # one line: fits the pipe, so this never blocks
        proc.stdin.close()
        proc.stdin = None  # for communicate(): stdin is done
        return proc

    def finish(self, proc):
        out, err = proc.communicate(timeout=120)
        self.running.discard(proc)
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def run_unkilled(self, op, profile, key=None):
        started = time.monotonic()
        proc = self.spawn(op, profile, key)
        rc, out, err = self.finish(proc)
        self.durations[op].append(time.monotonic() - started)
        if rc != 0:
            raise Violation(f"`dev-infra {op} --profile {profile}` exited {rc} (not killed): {mask(err.strip())}")
        return out

    def cli_token(self, profile):
        """The key the CLI itself resolves from the files: None when it says there is none."""
        self.cli_calls += 1
        result = subprocess.run([common.CLI_BIN, "token", "--profile", profile], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(), timeout=30)
        err = result.stderr.decode(errors="replace").strip()
        if result.returncode == 0:
            return result.stdout.decode().strip()
        if result.returncode == 3 and "missing_credentials" in err:
            return None
        raise Violation(f"`dev-infra token --profile {profile}` exited {result.returncode}: {mask(err)} "
                        f"(the CLI cannot read its own files)")

    # -- expectations

    def expected(self, op, profile, state, key=None):
        """What the profile's entries become if `op` completes: (credential, config fields).
        A credential of None means absent; "rotated" means a successor of the old key."""
        creds, config = state
        fields = dict(config.get(profile, {}))
        if op == "login":
            fields["storage"] = "file"
            fields["api_url"] = self.url
            return key, fields
        if op == "logout":
            fields.pop("storage", None)
            return None, fields
        if op == "rotate":  # saved with the storage in use (file) and the profile's own api_url
            fields["storage"] = "file"
            return "rotated", fields
        raise ValueError(op)

    def credential_matches(self, actual, expected, old):
        if expected == "rotated":
            if actual is None or actual == old:
                return False
            status, _, record = self.http.request("GET", f"/v1/keys/{key_id(actual)}", key=self.admin_key)
            return status == 200 and record.get("rotated_from") == key_id(old)
        return actual == expected

    def verify(self, before, changes, context):
        """Reads the folder and checks every profile: touched ones old or new, others unchanged.
        `changes` maps profile -> (new credential, new config fields, must_be_new)."""
        self.folder.check_modes()
        creds, config, texts = self.folder.read()
        old_creds, old_config = before
        for profile in sorted(set(old_creds) | set(creds) | set(old_config) | set(config)):
            have_key, have_fields = creds.get(profile), config.get(profile, {})
            was_key, was_fields = old_creds.get(profile), old_config.get(profile, {})
            if profile not in changes:
                if have_key != was_key or have_fields != was_fields:
                    raise Violation(f"{context}: profile {profile}, which no command touched, changed: credential "
                                    f"{mask(str(was_key))} -> {mask(str(have_key))}, config {was_fields} -> {have_fields}\n"
                                    f"credentials.yml:\n{mask(texts[self.folder.credentials])}")
                continue
            new_key, new_fields, must_be_new = changes[profile]
            key_is_new = self.credential_matches(have_key, new_key, was_key)
            key_ok = key_is_new or (have_key == was_key and not must_be_new)
            fields_is_new = have_fields == new_fields
            fields_ok = fields_is_new or (have_fields == was_fields and not must_be_new)
            if not key_ok:
                raise Violation(f"{context}: profile {profile} has credential {mask(str(have_key))}; expected the old "
                                f"{mask(str(was_key))} or the new {mask(str(new_key))}"
                                + (" (the command finished, so only the new)" if must_be_new else "")
                                + f"\ncredentials.yml:\n{mask(texts[self.folder.credentials])}")
            if not fields_ok:
                raise Violation(f"{context}: profile {profile} has config {have_fields}; expected the old {was_fields} "
                                f"or the new {new_fields}\nconfig.yml:\n{texts[self.folder.config]}")
            if new_key != was_key and new_fields != was_fields and key_is_new != fields_is_new:
                self.cross_file["credentials.yml new, config.yml old" if key_is_new else "credentials.yml old, config.yml new"] += 1
        # A kill between the two renames of a profile's first login leaves its key in
        # credentials.yml and no api_url in config.yml: the key then belongs to the built-in
        # default server, and the next command with DEV_INFRA_API_URL fails (or, without it,
        # sends the key to http://127.0.0.1:8080).
        for profile in creds:
            if "api_url" not in config.get(profile, {}) and profile not in self.orphans:
                self.orphans.add(profile)
                self.known.report("cli-key-without-url",
                                  f"{context}: profile {profile} now has its key in credentials.yml but no api_url in "
                                  f"config.yml (config entry: {config.get(profile)}); `dev-infra` will send that key to the "
                                  f"built-in default server, or refuse to run when DEV_INFRA_API_URL names the real one")
        self.orphans &= {p for p in creds if "api_url" not in config.get(p, {})}
        # The CLI reads both files back: it must parse them and resolve what the file holds.
        for profile in changes:
            resolved = self.cli_token(profile)
            if resolved != creds.get(profile):
                raise Violation(f"{context}: `dev-infra token --profile {profile}` gives {mask(str(resolved))}, "
                                f"credentials.yml holds {mask(str(creds.get(profile)))}")
        return creds, config

    def fresh_profile(self):
        name = f"new{len(self.fresh)}"
        self.fresh.append(name)
        return name

    def verify_all_with_cli(self, state, context):
        creds, _ = state
        for profile in BYSTANDERS + CHURN + self.fresh:
            resolved = self.cli_token(profile)
            if resolved != creds.get(profile):
                raise Violation(f"{context}: `dev-infra token --profile {profile}` gives {mask(str(resolved))}, "
                                f"the file holds {mask(str(creds.get(profile)))}")

    # -- one run

    def choose(self, profile, state):
        """An op for the profile, and the key to log in with."""
        creds, _ = state
        if profile not in creds or profile in self.orphans:
            return "login", self.new_key()
        op = self.rng.choices(["logout", "login", "rotate"], weights=[4, 3, 3])[0]
        if op == "rotate":
            record = self.key_record(key_id(creds[profile]))
            if record.get("state") != "active":  # a killed rotate may have rotated it on the server
                op = "login"
        return op, (self.new_key() if op == "login" else None)

    def kill_at(self, proc, mode, op, known_temps, inodes_before):
        """Kills `proc` at the chosen moment; returns True when the kill landed before it exited."""
        typical = statistics.median(self.durations[op])
        if mode == "blind":
            delay = self.rng.uniform(0, typical)
            try:
                proc.wait(timeout=delay)
                return False
            except subprocess.TimeoutExpired:
                pass
        else:
            trigger = self.rng.choice(["temp", "credentials-renamed"])
            extra = self.rng.uniform(0, 0.003)
            deadline = time.monotonic() + max(5 * typical, 2.0)
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    return False
                if trigger == "temp" and self.folder.temp_files() - known_temps:
                    break
                if trigger == "credentials-renamed" and self.folder.inodes()[0] != inodes_before[0]:
                    break
            fire = time.monotonic() + extra
            while time.monotonic() < fire:
                pass
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def classify(self, op, inodes_before, temps_before):
        """Where in the command's write sequence (WRITE_ORDER) the kill landed."""
        renamed = dict(zip(("credentials.yml", "config.yml"), [a != b for a, b in zip(self.folder.inodes(), inodes_before)]))
        new_temps = self.folder.temp_files() - temps_before
        temp = {name: any(t.startswith(name + ".tmp-") for t in new_temps) for name in renamed}
        first, second = WRITE_ORDER.get(op, WRITE_ORDER["login"])
        if renamed[second]:
            return "after both writes (before exit)"
        if renamed[first]:
            return f"mid-write: {second} temp written, not renamed" if temp[second] else "mid-write: between the two files"
        if temp[first]:
            return f"mid-write: {first} temp written, not renamed"
        return "before any write"

    def one_run(self, number, state):
        if self.rng.random() < 0.2:
            return self.pair_run(number, state)
        mode = "aimed" if self.rng.random() < 0.5 else "blind"
        if self.rng.random() < 0.1:  # a first login of a profile neither file knows yet
            profile, op, key = self.fresh_profile(), "login", self.new_key()
        else:
            profile = self.rng.choice(CHURN)
            op, key = self.choose(profile, state)
        new_key, new_fields = self.expected(op, profile, state, key)
        inodes_before, temps_before = self.folder.inodes(), self.folder.temp_files()
        proc = self.spawn(op, profile, key)
        killed = self.kill_at(proc, mode, op, temps_before, inodes_before)
        rc, out, err = self.finish(proc)
        context = f"run {number} ({mode} kill of `{op} --profile {profile}`)"
        if rc == -signal.SIGKILL:
            where = self.classify(op, inodes_before, temps_before)
        else:
            if rc != 0:
                raise Violation(f"{context}: exited {rc} before the kill: {mask(err.strip())}")
            where = "finished before the kill"
        self.stats[where] += 1
        self.by_mode[mode][where] += 1
        self.stats[f"op {op}"] += 1
        state = self.verify(state, {profile: (new_key, new_fields, rc == 0)}, context)
        if rc == 0 and op == "rotate" and out.strip() != state[0].get(profile):
            raise Violation(f"{context}: rotate printed {mask(out.strip())} but stored {mask(str(state[0].get(profile)))}")
        self.leftovers |= self.folder.temp_files()
        return state

    def pair_run(self, number, state):
        """Two commands at once on two profiles; one is killed, the other must succeed."""
        profiles = self.rng.sample(CHURN, 2)
        plans = []
        for profile in profiles:
            op, key = self.choose(profile, state)
            plans.append((profile, op, key, self.expected(op, profile, state, key)))
        procs = [self.spawn(op, profile, key) for profile, op, key, _ in plans]
        victim = self.rng.randrange(2)
        typical = statistics.median(self.durations[plans[victim][1]])
        try:
            procs[victim].wait(timeout=self.rng.uniform(0, typical))
        except subprocess.TimeoutExpired:
            os.kill(procs[victim].pid, signal.SIGKILL)
        results = [self.finish(p) for p in procs]
        context = f"run {number} (pair: `{plans[0][1]} --profile {plans[0][0]}` and `{plans[1][1]} --profile {plans[1][0]}`, " \
                  f"the {'first' if victim == 0 else 'second'} killed)"
        changes = {}
        for index, ((profile, op, key, (new_key, new_fields)), (rc, out, err)) in enumerate(zip(plans, results)):
            if rc not in (0, -signal.SIGKILL) or (index != victim and rc != 0):
                raise Violation(f"{context}: `{op} --profile {profile}` exited {rc}: {mask(err.strip())}")
            changes[profile] = (new_key, new_fields, rc == 0)
        killed = results[victim][0] == -signal.SIGKILL
        self.stats["pair: victim killed" if killed else "pair: victim finished first"] += 1
        state = self.verify(state, changes, context)
        self.leftovers |= self.folder.temp_files()
        return state

    def step_run(self, state, syscall, when, expected_where, op):
        """One command SIGKILLed by strace at the entry of its `when`-th `syscall`: an exact step of the save."""
        profile = self.fresh_profile() if op == "login" else self.rng.choice(CHURN)
        creds = state[0]
        # Preconditions, unkilled: logout and rotate need a stored key, rotate an active one.
        if op in ("logout", "rotate") and (profile not in creds or profile in self.orphans):
            self.run_unkilled("login", profile, self.new_key())
            self.orphans.discard(profile)
        if op == "rotate" and self.key_record(key_id(self.folder.read()[0][profile])).get("state") != "active":
            self.run_unkilled("login", profile, self.new_key())
        state = self.folder.read()[:2]
        key = self.new_key() if op == "login" else None
        new_key, new_fields = self.expected(op, profile, state, key)
        inodes_before, temps_before = self.folder.inodes(), self.folder.temp_files()
        proc = self.spawn(op, profile, key, prefix=strace_kill_prefix(syscall, when))
        rc, out, err = self.finish(proc)
        context = f"strace kill at {syscall} #{when} of `{op} --profile {profile}`"
        if rc not in (-signal.SIGKILL, 128 + signal.SIGKILL):
            raise Violation(f"{context}: exited {rc}, not killed (did the write sequence change?): {mask(err.strip())}")
        where = self.classify(op, inodes_before, temps_before)
        if where != expected_where:
            raise Violation(f"{context}: the kill landed '{where}', expected '{expected_where}' (did the write sequence change?)")
        self.stats[where] += 1
        self.by_mode.setdefault("strace", Counter())[where] += 1
        self.stats[f"op {op}"] += 1
        state = self.verify(state, {profile: (new_key, new_fields, False)}, context)
        self.leftovers |= self.folder.temp_files()
        return state

    # -- main

    def run(self):
        started = time.monotonic()
        self.start_server()
        log(f"cli kill test: seed {self.seed}, {self.runs} runs, server {self.url}, folder {self.folder.path}; "
            f"files read by a strict reader{', PyYAML' if pyyaml else ''} and the CLI; "
            f"strace step kills: {'yes' if self.use_strace else 'no (strace with fault injection unusable)'}")
        # Bystander profiles: logged in once, never touched again; every rewrite must keep them.
        for profile in BYSTANDERS:
            self.run_unkilled("login", profile, self.new_key())
        state = self.folder.read()[:2]
        if sorted(state[0]) != BYSTANDERS:
            raise Violation(f"after setup the credentials hold {sorted(state[0])}, expected {BYSTANDERS}")
        # Calibration: each command a few times unkilled, for the typical run time.
        for _ in range(4):
            for profile in CHURN[:3]:
                creds = state[0]
                if profile in creds:
                    self.run_unkilled("rotate", profile)
                    self.run_unkilled("logout", profile)
                self.run_unkilled("login", profile, self.new_key())
                state = self.folder.read()[:2]
        for op, values in self.durations.items():
            log(f"typical run time of {op}: {statistics.median(values) * 1000:.1f} ms (median of {len(values)})")
        self.verify_all_with_cli(state, "after calibration")
        for number in range(1, self.runs + 1):
            state = self.one_run(number, state)
            if number % 50 == 0:
                self.verify_all_with_cli(state, f"after run {number}")
        if self.use_strace:
            for op in ("login", "logout", "rotate"):
                for syscall, when, where in write_steps(op):
                    state = self.step_run(state, syscall, when, where, op)
            self.verify_all_with_cli(state, "after the strace kills")
        else:
            log("strace with fault injection is not usable here: the kills at each exact write step are skipped")
        self.verify_all_with_cli(state, "at the end")
        # Every stored key still works on the server.
        for profile, key in sorted(state[0].items()):
            status, _, body = self.http.request("GET", "/v1/whoami", key=key)
            if status != 200:
                raise Violation(f"the key of profile {profile} answers {status} on /v1/whoami: {body}")
        for profile in BYSTANDERS:
            if profile not in state[0]:
                raise Violation(f"bystander profile {profile} was lost")
        self.report(time.monotonic() - started, state)

    def report(self, elapsed, state):
        mid = sum(v for k, v in self.stats.items() if k.startswith("mid-write"))
        killed = sum(v for k, v in self.stats.items() if not k.startswith(("op ", "pair", "finished")))
        steps = len(WRITE_STEPS) * 3 if self.use_strace else 0
        log(f"\nseed {self.seed}: {self.runs} random runs + {steps} strace-aimed runs in {elapsed:.1f} s, {self.cli_calls} CLI processes")
        log(f"killed while running: {killed + self.stats['pair: victim killed']}, of which mid-write: {mid}")
        for key in sorted(self.stats):
            if not key.startswith("op "):
                log(f"  {self.stats[key]:4d}  {key}")
        for mode, counter in self.by_mode.items():
            log(f"  {mode} kills: " + ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())))
        log("  ops: " + ", ".join(f"{k[3:]}: {v}" for k, v in sorted(self.stats.items()) if k.startswith("op ")))
        for key, value in sorted(self.cross_file.items()):
            log(f"  one file new, the other old (a kill between the two renames): {value} x {key}")
        holding = 0
        live = set(state[0].values())
        for name in self.leftovers:
            try:
                with open(os.path.join(self.folder.path, name), encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                continue
            if any(k not in live for k in re.findall(r"dinf_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}", text)):
                holding += 1
        log(f"  leftover temp files (killed between mkstemp and rename; never removed, all 0600): {len(self.leftovers)}, "
            f"{holding} of them holding a key no profile uses any more")
        self.known.summary()
        log("PASS: every file parsed, every profile held its old or new entry, no entry of another profile was lost")

    def close(self, ok):
        for proc in self.running:  # a check failed while a command ran: end it (and strace under it)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if self.http:
            self.http.close()
        if self.server:
            self.server.stop()
        cleanup_dir(self.root, ok)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=None, help="randomly killed runs (default 200, 2000 with --long)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KILL_TEST_SEED", "20240601")))
    parser.add_argument("--long", action="store_true", default=os.environ.get("KILL_TEST_LONG") == "1")
    args = parser.parse_args()
    runs = args.runs or (2000 if args.long else 200)
    require_binaries(common.CLI_BIN, common.SERVER_BIN)
    os.umask(0o022)
    test = CLIKillTest(runs, args.seed)
    common.run_and_exit(test, args.seed)


if __name__ == "__main__":
    main()
