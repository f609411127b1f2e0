"""Wall-crossing exceptions (semantics §11): the model's rules, and decisions with exceptions
against a small reference model (random tenants, exceptions, windows and clocks)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from core_builders import Tenant, allow, block, tenant, upn
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference_model
from infobarrier.core.answers import answer_json
from infobarrier.core.barriers import Mode
from infobarrier.core.collaboration import Chat, ChatKind, Meeting
from infobarrier.core.contract import Action, make_check
from infobarrier.core.decisions import compatibility, decide
from infobarrier.core.errors import Conflict, InvalidInput, RuleViolation
from infobarrier.core.exceptions import (
    DEFAULT_MAX_WINDOW,
    ExceptionIndex,
    FourEyes,
    State,
    WallException,
    action_of,
    approve,
    expire,
    new_request,
    parse_time,
    reject,
    revoke,
)
from infobarrier.core.reconcile import epoch_upn_of, policy_compatible, reconcile_all

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def request(**overrides: object) -> WallException:
    """A valid request of a1 and b1 for chat, one day from T0 (overrides replace fields)."""
    fields: dict[str, object] = {
        "id": "x1",
        "users": (("id-a1", upn("a1")), ("id-b1", upn("b1"))),
        "actions": ["chat"],
        "start": T0,
        "end": T0 + timedelta(days=1),
        "justification": "deal team",
        "requester": "alice",
        "now": T0,
    }
    fields.update(overrides)
    return new_request(**fields)  # type: ignore[arg-type]


# -- the model's rules --------------------------------------------------------------------


def test_a_request_is_requested_and_names_its_scope() -> None:
    exc = request()
    assert exc.state is State.REQUESTED
    assert exc.users == ("id-a1", "id-b1")
    assert exc.scope() == f"users {upn('a1')} and {upn('b1')}"
    assert WallException.from_json(exc.to_json()) == exc
    assert not exc.is_active(T0)  # nothing opens before approval


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end": T0 - HOUR}, "lies in the past"),
        ({"end": T0}, "lies in the past"),
        ({"start": T0 + 2 * HOUR, "end": T0 + HOUR}, "before it starts"),
        ({"start": T0 - 3 * HOUR, "end": T0 - HOUR}, "lies in the past"),
        ({"end": T0 + DEFAULT_MAX_WINDOW + HOUR}, "at most 30 days"),
        ({"actions": []}, "at least one action"),
        ({"actions": ["chat", "teleport"]}, "unknown action 'teleport'"),
        ({"justification": "   "}, "justification"),
        ({"requester": " "}, "requester is required"),
        ({"users": (("id-a1", "a"), ("id-a1", "a"))}, "two different users"),
        ({"users": None, "segments": ("A", "a")}, "two different segments"),
        ({"users": None}, "either two users or two segments"),
        ({"segments": ("A", "B")}, "either two users or two segments"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        request(**overrides)


def test_a_tenant_maximum_window_is_honoured() -> None:
    with pytest.raises(InvalidInput, match="at most 2 days"):
        request(end=T0 + timedelta(days=3), max_window=timedelta(days=2))
    assert (
        request(end=T0 + timedelta(days=2), max_window=timedelta(days=2)).end == T0 + 2 * 24 * HOUR
    )


def test_four_eyes_the_requester_never_approves() -> None:
    exc = request()
    with pytest.raises(FourEyes, match="cannot approve"):
        approve(exc, "ALICE", T0)  # names compare case-insensitively
    approved = approve(exc, "bob", T0)
    assert (approved.state, approved.approver) == (State.APPROVED, "bob")
    with pytest.raises(Conflict, match="only a requested exception can be approved"):
        approve(approved, "carol", T0)


def test_transitions_from_the_wrong_state_are_refused() -> None:
    exc = request()
    with pytest.raises(Conflict):
        revoke(exc, "bob", T0)  # a request is rejected, not revoked
    rejected = reject(exc, "bob", T0, "no")
    assert rejected.state is State.REJECTED
    for step in (
        lambda e: approve(e, "carol", T0),
        lambda e: reject(e, "carol", T0),
        lambda e: revoke(e, "carol", T0),
    ):
        with pytest.raises(Conflict):
            step(rejected)
    approved = approve(exc, "bob", T0)
    assert revoke(approved, "carol", T0 + HOUR).state is State.REVOKED
    with pytest.raises(Conflict):
        reject(approved, "carol", T0)


def test_an_ended_request_cannot_be_approved_and_expires() -> None:
    exc = request(end=T0 + HOUR)
    with pytest.raises(Conflict, match="can no longer be approved"):
        approve(exc, "bob", T0 + HOUR)
    assert not exc.is_due(T0 + HOUR - timedelta(seconds=1))
    assert exc.is_due(T0 + HOUR)
    assert expire(exc, T0 + HOUR).state is State.EXPIRED
    with pytest.raises(Conflict):
        expire(exc, T0)


def test_active_means_approved_and_start_le_now_lt_end() -> None:
    exc = approve(request(start=T0 + HOUR, end=T0 + 2 * HOUR), "bob", T0)
    assert not exc.is_active(T0)
    assert exc.is_active(T0 + HOUR)
    assert not exc.is_active(T0 + 2 * HOUR)


def test_times_parse_as_iso_8601_in_utc() -> None:
    assert parse_time("2026-12-01T10:00:00+01:00", "end") == T0
    assert parse_time("2026-12-01T09:00:00Z", "end") == T0
    assert parse_time("2026-12-01T09:00", "end") == T0
    with pytest.raises(InvalidInput, match="not an ISO 8601"):
        parse_time("next tuesday", "--end")


def test_objects_stand_for_the_action_that_keeps_people_in_them() -> None:
    assert action_of(Chat.create("c", ChatKind.ONE_ON_ONE, ["a", "b"])) is Action.CHAT
    assert action_of(Chat.create("c", ChatKind.GROUP, ["a", "b", "c"])) is Action.GROUP_CHAT
    assert action_of(Meeting.create("m", "s", "a", ["b"])) is Action.MEETING_INVITE


# -- decisions against a reference ------------------------------------------------------------

SEGMENTS = {
    "A": "Department -eq 'A'",
    "B": "Department -eq 'B'",
    "C": "Department -eq 'C'",
    "D": "Company -eq 'D'",
}
NAMES = ["u0", "u1", "u2", "u3", "u4", "u5"]
ONE_PAIR = [Action.CHAT, Action.CALL, Action.SHARE_FILE, Action.SEARCH, Action.MEETING_INVITE]


@st.composite
def tenants(draw: st.DrawFn) -> Tenant:
    mode = draw(st.sampled_from(list(Mode)))
    users = {}
    for name in NAMES:
        opts: dict[str, object] = {
            "department": draw(st.sampled_from(["A", "B", "C", ""])),
            "company": draw(st.sampled_from(["D", "", "", ""])),
        }
        if draw(st.integers(0, 9)) == 0:
            opts["enabled"] = False
        if draw(st.integers(0, 9)) == 0:
            opts["hidden"] = True
        users[name] = opts
    policies = {}
    for segment in SEGMENTS:
        kind = draw(st.sampled_from(["none", "allow", "block"]))
        listed = draw(
            st.lists(st.sampled_from(list(SEGMENTS)), min_size=1, max_size=3, unique=True)
        )
        if kind == "allow":
            policies[segment] = allow(*listed)
        elif kind == "block" and mode is not Mode.MULTI_SEGMENT:
            policies[segment] = block(*listed)
    try:
        return tenant(users, mode=mode, segments=SEGMENTS, policies=policies)
    except RuleViolation:  # a policy the mode does not allow (e.g. a MultiSegment block list)
        assume(False)
        raise


@st.composite
def exceptions(draw: st.DrawFn) -> list[WallException]:
    found = []
    for n in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            a, b = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=2, unique=True))
            scope: dict[str, object] = {"users": ((f"id-{a}", upn(a)), (f"id-{b}", upn(b)))}
        else:
            pair = draw(
                st.lists(st.sampled_from(list(SEGMENTS)), min_size=2, max_size=2, unique=True)
            )
            scope = {"segments": (pair[0], pair[1])}
        start = T0 + HOUR * draw(st.integers(-2, 2))
        end = start + HOUR * draw(st.integers(1, 6))
        exc = new_request(
            id=f"e{n}",
            actions=draw(
                st.lists(st.sampled_from([a.value for a in ONE_PAIR]), min_size=1, max_size=3)
                | st.lists(st.sampled_from([a.value for a in Action]), min_size=1, max_size=4)
            ),
            start=start,
            end=end,
            justification="why",
            requester="alice",
            now=min(T0 - 4 * HOUR, start),
            **scope,  # type: ignore[arg-type]
        )
        state = draw(st.sampled_from([State.APPROVED] * 4 + list(State)))
        if state is not State.REQUESTED:
            exc = WallException.from_json(
                {**exc.to_json(), "state": state.value, "approver": "bob"}
            )
        found.append(exc)
    return found


def ref_segments(t: Tenant, name: str) -> list[str]:
    return reference_model.segments_of(t.directory, t.config, t.user(name))


def ref_openable(t: Tenant, a: str, b: str) -> bool:
    """Blocked by segments and policies only (not disabled, in conflict, or hidden)."""
    u, v = t.user(a), t.user(b)
    if not (u.account_enabled and v.account_enabled):
        return False
    limit = reference_model.MAX_PER_USER[t.config.mode]
    if len(ref_segments(t, a)) > limit or len(ref_segments(t, b)) > limit:
        return False
    if t.config.mode is Mode.LEGACY and (reference_model.hidden(u) or reference_model.hidden(v)):
        return False
    return not reference_model.compatible(t.directory, t.config, u, v)


def ref_opening(
    t: Tenant, found: list[WallException], a: str, b: str, action: Action, now: datetime
) -> WallException | None:
    """The exception that opens (a, b) for ``action`` at ``now``, read straight off §11."""
    best = None
    for e in found:
        if e.state is not State.APPROVED or not (e.start <= now < e.end):
            continue
        if action not in e.actions:
            continue
        if e.users is not None:
            names = {e.users[0], e.users[1]}
            hit = names == {f"id-{a}", f"id-{b}"}
        else:
            assert e.segments is not None
            s1, s2 = (s.casefold() for s in e.segments)
            sa = [s.casefold() for s in ref_segments(t, a)]
            sb = [s.casefold() for s in ref_segments(t, b)]
            hit = (s1 in sa and s2 in sb) or (s2 in sa and s1 in sb)
        if hit and (best is None or (e.end, e.id) > (best.end, best.id)):
            best = e
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tenants(), found=exceptions(), hours=st.integers(-3, 8) | st.integers(0, 3))
def test_decisions_with_exceptions_agree_with_the_reference(
    t: Tenant, found: list[WallException], hours: int
) -> None:
    now = T0 + HOUR * hours
    openings = ExceptionIndex(found).at(now)
    for a, b in itertools.permutations(NAMES, 2):
        base = reference_model.compatible(t.directory, t.config, t.user(a), t.user(b))
        for action in ONE_PAIR:
            verdict = decide(t.epoch, action, t.ix(a), [t.ix(b)], openings=openings)
            if base:
                assert verdict.allowed, (a, b, verdict)
                assert verdict.code != "allowed_by_exception", (a, b, verdict)
                assert verdict.exception is None
                continue
            expected = ref_opening(t, found, a, b, action, now) if ref_openable(t, a, b) else None
            if expected is None:
                assert not verdict.allowed, (a, b, action, verdict)
                assert verdict.exception is None
            else:
                assert verdict.allowed, (a, b, action, verdict)
                assert verdict.code == "allowed_by_exception"
                assert (verdict.exception, verdict.exception_end) == (expected.id, expected.end)
    # A group chat: every pair compatible or opened for group-chat.
    trio = NAMES[:3]
    verdict = decide(
        t.epoch, Action.GROUP_CHAT, t.ix(trio[0]), [t.ix(x) for x in trio[1:]], openings=openings
    )
    expected_ok = all(
        reference_model.compatible(t.directory, t.config, t.user(a), t.user(b))
        or (ref_openable(t, a, b) and ref_opening(t, found, a, b, Action.GROUP_CHAT, now))
        for a, b in itertools.combinations(trio, 2)
    )
    assert verdict.allowed == expected_ok, verdict


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tenants(), found=exceptions(), hours=st.integers(-3, 8) | st.integers(0, 3))
def test_the_batch_fast_path_gives_the_same_answers_with_exceptions(
    t: Tenant, found: list[WallException], hours: int
) -> None:
    openings = ExceptionIndex(found).at(T0 + HOUR * hours)
    checks = [
        make_check(action.value, upn(a), [upn(b)])
        for a, b in itertools.permutations(NAMES, 2)
        for action in ONE_PAIR
    ]
    fast = orjson.loads(
        answer_json(t.epoch, checks, people_search_restriction=True, openings=openings)
    )
    for check, answer in zip(checks, fast["results"], strict=True):
        action, a, to = check["action"], check["from"], check["to"]
        general = decide(
            t.epoch,
            Action(action),
            t.epoch.index_of(a) or 0,
            [t.epoch.index_of(to[0]) or 0],
            openings=openings,
        ).as_dict()
        assert answer == general, (action, a, to)


def test_no_approved_exception_means_no_openings() -> None:
    assert ExceptionIndex([request()]).at(T0) is None
    assert ExceptionIndex([]).at(T0) is None


def test_relationship_names_the_actions_an_exception_opens() -> None:
    t = tenant(
        {"a1": {"department": "A"}, "b1": {"department": "B"}},
        segments=SEGMENTS,
        policies={"A": block("B")},
    )
    exc = approve(request(actions=["chat", "call"]), "bob", T0)
    openings = ExceptionIndex([exc]).at(T0 + HOUR)
    verdict = compatibility(t.epoch, t.ix("a1"), t.ix("b1"), openings=openings)
    assert verdict.code == "allowed_by_exception"
    assert "chat, call only" in verdict.reason
    assert verdict.policy == "P-A"  # what it overrides is still named
    refused = decide(t.epoch, Action.SHARE_FILE, t.ix("a1"), [t.ix("b1")], openings=openings)
    assert not refused.allowed
    assert refused.code == "blocked_by_policy"
    closed = ExceptionIndex([exc]).at(exc.end)
    assert not decide(t.epoch, Action.CHAT, t.ix("a1"), [t.ix("b1")], openings=closed).allowed


def test_reconciliation_keeps_pairs_an_exception_opens_for_the_object_kind() -> None:
    t = tenant(
        {"a1": {"department": "A"}, "b1": {"department": "B"}, "c1": {"department": "C"}},
        segments=SEGMENTS,
        policies={"A": block("B")},
    )
    exc = approve(request(actions=["group-chat"]), "bob", T0)
    group = Chat.create("g", ChatKind.GROUP, ["id-a1", "id-b1", "id-c1"])
    one = Chat.create("o", ChatKind.ONE_ON_ONE, ["id-a1", "id-b1"])
    base = policy_compatible(t.epoch)
    upn_of = epoch_upn_of(t.epoch)
    openings = ExceptionIndex([exc]).at(T0 + HOUR)
    assert openings is not None
    changed, actions = reconcile_all(
        [group, one], base, upn_of, openings.relation_for(t.epoch, base)
    )
    # The group chat is kept (group-chat is opened); the 1:1 chat is not (chat is not).
    assert [c.id for c in changed] == ["o"]
    assert [a.kind.value for a in actions] == ["chat_read_only"]
    # Without the exception (expired), the group chat loses someone.
    changed, actions = reconcile_all([group], base, upn_of)
    assert [a.kind.value for a in actions] == ["chat_participant_removed"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=exceptions(), minutes=st.integers(-300, 600))
def test_the_decision_states_clock_part_counts_the_passed_starts_and_ends(
    found: list[WallException], minutes: int
) -> None:
    """Two instants with the same count of passed window starts and ends get the same
    decisions (the count is part of the tenant's decision state)."""
    index = ExceptionIndex(found)
    now = T0 + timedelta(minutes=minutes)
    approved = [e for e in found if e.state is State.APPROVED]
    assert index.passed(now) == sum((e.start <= now) + (e.end <= now) for e in approved)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tenants(), found=exceptions(), hours=st.integers(-3, 8) | st.integers(0, 3))
def test_the_folded_keys_flag_every_pair_an_exception_opens(
    t: Tenant, found: list[WallException], hours: int
) -> None:
    """``Folded`` (what the batch path reads first) hides no opening: its keys are the
    epoch's (plus ``P`` for a user an exception of two users names), and a pair the
    reference opens is one ``split`` says an exception may open, as the exact pair of
    users (``named``) or a pair of profiles an exception of two segments touches."""
    now = T0 + HOUR * hours
    openings = ExceptionIndex(found).at(now)
    if openings is None:
        return
    folded = openings.folded(t.epoch)
    count = folded.count
    for name in NAMES:
        x, base = folded.keys[t.ix(name)], t.epoch.key(t.ix(name))
        assert x == base or (base >= 0 and x == base + count)
    for a, b in itertools.permutations(NAMES, 2):
        if not ref_openable(t, a, b):
            continue
        if not any(ref_opening(t, found, a, b, action, now) for action in Action):
            continue
        u, v = t.ix(a), t.ix(b)
        k, m, may, touched = folded.split(folded.keys[u] * folded.width + folded.keys[v])
        assert (k, m) == (t.epoch.key(u), t.epoch.key(v))
        assert may, (a, b)
        assert touched or u * folded.people + v in folded.named, (a, b)
