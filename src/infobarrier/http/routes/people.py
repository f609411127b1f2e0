"""A person's page, a segment's members, explain for several recipients (semantics §12).

Thin adapters over ``service/people.py``, with the admin area's role rules (admins
everything, auditors every GET; ``POST /explain`` changes nothing but takes a body,
so it is an admin's).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from infobarrier.core.contract import MAX_ACTION
from infobarrier.http import schemas
from infobarrier.http.auth import Area, require, services_of
from infobarrier.http.errors import ERRORS
from infobarrier.service.people import MAX_EXPLAIN
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["people"])
admin = require(Area.ADMIN)


class PersonOut(BaseModel):
    """A user as the barrier sees them."""

    upn: str
    display_name: str
    kind: str
    account_enabled: bool
    user_type: str
    company: str
    sponsor: str | None
    mail: str
    proxy_addresses: list[str]
    attributes: dict[str, str]
    groups: list[str]
    segments: list[dict[str, Any]] = Field(
        description="Each segment with its filter, the comparisons that hold for the user "
        "(causes; for MemberOf, the groups) and its applied policy"
    )
    errors: list[str]
    fixes: list[str]
    epoch: int
    mode: str
    reach: dict[str, int] = Field(
        description="Rows of the reach table, users reachable and not (exceptions aside)"
    )


class ReachOut(BaseModel):
    """One page of whom a person can and cannot reach, per set of segments."""

    total: int
    offset: int
    rows: list[dict[str, Any]]


class MembersOut(BaseModel):
    """One page of a segment's users."""

    segment: str
    filter: str
    applied: bool = Field(description="Listed from the epoch in force (else the definition)")
    total: int
    offset: int
    members: list[dict[str, Any]]


class ExplainIn(schemas.Request):
    """One check with one or several recipients."""

    action: str = Field(min_length=1, max_length=MAX_ACTION)
    sender: schemas.Upn = Field(alias="from")
    to: list[schemas.Upn] = Field(min_length=1, max_length=MAX_EXPLAIN)


class ExplainManyOut(BaseModel):
    """The verdict, each recipient's pair with the sender, each user's segments and their
    causes, and suggested fixes."""

    action: str
    verdict: dict[str, Any]
    fixes: list[str]
    pairs: list[dict[str, Any]]
    users: list[dict[str, Any]]
    epoch: int


@router.get("/people/{upn}", response_model=PersonOut)
def person(tenant: str, upn: str, request: Request, _p: Principal = Depends(admin)) -> PersonOut:
    """A person's attributes, groups, segments (and what put them there), policies,
    errors with suggested fixes, and how many users they reach."""
    return PersonOut.model_validate(services_of(request).people.person(tenant, upn))


@router.get("/people/{upn}/reach", response_model=ReachOut)
def reach(
    tenant: str,
    upn: str,
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
    _p: Principal = Depends(admin),
) -> ReachOut:
    """Whom the person can and cannot reach, by set of segments, blocked first, with the
    reason and the deciding policy (§6); a page of rows."""
    return ReachOut.model_validate(services_of(request).people.reach(tenant, upn, offset, limit))


@router.get("/segments/{name}/members", response_model=MembersOut)
def members(
    tenant: str,
    name: str,
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
    _p: Principal = Depends(admin),
) -> MembersOut:
    """A segment's users, a page at a time."""
    return MembersOut.model_validate(
        services_of(request).people.members(tenant, name, offset, limit)
    )


@router.post("/explain", response_model=ExplainManyOut)
def explain_many(
    tenant: str, body: ExplainIn, request: Request, _p: Principal = Depends(admin)
) -> ExplainManyOut:
    """Explain any action of §7, ``add-team-member`` included (``from`` the newcomer,
    ``to`` the team's members), for up to 100 recipients: the verdict, each pair, what
    put each user in their segments, and what would change the verdict."""
    return ExplainManyOut.model_validate(
        services_of(request).people.explain(tenant, body.action, body.sender, body.to)
    )
