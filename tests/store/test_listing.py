"""The admin page's paged reads in SQL, on SQLite and PostgreSQL alike: search ignores
case and takes ``%`` and ``_`` literally, counts match pages, kinds filter, members page."""

from __future__ import annotations

from infobarrier.core.directory import Group, UserKind, make_user, new_id
from infobarrier.store.database import Store


def test_search_pages_and_members(store: Store) -> None:
    people = [make_user(f"p{i:02d}@abc.example", display_name=f"Person {i:02d}") for i in range(30)]
    odd = make_user("under_score@abc.example", display_name="MiXeD Case", mail="Mix@ABC.example")
    account = make_user(
        "v1@abc.example", kind=UserKind.SERVICE_ACCOUNT, sponsor_id=people[0].id, Company="V1"
    )
    group = Group(new_id(), "Everyone", "", frozenset(u.id for u in people[:12]))
    with store.transaction() as repo:
        repo.tenants.create("t1")
        scoped = repo.scope(repo.tenants.get("t1"))
        scoped.directory.save_users([*people, odd, account])
        scoped.directory.save_groups([group])
    with store.transaction(write=False) as repo:
        directory = repo.scope(repo.tenants.get("t1")).directory
        total, ids = directory.search_page("", None, 0, 10)
        assert total == 32
        assert len(ids) == 10
        assert directory.search_page("", None, 30, 10)[0] == 32
        assert len(directory.search_page("", None, 30, 10)[1]) == 2
        assert directory.search_page("PERSON 1", None, 0, 5)[0] == 10
        assert len(directory.search_page("PERSON 1", None, 0, 5)[1]) == 5
        assert directory.search_page("person 1", None, 50, 5) == (10, [])
        assert directory.search_page("mixed case", None, 0, 5) == (1, [odd.id])
        assert directory.search_page("mix@abc", None, 0, 5) == (1, [odd.id])
        assert directory.search_page("r_s", None, 0, 5) == (1, [odd.id])
        assert directory.search_page("%", None, 0, 5) == (0, [])
        assert directory.search_page("", "service_account", 0, 5) == (1, [account.id])
        total, groups = directory.search_groups("every", 0, 5)
        assert total == 1
        assert groups[0][1] == 12
        total, members = directory.member_page(group.id, 10, 5)
        assert total == 12
        assert [u.upn for u in members] == ["p10@abc.example", "p11@abc.example"]
