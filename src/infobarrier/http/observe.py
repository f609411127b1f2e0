"""Per request: the ``X-Request-ID`` echoed, one log line, latency and status counted.

A plain ASGI middleware (no per-request objects beyond a closure): the request id the
caller sent is echoed (the AuthZEN specification requires it), or one is made up; the
route is the matched template (``/v1/tenants/{tenant}/decisions``), never the raw path,
so metric labels stay few; the tenant is the path's, or the bearer token's for routes
at the root (the AuthZEN routes set ``request.state.tenant``).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infobarrier.http.metrics import Metrics

log = logging.getLogger("infobarrier.access")

#: A request id longer than this is replaced (it is echoed and logged).
MAX_REQUEST_ID = 256
_HEADER = b"x-request-id"


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == _HEADER:
            if 0 < len(value) <= MAX_REQUEST_ID:
                return bytes(value)
            break
    return uuid.uuid4().hex.encode()


class Observe:
    """The middleware; ``metrics`` may be ``None`` (nothing counted)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, echo its id, then count and log it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((_HEADER, request_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._done(scope, status, time.perf_counter() - started, request_id)

    def _done(self, scope: Scope, status: int, seconds: float, request_id: bytes) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        method = str(scope.get("method", ""))
        if self.metrics is not None:
            self.metrics.observe(template, method, status, seconds)
        if log.isEnabledFor(logging.INFO):
            params = scope.get("path_params") or {}
            state = scope.get("state") or {}
            tenant = params.get("tenant") or state.get("tenant")
            log.info(
                "%s %s %d",
                method,
                scope.get("path", ""),
                status,
                extra={
                    "tenant": tenant,
                    "method": method,
                    "route": template,
                    "path": scope.get("path", ""),
                    "status": status,
                    "latency_ms": round(seconds * 1000, 3),
                    "request_id": request_id.decode("latin-1"),
                },
            )
