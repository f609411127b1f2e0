"""What the web admin page reads: overview, matrix, draft what-if, explain, lookup.

Every route is under ``/v1/tenants/{tenant}/`` with the admin area's role rules (admins
everything, auditors every GET). Nothing here changes anything: ``POST /what-if``
previews a *draft* of the policies without saving it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from infobarrier.core.barriers import BarrierConfig, parse_state, policy_warning
from infobarrier.core.collaboration import Call, Chat, ChatKind, Meeting, Team
from infobarrier.core.contract import Action, make_check, parse_action
from infobarrier.core.directory import Directory
from infobarrier.http import schemas
from infobarrier.http.auth import Area, require, services_of
from infobarrier.http.convert import application_out, verdict_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.application import Cancelled, Preview
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import Services

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["insight"])
admin = require(Area.ADMIN)

#: The actions a pair of users can be explained for (``add-team-member`` needs a team).
EXPLAINABLE = tuple(a.value for a in Action if a is not Action.ADD_TEAM_MEMBER)


# -- models --------------------------------------------------------------------------------
class UserCounts(BaseModel):
    """How many users, and of which kinds."""

    total: int
    enabled: int
    guests: int
    service_accounts: int


class SegmentCount(BaseModel):
    """An applied segment, its users now and its applied policy."""

    name: str
    users: int
    policy: str | None


class AppliedSummary(BaseModel):
    """What the epoch in force was built from."""

    mode: str
    segments: list[SegmentCount]
    active_policies: int


class DefinedSummary(BaseModel):
    """The definitions as they are (not necessarily applied)."""

    segments: int
    policies: int
    active_policies: int


class Finding(BaseModel):
    """A licensing finding (semantics §2): never changes a verdict."""

    upn: str
    plan: str
    message: str


class Conflicted(BaseModel):
    """A user in ``IBPolicyConflict`` and the segments they match."""

    upn: str
    segments: list[str]


class OverviewOut(BaseModel):
    """A tenant at a glance."""

    tenant: str
    role: Literal["admin", "auditor", "enforcer", "provisioner", "compliance"] = Field(
        description="The role of the token that asked (the page hides what it may not do)"
    )
    mode: Literal["Legacy", "SingleSegment", "MultiSegment"]
    people_search_restriction: bool
    users: UserCounts
    segmented: int
    unsegmented: int
    conflicts: list[Conflicted]
    epoch: int = Field(description="The epoch in force (0: never applied)")
    applied: AppliedSummary
    defined: DefinedSummary
    pending_changes: bool = Field(
        description="The definitions would decide differently from the epoch in force"
    )
    findings: list[Finding] = Field(description="The first ``limit`` findings")
    findings_total: int = Field(description="How many findings there are in all")
    conflicts_total: int = Field(description="How many users are in IBPolicyConflict")
    last_application: schemas.ApplicationOut | None


class FindingsOut(BaseModel):
    """A page of the licensing findings (§2)."""

    total: int
    offset: int
    findings: list[Finding]


class MatrixCell(BaseModel):
    """The verdict between two users, one in the row's segment and one in the column's."""

    allowed: bool
    code: str
    reason: str
    policy: str | None


class MatrixRow(BaseModel):
    """A segment (or ``(none)``), its users and its applied policy."""

    name: str
    users: int
    policy: str | None
    cells: list[MatrixCell]


class MatrixOut(BaseModel):
    """Segments x segments (plus ``(none)``) under the epoch in force."""

    epoch: int
    mode: str
    rows: list[MatrixRow]


class MatrixGridOut(BaseModel):
    """The matrix as the web page draws it: rows, and each row's verdicts as a string."""

    epoch: int
    mode: str
    names: list[str] = Field(description="The rows (and columns): every segment, then (none)")
    users: list[int] = Field(description="Users in each row's segment now")
    policies: list[str | None] = Field(description="Each row's applied policy")
    allowed: list[str] = Field(
        description="Per row, one character per column: 1 allowed, 0 blocked"
    )


class MatrixCellOut(MatrixCell):
    """One cell, explained: the row's and column's segments and their users."""

    a: str
    b: str
    users_a: int
    users_b: int


class DraftWhatIf(schemas.Request):
    """Policies that would *replace* the current policy definitions (segments stay)."""

    policies: list[schemas.PolicyCreate] = Field(max_length=5000)


class DraftWhatIfOut(schemas.WhatIfOut):
    """What applying the draft would change; nothing has changed."""

    warnings: list[str] = Field(default_factory=list)


class LookupHit(BaseModel):
    """A user found by the admin page's picker."""

    upn: str
    display_name: str
    mail: str
    kind: str
    account_enabled: bool


class LookupOut(BaseModel):
    """Users whose name, UPN or mail starts with the text (no barrier applies)."""

    results: list[LookupHit]


class AppliedPolicy(BaseModel):
    """A policy as applied in the epoch in force."""

    name: str
    assigned_segment: str
    kind: Literal["allow", "block"]
    segments: list[str]


class ExplainOut(BaseModel):
    """A verdict, both users' status, their pair, and the policy that decided."""

    action: str
    verdict: schemas.VerdictOut
    relationship: schemas.VerdictOut
    users: list[schemas.RecipientOut]
    policy: AppliedPolicy | None


# -- routes --------------------------------------------------------------------------------
@router.get("/overview", response_model=OverviewOut)
def overview(
    tenant: str,
    request: Request,
    limit: int = Query(100, ge=0, le=10_000, description="Findings and conflicts listed"),
    p: Principal = Depends(admin),
) -> OverviewOut:
    """Mode, users, segmented and unsegmented counts, conflicts, the epoch in force and the
    last application, and the first licensing findings (all of them are counted; ``GET
    /findings`` pages through them): a page never receives 100,000 rows it does not show."""
    services = services_of(request)
    data = services.decisions.overview(tenant)
    history = services.applications.history(tenant)
    findings, conflicts = data["findings"], data["conflicts"]
    return OverviewOut.model_validate(
        {
            **data,
            "findings": findings[:limit],
            "findings_total": len(findings),
            "conflicts": conflicts[:limit],
            "conflicts_total": len(conflicts),
            "role": p.role.value,
            # Its report lists every finding again (11 MB at 100,000 users): not shown here.
            "last_application": (
                application_out(history[0]).model_copy(update={"report": {}}) if history else None
            ),
        }
    )


@router.get("/findings", response_model=FindingsOut)
def licensing_findings(
    tenant: str,
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    _p: Principal = Depends(admin),
) -> FindingsOut:
    """A page of the licensing findings (§2), in the overview's order."""
    found = services_of(request).decisions.overview(tenant)["findings"]
    return FindingsOut.model_validate(
        {"total": len(found), "offset": offset, "findings": found[offset : offset + limit]}
    )


@router.get("/matrix", response_model=MatrixOut)
def matrix(tenant: str, request: Request, _p: Principal = Depends(admin)) -> MatrixOut:
    """Who can talk to whom, segment by segment, each cell with its reason (§6)."""
    services = services_of(request)
    current = services.decisions.current(tenant)
    names, grid, counts = services.decisions.matrix(tenant)
    config = current.epoch.config
    rows = []
    for name, cells, users in zip(names, grid, counts, strict=True):
        policy = config.policy_of(name) if config.find_segment(name) else None
        rows.append(
            MatrixRow(
                name=name,
                users=users,
                policy=policy.name if policy else None,
                cells=[
                    MatrixCell(allowed=c.allowed, code=c.code, reason=c.reason, policy=c.policy)
                    for c in cells
                ],
            )
        )
    return MatrixOut(epoch=current.epoch_id, mode=config.mode.value, rows=rows)


@router.get("/matrix/grid", response_model=MatrixGridOut)
def matrix_grid(tenant: str, request: Request, _p: Principal = Depends(admin)) -> MatrixGridOut:
    """The matrix without its reasons (§6): a few hundred kilobytes at 500 segments, where
    ``GET /matrix`` explains all 251,001 cells. ``GET /matrix/cell`` explains one."""
    services = services_of(request)
    epoch, names, allowed, users = services.decisions.matrix_grid(tenant)
    config = epoch.config
    policies: list[str | None] = []
    for name in names:
        policy = config.policy_of(name) if config.find_segment(name) else None
        policies.append(policy.name if policy else None)
    return MatrixGridOut(
        epoch=services.decisions.current(tenant).epoch_id,
        mode=config.mode.value,
        names=names,
        users=users,
        policies=policies,
        allowed=allowed,
    )


@router.get("/matrix/cell", response_model=MatrixCellOut)
def matrix_cell(
    tenant: str,
    request: Request,
    a: str = Query(..., min_length=1, max_length=256, description="Row: a segment or (none)"),
    b: str = Query(..., min_length=1, max_length=256, description="Column"),
    _p: Principal = Depends(admin),
) -> MatrixCellOut:
    """One cell of the matrix with its reason and the policy that decided (§6)."""
    cell, users_a, users_b = services_of(request).decisions.matrix_cell(tenant, a, b)
    return MatrixCellOut(
        a=cell.a,
        b=cell.b,
        allowed=cell.allowed,
        code=cell.code,
        reason=cell.reason,
        policy=cell.policy,
        users_a=users_a,
        users_b=users_b,
    )


def _draft(body: DraftWhatIf, warnings: list[str]) -> Callable[[BarrierConfig], BarrierConfig]:
    """The edit that turns the definitions into the draft: every policy replaced."""

    def build(config: BarrierConfig) -> BarrierConfig:
        draft = replace(config, policies=())
        for p in body.policies:
            draft = draft.new_policy(
                p.name,
                p.assigned_segment,
                allowed=p.segments_allowed,
                blocked=p.segments_blocked,
                state=parse_state(p.state),
                moderation_allowed=p.moderation_allowed,
                comment=p.comment,
            )
        warnings.extend(w for w in map(policy_warning, draft.policies) if w)
        return draft

    return build


def _labels(services: Services, tenant: str) -> dict[str, str]:
    """A readable name for every collaboration object, by id."""
    directory: Directory = services.directory.directory(tenant)

    def upn(user_id: str) -> str:
        try:
            return directory.user(user_id).upn
        except Exception:  # a user deleted since
            return user_id

    labels: dict[str, str] = {}
    for kind in ("team", "chat", "meeting", "call"):
        for obj in services.collaboration.objects(tenant, kind):
            if isinstance(obj, Team):
                labels[obj.id] = f"team {obj.name!r}"
            elif isinstance(obj, Meeting):
                labels[obj.id] = f"meeting {obj.subject!r}" if obj.subject else "meeting"
            elif isinstance(obj, Chat):
                who = ", ".join(upn(u) for u in obj.participant_ids())
                what = "1:1 chat" if obj.kind is ChatKind.ONE_ON_ONE else "group chat"
                labels[obj.id] = f"{what} ({who})"
            elif isinstance(obj, Call):
                who = ", ".join(upn(u) for u in obj.participant_ids())
                labels[obj.id] = f"{'live ' if obj.live else ''}call ({who})"
    return labels


#: How often a preview being computed looks whether its client is still connected.
DISCONNECT_POLL_S = 0.2


@router.post(
    "/what-if",
    response_model=DraftWhatIfOut,
    responses={499: {"description": "The client went away; the preview was stopped"}},
)
async def what_if_draft(
    tenant: str, body: DraftWhatIf, request: Request, _p: Principal = Depends(admin)
) -> Any:
    """Preview a draft: these policies would replace the current policy definitions.

    Answers like ``POST /applications?what_if=true`` for the draft (segment pairs, users,
    conflicts, and the chats, teams, meetings and calls reconciliation would change); a
    draft that breaks a rule is 400 naming the rule. Nothing is saved.

    The preview is computed in the thread pool; a client that disconnects meanwhile (the
    page sent a newer draft, or was left) stops it between two segments, so an abandoned
    preview (seconds at 100,000 users) does not keep a core busy.
    """
    services = services_of(request)
    warnings: list[str] = []
    gone = threading.Event()

    def compute() -> DraftWhatIfOut | Exception:
        # An error is handed back, not raised in the task group (which would wrap it).
        try:
            draft = _draft(body, warnings)
            preview = services.applications.what_if_draft(tenant, draft, cancelled=gone.is_set)
            return preview_out(services, tenant, preview, warnings)
        except Exception as exc:
            return exc

    async def watch() -> None:
        while not await request.is_disconnected():
            await anyio.sleep(DISCONNECT_POLL_S)
        gone.set()

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        outcome = await run_in_threadpool(compute)
        group.cancel_scope.cancel()
    if isinstance(outcome, Cancelled):
        return Response(status_code=499)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def preview_out(
    services: Services, tenant: str, preview: Preview, warnings: list[str] | None = None
) -> DraftWhatIfOut:
    """A preview as the admin page reads it: like every list of the what-if, the
    conflicts and licensing findings are the first ``list_limit`` with their count in
    ``totals`` (at 100,000 users without licenses every segmented user is a finding: tens
    of thousands of lines the page would draw and nobody reads; the Licensing page pages
    through them)."""
    labels = _labels(services, tenant) if preview.reconciliation else {}
    actions: list[dict[str, Any]] = [
        {**a, "object_label": labels.get(str(a.get("object_id")), a.get("object_kind"))}
        for a in preview.reconciliation
    ]
    limit = services.applications.list_limit
    whatif = preview.whatif.as_dict()
    totals = {
        **whatif.pop("totals"),  # type: ignore[dict-item]
        "conflicts": len(preview.conflicts),
        "findings": len(preview.findings),
    }
    return DraftWhatIfOut.model_validate(
        {
            **whatif,
            "totals": totals,
            "conflicts": preview.conflicts[:limit],
            "findings": preview.findings[:limit],
            "total_recipients": preview.total_recipients,
            "reconciliation": actions,
            "warnings": warnings or [],
        }
    )


@router.get("/user-lookup", response_model=LookupOut)
def user_lookup(
    tenant: str,
    request: Request,
    q: str = Query(..., min_length=1, max_length=256, description="Prefix of a word"),
    limit: int = Query(10, ge=1, le=100),
    _p: Principal = Depends(admin),
) -> LookupOut:
    """Users whose display name (any word), UPN or mail starts with ``q``: the admin page's
    user picker. No barrier applies (this is not a user's search)."""
    users = services_of(request).decisions.lookup(tenant, q, limit)
    return LookupOut(
        results=[
            LookupHit(
                upn=u.upn,
                display_name=u.display_name,
                mail=u.mail,
                kind=u.kind.value,
                account_enabled=u.account_enabled,
            )
            for u in users
        ]
    )


@router.get("/explain", response_model=ExplainOut)
def explain(
    tenant: str,
    request: Request,
    action: str = Query(..., min_length=1, max_length=32, description=", ".join(EXPLAINABLE)),
    sender: str = Query(..., alias="from", min_length=1, max_length=320, description="UPN"),
    to: str = Query(..., min_length=1, max_length=320, description="UPN"),
    _p: Principal = Depends(admin),
) -> ExplainOut:
    """May ``from`` do ``action`` with ``to``, and why: the verdict, both users' segments and
    policies, their pair (§6) and the applied policy that decided."""
    services = services_of(request)
    verdict = services.decisions.check(tenant, make_check(action, sender, [to]))
    status = services.decisions.recipient(tenant, sender, to)
    assert status.pair is not None
    assert status.other is not None
    policy = None
    if verdict.policy:
        applied = services.decisions.current(tenant).epoch.config.find_policy(verdict.policy)
        if applied is not None:
            policy = AppliedPolicy(
                name=applied.name,
                assigned_segment=applied.segment,
                kind=applied.kind.value,
                segments=list(applied.segments),
            )
    users = [status, status.other]
    return ExplainOut(
        action=parse_action(action).value,
        verdict=verdict_out(verdict),
        relationship=verdict_out(status.pair),
        users=[
            schemas.RecipientOut(
                **{k: v for k, v in u.as_dict().items() if k not in ("other", "relationship")}
            )
            for u in users
        ],
        policy=policy,
    )
