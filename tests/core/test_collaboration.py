"""The collaboration objects of semantics §7/§8: JSON round-trips, helpers and invariants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.collaboration import (
    Call,
    CallKind,
    Chat,
    ChatKind,
    CollabObject,
    Meeting,
    Member,
    Team,
    TeamMode,
    collab_from_json,
)
from infobarrier.core.errors import InvalidInput

SAMPLES: list[CollabObject] = [
    Team("t1", "Deals"),
    Team.create("t2", "Research", ["o1", "o2"], TeamMode.OWNER_MODERATED).with_member("m1"),
    Team("t3", "Open", TeamMode.OPEN, ("m2",), (Member("m1", 0), Member("m2", 4)), 7),
    Chat.create("c1", ChatKind.ONE_ON_ONE, ["a", "b"]),
    Chat("c2", ChatKind.ONE_ON_ONE, (Member("a", 0), Member("b", 0)), read_only=True, next_seq=1),
    Chat("c3", ChatKind.GROUP, (Member("a", 0), Member("c", 2)), ("b",), False, 3),
    Chat("c4", ChatKind.GROUP),
    Meeting.create("m1", "Kick-off", "org", ["a", "b"]).with_joined("org").with_joined("b"),
    Meeting("m2", "", "org"),
    Call.create("k1", ["a", "b"]).sharing_by("b"),
    Call.create("k2", ["a"], CallKind.REMOTE_ASSIST, meeting_id="m1").with_participant("z"),
    Call("k3", CallKind.CALL, (Member("a", 0),), live=False, next_seq=1),
]


@pytest.mark.parametrize("obj", SAMPLES, ids=lambda o: o.id)
def test_json_round_trip(obj: CollabObject) -> None:
    data = obj.to_json()
    assert data["object_kind"] == obj.object_kind
    # Exactly JSON: survives a trip through text, both ways.
    text = json.dumps(data, sort_keys=True)
    loaded = json.loads(text)
    assert loaded == data
    back = type(obj).from_json(loaded)
    assert back == obj
    assert back.to_json() == data
    assert collab_from_json(loaded) == obj


def test_json_shapes() -> None:
    team = Team.create("t", "T", ["o"]).with_member("m")
    assert team.to_json() == {
        "object_kind": "team",
        "id": "t",
        "name": "T",
        "mode": "Implicit",
        "owners": ["o"],
        "members": [{"user_id": "o", "seq": 0}, {"user_id": "m", "seq": 1}],
        "next_seq": 2,
    }
    call = Call.create("k", ["a", "b"], meeting_id="m")
    assert call.to_json() == {
        "object_kind": "call",
        "id": "k",
        "kind": "call",
        "participants": [{"user_id": "a", "seq": 0}, {"user_id": "b", "seq": 0}],
        "live": True,
        "sharing": None,
        "meeting_id": "m",
        "next_seq": 1,
    }
    chat = Chat.create("c", ChatKind.GROUP, ["a"])
    assert chat.to_json()["kind"] == "group"
    assert chat.to_json()["removed"] == []
    meeting = Meeting.create("m", "S", "org", ["a"]).with_joined("a")
    assert meeting.to_json()["joined"] == ["a"]
    assert Member("u", 3).to_json() == {"user_id": "u", "seq": 3}
    assert Member.from_json({"user_id": "u", "seq": 3}) == Member("u", 3)


def _with(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**data, **changes}


TEAM_JSON = Team.create("t", "T", ["o"]).to_json()
CHAT_JSON = Chat.create("c", ChatKind.GROUP, ["a", "b"]).to_json()
MEETING_JSON = Meeting.create("m", "S", "org", ["a"]).to_json()
CALL_JSON = Call.create("k", ["a", "b"]).to_json()


@pytest.mark.parametrize(
    ("cls", "data", "fragment"),
    [
        (Team, {k: v for k, v in TEAM_JSON.items() if k != "name"}, "missing field(s) name"),
        (Team, _with(TEAM_JSON, colour="red"), "unknown field(s) colour"),
        (Team, _with(TEAM_JSON, object_kind="chat"), "expected 'team'"),
        (Team, _with(TEAM_JSON, mode="implicit"), "not one of Open, Implicit, OwnerModerated"),
        (Team, _with(TEAM_JSON, next_seq=True), "expected an integer"),
        (Team, _with(TEAM_JSON, next_seq="1"), "expected an integer"),
        (Team, _with(TEAM_JSON, owners="o"), "expected a list"),
        (Team, _with(TEAM_JSON, owners=[1]), "expected a string"),
        (Team, _with(TEAM_JSON, members=[{"user_id": "o"}]), "missing field(s) seq"),
        (Team, _with(TEAM_JSON, members=["o"]), "expected a JSON object"),
        (Team, _with(TEAM_JSON, owners=["x"]), "owner x is not a member"),
        (Chat, _with(CHAT_JSON, kind="channel"), "not one of one_on_one, group"),
        (Chat, _with(CHAT_JSON, read_only="no"), "expected true or false"),
        (Chat, _with(CHAT_JSON, removed=["a"]), "both a participant and removed"),
        (Chat, _with(CHAT_JSON, kind="one_on_one", removed=["z"]), "exactly two participants"),
        (Meeting, _with(MEETING_JSON, organizer=None), "expected a string"),
        (Meeting, _with(MEETING_JSON, joined=["zed"]), "zed joined but is not a participant"),
        (Call, _with(CALL_JSON, kind="video"), "not one of call, remote_assist"),
        (Call, _with(CALL_JSON, sharing="z"), "z shares but is not a participant"),
        (Call, _with(CALL_JSON, live=False, sharing="a"), "an ended call shares nothing"),
        (Call, _with(CALL_JSON, meeting_id=""), "meeting_id must be a non-empty string"),
        (Call, _with(CALL_JSON, next_seq=0), "not below next_seq 0"),
    ],
)
def test_from_json_rejects_malformed(
    cls: type[Team | Chat | Meeting | Call], data: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        cls.from_json(data)
    assert fragment in str(caught.value)


def test_collab_from_json_dispatch_errors() -> None:
    with pytest.raises(InvalidInput, match="object_kind 'channel'"):
        collab_from_json({**TEAM_JSON, "object_kind": "channel"})
    with pytest.raises(InvalidInput, match="object_kind None"):
        collab_from_json({"id": "t"})
    with pytest.raises(InvalidInput, match="expected a JSON object"):
        collab_from_json([])  # type: ignore[arg-type]
    assert isinstance(collab_from_json(CALL_JSON), Call)
    assert isinstance(collab_from_json(MEETING_JSON), Meeting)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Member("", 0), "non-empty"),
        (lambda: Member("u", -1), "seq must be an integer >= 0"),
        (lambda: Member("u", True), "seq must be an integer >= 0"),
        (lambda: Team("", "T"), "team id"),
        (lambda: Team("t", "T", next_seq=-1), "next_seq must be an integer >= 0"),
        (lambda: Team("t", "T", members=(Member("a", 0), Member("a", 1)), next_seq=2), "twice"),
        (lambda: Team("t", "T", owners=("a", "a"), members=(Member("a", 0),), next_seq=1), "twice"),
        (lambda: Team.create("t", "T", ["a", "a"]), "appears twice"),
        (lambda: Team("t", "T", members=(Member("a", 1),), next_seq=1), "not below next_seq"),
        (lambda: Team("t", "T", "Open", next_seq=0), "mode must be a TeamMode"),  # type: ignore[arg-type]
        (lambda: Chat.create("c", ChatKind.ONE_ON_ONE, ["a", "b", "c"]), "exactly two"),
        (lambda: Chat.create("c", ChatKind.ONE_ON_ONE, ["a"]), "exactly two"),
        (lambda: Chat("c", ChatKind.GROUP, removed=("a", "a")), "twice"),
        (lambda: Meeting.create("m", "S", "org", ["org"]), "is not an invitee"),
        (lambda: Meeting("m", "S", ""), "organizer"),
        (lambda: Meeting("m", "S", "o", joined=("o", "o")), "twice"),
        (lambda: Call("k", "call"), "kind must be a CallKind"),  # type: ignore[arg-type]
    ],
)
def test_invariants(build: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()
    assert fragment in str(caught.value)


# -- helpers ---------------------------------------------------------------------------------


def test_team_helpers() -> None:
    team = Team.create("t", "T", ["o1", "o2"])
    assert team.mode is TeamMode.IMPLICIT
    assert team.members == (Member("o1", 0), Member("o2", 0))
    assert team.next_seq == 1
    grown = team.with_member("m1").with_member("m2")
    assert grown.members[-2:] == (Member("m1", 1), Member("m2", 2))
    assert grown.next_seq == 3
    assert grown.participant_ids() == ("o1", "o2", "m1", "m2")
    assert team.participant_ids() == ("o1", "o2")  # the original is untouched
    with pytest.raises(InvalidInput, match="already a member"):
        grown.with_member("m1")
    with pytest.raises(InvalidInput, match="already a member"):
        grown.with_member("o1")
    promoted = grown.with_owner("m2")
    assert promoted.owners == ("o1", "o2", "m2")
    assert promoted.is_owner("m2")
    assert not promoted.is_owner("m1")
    with pytest.raises(InvalidInput, match="already an owner"):
        promoted.with_owner("o1")
    with pytest.raises(InvalidInput, match="not a member"):
        promoted.with_owner("zed")
    smaller = promoted.without_member("o1").without_member("m1")
    assert smaller.owners == ("o2", "m2")
    assert smaller.participant_ids() == ("o2", "m2")
    assert smaller.next_seq == 3  # seqs are never reused
    with pytest.raises(InvalidInput, match="not a member"):
        smaller.without_member("o1")


def test_chat_helpers() -> None:
    chat = Chat.create("c", ChatKind.GROUP, ["a", "b"])
    assert chat.participant_ids() == ("a", "b")
    grown = chat.with_participant("c")
    assert grown.participants[-1] == Member("c", 1)
    with pytest.raises(InvalidInput, match="already a participant"):
        grown.with_participant("a")
    removed = grown.without_participant("a")
    assert removed.participant_ids() == ("b", "c")
    assert removed.removed == ("a",)
    with pytest.raises(InvalidInput, match="not a participant"):
        removed.without_participant("a")
    # Added again: back with a new seq, no longer among the removed.
    back = removed.with_participant("a")
    assert back.removed == ()
    assert back.participants[-1] == Member("a", 2)
    read_only = back.made_read_only()
    assert read_only.read_only
    with pytest.raises(InvalidInput, match="already read-only"):
        read_only.made_read_only()
    with pytest.raises(InvalidInput, match="read-only"):
        read_only.with_participant("d")


def test_one_on_one_chat_helpers() -> None:
    chat = Chat.create("c", ChatKind.ONE_ON_ONE, ["a", "b"])
    assert chat.participant_ids() == ("a", "b")
    with pytest.raises(InvalidInput, match="third participant"):
        chat.with_participant("c")
    with pytest.raises(InvalidInput, match="nobody is removed from a 1:1"):
        chat.without_participant("a")
    assert chat.made_read_only().read_only


def test_meeting_helpers() -> None:
    meeting = Meeting.create("m", "S", "org", ["a"])
    assert meeting.participant_ids() == ("org", "a")
    grown = meeting.with_invitee("b")
    assert grown.invitees == (Member("a", 0), Member("b", 1))
    with pytest.raises(InvalidInput, match="already a participant"):
        grown.with_invitee("org")
    with pytest.raises(InvalidInput, match="already a participant"):
        grown.with_invitee("a")
    joined = grown.with_joined("b").with_joined("org")
    assert joined.joined == ("b", "org")
    with pytest.raises(InvalidInput, match="already joined"):
        joined.with_joined("b")
    with pytest.raises(InvalidInput, match="not invited"):
        joined.with_joined("zed")
    smaller = joined.without_invitee("b")
    assert smaller.participant_ids() == ("org", "a")
    assert smaller.joined == ("org",)
    with pytest.raises(InvalidInput, match="not an invitee"):
        smaller.without_invitee("org")


def test_call_helpers() -> None:
    call = Call.create("k", ["a", "b"])
    assert call.live
    assert call.kind is CallKind.CALL
    grown = call.with_participant("c")
    assert grown.participants[-1] == Member("c", 1)
    assert grown.participant_ids() == ("a", "b", "c")
    with pytest.raises(InvalidInput, match="already a participant"):
        grown.with_participant("a")
    shared = grown.sharing_by("c")
    assert shared.sharing == "c"
    assert shared.sharing_by("a").sharing == "a"
    assert shared.sharing_by(None).sharing is None
    with pytest.raises(InvalidInput, match="not a participant"):
        shared.sharing_by("zed")
    ended = shared.ended()
    assert not ended.live
    assert ended.sharing is None
    for action in (
        ended.ended,
        lambda: ended.with_participant("d"),
        lambda: ended.sharing_by("a"),
    ):
        with pytest.raises(InvalidInput, match="has ended"):
            action()


# -- a round-trip property over objects built by the helpers ---------------------------------

_USERS = st.sampled_from([f"u{i}" for i in range(6)])


@st.composite
def objects(draw: st.DrawFn) -> CollabObject:
    """Any collaboration object, built as the service would, through the helpers."""
    kind = draw(st.sampled_from(["team", "chat", "meeting", "call"]))
    first = draw(st.lists(_USERS, min_size=1, max_size=3, unique=True))
    later = draw(st.lists(_USERS, max_size=4, unique=True))
    obj: CollabObject
    if kind == "team":
        obj = Team.create("t", draw(st.text(max_size=5)), first, draw(st.sampled_from(TeamMode)))
        for uid in later:
            if uid not in obj.participant_ids():
                obj = obj.with_member(uid)
    elif kind == "chat":
        obj = Chat.create("c", ChatKind.GROUP, first)
        for uid in later:
            if uid in obj.participant_ids():
                obj = obj.without_participant(uid)
            else:
                obj = obj.with_participant(uid)
    elif kind == "meeting":
        obj = Meeting.create("m", "S", first[0], first[1:])
        for uid in later:
            if uid not in obj.participant_ids():
                obj = obj.with_invitee(uid)
            elif uid not in obj.joined:
                obj = obj.with_joined(uid)
    else:
        obj = Call.create("k", first, draw(st.sampled_from(CallKind)))
        for uid in later:
            if uid not in obj.participant_ids():
                obj = obj.with_participant(uid)
        obj = obj.sharing_by(draw(st.sampled_from([None, *obj.participant_ids()])))
        if draw(st.booleans()):
            obj = obj.ended()
    return obj


@settings(max_examples=200, deadline=None)
@given(objects())
def test_round_trip_property(obj: CollabObject) -> None:
    data = json.loads(json.dumps(obj.to_json()))
    assert collab_from_json(data) == obj
    assert collab_from_json(data).to_json() == data
