"""Decisions, relationship and search (semantics §6, §7): the enforcer's routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from infobarrier.http import schemas
from infobarrier.http.auth import Area, require, services_of
from infobarrier.http.convert import result_out, verdict_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.decisions import CheckRequest
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["decisions"])
enforce = require(Area.ENFORCE)


@router.post("/decisions", response_model=schemas.DecisionsOut)
def decisions(
    tenant: str, body: schemas.Decisions, request: Request, _p: Principal = Depends(enforce)
) -> schemas.DecisionsOut:
    """Answer checks in order against one epoch; an unknown user is an error item in place."""
    requests = [CheckRequest(c.action, c.sender, c.to) for c in body.checks]
    results = services_of(request).decisions.check_batch(tenant, list(requests))
    return schemas.DecisionsOut(results=[result_out(r) for r in results])


@router.get("/relationship", response_model=schemas.VerdictOut)
def relationship(
    tenant: str,
    request: Request,
    a: str = Query(..., min_length=1, description="UPN"),
    b: str = Query(..., min_length=1, description="UPN"),
    _p: Principal = Depends(enforce),
) -> schemas.VerdictOut:
    """Are two users compatible (§6), and why."""
    return verdict_out(services_of(request).decisions.relationship(tenant, a, b))


@router.get("/search", response_model=schemas.SearchOut)
def search(
    tenant: str,
    request: Request,
    q: str = Query(..., min_length=1, max_length=256, description="Prefix of a word"),
    as_upn: str = Query(..., alias="as", min_length=1, description="UPN of the searcher"),
    limit: int = Query(25, ge=1, le=1000),
    _p: Principal = Depends(enforce),
) -> schemas.SearchOut:
    """The directory search of user ``as``: blocked users simply do not appear."""
    users = services_of(request).decisions.search(tenant, q, as_upn, limit)
    return schemas.SearchOut(
        results=[
            schemas.SearchHit(upn=u.upn, display_name=u.display_name, mail=u.mail) for u in users
        ]
    )
