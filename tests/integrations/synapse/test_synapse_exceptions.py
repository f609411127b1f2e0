"""Wall-crossing exceptions (semantics §11) on the real homeserver deciding in-process.

V1's Remote Assist account may not reach V2's engineer. An approved exception for ``chat``
between the two lets V1's account open a direct chat with V2's engineer and both talk in it
(a call stays refused: the exception does not name it). When the exception ends, or is
revoked, the direct chat is refused again at once, and the room is reconciled as after a
policy change: the later joiner leaves, and the tenant's audit log says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from synapse_server import Matrix, call_invite, forbidden
from synapse_world import World

from infobarrier.core.exceptions import State, WallException
from infobarrier.demo import abc

A, B = "v1-ra1@abc.example", "se2a@abc.example"


def _eventually(ask: Callable[[], httpx.Response], seconds: float = 20) -> httpx.Response:
    """``ask()`` until it succeeds (the homeserver follows the store every half second)."""
    deadline = time.monotonic() + seconds
    answer = ask()
    while answer.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = ask()
    return answer


def _request(world: World, seconds: float) -> WallException:
    """An approved exception for ``chat`` between V1's account and V2's engineer."""
    handler = world.services.exceptions
    asked = handler.request(
        abc.TENANT,
        users=[A, B],
        actions=["chat"],
        start=None,
        end=handler.now() + timedelta(seconds=seconds),
        why="covering an outage of V1's tooling",
        actor="alice",
    )
    return handler.approve(abc.TENANT, asked.id, "bob")


@pytest.fixture
def pair(world: World) -> Iterator[tuple[Matrix, Matrix]]:
    """V1's account and V2's engineer on the in-process homeserver; afterwards no
    exception of theirs is left approved."""
    hs = world.local
    yield hs.client(world.ids["v1-ra1"]), hs.client(world.ids["se2a"])
    for exc in world.services.exceptions.list(abc.TENANT, [State.APPROVED]):
        world.services.exceptions.revoke(abc.TENANT, exc.id, "carol")


def _open_a_dm(v1: Matrix, se2a: Matrix) -> str:
    """With the exception active: the direct chat is created and both talk; a call is not
    named by the exception and stays refused."""
    created = _eventually(lambda: v1.dm(se2a.user_id))
    assert created.status_code == 200, created.text
    room = str(created.json()["room_id"])
    assert se2a.join(room).status_code == 200
    assert v1.say(room, "hello over the wall").status_code == 200
    assert se2a.say(room, "hello back").status_code == 200
    call = forbidden(v1.send(room, "m.call.invite", call_invite("x1")))
    assert (call["code"], call["action"]) == ("blocked_by_policy", "call")
    return room


def _reconciled(world: World, v1: Matrix, se2a: Matrix, room: str) -> None:
    """V2's engineer (the later joiner) leaves the room within seconds, with the reason in
    the leave event and in the tenant's audit log; V1's account stays."""
    deadline = time.monotonic() + 30
    while room in se2a.rooms() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert room not in se2a.rooms(), "the room was not reconciled"
    assert room in v1.rooms()
    leave = v1.member_event(room, se2a.user_id)
    assert leave["membership"] == "leave"
    assert leave["reason"].startswith("infobarrier: ")
    assert B in leave["reason"]
    found = []
    while not found and time.monotonic() < deadline:
        found = [
            e
            for e in world.services.audit.entries(abc.TENANT, kinds=["synapse.member_removed"])
            if e.detail.get("room_id") == room
        ]
        time.sleep(0.1)
    assert found, "no synapse.member_removed entry for the room"
    assert found[-1].detail["user_id"] == se2a.user_id
    assert found[-1].actor == "synapse"
    assert world.services.audit.verify(abc.TENANT)[1] is None


def test_an_exception_opens_a_dm_until_its_end(world: World, pair: tuple[Matrix, Matrix]) -> None:
    v1, se2a = pair
    refused = forbidden(v1.dm(se2a.user_id))
    assert refused["code"] == "blocked_by_policy"
    exc = _request(world, seconds=25)
    room = _open_a_dm(v1, se2a)
    # The end: nobody acts; the homeserver refuses by its clock and reconciles.
    time.sleep(max(0.0, (exc.end - world.services.exceptions.now()).total_seconds()) + 0.05)
    again = forbidden(v1.dm(se2a.user_id))
    assert again["code"] == "blocked_by_policy"
    _reconciled(world, v1, se2a, room)
    # The expiry sweep (``serve`` runs it every second; the service may be stopped by the
    # time this runs) records the expiry in the same log.
    world.services.exceptions.sweep(abc.TENANT)
    expired = [
        e
        for e in world.services.audit.entries(abc.TENANT, kinds=["exception.expired"])
        if e.detail.get("exception") == exc.id
    ]
    assert expired, "the expiry was not audited"


def test_a_revoked_exception_closes_the_dm_at_once(
    world: World, pair: tuple[Matrix, Matrix]
) -> None:
    v1, se2a = pair
    exc = _request(world, seconds=3600)
    room = _open_a_dm(v1, se2a)
    world.services.exceptions.revoke(abc.TENANT, exc.id, "carol", "the outage is over")
    # The homeserver follows the revocation at its next poll: reconciled, then refused.
    _reconciled(world, v1, se2a, room)
    assert forbidden(v1.dm(se2a.user_id))["code"] == "blocked_by_policy"
    revoked = [
        e
        for e in world.services.audit.entries(abc.TENANT, kinds=["exception.revoked"])
        if e.detail.get("exception") == exc.id
    ]
    assert revoked
    assert revoked[-1].actor == "carol"
