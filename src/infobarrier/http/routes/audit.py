"""The audit log (semantics §9): read and verify; enforcers append their enforcement events
(``core.enforcement``); there is no way to edit it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request

from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.errors import ERRORS
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["audit"])
admin = require(Area.ADMIN)
enforce = require(Area.ENFORCE)


@router.get("/audit", response_model=list[schemas.AuditEntryOut])
def audit(
    tenant: str,
    request: Request,
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    actor_: str | None = Query(None, alias="actor", max_length=128),
    kind: list[str] = Query([], description="Entry kinds (repeatable)"),
    _p: Principal = Depends(admin),
) -> list[schemas.AuditEntryOut]:
    """Entries in order, filtered by time, actor and kind."""
    entries = services_of(request).audit.entries(
        tenant, since=since, until=until, actor=actor_, kinds=kind
    )
    return [schemas.AuditEntryOut(**e.as_dict()) for e in entries]


@router.get("/audit/verify", response_model=schemas.AuditVerifyOut)
def verify(tenant: str, request: Request, _p: Principal = Depends(admin)) -> schemas.AuditVerifyOut:
    """Recompute the hash chain and name the first broken entry."""
    count, broken = services_of(request).audit.verify(tenant)
    return schemas.AuditVerifyOut(
        intact=broken is None,
        entries=count,
        first_broken=broken[0] if broken else None,
        reason=broken[1] if broken else None,
    )


@router.post("/audit/events", response_model=schemas.AuditEntryOut, status_code=201)
def record_event(
    tenant: str, request: Request, body: schemas.AuditEventIn, p: Principal = Depends(enforce)
) -> schemas.AuditEntryOut:
    """Record an enforcement event (an enforcer or admin token): only kinds under
    ``synapse.`` or ``enforcement.``; the actor is the token's person, else the token."""
    entry = services_of(request).audit.record(
        tenant, p.person or actor(p), body.kind, body.detail, via=actor(p)
    )
    return schemas.AuditEntryOut(**entry.as_dict())
