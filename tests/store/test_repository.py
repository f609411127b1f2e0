"""Store contract: what one transaction writes, the next reads back; failures write nothing."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from infobarrier.core.audit import first_broken
from infobarrier.core.barriers import BarrierConfig, Mode, PolicyState
from infobarrier.core.directory import Group, UserKind, UserType, make_user, new_id
from infobarrier.core.errors import Busy, Conflict, InvalidInput
from infobarrier.core.licenses import LicenseBook
from infobarrier.store.database import ReadOnlyViolation, Store
from infobarrier.store.schema import Base


def _tenant(store: Store, name: str = "t1") -> None:
    with store.transaction() as repo:
        repo.tenants.create(name)


def test_tenant_created_with_catalog_and_listed(store: Store) -> None:
    _tenant(store, "alpha")
    _tenant(store, "beta")
    with store.transaction() as repo:
        assert [t.name for t in repo.tenants.all()] == ["alpha", "beta"]
        book = repo.scope(repo.tenants.get("alpha")).licenses.load()
    assert "MICROSOFT_REMOTE_ASSIST" in book.skus
    assert all(s.seats == 0 for s in book.skus.values())


def test_duplicate_and_invalid_tenant_names_refused(store: Store) -> None:
    _tenant(store, "alpha")
    with pytest.raises(Conflict), store.transaction() as repo:
        repo.tenants.create("alpha")
    with pytest.raises(InvalidInput, match=r"tenant\.name"), store.transaction() as repo:
        repo.tenants.create("Bad_Name")


def test_directory_round_trip(store: Store) -> None:
    _tenant(store)
    sponsor = make_user("sponsor@abc.example", Department="Support", UsageLocation="US")
    account = make_user(
        "v1@abc.example",
        kind=UserKind.SERVICE_ACCOUNT,
        sponsor_id=sponsor.id,
        Company="Vendor1",
        user_type=UserType.MEMBER,
        hidden_from_address_lists=True,
        proxy_addresses=["SMTP:v1@abc.example", "smtp:vendor1@abc.example"],
    )
    group = Group(new_id(), "V1_RemoteAssistUser", "v1ra@abc.example", frozenset({account.id}))
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).directory.save_users([sponsor, account])
        repo.scope(tenant).directory.save_groups([group])
    with store.transaction() as repo:
        directory = repo.scope(repo.tenants.get("t1")).directory.load()
    assert directory.by_upn("V1@ABC.example") == account
    assert directory.by_upn("sponsor@abc.example") == sponsor
    assert directory.member_of_values(account.id) == [
        "V1_RemoteAssistUser",
        "v1ra@abc.example",
        group.id,
    ]


def test_reads_after_a_set_based_write_in_one_transaction_see_it(store: Store) -> None:
    """Writes are Core statements (``store.bulk``); rows the ORM loaded earlier in the same
    transaction must not be served stale afterwards (a reconciliation reads them)."""
    _tenant(store)
    ann = make_user("ann@x.example", Department="A")
    group = Group(new_id(), "G", "", frozenset({ann.id}))
    with store.transaction() as repo:
        directory = repo.scope(repo.tenants.get("t1")).directory
        directory.save_users([ann])
        directory.save_groups([group])
    with store.transaction() as repo:
        directory = repo.scope(repo.tenants.get("t1")).directory
        assert directory.find_user("ann@x.example") == ann  # now in the identity map
        assert directory.load_group(group.id) == group
        moved = replace(ann, attributes={"Department": "B"})
        directory.save_users([moved])
        directory.save_groups([replace(group, display_name="H", members=frozenset())])
        assert directory.find_user("ann@x.example") == moved
        assert directory.users_by_id([ann.id]) == {ann.id: moved}
        ((loaded, groups),) = directory.load_users([ann.id])
        assert loaded == moved
        assert groups == []
        reloaded = directory.load_group(group.id)
        assert reloaded is not None
        assert (reloaded.display_name, reloaded.members) == ("H", frozenset())


def test_group_membership_replaced_exactly(store: Store) -> None:
    _tenant(store)
    a, b, c = (make_user(f"{n}@x.example") for n in "abc")
    group = Group(new_id(), "G", "", frozenset({a.id, b.id}))
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).directory.save_users([a, b, c])
        repo.scope(tenant).directory.save_groups([group])
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).directory.save_groups(
            [Group(group.id, "G", "", frozenset({b.id, c.id}))]
        )
    with store.transaction() as repo:
        loaded = repo.scope(repo.tenants.get("t1")).directory.load().group(group.id)
    assert loaded.members == {b.id, c.id}


def test_failed_transaction_writes_nothing(store: Store) -> None:
    _tenant(store)

    def write_then_fail() -> None:
        with store.transaction() as repo:
            tenant = repo.tenants.get("t1")
            repo.scope(tenant).directory.save_users([make_user("x@x.example")])
            repo.scope(tenant).barriers.save(BarrierConfig().new_segment("S", "Department -eq 'x'"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        assert len(repo.scope(tenant).directory.load()) == 0
        assert repo.scope(tenant).barriers.load().segments == ()


def test_duplicate_upn_refused_by_database(store: Store) -> None:
    _tenant(store)
    with store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).directory.save_users([make_user("a@x.example")])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).directory.save_users([make_user("A@X.example")])


def test_config_round_trip_keeps_order_ids_and_fields(store: Store) -> None:
    _tenant(store)
    config = (
        BarrierConfig()
        .new_segment("HR", "Department -eq 'HR'")
        .new_segment("Sales", "Department -eq 'Sales' -or Company -like 'S*'")
        .new_segment("Research", "Department -eq 'Research'")
        .new_policy("Sales-Research", "Sales", blocked=["Research"], state=PolicyState.ACTIVE)
        .new_policy("HR-only", "HR", allowed=["HR", "Sales"], comment="it's fine")
    )
    with store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).barriers.save(config)
    with store.transaction() as repo:
        loaded = repo.scope(repo.tenants.get("t1")).barriers.load()
    assert loaded == config
    edited = loaded.set_policy("Sales-Research", allowed=["Sales"]).remove_policy("HR-only")
    edited = edited.remove_segment("HR").new_segment("HR", "Department -eq 'People'")
    with store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).barriers.save(edited)
    with store.transaction() as repo:
        assert repo.scope(repo.tenants.get("t1")).barriers.load() == edited


def test_mode_saved_with_config(store: Store) -> None:
    _tenant(store)
    with store.transaction() as repo:
        tenant = repo.scope(repo.tenants.get("t1")).barriers.save(
            BarrierConfig().set_mode(Mode.MULTI_SEGMENT)
        )
        assert tenant.mode is Mode.MULTI_SEGMENT
    with store.transaction() as repo:
        assert repo.tenants.get("t1").mode is Mode.MULTI_SEGMENT


def test_licenses_round_trip(store: Store) -> None:
    _tenant(store)
    user = make_user("u@x.example")
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).directory.save_users([user])
        book = repo.scope(tenant).licenses.load().set_seats("SPE_E5", 2).assign(user, "SPE_E5")
        repo.scope(tenant).licenses.save(book)
    with store.transaction() as repo:
        loaded = repo.scope(repo.tenants.get("t1")).licenses.load()
    assert loaded.sku("SPE_E5").seats == 2
    assert loaded.assignments[user.id] == {"SPE_E5"}
    assert "INFORMATION_BARRIERS" in loaded.plans_of(user.id)


def test_only_one_running_application_per_tenant(store: Store) -> None:
    _tenant(store)
    _tenant(store, "t2")
    with store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).applications.start(new_id(), "me")
    with pytest.raises(Conflict), store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).applications.start(new_id(), "you")
    with store.transaction() as repo:  # another tenant is independent
        repo.scope(repo.tenants.get("t2")).applications.start(new_id(), "me")
        assert len(repo.scope(repo.tenants.get("t1")).applications.running()) == 1


def test_epochs_latest_in_force_with_own_copy(store: Store) -> None:
    _tenant(store)
    config = (
        BarrierConfig()
        .new_segment("A", "Department -eq 'a'")
        .new_policy("P", "A", allowed=["A"], state=PolicyState.ACTIVE)
        .new_segment("B", "Department -eq 'b'")
        .new_policy("Q", "B", blocked=["A"])
    )
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        assert repo.scope(tenant).applications.current_epoch() is None
        app = new_id()
        repo.scope(tenant).applications.start(app, "me")
        first = repo.scope(tenant).applications.add_epoch(app, config)
    with store.transaction() as repo:
        found = repo.scope(repo.tenants.get("t1")).applications.current_epoch()
    assert found is not None
    epoch_id, applied = found
    assert epoch_id == first
    assert [p.name for p in applied.policies] == ["P"]  # only Active policies are copied
    assert [s.name for s in applied.segments] == ["A", "B"]


def test_audit_chain_appends_and_detects_tampering(store: Store) -> None:
    _tenant(store)
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        for n in range(3):
            repo.scope(tenant).audit.append("cli:test", "thing.done", {"n": n})
    with store.transaction() as repo:
        entries = repo.scope(repo.tenants.get("t1")).audit.entries()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert first_broken(entries, store.audit_anchor.key) is None
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET detail = '{\"n\": 99}' WHERE seq = 2"))
    with store.transaction() as repo:
        broken = first_broken(
            repo.scope(repo.tenants.get("t1")).audit.entries(), store.audit_anchor.key
        )
    assert broken is not None
    assert broken[0] == 2


def test_audit_filters(store: Store) -> None:
    _tenant(store)
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).audit.append("alice", "segment.created", {})
        repo.scope(tenant).audit.append("bob", "policy.created", {})
        repo.scope(tenant).audit.append("alice", "policy.created", {})
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        assert [e.seq for e in repo.scope(tenant).audit.entries(actor="alice")] == [1, 3]
        assert [e.seq for e in repo.scope(tenant).audit.entries(kinds=["policy.created"])] == [2, 3]


def test_delete_tenant_data_removes_everything(store: Store) -> None:
    _tenant(store)
    user = make_user("u@x.example")
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.scope(tenant).directory.save_users([user])
        repo.scope(tenant).directory.save_groups([Group(new_id(), "G", "", frozenset({user.id}))])
        repo.scope(tenant).licenses.save(
            LicenseBook.new().set_seats("SPE_E5", 1).assign(user, "SPE_E5")
        )
        repo.scope(tenant).audit.append("me", "x", {})
    with store.transaction() as repo:
        repo.tenants.delete_data(repo.tenants.get("t1"))
    with store.transaction() as repo:
        assert repo.tenants.find("t1") is None
    _tenant(store)  # the name is free again


def test_a_read_transaction_refuses_writes_and_writes_nothing(store: Store) -> None:
    _tenant(store, "alpha")
    with pytest.raises(ReadOnlyViolation), store.transaction(write=False) as repo:
        repo.tenants.create("beta")
    with store.transaction(write=False) as repo:
        assert [t.name for t in repo.tenants.all()] == ["alpha"]


def test_a_read_transaction_does_not_hold_writers_back(store: Store) -> None:
    """A reader sees its snapshot while a writer commits (on SQLite: no write lock)."""
    _tenant(store, "alpha")
    done: list[str] = []

    def write() -> None:
        with store.transaction() as repo:
            repo.tenants.create("beta")
        done.append("beta")

    with store.transaction(write=False) as repo:
        assert [t.name for t in repo.tenants.all()] == ["alpha"]
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=10)
        assert done == ["beta"]  # committed while the read was open
    with store.transaction(write=False) as repo:
        assert [t.name for t in repo.tenants.all()] == ["alpha", "beta"]


def test_the_migrated_schema_is_the_models_schema(store: Store) -> None:
    """Alembic's migrations and ``store.schema`` describe the same tables and indexes."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_memberships_by_user_are_an_index_search_on_sqlite(tmp_path: Path) -> None:
    """Not a scan of the tenant's memberships, even without statistics (migration 0004)."""
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    with store.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT user_id, group_id FROM memberships"
            " WHERE tenant_id = 1 AND user_id IN ('a', 'b')"
        ).all()
    store.dispose()
    assert "ix_memberships_user (tenant_id=? AND user_id=?)" in str(plan)


def _write_audit(store: Store) -> None:
    with store.transaction() as repo:
        tenant = repo.tenants.get("t1")
        repo.tenants.lock(tenant)
        repo.scope(tenant).audit.append("me", "never", {})


def test_a_writer_that_cannot_have_the_lock_in_time_is_busy(store_url: str) -> None:
    """Another writer holds the tenant: ``Busy`` after the lock timeout, nothing written."""
    store = Store(store_url, lock_seconds=0.3)
    try:
        _tenant(store)
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.transaction() as repo:
                repo.tenants.lock(repo.tenants.get("t1"))
                holding.set()
                release.wait(timeout=30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(timeout=30)
            with pytest.raises(Busy, match="busy"):
                _write_audit(store)
        finally:
            release.set()
            holder.join(timeout=30)
        with store.transaction(write=False) as repo:
            assert repo.scope(repo.tenants.get("t1")).audit.entries() == []
    finally:
        store.dispose()


def test_collaboration_objects_saved_many_at_once_insert_or_replace(store: Store) -> None:
    """``save_many`` (reconciliation of many objects) is ``save`` of each: new ids are
    inserted, existing ones replaced, in one transaction."""
    _tenant(store)
    with store.transaction() as repo:
        collab = repo.scope(repo.tenants.get("t1")).collab
        collab.save("chat", {"id": "c1", "read_only": False})
    with store.transaction() as repo:
        collab = repo.scope(repo.tenants.get("t1")).collab
        collab.save_many(
            [
                ("chat", {"id": "c1", "read_only": True}),
                ("team", {"id": "t9", "members": []}),
                ("chat", {"id": "c2", "read_only": False}),
            ]
        )
        collab.save_many([])
    with store.transaction() as repo:
        collab = repo.scope(repo.tenants.get("t1")).collab
        assert collab.get("chat", "c1") == {"id": "c1", "read_only": True}
        assert collab.get("team", "t9") == {"id": "t9", "members": []}
        assert sorted(o["id"] for o in collab.objects()) == ["c1", "c2", "t9"]


def test_ids_of_finds_users_by_any_spelling_of_their_upn_and_skips_unknown_ones(
    store: Store,
) -> None:
    _tenant(store)
    ann, bob = make_user("Ann@X.example"), make_user("bob@x.example")
    with store.transaction() as repo:
        repo.scope(repo.tenants.get("t1")).directory.save_users([ann, bob])
    with store.transaction(write=False) as repo:
        directory = repo.scope(repo.tenants.get("t1")).directory
        found = directory.ids_of(["ANN@x.example", " bob@X.EXAMPLE ", "nobody@x.example"])
        assert sorted(found) == sorted([ann.id, bob.id])
        assert directory.ids_of([]) == []
        assert directory.ids_of(["nobody@x.example"]) == []
