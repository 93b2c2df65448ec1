#!/usr/bin/env python3
"""Kill test B: `dev-infra-server` SIGKILLed under a create/rotate/revoke load, then restarted.

Each cycle: client threads create, rotate (grace 0 or 1 h) and revoke keys over HTTP and keep a
ledger of what the server answered; the server is SIGKILLed at a random moment; the database is
checked as the kill left it (`PRAGMA integrity_check`, `foreign_key_check`, read-only, so that
the restarted server does its own WAL recovery); the server is restarted on the same database
(sometimes killed again while it starts); then:

* every key whose create or rotate answered 2xx works (`GET /v1/whoami` 200), unless it was
  revoked with a 2xx (then 401 `key_revoked`) or rotated with grace 0 with a 2xx (401 `key_expired`);
* a request whose answer was lost in the kill may have happened or not: the key's state on the
  server decides which, and whoami must agree with it;
* a create or rotate that carried an `Idempotency-Key` and lost its answer is retried: it must
  return one key, and no second key may exist for it; 2xx creates retried return the same key;
* the admin key works, the server key file is unchanged (32 bytes, 0600).

A first phase kills `serve` on fresh databases while it starts for the first time (blind, aimed
at the key file's appearance, and with strace at each rename/link/chmod it makes): the server
key file must then be absent or whole and 0600, the database intact, the next start must work.
After every cycle, every key change in the database must have its audit event.

Known bugs (ids, for KILL_TEST_XFAIL): server-audit-gap (a change committed, its audit event lost
in the kill), server-key-mode (the key file left 0644 by a kill during the first start).

Usage: python3 Tests/kill/server_kill_test.py [--cycles N] [--seed S] [--long]
Env: DEV_INFRA_SERVER_BIN, KILL_TEST_SEED, KILL_TEST_LONG=1, KILL_TEST_KEEP=1, KILL_TEST_TMPDIR,
KILL_TEST_STRACE=0, KILL_TEST_XFAIL=id,... (known bugs reported as XFAIL instead of failing).
Exit status 0 when every cycle kept the guarantees, 1 with a FAIL line otherwise.
"""

import argparse
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import killtest_common as common  # noqa: E402
from killtest_common import (HTTP, LISTENING, KnownBugs, NotSent, Server, Unknown, Violation, cleanup_dir, key_id, log,  # noqa: E402
                             require_binaries, scratch_dir, snapshot_binaries, setup_database, strace_available, strace_kill_prefix)

WORKERS = 4
SQLITE_FILES = {"server.sqlite", "server.sqlite-wal", "server.sqlite-shm", "server.sqlite-journal", "server.sqlite.lock"}
# Calls that put a file in place or set its mode: where a kill can leave a secret file half made.
FILE_PLACING_SYSCALLS = ["rename", "link", "linkat", "chmod", "fchmodat", "fchmod"]
GRACES = [0, 3600]


# ---------------------------------------------------------------- database checks

def integrity_check(database, copy_first):
    """`PRAGMA integrity_check` and `foreign_key_check`, with the sqlite3 CLI when installed.

    With `copy_first`, on a copy of the database and its journal or WAL as a kill left them: the
    copy does SQLite's crash recovery (rolling a hot journal back, reading the WAL), and the
    original is left for the restarted server to recover by itself."""
    if copy_first:
        folder = tempfile.mkdtemp(prefix="check-", dir=os.path.dirname(os.path.dirname(database)))
        for suffix in ("", "-wal", "-journal"):
            if os.path.exists(database + suffix):
                shutil.copyfile(database + suffix, os.path.join(folder, os.path.basename(database) + suffix))
        target = os.path.join(folder, os.path.basename(database))
    else:
        folder, target = None, database
    try:
        return run_integrity_check(target)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def run_integrity_check(database):
    if shutil.which("sqlite3"):
        checks = {}
        for pragma in ("PRAGMA integrity_check;", "PRAGMA foreign_key_check;"):
            result = subprocess.run(["sqlite3", database, pragma], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            if result.returncode != 0:
                raise Violation(f"sqlite3 {database} '{pragma}' exited {result.returncode}: {result.stderr.decode().strip()}")
            checks[pragma] = result.stdout.decode().strip()
        integrity, foreign = checks.values()
        tool = "sqlite3 CLI"
    else:
        connection = sqlite3.connect(database, timeout=30)
        try:
            integrity = "\n".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
            foreign = "\n".join("|".join(map(str, row)) for row in connection.execute("PRAGMA foreign_key_check"))
        except sqlite3.DatabaseError as error:
            raise Violation(f"PRAGMA integrity_check (python sqlite3) on {database} failed: {error}")
        finally:
            connection.close()
        tool = "python sqlite3"
    if integrity != "ok":
        raise Violation(f"PRAGMA integrity_check ({tool}) on {database} says:\n{integrity}")
    if foreign:
        raise Violation(f"PRAGMA foreign_key_check ({tool}) on {database} lists broken references:\n{foreign}")
    return tool


def query(database, sql, args=()):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


# ---------------------------------------------------------------- the ledger

class Key:
    """One key the clients hold the raw text of, and what the server said about it."""

    def __init__(self, raw, origin, name=None, idem=None, body=None):
        self.raw = raw
        self.id = key_id(raw)
        self.origin = origin          # "create" or "rotate"
        self.name = name
        self.idem = idem              # the Idempotency-Key of the create, if any
        self.body = body
        self.revoked = None           # None, "yes" (2xx), "maybe" (answer lost)
        self.rotated = None           # None, ("yes", grace) or ("maybe", grace)

    def expected_state(self):
        """The state GET /v1/keys must show, once every lost answer is settled."""
        if self.revoked == "yes":
            return "revoked"
        if self.rotated:
            return "expired" if self.rotated[1] == 0 else "rotating"
        return "active"

    def history(self):
        return (f"made by a {self.origin} that answered 2xx; revoked: {self.revoked or 'no'}; "
                f"rotated: {'yes, grace ' + str(self.rotated[1]) + ' s' if self.rotated else 'no'}")


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}                # id -> Key
        self.lost_creates = []        # (name, idem, body): the answer to a create was lost
        self.lost_rotates = []        # (Key, grace, idem, body): the answer to a rotate was lost
        self.stats = Counter()

    def add(self, key):
        with self.lock:
            self.keys[key.id] = key


class Worker(threading.Thread):
    """Creates, rotates and revokes its own keys until told to stop or the server goes away."""

    def __init__(self, number, cycle, port, admin_key, ledger, stop, seed):
        super().__init__(daemon=True)
        self.number = number
        self.cycle = cycle
        self.http = HTTP(port)
        self.admin_key = admin_key
        self.ledger = ledger
        self.stop = stop
        self.rng = random.Random(seed)
        self.live = []
        self.ops = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
                self.ops += 1
        except (Unknown, NotSent):
            pass  # the server was killed: this worker's cycle is over
        except Violation as violation:
            self.error = violation
        except Exception as error:  # a bug in the test itself must not pass silently
            self.error = Violation(f"worker {self.number}: {type(error).__name__}: {error}")
        finally:
            self.http.close()

    def step(self):
        roll = self.rng.random()
        if not self.live or roll < 0.4:
            self.create()
        elif roll < 0.65:
            self.rotate(self.rng.choice(self.live))
        elif roll < 0.9:
            self.revoke(self.rng.choice(self.live))
        else:
            self.check(self.rng.choice(self.live))

    def create(self):
        name = f"c{self.cycle}-w{self.number}-{self.ops}"
        idem = str(uuid.UUID(int=self.rng.getrandbits(128))) if self.rng.random() < 0.5 else None
        body = {"name": name, "scopes": ["keys:read"]}
        headers = {"Idempotency-Key": idem} if idem else None
        try:
            status, _, answer = self.http.request("POST", "/v1/keys", key=self.admin_key, body=body, headers=headers)
        except Unknown:
            with self.ledger.lock:
                self.ledger.lost_creates.append((name, idem, body))
                self.ledger.stats["create answer lost"] += 1
            raise
        if status != 201:
            raise Violation(f"POST /v1/keys ({name}) answered {status} under load: {answer}")
        key = Key(answer["api_key"], "create", name, idem, body)
        self.ledger.add(key)
        self.live.append(key)
        self.ledger.stats["create 2xx"] += 1

    def rotate(self, old):
        grace = self.rng.choice(GRACES)
        idem = str(uuid.UUID(int=self.rng.getrandbits(128))) if self.rng.random() < 0.5 else None
        body = {"grace_seconds": grace}
        headers = {"Idempotency-Key": idem} if idem else None
        self.live.remove(old)
        try:
            status, _, answer = self.http.request("POST", f"/v1/keys/{old.id}/rotate", key=self.admin_key, body=body, headers=headers)
        except NotSent:
            self.live.append(old)
            raise
        except Unknown:
            with self.ledger.lock:
                old.rotated = ("maybe", grace)
                self.ledger.lost_rotates.append((old, grace, idem, body))
                self.ledger.stats["rotate answer lost"] += 1
            raise
        if status != 201:
            raise Violation(f"POST /v1/keys/{old.id}/rotate answered {status} under load: {answer}")
        old.rotated = ("yes", grace)
        new = Key(answer["api_key"], "rotate")
        if answer["key"].get("rotated_from") != old.id:
            raise Violation(f"rotate of {old.id} answered a key rotated from {answer['key'].get('rotated_from')}")
        self.ledger.add(new)
        self.live.append(new)
        self.ledger.stats[f"rotate 2xx (grace {grace})"] += 1

    def revoke(self, key):
        self.live.remove(key)
        try:
            status, _, answer = self.http.request("DELETE", f"/v1/keys/{key.id}", key=self.admin_key)
        except NotSent:
            self.live.append(key)
            raise
        except Unknown:
            key.revoked = "maybe"
            self.ledger.stats["revoke answer lost"] += 1
            raise
        if status != 200:
            raise Violation(f"DELETE /v1/keys/{key.id} answered {status} under load: {answer}")
        key.revoked = "yes"
        self.ledger.stats["revoke 2xx"] += 1

    def check(self, key):
        """A live key works right now, before any kill."""
        status, _, answer = self.http.request("GET", "/v1/whoami", key=key.raw)
        if status != 200:
            raise Violation(f"live key {key.id} answers {status} on /v1/whoami before any kill: {answer}")
        self.ledger.stats["whoami during load"] += 1


# ---------------------------------------------------------------- the test

class ServerKillTest:
    def __init__(self, cycles, first_start_kills, seed):
        self.cycles = cycles
        self.first_start_kills = first_start_kills
        self.seed = seed
        self.rng = random.Random(seed)
        self.root = scratch_dir("dev-infra-server-kill-")
        snapshot_binaries(self.root, cli=False)
        self.home = os.path.join(self.root, "server")
        os.makedirs(self.home, mode=0o700)
        self.database = os.path.join(self.home, "server.sqlite")
        self.server = Server(self.home, self.database, os.path.join(self.root, "server.log"))
        self.ledger = Ledger()
        self.start_times = []
        self.stats = Counter()
        self.local = threading.local()
        self.known = KnownBugs()
        self.refused_sample = 25
        self.gaps_seen = set()
        self.fresh_server = None

    def http(self):
        """A connection per verifying thread."""
        if getattr(self.local, "port", None) != self.server.port:
            if getattr(self.local, "http", None):
                self.local.http.close()
            self.local.http = HTTP(self.server.port)
            self.local.port = self.server.port
        return self.local.http

    # -- phase 0: kills during a first start

    def first_start_phase(self):
        """SIGKILL `serve` on fresh databases while it creates the database and its key file.

        Blind kills: uniform in [0, the time to listen]. Aimed kills: the data folder is polled
        and the kill fires 0-0.5 ms after anything but SQLite's own files appears there (the key
        file, or the temp file it is written through). With strace: a kill at the entry of each
        call that puts a file in place or sets a mode (FILE_PLACING_SYSCALLS), one run per call."""
        typical = self.first_start(0, "unkilled")
        plan = ["blind" if n % 2 else "aimed" for n in range(self.first_start_kills)]
        for number, mode in enumerate(plan, 1):
            self.first_start(number, mode, typical)
        steps = 0
        if strace_available():
            # Every call that puts a file in place or sets its mode, each in its own run, until a
            # start gets through without making that call again.
            number = len(plan)
            for syscall in FILE_PLACING_SYSCALLS:
                for when in range(1, 6):
                    number += 1
                    if not self.first_start(number, f"strace {syscall} #{when}", typical, strace=(syscall, when)):
                        break
                    steps += 1
        else:
            log("strace with fault injection is not usable here: the kills at exact steps of the first start are skipped")
        log(f"first-start kills: {len(plan)} random, {steps} at an exact syscall (typical start {typical * 1000:.0f} ms), "
            f"each followed by a clean start")

    def first_start(self, number, mode, typical=None, strace=None):
        """One first start on a fresh database, killed as `mode` says; False when strace never fired."""
        try:
            return self.first_start_run(number, mode, typical, strace)
        finally:
            server = self.fresh_server
            if server is not None and server.proc is not None and server.proc.poll() is None:
                # a check failed while this server ran: end it (and strace, when it runs under it)
                if server.proc.pid == os.getpgid(server.proc.pid):
                    os.killpg(server.proc.pid, signal.SIGKILL)
                else:
                    server.proc.kill()
                server.proc.wait()
            self.fresh_server = None

    def first_start_run(self, number, mode, typical, strace):
        home = os.path.join(self.root, f"fresh-{number}")
        os.makedirs(home, mode=0o700)
        folder = os.path.join(home, "data")
        database = os.path.join(folder, "server.sqlite")
        key_path = database + ".key"
        server = self.fresh_server = Server(home, database, os.path.join(home, "server.log"))
        started = time.monotonic()
        if mode == "unkilled":  # measures the time to listen
            server.start()
            server.stop()
            shutil.rmtree(home, ignore_errors=True)
            return time.monotonic() - started
        if strace:
            syscall, when = strace
            server.spawn(prefix=strace_kill_prefix(syscall, when))
            deadline = time.monotonic() + 30
            while server.proc.poll() is None and time.monotonic() < deadline:
                with open(server.log_path, "rb") as f:
                    if LISTENING.search(f.read().decode(errors="replace")):
                        break  # it started without a `when`-th call of `syscall`
                time.sleep(0.01)
            if server.proc.poll() is None:  # strace and the server it runs: their own process group
                os.killpg(server.proc.pid, signal.SIGKILL)
                server.proc.wait()
                server.log_file.close()
                shutil.rmtree(home, ignore_errors=True)
                return False
            if server.proc.returncode not in (-signal.SIGKILL, 128 + signal.SIGKILL):
                raise Violation(f"first start under strace exited {server.proc.returncode}:\n{server.log_tail()}")
            server.log_file.close()
        else:
            server.spawn()
            if mode == "blind":
                try:
                    server.proc.wait(timeout=self.rng.uniform(0, typical))
                except subprocess.TimeoutExpired:
                    pass
            else:
                deadline = time.monotonic() + 10 * typical + 2
                while time.monotonic() < deadline and server.proc.poll() is None:
                    try:
                        names = os.listdir(folder)
                    except FileNotFoundError:
                        continue
                    if set(names) - SQLITE_FILES:
                        break
                fire = time.monotonic() + self.rng.uniform(0, 0.0005)
                while time.monotonic() < fire:
                    pass
            if server.proc.poll() is not None:
                raise Violation(f"first start on {database} exited {server.proc.returncode} on its own:\n{server.log_tail()}")
            server.sigkill()
        elapsed = (time.monotonic() - started) * 1000
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        state = "key file written" if os.path.exists(key_path) else "no key file yet"
        for name in names:
            if name in SQLITE_FILES:
                continue
            path = os.path.join(folder, name)
            info = os.stat(path)
            if name != "server.sqlite.key":
                # A temp file the key was being written through: the next start makes a new key,
                # so this one is never used; it is left behind all the same, with whatever mode.
                state += ", a temp file left"
                self.stats[f"first start killed: temp file left, mode {stat.S_IMODE(info.st_mode):04o}"] += 1
        self.stats[f"first start killed ({mode}): {state}"] += 1
        self.check_key_file(key_path, f"after a {mode} kill {elapsed:.1f} ms into the first start")
        if os.path.exists(database):
            integrity_check(database, copy_first=True)
        server.start()  # the next start must work, and leave the key file private
        self.check_key_file(key_path, f"after a {mode} kill during the first start and one more start")
        server.sigkill()
        shutil.rmtree(home, ignore_errors=True)
        return True

    def check_key_file(self, key_path, context):
        if not os.path.exists(key_path):
            return
        info = os.stat(key_path)
        if info.st_size != 32:
            raise Violation(f"{context}: {key_path} has {info.st_size} bytes, not 32")
        mode = stat.S_IMODE(info.st_mode)
        if mode != 0o600:
            self.known.report("server-key-mode",
                              f"{context}: {key_path} (the server's key: it signs JWTs and seals the raw keys kept for "
                              f"idempotent retries) has mode {mode:04o}; it must be 0600, and the server starts on it as it is")

    # -- the cycles

    def restart(self):
        """Restarts on the same database; now and then kills that start too, then starts again."""
        if self.start_times and self.rng.random() < 0.4:
            self.server.spawn()
            try:
                self.server.proc.wait(timeout=self.rng.uniform(0, sorted(self.start_times)[len(self.start_times) // 2]))
                raise Violation(f"the restart exited {self.server.proc.returncode} on its own:\n{self.server.log_tail()}")
            except subprocess.TimeoutExpired:
                pass
            self.server.sigkill()
            self.stats["restarts killed while starting"] += 1
        started = time.monotonic()
        port = self.server.start()
        self.start_times.append(time.monotonic() - started)
        return port

    def load_and_kill(self, cycle):
        stop = threading.Event()
        workers = [Worker(n, cycle, self.server.port, self.admin_key, self.ledger, stop, self.rng.getrandbits(64))
                   for n in range(WORKERS)]
        for worker in workers:
            worker.start()
        # Wait (polling, with a deadline) until the load runs, then kill at a random moment.
        deadline = time.monotonic() + 30
        while sum(w.ops for w in workers) < 10:
            if time.monotonic() > deadline or any(w.error for w in workers) or not any(w.is_alive() for w in workers):
                break
            time.sleep(0.005)
        delay = self.rng.uniform(0.05, 1.5)
        end = time.monotonic() + delay
        while time.monotonic() < end and not any(w.error for w in workers):
            time.sleep(0.005)
        ops_at_kill = sum(w.ops for w in workers)
        if not self.server.sigkill():
            raise Violation(f"cycle {cycle}: the server exited on its own (code {self.server.proc.returncode}) "
                            f"under load:\n{self.server.log_tail()}")
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                raise Violation(f"cycle {cycle}: worker {worker.number} still runs 60 s after the kill")
        for worker in workers:
            if worker.error:
                raise worker.error
        return delay, ops_at_kill

    def whoami(self, raw):
        """"ok", or the 401's code. A 429 (the server throttles an address whose credentials keep
        being refused) is waited out as its Retry-After says, then the request is sent again."""
        deadline = time.monotonic() + 120
        while True:
            status, headers, answer = self.http().request("GET", "/v1/whoami", key=raw)
            if status == 200:
                return "ok"
            if status == 401 and isinstance(answer, dict):
                return answer.get("code")
            if status == 429 and time.monotonic() < deadline:
                self.stats["whoami throttled (429), waited out"] += 1
                time.sleep(min(5.0, float(headers.get("retry-after", "1") or 1)))
                continue
            return f"HTTP {status}: {answer}"

    def key_states(self):
        """{key id: state} of every key of the admin, from GET /v1/keys pages."""
        states, cursor = {}, None
        while True:
            path = "/v1/keys?limit=200" + (f"&cursor={cursor}" if cursor else "")
            status, _, answer = self.http().request("GET", path, key=self.admin_key)
            if status != 200:
                raise Violation(f"GET {path} answered {status}: {answer}")
            for item in answer["items"]:
                states[item["id"]] = item["state"]
            cursor = answer.get("next_cursor")
            if not cursor:
                return states

    def record(self, kid):
        status, _, answer = self.http().request("GET", f"/v1/keys/{kid}", key=self.admin_key)
        if status != 200:
            raise Violation(f"GET /v1/keys/{kid} answered {status}: {answer}")
        return answer

    def resolve_lost_answers(self, cycle):
        """After the restart: settle each request whose answer the kill swallowed."""
        ledger = self.ledger
        for key in list(ledger.keys.values()):
            if key.revoked == "maybe":
                record = self.record(key.id)
                key.revoked = "yes" if record.get("revoked_at") else None
                self.stats["lost revoke: had happened" if key.revoked else "lost revoke: had not happened"] += 1
        for old, grace, idem, body in ledger.lost_rotates:
            record = self.record(old.id)
            happened = bool(record.get("rotated_to"))
            self.stats["lost rotate: had happened" if happened else "lost rotate: had not happened"] += 1
            successors = query(self.database, "SELECT key_id FROM api_keys WHERE rotated_from = ?", (old.id,))
            if len(successors) != (1 if happened else 0):
                raise Violation(f"key {old.id}: rotated_to is {record.get('rotated_to')}, but {len(successors)} keys "
                                f"name it as rotated_from: {successors}")
            if idem and old.revoked != "yes":
                status, headers, answer = self.http().request("POST", f"/v1/keys/{old.id}/rotate", key=self.admin_key,
                                                              body=body, headers={"Idempotency-Key": idem})
                if status != 201:
                    raise Violation(f"retried rotate of {old.id} (Idempotency-Key {idem}) answered {status}: {answer}")
                new = Key(answer["api_key"], "rotate")
                replay = headers.get("idempotent-replay") == "true"
                if happened and (not replay or new.id != record["rotated_to"]):
                    raise Violation(f"the lost rotate of {old.id} had happened (successor {record['rotated_to']}); its retry "
                                    f"with the same Idempotency-Key gave {new.id}, replay header {headers.get('idempotent-replay')}")
                after = query(self.database, "SELECT key_id FROM api_keys WHERE rotated_from = ?", (old.id,))
                if len(after) != 1:
                    raise Violation(f"after the retried rotate of {old.id}, {len(after)} keys are rotated from it: {after}")
                old.rotated = ("yes", grace)
                ledger.add(new)
                self.stats["lost rotate retried with its Idempotency-Key"] += 1
            else:
                old.rotated = ("yes", grace) if happened else None
        ledger.lost_rotates = []
        for name, idem, body in ledger.lost_creates:
            rows = query(self.database, "SELECT key_id FROM api_keys WHERE name = ?", (name,))
            if len(rows) > 1:
                raise Violation(f"one lost create ({name}) left {len(rows)} keys: {rows}")
            self.stats["lost create: had happened" if rows else "lost create: had not happened"] += 1
            if idem:
                status, headers, answer = self.http().request("POST", "/v1/keys", key=self.admin_key, body=body,
                                                              headers={"Idempotency-Key": idem})
                if status != 201:
                    raise Violation(f"retried create {name} (Idempotency-Key {idem}) answered {status}: {answer}")
                key = Key(answer["api_key"], "create", name, idem, body)
                replay = headers.get("idempotent-replay") == "true"
                if rows and (not replay or key.id != rows[0][0]):
                    raise Violation(f"the lost create {name} had happened (key {rows[0][0]}); its retry with the same "
                                    f"Idempotency-Key gave {key.id}, replay header {headers.get('idempotent-replay')}")
                after = query(self.database, "SELECT key_id FROM api_keys WHERE name = ?", (name,))
                if len(after) != 1:
                    raise Violation(f"after retrying the lost create {name} with its Idempotency-Key, {len(after)} keys have that name")
                ledger.add(key)
                self.stats["lost create retried with its Idempotency-Key"] += 1
        ledger.lost_creates = []

    def verify(self, cycle):
        # The admin key, and the server key file.
        if self.whoami(self.admin_key) != "ok":
            raise Violation(f"cycle {cycle}: the admin key no longer works after the restart")
        with open(self.database + ".key", "rb") as f:
            if f.read() != self.server_key:
                raise Violation(f"cycle {cycle}: the server key file {self.database}.key changed")
        mode = stat.S_IMODE(os.stat(self.database + ".key").st_mode)
        if mode != 0o600:
            raise Violation(f"cycle {cycle}: {self.database}.key has mode {mode:04o}")
        self.resolve_lost_answers(cycle)
        # Every key in the ledger is in the state the ledger says (GET /v1/keys), and answers
        # whoami accordingly: all keys that must work, and a sample of those that must be refused
        # (the server throttles an address after about a hundred refused credentials).
        keys = list(self.ledger.keys.values())
        states = self.key_states()
        problems = []
        for key in keys:
            want = key.expected_state()
            if states.get(key.id) != want:
                problems.append(f"key {key.id} is {states.get(key.id, 'missing')} after the restart; the ledger says {want} "
                                f"({key.history()})")
        if problems:
            raise Violation(f"cycle {cycle}: {len(problems)} of {len(keys)} keys break the ledger:\n  " + "\n  ".join(problems[:20]))
        working = [k for k in keys if k.expected_state() in ("active", "rotating")]
        refused = [k for k in keys if k.expected_state() not in ("active", "rotating")]
        checked = working + self.rng.sample(refused, min(self.refused_sample, len(refused)))

        def check(key):
            outcome = self.whoami(key.raw)
            want = {"active": "ok", "rotating": "ok", "revoked": "key_revoked", "expired": "key_expired"}[key.expected_state()]
            if outcome != want:
                return f"key {key.id} answers {outcome} on /v1/whoami after the restart; expected {want} ({key.history()})"
            return None

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            problems = [p for p in pool.map(check, checked) if p]
        if problems:
            raise Violation(f"cycle {cycle}: {len(problems)} of {len(checked)} keys answer whoami against the ledger:\n  "
                            + "\n  ".join(problems[:20]))
        self.stats["whoami checks after restarts: must work"] += len(working)
        self.stats["whoami checks after restarts: must be refused (sample)"] += len(checked) - len(working)
        # A sample of 2xx creates with an Idempotency-Key: the retry replays the same key.
        sample = [k for k in keys if k.idem and k.origin == "create"]
        for key in self.rng.sample(sample, min(10, len(sample))):
            status, headers, answer = self.http().request("POST", "/v1/keys", key=self.admin_key, body=key.body,
                                                          headers={"Idempotency-Key": key.idem})
            if status != 201 or answer.get("api_key") != key.raw or headers.get("idempotent-replay") != "true":
                raise Violation(f"cycle {cycle}: retrying the create of {key.id} with its Idempotency-Key answered {status}, "
                                f"key {key_id(answer.get('api_key', '')) if isinstance(answer, dict) else answer}, "
                                f"replay {headers.get('idempotent-replay')}")
        return len(keys), len(checked)

    def audit_gaps(self):
        """Changes in the database without their audit event (the audit is a second transaction)."""
        gaps = {}
        gaps["key.created"] = query(self.database, """
            SELECT key_id FROM api_keys k WHERE rotated_from IS NULL
            AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'key.created' AND a.key_id = k.key_id)""")
        gaps["key.rotated"] = query(self.database, """
            SELECT key_id FROM api_keys k WHERE rotated_to IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'key.rotated' AND a.key_id = k.key_id)""")
        gaps["key.revoked"] = query(self.database, """
            SELECT key_id FROM api_keys k WHERE revoked_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'key.revoked' AND a.key_id = k.key_id)""")
        return {event: [row[0] for row in rows] for event, rows in gaps.items() if rows}

    def run(self):
        begun = time.monotonic()
        log(f"server kill test: seed {self.seed}, {self.cycles} cycles, {WORKERS} client threads")
        if self.first_start_kills:
            self.first_start_phase()
        self.admin_key = setup_database(self.home, self.database)
        self.restart()
        with open(self.database + ".key", "rb") as f:
            self.server_key = f.read()
        for cycle in range(1, self.cycles + 1):
            delay, ops = self.load_and_kill(cycle)
            tool = integrity_check(self.database, copy_first=True)
            self.restart()
            count, whoamis = self.verify(cycle)
            gaps = self.audit_gaps()
            new_gaps = {event: [i for i in ids if i not in self.gaps_seen] for event, ids in gaps.items()}
            new_gaps = {event: ids for event, ids in new_gaps.items() if ids}
            if new_gaps:
                self.gaps_seen.update(i for ids in new_gaps.values() for i in ids)
                self.known.report("server-audit-gap", f"cycle {cycle}: changes in the database without their audit event "
                                  "(the kill fell between the change's transaction and the audit's): " + "; ".join(
                                      f"{event} missing for {', '.join(ids)}" for event, ids in sorted(new_gaps.items())))
            log(f"cycle {cycle}: killed {delay * 1000:.0f} ms into the load after {ops} requests; "
                f"integrity ok ({tool}); restarted in {self.start_times[-1] * 1000:.0f} ms; "
                f"{count} keys' states checked, {whoamis} whoami")
        self.server.stop()
        integrity_check(self.database, copy_first=False)
        log(f"\nseed {self.seed}: {self.cycles} cycles in {time.monotonic() - begun:.1f} s")
        for name, value in sorted((self.ledger.stats + self.stats).items()):
            log(f"  {value:5d}  {name}")
        self.known.summary()
        log("PASS: every 2xx create/rotate/revoke survived the kills, every lost answer settled one way, the database is intact")

    def close(self, ok):
        self.server.stop()
        cleanup_dir(self.root, ok)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=None, help="kill/restart cycles (default 8, 40 with --long)")
    parser.add_argument("--first-start-kills", type=int, default=None, help="kills of a first start (default 8, 60 with --long)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KILL_TEST_SEED", "20240601")))
    parser.add_argument("--long", action="store_true", default=os.environ.get("KILL_TEST_LONG") == "1")
    args = parser.parse_args()
    cycles = args.cycles if args.cycles is not None else (40 if args.long else 8)
    first = args.first_start_kills if args.first_start_kills is not None else (60 if args.long else 8)
    require_binaries(common.SERVER_BIN)
    os.umask(0o022)
    test = ServerKillTest(cycles, first, args.seed)
    common.run_and_exit(test, args.seed)


if __name__ == "__main__":
    main()
