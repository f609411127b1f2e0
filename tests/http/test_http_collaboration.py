"""The collaboration service through the API: enforcement points (§7) and reconciliation (§8).

The tenant (``http_builders.standard_tenant``): Sales (s1-s3) and Research (r1, r2) may not
talk (``Sales-block``, enforced both ways); Ops (o1, o2) is a segment without a policy; n1
and n2 are in no segment; members of the group ``ResearchGuests`` count as Research.
Everyone holds TEAMS1 (Office 365 E3).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from http_builders import (
    ACTOR,
    PEOPLE,
    Api,
    add_people,
    json_of,
    license_users,
    refusal,
    standard_tenant,
    upn,
)

from live_server import AppClient

S1, S2, S3, R1, R2, O1, O2, N1, N2 = (upn(name) for name in PEOPLE)


@pytest.fixture
def front(app_client: AppClient) -> Api:
    """The collaboration front-end (enforcer) of an applied standard tenant."""
    standard_tenant(app_client.services)
    return Api(app_client, "enforcer")


@pytest.fixture
def admin(app_client: AppClient) -> Api:
    return Api(app_client, "admin")


def barrier_refusal(response: httpx.Response, pair: tuple[str, str]) -> dict[str, Any]:
    """A barrier's 403: ``blocked_by_policy`` naming Sales-block, segment Sales and the pair
    (in either order: enforcement is two-way)."""
    body = refusal(response, "blocked_by_policy")
    assert body["policy"] == "Sales-block", body
    assert body["segment"] == "Sales", body
    assert sorted(body["pair"]) == sorted(pair), body
    return body


def licensing_refusal(response: httpx.Response, code: str) -> dict[str, Any]:
    """A licensing 403: its own code, no policy, no pair."""
    body = refusal(response, code)
    assert body.get("policy") is None, body
    assert body.get("pair") is None, body
    return body


def members(obj: dict[str, Any], key: str = "members") -> list[str]:
    return [m["upn"] for m in obj[key]]


def team(front: Api, owners: list[str], mode: str = "Implicit", **extra: Any) -> dict[str, Any]:
    body = {"name": f"{mode} team", "owners": owners, "mode": mode, **extra}
    return json_of(front.post("/teams", json=body), 201)  # type: ignore[no-any-return]


def add_member(front: Api, team_id: str, who: str, by: str | None = None) -> httpx.Response:
    body = {"upn": who} if by is None else {"upn": who, "by": by}
    return front.post(f"/teams/{team_id}/members", json=body)


def chat(front: Api, sender: str, *to: str) -> dict[str, Any]:
    return json_of(front.post("/chats", json={"from": sender, "to": list(to)}), 201)  # type: ignore[no-any-return]


def meeting(front: Api, organizer: str, *invitees: str) -> dict[str, Any]:
    body = {"organizer": organizer, "subject": "sync", "invitees": list(invitees)}
    return json_of(front.post("/meetings", json=body), 201)  # type: ignore[no-any-return]


def call(front: Api, caller: str, *to: str, kind: str = "call") -> dict[str, Any]:
    body = {"from": caller, "to": list(to), "kind": kind}
    return json_of(front.post("/calls", json=body), 201)  # type: ignore[no-any-return]


def post(front: Api, chat_id: str, sender: str, text: str = "hi") -> httpx.Response:
    return front.post(f"/chats/{chat_id}/messages", json={"from": sender, "text": text})


def audit(admin: Api, *kinds: str) -> list[dict[str, Any]]:
    return json_of(admin.get("/audit", params={"kind": list(kinds)}), 200)  # type: ignore[no-any-return]


# -- §7: teams ---------------------------------------------------------------------------------
def test_open_team_adds_anyone_without_a_check(front: Api) -> None:
    t = team(front, [S1], "Open")
    assert t["mode"] == "Open"
    added = json_of(add_member(front, t["id"], R1), 200)
    assert members(added) == [S1, R1]


def test_implicit_team_checks_the_newcomer_with_every_member(front: Api, admin: Api) -> None:
    t = team(front, [O1])  # Implicit is the default
    assert t["mode"] == "Implicit"
    json_of(add_member(front, t["id"], S1), 200)  # a member, not an owner
    barrier_refusal(add_member(front, t["id"], R1), (R1, S1))
    assert members(json_of(front.get(f"/teams/{t['id']}"), 200)) == [O1, S1]  # unchanged
    json_of(add_member(front, t["id"], N1), 200)
    assert members(json_of(front.get(f"/teams/{t['id']}"), 200)) == [O1, S1, N1]
    refused = audit(admin, "collaboration.refused")
    assert [e["detail"]["action"] for e in refused] == ["add-team-member"]


def test_owner_moderated_team_checks_the_newcomer_with_the_adding_owner(front: Api) -> None:
    t = team(front, [O1, S2], "OwnerModerated")
    assert t["owners"] == [O1, S2]
    # r1 is incompatible with the owner s2, but o1 adds: allowed.
    assert R1 in members(json_of(add_member(front, t["id"], R1, by=O1), 200))
    # r2 added by s2: refused, naming the pair of the newcomer and the adding owner.
    barrier_refusal(add_member(front, t["id"], R2, by=S2), (R2, S2))
    # ``by`` is required, and must be an owner (s1 is not).
    no_by = add_member(front, t["id"], N1)
    assert no_by.status_code in (400, 422), no_by.text
    assert "by" in no_by.json()["message"]
    not_owner = add_member(front, t["id"], N1, by=S1)
    assert not_owner.status_code in (400, 403), not_owner.text
    assert members(json_of(front.get(f"/teams/{t['id']}"), 200)) == [O1, S2, R1]
    assert N1 in members(json_of(add_member(front, t["id"], N1, by=S2), 200))


def test_team_owners_must_reach_each_other(front: Api) -> None:
    barrier_refusal(
        front.post("/teams", json={"name": "x", "owners": [S1, R1], "mode": "Open"}), (S1, R1)
    )


# -- §7: chats ---------------------------------------------------------------------------------
def test_one_on_one_chat_checks_the_two_users_both_ways(front: Api) -> None:
    body = barrier_refusal(front.post("/chats", json={"from": S1, "to": [R1]}), (S1, R1))
    assert body["pair"] == [S1, R1]
    barrier_refusal(front.post("/chats", json={"from": R1, "to": [S1]}), (R1, S1))
    created = chat(front, S1, S2)
    assert created["kind"] == "one_on_one"
    assert members(created, "participants") == [S1, S2]
    assert json_of(front.get("/chats"), 200) == [created]


def test_group_chat_checks_every_pair(front: Api) -> None:
    # The starter with each ``to`` first, then the ``to``s among themselves.
    body = barrier_refusal(front.post("/chats", json={"from": S1, "to": [O1, R1]}), (S1, R1))
    assert body["pair"] == [S1, R1]
    body = barrier_refusal(front.post("/chats", json={"from": O1, "to": [S1, N1, R1]}), (S1, R1))
    assert body["pair"] == [S1, R1]
    created = chat(front, O1, S1, N1)
    assert created["kind"] == "group"
    assert json_of(front.get("/chats"), 200) == [created]


def test_adding_a_chat_participant_checks_every_participant(front: Api) -> None:
    group = chat(front, O1, N1, S1)
    barrier_refusal(
        front.post(f"/chats/{group['id']}/participants", json={"upn": R1, "by": O1}), (R1, S1)
    )
    added = json_of(
        front.post(f"/chats/{group['id']}/participants", json={"upn": S2, "by": O1}), 200
    )
    assert [(m["upn"], m["seq"]) for m in added["participants"]] == [
        (O1, 0),
        (N1, 0),
        (S1, 0),
        (S2, 1),
    ]
    # Only a participant adds.
    stranger = front.post(f"/chats/{group['id']}/participants", json={"upn": N2, "by": O2})
    assert stranger.status_code == 400, stranger.text


def test_one_on_one_chat_takes_no_third(front: Api) -> None:
    pair = chat(front, O1, N1)
    third = front.post(f"/chats/{pair['id']}/participants", json={"upn": N2, "by": O1})
    assert third.status_code == 400, third.text
    assert "1:1" in third.json()["message"]
    assert members(json_of(front.get(f"/chats/{pair['id']}"), 200), "participants") == [O1, N1]


def test_bad_chat_input_is_never_a_yes(front: Api) -> None:
    for to in ([S1], [S2, S2], ["nobody@abc.example"]):
        answer = front.post("/chats", json={"from": S1, "to": to})
        assert answer.status_code in (400, 404), answer.text
    assert json_of(front.get("/chats"), 200) == []


# -- §7: meetings --------------------------------------------------------------------------------
def test_meeting_invites_check_organizer_and_every_invitee(front: Api) -> None:
    body = {"organizer": O1, "subject": "x", "invitees": [S1, R1]}
    assert barrier_refusal(front.post("/meetings", json=body), (S1, R1))["pair"] == [S1, R1]
    body = {"organizer": S1, "subject": "x", "invitees": [R1]}
    barrier_refusal(front.post("/meetings", json=body), (S1, R1))
    m = meeting(front, O1, S1, N1)
    assert m["organizer"] == O1
    assert members(m, "invitees") == [S1, N1]
    barrier_refusal(front.post(f"/meetings/{m['id']}/invitees", json={"upn": R1}), (R1, S1))
    invited = json_of(front.post(f"/meetings/{m['id']}/invitees", json={"upn": S2}), 200)
    assert members(invited, "invitees") == [S1, N1, S2]


def test_only_invitees_join_a_meeting(front: Api) -> None:
    m = meeting(front, O1, S1)
    joined = json_of(front.post(f"/meetings/{m['id']}/join", json={"upn": S1}), 200)
    assert joined["joined"] == [S1]
    refusal(front.post(f"/meetings/{m['id']}/join", json={"upn": S2}), "not_invited")
    assert json_of(front.get(f"/meetings/{m['id']}"), 200)["joined"] == [S1]


# -- §7: calls -----------------------------------------------------------------------------------
def test_group_call_checks_every_pair(front: Api) -> None:
    body = barrier_refusal(front.post("/calls", json={"from": O1, "to": [S1, R1]}), (S1, R1))
    assert body["pair"] == [S1, R1]
    c = call(front, S1, S2)
    assert c["live"] is True
    assert c["kind"] == "call"
    barrier_refusal(front.post(f"/calls/{c['id']}/participants", json={"upn": R1}), (R1, S1))
    joined = json_of(front.post(f"/calls/{c['id']}/participants", json={"upn": O1}), 200)
    assert members(joined, "participants") == [S1, S2, O1]
    ended = json_of(front.post(f"/calls/{c['id']}/end"), 200)
    assert ended["live"] is False


def test_screen_share_checks_the_sharer_with_every_other_participant(
    front: Api, admin: Api
) -> None:
    c = call(front, S1, S2, O2)
    shared = json_of(front.post(f"/calls/{c['id']}/screen-share", json={"upn": S1}), 200)
    assert shared["sharing"] == S1
    outsider = front.post(f"/calls/{c['id']}/screen-share", json={"upn": N1})
    assert outsider.status_code == 400, outsider.text
    # o2 joins ResearchGuests: in Ops and Research, an IBPolicyConflict in SingleSegment mode.
    # Reconciliation leaves the call alone (§8), but the barrier fails closed (§5).
    json_of(admin.put(f"/groups/ResearchGuests/members/{O2}"), 200)
    assert json_of(front.get(f"/calls/{c['id']}"), 200)["live"] is True
    body = refusal(
        front.post(f"/calls/{c['id']}/screen-share", json={"upn": S2}), "policy_conflict"
    )
    assert body["pair"] == [S2, O2]
    assert json_of(front.get(f"/calls/{c['id']}"), 200)["sharing"] == S1


def test_remote_assist_needs_the_callers_license(front: Api, app_client: AppClient) -> None:
    body = licensing_refusal(
        front.post("/calls", json={"from": S1, "to": [S2], "kind": "remote_assist"}),
        "license_required",
    )
    assert "MICROSOFT_REMOTE_ASSIST" in body["message"]
    license_users(app_client.services, "abc", [S1], "MICROSOFT_REMOTE_ASSIST")
    ra = call(front, S1, S2, kind="remote_assist")
    assert ra["kind"] == "remote_assist"
    # The callee needs no Remote Assist license; the barrier still applies.
    barrier_refusal(
        front.post("/calls", json={"from": S1, "to": [R1], "kind": "remote_assist"}), (S1, R1)
    )


def test_teams_license_is_required_of_every_participant(front: Api, app_client: AppClient) -> None:
    add_people(app_client.services, "abc", {"nolicense": "Ops"}, sku=None)
    nolicense = upn("nolicense")
    team_id = team(front, [O1])["id"]
    meeting_id = meeting(front, O1)["id"]
    group_id = chat(front, O1, N1, N2)["id"]
    call_id = call(front, O1, N1)["id"]
    for response in (
        front.post("/chats", json={"from": O1, "to": [nolicense]}),
        front.post("/chats", json={"from": nolicense, "to": [O1]}),
        front.post(f"/chats/{group_id}/participants", json={"upn": nolicense, "by": O1}),
        front.post("/teams", json={"name": "t", "owners": [nolicense]}),
        add_member(front, team_id, nolicense),
        front.post("/meetings", json={"organizer": O1, "invitees": [nolicense]}),
        front.post(f"/meetings/{meeting_id}/invitees", json={"upn": nolicense}),
        front.post("/calls", json={"from": O1, "to": [N1, nolicense]}),
        front.post(f"/calls/{call_id}/participants", json={"upn": nolicense}),
    ):
        body = licensing_refusal(response, "license_required")
        assert nolicense in body["message"]
    # The barrier alone would have said yes: the refusal is licensing, not the barrier.
    verdict = json_of(front.get("/relationship", params={"a": O1, "b": nolicense}), 200)
    assert verdict["allowed"] is True


def test_disabled_accounts_are_refused(front: Api, admin: Api, app_client: AppClient) -> None:
    add_people(app_client.services, "abc", {"off": "Ops"}, account_enabled=False)
    off = upn("off")
    licensing_refusal(front.post("/chats", json={"from": S1, "to": [off]}), "account_disabled")
    licensing_refusal(front.post("/calls", json={"from": off, "to": [S1]}), "account_disabled")
    pair = chat(front, S1, S2)
    json_of(admin.patch(f"/users/{S2}", json={"account_enabled": False}), 200)
    licensing_refusal(front.post("/chats", json={"from": S1, "to": [S2]}), "account_disabled")
    licensing_refusal(post(front, pair["id"], S2), "account_disabled")
    # Disabled removes from nothing (§8): the chat is as it was, and works again once enabled.
    now = json_of(front.get(f"/chats/{pair['id']}"), 200)
    assert now["read_only"] is False
    assert now["removed"] == []
    json_of(admin.patch(f"/users/{S2}", json={"account_enabled": True}), 200)
    json_of(post(front, pair["id"], S2), 201)


def test_every_refusal_is_audited(front: Api, admin: Api) -> None:
    before = len(audit(admin, "collaboration.refused"))
    assert before == 0
    barrier_refusal(front.post("/chats", json={"from": S1, "to": [R1]}), (S1, R1))
    barrier_refusal(front.post("/calls", json={"from": R2, "to": [S3]}), (R2, S3))
    licensing_refusal(
        front.post("/calls", json={"from": S1, "to": [S2], "kind": "remote_assist"}),
        "license_required",
    )
    chat(front, S1, S2)  # allowed: not audited as a refusal
    entries = audit(admin, "collaboration.refused")
    assert [e["detail"]["action"] for e in entries] == ["chat", "call", "call"]
    assert [e["detail"]["code"] for e in entries] == [
        "blocked_by_policy",
        "blocked_by_policy",
        "license_required",
    ]
    assert entries[0]["detail"]["pair"] == [S1, R1]
    assert entries[0]["detail"]["policy"] == "Sales-block"
    assert entries[0]["actor"].startswith("token:")
    assert json_of(admin.get("/audit/verify"), 200)["intact"] is True


# -- §7: messages ------------------------------------------------------------------------------
def test_messages_of_participants_only(front: Api) -> None:
    group = chat(front, O1, S1, N1)
    first = json_of(post(front, group["id"], S1, "hello"), 201)
    assert first["sender"] == S1
    assert first["text"] == "hello"
    stranger = post(front, group["id"], S2)
    assert stranger.status_code == 400, stranger.text
    history = json_of(front.get(f"/chats/{group['id']}/messages"), 200)
    assert [(m["sender"], m["text"]) for m in history] == [(S1, "hello")]


# -- §8: after an apply --------------------------------------------------------------------------
@pytest.fixture
def before_barrier(app_client: AppClient) -> Api:
    """The standard tenant with the barrier defined but never applied: nobody is segmented."""
    standard_tenant(app_client.services, apply=False)
    return Api(app_client, "enforcer")


def apply(admin: Api) -> list[dict[str, Any]]:
    """``POST /applications?wait=true``; the reconciliation actions it reports."""
    done = json_of(admin.post("/applications", params={"wait": "true"}), 200)
    assert done["status"] == "Completed", done
    return done["report"]["reconciliation"]  # type: ignore[no-any-return]


def kinds_of(actions: list[dict[str, Any]], object_id: str) -> list[tuple[str, str | None]]:
    return [(a["kind"], a["upn"]) for a in actions if a["object_id"] == object_id]


def test_apply_reconciles_chats(before_barrier: Api, admin: Api) -> None:
    front = before_barrier
    one = chat(front, S1, R1)
    json_of(post(front, one["id"], S1, "before"), 201)
    tie = chat(front, S1, R1, O1)  # one clash each, joined together: the greater UPN goes (s1)
    most = chat(front, R2, S2, S3, N1)  # r2 clashes twice
    later = chat(front, O1, S1, N1)
    json_of(front.post(f"/chats/{later['id']}/participants", json={"upn": R1, "by": O1}), 200)
    fine = chat(front, S2, O1, N2)

    actions = apply(admin)

    assert kinds_of(actions, one["id"]) == [("chat_read_only", None)]
    assert kinds_of(actions, tie["id"]) == [("chat_participant_removed", S1)]
    assert kinds_of(actions, most["id"]) == [("chat_participant_removed", R2)]
    assert kinds_of(actions, later["id"]) == [("chat_participant_removed", R1)]  # joined last
    assert kinds_of(actions, fine["id"]) == []
    assert all(a["reason"] for a in actions)

    # The 1:1 chat is read-only: nobody posts, the history stays readable.
    assert json_of(front.get(f"/chats/{one['id']}"), 200)["read_only"] is True
    refusal(post(front, one["id"], R1), "chat_read_only")
    refusal(post(front, one["id"], S1), "chat_read_only")
    history = json_of(front.get(f"/chats/{one['id']}/messages"), 200)
    assert [m["text"] for m in history] == ["before"]
    # The removed keep read-only history: they may not post, the others may.
    now = json_of(front.get(f"/chats/{tie['id']}"), 200)
    assert now["removed"] == [S1]
    assert members(now, "participants") == [R1, O1]
    refusal(post(front, tie["id"], S1), "removed_from_chat")
    json_of(post(front, tie["id"], R1), 201)
    # A removed user cannot be brought back past the barrier.
    barrier_refusal(
        front.post(f"/chats/{tie['id']}/participants", json={"upn": S1, "by": O1}), (S1, R1)
    )
    # Every action is in the audit log with its reason.
    logged = audit(
        admin, "reconciliation.chat_read_only", "reconciliation.chat_participant_removed"
    )
    assert len(logged) == len(actions) == 4
    assert all(e["detail"]["reason"] for e in logged)


def test_apply_reconciles_meetings(before_barrier: Api, admin: Api) -> None:
    front = before_barrier
    protected = meeting(front, S1, R1, O1)  # the organizer stays: r1 goes
    organizer_clashes = meeting(front, R1, S2, S3)  # the invitees go, greater UPN first
    actions = apply(admin)
    assert kinds_of(actions, protected["id"]) == [("meeting_invitee_removed", R1)]
    assert kinds_of(actions, organizer_clashes["id"]) == [
        ("meeting_invitee_removed", S3),
        ("meeting_invitee_removed", S2),
    ]
    now = json_of(front.get(f"/meetings/{organizer_clashes['id']}"), 200)
    assert now["organizer"] == R1
    assert now["invitees"] == []
    refusal(front.post(f"/meetings/{protected['id']}/join", json={"upn": R1}), "not_invited")


def test_apply_reconciles_teams(before_barrier: Api, admin: Api) -> None:
    front = before_barrier
    implicit = team(front, [S1])
    for who in (R1, O1):
        json_of(add_member(front, implicit["id"], who), 200)
    owner_clashes = team(front, [R2])
    for who in (S2, S3):
        json_of(add_member(front, owner_clashes["id"], who), 200)
    moderated = team(front, [S1, O1], "OwnerModerated")
    json_of(add_member(front, moderated["id"], R1, by=O1), 200)  # compatible with o1: stays
    json_of(add_member(front, moderated["id"], N1, by=O1), 200)
    lonely = team(front, [S2], "OwnerModerated")
    json_of(add_member(front, lonely["id"], R2, by=S2), 200)  # incompatible with every owner
    open_team = team(front, [S1], "Open")
    json_of(add_member(front, open_team["id"], R1), 200)

    actions = apply(admin)

    assert kinds_of(actions, implicit["id"]) == [("team_member_removed", R1)]
    # Owners go last: s3 (joined after s2), then s2; the owner r2 stays.
    assert kinds_of(actions, owner_clashes["id"]) == [
        ("team_member_removed", S3),
        ("team_member_removed", S2),
    ]
    assert kinds_of(actions, moderated["id"]) == []
    assert kinds_of(actions, lonely["id"]) == [("team_member_removed", R2)]
    assert [a["rule"] for a in actions if a["object_id"] == lonely["id"]] == [
        "incompatible_with_every_owner"
    ]
    assert kinds_of(actions, open_team["id"]) == []
    assert members(json_of(front.get(f"/teams/{implicit['id']}"), 200)) == [S1, O1]
    assert members(json_of(front.get(f"/teams/{owner_clashes['id']}"), 200)) == [R2]
    assert members(json_of(front.get(f"/teams/{moderated['id']}"), 200)) == [S1, O1, R1, N1]
    assert members(json_of(front.get(f"/teams/{open_team['id']}"), 200)) == [S1, R1]
    assert len(audit(admin, "reconciliation.team_member_removed")) == 4


def test_apply_ends_live_calls_with_an_incompatible_pair(before_barrier: Api, admin: Api) -> None:
    front = before_barrier
    clash = call(front, O1, S1, R1)
    fine = call(front, S2, O1)
    over = call(front, S3, R2)
    json_of(front.post(f"/calls/{over['id']}/end"), 200)
    actions = apply(admin)
    assert kinds_of(actions, clash["id"]) == [("call_ended", None)]
    assert kinds_of(actions, fine["id"]) == []
    assert kinds_of(actions, over["id"]) == []
    assert json_of(front.get(f"/calls/{clash['id']}"), 200)["live"] is False
    assert json_of(front.get(f"/calls/{fine['id']}"), 200)["live"] is True
    assert len(audit(admin, "reconciliation.call_ended")) == 1


def test_what_if_lists_the_reconciliation_and_changes_nothing(
    before_barrier: Api, admin: Api
) -> None:
    front = before_barrier
    one = chat(front, S1, R1)
    group = chat(front, O1, S1, R1)
    m = meeting(front, S1, R1)
    c = call(front, S2, R2)
    objects_before = {
        kind: json_of(front.get(f"/{kind}"), 200) for kind in ("chats", "meetings", "calls")
    }
    audit_before = audit(admin)

    preview = json_of(admin.post("/applications", params={"what_if": "true"}), 200)

    planned = preview["reconciliation"]
    assert kinds_of(planned, one["id"]) == [("chat_read_only", None)]
    assert kinds_of(planned, group["id"]) == [("chat_participant_removed", S1)]
    assert kinds_of(planned, m["id"]) == [("meeting_invitee_removed", R1)]
    assert kinds_of(planned, c["id"]) == [("call_ended", None)]
    assert all(a["reason"] for a in planned)
    # Nothing changed: objects, history, audit, verdicts.
    for kind, before in objects_before.items():
        assert json_of(front.get(f"/{kind}"), 200) == before
    assert json_of(admin.get("/applications"), 200) == []
    assert audit(admin) == audit_before
    assert json_of(front.get("/relationship", params={"a": S1, "b": R1}), 200)["allowed"] is True
    json_of(post(front, one["id"], R1), 201)
    # The apply then does what the preview said.
    done = apply(admin)
    assert [(a["kind"], a["object_id"], a["upn"]) for a in done] == [
        (a["kind"], a["object_id"], a["upn"]) for a in planned
    ]


# -- §8: after a directory change ------------------------------------------------------------------
def test_a_department_change_reconciles_at_once(front: Api, admin: Api) -> None:
    one = chat(front, S1, N1)
    group = chat(front, O1, S1, N1, S2)
    m = meeting(front, S1, N1, O1)
    implicit = team(front, [S1])
    json_of(add_member(front, implicit["id"], N1), 200)
    moderated = team(front, [S1, O1], "OwnerModerated")
    json_of(add_member(front, moderated["id"], N1, by=S1), 200)
    open_team = team(front, [S1], "Open")
    json_of(add_member(front, open_team["id"], N1), 200)
    live = call(front, S1, N1)

    # n1 moves to Research: blocked from Sales at once, no apply.
    json_of(admin.patch(f"/users/{N1}", json={"attributes": {"Department": "Research"}}), 200)

    assert json_of(front.get(f"/chats/{one['id']}"), 200)["read_only"] is True
    assert json_of(front.get(f"/chats/{group['id']}"), 200)["removed"] == [N1]  # 2 clashes
    assert N1 not in members(json_of(front.get(f"/meetings/{m['id']}"), 200), "invitees")
    assert members(json_of(front.get(f"/teams/{implicit['id']}"), 200)) == [S1]
    assert N1 in members(json_of(front.get(f"/teams/{moderated['id']}"), 200))  # o1 is fine
    assert N1 in members(json_of(front.get(f"/teams/{open_team['id']}"), 200))
    assert json_of(front.get(f"/calls/{live['id']}"), 200)["live"] is False
    logged = [e["detail"]["kind"] for e in audit(admin) if e["kind"].startswith("reconciliation.")]
    assert sorted(logged) == sorted(
        [
            "chat_read_only",
            "chat_participant_removed",
            "meeting_invitee_removed",
            "team_member_removed",
            "call_ended",
        ]
    )
    assert len(json_of(admin.get("/applications"), 200)) == 1  # the builder's apply only


def test_group_membership_changes_reconcile_and_read_only_stays(front: Api, admin: Api) -> None:
    one = chat(front, S2, N2)
    json_of(admin.put(f"/groups/ResearchGuests/members/{N2}"), 200)  # n2 counts as Research
    assert json_of(front.get(f"/chats/{one['id']}"), 200)["read_only"] is True
    barrier_refusal(front.post("/chats", json={"from": S2, "to": [N2]}), (S2, N2))
    json_of(admin.delete(f"/groups/ResearchGuests/members/{N2}"), 200)  # and no longer
    # Compatible again: a new chat is allowed, but a read-only chat stays read-only (§8).
    assert json_of(front.get(f"/chats/{one['id']}"), 200)["read_only"] is True
    refusal(post(front, one["id"], S2), "chat_read_only")
    chat(front, S2, N2)


def test_a_policy_conflict_removes_from_nothing(front: Api, admin: Api) -> None:
    group = chat(front, O2, S1, N1)
    one = chat(front, O2, S2)
    m = meeting(front, S1, O2)
    implicit = team(front, [S1])
    json_of(add_member(front, implicit["id"], O2), 200)
    live = call(front, S1, O2)
    snapshot = {
        path: json_of(front.get(path), 200)
        for path in (
            f"/chats/{group['id']}",
            f"/chats/{one['id']}",
            f"/meetings/{m['id']}",
            f"/teams/{implicit['id']}",
            f"/calls/{live['id']}",
        )
    }
    # o2 in Ops and (through the group) Research: IBPolicyConflict, incompatible with everyone.
    json_of(admin.put(f"/groups/ResearchGuests/members/{O2}"), 200)
    recipient = json_of(admin.get(f"/recipients/{O2}"), 200)
    assert any("IBPolicyConflict" in e for e in recipient["errors"]), recipient
    for path, before in snapshot.items():
        assert json_of(front.get(path), 200) == before, path
    assert [e for e in audit(admin) if e["kind"].startswith("reconciliation.")] == []
    # ... but o2 cannot act: fail closed.
    refusal(front.post("/chats", json={"from": O2, "to": [N1]}), "policy_conflict")


def test_a_disabled_user_is_removed_from_nothing(front: Api, admin: Api) -> None:
    group = chat(front, S3, S1, N1)
    one = chat(front, S3, S2)
    before = [json_of(front.get(f"/chats/{c['id']}"), 200) for c in (group, one)]
    json_of(admin.patch(f"/users/{S3}", json={"account_enabled": False}), 200)
    after = [json_of(front.get(f"/chats/{c['id']}"), 200) for c in (group, one)]
    assert after == before
    assert [e for e in audit(admin) if e["kind"].startswith("reconciliation.")] == []


def test_apply_fixture_builds_an_applied_epoch(app_client: AppClient) -> None:
    """The builders' tenant is applied: the barrier is in force before any test acts."""
    standard_tenant(app_client.services)
    history = app_client.services.applications.history("abc")
    assert [a.status for a in history] == ["Completed"]
    assert history[0].actor == ACTOR


def test_a_deleted_user_does_not_block_existing_objects(front: Api, admin: Api) -> None:
    """A user deleted from the directory stays in old objects (reconciliation leaves them,
    §8 counts only segments and policies), but must not make those objects unusable: the
    others go on adding people, inviting and sharing screens."""
    group = chat(front, O1, S1, N1)
    live = call(front, O1, S1, N1)
    t = team(front, [O1])
    json_of(add_member(front, t["id"], N1), 200)
    m = meeting(front, O1, N1)
    assert admin.delete(f"/users/{N1}").status_code == 204
    problems = []
    for label, response in (
        (
            "add to chat",
            front.post(f"/chats/{group['id']}/participants", json={"upn": S2, "by": O1}),
        ),
        ("post to chat", post(front, group["id"], S1)),
        ("share screen", front.post(f"/calls/{live['id']}/screen-share", json={"upn": S1})),
        ("add to call", front.post(f"/calls/{live['id']}/participants", json={"upn": S2})),
        ("add to team", add_member(front, t["id"], S2)),
        ("invite", front.post(f"/meetings/{m['id']}/invitees", json={"upn": S2})),
    ):
        if response.status_code not in (200, 201):
            problems.append(f"{label}: {response.status_code} {response.text}")
    assert problems == []
