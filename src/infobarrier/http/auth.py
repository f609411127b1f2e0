"""Bearer-token authentication and role checks (docs/interfaces.md, "Tokens and roles").

No token: 401. A token of another tenant: 404, as if the tenant did not exist. A role
that may not use the route: 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from infobarrier.core.codes import ErrorCode
from infobarrier.http.errors import ApiError
from infobarrier.service.tokens import Principal, Role
from infobarrier.service.wiring import Services

bearer = HTTPBearer(auto_error=False, description="A token from `infobarrier tokens create`")


class Area(StrEnum):
    """What a route belongs to, for the role rules."""

    ADMIN = "admin"  # directory, licenses, barriers, applications, audit
    ENFORCE = "enforce"  # decisions, relationship, search, collaboration objects, events
    SCIM = "scim"  # provisioning
    EXCEPTIONS = "exceptions"  # wall-crossing exceptions (semantics §11)


_WRITERS: dict[Area, frozenset[Role]] = {
    Area.ADMIN: frozenset({Role.ADMIN}),
    Area.ENFORCE: frozenset({Role.ADMIN, Role.ENFORCER}),
    Area.SCIM: frozenset({Role.ADMIN, Role.PROVISIONER}),
    Area.EXCEPTIONS: frozenset({Role.ADMIN, Role.COMPLIANCE}),
}

#: Roles that read every route of their tenant (but SCIM's).
_READERS = frozenset({Role.AUDITOR, Role.COMPLIANCE})


def allowed(role: Role, area: Area, method: str) -> bool:
    """The role rules: admin everything, auditor every GET, enforcer its area, provisioner
    SCIM, compliance every GET and the exceptions (never segments or policies)."""
    if method in ("GET", "HEAD") and role in _READERS and area is not Area.SCIM:
        return True
    if method in ("GET", "HEAD") and role is Role.ENFORCER and area is Area.ENFORCE:
        return True
    return role in _WRITERS[area]


def services_of(request: Request) -> Services:
    """The services wired into the app."""
    services: Services = request.app.state.services
    return services


def _admit(principal: Principal | None, tenant: str, area: Area, method: str) -> Principal:
    """The role rules for a verified (or refused: ``None``) token."""
    if principal is None:
        raise ApiError(ErrorCode.INVALID_TOKEN, "the bearer token is unknown or revoked")
    if principal.tenant != tenant:
        raise ApiError(ErrorCode.NOT_FOUND, f"no tenant {tenant!r}")
    if not allowed(principal.role, area, method):
        raise ApiError(
            ErrorCode.FORBIDDEN,
            f"a {principal.role.value} token may not {method} this resource",
        )
    return principal


def authorizer(area: Area) -> Callable[..., Principal]:
    """:func:`require`'s check as a plain function, for code already in a worker thread
    (SCIM)."""

    def check(
        request: Request, tenant: str, credentials: HTTPAuthorizationCredentials | None
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise ApiError(ErrorCode.UNAUTHENTICATED, "a bearer token is required")
        principal = services_of(request).tokens.verify(credentials.credentials)
        return _admit(principal, tenant, area, request.method)

    return check


def require(area: Area) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and checks the role for ``area``.

    A token verified moments ago is admitted on the event loop; otherwise its query runs
    in the thread pool (a plain dependency would be handed to a thread every time).
    """

    async def dependency(
        request: Request,
        tenant: str,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise ApiError(ErrorCode.UNAUTHENTICATED, "a bearer token is required")
        tokens = services_of(request).tokens
        principal = tokens.trusted(credentials.credentials)
        if principal is None:
            principal = await run_in_threadpool(tokens.verify, credentials.credentials)
        return _admit(principal, tenant, area, request.method)

    return dependency


def actor(principal: Principal) -> str:
    """The audit actor for an API call: the token's id."""
    return f"token:{principal.token_id}"
