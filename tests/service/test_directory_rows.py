"""A group member change and a new service account read only the rows they concern (§2).

Each change is made in a small tenant and in one 50 times bigger (every user also in a
group with everybody), with SQLAlchemy events counting the statements run and the
directory rows materialised: both tenants must cost the same, and
``DirectoryRepository.load`` (the whole directory) must not run. What each change leaves
in the store is read back, and a decision follows it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.directory import UserKind, make_user
from infobarrier.core.errors import InfobarrierError, InvalidInput, NotFound
from infobarrier.service.wiring import Services
from infobarrier.store.directory_repository import DirectoryRepository
from infobarrier.store.schema import GroupRow, MembershipRow, UserRow

ADMIN = "admin@example.com"
#: Users beyond the wall's: the small and the big tenant (× 50).
SIZES = {"small": 6, "big": 300}


def populate(services: Services, tenant: str) -> None:
    """Research and Sales blocked from each other, applied; ``SIZES[tenant]`` more users,
    all in ``Everyone``; an empty ``Deal Team`` group whose members form a segment."""
    services.tenants.create(tenant, Mode.SINGLE_SEGMENT, ADMIN)
    users = [
        make_user(f"rita@{tenant}.com", Department="Research"),
        make_user(f"sam@{tenant}.com", Department="Sales"),
        *(make_user(f"user{i:04d}@{tenant}.com", Department="Legal") for i in range(SIZES[tenant])),
    ]
    services.directory.put_users(tenant, users, ADMIN)
    services.directory.put_group(tenant, "Everyone", ADMIN, members=[u.upn for u in users])
    services.directory.put_group(tenant, "Deal Team", ADMIN)
    barriers = services.barriers
    barriers.new_segment(tenant, "Research", "Department -eq 'Research'", ADMIN)
    barriers.new_segment(tenant, "Sales", "MemberOf -eq 'Deal Team'", ADMIN)
    barriers.new_policy(
        tenant, "Wall", "Research", ADMIN, blocked=["Sales"], state=PolicyState.ACTIVE
    )
    services.applications.apply(tenant, ADMIN)
    services.decisions.current(tenant)  # the epoch in force, cached as a server holds it


@dataclass
class Work:
    """What the database did for one change."""

    statements: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    directory_loads: int = 0


@contextmanager
def measured(services: Services) -> Iterator[Work]:
    """Count statements, directory rows materialised and whole-directory loads."""
    work = Work()
    engine = services.store.engine

    def before_execute(*_args: Any) -> None:
        work.statements += 1

    def loaded(target: Any, _context: Any) -> None:
        work.rows[type(target).__tablename__] += 1

    original = DirectoryRepository.load

    def load_directory(repo: DirectoryRepository) -> Any:
        work.directory_loads += 1
        return original(repo)

    row_types = (UserRow, GroupRow, MembershipRow)
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


Change = Callable[[Services, str], Any]


def _add_member(services: Services, tenant: str) -> Any:
    return services.directory.add_member(tenant, "deal team", f"SAM@{tenant}.com", ADMIN)


def _remove_member(services: Services, tenant: str) -> Any:
    services.directory.add_member(tenant, "Deal Team", f"sam@{tenant}.com", ADMIN)
    services.decisions.current(tenant)
    with measured(services) as work:
        services.directory.remove_member(tenant, "Deal Team", f"sam@{tenant}.com", ADMIN)
    return work


def _service_account(services: Services, tenant: str) -> Any:
    return services.directory.create_service_account(
        tenant, f"bot@{tenant}.com", vendor="Acme", sponsor=f"rita@{tenant}.com", actor=ADMIN
    )


def _remove_group(services: Services, tenant: str) -> Any:
    services.directory.remove_group(tenant, "Deal Team", ADMIN)


CHANGES: dict[str, Change] = {
    "add member": _add_member,
    "service account": _service_account,
    "remove group": _remove_group,
}


def _cost(services: Services, tenant: str, change: Change) -> Work:
    with measured(services) as work:
        change(services, tenant)
    return work


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_costs_the_same_in_a_tenant_fifty_times_bigger(
    services: Services, name: str
) -> None:
    populate(services, "small")
    populate(services, "big")
    small = _cost(services, "small", CHANGES[name])
    big = _cost(services, "big", CHANGES[name])
    assert small.directory_loads == big.directory_loads == 0
    assert big.statements == small.statements
    assert big.rows == small.rows
    assert big.rows["users"] <= 2  # the member or sponsor, at most once more for the check


def test_removing_a_member_costs_the_same_in_a_tenant_fifty_times_bigger(
    services: Services,
) -> None:
    populate(services, "small")
    populate(services, "big")
    small, big = _remove_member(services, "small"), _remove_member(services, "big")
    assert small.directory_loads == big.directory_loads == 0
    assert (big.statements, big.rows) == (small.statements, small.rows)


def test_the_changes_are_stored_and_decisions_follow_them(services: Services) -> None:
    populate(services, "big")
    rita, sam = "rita@big.com", "sam@big.com"
    assert services.decisions.relationship("big", rita, sam).allowed
    group = _add_member(services, "big")
    assert group.display_name == "Deal Team"
    stored = services.directory.directory("big")
    assert stored.by_upn(sam).id in stored.find_group("Deal Team").members  # type: ignore[union-attr]
    assert len(stored.find_group("Everyone").members) == SIZES["big"] + 2  # type: ignore[union-attr]
    assert not services.decisions.relationship("big", rita, sam).allowed
    services.directory.remove_member("big", "Deal Team", sam, ADMIN)
    assert services.decisions.relationship("big", rita, sam).allowed
    account = _service_account(services, "big")
    stored = services.directory.directory("big")
    assert stored.by_upn("BOT@big.com").kind is UserKind.SERVICE_ACCOUNT
    assert stored.by_upn("bot@big.com").sponsor_id == stored.by_upn(rita).id
    assert account.attributes["Company"] == "Acme"


def test_bad_input_changes_nothing(services: Services) -> None:
    populate(services, "small")
    before = services.directory.directory("small")
    refused: list[tuple[Callable[[], Any], type[InfobarrierError], str]] = [
        (
            lambda: services.directory.add_member("small", "No Such", "sam@small.com", ADMIN),
            NotFound,
            "no group 'No Such'",
        ),
        (
            lambda: services.directory.add_member("small", "Deal Team", "nobody@small.com", ADMIN),
            NotFound,
            "no user 'nobody@small.com'",
        ),
        (
            lambda: services.directory.remove_member("small", "Deal Team", "sam@small.com", ADMIN),
            NotFound,
            "is not a member",
        ),
        (
            lambda: services.directory.create_service_account(
                "small", "SAM@small.com", vendor="Acme", sponsor="rita@small.com", actor=ADMIN
            ),
            InvalidInput,
            "already used by another user",
        ),
        (
            lambda: services.directory.create_service_account(
                "small", "bot@small.com", vendor="Acme", sponsor="nobody@small.com", actor=ADMIN
            ),
            NotFound,
            "no user 'nobody@small.com'",
        ),
    ]
    for call, error, message in refused:
        with pytest.raises(error, match=message):
            call()
    after = services.directory.directory("small")
    assert list(after.users()) == list(before.users())
    assert after.find_group("Deal Team") == before.find_group("Deal Team")
