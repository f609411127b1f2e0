"""Users, groups, service accounts, SKUs and licenses (semantics §2)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from infobarrier.core.directory import make_user
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.convert import group_out, skus_out, user_out, user_view_out
from infobarrier.http.errors import ERRORS
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS)
admin = require(Area.ADMIN)


@router.get("/users", response_model=list[schemas.UserOut], tags=["directory"])
def list_users(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.UserOut]:
    """Every user of the tenant."""
    directory = services_of(request).directory.directory(tenant)
    return [user_out(u, directory) for u in directory.users()]


@router.post("/users", response_model=schemas.UserOut, status_code=201, tags=["directory"])
def create_user(
    tenant: str, body: schemas.UserCreate, request: Request, p: Principal = Depends(admin)
) -> schemas.UserOut:
    """Create a user (a person)."""
    services = services_of(request)
    user = make_user(
        body.upn,
        display_name=body.display_name,
        mail=body.mail,
        account_enabled=body.account_enabled,
        user_type=body.user_type,
        hidden_from_address_lists=body.hidden_from_address_lists,
        proxy_addresses=body.proxy_addresses,
        attrs=body.attributes,
    )
    services.directory.create_user(tenant, user, actor(p))
    return user_out(user, services.directory.directory(tenant))


@router.get("/users/{upn}", response_model=schemas.UserOut, tags=["directory"])
def get_user(
    tenant: str, upn: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.UserOut:
    """One user by UPN."""
    return user_view_out(*services_of(request).directory.user_view(tenant, upn))


@router.patch("/users/{upn}", response_model=schemas.UserOut, tags=["directory"])
def patch_user(
    tenant: str, upn: str, body: schemas.UserPatch, request: Request, p: Principal = Depends(admin)
) -> schemas.UserOut:
    """Change a user; takes effect on decisions at once (semantics §5)."""
    services = services_of(request)
    # null means "leave as is", except for the hidden flag, where null means "not set" (§6).
    changes: dict[str, object] = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if k != "attributes" and (v is not None or k == "hidden_from_address_lists")
    }
    if "proxy_addresses" in changes:
        changes["proxy_addresses"] = tuple(changes["proxy_addresses"])  # type: ignore[arg-type]
    if not changes and not body.attributes:
        raise InvalidInput("nothing to change")
    services.directory.update_user(
        tenant, upn, actor(p), attributes=body.attributes or {}, **changes
    )
    return user_view_out(*services.directory.user_view(tenant, upn))


@router.delete("/users/{upn}", status_code=204, tags=["directory"])
def delete_user(tenant: str, upn: str, request: Request, p: Principal = Depends(admin)) -> Response:
    """Delete a user."""
    services_of(request).directory.remove_user(tenant, upn, actor(p))
    return Response(status_code=204)


@router.get("/service-accounts", response_model=list[schemas.UserOut], tags=["directory"])
def list_service_accounts(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.UserOut]:
    """Every vendor service account."""
    directory = services_of(request).directory.directory(tenant)
    return [user_out(u, directory) for u in directory.users() if u.kind.value == "service_account"]


@router.post(
    "/service-accounts", response_model=schemas.UserOut, status_code=201, tags=["directory"]
)
def create_service_account(
    tenant: str, body: schemas.ServiceAccountCreate, request: Request, p: Principal = Depends(admin)
) -> schemas.UserOut:
    """A service account for a vendor's staff, with its sponsor (semantics §2)."""
    services = services_of(request)
    user = services.directory.create_service_account(
        tenant,
        body.upn,
        vendor=body.vendor,
        sponsor=body.sponsor,
        display_name=body.display_name,
        actor=actor(p),
        **body.attributes,
    )
    return user_out(user, services.directory.directory(tenant))


@router.get("/groups", response_model=list[schemas.GroupOut], tags=["directory"])
def list_groups(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.GroupOut]:
    """Every group with its members."""
    directory = services_of(request).directory.directory(tenant)
    return [group_out(g, directory) for g in directory.groups()]


@router.post("/groups", response_model=schemas.GroupOut, status_code=201, tags=["directory"])
def create_group(
    tenant: str, body: schemas.GroupCreate, request: Request, p: Principal = Depends(admin)
) -> schemas.GroupOut:
    """Create a group (display names and mails are unique)."""
    services = services_of(request)
    if services.directory.directory(tenant).find_group(body.display_name) is not None:
        raise InvalidInput(f"a group named {body.display_name!r} already exists")
    group = services.directory.put_group(
        tenant, body.display_name, actor(p), mail=body.mail, members=body.members
    )
    return group_out(group, services.directory.directory(tenant))


@router.get("/groups/{group}", response_model=schemas.GroupOut, tags=["directory"])
def get_group(
    tenant: str, group: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.GroupOut:
    """One group by display name, mail or id."""
    directory = services_of(request).directory.directory(tenant)
    found = directory.find_group(group)
    if found is None:
        raise NotFound(f"no group {group!r}")
    return group_out(found, directory)


@router.put("/groups/{group}/members/{upn}", response_model=schemas.GroupOut, tags=["directory"])
def add_member(
    tenant: str, group: str, upn: str, request: Request, p: Principal = Depends(admin)
) -> schemas.GroupOut:
    """Add a member (a directory change: effective at once)."""
    services = services_of(request)
    updated = services.directory.add_member(tenant, group, upn, actor(p))
    return group_out(updated, services.directory.directory(tenant))


@router.delete("/groups/{group}/members/{upn}", response_model=schemas.GroupOut, tags=["directory"])
def remove_member(
    tenant: str, group: str, upn: str, request: Request, p: Principal = Depends(admin)
) -> schemas.GroupOut:
    """Remove a member."""
    services = services_of(request)
    updated = services.directory.remove_member(tenant, group, upn, actor(p))
    return group_out(updated, services.directory.directory(tenant))


@router.delete("/groups/{group}", status_code=204, tags=["directory"])
def delete_group(
    tenant: str, group: str, request: Request, p: Principal = Depends(admin)
) -> Response:
    """Delete a group."""
    services_of(request).directory.remove_group(tenant, group, actor(p))
    return Response(status_code=204)


@router.get("/skus", response_model=list[schemas.SkuOut], tags=["licenses"])
def list_skus(
    tenant: str, request: Request, _p: Principal = Depends(admin)
) -> list[schemas.SkuOut]:
    """The SKU catalog with seats bought and assigned."""
    return skus_out(services_of(request).directory.licenses(tenant))


@router.post("/skus/{part}/purchase", response_model=list[schemas.SkuOut], tags=["licenses"])
def purchase(
    tenant: str, part: str, body: schemas.Purchase, request: Request, p: Principal = Depends(admin)
) -> list[schemas.SkuOut]:
    """Buy more seats of a SKU."""
    return skus_out(services_of(request).directory.add_seats(tenant, part, body.seats, actor(p)))


@router.put("/skus/{part}", response_model=list[schemas.SkuOut], tags=["licenses"])
def set_seats(
    tenant: str, part: str, body: schemas.SeatsSet, request: Request, p: Principal = Depends(admin)
) -> list[schemas.SkuOut]:
    """Set a SKU's seats (never below those assigned)."""
    return skus_out(services_of(request).directory.purchase(tenant, part, body.seats, actor(p)))


def _licenses(request: Request, tenant: str, upn: str) -> schemas.UserLicenses:
    services = services_of(request)
    user = services.directory.user_view(tenant, upn)[0]  # one user, not the directory
    book = services.directory.licenses(tenant)
    return schemas.UserLicenses(
        upn=user.upn,
        skus=sorted(book.assignments.get(user.id, frozenset())),
        service_plans=sorted(book.plans_of(user.id)),
    )


@router.get("/users/{upn}/licenses", response_model=schemas.UserLicenses, tags=["licenses"])
def user_licenses(
    tenant: str, upn: str, request: Request, _p: Principal = Depends(admin)
) -> schemas.UserLicenses:
    """A user's SKUs and service plans."""
    return _licenses(request, tenant, upn)


@router.post("/users/{upn}/licenses", response_model=schemas.UserLicenses, tags=["licenses"])
def assign_license(
    tenant: str,
    upn: str,
    body: schemas.LicenseAssign,
    request: Request,
    p: Principal = Depends(admin),
) -> schemas.UserLicenses:
    """Assign a SKU (409 when out of seats; Remote Assist never to guests)."""
    services_of(request).directory.assign(tenant, upn, body.sku, actor(p))
    return _licenses(request, tenant, upn)


@router.delete(
    "/users/{upn}/licenses/{sku}", response_model=schemas.UserLicenses, tags=["licenses"]
)
def remove_license(
    tenant: str, upn: str, sku: str, request: Request, p: Principal = Depends(admin)
) -> schemas.UserLicenses:
    """Remove a SKU from a user."""
    services_of(request).directory.unassign(tenant, upn, sku, actor(p))
    return _licenses(request, tenant, upn)
