"""End to end: the real dev-infra-server, the QA tasks service under uvicorn, httpx as the client.

Everything listens on 127.0.0.1. DEV_INFRA_SERVER_BIN names the server binary
(default: <repo>/.build/debug/dev-infra-server). The last test stops dev-infra, so keep it last.
"""

import os
import random
import socket
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs

import httpx
import pytest

HERE = Path(__file__).resolve().parent
SERVER_BIN = os.environ.get("DEV_INFRA_SERVER_BIN", str(HERE.parents[1] / ".build" / "debug" / "dev-infra-server"))
ALICE_PASSWORD = "correct horse battery staple"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def make_key() -> str:
    """A well-formed key nobody issued (written apart from qa_tasks.py, so it cross-checks it)."""
    body = "dinf_" + "".join(random.choices(BASE62, k=12)) + "_" + "".join(random.choices(BASE62, k=32))
    crc, checksum = zlib.crc32(body.encode()), ""
    for _ in range(6):
        crc, digit = divmod(crc, 62)
        checksum = BASE62[digit] + checksum
    return body + checksum


def broken(key: str) -> str:
    """The key with its last checksum character changed: same shape, wrong checksum."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


def bearer(credential: str) -> dict:
    return {"Authorization": f"Bearer {credential}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, log_path: Path, health_url: str, env=None, cwd=None) -> subprocess.Popen:
    """Starts a process and polls its health URL (bounded) until it answers 200."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{argv[0]} exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(proc)
    pytest.fail(f"{health_url} did not answer within 30 s:\n{log_path.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_service(tmp: Path, name: str, dev_infra_url: str, introspection_key: str):
    port = free_port()
    env = {**os.environ, "DEV_INFRA_URL": dev_infra_url, "DEV_INFRA_INTROSPECTION_KEY": introspection_key,
           "QA_TASKS_TEAM": "qa", "DEV_INFRA_TIMEOUT": "2"}
    url = f"http://127.0.0.1:{port}"
    proc = start([sys.executable, "-m", "uvicorn", "qa_tasks:app", "--host", "127.0.0.1", "--port", str(port)],
                 tmp / f"{name}.log", f"{url}/healthz", env=env, cwd=HERE)
    return proc, httpx.Client(base_url=url, timeout=10)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"https://dev-infra.dev/problems/{code}"
    assert problem["title"] and problem["detail"]
    return problem


# --- fixtures ---

@pytest.fixture(scope="module")
def dev_infra(tmp_path_factory):
    """A fresh dev-infra-server: teams qa and web, an admin, alice in qa; yields url, admin key, process."""
    if not os.access(SERVER_BIN, os.X_OK):
        pytest.fail(f"no server binary at {SERVER_BIN} (swift build, or set DEV_INFRA_SERVER_BIN)")
    tmp = tmp_path_factory.mktemp("dev-infra")
    database = f"sqlite:{tmp}/server.sqlite"

    def admin(*args, stdin=""):
        done = subprocess.run([SERVER_BIN, "admin", *args, "--database", database], input=stdin,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"admin {' '.join(args)}: {done.stderr}"
        return done.stdout

    admin("team", "add", "qa")
    admin("team", "add", "web")
    admin_key = admin("bootstrap").strip()
    admin("user", "add", "alice", "--team", "qa", stdin=ALICE_PASSWORD + "\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start([SERVER_BIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", database],
                 tmp / "server.log", f"{url}/healthz")
    yield SimpleNamespace(url=url, admin_key=admin_key, proc=proc, tmp=tmp)
    stop(proc)


@pytest.fixture(scope="module")
def keys(dev_infra):
    """The service's introspection key (admin-made) and alice's keys, made through the API."""
    with httpx.Client(base_url=dev_infra.url, timeout=10) as api:
        def create(credential, name, scopes, team):
            made = api.post("/v1/keys", json={"name": name, "scopes": scopes, "team": team}, headers=bearer(credential))
            assert made.status_code == 201, made.text
            return SimpleNamespace(key=made.json()["api_key"], id=made.json()["key"]["id"])

        signed_in = api.post("/v1/auth/token", json={"username": "alice", "password": ALICE_PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        alice = signed_in.json()["access_token"]
        return SimpleNamespace(
            alice_jwt=alice,
            service=create(dev_infra.admin_key, "qa-tasks", ["keys:introspect"], "qa"),
            read=create(alice, "read", ["projects:read"], "qa"),
            write=create(alice, "write", ["projects:read", "projects:write"], "qa"),
            to_revoke=create(alice, "to-revoke", ["projects:read"], "qa"),
            keys_only=create(alice, "keys-only", ["keys:read"], "qa"),
            # alice is not in team web, so the admin makes this one
            web=create(dev_infra.admin_key, "web", ["projects:read"], "web"),
        )


@pytest.fixture(scope="module")
def service(dev_infra, keys):
    proc, client = start_service(dev_infra.tmp, "qa-tasks", dev_infra.url, keys.service.key)
    yield client
    client.close()
    stop(proc)


class FakeDevInfra(BaseHTTPRequestHandler):
    """A stand-in dev-infra that records every request and answers what the test sets."""
    calls: list = []
    answer = (500, b'{"code":"internal"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        FakeDevInfra.calls.append(SimpleNamespace(path=self.path, headers=self.headers, form=parse_qs(body)))
        status, payload = FakeDevInfra.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def fake_service(tmp_path_factory):
    """The service pointed at FakeDevInfra, to count its calls and to script answers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDevInfra)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proc, client = start_service(tmp_path_factory.mktemp("fake"), "qa-tasks-fake",
                                 f"http://127.0.0.1:{server.server_address[1]}", make_key())
    yield client
    client.close()
    stop(proc)
    server.shutdown()


@pytest.fixture
def fake(fake_service):
    FakeDevInfra.calls.clear()
    FakeDevInfra.answer = (500, b'{"code":"internal"}')
    return fake_service


# --- against the real server ---

def test_valid_key_lists_the_team_tasks(service, keys):
    for headers in (bearer(keys.read.key), {"X-API-Key": keys.read.key}):
        listed = service.get("/tasks", headers=headers)
        assert listed.status_code == 200, listed.text
        assert listed.json()["team"] == "qa"
        assert [t["id"] for t in listed.json()["tasks"]][:2] == [1, 2]


def test_a_members_sign_in_token_works_too(service, keys):
    # A JWT has no team; introspection accepts it for a team its user belongs to.
    assert service.get("/tasks", headers=bearer(keys.alice_jwt)).status_code == 200
    # X-API-Key carries keys only (as on dev-infra itself), so a JWT there is a malformed key.
    assert_problem(service.get("/tasks", headers={"X-API-Key": keys.alice_jwt}), 401, "malformed_key")


def test_write_needs_projects_write(service, keys):
    created = service.post("/tasks", json={"title": "Smoke test the release"}, headers=bearer(keys.write.key))
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "alice"  # the principal reached the handler
    refused = service.post("/tasks", json={"title": "x"}, headers=bearer(keys.read.key))
    assert_problem(refused, 403, "insufficient_scope")


def test_revoked_key_is_refused_on_the_next_request(service, keys, dev_infra):
    assert service.get("/tasks", headers=bearer(keys.to_revoke.key)).status_code == 200
    revoked = httpx.delete(f"{dev_infra.url}/v1/keys/{keys.to_revoke.id}", headers=bearer(dev_infra.admin_key))
    assert revoked.status_code == 200, revoked.text
    refused = service.get("/tasks", headers=bearer(keys.to_revoke.key))
    assert_problem(refused, 401, "key_revoked")
    assert refused.headers["www-authenticate"] == \
        'Bearer realm="dev-infra", error="invalid_token", error_description="key_revoked"'


def test_mis_scoped_key_is_forbidden(service, keys):
    refused = service.get("/tasks", headers=bearer(keys.keys_only.key))
    assert_problem(refused, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


def test_key_of_another_team_is_forbidden(service, keys):
    refused = service.get("/tasks", headers=bearer(keys.web.key))
    assert_problem(refused, 403, "team_mismatch")
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


def test_no_credential_gets_the_bare_challenge(service):
    refused = service.get("/tasks")
    assert_problem(refused, 401, "missing_credentials")
    assert refused.headers["www-authenticate"] == 'Bearer realm="dev-infra"'


def test_unknown_key_and_malformed_key(service, keys):
    assert_problem(service.get("/tasks", headers=bearer(make_key())), 401, "unknown_key")
    refused = service.get("/tasks", headers={"X-API-Key": broken(keys.read.key)})
    assert_problem(refused, 401, "malformed_key")
    assert keys.read.key[18:50] not in refused.text  # the secret is never echoed


# --- against a fake dev-infra: what leaves the process, and how answers are mapped ---

def test_malformed_key_never_leaves_the_process(fake):
    bad = broken(make_key())
    for headers in (bearer(bad), {"X-API-Key": bad}, {"X-API-Key": "dinf_short"}, {"X-API-Key": "not-a-key"}):
        assert_problem(fake.get("/tasks", headers=headers), 401, "malformed_key")
    assert FakeDevInfra.calls == []


def test_introspection_request_and_5xx_fail_closed(fake):
    client_key = make_key()
    refused = fake.get("/tasks", headers=bearer(client_key))
    assert_problem(refused, 503, "server_unreachable")
    [call] = FakeDevInfra.calls  # one call per request: nothing cached, nothing retried
    assert call.path == "/v1/introspect"
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.headers["Authorization"].startswith("Bearer dinf_")
    assert call.form == {"token": [client_key], "scope": ["projects:read"], "team": ["qa"], "include_reason": ["true"]}


def test_rate_limited_reason_becomes_429(fake):
    FakeDevInfra.answer = (200, b'{"active":false,"reason":"rate_limited","retry_after":7}')
    refused = fake.get("/tasks", headers=bearer(make_key()))
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "7"


def test_unknown_reason_fails_closed(fake):
    FakeDevInfra.answer = (200, b'{"active":false,"reason":"something_new"}')
    assert_problem(fake.get("/tasks", headers=bearer(make_key())), 401, "invalid_token")


# --- last: dev-infra goes away ---

def test_dev_infra_down_is_503(service, keys, dev_infra):
    stop(dev_infra.proc)
    assert_problem(service.get("/tasks", headers=bearer(keys.read.key)), 503, "server_unreachable")
    # Still decided locally, with nobody to ask.
    assert_problem(service.get("/tasks", headers=bearer(broken(keys.read.key))), 401, "malformed_key")
