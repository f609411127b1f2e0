"""Request and response models. Requests forbid unknown fields: bad input is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from infobarrier.core import contract
from infobarrier.core.codes import ApplicationState
from infobarrier.core.limits import (
    MAX_ATTRIBUTE_VALUE,
    MAX_COMMENT,
    MAX_DISPLAY_NAME,
    MAX_FILTER,
    MAX_GROUP_MEMBERS,
    MAX_NAME,
    MAX_PROXY_ADDRESSES,
    MAX_SEGMENTS,
    MAX_UPN,
)


class Request(BaseModel):
    """Base of every request body: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


# Every string of a request body is capped at the limit ``core.limits`` gives it (its
# content, such as a UPN's ``name@domain`` shape, is judged by the core, the same way
# for every interface).
Upn = Annotated[str, Field(max_length=MAX_UPN)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
DisplayName = Annotated[str, Field(max_length=MAX_DISPLAY_NAME)]
AttributeName = Annotated[str, Field(max_length=MAX_NAME)]
AttributeValue = Annotated[str, Field(max_length=MAX_ATTRIBUTE_VALUE)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=64)]
ProxyAddresses = Annotated[list[AttributeValue], Field(max_length=MAX_PROXY_ADDRESSES)]
SegmentNames = Annotated[list[Name], Field(max_length=MAX_SEGMENTS)]


# -- directory ---------------------------------------------------------------------------
class UserOut(BaseModel):
    """A directory user."""

    id: str
    upn: str
    display_name: str
    mail: str
    account_enabled: bool
    user_type: Literal["Member", "Guest"]
    hidden_from_address_lists: bool | None
    kind: Literal["person", "service_account"]
    sponsor: str | None = Field(description="The sponsor's UPN (service accounts)")
    attributes: dict[str, str]
    proxy_addresses: list[str]
    groups: list[str]


class UserCreate(Request):
    """A new user; ``attributes`` by any segmentable attribute name (``Department``...)."""

    upn: Upn
    display_name: DisplayName | None = None
    mail: Upn = ""
    account_enabled: bool = True
    user_type: Literal["Member", "Guest"] = "Member"
    hidden_from_address_lists: bool | None = None
    attributes: Attributes = Field(default_factory=dict)
    proxy_addresses: ProxyAddresses = Field(default_factory=list)


class UserPatch(Request):
    """Changes to a user; an attribute set to ``""`` is cleared."""

    display_name: DisplayName | None = None
    mail: Upn | None = None
    account_enabled: bool | None = None
    user_type: Literal["Member", "Guest"] | None = None
    hidden_from_address_lists: bool | None = None
    attributes: Attributes | None = None
    proxy_addresses: ProxyAddresses | None = None


class ServiceAccountCreate(Request):
    """A vendor service account (semantics §2)."""

    upn: Upn
    vendor: DisplayName = Field(min_length=1, description="Vendor company")
    sponsor: Upn = Field(min_length=1, description="UPN of the internal sponsor")
    display_name: DisplayName | None = None
    attributes: Attributes = Field(default_factory=dict)


class GroupOut(BaseModel):
    """A group with its members' UPNs."""

    id: str
    display_name: str
    mail: str
    members: list[str]


class GroupCreate(Request):
    """A new group."""

    display_name: DisplayName = Field(min_length=1)
    mail: Upn = ""
    members: list[Upn] = Field(
        default_factory=list, max_length=MAX_GROUP_MEMBERS, description="UPNs"
    )


class SkuOut(BaseModel):
    """A SKU with seats bought and assigned."""

    part_number: str
    name: str
    service_plans: list[str]
    seats: int
    assigned: int


class Purchase(Request):
    """Seats to add to a SKU."""

    seats: int = Field(ge=1, le=1_000_000)


class SeatsSet(Request):
    """The total seats of a SKU (never below those assigned)."""

    seats: int = Field(ge=0, le=1_000_000)


class LicenseAssign(Request):
    """A SKU to assign."""

    sku: str = Field(min_length=1, max_length=64)


class UserLicenses(BaseModel):
    """A user's SKUs and the service plans they give."""

    upn: str
    skus: list[str]
    service_plans: list[str]


# -- barriers ----------------------------------------------------------------------------
class SettingsOut(BaseModel):
    """Tenant settings (semantics §1)."""

    mode: Literal["Legacy", "SingleSegment", "MultiSegment"]
    people_search_restriction: bool


class SettingsPatch(Request):
    """Set-PolicyConfig."""

    mode: Literal["Legacy", "SingleSegment", "MultiSegment"] | None = None
    people_search_restriction: bool | None = None


class SegmentOut(BaseModel):
    """A segment as defined, with the users it matches now."""

    id: str
    name: str
    filter: str
    users: int
    policy: str | None


class SegmentCreate(Request):
    """New-OrganizationSegment."""

    name: Name
    filter: str = Field(min_length=1, max_length=MAX_FILTER)


class SegmentPatch(Request):
    """Set-OrganizationSegment: only the filter can change."""

    filter: str = Field(min_length=1, max_length=MAX_FILTER)


class FilterPreview(Request):
    """A filter to check without saving."""

    filter: str = Field(max_length=MAX_FILTER)


class FilterPreviewOut(BaseModel):
    """Whether a filter parses, where it does not, and how many users it matches."""

    valid: bool
    matches: int | None
    error: str | None
    position: int | None


class PolicyOut(BaseModel):
    """A policy as defined."""

    id: str
    name: str
    assigned_segment: str
    segments_allowed: list[str] | None
    segments_blocked: list[str] | None
    state: Literal["Active", "Inactive"]
    moderation_allowed: bool
    comment: str
    warnings: list[str] = Field(default_factory=list)


class PolicyCreate(Request):
    """New-InformationBarrierPolicy: exactly one of the two lists."""

    name: Name
    assigned_segment: Name
    segments_allowed: SegmentNames | None = None
    segments_blocked: SegmentNames | None = None
    state: Literal["Active", "Inactive"] = "Inactive"
    moderation_allowed: bool = False
    comment: str = Field(default="", max_length=MAX_COMMENT)


class PolicyPatch(Request):
    """Set-InformationBarrierPolicy."""

    segments_allowed: SegmentNames | None = None
    segments_blocked: SegmentNames | None = None
    state: Literal["Active", "Inactive"] | None = None
    moderation_allowed: bool | None = None
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


class ApplicationOut(BaseModel):
    """An application's status (semantics §5)."""

    id: str
    number: int
    status: ApplicationState
    actor: str
    started: datetime
    ended: datetime | None
    total_recipients: int
    failed_recipients: int
    percent: int
    error: str | None
    report: dict[str, Any]


class WhatIfOut(BaseModel):
    """What an apply would change; nothing has changed."""

    users_changed: list[dict[str, Any]]
    pairs_blocked: list[dict[str, Any]]
    pairs_allowed: list[dict[str, Any]]
    new_conflicts: list[dict[str, Any]]
    resolved_conflicts: list[str]
    #: How many entries each list above has in full (each lists at most 1,000).
    totals: dict[str, int] = Field(default_factory=dict)
    conflicts: list[dict[str, Any]]
    findings: list[str]
    total_recipients: int
    reconciliation: list[dict[str, Any]] = Field(default_factory=list)


# -- decisions ---------------------------------------------------------------------------
def request_models_schemas() -> dict[str, Any]:
    """OpenAPI component schemas of the request bodies that routes read by hand: the check
    of :mod:`infobarrier.core.contract`, with its limits."""
    check = {
        "type": "object",
        "title": "Check",
        "description": "One question: may 'from' do 'action' with 'to'?",
        "properties": {
            "action": {"type": "string", "minLength": 1, "maxLength": contract.MAX_ACTION},
            "from": {"type": "string", "minLength": 1, "maxLength": contract.MAX_UPN},
            "to": {"type": "array", "items": {"type": "string"}, "maxItems": contract.MAX_TO},
        },
        "required": list(contract.CHECK_FIELDS),
        "additionalProperties": False,
    }
    decisions = {
        "type": "object",
        "title": "Decisions",
        "description": "A batch of checks answered in order.",
        "properties": {
            "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}}
        },
        "required": ["checks"],
        "additionalProperties": False,
    }
    return {"Decisions": decisions, "Check": check}


class VerdictOut(BaseModel):
    """A verdict and why: :meth:`infobarrier.core.contract.Verdict.as_dict`, which also
    gives ``exception`` and ``exception_end`` when a wall-crossing exception applied."""

    model_config = ConfigDict(extra="allow")

    allowed: bool
    reason: str
    code: str
    pair: list[str] | None
    policy: str | None
    segment: str | None

    # No return annotation: pydantic then documents the fields above (an annotation would
    # replace them in the OpenAPI document).
    @model_serializer(mode="wrap")
    def _as_the_contract_says(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """The fields of :meth:`Verdict.as_dict`: the exception fields only when one applied."""
        data = handler(self)
        if isinstance(data, dict) and data.get("exception") is None:
            data.pop("exception", None)
            data.pop("exception_end", None)
        return data


class ErrorItem(BaseModel):
    """A bad question, answered in its place."""

    code: str
    message: str


class ErrorResult(BaseModel):
    """``{"error": {...}}``."""

    error: ErrorItem


class DecisionsOut(BaseModel):
    """Answers in the order of the questions."""

    results: list[VerdictOut | ErrorResult]


class RecipientOut(BaseModel):
    """A user's segments, policies and errors."""

    upn: str
    display_name: str
    kind: str
    account_enabled: bool
    segments: list[str]
    policies: list[str]
    errors: list[str]
    findings: list[str]
    epoch: int


class SearchHit(BaseModel):
    """A user found by search."""

    upn: str
    display_name: str
    mail: str


class SearchOut(BaseModel):
    """Search results, blocked users already left out."""

    results: list[SearchHit]


class VersionOut(BaseModel):
    """A tenant's decision state: answers given at the same ``stamp`` still hold."""

    tenant: str
    version: int
    epoch: int
    people_search_restriction: bool
    stamp: str


# -- audit ---------------------------------------------------------------------------------
class AuditEntryOut(BaseModel):
    """One audit entry."""

    seq: int
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditEventIn(Request):
    """An enforcement event for the audit log (kinds ``synapse.*``, ``enforcement.*``)."""

    kind: str = Field(min_length=1, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditVerifyOut(BaseModel):
    """The result of recomputing the chain."""

    intact: bool
    entries: int
    first_broken: int | None
    reason: str | None


# -- collaboration (§7, §8) -------------------------------------------------------------
class MemberOut(BaseModel):
    """A participant with the order they joined in."""

    upn: str
    seq: int


class TeamOut(BaseModel):
    """A team."""

    id: str
    name: str
    mode: Literal["Open", "Implicit", "OwnerModerated"]
    owners: list[str]
    members: list[MemberOut]


class TeamCreate(Request):
    """A new team with its owners (UPNs)."""

    name: str = Field(min_length=1, max_length=256)
    owners: list[Upn] = Field(min_length=1, max_length=100)
    mode: Literal["Open", "Implicit", "OwnerModerated"] = "Implicit"


class TeamMemberAdd(Request):
    """Add a member; ``by`` (an owner) is required for OwnerModerated teams."""

    upn: str = Field(min_length=1, max_length=320)
    by: str | None = Field(default=None, max_length=320)


class ChatOut(BaseModel):
    """A chat; removed users keep read-only history."""

    id: str
    kind: Literal["one_on_one", "group"]
    participants: list[MemberOut]
    removed: list[str]
    read_only: bool


class ChatCreate(Request):
    """Start a 1:1 chat (one ``to``) or a group chat."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sender: str = Field(alias="from", min_length=1, max_length=320)
    to: list[Upn] = Field(min_length=1, max_length=250)


class ChatParticipantAdd(Request):
    """Add someone to a group chat."""

    upn: str = Field(min_length=1, max_length=320)
    by: str = Field(min_length=1, max_length=320)


class MessageCreate(Request):
    """Post a message."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sender: str = Field(alias="from", min_length=1, max_length=320)
    text: str = Field(min_length=1, max_length=28_000)


class MessageOut(BaseModel):
    """A chat message."""

    id: int
    sender: str
    text: str
    at: datetime


class MeetingOut(BaseModel):
    """A meeting."""

    id: str
    subject: str
    organizer: str
    invitees: list[MemberOut]
    joined: list[str]


class MeetingCreate(Request):
    """Schedule a meeting and invite people."""

    organizer: str = Field(min_length=1, max_length=320)
    subject: str = Field(default="", max_length=256)
    invitees: list[Upn] = Field(default_factory=list, max_length=1000)


class UpnBody(Request):
    """One user."""

    upn: str = Field(min_length=1, max_length=320)


class CallOut(BaseModel):
    """A call (1:1, group or Remote Assist)."""

    id: str
    kind: Literal["call", "remote_assist"]
    participants: list[MemberOut]
    live: bool
    sharing: str | None
    meeting_id: str | None


class CallCreate(Request):
    """Place a call; ``remote_assist`` needs the caller's Remote Assist license."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sender: str = Field(alias="from", min_length=1, max_length=320)
    to: list[Upn] = Field(min_length=1, max_length=250)
    kind: Literal["call", "remote_assist"] = "call"
    meeting_id: str | None = Field(default=None, max_length=36)
