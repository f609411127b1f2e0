"""Builders shared by the HTTP tests: small tenants through the services, a seeded live server.

Tenants are built through ``services`` (fast, no HTTP); the behaviour under test is then
exercised through the API. Users are named ``<name>@abc.example``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from infobarrier.core.barriers import PolicyState
from infobarrier.core.collaboration import CallKind, TeamMode
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import Services, build

# ``conftest`` here is tests/http/conftest.py: pytest imports it just before this directory's
# test modules, which import this module.
from live_server import AppClient, LiveServer, make_tokens, start_server, stop_server

ACTOR = "test"
DOMAIN = "abc.example"
TEAMS_SKU = "ENTERPRISEPACK"  # Office 365 E3: EXCHANGE_S_ENTERPRISE and TEAMS1


def upn(name: str) -> str:
    """``name@abc.example`` (a full UPN is returned unchanged)."""
    return name if "@" in name else f"{name}@{DOMAIN}"


def add_people(
    services: Services,
    tenant: str,
    people: Mapping[str, str],
    *,
    sku: str | None = TEAMS_SKU,
    **fields: Any,
) -> list[str]:
    """Create users ``{name: department}`` ("" for none), each licensed with ``sku`` (TEAMS1).

    ``fields`` go to every user (``account_enabled=False``, ``user_type="Guest"``, ...).
    Returns their UPNs.
    """
    users = [
        make_user(
            upn(name),
            display_name=name.title(),
            mail=upn(name),
            attrs={"Department": dept} if dept else None,
            **fields,
        )
        for name, dept in people.items()
    ]
    services.directory.put_users(tenant, users, ACTOR)
    if sku is not None:
        license_users(services, tenant, [u.upn for u in users], sku)
    return [u.upn for u in users]


def license_users(services: Services, tenant: str, upns: Sequence[str], sku: str) -> None:
    """Buy one seat of ``sku`` per user and assign it."""
    services.directory.add_seats(tenant, sku, max(len(upns), 1), ACTOR)
    for name in upns:
        services.directory.assign(tenant, upn(name), sku, ACTOR)


@dataclass(frozen=True)
class PolicySpec:
    """An Active policy: ``blocked`` or ``allowed`` segments of ``segment``."""

    name: str
    segment: str
    blocked: Sequence[str] | None = None
    allowed: Sequence[str] | None = None
    state: PolicyState = PolicyState.ACTIVE


def define_barrier(
    services: Services,
    tenant: str,
    segments: Mapping[str, str],
    policies: Sequence[PolicySpec],
    *,
    apply: bool = True,
) -> None:
    """Segments ``{name: filter}`` and policies; applied unless ``apply=False``."""
    for name, text in segments.items():
        services.barriers.new_segment(tenant, name, text, ACTOR)
    for p in policies:
        services.barriers.new_policy(
            tenant,
            p.name,
            p.segment,
            ACTOR,
            allowed=p.allowed,
            blocked=p.blocked,
            state=p.state,
        )
    if apply:
        services.applications.apply(tenant, ACTOR)


# The standard small barrier of the collaboration tests: Sales and Research may not talk
# (one block list, enforced both ways); Ops is a segment without a policy; people with no
# department are in no segment. Members of the group ``ResearchGuests`` count as Research.
SEGMENTS = {
    "Sales": "Department -eq 'Sales'",
    "Research": "Department -eq 'Research' -or MemberOf -eq 'ResearchGuests'",
    "Ops": "Department -eq 'Ops'",
}
SALES_BLOCK = PolicySpec("Sales-block", "Sales", blocked=["Research"])
PEOPLE = {
    "s1": "Sales",
    "s2": "Sales",
    "s3": "Sales",
    "r1": "Research",
    "r2": "Research",
    "o1": "Ops",
    "o2": "Ops",
    "n1": "",
    "n2": "",
}


def standard_tenant(services: Services, tenant: str = "abc", *, apply: bool = True) -> None:
    """``PEOPLE`` (licensed for Teams), the group ``ResearchGuests`` (empty) and the barrier
    ``Sales-block`` (applied unless ``apply=False``: then nobody is segmented yet)."""
    add_people(services, tenant, PEOPLE)
    services.directory.put_group(tenant, "ResearchGuests", ACTOR)
    define_barrier(services, tenant, SEGMENTS, [SALES_BLOCK], apply=apply)


def seed_for_fuzzing(services: Services, tenant: str = "abc") -> None:
    """A tenant with a bit of everything, so that generated requests meet real data."""
    standard_tenant(services, tenant)
    add_people(services, tenant, {"guest1": ""}, user_type="Guest")
    add_people(services, tenant, {"off1": "Ops"}, account_enabled=False)
    services.directory.create_service_account(
        tenant, upn("v1-ra"), vendor="Vendor1", sponsor=upn("s1"), actor=ACTOR
    )
    services.directory.put_group(tenant, "Staff", ACTOR, members=[upn("o1"), upn("n1")])
    services.barriers.new_segment(tenant, "Legal", "Department -eq 'Legal'", ACTOR)
    services.barriers.new_policy(
        tenant, "Legal-allow", "Legal", ACTOR, allowed=["Legal", "Ops"], comment="not yet"
    )
    collab = services.collaboration
    collab.create_team(tenant, "Sales team", [upn("s1")], TeamMode.IMPLICIT, ACTOR)
    chat = collab.create_chat(tenant, upn("s1"), [upn("s2"), upn("o1")], ACTOR)
    collab.post_message(tenant, chat.id, upn("s1"), "hello", ACTOR)
    collab.create_meeting(tenant, upn("o1"), "sync", [upn("n1")], ACTOR)
    collab.start_call(tenant, upn("s1"), [upn("n1")], CallKind.CALL, ACTOR)


@contextmanager
def running_server(
    directory: Path, seed: Any = None, tenants: Sequence[str] = ("abc", "other")
) -> Iterator[LiveServer]:
    """A real ``infobarrier serve`` over a new database in ``directory``, tenants with a token
    per role, ``seed(services, "abc")`` run first when given; stopped on exit."""
    db_url = f"sqlite:///{directory / 'live.db'}"
    services = build(db_url)
    try:
        tokens = make_tokens(services, list(tenants))
        if seed is not None:
            seed(services, tenants[0])
    finally:
        services.store.dispose()
    process, base = start_server(db_url, directory / "server.log")
    try:
        yield LiveServer(base, db_url, tokens, process)
    finally:
        stop_server(process)


def json_of(response: httpx.Response, status: int) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code}: {response.text}"
    )
    return response.json()


def refusal(response: httpx.Response, code: str) -> dict[str, Any]:
    """A 403 refusal with ``code``; returns its body."""
    body: dict[str, Any] = json_of(response, 403)
    assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return body


@dataclass(frozen=True)
class Api:
    """Requests to one tenant's routes with one role's token (``api.get("/users")``)."""

    client: AppClient
    role: str
    tenant: str = "abc"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``METHOD /v1/tenants/{tenant}{path}``."""
        headers = {**self.client.headers(self.tenant, self.role), **kwargs.pop("headers", {})}
        return self.client.http.request(
            method, f"/v1/tenants/{self.tenant}{path}", headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)
