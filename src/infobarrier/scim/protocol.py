"""The SCIM 2.0 protocol (RFC 7643/7644) of one request (docs/scim.md).

:func:`answer` authenticates the bearer token (``admin`` or ``provisioner`` of that
tenant; another tenant's token: 404) and hands the request to ``scim2-server``'s
:class:`~scim2_server.handler.ScimHandler`, which runs the protocol over
:class:`~infobarrier.scim.storage.DirectoryStorage`. Every answer, errors included, is
``application/scim+json``; errors are SCIM ``Error`` bodies with ``status``, ``scimType``
and ``detail``.

``scim.routes`` imports this module on the first SCIM request, or on a thread once the
server is ready, whichever comes first: scim2-models and scim2-server take 0.7 s of CPU to
import, a quarter of a server's start.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
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

from infobarrier.core.errors import Busy
from infobarrier.http.auth import Area, actor, authorizer, services_of
from infobarrier.http.errors import ApiError
from infobarrier.scim import quirks
from infobarrier.scim.schemas import PROVIDER
from infobarrier.scim.storage import DirectoryStorage, ServiceUnavailable

log = logging.getLogger(__name__)

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

_authorize = authorizer(Area.SCIM)


def answer(
    request: Request,
    tenant: str,
    credentials: HTTPAuthorizationCredentials | None,
    base_url: str,
    path: str,
    body: bytes,
) -> tuple[int, dict[str, str], bytes]:
    """One SCIM request (in a worker thread): status, headers and body of the answer."""
    scim_request = ScimRequest(
        method=request.method.upper(),
        base_url=base_url,
        path=path,
        query=dict(request.query_params),
        headers=list(request.headers.items()),
        body=body,
    )
    done = _serve(request, tenant, credentials, scim_request)
    headers = dict(done.headers)
    headers.setdefault("Cache-Control", "no-cache")
    content = b"" if done.body is None else json.dumps(done.body).encode()
    return int(done.status), headers, content


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
