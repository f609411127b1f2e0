"""Decisions, relationship and search (semantics §6, §7): the enforcer's routes."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from infobarrier.http import schemas
from infobarrier.http.auth import Area, require, services_of
from infobarrier.http.convert import verdict_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.decisions import CheckRequest
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["decisions"])
enforce = require(Area.ENFORCE)


_DECISIONS = TypeAdapter(schemas.DecisionsBody)


@router.post(
    "/decisions",
    response_model=schemas.DecisionsOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decisions"}}},
        }
    },
)
async def decisions(tenant: str, request: Request, _p: Principal = Depends(enforce)) -> Response:
    """Answer checks in order against one epoch; an unknown user is an error item in place.

    The hot path: the body is validated as a whole (422 if malformed) by a typed-dict
    adapter straight from JSON, and the answers are written as JSON without building a
    model per item.
    """
    try:
        body = _DECISIONS.validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    checks = [CheckRequest(c["action"], c["from"], c["to"]) for c in body["checks"]]
    services = services_of(request)
    results = await run_in_threadpool(services.decisions.answer_batch, tenant, checks)
    return Response(
        json.dumps({"results": results}, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
    )


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
