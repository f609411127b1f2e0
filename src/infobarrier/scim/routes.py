"""SCIM 2.0 (RFC 7643/7644) at ``/scim/v2/{tenant}/`` (docs/scim.md).

One FastAPI route takes every SCIM request of a tenant and runs it in a worker thread
through :mod:`infobarrier.scim.protocol`. That module (and with it scim2-models and
scim2-server, 0.7 s of CPU to import) is imported on the first SCIM request, or by
:func:`preload` on a thread once the server is ready, so a server answers decisions that
much sooner after it starts (docs/decisions.md, "serve starts").
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from infobarrier.http.auth import bearer

if TYPE_CHECKING:
    from types import ModuleType

#: Where the SCIM service of a tenant lives.
PREFIX = "/scim/v2"

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

router = APIRouter(tags=["scim"])


def _protocol() -> ModuleType:
    """:mod:`infobarrier.scim.protocol` (imported once; Python's import lock makes a
    request that arrives during :func:`preload` wait for it)."""
    return importlib.import_module("infobarrier.scim.protocol")


def preload() -> threading.Thread:
    """Import the SCIM protocol on a daemon thread (a server calls it once it is ready)."""
    thread = threading.Thread(target=_protocol, name="scim-preload", daemon=True)
    thread.start()
    return thread


@router.api_route(f"{PREFIX}/{{tenant}}", methods=_METHODS, include_in_schema=False)
@router.api_route(f"{PREFIX}/{{tenant}}/{{path:path}}", methods=_METHODS, include_in_schema=False)
async def scim(
    request: Request,
    tenant: str,
    path: str = "",
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Response:
    """Every SCIM 2.0 request of a tenant (``/Users``, ``/Groups``, discovery)."""
    body = await request.body()
    status, headers, content = await run_in_threadpool(
        _protocol().answer,
        request,
        tenant,
        credentials,
        f"{str(request.base_url).rstrip('/')}{PREFIX}/{tenant}",
        "/" + path.strip("/").removesuffix(".scim"),
        body,
    )
    return Response(content=content, status_code=status, headers=headers)
