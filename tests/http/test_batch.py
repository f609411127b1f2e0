"""``http.batch``: the hot path of ``POST /decisions`` answers exactly as the general path."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from infobarrier.core.barriers import BarrierConfig, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory, make_user
from infobarrier.core.epoch import Epoch
from infobarrier.core.patch import patch_epoch
from infobarrier.http.batch import answer_json, parse_checks
from infobarrier.http.routes.decisions import _DECISIONS
from infobarrier.service.decisions import CheckRequest, answer_in

#: Short name -> (department, company, enabled, guest): blocked pairs, an allow list,
#: someone in two segments (conflict), disabled, unsegmented, a hidden guest, and UPNs that
#: need JSON escaping.
PEOPLE = {
    "ann": ("Sales", "", True, False),
    "bob": ("Research", "", True, False),
    "cyd": ("Sales", "", True, False),
    "dee": ("Research", "Ops", True, False),
    "eve": ("Sales", "", False, False),
    "fay": ("", "", True, False),
    "gus": ("", "Ops", True, True),
    'zoë"q': ("Research", "", True, False),
    "o'hara\\x": ("Sales", "", True, False),
}


def _upn(name: str) -> str:
    return f"{name}@contoso.com"


#: Whose UPNs are plain ASCII without quotes (the answers then skip the JSON encoder).
PLAIN = {name: person for name, person in PEOPLE.items() if name.isalpha()}


def build_epoch(people: dict[str, tuple[str, str, bool, bool]]) -> Epoch:
    directory = Directory()
    for name, (department, company, enabled, guest) in people.items():
        directory.put_user(
            make_user(
                _upn(name),
                id=f"id-{len(directory)}",
                account_enabled=enabled,
                user_type="Guest" if guest else "Member",
                department=department,
                company=company,
            )
        )
    config = (
        BarrierConfig()
        .new_segment("Sales", "Department -eq 'Sales'")
        .new_segment("Research", "Department -eq 'Research'")
        .new_segment("Ops", "Company -eq 'Ops'")
        .new_policy("Sales-Research", "Sales", blocked=["Research"], state=PolicyState.ACTIVE)
        .new_policy("Ops-allow", "Ops", allowed=["Ops", "Sales"], state=PolicyState.ACTIVE)
    )
    return compile_epoch(directory, config)


EPOCHS = {"escaped": build_epoch(PEOPLE), "plain": build_epoch(PLAIN)}
EPOCH = EPOCHS["escaped"]
UPNS = [_upn(name) for name in PEOPLE]
spellings = st.sampled_from(UPNS).flatmap(
    lambda upn: st.sampled_from([upn, upn.upper(), f" {upn} ", upn.title()])
)
upns = st.one_of(spellings, spellings, st.just("nobody@contoso.com"))
ACTIONS = ["chat", "chat", "call", "search", "share-screen", "group-chat", "meeting-invite"]
actions = st.sampled_from([*ACTIONS, "add-team-member", "CHAT", " call", "teleport"])
checks = st.tuples(actions, upns, st.lists(upns, max_size=3))


def general(epoch: Epoch, batch: list[tuple[str, str, list[str]]], restricted: bool) -> object:
    """What the general path answers, through a JSON round trip."""
    answers = [
        answer_in(epoch, CheckRequest(*check), people_search_restriction=restricted)
        for check in batch
    ]
    return json.loads(json.dumps({"results": answers}, ensure_ascii=False))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(checks, max_size=12),
    restricted=st.booleans(),
    patched=st.booleans(),
    kind=st.sampled_from(sorted(EPOCHS)),
)
def test_fast_answers_equal_the_general_path(
    batch: list[tuple[str, str, list[str]]], restricted: bool, patched: bool, kind: str
) -> None:
    epoch = EPOCHS[kind]
    if patched:  # ann moves to Research (the overlay), bob is disabled
        ann, bob = (epoch.index_of(_upn(n)) for n in ("ann", "bob"))
        assert ann is not None
        assert bob is not None
        moved = make_user(_upn("ann"), id=epoch.user_ids[ann], department="Research")
        off = make_user(_upn("bob"), id=epoch.user_ids[bob], account_enabled=False)
        found = patch_epoch(epoch, [(moved, []), (off, [])])
        assert found is not None
        epoch = found
    for _ in range(2):  # the second time from the cached fragments
        fast = orjson.loads(answer_json(epoch, batch, people_search_restriction=restricted))
        assert fast == general(epoch, batch, restricted)


def test_a_blocked_pair_names_its_policy_and_escapes_upns() -> None:
    body = answer_json(
        EPOCH,
        [("chat", _upn("ann"), [_upn('zoë"q')]), ("chat", _upn("ann"), [_upn("cyd")])],
        people_search_restriction=True,
    )
    first, second = orjson.loads(body)["results"]
    assert first["allowed"] is False
    assert first["policy"] == "Sales-Research"
    assert first["pair"] == [_upn("ann"), _upn('zoë"q')]
    assert second["allowed"] is True
    assert second["pair"] == [_upn("ann"), _upn("cyd")]


KEYS = ["checks", "action", "from", "to", "extra"]
scalars = st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from(["", "chat", "a@b"])
bodies = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(data=bodies)
def test_the_parser_accepts_only_what_pydantic_accepts(data: object) -> None:
    body = json.dumps(data).encode()
    mine = parse_checks(body)
    try:
        parsed = _DECISIONS.validate_json(body)
    except ValidationError:
        assert mine is None
        return
    if mine is not None:
        assert mine == [(c["action"], c["from"], c["to"]) for c in parsed["checks"]]


@pytest.mark.parametrize(
    "body",
    [
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"]}]}',
        b'{"checks":[]}',
        b'{"checks":[{"to":[],"from":"a@b","action":"search"}]}',
    ],
)
def test_the_parser_takes_well_formed_bodies(body: bytes) -> None:
    parsed = _DECISIONS.validate_json(body)
    assert parse_checks(body) == [(c["action"], c["from"], c["to"]) for c in parsed["checks"]]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"],"x":1}]}',
        b'{"checks":[{"action":"","from":"a@b","to":[]}]}',
        b'{"checks":[{"action":"chat","from":"a@b","to":"c@d"}]}',
        b'{"checks":[],"more":1}',
        b'{"checks":[{"action":"chat","from":1,"to":[]}]}',
    ],
)
def test_the_parser_leaves_malformed_bodies_to_pydantic(body: bytes) -> None:
    assert parse_checks(body) is None
    with pytest.raises(ValidationError):
        _DECISIONS.validate_json(body)
