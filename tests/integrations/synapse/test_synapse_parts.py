"""The module's parts without a homeserver: configuration, decisions over the seed's epoch,
reconciliation of rooms (property-tested against a direct check), the deciders when the
store or the service cannot be reached."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.contract import Action
from infobarrier.core.decisions import decide
from infobarrier.core.exceptions import ExceptionIndex, approve, new_request
from infobarrier.demo import abc
from infobarrier.http.app import create_app
from infobarrier.service.wiring import Services, build
from infobarrier_synapse.config import ConfigError, ModuleConfig, OnUnavailable, parse
from infobarrier_synapse.deciders import LocalDecider, RemoteDecider
from infobarrier_synapse.gate import Gate
from infobarrier_synapse.rooms import (
    Room,
    RoomKind,
    RoomMember,
    joins_group_call,
    plan_rooms,
    room_kind,
    shares_screen,
)
from live_server import free_port, make_tokens

HS = "matrix.abc.test"
TEMPLATE = "{localpart}@abc.example"


def mx(localpart: str) -> str:
    return f"@{localpart}:{HS}"


async def inline(f: Callable[..., Any], *args: Any) -> Any:
    """The thread hand-off, done inline (the tests have no reactor)."""
    return f(*args)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str]]:
    path = tmp_path_factory.mktemp("seed") / "ib.db"
    services = build(f"sqlite:///{path}")
    abc.load(services, "test")
    yield services, f"sqlite:///{path}"
    services.store.dispose()


def gate_of(services: Services, **config: Any) -> Gate:
    cfg = parse({"tenant": "abc", "database": "sqlite://", "user_id_to_upn": TEMPLATE, **config})
    epoch, restricted = services.decisions.in_force("abc")
    return Gate(epoch, restricted, 1, cfg, HS)


def name(gate: Gate) -> Callable[[str], str]:
    """A Matrix user's UPN (or their id, for another server's user)."""
    return lambda user_id: gate.upn(user_id) or user_id


# -- configuration ----------------------------------------------------------------------------


def test_config_both_modes() -> None:
    local = parse({"tenant": "abc", "database": "sqlite:////var/lib/ib.db"})
    assert local.user_id_to_upn == "{localpart}@{server_name}"
    assert local.on_unavailable is OnUnavailable.DENY
    assert local.upn_of("se1a", "abc.example") == "se1a@abc.example"
    remote = parse({"tenant": "abc", "url": "http://127.0.0.1:8000/", "token": "t"})
    assert remote.url == "http://127.0.0.1:8000"
    assert remote.database is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"database": "sqlite://"}, "'tenant' is required"),
        ({"tenant": "abc"}, "exactly one of 'database'"),
        ({"tenant": "abc", "database": "sqlite://", "url": "http://x"}, "exactly one"),
        ({"tenant": "abc", "url": "http://x"}, "needs 'token'"),
        ({"tenant": "abc", "url": "ftp://x", "token": "t"}, "must be http(s)"),
        ({"tenant": "abc", "database": "sqlite://", "token": "t"}, "only used with 'url'"),
        ({"tenant": "abc", "database": "sqlite://", "user_id_to_upn": "x@y"}, "{localpart}"),
        ({"tenant": "abc", "database": "sqlite://", "user_id_to_upn": "{localpart}{x}"}, "only"),
        ({"tenant": "abc", "database": "sqlite://", "unknown_users": "maybe"}, "deny | allow"),
        ({"tenant": "abc", "database": "sqlite://", "on_unavailable": "x"}, "last_known"),
        ({"tenant": "abc", "database": "sqlite://", "poll_seconds": 0}, "seconds"),
        ({"tenant": "abc", "database": "sqlite://", "colour": "red"}, "unknown key(s) colour"),
        ([], "must be a mapping"),
    ],
)
def test_config_errors_name_the_problem(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    assert message in str(caught.value)


# -- decisions over the seed ------------------------------------------------------------------


def test_gate_decisions(seeded: tuple[Services, str]) -> None:
    gate = gate_of(seeded[0])
    assert gate.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")]).allowed
    refused = gate.check(Action.CALL, mx("v1-ra1"), [mx("se2a")])
    assert (refused.allowed, refused.code, refused.action) == (False, "blocked_by_policy", "call")
    assert refused.pair == ("v1-ra1@abc.example", "se2a@abc.example")
    assert refused.body()["infobarrier"]["policy"] == "V1_RemoteAssistUser-allow"
    # A call needs every pair: V1's account with se1a is fine, se1a with V3's account is not.
    assert not gate.check(Action.CALL, mx("se1a"), [mx("v1-ra1"), mx("v3-ra1")]).allowed
    assert gate.check(Action.SHARE_SCREEN, mx("v1-ra1"), [mx("se1a")]).allowed
    assert gate.hidden(mx("v1-ra1"), mx("se2a"))
    assert not gate.hidden(mx("v1-ra1"), mx("se1a"))
    assert not gate.hidden(mx("v1-ra1"), mx("v1-ra1"))


def test_gate_unknown_users(seeded: tuple[Services, str]) -> None:
    deny = gate_of(seeded[0])
    nobody = deny.check(Action.CHAT, mx("v1-ra1"), [mx("nobody")])
    assert (nobody.allowed, nobody.code) == (False, "unknown_user")
    assert "nobody@abc.example" in nobody.reason
    foreign = deny.newcomer(Action.GROUP_CHAT, "@se1a:elsewhere.example", [mx("se1b")])
    assert foreign.code == "unknown_user"
    assert "another server" in foreign.reason
    # A barrier refusal is named before an unknown user.
    both = deny.newcomer(Action.GROUP_CHAT, mx("v1-ra1"), [mx("nobody"), mx("se2a")])
    assert both.code == "blocked_by_policy"
    allow = gate_of(seeded[0], unknown_users="allow")
    assert allow.check(Action.CHAT, mx("v1-ra1"), [mx("nobody")]).allowed
    assert not allow.newcomer(Action.GROUP_CHAT, mx("v1-ra1"), [mx("nobody"), mx("se2a")]).allowed


def test_gate_newcomer_and_separated(seeded: tuple[Services, str]) -> None:
    gate = gate_of(seeded[0])
    members = [mx("se1a"), mx("se2a")]
    assert not gate.newcomer(Action.GROUP_CHAT, mx("v1-ra1"), members).allowed
    assert gate.newcomer(Action.GROUP_CHAT, mx("alex"), members).allowed
    assert gate.separated([mx("se1a"), mx("se2a"), mx("alex")]).allowed
    split = gate.separated([mx("se1a"), mx("v1-ra1"), mx("se2a")])
    assert (split.allowed, split.code) == (False, "room_separated")
    assert set(split.pair or ()) == {"v1-ra1@abc.example", "se2a@abc.example"}


# -- rooms ------------------------------------------------------------------------------------


def test_room_kinds_and_call_content() -> None:
    assert room_kind("m.space", []) is RoomKind.SPACE
    assert room_kind(None, ["org.matrix.msc3401.call.member"]) is RoomKind.MEETING
    assert room_kind(None, []) is RoomKind.CHAT
    for key in ("sdp_stream_metadata", "org.matrix.msc3077.sdp_stream_metadata"):
        assert shares_screen({key: {"s": {"purpose": "m.screenshare"}}})
        assert not shares_screen({key: {"s": {"purpose": "m.usermedia"}}})
    assert not shares_screen({"sdp_stream_metadata": "junk"})
    assert joins_group_call({"call_id": "", "device_id": "D", "focus_active": {}})
    assert not joins_group_call({})
    assert joins_group_call({"m.calls": [{"m.devices": [{"device_id": "D"}]}]})
    assert not joins_group_call({"m.calls": [{"m.devices": []}]})


def test_reconciliation_of_a_dm_removes_the_later_joiner(seeded: tuple[Services, str]) -> None:
    gate = gate_of(seeded[0])
    dm = Room(
        "!dm",
        RoomKind.CHAT,
        mx("v1-ra1"),
        (
            RoomMember(mx("v1-ra1"), "join", 10),
            RoomMember(mx("se2a"), "join", 12),
        ),
    )
    fine = Room(
        "!ok",
        RoomKind.CHAT,
        mx("v1-ra1"),
        (
            RoomMember(mx("v1-ra1"), "join", 1),
            RoomMember(mx("se1a"), "join", 2),
        ),
    )
    removals = plan_rooms([dm, fine], gate.compatible(), name(gate))
    assert [(r.room_id, r.user_id, r.rule) for r in removals] == [
        ("!dm", mx("se2a"), "most_incompatibilities")
    ]
    assert "se2a@abc.example" in removals[0].reason


def test_a_meeting_keeps_its_organizer(seeded: tuple[Services, str]) -> None:
    gate = gate_of(seeded[0])
    meeting = Room(
        "!m",
        RoomKind.MEETING,
        mx("se2a"),
        (
            RoomMember(mx("se2a"), "join", 1),
            RoomMember(mx("v1-ra1"), "join", 5),
            RoomMember(mx("se1a"), "invite", 6),
        ),
    )
    removals = plan_rooms([meeting], gate.compatible(), name(gate))
    assert [(r.user_id, r.kind) for r in removals] == [(mx("v1-ra1"), "meeting_invitee_removed")]


NAMES = ["v1-ra1", "v1-ra2", "v2-ra1", "se1a", "se1b", "se2a", "se3a", "alex", "blair", "ghost"]


@settings(max_examples=150, deadline=None)
@given(
    rooms=st.lists(
        st.tuples(
            st.sampled_from(list(RoomKind)),
            st.lists(
                st.tuples(st.sampled_from(NAMES), st.integers(-3, 50)),
                min_size=0,
                max_size=7,
                unique_by=lambda m: m[0],
            ),
        ),
        max_size=5,
    )
)
def test_reconciled_rooms_are_compatible(
    seeded: tuple[Services, str], rooms: list[tuple[RoomKind, list[tuple[str, int]]]]
) -> None:
    """After the removals every room's remaining pairs are compatible (a direct check), and a
    room that already was is left alone."""
    gate = gate_of(seeded[0])
    relation = gate.compatible()
    built = [
        Room(
            f"!r{k}",
            kind,
            mx(members[0][0]) if members else None,
            tuple(RoomMember(mx(n), "join", seq) for n, seq in members),
        )
        for k, (kind, members) in enumerate(rooms)
    ]
    removals = plan_rooms(built, relation, name(gate))
    for room in built:
        gone = {r.user_id for r in removals if r.room_id == room.room_id}
        before = room.member_ids()
        after = [m for m in before if m not in gone]
        clean = all(relation(a, b) for a in before for b in before)
        assert all(relation(a, b) for a in after for b in after)
        if clean:
            assert not gone
        assert gone <= set(before)


# -- deciders: following changes, unreachable store or service ---------------------------------


def test_local_decider_follows_the_tenant_version(seeded: tuple[Services, str]) -> None:
    services, url = seeded
    decider = LocalDecider(ModuleConfig("abc", database=url, user_id_to_upn=TEMPLATE), HS, inline)
    assert asyncio.run(decider.refresh()) is True  # first load
    assert asyncio.run(decider.refresh()) is False  # nothing moved
    assert asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")])).allowed
    services.directory.remove_member("abc", "V1_SupportEngineer", "se1a@abc.example", "test")
    services.directory.add_member("abc", "V2_SupportEngineer", "se1a@abc.example", "test")
    try:
        assert asyncio.run(decider.refresh()) is True
        moved = asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")]))
        assert moved.code == "blocked_by_policy"
        asyncio.run(decider.audit("synapse.test", {"room_id": "!x"}))
        last = services.audit.entries("abc", kinds=["synapse.test"])[-1]
        assert (last.actor, last.detail) == ("synapse", {"room_id": "!x"})
    finally:
        services.directory.remove_member("abc", "V2_SupportEngineer", "se1a@abc.example", "test")
        services.directory.add_member("abc", "V1_SupportEngineer", "se1a@abc.example", "test")


def test_local_decider_with_an_unreachable_store_denies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'ib.db'}"
    decider = LocalDecider(ModuleConfig("abc", database=url), HS, inline)
    assert asyncio.run(decider.refresh()) is False
    refused = asyncio.run(decider.newcomer(Action.GROUP_CHAT, mx("v1-ra1"), [mx("se1a")]))
    assert (refused.allowed, refused.code) == (False, "infobarrier_unavailable")
    assert "store unreachable" in refused.reason
    assert asyncio.run(decider.hidden(mx("v1-ra1"), mx("se1a")))
    assert asyncio.run(decider.relation([[mx("a"), mx("b")]])) is None


def test_local_decider_for_a_missing_tenant_denies(seeded: tuple[Services, str]) -> None:
    decider = LocalDecider(ModuleConfig("nope", database=seeded[1]), HS, inline)
    assert asyncio.run(decider.refresh()) is False
    refused = asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")]))
    assert "tenant 'nope' does not exist" in refused.reason


def _remote(services: Services, **config: Any) -> tuple[RemoteDecider, TestClient]:
    token = make_tokens(services, ["abc"])[("abc", "enforcer")]
    http = TestClient(
        create_app(services),
        base_url="http://testserver/v1/tenants/abc",
        headers={"Authorization": f"Bearer {token}"},
    )
    cfg = parse(
        {"tenant": "abc", "url": "http://testserver", "token": token, **config}
        | {"user_id_to_upn": TEMPLATE}
    )
    return RemoteDecider(cfg, HS, inline, client=http), http


def test_remote_decider_answers_like_the_gate(seeded: tuple[Services, str]) -> None:
    decider, http = _remote(seeded[0])
    with http:
        assert asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")])).allowed
        refused = asyncio.run(decider.check(Action.CALL, mx("v1-ra1"), [mx("se2a")]))
        assert (refused.code, refused.action) == ("blocked_by_policy", "call")
        team = asyncio.run(decider.newcomer(Action.ADD_TEAM_MEMBER, mx("se2a"), [mx("v1-ra1")]))
        assert (team.code, team.action) == ("blocked_by_policy", "add-team-member")
        assert asyncio.run(decider.hidden(mx("v1-ra1"), mx("se2a")))
        unknown = asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("nobody")]))
        assert unknown.code == "unknown_user"
        split = asyncio.run(decider.separated([mx("se1a"), mx("v1-ra1"), mx("se2a")]))
        assert split.code == "room_separated"


def test_remote_decider_asks_with_the_rooms_action(seeded: tuple[Services, str]) -> None:
    """In url mode each pair is asked with the callback's or the room's action, so an
    exception for ``call`` opens calls and keeps two people in a call room, as in-process,
    and opens neither a direct chat nor a chat room; a space's pairs are asked as ``chat``
    (the service decides ``add-team-member`` only for a stored team)."""
    services = seeded[0]
    a, b = mx("v3-ra2"), mx("se2b")
    decider, http = _remote(seeded[0])
    with http:
        assert not asyncio.run(decider.check(Action.CALL, a, [b])).allowed
    exc = services.exceptions.request(
        "abc",
        users=["v3-ra2@abc.example", "se2b@abc.example"],
        actions=["call"],
        start=None,
        end=datetime.now(UTC) + timedelta(hours=1),
        why="a call across the barrier",
        actor="alice",
    )
    services.exceptions.approve("abc", exc.id, "bob")
    decider, http = _remote(seeded[0])
    try:
        with http:
            assert asyncio.run(decider.check(Action.CALL, a, [b])).allowed
            chat = asyncio.run(decider.check(Action.CHAT, a, [b]))
            assert (chat.allowed, chat.code) == (False, "blocked_by_policy")
            assert asyncio.run(decider.separated([a, b], Action.CALL)).allowed
            split = asyncio.run(decider.separated([a, b], Action.CHAT))
            assert split.code == "room_separated"
            team = asyncio.run(decider.newcomer(Action.ADD_TEAM_MEMBER, a, [b]))
            assert (team.allowed, team.code) == (False, "blocked_by_policy")
            relation = asyncio.run(
                decider.relation([[a, b], [a, b]], [Action.CALL, Action.GROUP_CHAT])
            )
            assert relation is not None
            assert relation(Action.CALL)(a, b)
            assert relation(Action.CALL)(b, a)
            assert not relation(Action.GROUP_CHAT)(a, b)
            assert not relation(None)(a, b)  # compatible for every action asked: no
    finally:
        services.exceptions.revoke("abc", exc.id, "bob")


def test_remote_decider_audits_in_the_tenants_log(
    seeded: tuple[Services, str], caplog: pytest.LogCaptureFixture
) -> None:
    services = seeded[0]
    decider, http = _remote(services)
    with http:
        asyncio.run(decider.audit("synapse.member_removed", {"room_id": "!url"}))
    last = services.audit.entries("abc", kinds=["synapse.member_removed"])[-1]
    assert last.actor.startswith("token:")  # the enforcer token (it names no person)
    assert last.detail == {"room_id": "!url", "via": last.actor}
    assert services.audit.verify("abc")[1] is None
    # A refused entry (not an enforcement kind) and an unreachable service: Synapse's log
    # has it, and the module keeps going.
    before = len(services.audit.entries("abc"))
    with http:
        asyncio.run(decider.audit("policy.created", {"name": "forged"}))
    decider.client = httpx.Client(base_url=f"http://127.0.0.1:{free_port()}/v1/tenants/abc")
    with caplog.at_level(logging.WARNING, logger="infobarrier_synapse"):
        asyncio.run(decider.audit("synapse.admin_crossing", {"room_id": "!down"}))
    decider.client.close()
    assert len(services.audit.entries("abc")) == before
    assert "HTTP 400" in caplog.text or "HTTP 422" in caplog.text
    assert "synapse.admin_crossing" in caplog.text
    assert "!down" in caplog.text


def test_remote_decider_unreachable_deny_and_last_known(seeded: tuple[Services, str]) -> None:
    dead = httpx.Client(base_url=f"http://127.0.0.1:{free_port()}/v1/tenants/abc", timeout=2)
    for policy in ("deny", "last_known"):
        decider, http = _remote(seeded[0], on_unavailable=policy)
        with http:
            assert asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")])).allowed
        decider.client = dead
        seen = asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1a")]))
        never = asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se1b")]))
        assert never.code == "infobarrier_unavailable"
        assert "service unreachable" in never.reason
        if policy == "deny":
            assert seen.code == "infobarrier_unavailable"
        else:
            assert seen.allowed
    dead.close()


@settings(max_examples=200, deadline=None)
@given(
    action=st.sampled_from([a for a in Action if a is not Action.ADD_TEAM_MEMBER]),
    sender=st.sampled_from(NAMES),
    others=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True),
    allow_unknown=st.booleans(),
)
def test_gate_answers_as_the_core_decides(
    seeded: tuple[Services, str],
    action: Action,
    sender: str,
    others: list[str],
    allow_unknown: bool,
) -> None:
    """The gate's fast paths give the core's answer: ``decide`` over the known users, with
    an unknown user refused (deny) or left out (allow)."""
    gate = gate_of(seeded[0], unknown_users="allow" if allow_unknown else "deny")
    epoch = gate.epoch
    if (action is Action.CHAT or action is Action.SHARE_FILE) and len(others) > 1:
        others = others[:1]
    answer = gate.check(action, mx(sender), [mx(o) for o in others])
    index = {n: epoch.index_of(f"{n}@abc.example") for n in {sender, *others}}
    rest = [o for o in others if o != sender]
    known = [i for i in (index[o] for o in rest) if i is not None]
    some_unknown = len(known) < len(rest)
    s = index[sender]
    if s is None:
        expected = "allowed" if allow_unknown else "unknown_user"
    elif not known:
        expected = "unknown_user" if some_unknown and not allow_unknown else "allowed"
    else:
        verdict = decide(epoch, action, s, known, people_search_restriction=True)
        if not verdict.allowed:
            expected = verdict.code
        elif some_unknown and not allow_unknown:
            expected = "unknown_user"
        else:
            expected = "allowed"
    assert answer.code == expected
    assert answer.allowed == (expected == "allowed")
    if action is Action.SEARCH and len(rest) == 1:
        assert gate.hidden(mx(sender), mx(rest[0])) == (not answer.allowed)


# -- wall-crossing exceptions (semantics §11) ------------------------------------------------


def test_gate_opens_and_closes_with_an_exceptions_window(seeded: tuple[Services, str]) -> None:
    """An approved exception for ``chat`` between V1's account and V2's engineer opens their
    direct chat from its start and closes it at its end, by the gate's clock alone (no new
    gate, no poll): the decisions, the room relation and the reconciliation plan follow."""
    services = seeded[0]
    epoch, restricted = services.decisions.in_force("abc")
    a, b = "v1-ra1@abc.example", "se2a@abc.example"
    ia, ib = epoch.index_of(a), epoch.index_of(b)
    assert ia is not None
    assert ib is not None
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    end = start + timedelta(hours=1)
    asked = new_request(
        id="x1",
        users=((epoch.user_ids[ia], a), (epoch.user_ids[ib], b)),
        actions=["chat"],
        start=start,
        end=end,
        justification="outage",
        requester="alice",
        now=start - timedelta(hours=1),
    )
    approved = approve(asked, "bob", start - timedelta(minutes=30))
    clock = [start - timedelta(seconds=1)]
    cfg = parse({"tenant": "abc", "database": "sqlite://", "user_id_to_upn": TEMPLATE})
    gate = Gate(epoch, restricted, 1, cfg, HS, ExceptionIndex([approved]), lambda: clock[0])
    dm = Room(
        "!dm",
        RoomKind.CHAT,
        mx("v1-ra1"),
        (RoomMember(mx("v1-ra1"), "join", 1), RoomMember(mx("se2a"), "join", 2)),
    )

    def state() -> tuple[bool, bool, bool, bool, bool, int]:
        return (
            gate.check(Action.CHAT, mx("v1-ra1"), [mx("se2a")]).allowed,
            gate.newcomer(Action.CHAT, mx("se2a"), [mx("v1-ra1")]).allowed,
            gate.separated([mx("v1-ra1"), mx("se2a")], Action.CHAT).allowed,
            gate.compatible(Action.CHAT)(mx("v1-ra1"), mx("se2a")),
            gate.hidden(mx("v1-ra1"), mx("se2a")),
            len(plan_rooms([dm], gate.compatible(None), name(gate), gate.compatible)),
        )

    assert state() == (False, False, False, False, True, 1)  # before the start
    assert not gate.moved()
    clock[0] = start
    assert gate.moved()  # the window started: the decider reconciles (nothing to do here)
    assert state() == (True, True, True, True, True, 0)  # search is not named: still hidden
    # Only the actions it names: not a call, not a group chat, not a room of another kind.
    refused = gate.check(Action.CALL, mx("v1-ra1"), [mx("se2a")])
    assert (refused.allowed, refused.code) == (False, "blocked_by_policy")
    assert not gate.newcomer(Action.GROUP_CHAT, mx("se2a"), [mx("v1-ra1")]).allowed
    assert not gate.separated([mx("v1-ra1"), mx("se2a")], Action.GROUP_CHAT).allowed
    assert not gate.compatible(None)(mx("v1-ra1"), mx("se2a"))
    # A group chat of V1's account, V1's engineer and V2's engineer needs group-chat.
    assert not gate.check(Action.GROUP_CHAT, mx("se1a"), [mx("v1-ra1"), mx("se2a")]).allowed
    renewed = gate.renewed()
    assert not renewed.moved()
    clock[0] = end - timedelta(microseconds=1)
    assert state()[:4] == (True, True, True, True)
    clock[0] = end  # the end: refused again at once, and the room is planned apart
    assert renewed.moved()
    assert state() == (False, False, False, False, True, 1)
    assert gate.check(Action.CHAT, mx("v1-ra1"), [mx("se2a")]).code == "blocked_by_policy"


def test_local_decider_reconciles_when_a_window_passes(
    seeded: tuple[Services, str],
) -> None:
    """The in-process decider's poll asks for reconciliation when an exception's window
    starts or ends, though the tenant's version has not moved."""
    services, url = seeded
    cfg = parse({"tenant": "abc", "database": url, "user_id_to_upn": TEMPLATE})
    decider = LocalDecider(cfg, HS, inline)
    decider.load_now()
    assert decider.gate is not None
    assert asyncio.run(decider.refresh())  # the first poll after start reconciles
    assert not asyncio.run(decider.refresh())
    now = services.exceptions.now()
    a, b = "v1-ra1@abc.example", "se2a@abc.example"
    asked = services.exceptions.request(
        "abc",
        users=[a, b],
        actions=["chat"],
        start=None,
        end=now + timedelta(hours=1),
        why="outage",
        actor="alice",
    )
    services.exceptions.approve("abc", asked.id, "bob")
    try:
        assert asyncio.run(decider.refresh())  # the version moved: a new gate
        gate = decider.gate
        assert gate is not None
        assert asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se2a")])).allowed
        assert not asyncio.run(decider.refresh())
        gate.clock = lambda: now + timedelta(hours=2)  # past the end, no version change
        assert not asyncio.run(decider.check(Action.CHAT, mx("v1-ra1"), [mx("se2a")])).allowed
        assert asyncio.run(decider.refresh())
        assert decider.gate is not gate
    finally:
        services.exceptions.revoke("abc", asked.id, "carol")


KNOWN = [n for n in NAMES if n != "ghost"]
T0 = datetime(2030, 1, 1, 9, tzinfo=UTC)


@st.composite
def wall_exceptions(draw: st.DrawFn, epoch: Any) -> list[Any]:
    """Approved exceptions of two seeded users, random actions and windows around ``T0``."""
    found = []
    for n in range(draw(st.integers(0, 5))):
        a, b = draw(st.lists(st.sampled_from(KNOWN), min_size=2, max_size=2, unique=True))
        ia, ib = epoch.index_of(f"{a}@abc.example"), epoch.index_of(f"{b}@abc.example")
        start = T0 + timedelta(hours=draw(st.integers(-2, 2)))
        asked = new_request(
            id=f"e{n}",
            users=((epoch.user_ids[ia], epoch.upns[ia]), (epoch.user_ids[ib], epoch.upns[ib])),
            actions=draw(
                st.lists(
                    st.sampled_from([a.value for a in Action]), min_size=1, max_size=3, unique=True
                )
            ),
            start=start,
            end=start + timedelta(hours=draw(st.integers(1, 4))),
            justification="why",
            requester="alice",
            now=T0 - timedelta(hours=3),
        )
        found.append(approve(asked, "bob", T0 - timedelta(hours=3)))
    return found


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    action=st.sampled_from([a for a in Action if a is not Action.ADD_TEAM_MEMBER]),
    sender=st.sampled_from(KNOWN),
    others=st.lists(st.sampled_from(KNOWN), min_size=1, max_size=3, unique=True),
    minutes=st.integers(-180, 420),
)
def test_gate_with_exceptions_answers_as_the_service_decides(
    seeded: tuple[Services, str],
    data: st.DataObject,
    action: Action,
    sender: str,
    others: list[str],
    minutes: int,
) -> None:
    """With random exceptions and a random clock, the gate gives the core's answer with the
    exceptions active at that instant (what the service answers), its room relation keeps
    exactly the pairs the core allows or opens for the room's action, and it hides from a
    search exactly whom a search check refuses."""
    services = seeded[0]
    epoch, restricted = services.decisions.in_force("abc")
    found = data.draw(wall_exceptions(epoch))
    now = T0 + timedelta(minutes=minutes)
    cfg = parse({"tenant": "abc", "database": "sqlite://", "user_id_to_upn": TEMPLATE})
    gate = Gate(epoch, restricted, 1, cfg, HS, ExceptionIndex(found), lambda: now)
    openings = ExceptionIndex(found).at(now)
    if action in (Action.CHAT, Action.SHARE_FILE, Action.SEARCH):
        others = others[:1]
    rest = [o for o in others if o != sender]
    answer = gate.check(action, mx(sender), [mx(o) for o in others])
    ix = {n: epoch.index_of(f"{n}@abc.example") for n in KNOWN}
    if rest:
        verdict = decide(epoch, action, ix[sender], [ix[o] for o in rest], openings=openings)
        assert answer.allowed == verdict.allowed, (answer, verdict)
        if not verdict.allowed:
            assert answer.code == verdict.code
    else:
        assert answer.allowed
    if action is Action.SEARCH and rest:
        assert gate.hidden(mx(sender), mx(rest[0])) == (not answer.allowed)
    # The room relation for the room's action: the base relation of §8, or opened.
    if action in (Action.CHAT, Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL):
        base = gate.compatible(None)
        widened = gate.compatible(action)
        for other in rest:
            opened = openings is not None and (
                openings.opening(epoch, ix[sender], ix[other], action) is not None
            )
            assert widened(mx(sender), mx(other)) == (base(mx(sender), mx(other)) or opened)


def test_remote_decider_does_not_take_an_error_for_compatible(
    seeded: tuple[Services, str],
) -> None:
    """A pair the service answers with an error other than an unknown user is not taken
    for compatible: a room holding it is refused new activity (``infobarrier_unavailable``,
    naming the pair), while reconciliation removes nobody for it. An unknown user stays
    compatible (§8). The service of today answers every single-pair check it accepts, or
    ``unknown_user``; the decision API lets any check carry an error, so the real answers
    are taken and one of them is turned into such an error."""
    decider, http = _remote(seeded[0])
    odd = "se1a@abc.example"

    def post(checks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        answers = RemoteDecider._post(decider, checks)
        return [
            {"error": {"code": "internal", "message": "could not decide"}}
            if odd in (f, t)
            else answer
            for (_a, f, t), answer in zip(checks, answers, strict=True)
        ]

    decider._post = post  # type: ignore[method-assign]
    with http:
        relation = asyncio.run(decider.relation([[mx("v1-ra1"), mx("se1a")]]))
        assert relation is not None
        assert relation(None)(mx("v1-ra1"), mx("se1a"))  # no removal on an error
        refused = asyncio.run(decider.separated([mx("v1-ra1"), mx("se1a")]))
        assert (refused.allowed, refused.code) == (False, "infobarrier_unavailable")
        assert "could not decide v1-ra1@abc.example and se1a@abc.example" in refused.reason
        fine = asyncio.run(decider.separated([mx("v1-ra1"), mx("nobody"), mx("se1b")]))
        assert fine.allowed, fine.reason
