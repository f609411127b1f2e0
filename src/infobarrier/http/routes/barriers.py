"""Settings, segments, policies, applications and recipients (semantics §1, §3-§5)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from infobarrier.core.barriers import parse_mode, parse_state
from infobarrier.core.errors import FilterSyntaxError, InvalidInput
from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.convert import application_out, policy_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS)
admin = require(Area.ADMIN)


@router.get("/settings", response_model=schemas.SettingsOut, tags=["barriers"])
def get_settings(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.SettingsOut:
    """Mode and people-search restriction."""
    t = services_of(request).tenants.get(tenant)
    return schemas.SettingsOut(
        mode=t.mode.value,
        people_search_restriction=t.people_search_restriction,
    )


@router.patch("/settings", response_model=schemas.SettingsOut, tags=["barriers"])
def patch_settings(
    tenant: str, body: schemas.SettingsPatch, request: Request, p: Principal = Depends(admin)
) -> schemas.SettingsOut:
    """Set-PolicyConfig: the mode only while no segment and no policy (§1)."""
    services = services_of(request)
    if body.people_search_restriction is not None:
        services.tenants.set_people_search_restriction(
            tenant, body.people_search_restriction, actor(p)
        )
    if body.mode is not None:
        services.tenants.set_mode(tenant, parse_mode(body.mode), actor(p))
    return get_settings(tenant, request, p)


@router.get("/segments", response_model=list[schemas.SegmentOut], tags=["barriers"])
def list_segments(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.SegmentOut]:
    """Segments as defined, with the users each matches now."""
    return [
        schemas.SegmentOut(
            id=i.segment.id,
            name=i.segment.name,
            filter=i.segment.filter,
            users=i.matches,
            policy=i.policy,
        )
        for i in services_of(request).barriers.segments(tenant)
    ]


@router.post("/segments", response_model=schemas.SegmentOut, status_code=201, tags=["barriers"])
def create_segment(
    tenant: str, body: schemas.SegmentCreate, request: Request, p: Principal = Depends(admin)
) -> schemas.SegmentOut:
    """New-OrganizationSegment; a bad filter is 400 with its position."""
    services_of(request).barriers.new_segment(tenant, body.name, body.filter, actor(p))
    return get_segment(tenant, body.name, request, p)


@router.post("/segments/preview", response_model=schemas.FilterPreviewOut, tags=["barriers"])
def preview_filter(
    tenant: str, body: schemas.FilterPreview, request: Request, _p: Principal = Depends(admin)
) -> schemas.FilterPreviewOut:
    """Does a filter parse, and how many users would it match now? Saves nothing."""
    try:
        matches = services_of(request).barriers.preview_filter(tenant, body.filter)
    except FilterSyntaxError as exc:
        return schemas.FilterPreviewOut(
            valid=False, matches=None, error=exc.message, position=exc.position
        )
    return schemas.FilterPreviewOut(valid=True, matches=matches, error=None, position=None)


@router.get("/segments/{name}", response_model=schemas.SegmentOut, tags=["barriers"])
def get_segment(
    tenant: str, name: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.SegmentOut:
    """One segment."""
    info = services_of(request).barriers.segment(tenant, name)
    return schemas.SegmentOut(
        id=info.segment.id,
        name=info.segment.name,
        filter=info.segment.filter,
        users=info.matches,
        policy=info.policy,
    )


@router.patch("/segments/{name}", response_model=schemas.SegmentOut, tags=["barriers"])
def patch_segment(
    tenant: str,
    name: str,
    body: schemas.SegmentPatch,
    request: Request,
    p: Principal = Depends(admin),
) -> schemas.SegmentOut:
    """Set-OrganizationSegment -UserGroupFilter."""
    services_of(request).barriers.set_segment(tenant, name, body.filter, actor(p))
    return get_segment(tenant, name, request, p)


@router.delete("/segments/{name}", status_code=204, tags=["barriers"])
def delete_segment(
    tenant: str, name: str, request: Request, p: Principal = Depends(admin)
) -> Response:
    """Remove-OrganizationSegment (refused while a policy references it)."""
    services_of(request).barriers.remove_segment(tenant, name, actor(p))
    return Response(status_code=204)


@router.get("/policies", response_model=list[schemas.PolicyOut], tags=["barriers"])
def list_policies(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.PolicyOut]:
    """Policies as defined (Active and Inactive)."""
    return [policy_out(x) for x in services_of(request).barriers.policies(tenant)]


@router.post("/policies", response_model=schemas.PolicyOut, status_code=201, tags=["barriers"])
def create_policy(
    tenant: str, body: schemas.PolicyCreate, request: Request, p: Principal = Depends(admin)
) -> schemas.PolicyOut:
    """New-InformationBarrierPolicy; a broken rule is 400 naming it."""
    result = services_of(request).barriers.new_policy(
        tenant,
        body.name,
        body.assigned_segment,
        actor(p),
        allowed=body.segments_allowed,
        blocked=body.segments_blocked,
        state=parse_state(body.state),
        moderation_allowed=body.moderation_allowed,
        comment=body.comment,
    )
    return policy_out(result.policy)


@router.get("/policies/{name}", response_model=schemas.PolicyOut, tags=["barriers"])
def get_policy(
    tenant: str, name: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.PolicyOut:
    """One policy."""
    return policy_out(services_of(request).barriers.policy(tenant, name))


@router.patch("/policies/{name}", response_model=schemas.PolicyOut, tags=["barriers"])
def patch_policy(
    tenant: str,
    name: str,
    body: schemas.PolicyPatch,
    request: Request,
    p: Principal = Depends(admin),
) -> schemas.PolicyOut:
    """Set-InformationBarrierPolicy: list (the other kind replaces it), state, comment."""
    result = services_of(request).barriers.set_policy(
        tenant,
        name,
        actor(p),
        allowed=body.segments_allowed,
        blocked=body.segments_blocked,
        state=parse_state(body.state) if body.state else None,
        moderation_allowed=body.moderation_allowed,
        comment=body.comment,
    )
    return policy_out(result.policy)


@router.delete("/policies/{name}", status_code=204, tags=["barriers"])
def delete_policy(
    tenant: str, name: str, request: Request, p: Principal = Depends(admin)
) -> Response:
    """Remove-InformationBarrierPolicy."""
    services_of(request).barriers.remove_policy(tenant, name, actor(p))
    return Response(status_code=204)


@router.post(
    "/applications",
    status_code=202,
    response_model=schemas.ApplicationOut,
    responses={
        200: {
            "model": schemas.ApplicationOut | schemas.WhatIfOut,
            "description": "With wait=true: the ended application. With what_if=true: the "
            "preview (nothing changed).",
        }
    },
    tags=["applications"],
)
def start_application(
    tenant: str,
    request: Request,
    wait: bool = Query(False, description="Answer when the application has ended"),
    what_if: bool = Query(False, description="Preview what would change; change nothing"),
    p: Principal = Depends(admin),
) -> JSONResponse:
    """Start-InformationBarrierPoliciesApplication: 202 with its id; 409 while one runs."""
    services = services_of(request)
    if what_if:
        preview = services.applications.what_if(tenant)
        body = schemas.WhatIfOut.model_validate(
            {
                **preview.whatif.as_dict(),
                "conflicts": preview.conflicts,
                "findings": preview.findings,
                "total_recipients": preview.total_recipients,
                "reconciliation": preview.reconciliation,
            }
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200)
    if wait:
        app = services.applications.apply(tenant, actor(p))
        return JSONResponse(application_out(app).model_dump(mode="json"), status_code=200)
    app_id = services.applications.start_background(tenant, actor(p))
    app = services.applications.get(tenant, app_id)
    return JSONResponse(
        application_out(app).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/v1/tenants/{tenant}/applications/{app_id}"},
    )


@router.get("/applications", response_model=list[schemas.ApplicationOut], tags=["applications"])
def list_applications(
    tenant: str,
    request: Request,
    brief: bool = Query(
        False,
        description="Leave each report's per-user lists out (findings, conflicts), giving "
        "their counts as findings_count and conflicts_count",
    ),
    _p: Principal = Depends(admin),
) -> list[schemas.ApplicationOut]:
    """Status history, newest first. At 100,000 users each report lists every licensing
    finding (11 MB): ``brief=true`` is the list a page shows."""
    out = [application_out(a) for a in services_of(request).applications.history(tenant)]
    if brief:
        for app in out:
            report = dict(app.report)
            for name in ("findings", "conflicts"):
                if isinstance(report.get(name), list):
                    report[f"{name}_count"] = len(report.pop(name))
            app.report = report
    return out


@router.get(
    "/applications/{application_id}", response_model=schemas.ApplicationOut, tags=["applications"]
)
def get_application(
    tenant: str, application_id: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.ApplicationOut:
    """One application's status."""
    return application_out(services_of(request).applications.get(tenant, application_id))


@router.delete(
    "/applications/{application_id}",
    response_model=schemas.ApplicationOut,
    tags=["applications"],
)
def stop_application(
    tenant: str, application_id: str, request: Request, p: Principal = Depends(admin)
) -> schemas.ApplicationOut:
    """Stop-InformationBarrierPoliciesApplication: the epoch in force stays."""
    return application_out(services_of(request).applications.stop(tenant, application_id, actor(p)))


@router.get("/recipients/{upn}", response_model=schemas.RecipientOut, tags=["barriers"])
def recipient(
    tenant: str, upn: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.RecipientOut:
    """A user's segments, the policies that govern them, and errors."""
    status = services_of(request).decisions.recipient(tenant, upn)
    data = status.as_dict()
    return schemas.RecipientOut(**data)


__all__ = ["InvalidInput", "router"]
