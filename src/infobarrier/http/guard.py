"""The gate every request passes before the app reads its body (docs/security.md).

An ASGI middleware, so that it runs before FastAPI parses anything:

1. A request with a body (``POST``, ``PUT``, ``PATCH``, ``DELETE``) to the API
   (``/v1/...``) or SCIM (``/scim/v2/...``) must carry a valid bearer token: without
   one it is answered 401 *before its body is read*, so an anonymous caller cannot make
   the server read, buffer or parse anything (malformed JSON without a token is a 401,
   not a 422). Which tenant and role the token may act for is still the routes' check.
2. Every body is capped per route (:data:`BODY_LIMITS`): a ``Content-Length`` over the
   cap is answered 413 at once, and a body sent without one (chunked) is counted as it
   arrives and refused with 413 the moment it passes the cap. The 413 names the limit.
3. NUL is refused (400) in the path, the query and JSON strings (``\u0000``) of API and
   SCIM requests: no database stores it, and PostgreSQL refuses it with an error.

Answers use the JSON error shape of the API (``{"code", "message"}``) or, under
``/scim/v2``, a SCIM ``Error`` body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from infobarrier.core.codes import ErrorCode
from infobarrier.http.errors import STATUS
from infobarrier.service.tokens import Principal, Role

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MIB = 1024 * 1024

#: Largest body per route, by the last path segment of the route (a tenant's
#: ``/decisions``...), else the default. Each is documented in docs/security.md; these are
#: the defaults of the settings ``body_limit_*`` (docs/settings.md).
BODY_LIMITS: dict[str, int] = {
    "decisions": 16 * MIB,  # up to 100,000 checks
    "groups": 8 * MIB,  # a group's members, up to 100,000 UPNs
    "scim": 4 * MIB,  # one SCIM resource or PATCH (a large group's members)
    "events": 64 * 1024,  # one enforcement event for the audit log (detail at most 16 KiB)
    "imports": 256 * MIB,  # a users CSV or a PowerShell script from the page (1M users fit)
    "default": 1 * MIB,
}

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SCIM_PREFIX = "/scim/v2/"
_API_PREFIX = "/v1/"
#: The routes that take a whole file as their body (the admin page's imports).
_IMPORTS = ("/directory/users.csv", "/directory/groups.csv", "/powershell")
_SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def body_limit(
    path: str, limits: Mapping[str, int] = BODY_LIMITS, role: Role | None = Role.ADMIN
) -> int:
    """The largest body a request to ``path`` may send, by a token of ``role``."""
    if path.startswith(_SCIM_PREFIX):
        return limits["scim"]
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if last in ("decisions", "evaluations"):  # AuthZEN evaluations: as many items
        return limits["decisions"]
    if path.startswith(_API_PREFIX) and path.rstrip("/").endswith(_IMPORTS):
        # A whole file uploaded from the admin page: what `users import` reads from disk.
        # Only an admin may import, so only an admin's token may make the server hold
        # that much; any other is refused by the route, after at most the default cap.
        if role is Role.ADMIN:
            return limits.get("imports", BODY_LIMITS["imports"])
        return limits["default"]
    if path.startswith(_API_PREFIX) and path.rstrip("/").endswith("/audit/events"):
        # One enforcement event (detail at most 16 KiB): a fixed cap, not a setting.
        return limits.get("events", BODY_LIMITS["events"])
    if path.startswith(_API_PREFIX) and "/groups" in path:
        return limits["groups"]
    return limits["default"]


class RequestGuard:
    """Authenticate, then cap the body, before the wrapped app sees the request."""

    def __init__(
        self,
        app: ASGIApp,
        verify: Callable[[str], Principal | None],
        limits: Callable[[], Mapping[str, int]] = lambda: BODY_LIMITS,
        trusted: Callable[[str], Principal | None] = lambda _token: None,
    ) -> None:
        self.app = app
        self.verify = verify
        self.limits = limits
        #: A token verified moments ago, without I/O: checked on the event loop, sparing
        #: the thread pool hand-off ``verify`` (a query) needs.
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        scim = path.startswith(_SCIM_PREFIX)
        guarded = scim or path.startswith(_API_PREFIX)
        if guarded and ("\x00" in path or b"%00" in scope.get("query_string", b"")):
            await _refuse(send, scim, ErrorCode.INVALID_INPUT, _NUL)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        if guarded:
            token = _bearer(scope)
            if not token:
                await _refuse(send, scim, ErrorCode.UNAUTHENTICATED, "a bearer token is required")
                return
            principal = self.trusted(token)
            if principal is None:
                principal = await run_in_threadpool(self.verify, token)
            if principal is None:
                await _refuse(
                    send, scim, ErrorCode.INVALID_TOKEN, "the bearer token is unknown or revoked"
                )
                return
            # The role counts in its own tenant only (another tenant's admin is refused).
            mine = path.startswith(f"{_API_PREFIX}tenants/{principal.tenant}/")
            role: Role | None = principal.role if mine else None
        else:
            role = None
        limit = body_limit(path, self.limits(), role)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, scim, ErrorCode.TOO_LARGE, _too_large(declared, limit))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _refuse(send, scim, ErrorCode.TOO_LARGE, _too_large(None, limit))
                return
            if not message.get("more_body", False):
                break
        if guarded and has_json_nul(body):
            await _refuse(send, scim, ErrorCode.INVALID_INPUT, _NUL)
            return
        await self.app(scope, _replay(bytes(body), receive), send)


_NUL = "NUL characters (U+0000) are not accepted in paths, queries or request bodies"


def has_json_nul(body: bytes | bytearray) -> bool:
    """Whether a JSON text holds NUL: the escape ``\\u0000`` (a raw NUL is not JSON)
    after an even number of backslashes, or a raw NUL byte."""
    if b"\x00" in body:
        return True
    start = body.find(b"\\u0000")
    while start >= 0:
        before = start
        while before > 0 and body[before - 1] == 0x5C:  # backslash
            before -= 1
        if (start - before) % 2 == 0:  # this backslash is not itself escaped
            return True
        start = body.find(b"\\u0000", start + 1)
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then passes through."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _bearer(scope: Scope) -> str:
    value = _header(scope, b"authorization")
    if value is None:
        return ""
    scheme, _, credentials = value.decode("latin-1").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _too_large(declared: int | None, limit: int) -> str:
    size = f"{declared} bytes" if declared is not None else "more than that"
    return f"the request body is too large ({size}): at most {limit} bytes on this route"


async def _refuse(send: Send, scim: bool, code: ErrorCode, message: str) -> None:
    status = STATUS[code]  # the one table of statuses (http.errors)
    if scim:
        body: dict[str, Any] = {"schemas": [_SCIM_ERROR], "status": str(status), "detail": message}
        media = b"application/scim+json"
    else:
        body = {"code": code.value, "message": message}
        media = b"application/json"
    content = json.dumps(body).encode()
    headers = [(b"content-type", media), (b"content-length", str(len(content)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
