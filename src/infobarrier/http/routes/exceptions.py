"""Wall-crossing exceptions (semantics §11) under the tenant.

Requests, approvals, rejections and revocations are for ``admin`` and ``compliance``
tokens, every GET also for ``auditor``. Four eyes need names: a token that changes an
exception must name its person (``tokens create --for NAME``); the audit log records
the person and the token.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request

from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import InvalidInput
from infobarrier.core.exceptions import State, WallException, parse_time
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.errors import ERRORS, ApiError
from infobarrier.http.exception_schemas import (
    ExceptionNoteIn,
    ExceptionOut,
    ExceptionRequestIn,
    ExceptionSettingsIn,
    ExceptionSettingsOut,
    ExceptionWhatIfOut,
    RevokedOut,
)
from infobarrier.service.exceptions import describe
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import Services

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["exceptions"])
decide = require(Area.EXCEPTIONS)
settings = require(Area.ADMIN)


def _person(p: Principal) -> str:
    if not p.person:
        raise ApiError(
            ErrorCode.PERSON_REQUIRED,
            "this token names no person: exceptions need to know who acts (four eyes); "
            "create one with `infobarrier tokens create ... --for NAME`",
        )
    return p.person


def _out(services: Services, exc: WallException) -> ExceptionOut:
    return ExceptionOut.model_validate(describe(exc, services.exceptions.now()))


@router.get("/exceptions", response_model=list[ExceptionOut])
def list_exceptions(
    tenant: str,
    request: Request,
    state: State | None = Query(None, description="Only exceptions in this state"),
    _p: Principal = Depends(decide),
) -> list[ExceptionOut]:
    """The tenant's exceptions, oldest request first."""
    services = services_of(request)
    found = services.exceptions.list(tenant, [state] if state is not None else None)
    return [_out(services, e) for e in found]


@router.post("/exceptions", response_model=ExceptionOut, status_code=201)
def request_exception(
    tenant: str, request: Request, body: ExceptionRequestIn, p: Principal = Depends(decide)
) -> ExceptionOut:
    """Request an exception (it opens nothing until another person approves it)."""
    person = _person(p)
    if (body.users is None) == (body.segments is None):
        raise InvalidInput("give either 'users' (two UPNs) or 'segments' (two segment names)")
    services = services_of(request)
    exc = services.exceptions.request(
        tenant,
        users=body.users,
        segments=body.segments,
        actions=body.actions,
        start=parse_time(body.start, "start") if body.start else None,
        end=parse_time(body.end, "end"),
        why=body.why,
        actor=person,
        via=actor(p),
    )
    return _out(services, exc)


@router.get("/exceptions/{exception_id}", response_model=ExceptionOut)
def get_exception(
    tenant: str, exception_id: str, request: Request, _p: Principal = Depends(decide)
) -> ExceptionOut:
    """One exception."""
    services = services_of(request)
    return _out(services, services.exceptions.get(tenant, exception_id))


@router.get("/exceptions/{exception_id}/what-if", response_model=ExceptionWhatIfOut)
def what_if(
    tenant: str, exception_id: str, request: Request, _p: Principal = Depends(decide)
) -> ExceptionWhatIfOut:
    """What approving a requested exception would change (pairs that flip, conversations
    that hold them), or what revoking an approved one would reconcile."""
    report = services_of(request).exceptions.what_if(tenant, exception_id)
    return ExceptionWhatIfOut.model_validate(report)


@router.post("/exceptions/{exception_id}/approve", response_model=ExceptionOut)
def approve(
    tenant: str, exception_id: str, request: Request, p: Principal = Depends(decide)
) -> ExceptionOut:
    """Approve a request: never by the person who requested it (403 ``four_eyes``)."""
    person = _person(p)
    services = services_of(request)
    return _out(services, services.exceptions.approve(tenant, exception_id, person, actor(p)))


@router.post("/exceptions/{exception_id}/reject", response_model=ExceptionOut)
def reject(
    tenant: str,
    exception_id: str,
    request: Request,
    body: ExceptionNoteIn,
    p: Principal = Depends(decide),
) -> ExceptionOut:
    """Reject a request."""
    person = _person(p)
    services = services_of(request)
    note = body.note
    exc = services.exceptions.reject(tenant, exception_id, person, note, actor(p))
    return _out(services, exc)


@router.post("/exceptions/{exception_id}/revoke", response_model=RevokedOut)
def revoke(
    tenant: str,
    exception_id: str,
    request: Request,
    body: ExceptionNoteIn,
    p: Principal = Depends(decide),
) -> RevokedOut:
    """Revoke an approved exception: closed at once, conversations reconciled (§8)."""
    person = _person(p)
    services = services_of(request)
    note = body.note
    exc, actions = services.exceptions.revoke(tenant, exception_id, person, note, actor(p))
    return RevokedOut(exception=_out(services, exc), reconciliation=actions)


@router.get("/exception-settings", response_model=ExceptionSettingsOut)
def get_settings(
    tenant: str, request: Request, _p: Principal = Depends(settings)
) -> ExceptionSettingsOut:
    """The tenant's maximum window (default 30 days)."""
    window = services_of(request).exceptions.max_window(tenant)
    return ExceptionSettingsOut(max_window_days=window.total_seconds() / 86400)


@router.put("/exception-settings", response_model=ExceptionSettingsOut)
def put_settings(
    tenant: str, request: Request, body: ExceptionSettingsIn, p: Principal = Depends(settings)
) -> ExceptionSettingsOut:
    """Set the tenant's maximum window (admin only)."""
    window = services_of(request).exceptions.set_max_window(
        tenant, timedelta(days=body.max_window_days), actor(p)
    )
    return ExceptionSettingsOut(max_window_days=window.total_seconds() / 86400)
