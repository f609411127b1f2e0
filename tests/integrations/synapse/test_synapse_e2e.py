"""The seed's scenario on real homeservers, in both modes (in-process store and url).

V1's Remote Assist account finds, DMs, calls and shares its screen with V1's engineer; it
cannot find, DM, invite, call or share its screen with V2's engineer. A department change
made through SCIM separates two members of an existing room: the in-process homeserver and
the url-mode one that reconciles every poll remove one of them within seconds (audited in
the tenant's log); the url-mode one that reconciles only at start refuses messages, calls
and screen shares in that room meanwhile. With the
store or the service unreachable and ``on_unavailable: deny``, invites are refused with a
clear reason.
"""

from __future__ import annotations

import time
import uuid

import httpx
from synapse_server import Homeserver, Matrix, call_invite, forbidden, wait_until_ready
from synapse_world import PEOPLE, World

from infobarrier.core.audit import AuditEntry
from infobarrier.demo import abc

SCREEN_KEYS = ("sdp_stream_metadata", "org.matrix.msc3077.sdp_stream_metadata")


def people(hs: Homeserver, world: World) -> tuple[Matrix, Matrix, Matrix, Matrix]:
    """Clients for V1's account, V1's engineers and V2's engineer."""
    ids = world.ids
    return (
        hs.client(ids["v1-ra1"]),
        hs.client(ids["se1a"]),
        hs.client(ids["se1b"]),
        hs.client(ids["se2a"]),
    )


def search_until(client: Matrix, term: str, expected: str, timeout: float = 20) -> set[str]:
    """What a search finds, once ``expected`` is among it (Synapse indexes new users in the
    background) or the time is up."""
    deadline = time.monotonic() + timeout
    found = set(client.search(term))
    while expected not in found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = set(client.search(term))
    return found


def test_search_finds_v1_engineer_only(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, _se1a, _se1b, se2a = people(hs, world)
    found = search_until(v1, "Support Engineer", world.ids["se1a"])
    assert world.ids["se1a"] in found
    assert world.ids["se2a"] not in found
    # V2's engineer is found by V2's other people (here: by staff), just not by V1's account.
    alex = hs.client(world.ids["alex"])
    assert world.ids["se2a"] in search_until(alex, "Support Engineer", world.ids["se2a"])
    # Both ways: V1's engineer finds V1's account, V2's engineer does not.
    se1a = hs.client(world.ids["se1a"])
    assert world.ids["v1-ra1"] in search_until(se1a, "Vendor1", world.ids["v1-ra1"])
    assert world.ids["v1-ra1"] not in set(se2a.search("Vendor1"))


def test_dm_message_call_and_screen_share_with_v1_engineer(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, se1a, _se1b, _se2a = people(hs, world)
    created = v1.dm(se1a.user_id)
    assert created.status_code == 200, created.text
    room = created.json()["room_id"]
    assert se1a.join(room).status_code == 200
    assert v1.say(room, "hello").status_code == 200
    assert v1.send(room, "m.call.invite", call_invite("c1")).status_code == 200
    for key in SCREEN_KEYS:
        invite = v1.send(room, "m.call.invite", call_invite(f"c-{key}", screen=key))
        assert invite.status_code == 200, invite.text
    negotiate = {"call_id": "c1", "party_id": "p1", "version": "1", "lifetime": 1000}
    negotiate["description"] = {"type": "offer", "sdp": "v=0\r\n"}
    negotiate["sdp_stream_metadata"] = {"s": {"purpose": "m.screenshare"}}
    assert v1.send(room, "m.call.negotiate", negotiate).status_code == 200


def test_cannot_dm_or_invite_v2_engineer(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, _se1a, _se1b, se2a = people(hs, world)
    before = v1.rooms()
    refused = forbidden(v1.dm(se2a.user_id))
    assert refused["code"] == "blocked_by_policy"
    assert refused["action"] == "chat"
    assert "V1_RemoteAssistUser" in refused["reason"]
    assert v1.rooms() == before, "a refused /createRoom leaves no room behind"

    alone = v1.create_room(name="support")
    assert alone.status_code == 200
    room = alone.json()["room_id"]
    assert forbidden(v1.invite(room, se2a.user_id))["code"] == "blocked_by_policy"


def test_group_rules_newcomer_against_every_member(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, se1a, _se1b, se2a = people(hs, world)
    alex = hs.client(world.ids["alex"])
    # se1a and se2a may talk (engineers reach each other); V1's account may not join them.
    created = se1a.create_room(invite=[se2a.user_id], preset="public_chat")
    assert created.status_code == 200, created.text
    room = created.json()["room_id"]
    assert se2a.join(room).status_code == 200
    assert forbidden(v1.join(room))["pair"] == ["v1-ra1@abc.example", "se2a@abc.example"]
    # se1a may invite staff, but not V1's account (it is incompatible with se2a, a member).
    assert se1a.invite(room, alex.user_id).status_code == 200
    assert forbidden(se1a.invite(room, v1.user_id))["action"] == "group-chat"
    # A group chat created with V1's account and V2's engineer among the invitees.
    assert forbidden(se1a.create_room(invite=[v1.user_id, se2a.user_id]))["code"] == (
        "blocked_by_policy"
    )


def test_spaces_are_teams(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, se1a, _se1b, se2a = people(hs, world)
    space = se1a.create_room(
        name="V1 support", creation_content={"type": "m.space"}, preset="public_chat"
    )
    assert space.status_code == 200, space.text
    space_id = space.json()["room_id"]
    assert v1.join(space_id).status_code == 200
    refused = forbidden(se1a.invite(space_id, se2a.user_id))
    assert refused["action"] == "add-team-member"
    # A room with V2's engineer in it cannot be added to the space V1's account is in.
    room = se1a.create_room(invite=[se2a.user_id]).json()["room_id"]
    assert se2a.join(room).status_code == 200
    via = {"via": ["matrix.abc.test"]}
    child = forbidden(se1a.state(space_id, "m.space.child", room, via))
    assert child["action"] == "add-team-member"
    assert child["pair"] == ["se2a@abc.example", "v1-ra1@abc.example"]


def test_admin_crossing_is_audited(world: World, mode: str) -> None:
    hs = world.homeserver(mode)
    v1, se1a, _se1b, se2a = people(hs, world)
    admin = hs.client(world.admin)
    created = v1.create_room(
        invite=[se1a.user_id], preset="public_chat", power_level_content_override={"invite": 0}
    )
    assert created.status_code == 200, created.text
    room = created.json()["room_id"]
    # The admin is in no directory (unknown users are denied), yet joins: admins bypass
    # the join and invite callbacks.
    assert admin.join(room).status_code == 200
    invited = admin.invite(room, se2a.user_id)  # and so does their invite
    assert invited.status_code == 200, invited.text
    assert forbidden(se2a.join(room))["code"] == "blocked_by_policy"
    # Both modes write to the tenant's audit log: in-process as ``synapse``, url mode through
    # ``POST .../audit/events`` as its enforcer token.
    crossing = _audited(world, "synapse.admin_crossing", room, se2a.user_id)
    assert crossing.detail["admin"] == admin.user_id
    assert crossing.detail["code"] == "blocked_by_policy"
    assert crossing.actor == ("synapse" if mode == "local" else _enforcer_actor(world))


def _enforcer_actor(world: World) -> str:
    """The audit actor of the url-mode homeserver's enforcer token (it names no person)."""
    principal = world.services.tokens.verify(world.tokens[(abc.TENANT, "enforcer")])
    assert principal is not None
    return f"token:{principal.token_id}"


def _audited(world: World, kind: str, room: str, user_id: str | None = None) -> AuditEntry:
    """The tenant's audit entry of ``kind`` about ``room`` (and ``user_id``), once written."""
    deadline = time.monotonic() + 30
    while True:
        found = [
            e
            for e in world.services.audit.entries(abc.TENANT, kinds=[kind])
            if e.detail.get("room_id") == room
            and (user_id is None or e.detail.get("user_id") == user_id)
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found, f"no {kind} entry for {room} in the tenant's audit log"
    return found[-1]


def _scim(world: World, method: str, path: str, body: object = None) -> httpx.Response:
    token = world.tokens[(abc.TENANT, "provisioner")]
    return httpx.request(
        method,
        f"{world.base}/scim/v2/{abc.TENANT}/{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=30,
    )


def _user_id(world: World, upn: str) -> str:
    found = httpx.get(
        f"{world.base}/scim/v2/{abc.TENANT}/Users",
        params={"filter": f'userName eq "{upn}"'},
        headers={"Authorization": f"Bearer {world.tokens[(abc.TENANT, 'provisioner')]}"},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    return str(found.json()["Resources"][0]["id"])


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _set_department(world: World, upn: str, department: str) -> None:
    """A SCIM client (an identity provider) changes a user's department: one PATCH."""
    op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    patched = _scim(
        world,
        "PATCH",
        f"Users/{_user_id(world, upn)}",
        {
            "schemas": [op],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:department", "value": department}
            ],
        },
    )
    assert patched.status_code in (200, 204), patched.text
    if patched.status_code == 200:
        assert patched.json()[ENTERPRISE]["department"] == department


def _removed_within(hs: Homeserver, world: World, room: str, seconds: float = 30) -> Matrix:
    """Waits until one of V1's account and Dana has left ``room``; returns who stayed (V1's
    account)."""
    v1, dana = hs.client(world.ids["v1-ra1"]), hs.client(world.ids["dana"])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and all(room in c.rooms() for c in (v1, dana)):
        time.sleep(0.2)
    gone = [c for c in (v1, dana) if room not in c.rooms()]
    assert len(gone) == 1, "exactly one member was removed"
    stayed = dana if gone[0] is v1 else v1
    assert stayed.members(room) == {stayed.user_id}
    leave = stayed.member_event(room, gone[0].user_id)
    assert leave["membership"] == "leave"
    assert leave["reason"].startswith("infobarrier: ")
    # One incompatibility each: the tie goes to the most recently joined (Dana).
    assert gone[0] is dana
    assert "dana@abc.example has the most incompatibilities" in leave["reason"]
    assert "v1-ra1@abc.example" in leave["reason"]
    return stayed


def test_department_change_through_scim_separates_an_existing_room(world: World) -> None:
    """Dana (in no segment) and V1's account share a direct chat on each homeserver; a SCIM
    PATCH of her department puts her in ``ABC_Legal``, which V1's allow list leaves out."""
    rooms = {}
    for mode in ("local", "remote", "follow"):
        hs = world.homeserver(mode)
        v1, dana = hs.client(world.ids["v1-ra1"]), hs.client(world.ids["dana"])
        created = v1.dm(dana.user_id)
        assert created.status_code == 200, created.text
        rooms[mode] = created.json()["room_id"]
        assert dana.join(rooms[mode]).status_code == 200
        assert v1.say(rooms[mode], "before").status_code == 200

    _set_department(world, "dana@abc.example", "Legal")
    try:
        # In-process and url mode (reconciling every poll): within seconds, one of them
        # leaves the DM (a trusted_private_chat, where a kick would fail), with the reason
        # in the leave event and in the tenant's audit log.
        for mode in ("local", "follow"):
            room = rooms[mode]
            stayed = _removed_within(world.homeserver(mode), world, room)
            entry = _audited(world, "synapse.member_removed", room)
            assert entry.detail["user_id"] != stayed.user_id
            assert entry.detail["rule"] == "most_incompatibilities"
            assert ["v1-ra1@abc.example", "dana@abc.example"] in entry.detail["pairs"] or [
                "dana@abc.example",
                "v1-ra1@abc.example",
            ] in entry.detail["pairs"]
            assert entry.actor == ("synapse" if mode == "local" else _enforcer_actor(world))
            assert world.services.audit.verify(abc.TENANT)[1] is None

        # url mode reconciling at start only: nothing new happens in the separated room.
        hs = world.remote
        v1, dana = hs.client(world.ids["v1-ra1"]), hs.client(world.ids["dana"])
        room = rooms["remote"]
        time.sleep(1.1)  # the service's answers about a room are reused for a second
        assert forbidden(v1.say(room, "after"))["code"] == "room_separated"
        call = v1.send(room, "m.call.invite", call_invite("c2"))
        assert forbidden(call)["code"] == "room_separated"
        screen = call_invite("c3", screen="org.matrix.msc3077.sdp_stream_metadata")
        assert forbidden(dana.send(room, "m.call.invite", screen))["code"] == "room_separated"
        # A hang-up still goes through.
        hangup = {"call_id": "c1", "party_id": "p1", "version": "1"}
        assert v1.send(room, "m.call.hangup", hangup).status_code == 200
        # Joining a group call there is refused too.
        member = {"call_id": "", "device_id": "D", "focus_active": {"type": "livekit"}}
        refused = forbidden(
            v1.state(room, "org.matrix.msc3401.call.member", f"_{v1.user_id}_D", member)
        )
        assert refused["code"] == "room_separated"
        assert room in v1.rooms()
        assert room in dana.rooms()
    finally:
        _set_department(world, "dana@abc.example", "Operations")


def test_group_call_and_screen_share_follow_the_pair(world: World, mode: str) -> None:
    """A group call (MatrixRTC membership) in a room of compatible people goes through."""
    hs = world.homeserver(mode)
    v1, se1a, _se1b, _se2a = people(hs, world)
    room = v1.create_room(invite=[se1a.user_id]).json()["room_id"]
    assert se1a.join(room).status_code == 200
    member = {"call_id": "", "device_id": "D", "focus_active": {"type": "livekit"}}
    key = f"_{v1.user_id}_D"
    answer = v1.state(room, "org.matrix.msc3401.call.member", key, member)
    assert answer.status_code == 200, answer.text
    changed = {
        "call_id": "c9",
        "party_id": "p",
        "version": "1",
        "sdp_stream_metadata": {"s": {"purpose": "m.screenshare"}},
    }
    assert v1.send(room, "m.call.sdp_stream_metadata_changed", changed).status_code == 200


def test_unreachable_store_refuses_invites_with_a_reason(world: World) -> None:
    """In-process over a store that cannot be reached, with on_unavailable: deny."""
    hs = wait_until_ready(world.down)
    for localpart in ("v1-ra1", "se1a"):
        hs.register(localpart, display_name=PEOPLE[localpart])
    v1, se1a = hs.client(world.ids["v1-ra1"]), hs.client(world.ids["se1a"])
    before = v1.rooms()
    refused = forbidden(v1.dm(se1a.user_id))
    assert refused["code"] == "infobarrier_unavailable"
    assert "store unreachable" in refused["reason"]
    assert v1.rooms() == before
    room = v1.create_room(name="alone").json()["room_id"]  # no one to check against
    refused = forbidden(v1.invite(room, se1a.user_id))
    assert refused["code"] == "infobarrier_unavailable"
    assert "refused until it can" in refused["reason"]
    assert v1.search("Support") == []


def test_unavailable_service_refuses_invites_with_a_reason(world: World) -> None:
    """Last: the service stops; the url-mode homeserver (on_unavailable: deny) refuses."""
    world.server.terminate()
    world.server.wait(timeout=20)
    hs = world.remote
    v1, se1a, _se1b, _se2a = people(hs, world)
    room = v1.create_room(name=f"r{uuid.uuid4().hex[:6]}").json()["room_id"]
    refused = forbidden(v1.invite(room, se1a.user_id))
    assert refused["code"] == "infobarrier_unavailable"
    assert "cannot be checked" in refused["reason"]
    assert "unreachable" in refused["reason"]
