"""A SCIM request on one user or group reads that user or group, never the whole directory.

Each request is made on the same resource in a small tenant and in one 50 times bigger,
measured with SQLAlchemy events (the statements run, the directory rows materialised)
and SQLite's progress handler (the virtual-machine steps: the work the database does).
Both tenants must cost the same, and ``DirectoryRepository.load`` must not run. What the
per-resource path answers is what the whole-directory path (a search without a key)
renders for the same resource, and decisions and reconciliation follow the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from scim_support import ADMIN, CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, Scim, build_wall, chat
from sqlalchemy import event

from infobarrier.core.directory import make_user
from infobarrier.service.wiring import Services
from infobarrier.store.directory_repository import DirectoryRepository
from infobarrier.store.schema import GroupRow, MembershipRow, UserRow
from infobarrier.store.scim_repository import ScimResourceRow

#: Users beyond the wall's three, and their memberships: the small and the big tenant.
SIZES = {"contoso": 6, "fabrikam": 300}
#: SQLite virtual-machine instructions per progress-handler call.
STEP = 10


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def user_body(upn: str, department: str, external_id: str) -> dict[str, Any]:
    """A user as Okta sends it (also in a PUT of the whole user)."""
    return {
        "schemas": [CORE_USER, ENTERPRISE],
        "userName": upn,
        "externalId": external_id,
        "name": {"givenName": "Pat", "familyName": "Doe"},
        "displayName": "Pat Doe",
        "emails": [{"primary": True, "value": upn, "type": "work"}],
        "active": True,
        ENTERPRISE: {"department": department, "employeeNumber": "7"},
    }


@dataclass
class Ids:
    """The resources a request works on, in one tenant."""

    tenant: str
    domain: str
    pat: str  # provisioned through SCIM (has a SCIM record), Sales
    rita: str  # from the directory (no SCIM record), Research
    sam: str
    ivan: str
    deal_team: str  # a SCIM group whose member is Sam
    everyone: str  # a directory group with every user: the tenant's memberships


def populate(scim: Scim, tenant: str) -> Ids:
    """The research wall, ``SIZES[tenant]`` more users in a group with everybody, Pat and
    the Deal Team through SCIM."""
    services = scim.services
    domain = f"{tenant}.com"
    build_wall(services, tenant, domain)
    fillers = [
        make_user(f"user{i:04d}@{domain}", Department=("Sales", "Research", "Legal")[i % 3])
        for i in range(SIZES[tenant])
    ]
    services.directory.put_users(tenant, fillers, ADMIN)
    pat = scim.ok(
        "POST", "Users", user_body(f"pat@{domain}", "Sales", "pat-ext"), status=201, tenant=tenant
    )
    directory = services.directory.directory(tenant)
    upns = [u.upn for u in directory.users()]
    everyone = services.directory.put_group(tenant, "Everyone", ADMIN, members=upns)
    sam = directory.by_upn(f"sam@{domain}").id
    deal_team = scim.ok(
        "POST",
        "Groups",
        {"schemas": [CORE_GROUP], "displayName": "Deal Team", "members": [{"value": sam}]},
        status=201,
        tenant=tenant,
    )
    return Ids(
        tenant,
        domain,
        pat["id"],
        directory.by_upn(f"rita@{domain}").id,
        sam,
        directory.by_upn(f"ivan@{domain}").id,
        deal_team["id"],
        everyone.id,
    )


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Work:
    """What the database did for one request."""

    statements: list[str] = field(default_factory=list)
    #: ORM rows materialised, by table (directory tables and SCIM records).
    rows: Counter[str] = field(default_factory=Counter)
    #: SQLite virtual-machine instructions, in units of ``STEP``.
    steps: int = 0
    directory_loads: int = 0


@contextmanager
def measured(services: Services) -> Iterator[Work]:
    """Count statements, rows materialised, SQLite steps and whole-directory loads."""
    work = Work()
    engine = services.store.engine
    raw_connections: list[Any] = []

    def step() -> int:
        work.steps += 1
        return 0  # go on

    def before_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        work.statements.append(statement)
        raw = conn.connection.dbapi_connection
        if raw not in raw_connections:
            raw.set_progress_handler(step, STEP)
            raw_connections.append(raw)

    def loaded(target: Any, _context: Any) -> None:
        work.rows[type(target).__tablename__] += 1

    original = DirectoryRepository.load

    def load_directory(repo: DirectoryRepository) -> Any:
        work.directory_loads += 1
        return original(repo)

    row_types = (UserRow, GroupRow, MembershipRow, ScimResourceRow)
    event.listen(engine, "before_cursor_execute", before_execute)
    for row_type in row_types:
        event.listen(row_type, "load", loaded)
    setattr(DirectoryRepository, "load", load_directory)  # noqa: B010
    try:
        yield work
    finally:
        setattr(DirectoryRepository, "load", original)  # noqa: B010
        for row_type in row_types:
            event.remove(row_type, "load", loaded)
        event.remove(engine, "before_cursor_execute", before_execute)
        for raw in raw_connections:
            raw.set_progress_handler(None, STEP)


# -- the requests ------------------------------------------------------------------------------
Request = Callable[[Scim, Ids], Any]


def _get_user(scim: Scim, ids: Ids) -> Any:
    return scim.ok("GET", f"Users/{ids.pat}", tenant=ids.tenant)


def _patch_department_entra(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"})
    return scim.ok("PATCH", f"Users/{ids.pat}", body, tenant=ids.tenant)


def _patch_department_okta(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "replace", "value": {f"{ENTERPRISE}:department": "Legal"}})
    return scim.ok("PATCH", f"Users/{ids.pat}", body, tenant=ids.tenant)


def _patch_directory_user(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Sales"})
    return scim.ok("PATCH", f"Users/{ids.rita}", body, tenant=ids.tenant)


def _deactivate(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Replace", "path": "active", "value": "False"})
    return scim.ok("PATCH", f"Users/{ids.pat}", body, tenant=ids.tenant)


def _rename(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Replace", "path": "userName", "value": f"pat.doe@{ids.domain}"})
    return scim.ok("PATCH", f"Users/{ids.pat}", body, tenant=ids.tenant)


def _rename_to_a_taken_upn(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Replace", "path": "userName", "value": f"RITA@{ids.domain}"})
    return scim.error("PATCH", f"Users/{ids.pat}", body, status=409, tenant=ids.tenant)


def _put_user(scim: Scim, ids: Ids) -> Any:
    body = {"id": ids.pat, **user_body(f"pat@{ids.domain}", "Legal", "pat-ext")}
    return scim.ok("PUT", f"Users/{ids.pat}", body, tenant=ids.tenant)


def _post_user(scim: Scim, ids: Ids) -> Any:
    body = user_body(f"new@{ids.domain}", "Sales", "new-ext")
    return scim.ok("POST", "Users", body, status=201, tenant=ids.tenant)


def _post_a_taken_upn(scim: Scim, ids: Ids) -> Any:
    body = user_body(f"Sam@{ids.domain}", "Sales", "x")
    return scim.error("POST", "Users", body, status=409, tenant=ids.tenant)


def _delete_user(scim: Scim, ids: Ids) -> Any:
    return scim.ok("DELETE", f"Users/{ids.ivan}", status=204, tenant=ids.tenant)


def _search(text: str) -> Request:
    def search(scim: Scim, ids: Ids) -> Any:
        query = text.format(ids=ids)
        found = scim.ok("GET", "Users", params={"filter": query}, tenant=ids.tenant)
        assert found["totalResults"] == 1, query
        return found

    return search


def _get_group(scim: Scim, ids: Ids) -> Any:
    return scim.ok("GET", f"Groups/{ids.deal_team}", tenant=ids.tenant)


def _find_group(scim: Scim, ids: Ids) -> Any:
    params = {"filter": 'displayName eq "deal team"', "excludedAttributes": "members"}
    found = scim.ok("GET", "Groups", params=params, tenant=ids.tenant)
    assert found["totalResults"] == 1
    return found


def _add_member(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "Add", "path": "members", "value": [{"value": ids.pat}]})
    return scim.ok("PATCH", f"Groups/{ids.deal_team}", body, tenant=ids.tenant)


def _remove_member(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "remove", "path": f'members[value eq "{ids.sam}"]'})
    return scim.ok("PATCH", f"Groups/{ids.deal_team}", body, tenant=ids.tenant)


def _add_unknown_member(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "add", "path": "members", "value": [{"value": "no-such-user"}]})
    return scim.error("PATCH", f"Groups/{ids.deal_team}", body, status=400, tenant=ids.tenant)


def _add_a_group_as_member(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "add", "path": "members", "value": [{"value": ids.everyone}]})
    return scim.error("PATCH", f"Groups/{ids.deal_team}", body, status=400, tenant=ids.tenant)


def _rename_group_to_a_taken_name(scim: Scim, ids: Ids) -> Any:
    body = ops({"op": "replace", "path": "displayName", "value": "EVERYONE"})
    return scim.error("PATCH", f"Groups/{ids.deal_team}", body, status=409, tenant=ids.tenant)


def _put_group(scim: Scim, ids: Ids) -> Any:
    body = {
        "schemas": [CORE_GROUP],
        "id": ids.deal_team,
        "displayName": "Deal Team",
        "members": [{"value": ids.sam}, {"value": ids.rita}],
    }
    return scim.ok("PUT", f"Groups/{ids.deal_team}", body, tenant=ids.tenant)


REQUESTS: dict[str, Request] = {
    "GET user": _get_user,
    "PATCH department (Entra ID)": _patch_department_entra,
    "PATCH department (Okta, no path)": _patch_department_okta,
    "PATCH a user from the directory": _patch_directory_user,
    "PATCH active": _deactivate,
    "PATCH userName": _rename,
    "PATCH userName to a taken one": _rename_to_a_taken_upn,
    "PUT user": _put_user,
    "POST user": _post_user,
    "POST a taken userName": _post_a_taken_upn,
    "DELETE user": _delete_user,
    "userName eq": _search('userName eq "PAT@{ids.domain}"'),
    "externalId eq": _search('externalId eq "pat-ext"'),
    "id eq": _search('id eq "{ids.pat}"'),
    "GET group": _get_group,
    "displayName eq": _find_group,
    "PATCH group: add member": _add_member,
    "PATCH group: remove member": _remove_member,
    "PATCH group: unknown member": _add_unknown_member,
    "PATCH group: a group as member": _add_a_group_as_member,
    "PATCH group: a taken name": _rename_group_to_a_taken_name,
    "PUT group": _put_group,
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_request_on_one_resource_costs_the_same_in_a_bigger_tenant(scim: Scim, name: str) -> None:
    request = REQUESTS[name]
    works: dict[str, Work] = {}
    for tenant in SIZES:
        ids = populate(scim, tenant)
        with measured(scim.services) as work:
            request(scim, ids)
        works[tenant] = work
    small, big = works["contoso"], works["fabrikam"]
    assert small.directory_loads == big.directory_loads == 0
    assert len(big.statements) == len(small.statements), (small.statements, big.statements)
    assert big.rows == small.rows
    assert sum(big.rows.values()) <= 10, big.rows  # a few rows, whatever the tenant
    # 50 times the users and memberships: the same work (an index seek may go one level
    # deeper); reading them all would take thousands of steps more.
    assert big.steps <= small.steps * 1.2 + 5, (small.steps, big.steps)


def test_searching_without_a_key_still_reads_the_whole_tenant(scim: Scim) -> None:
    """The documented exception (docs/scim.md, "Cost"): other filters read every user."""
    ids = populate(scim, "contoso")
    with measured(scim.services) as work:
        found = scim.ok("GET", "Users", params={"filter": f'userName co "{ids.domain}"'})
    assert found["totalResults"] == SIZES["contoso"] + 4
    assert work.directory_loads == 1


# -- the same answers ----------------------------------------------------------------------
def test_one_resource_renders_as_the_whole_directory_does(scim: Scim) -> None:
    """``GET /Users/{id}`` (its own rows) equals the same user in an unkeyed search (the
    whole directory, the path every request took before), for every user and group."""
    ids = populate(scim, "contoso")
    _add_member(scim, ids)
    _patch_department_entra(scim, ids)
    scim.services.directory.update_user(
        "contoso", f"pat@{ids.domain}", ADMIN, Department="Legal", mail=f"pd@{ids.domain}"
    )  # the directory moved away from what SCIM wrote
    listed = scim.ok("GET", "Users", params={"filter": "userName pr", "count": 1000})
    assert listed["totalResults"] == SIZES["contoso"] + 4
    for resource in listed["Resources"]:
        assert scim.ok("GET", f"Users/{resource['id']}") == resource
        by_name = scim.ok(
            "GET", "Users", params={"filter": f'userName eq "{resource["userName"]}"'}
        )
        assert by_name["Resources"] == [resource]
    pat = scim.ok("GET", f"Users/{ids.pat}")
    assert pat[ENTERPRISE] == {"department": "Legal", "employeeNumber": "7"}
    assert [g["display"] for g in pat["groups"]] == sorted(
        ["Deal Team", "Everyone"], key=lambda d: ids.deal_team if d == "Deal Team" else ids.everyone
    )
    groups = scim.ok("GET", "Groups", params={"filter": "displayName pr"})
    assert groups["totalResults"] == 2
    for resource in groups["Resources"]:
        assert scim.ok("GET", f"Groups/{resource['id']}") == resource


def test_a_patch_moves_the_barrier_and_reconciles_without_the_directory(scim: Scim) -> None:
    """Decisions follow the change at once; an existing chat is reconciled (§8) from the
    epoch in force patched for the changed users, as ``PATCH /v1/.../users`` does."""
    services = scim.services
    ids = populate(scim, "contoso")
    pat, rita = f"pat@{ids.domain}", f"rita@{ids.domain}"
    services.directory.purchase("contoso", "SPE_E5", 10, ADMIN)
    for upn in (pat, rita):
        services.directory.assign("contoso", upn, "SPE_E5", ADMIN)
    assert not chat(services, "contoso", pat, rita).allowed  # Sales and Research

    with measured(services) as moved:
        _patch_department_entra(scim, ids)  # Pat joins Research
    assert chat(services, "contoso", pat, rita).allowed
    conversation = services.collaboration.create_chat("contoso", pat, [rita], ADMIN)
    assert chat(services, "contoso", pat, rita).allowed  # the epoch cache is caught up

    with measured(services) as joined:
        _add_member(scim, ids)  # Pat joins the Deal Team: walled off from Research
    verdict = chat(services, "contoso", pat, rita)
    assert not verdict.allowed
    assert verdict.policy in {"Research wall", "Deal Team wall"}
    assert services.collaboration.get("contoso", "chat", conversation.id).read_only is True  # type: ignore[union-attr]
    assert any(e.kind.startswith("reconciliation.") for e in services.audit.entries("contoso"))
    assert moved.directory_loads == joined.directory_loads == 0


def test_an_unfiltered_page_is_paged_in_the_database(scim: Scim) -> None:
    """``GET /Users?count=1`` renders one user, whatever the tenant's size."""
    works: dict[str, Work] = {}
    for tenant in SIZES:
        populate(scim, tenant)
        # The second user; the first group (the Deal Team: one member, where the second,
        # Everyone, would read every user to render its members).
        for kind, start in (("Users", 2), ("Groups", 1)):
            with measured(scim.services) as work:
                page = scim.ok("GET", kind, params={"count": 1, "startIndex": start}, tenant=tenant)
            assert len(page["Resources"]) == 1
            assert page["startIndex"] == start
            works[f"{tenant} {kind}"] = work
    assert page["totalResults"] == 2  # fabrikam's groups
    for name, work in works.items():
        assert work.directory_loads == 0, name
        assert work.rows["users"] <= 2, (name, work.rows)
    assert works["contoso Users"].rows == works["fabrikam Users"].rows
    assert len(works["contoso Users"].statements) == len(works["fabrikam Users"].statements)


def test_pages_put_together_are_the_whole_list(scim: Scim) -> None:
    """Paged in SQL or rendered from the whole directory (a filter matching everyone):
    the same resources in the same order, and the same total."""
    populate(scim, "contoso")
    for kind, everyone in (("Users", "userName pr"), ("Groups", "displayName pr")):
        whole = scim.ok("GET", kind, params={"filter": everyone, "count": 1000})
        pages: list[Any] = []
        start = 1
        while True:
            page = scim.ok("GET", kind, params={"count": 4, "startIndex": start})
            assert page["totalResults"] == whole["totalResults"]
            pages.extend(page.get("Resources", []))
            start += 4
            if start > page["totalResults"]:
                break
        assert [r["id"] for r in pages] == [r["id"] for r in whole["Resources"]]
        assert pages == whole["Resources"]
    empty = scim.ok("GET", "Users", params={"count": 0})
    assert empty["totalResults"] == SIZES["contoso"] + 4
    assert empty.get("Resources", []) == []
