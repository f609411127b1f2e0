"""SCIM 2.0 (RFC 7643/7644) at ``/scim/v2/{tenant}/`` (docs/scim.md).

One FastAPI route takes every SCIM request of a tenant, authenticates its bearer token
(``admin`` or ``provisioner`` of that tenant; another tenant's token: 404), and hands it
to ``scim2-server``'s :class:`~scim2_server.handler.ScimHandler`, which runs the protocol
over :class:`~infobarrier.scim.storage.DirectoryStorage`. Every answer, errors included,
is ``application/scim+json``; errors are SCIM ``Error`` bodies with ``status``,
``scimType`` and ``detail``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from scim2_models import (
    Context,
    ForbiddenException,
    InvalidSyntaxException,
    NotFoundException,
    PatchOp,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    UnauthorizedException,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from starlette.concurrency import run_in_threadpool

from infobarrier.core.errors import Busy
from infobarrier.http.auth import Area, actor, authorizer, bearer, services_of
from infobarrier.http.errors import ApiError
from infobarrier.scim import quirks
from infobarrier.scim.schemas import PROVIDER
from infobarrier.scim.storage import DirectoryStorage, ServiceUnavailable

log = logging.getLogger(__name__)

#: Where the SCIM service of a tenant lives.
PREFIX = "/scim/v2"

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AUTH_ERRORS: dict[int, type[SCIMException]] = {
    401: UnauthorizedException,
    403: ForbiddenException,
    404: NotFoundException,
}


class InfobarrierScimService(ScimService):
    """``scim2-server``'s protocol, with Entra ID's ``manager`` read and PATCH answering 200.

    Request bodies go through :mod:`infobarrier.scim.quirks` first. RFC 7644 §3.5.2 allows
    a PATCH to answer 200 with the resource or 204; Okta reads the user back from the
    answer, so infobarrier always sends it.
    """

    def read_creation(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> Resource[Any]:
        return super().read_creation(resource_type, quirks.resource_body(body), content_type)

    def read_replacement(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> Resource[Any]:
        return super().read_replacement(resource_type, quirks.resource_body(body), content_type)

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> PatchOp[Any]:
        return super().read_patch(resource_type, quirks.patch_body(body), content_type)

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        return self.resource_response(
            self.publish(base_url, resource),
            Context.RESOURCE_REPLACEMENT_RESPONSE,
            response_parameters,
        )


SERVICE = InfobarrierScimService(PROVIDER)

router = APIRouter(tags=["scim"])
_authorize = authorizer(Area.SCIM)


def _response(answer: ScimResponse) -> Response:
    headers = dict(answer.headers)
    headers.setdefault("Cache-Control", "no-cache")
    content = b"" if answer.body is None else json.dumps(answer.body).encode()
    return Response(content=content, status_code=int(answer.status), headers=headers)


def _serve(
    request: Request,
    tenant: str,
    credentials: HTTPAuthorizationCredentials | None,
    scim_request: ScimRequest,
) -> ScimResponse:
    """Authenticate, then run the SCIM protocol over the tenant's directory (in a worker thread)."""
    try:
        principal = _authorize(request, tenant, credentials)
    except ApiError as exc:
        return SERVICE.error_response(
            _AUTH_ERRORS.get(exc.status, ForbiddenException)(detail=exc.message)
        )
    # Before anything parses the body into models (off the event loop: a body may be MiBs).
    refusal = quirks.too_deep(scim_request.body or b"")
    if refusal is not None:
        return SERVICE.error_response(InvalidSyntaxException(detail=refusal))
    write = scim_request.method in _WRITES and not scim_request.path.endswith("/.search")
    storage = DirectoryStorage(
        services_of(request).provisioning, tenant, actor(principal), write=write
    )
    scim_request.subject = principal
    try:
        return ScimHandler(SERVICE, storage).handle(scim_request)
    except Exception as exc:
        if not isinstance(exc, SCIMException):
            log.exception("SCIM %s %s failed", scim_request.method, scim_request.url)
        answer = SERVICE.error_response(exc)
        busy = exc.__cause__
        if isinstance(exc, ServiceUnavailable) and isinstance(busy, Busy):
            answer.headers["Retry-After"] = str(busy.retry_after)
        return answer


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
    scim_request = ScimRequest(
        method=request.method.upper(),
        base_url=f"{str(request.base_url).rstrip('/')}{PREFIX}/{tenant}",
        path="/" + path.strip("/").removesuffix(".scim"),
        query=dict(request.query_params),
        headers=list(request.headers.items()),
        body=body,
    )
    answer = await run_in_threadpool(_serve, request, tenant, credentials, scim_request)
    return _response(answer)
