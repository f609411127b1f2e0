"""New users inserted straight from columns (``DirectoryRepository.insert_new_users``,
the users import of a file of new users) store exactly what the reference merge and
``save_users``/``save_groups`` store, on every backend, and all of them or none
(docs/decisions.md, "The users CSV import path")."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from infobarrier.core.barriers import Mode
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.new_users import new_users
from infobarrier.formats import entra_users_fast
from infobarrier.service.directory import DirectoryHandler
from infobarrier.service.wiring import Services, build
from infobarrier.store.schema import GroupRow, MembershipRow, TenantRow, UserRow

ACTOR = "test"
GROUPS = "groupDisplayName,groupMail\nSales,sales@t.example\nDL One,dl@t.example\nTraders,\n"

#: Cells a COPY or an executemany could get wrong: backslashes, tabs, quotes (the file
#: is then read by ``csv.reader``), JSON escapes, non-ASCII and astral characters, empty
#: attributes. (A cell over several lines sends the file to the reference merge.)
_ODD_CELLS = [
    "back\\slash",
    "tab\there",
    'say "hi"',
    "\\N",
    "caf\u00e9 \u4e2d\u6587 \U0001f600",
    "",
    "x,y",
]


def _file(n: int, odd: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["userPrincipalName", "id", "displayName", "mail", "accountEnabled", "userType"]
    header += ["hiddenFromAddressListsEnabled", "department", "companyName", "proxyAddresses"]
    writer.writerow([*header, "MemberOf"])
    for k in range(n):
        upn = f"u{k}@t.example" if k % 7 else f"\u00e9l\u00e8ve{k}@t.example"
        cell = _ODD_CELLS[k % len(_ODD_CELLS)] if odd else f"Dept {k % 3}"
        writer.writerow(
            [
                upn,
                f"0134d875-0000-4000-8000-{(n - k):012d}",  # in reverse id order
                "" if k % 5 == 0 else f"User {k}",
                "" if k % 4 == 0 else f"m{k}@t.example",
                ["True", "false", ""][k % 3],
                ["Member", "Guest", ""][k % 3],
                ["", "True", "False"][k % 3],
                cell,
                "Contoso" if k % 2 else "",
                "" if k % 3 else f"smtp:a{k}@t.example;SMTP:b{k}@t.example",
                ["", "Sales", "sales;DL One", "dl@t.example;Traders;Sales"][k % 4],
            ]
        )
    return out.getvalue()


def _services(store_url: str, *tenants: str) -> Services:
    services = build(store_url)
    for tenant in tenants:
        services.tenants.create(tenant, Mode.SINGLE_SEGMENT, ACTOR)
        services.directory.import_groups_csv(tenant, GROUPS.encode(), ACTOR)
    return services


def _stored(services: Services, tenant: str) -> tuple[list[Any], list[Any]]:
    """The tenant's user rows (JSON columns as text) and memberships, as stored."""
    store = services.ctx.store
    users_t = UserRow.__table__
    with store.transaction(write=False) as t:
        session = t.session
        tid = session.execute(select(TenantRow.id).where(TenantRow.name == tenant)).scalar_one()
        columns = [c for c in users_t.c if c.name != "tenant_id"]
        rows = session.execute(
            select(*columns).where(users_t.c.tenant_id == tid).order_by(users_t.c.id)
        ).all()
        members = session.execute(  # groups by name: their ids differ between tenants
            select(MembershipRow.user_id, GroupRow.display_name)
            .join(
                GroupRow,
                (GroupRow.tenant_id == MembershipRow.tenant_id)
                & (GroupRow.id == MembershipRow.group_id),
            )
            .where(MembershipRow.tenant_id == tid)
            .order_by(MembershipRow.user_id, GroupRow.display_name)
        ).all()
    return [tuple(row) for row in rows], [tuple(m) for m in members]


def _refused(*_args: object) -> None:
    raise AssertionError("the reference merge ran")


@pytest.mark.parametrize("odd", [False, True])
def test_new_users_are_stored_as_the_reference_stores_them(
    store_url: str, monkeypatch: pytest.MonkeyPatch, odd: bool
) -> None:
    services = _services(store_url, "fast", "reference")
    data = _file(60, odd).encode()
    with monkeypatch.context() as m:
        m.setattr(DirectoryHandler, "_merged_users", staticmethod(_refused))
        fast = services.directory.import_users_csv("fast", data, ACTOR)
    with monkeypatch.context() as m:
        m.setattr(DirectoryHandler, "_new_users", staticmethod(lambda tx, parsed: None))
        reference = services.directory.import_users_csv("reference", data, ACTOR)
    assert fast == reference
    assert fast.users_created == 60
    assert fast.groups_changed == 3
    assert _stored(services, "fast") == _stored(services, "reference")
    fast_users = list(services.directory.directory("fast").users())
    assert fast_users == list(services.directory.directory("reference").users())


def test_a_file_with_an_existing_user_is_merged(store_url: str) -> None:
    """A UPN that exists (in another spelling) makes the file an update: the reference
    merge runs, and updates that user."""
    services = _services(store_url, "t")
    services.directory.import_users_csv(
        "t", b"userPrincipalName,department\nA@t.example,X\n", ACTOR
    )
    summary = services.directory.import_users_csv(
        "t", b"userPrincipalName,department\nb@t.example,Y\na@T.example,Z\n", ACTOR
    )
    assert (summary.users_created, summary.users_updated) == (1, 1)
    directory = services.directory.directory("t")
    assert directory.find_upn("a@t.example").attributes == {"Department": "Z"}  # type: ignore[union-attr]


def test_an_existing_id_goes_to_the_reference_error(store_url: str) -> None:
    services = _services(store_url, "t")
    uid = "0134d875-0000-4000-8000-000000000001"
    services.directory.import_users_csv(
        "t", f"userPrincipalName,id\na@t.example,{uid}\n".encode(), ACTOR
    )
    with pytest.raises(InfobarrierError, match=r"already belongs to user 'a@t\.example'"):
        services.directory.import_users_csv(
            "t", f"userPrincipalName,id\nb@t.example,{uid}\n".encode(), ACTOR
        )


def test_a_failing_insert_leaves_nothing(store_url: str) -> None:
    """All rows or none: a user whose key exists fails the whole insert, and the users
    and memberships written before it in the transaction are rolled back."""
    services = _services(store_url, "t")
    services.directory.import_users_csv("t", b"userPrincipalName\nz@t.example\n", ACTOR)
    before = _stored(services, "t")
    n = 50_000  # more than one batch of store.bulk before the failing row
    upns = [f"u{k}@t.example" for k in range(n)] + ["Z@t.example"]
    ids = [f"0134d875-0000-4000-8000-{k:012d}" for k in range(n + 1)]
    users = new_users(ids, upns)
    assert users is not None
    with services.ctx.tenant_tx("t", ACTOR) as tx:
        gid = tx.repos.directory.group_names()[0][0]
    # The driver's own error on PostgreSQL (COPY runs on the raw connection).
    unique = pytest.raises(Exception, match="upn_key")
    with unique, services.ctx.tenant_tx("t", ACTOR) as tx:
        tx.repos.directory.insert_new_users(users, [(gid,)] * (n + 1))
    assert _stored(services, "t") == before


def test_any_user_of(store_url: str) -> None:
    services = _services(store_url, "t")
    with services.ctx.tenant_tx("t", ACTOR) as tx:
        assert not tx.repos.directory.any_user_of(["x"], ["a@t.example"])
    services.directory.import_users_csv(
        "t", b"userPrincipalName,id\na@t.example,0134d875-0000-4000-8000-000000000001\n", ACTOR
    )
    with services.ctx.tenant_tx("t", ACTOR) as tx:
        repo = tx.repos.directory
        assert repo.any_user_of(["x"], ["a@t.example"])
        assert repo.any_user_of(["0134d875-0000-4000-8000-000000000001"], ["b@t.example"])
        assert not repo.any_user_of(["x"], ["b@t.example"])


def test_the_change_log_names_the_new_users(store_url: str) -> None:
    services = _services(store_url, "t")
    services.directory.import_users_csv("t", _file(10, False).encode(), ACTOR)
    with services.ctx.tenant_tx("t", "", write=False) as tx:
        changes = tx.repos.changes.since(0)
        ids = {u.id for u in tx.repos.directory.load().users()}
    assert changes[-1][1] is not None
    assert set(changes[-1][1]) == ids
    _ = entra_users_fast  # the module under test
