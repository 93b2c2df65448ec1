"""Shared helpers of the kill tests: binaries, a real server on a loopback port, a small HTTP client.

Standard library only, so the tests run on any machine with python3 and the two built binaries.
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI_BIN = os.environ.get("DEV_INFRA_BIN") or os.path.join(REPO, ".build", "debug", "dev-infra")
SERVER_BIN = os.environ.get("DEV_INFRA_SERVER_BIN") or os.path.join(REPO, ".build", "debug", "dev-infra-server")
PASSWORD = "a-long-password"
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


class Violation(Exception):
    """A broken guarantee: the test fails with this message."""


class KnownBugs:
    """Violations of a reported bug, by id. Each fails the test, unless KILL_TEST_XFAIL (a comma
    list of ids) names it: then it is printed as XFAIL at the end and the test goes on."""

    def __init__(self):
        self.allowed = {name.strip() for name in os.environ.get("KILL_TEST_XFAIL", "").split(",") if name.strip()}
        self.seen = {}

    def tolerated(self, bug_id):
        return bug_id in self.allowed

    def report(self, bug_id, message):
        if bug_id not in self.allowed:
            raise Violation(f"[{bug_id}] {message}")
        self.seen.setdefault(bug_id, []).append(message)

    def summary(self):
        for bug_id, messages in sorted(self.seen.items()):
            log(f"XFAIL [{bug_id}] (known bug, tolerated by KILL_TEST_XFAIL), {len(messages)} time(s); first: {messages[0]}")


def log(message):
    print(message, flush=True)


def fail(message):
    print("FAIL: " + message, file=sys.stderr, flush=True)
    sys.exit(1)


def require_binaries(*paths):
    for path in paths:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(f"{path} is missing or not executable: build it first, or set DEV_INFRA_BIN / DEV_INFRA_SERVER_BIN")


def snapshot_binaries(root, cli=True, server=True):
    """Copies the binaries under test into the test's folder and uses the copies: a rebuild that
    rewrites .build/debug during the run then changes nothing under the test's feet."""
    global CLI_BIN, SERVER_BIN
    for path in ([CLI_BIN] if cli else []) + ([SERVER_BIN] if server else []):
        built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(path).st_mtime))
        log(f"testing {path} (built {built})")
    folder = os.path.join(root, "bin")
    os.makedirs(folder, exist_ok=True)
    if cli:
        CLI_BIN = shutil.copy2(CLI_BIN, os.path.join(folder, "dev-infra"))
    if server:
        SERVER_BIN = shutil.copy2(SERVER_BIN, os.path.join(folder, "dev-infra-server"))


def scratch_dir(prefix):
    """A temp folder, removed at exit unless KILL_TEST_KEEP=1 (then its path is printed)."""
    base = os.environ.get("KILL_TEST_TMPDIR") or None
    path = tempfile.mkdtemp(prefix=prefix, dir=base)
    return path


def cleanup_dir(path, ok):
    if os.environ.get("KILL_TEST_KEEP") == "1" or not ok:
        log(f"kept {path} for inspection")
    else:
        shutil.rmtree(path, ignore_errors=True)


def server_env(home):
    env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return env


def server_admin(home, database, args, stdin=None, check=True):
    """Runs `dev-infra-server admin ...` on the database; returns stdout."""
    result = subprocess.run([SERVER_BIN, "admin"] + args + ["--database", "sqlite:" + database],
                            input=(stdin or "").encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=server_env(home), timeout=60)
    if check and result.returncode != 0:
        raise Violation(f"dev-infra-server admin {' '.join(args)} exited {result.returncode}: "
                        f"{result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode().strip()


def setup_database(home, database):
    """Bootstrap admin, team web, user alice; returns the admin key."""
    admin_key = server_admin(home, database, ["bootstrap"])
    server_admin(home, database, ["team", "add", "web"])
    server_admin(home, database, ["user", "add", "alice", "--team", "web"], stdin=PASSWORD)
    return admin_key


class Server:
    """`dev-infra-server serve --port 0` on a database; its stderr goes to a log file."""

    def __init__(self, home, database, log_path, rate_limit=100000):
        self.home = home
        self.database = database
        self.log_path = log_path
        self.rate_limit = rate_limit
        self.proc = None
        self.port = None

    def spawn(self, prefix=()):
        """Starts the process without waiting for it to listen."""
        self.log_file = open(self.log_path, "ab")
        self.log_start = self.log_file.tell()
        self.proc = subprocess.Popen(
            list(prefix) + [SERVER_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--database", "sqlite:" + self.database,
             "--rate-limit", str(self.rate_limit)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log_file, env=server_env(self.home),
            start_new_session=bool(prefix))  # under strace: a group of its own, so both go with one killpg
        self.port = None
        return self.proc

    def wait_listening(self, timeout=30):
        """Polls this run's part of the log for the `listening on` line; returns the port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_start)
                text = f.read().decode(errors="replace")
            match = LISTENING.search(text)
            if match:
                self.port = int(match.group(1))
                return self.port
            if self.proc.poll() is not None:
                raise Violation(f"dev-infra-server exited with {self.proc.returncode} before listening; log tail:\n{text[-2000:]}")
            time.sleep(0.01)
        raise Violation(f"dev-infra-server did not log 'listening on' within {timeout} s")

    def start(self):
        self.spawn()
        return self.wait_listening()

    def sigkill(self):
        """SIGKILL; returns False when the process had already exited on its own."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log_file.close()
        return alive

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log_file.close()

    def log_tail(self, chars=3000):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-chars:]


class Unknown(Exception):
    """The request may or may not have been executed: the connection failed after it was sent."""


class NotSent(Exception):
    """The request was certainly not executed: the connection could not be opened."""


class HTTP:
    """One keep-alive connection to the server; reconnects after a failure."""

    def __init__(self, port, timeout=15):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, key=None, body=None, headers=None):
        """(status, headers dict lower-cased, parsed JSON or text). Raises NotSent or Unknown."""
        all_headers = {"Accept": "application/json"}
        if key is not None:
            all_headers["Authorization"] = "Bearer " + key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.connect()
            except OSError as error:
                self.close()
                raise NotSent(str(error))
        try:
            self.conn.request(method, path, body=data, headers=all_headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise Unknown(f"{type(error).__name__}: {error}")
        text = raw.decode(errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed


def create_key(http, admin_key, name, scopes, idempotency_key=None):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    status, _, body = http.request("POST", "/v1/keys", key=admin_key, body={"name": name, "scopes": scopes}, headers=headers)
    if status != 201:
        raise Violation(f"POST /v1/keys answered {status}: {body}")
    return body["api_key"]


def key_id(raw):
    """dinf_<12-char id>_<secret>: the id is characters 5..17."""
    return raw[5:17]


def strace_available():
    """strace with syscall fault injection, usable here (ptrace allowed); KILL_TEST_STRACE=0 skips it."""
    if os.environ.get("KILL_TEST_STRACE") == "0" or not shutil.which("strace"):
        return False
    try:
        probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=uname",
                                "-e", "inject=uname:signal=KILL:when=1", "uname"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL)


def strace_kill_prefix(syscall, when, path=None):
    """argv prefix that SIGKILLs the traced program at the entry of its `when`-th `syscall`
    (optionally: only the calls naming `path`), before the kernel runs that call."""
    argv = ["strace", "-f", "-qq", "-o", "/dev/null"]
    if path:
        argv += ["-P", path]
    return argv + ["-e", f"trace={syscall}", "-e", f"inject={syscall}:signal=KILL:when={when}"]


def run_and_exit(test, seed):
    """Runs `test` (with `run()` and `close(ok)`), prints why it failed, and exits 0 or 1."""
    ok = False
    try:
        test.run()
        ok = True
    except Violation as violation:
        print(f"FAIL (seed {seed}; rerun with --seed {seed}): {violation}", file=sys.stderr, flush=True)
    except OSError as error:
        print(f"FAIL: the test could not run a program or use a file: {error}", file=sys.stderr, flush=True)
    finally:
        test.close(ok)
    sys.exit(0 if ok else 1)
