"""A vendor's onboarding and offboarding (semantics §12): propose, preview, carry out.

Thin adapters over ``service/vendors.py``; admins only (auditors may read the
proposals and previews). The web page's guided task drives these three steps.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from infobarrier.core.onboarding import AccountRequest, Proposal
from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.convert import application_out
from infobarrier.http.errors import ERRORS
from infobarrier.http.routes.insight import DraftWhatIfOut, preview_out
from infobarrier.service.application import Preview
from infobarrier.service.tokens import Principal
from infobarrier.service.vendors import VendorRequest

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["vendors"])
admin = require(Area.ADMIN)


class AccountIn(schemas.Request):
    """A service account of the vendor: an existing one, or one to create."""

    upn: schemas.Upn
    display_name: schemas.DisplayName = ""


class OnboardIn(schemas.Request):
    """The vendor, its service accounts and the engineers it may reach."""

    vendor: str = Field(max_length=64)
    accounts: list[AccountIn] = Field(default_factory=list, max_length=1000)
    engineers: list[schemas.Upn] = Field(default_factory=list, max_length=1000)
    expected: dict[str, Any] | None = Field(
        None, description="The proposal shown (carry out only): refused when it changed"
    )


class OffboardIn(schemas.Request):
    """The vendor to offboard."""

    vendor: str = Field(max_length=64)
    expected: dict[str, Any] | None = Field(
        None, description="The proposal shown (carry out only): refused when it changed"
    )


class FieldErrorOut(BaseModel):
    """What is wrong with one field (``vendor``, ``accounts.N``, ``engineers.N``)."""

    field: str
    message: str


class ProposalOut(BaseModel):
    """What the task would change; nothing has changed."""

    kind: str
    vendor: str
    accounts_to_create: list[dict[str, str]]
    sponsor: str
    groups: list[dict[str, Any]]
    groups_removed: list[str]
    segments: list[dict[str, str]]
    segments_removed: list[str]
    policies: list[dict[str, Any]]
    policies_changed: list[dict[str, Any]]
    policies_removed: list[str]
    seats: list[dict[str, Any]]
    assign: list[dict[str, str]]
    unassign: list[dict[str, str]]
    disable: list[str]
    warnings: list[str]
    errors: list[FieldErrorOut]


class PreviewOut(BaseModel):
    """The proposal and, when it has no error, what applying it would change."""

    proposal: ProposalOut
    what_if: DraftWhatIfOut | None


class CarriedOut(BaseModel):
    """The proposal carried out and the application that put it in force."""

    proposal: ProposalOut
    application: schemas.ApplicationOut


def _onboard(body: OnboardIn) -> VendorRequest:
    return VendorRequest(
        body.vendor,
        [AccountRequest(a.upn, a.display_name) for a in body.accounts],
        list(body.engineers),
    )


def _offboard(body: OffboardIn) -> VendorRequest:
    return VendorRequest(body.vendor, offboard=True)


def _out(proposal: Proposal) -> ProposalOut:
    return ProposalOut.model_validate(proposal.as_dict())


def _preview(request: Request, tenant: str, vendor: VendorRequest) -> PreviewOut:
    services = services_of(request)
    proposal, preview = services.vendors.preview(tenant, vendor)
    return PreviewOut(proposal=_out(proposal), what_if=_what_if(request, tenant, preview))


def _what_if(request: Request, tenant: str, preview: Preview | None) -> DraftWhatIfOut | None:
    return None if preview is None else preview_out(services_of(request), tenant, preview)


@router.post("/vendor-onboarding/proposal", response_model=ProposalOut)
def onboarding_proposal(
    tenant: str, body: OnboardIn, request: Request, _p: Principal = Depends(admin)
) -> ProposalOut:
    """The groups, segments, mutual allow lists, accounts and licenses a new vendor needs;
    problems are listed by field (``errors``), nothing is saved."""
    return _out(services_of(request).vendors.propose(tenant, _onboard(body)))


@router.post("/vendor-onboarding/what-if", response_model=PreviewOut)
def onboarding_what_if(
    tenant: str, body: OnboardIn, request: Request, _p: Principal = Depends(admin)
) -> PreviewOut:
    """The proposal and what applying it would change (pairs that flip, conversations)."""
    return _preview(request, tenant, _onboard(body))


@router.post("/vendor-onboarding", response_model=CarriedOut)
def onboard(
    tenant: str, body: OnboardIn, request: Request, p: Principal = Depends(admin)
) -> CarriedOut:
    """Create, assign, define and apply, in one transaction (409 when ``expected``
    differs from the proposal worked out now; 400 naming the fields when it has errors)."""
    proposal, app = services_of(request).vendors.carry_out(
        tenant, _onboard(body), actor(p), body.expected
    )
    return CarriedOut(proposal=_out(proposal), application=application_out(app))


@router.post("/vendor-offboarding/proposal", response_model=ProposalOut)
def offboarding_proposal(
    tenant: str, body: OffboardIn, request: Request, _p: Principal = Depends(admin)
) -> ProposalOut:
    """The vendor's policies, segments, groups and licenses to remove and the accounts to
    disable; nothing is saved."""
    return _out(services_of(request).vendors.propose(tenant, _offboard(body)))


@router.post("/vendor-offboarding/what-if", response_model=PreviewOut)
def offboarding_what_if(
    tenant: str, body: OffboardIn, request: Request, _p: Principal = Depends(admin)
) -> PreviewOut:
    """The offboarding proposal and what applying it would change."""
    return _preview(request, tenant, _offboard(body))


@router.post("/vendor-offboarding", response_model=CarriedOut)
def offboard(
    tenant: str, body: OffboardIn, request: Request, p: Principal = Depends(admin)
) -> CarriedOut:
    """Remove, disable, take licenses back and apply, in one transaction."""
    proposal, app = services_of(request).vendors.carry_out(
        tenant, _offboard(body), actor(p), body.expected
    )
    return CarriedOut(proposal=_out(proposal), application=application_out(app))
