"""What the web admin page needs beyond the resources: paged and searched lists of the
directory, bulk licenses, imports and exports (Entra CSV, PowerShell), tokens, and the
audit log by page with its actors' names, exported as CSV or JSON lines.

Thin adapters over ``service/listing.py``, ``service/tokens.py`` and
``service/interchange.py`` (docs/interfaces.md, "The admin page's API").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from infobarrier.core.audit import AuditEntry
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.limits import MAX_UPN
from infobarrier.formats import entra_csv
from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.convert import skus_out, user_view_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.directory import ImportSummary
from infobarrier.service.listing import MAX_BULK, MAX_PAGE, chunked
from infobarrier.service.tokens import Principal, Role, parse_role
from infobarrier.store.records import Token

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["admin page"])
admin = require(Area.ADMIN)


def _text_body(media: str) -> dict[str, object]:
    """The OpenAPI request body of a route that reads a file as it is (not JSON)."""
    return {
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


def _file(*media: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a download: the file (not JSON), and the errors, which stay
    JSON whatever the file's type."""
    json_error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {
        **{code: {**error, "content": json_error} for code, error in ERRORS.items()},
        200: {
            "description": "The file, as an attachment",
            "content": {m: {"schema": {"type": "string"}} for m in media},
        },
    }


Offset = Query(0, ge=0)
Limit = Query(50, ge=1, le=MAX_PAGE)


# -- models -------------------------------------------------------------------------------
class UserPageOut(BaseModel):
    """One page of users and how many match in all."""

    total: int
    offset: int
    items: list[schemas.UserOut]


class GroupSummary(BaseModel):
    """A group without its members, with how many it has."""

    id: str
    display_name: str
    mail: str
    members: int


class GroupPageOut(BaseModel):
    """One page of groups and how many match in all."""

    total: int
    offset: int
    items: list[GroupSummary]


class MemberOut(BaseModel):
    """A member of a group, briefly."""

    upn: str
    display_name: str
    kind: str


class MemberPageOut(BaseModel):
    """One page of a group's members."""

    group: GroupSummary
    total: int
    offset: int
    items: list[MemberOut]


class BulkLicenses(schemas.Request):
    """Users to assign a SKU to (or remove it from): by UPN and/or a group's members."""

    upns: list[schemas.Upn] = Field(default_factory=list, max_length=MAX_BULK)
    group: str | None = Field(None, max_length=256)
    remove: bool = False


class BulkLicensesOut(BaseModel):
    """What a bulk change did, and the SKUs after it."""

    named: int
    changed: int
    skus: list[schemas.SkuOut]


class ImportOut(BaseModel):
    """What a CSV import did."""

    rows: int
    created: int
    updated: int
    groups_changed: int


class ScriptOut(BaseModel):
    """What an imported PowerShell script did."""

    commands: int
    skipped_what_if: int
    applications: list[int] = Field(description="Numbers of the applications started")


class TokenOut(BaseModel):
    """A token's record; its secret is never shown again."""

    id: str
    role: str
    label: str
    person: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreate(schemas.Request):
    """A new token for a person, with a role and an optional expiry."""

    person: str = Field(min_length=1, max_length=256)
    role: Literal["admin", "auditor", "enforcer", "provisioner", "compliance"]
    label: str = Field("", max_length=256)
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    """A new token, with its secret: shown once."""

    token: str


class AuditItem(schemas.AuditEntryOut):
    """An audit entry with its actor's name (the token's person) when known."""

    actor_name: str | None


class AuditPageOut(BaseModel):
    """One page of entries, newest first, and how many match in all."""

    total: int
    offset: int
    items: list[AuditItem]


# -- directory ------------------------------------------------------------------------------
@router.get("/directory/users", response_model=UserPageOut)
def user_page(
    tenant: str,
    request: Request,
    q: str = Query("", max_length=MAX_UPN),
    kind: Literal["person", "service_account"] | None = Query(None),
    offset: int = Offset,
    limit: int = Limit,
    _p: Principal = Depends(admin),
) -> UserPageOut:
    """Users whose UPN, display name or mail contains ``q``, by UPN: one page."""
    page = services_of(request).listing.users(tenant, q, kind, offset, limit)
    return UserPageOut(
        total=page.total,
        offset=offset,
        items=[user_view_out(u, g, s) for u, g, s in page.users],
    )


@router.get("/directory/groups", response_model=GroupPageOut)
def group_page(
    tenant: str,
    request: Request,
    q: str = Query("", max_length=256),
    offset: int = Offset,
    limit: int = Limit,
    _p: Principal = Depends(admin),
) -> GroupPageOut:
    """Groups whose name or mail contains ``q``, by name, with member counts: one page."""
    page = services_of(request).listing.groups(tenant, q, offset, limit)
    return GroupPageOut(
        total=page.total,
        offset=offset,
        items=[
            GroupSummary(id=g.id, display_name=g.display_name, mail=g.mail, members=n)
            for g, n in page.groups
        ],
    )


@router.get("/directory/groups/{group}/members", response_model=MemberPageOut)
def member_page(
    tenant: str,
    group: str,
    request: Request,
    offset: int = Offset,
    limit: int = Limit,
    _p: Principal = Depends(admin),
) -> MemberPageOut:
    """One page of a group's members, by UPN."""
    found, total, users = services_of(request).listing.members(tenant, group, offset, limit)
    return MemberPageOut(
        group=GroupSummary(
            id=found.id, display_name=found.display_name, mail=found.mail, members=total
        ),
        total=total,
        offset=offset,
        items=[MemberOut(upn=u.upn, display_name=u.display_name, kind=u.kind.value) for u in users],
    )


@router.post("/directory/users.csv", response_model=ImportOut, openapi_extra=_text_body("text/csv"))
async def import_users(tenant: str, request: Request, p: Principal = Depends(admin)) -> ImportOut:
    """Import an Entra ID users CSV (the body): all rows or none (semantics §2)."""
    data = await request.body()
    services = services_of(request)
    summary = await run_in_threadpool(
        services.directory.import_users_csv, tenant, data, actor(p), "users.csv"
    )
    return _import_out(summary)


@router.post(
    "/directory/groups.csv", response_model=ImportOut, openapi_extra=_text_body("text/csv")
)
async def import_groups(tenant: str, request: Request, p: Principal = Depends(admin)) -> ImportOut:
    """Import a groups CSV (the body): all rows or none."""
    data = await request.body()
    services = services_of(request)
    summary = await run_in_threadpool(
        services.directory.import_groups_csv, tenant, data, actor(p), "groups.csv"
    )
    return _import_out(summary)


def _import_out(summary: ImportSummary) -> ImportOut:
    """An import's summary as the API words it (users CSV and groups CSV alike)."""
    return ImportOut(
        rows=summary.rows,
        created=summary.users_created,
        updated=summary.users_updated,
        groups_changed=summary.groups_changed,
    )


def _download(lines: Iterator[str], name: str, media: str) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/directory/users.csv", response_class=StreamingResponse, responses=_file("text/csv"))
def export_users(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> StreamingResponse:
    """Every user as an Entra ID users CSV (streamed)."""
    directory = services_of(request).directory.directory(tenant)
    return _download(
        entra_csv.render_users_csv(directory.users()), f"{tenant}-users.csv", "text/csv"
    )


@router.get("/directory/groups.csv", response_class=StreamingResponse, responses=_file("text/csv"))
def export_groups(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> StreamingResponse:
    """Every group's members as a groups CSV (streamed)."""
    directory = services_of(request).directory.directory(tenant)
    rows = ((g, sorted(directory.user(m).upn for m in g.members)) for g in directory.groups())
    return _download(entra_csv.render_groups_csv(rows), f"{tenant}-groups.csv", "text/csv")


# -- PowerShell ---------------------------------------------------------------------------------
@router.post("/powershell", response_model=ScriptOut, openapi_extra=_text_body("text/plain"))
async def import_script(tenant: str, request: Request, p: Principal = Depends(admin)) -> ScriptOut:
    """Run a script of IB cmdlets (the body, UTF-8): all of it or nothing."""
    data = await request.body()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the script is not UTF-8 (byte {exc.start})") from None
    services = services_of(request)
    result = await run_in_threadpool(services.interchange.import_script, tenant, text, actor(p))
    return ScriptOut(
        commands=result.commands,
        skipped_what_if=result.skipped_what_if,
        applications=[a.seq for a in result.applications],
    )


@router.get("/powershell", response_class=PlainTextResponse, responses=_file("text/plain"))
def export_script(
    tenant: str,
    request: Request,
    definitions: bool = Query(False, description="The definitions as they are, not the epoch"),
    _p: Principal = Depends(admin),
) -> PlainTextResponse:
    """The epoch in force (or the definitions) as a script of IB cmdlets."""
    text = services_of(request).interchange.export_script(tenant, definitions=definitions)
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{tenant}-barriers.ps1"'}
    )


# -- licenses ------------------------------------------------------------------------------------
@router.post("/skus/{part}/assignments", response_model=BulkLicensesOut)
def bulk_licenses(
    tenant: str, part: str, body: BulkLicenses, request: Request, p: Principal = Depends(admin)
) -> BulkLicensesOut:
    """Assign a SKU to (or, with ``remove``, remove it from) many users: all or none."""
    result = services_of(request).listing.change_licenses(
        tenant, part, actor(p), upns=body.upns, group=body.group, remove=body.remove
    )
    return BulkLicensesOut(named=result.named, changed=result.changed, skus=skus_out(result.book))


# -- tokens -----------------------------------------------------------------------------------
def _token_out(t: Token) -> TokenOut:
    return TokenOut(
        id=t.id,
        role=t.role,
        label=t.label,
        person=t.person,
        created_at=t.created_at,
        expires_at=t.expires_at,
        last_used_at=t.last_used_at,
        revoked_at=t.revoked_at,
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(tenant: str, request: Request, _p: Principal = Depends(admin)) -> list[TokenOut]:
    """The tenant's tokens (never their secrets), newest first."""
    return [_token_out(t) for t in reversed(services_of(request).tokens.list(tenant))]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    tenant: str, body: TokenCreate, request: Request, p: Principal = Depends(admin)
) -> TokenCreated:
    """A token for a person with a role; the secret is in this answer only."""
    role: Role = parse_role(body.role)
    record, plain = services_of(request).tokens.create(
        tenant, role, actor(p), body.label, expires_at=body.expires_at, person=body.person
    )
    return TokenCreated(**_token_out(record).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    tenant: str, token_id: str, request: Request, p: Principal = Depends(admin)
) -> TokenOut:
    """Revoke one of the tenant's tokens; it stops working at once."""
    tokens = services_of(request).tokens
    if not any(t.id == token_id for t in tokens.list(tenant)):
        raise NotFound(f"no token {token_id!r}")
    return _token_out(tokens.revoke(token_id, actor(p)))


# -- audit ----------------------------------------------------------------------------------
def _entries(
    request: Request,
    tenant: str,
    kind: list[str],
    since: datetime | None,
    until: datetime | None,
    actor_: str | None,
) -> tuple[list[AuditEntry], dict[str, str]]:
    listing = services_of(request).listing
    entries = listing.audit(tenant, kinds=kind, since=since, until=until, actor=actor_)
    return entries, listing.actor_names(tenant)


Kinds = Query([], description="Entry kinds (repeatable)")


@router.get("/audit/page", response_model=AuditPageOut)
def audit_page(
    tenant: str,
    request: Request,
    kind: list[str] = Kinds,
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    actor_: str | None = Query(None, alias="actor", max_length=256),
    offset: int = Offset,
    limit: int = Limit,
    _p: Principal = Depends(admin),
) -> AuditPageOut:
    """One page of entries, newest first, each with its actor's name."""
    entries, names = _entries(request, tenant, kind, since, until, actor_)
    return AuditPageOut(
        total=len(entries),
        offset=offset,
        items=[
            AuditItem(**e.as_dict(), actor_name=names.get(e.actor))
            for e in entries[offset : offset + limit]
        ],
    )


@router.get("/audit/kinds", response_model=list[str])
def audit_kinds(tenant: str, request: Request, _p: Principal = Depends(admin)) -> list[str]:
    """Every kind of entry the log holds."""
    return services_of(request).listing.audit_kinds(tenant)


_CSV_COLUMNS = ("seq", "at", "actor", "actor_name", "kind", "detail", "prev_hash", "hash")


def _audit_lines(entries: list[AuditEntry], names: dict[str, str], fmt: str) -> Iterator[str]:
    if fmt == "csv":
        yield ",".join(_CSV_COLUMNS) + "\r\n"
    for part in chunked(entries):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for e in part:
            row = {**e.as_dict(), "actor_name": names.get(e.actor)}
            if fmt == "csv":
                row["detail"] = json.dumps(row["detail"], sort_keys=True)
                writer.writerow(["" if row[c] is None else row[c] for c in _CSV_COLUMNS])
            else:
                out.write(json.dumps(row, sort_keys=True) + "\n")
        yield out.getvalue()


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses=_file("text/csv", "application/x-ndjson"),
)
def audit_export(
    tenant: str,
    request: Request,
    format: Literal["csv", "jsonl"] = Query("csv"),
    kind: list[str] = Kinds,
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    actor_: str | None = Query(None, alias="actor", max_length=256),
    _p: Principal = Depends(admin),
) -> StreamingResponse:
    """The entries that match, oldest first, as CSV or JSON lines (streamed)."""
    entries, names = _entries(request, tenant, kind, since, until, actor_)
    entries.reverse()
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return _download(_audit_lines(entries, names, format), f"{tenant}-audit.{format}", media)
