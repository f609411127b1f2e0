"""Wall-crossing exceptions through the service (semantics §11), with an injected clock:
request, approve, use, expire or revoke, reconciled and audited; bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from service_builders import ACTOR

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.collaboration import Chat
from infobarrier.core.contract import make_check
from infobarrier.core.directory import make_user
from infobarrier.core.errors import Conflict, InfobarrierError, InvalidInput, NotFound, Refused
from infobarrier.core.exceptions import FourEyes, State
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services, build

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PEOPLE = {"s1": "Sales", "s2": "Sales", "r1": "Research", "r2": "Research", "o1": "Ops"}


def upn(name: str) -> str:
    return f"{name}@bank.example"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(db_url: str, clock: Clock) -> Iterator[Services]:
    built = build(db_url, clock=clock)
    yield built
    built.store.dispose()


def bank(services: Services, name: str = "bank") -> str:
    """Sales and Research blocked from each other (applied), Ops free; everyone on Teams."""
    services.tenants.create(name, Mode.SINGLE_SEGMENT, ACTOR)
    users = [make_user(upn(n), Department=d) for n, d in PEOPLE.items()]
    services.directory.put_users(name, users, ACTOR)
    services.directory.add_seats(name, "SPE_E5", len(users), ACTOR)
    for user in users:
        services.directory.assign(name, user.upn, "SPE_E5", ACTOR)
    for dept in ("Sales", "Research", "Ops"):
        services.barriers.new_segment(name, dept, f"Department -eq '{dept}'", ACTOR)
    services.barriers.new_policy(
        name, "Sales-block", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply(name, ACTOR)
    return name


def check(services: Services, tenant: str, action: str, a: str, *to: str) -> Any:
    return services.decisions.check(tenant, make_check(action, upn(a), [upn(t) for t in to]))


def audit_kinds(services: Services, tenant: str) -> list[str]:
    return [e.kind for e in services.audit.entries(tenant)]


def ask(services: Services, tenant: str, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "users": [upn("s1"), upn("r1")],
        "actions": ["chat", "group-chat"],
        "start": None,
        "end": T0 + 2 * HOUR,
        "why": "deal team",
        "actor": "alice",
    }
    fields.update(overrides)
    return services.exceptions.request(tenant, **fields).id


def test_request_approve_use_expire_reconciled_and_audited(svc: Services, clock: Clock) -> None:
    tenant = bank(svc)
    with pytest.raises(Refused):
        svc.collaboration.create_chat(tenant, upn("s1"), [upn("r1")], ACTOR)
    exc_id = ask(svc, tenant)
    assert not check(svc, tenant, "chat", "s1", "r1").allowed  # nothing opens on request
    svc.exceptions.approve(tenant, exc_id, "bob")

    verdict = check(svc, tenant, "chat", "s1", "r1")
    assert verdict.allowed
    assert verdict.code == "allowed_by_exception"
    assert (verdict.exception, verdict.exception_end) == (exc_id, T0 + 2 * HOUR)
    assert check(svc, tenant, "chat", "r1", "s1").allowed  # both ways
    assert not check(svc, tenant, "call", "s1", "r1").allowed  # only the actions it names
    assert not check(svc, tenant, "chat", "s2", "r1").allowed  # only the people it names
    relation = svc.decisions.relationship(tenant, upn("s1"), upn("r1"))
    assert relation.code == "allowed_by_exception"

    one = svc.collaboration.create_chat(tenant, upn("s1"), [upn("r1")], ACTOR)
    group = svc.collaboration.create_chat(tenant, upn("s1"), [upn("r1"), upn("o1")], ACTOR)

    clock.now = T0 + 2 * HOUR  # the end: decisions close without anyone acting
    assert not check(svc, tenant, "chat", "s1", "r1").allowed
    with svc.store.transaction(write=False) as transaction:  # not recorded yet
        repos = transaction.scope(transaction.tenants.get(tenant))
        assert repos.exceptions.get(exc_id).state is State.APPROVED

    assert svc.exceptions.sweep() == 1
    assert svc.exceptions.sweep() == 0
    assert svc.exceptions.get(tenant, exc_id).state is State.EXPIRED
    after_one = svc.collaboration.get(tenant, "chat", one.id)
    after_group = svc.collaboration.get(tenant, "chat", group.id)
    assert isinstance(after_one, Chat)
    assert isinstance(after_group, Chat)
    assert after_one.read_only
    assert len(after_group.participant_ids()) == 2  # s1 or r1 removed again
    assert len(after_group.removed) == 1

    entries = svc.audit.entries(tenant)
    kinds = [e.kind for e in entries]
    for kind in ("exception.requested", "exception.approved", "exception.expired"):
        assert kinds.count(kind) == 1, kind
    requested = next(e for e in entries if e.kind == "exception.requested")
    assert requested.actor == "alice"
    assert requested.detail["justification"] == "deal team"
    assert next(e for e in entries if e.kind == "exception.approved").actor == "bob"
    caused = [e for e in entries if e.kind.startswith("reconciliation.")]
    assert len(caused) == 2
    for entry in caused:
        assert entry.detail["cause"] == "exception.expired"
        assert entry.detail["exception"] == exc_id
    assert svc.audit.verify(tenant)[1] is None  # the hash chain holds


def test_revocation_closes_at_once_and_reconciles(svc: Services, clock: Clock) -> None:
    tenant = bank(svc)
    exc_id = ask(svc, tenant)
    svc.exceptions.approve(tenant, exc_id, "bob")
    chat = svc.collaboration.create_chat(tenant, upn("s1"), [upn("r1")], ACTOR)
    clock.now = T0 + HOUR
    exc, actions = svc.exceptions.revoke(tenant, exc_id, "carol", "deal closed")
    assert exc.state is State.REVOKED
    assert (exc.closed_by, exc.note) == ("carol", "deal closed")
    assert [a["kind"] for a in actions] == ["chat_read_only"]
    assert not check(svc, tenant, "chat", "s1", "r1").allowed
    stored = svc.collaboration.get(tenant, "chat", chat.id)
    assert isinstance(stored, Chat)
    assert stored.read_only
    entry = next(e for e in svc.audit.entries(tenant) if e.kind == "reconciliation.chat_read_only")
    assert (entry.detail["cause"], entry.detail["exception"]) == ("exception.revoked", exc_id)


def test_a_segment_exception_opens_every_member_pair_and_its_what_if(svc: Services) -> None:
    tenant = bank(svc)
    exc_id = ask(svc, tenant, users=None, segments=["sales", "Research"], actions=["call"])
    chat = svc.collaboration.create_chat(tenant, upn("s2"), [upn("o1")], ACTOR)
    assert chat.id
    report = svc.exceptions.what_if(tenant, exc_id)
    assert report["effect"] == "approve"
    assert report["pairs_total"] == 4  # s1, s2 x r1, r2
    assert {tuple(sorted(p["pair"])) for p in report["pairs"]} == {
        (upn(r), upn(s)) for s in ("s1", "s2") for r in ("r1", "r2")
    }
    assert all(p["actions"] == ["call"] for p in report["pairs"])
    assert report["conversations_total"] == 0
    assert not check(svc, tenant, "call", "s2", "r2").allowed  # what-if changed nothing
    exc = svc.exceptions.approve(tenant, exc_id, "bob")
    assert exc.segments == ("Sales", "Research")  # as the tenant spells them
    assert check(svc, tenant, "call", "s2", "r2").code == "allowed_by_exception"
    assert check(svc, tenant, "call", "s2", "r2", "o1").allowed  # a group call: every pair
    assert not check(svc, tenant, "chat", "s2", "r2").allowed
    revoking = svc.exceptions.what_if(tenant, exc_id)
    assert revoking["effect"] == "revoke"


def test_the_what_if_names_the_conversations_holding_a_pair(svc: Services) -> None:
    tenant = bank(svc)
    first = ask(svc, tenant)
    svc.exceptions.approve(tenant, first, "bob")
    chat = svc.collaboration.create_chat(tenant, upn("s1"), [upn("r1")], ACTOR)
    svc.exceptions.revoke(tenant, first, "bob")  # the chat is now read-only
    second = ask(svc, tenant, actions=["chat"])
    report = svc.exceptions.what_if(tenant, second)
    assert report["pairs_total"] == 1
    assert [c["id"] for c in report["conversations"]] == [chat.id]


def test_search_finds_a_user_an_exception_opens_for_search(svc: Services) -> None:
    tenant = bank(svc)
    assert [u.upn for u in svc.decisions.search(tenant, "r1", upn("s1"))] == []
    exc_id = ask(svc, tenant, actions=["search"])
    svc.exceptions.approve(tenant, exc_id, "bob")
    assert [u.upn for u in svc.decisions.search(tenant, "r1", upn("s1"))] == [upn("r1")]


def test_expiry_of_a_thousand_at_once(svc: Services, clock: Clock) -> None:
    tenant = bank(svc)
    ids = [ask(svc, tenant, end=T0 + HOUR) for _ in range(3)]
    for exc_id in ids:
        svc.exceptions.approve(tenant, exc_id, "bob")
    # ... and 997 more written straight to the table (the service path is tested above).
    with svc.store.transaction() as transaction:
        stored = transaction.scope(transaction.tenants.get(tenant)).exceptions
        template = stored.get(ids[0])
        for n in range(997):
            stored.save(replace(template, id=f"bulk-{n:04d}"))
    assert len(svc.exceptions.list(tenant, [State.APPROVED])) == 1000
    clock.now = T0 + HOUR
    assert svc.exceptions.sweep() == 1000
    assert svc.exceptions.list(tenant, [State.APPROVED]) == []
    assert audit_kinds(svc, tenant).count("exception.expired") == 1000


# -- bad input: a clear error, nothing changed -------------------------------------------------


def snapshot(services: Services, tenant: str) -> tuple[Any, ...]:
    with services.store.transaction(write=False) as transaction:
        version = transaction.tenants.get(tenant).version
    return (
        [e.to_json() for e in services.exceptions.list(tenant)],
        len(services.audit.entries(tenant)),
        version,
    )


BAD: list[tuple[str, Callable[[Services, str, str], object], type[InfobarrierError], str]] = [
    (
        "ends before it starts",
        lambda s, t, _: ask(s, t, start=T0 + HOUR, end=T0 + 0.5 * HOUR),  # still ahead
        InvalidInput,
        "before it starts",
    ),
    (
        "exceeds the maximum",
        lambda s, t, _: ask(s, t, end=T0 + timedelta(days=31)),
        InvalidInput,
        "at most 30 days",
    ),
    (
        "lies in the past",
        lambda s, t, _: ask(s, t, start=T0 - 3 * HOUR, end=T0 - HOUR),
        InvalidInput,
        "in the past",
    ),
    ("unknown user", lambda s, t, _: ask(s, t, users=[upn("s1"), upn("zz")]), NotFound, "zz"),
    (
        "unknown segment",
        lambda s, t, _: ask(s, t, users=None, segments=["Sales", "Legal"]),
        NotFound,
        "Legal",
    ),
    ("unknown action", lambda s, t, _: ask(s, t, actions=["fax"]), InvalidInput, "fax"),
    ("no actor", lambda s, t, _: ask(s, t, actor="  "), InvalidInput, "requester"),
    ("own request", lambda s, t, i: s.exceptions.approve(t, i, "Alice"), FourEyes, "cannot"),
    (
        "approve twice",
        lambda s, t, i: s.exceptions.approve(t, i, "bob"),
        Conflict,
        "only a requested",
    ),
    ("revoke a request", lambda s, t, i: s.exceptions.revoke(t, i, "bob"), Conflict, "approved"),
    ("unknown id", lambda s, t, _: s.exceptions.approve(t, "nope", "bob"), NotFound, "nope"),
    (
        "another tenant's",
        lambda s, t, _: s.exceptions.approve(t, ask(s, "other"), "bob"),
        NotFound,
        "no exception",
    ),
]


@pytest.mark.parametrize(("name", "act", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error_and_changes_nothing(
    svc: Services,
    name: str,
    act: Callable[[Services, str, str], object],
    error: type[InfobarrierError],
    message: str,
) -> None:
    tenant = bank(svc)
    bank(svc, "other")
    pending = ask(svc, tenant)
    if name == "approve twice":
        svc.exceptions.approve(tenant, pending, "bob")
    before = snapshot(svc, tenant)
    with pytest.raises(error, match=message):
        act(svc, tenant, pending)
    assert snapshot(svc, tenant) == before


def test_tokens_name_their_person_and_compliance_is_a_role(svc: Services) -> None:
    tenant = bank(svc)
    record, plain = svc.tokens.create(
        tenant, Role.COMPLIANCE, ACTOR, "officer", person="Carol Chen"
    )
    assert record.person == "Carol Chen"
    principal = svc.tokens.verify(plain)
    assert principal is not None
    assert (principal.role, principal.person) == (Role.COMPLIANCE, "Carol Chen")
    with pytest.raises(InvalidInput):
        svc.tokens.create(tenant, Role.ADMIN, ACTOR, "", person="\x00")


def test_max_window_per_tenant(svc: Services) -> None:
    tenant = bank(svc)
    svc.exceptions.set_max_window(tenant, timedelta(days=2), ACTOR)
    with pytest.raises(InvalidInput, match="at most 2 days"):
        ask(svc, tenant, end=T0 + timedelta(days=3))
    with pytest.raises(InvalidInput):
        svc.exceptions.set_max_window(tenant, timedelta(days=1000), ACTOR)
    assert svc.exceptions.max_window(tenant) == timedelta(days=2)
