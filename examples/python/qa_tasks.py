"""QA tasks: a small team service whose API is protected by dev-infra token introspection.

    GET  /tasks   list the team's tasks       (scope projects:read)
    POST /tasks   create one {"title": "..."} (scope projects:write)

Configuration (environment):
    DEV_INFRA_URL                 dev-infra server, e.g. http://127.0.0.1:8080
    DEV_INFRA_INTROSPECTION_KEY   this service's own key, holding keys:introspect
    QA_TASKS_TEAM                 the team whose tasks these are, e.g. qa
    DEV_INFRA_TIMEOUT             seconds to wait for dev-infra (default 2)

Run: uvicorn qa_tasks:app --host 127.0.0.1 --port 8000
"""

import logging
import os
import zlib
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

log = logging.getLogger("qa_tasks")

# --- dev-infra key format: dinf_ + 12 base62 key id + _ + 32 base62 secret + 6 base62 checksum ---

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PREFIX = "dinf_"
KEY_LENGTH = 56


def _base62(value: int, width: int) -> str:
    digits = ""
    while value:
        value, digit = divmod(value, 62)
        digits = BASE62[digit] + digits
    return digits.rjust(width, "0")


def key_is_well_formed(key: str) -> bool:
    """The key's shape and CRC-32 checksum, checked locally: a mistyped or truncated key is
    refused without a network call (and never leaves the process)."""
    if len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX) or key[17] != "_":
        return False
    if not all(c in BASE62 for c in key[5:17] + key[18:]):
        return False
    return _base62(zlib.crc32(key[:50].encode("ascii")), 6) == key[50:]


# --- problems (RFC 9457) with the same reason codes dev-infra uses ---

TITLES = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable"}
DETAILS = {  # fixed texts: a detail must never echo the credential
    "missing_credentials": 'send a key as "Authorization: Bearer dinf_..." or "X-API-Key"',
    "malformed_key": "the key is not a well-formed dev-infra key (mistyped or truncated?)",
    "unknown_key": "no such key",
    "key_revoked": "the key was revoked",
    "key_expired": "the key has expired",
    "invalid_token": "the credential is not a valid key or token",
    "insufficient_scope": "the credential lacks the required scope",
    "team_mismatch": "the credential cannot act for this team",
    "rate_limited": "too many requests for this credential; retry later",
    "server_unreachable": "the authorization server is unavailable; retry later",
}
UNAUTHENTICATED = {"malformed_key", "unknown_key", "key_revoked", "key_expired", "invalid_token"}
FORBIDDEN = {"insufficient_scope", "team_mismatch"}


class Problem(Exception):
    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None):
        self.status, self.code, self.headers = status, code, headers or {}


def denial(code: str, scope: str, retry_after: int | None = None) -> Problem:
    """The problem for a reason code, with the RFC 6750 challenge dev-infra itself sends."""
    challenge = 'Bearer realm="dev-infra"'
    if code == "missing_credentials":  # no credential at all: bare challenge (RFC 6750 3.1)
        return Problem(401, code, {"WWW-Authenticate": challenge})
    if code in FORBIDDEN:
        return Problem(403, code, {"WWW-Authenticate": f'{challenge}, error="insufficient_scope", '
                                                       f'scope="{scope}", error_description="{code}"'})
    if code == "rate_limited":
        return Problem(429, code, {"Retry-After": str(retry_after or 1)})
    if code == "server_unreachable":
        return Problem(503, code, {"Retry-After": "1"})
    return Problem(401, code, {"WWW-Authenticate": f'{challenge}, error="invalid_token", error_description="{code}"'})


def problem_response(_request: Request, problem: Problem) -> JSONResponse:
    body = {"type": f"https://dev-infra.dev/problems/{problem.code}", "title": TITLES[problem.status],
            "status": problem.status, "detail": DETAILS[problem.code], "code": problem.code}
    headers = {"Cache-Control": "no-store", **problem.headers}
    return JSONResponse(body, status_code=problem.status, headers=headers, media_type="application/problem+json")


# --- the dependency: require(scope) -> Principal ---

@dataclass(frozen=True)
class Principal:
    username: str
    kind: str  # "key" or "jwt"
    key_id: str | None
    team: str | None
    scopes: tuple[str, ...]


def credential_of(request: Request) -> str:
    """The client's credential, read the way dev-infra reads it: Authorization first, then X-API-Key."""
    auth = request.headers.get("authorization")
    if auth is not None:
        if auth[:7].lower() != "bearer ":
            raise denial("invalid_token", "")
        credential = auth[7:].strip(" \t")
        if not credential:
            raise denial("invalid_token", "")
        # A JWT goes to introspection as is; only dinf_ keys have a checksum to check.
        if credential.startswith(KEY_PREFIX) and not key_is_well_formed(credential):
            raise denial("malformed_key", "")
        return credential
    key = request.headers.get("x-api-key")
    if key is None:
        raise denial("missing_credentials", "")
    key = key.strip(" \t")
    if not key_is_well_formed(key):  # X-API-Key carries keys only, never a JWT
        raise denial("malformed_key", "")
    return key


def require(scope: str):
    """A FastAPI dependency: the request's principal if its credential holds `scope` for this
    service's team, else a problem+json denial. Every request is introspected: no cache, so a
    revoked key is refused on its very next request."""

    async def dependency(request: Request) -> Principal:
        credential = credential_of(request)
        settings = request.app.state.settings
        try:
            answer = await request.app.state.http.post(
                "/v1/introspect",
                data={"token": credential, "scope": scope, "team": settings["team"], "include_reason": "true"},
                headers={"Authorization": f"Bearer {settings['key']}"},
            )
        except httpx.HTTPError as error:  # refused, timed out, reset: fail closed
            log.warning("introspection failed: %s", type(error).__name__)
            raise denial("server_unreachable", scope)
        if answer.status_code != 200:
            # 5xx, or dev-infra refusing this service's own key (revoked, lacks keys:introspect):
            # not the client's fault, and no answer about its credential, so fail closed.
            log.warning("introspection answered %s %s", answer.status_code, _code_of(answer))
            raise denial("server_unreachable", scope)
        try:
            info = answer.json()
        except ValueError:
            info = None
        if not isinstance(info, dict):
            log.warning("introspection answered a body that is not a JSON object")
            raise denial("server_unreachable", scope)
        if info.get("active") is not True:
            reason = info.get("reason")
            if reason not in UNAUTHENTICATED | FORBIDDEN | {"rate_limited"}:
                reason = "invalid_token"  # absent or unknown to this version: refuse all the same
            retry_after = info.get("retry_after")
            raise denial(reason, scope, retry_after if isinstance(retry_after, int) else None)
        return Principal(username=info.get("username", ""), kind=info.get("kind", ""), key_id=info.get("key_id"),
                         team=info.get("team"), scopes=tuple(info.get("scope", "").split()))

    return dependency


def _code_of(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


# --- the service ---

class NewTask(BaseModel):
    title: str = Field(min_length=1, max_length=200)


def create_app() -> FastAPI:
    key = os.environ.get("DEV_INFRA_INTROSPECTION_KEY", "").strip()
    team = os.environ.get("QA_TASKS_TEAM", "").strip()
    if not key_is_well_formed(key):  # fail at start, not on the first request (and never print it)
        raise SystemExit("DEV_INFRA_INTROSPECTION_KEY is missing or not a well-formed dev-infra key")
    if not team:
        raise SystemExit("QA_TASKS_TEAM is missing")
    settings = {"url": os.environ.get("DEV_INFRA_URL", "http://127.0.0.1:8080").rstrip("/"), "key": key, "team": team}
    timeout = float(os.environ.get("DEV_INFRA_TIMEOUT", "2"))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # One pooled client for every introspection; a short timeout so a stalled dev-infra
        # turns into a quick 503 rather than piling up requests.
        async with httpx.AsyncClient(base_url=settings["url"], timeout=timeout) as http:
            app.state.http = http
            yield

    app = FastAPI(title="QA tasks", lifespan=lifespan)
    app.state.settings = settings
    app.state.tasks = [{"id": 1, "title": "Regression run for the login page", "created_by": "seed"},
                       {"id": 2, "title": "Check the export on Safari", "created_by": "seed"}]
    app.add_exception_handler(Problem, problem_response)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/tasks")
    async def list_tasks(principal: Annotated[Principal, Depends(require("projects:read"))]):
        return {"team": team, "tasks": app.state.tasks}

    @app.post("/tasks", status_code=201)
    async def create_task(task: NewTask, principal: Annotated[Principal, Depends(require("projects:write"))]):
        created = {"id": len(app.state.tasks) + 1, "title": task.title, "created_by": principal.username}
        app.state.tasks.append(created)
        return created

    return app


app = create_app()
