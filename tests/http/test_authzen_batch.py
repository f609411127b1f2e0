"""AuthZEN ``evaluations``: the plain fast path (``plain_checks``: every item a one-pair
question between users) answers exactly as the general item-by-item path (``_item``), on
random requests with top-level defaults, odd spellings, unknown users and odd items."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.test_answers import EPOCHS, UPNS
from infobarrier.core.contract import Check
from infobarrier.core.epoch import Epoch
from infobarrier.http.routes.authzen import _item, evaluate_all, evaluate_plain, plain_checks

spellings = st.sampled_from(UPNS).flatmap(
    lambda upn: st.sampled_from([upn, upn.upper(), f" {upn} ", upn.title()])
)
ids = st.one_of(spellings, spellings, spellings, st.just("nobody@contoso.com"))
users = st.builds(lambda upn: {"type": "user", "id": upn}, ids)
PLAIN_NAMES = ["chat", "call", "search", "share-screen", "share-file", "meeting-invite"]
names = st.sampled_from(PLAIN_NAMES)
plain_actions = st.builds(lambda name: {"name": name}, names)

#: Entities and actions that are not the plain shape: the general path must take them.
odd_entities = st.sampled_from(
    [
        {},
        {"type": "user"},
        {"type": "user", "id": ""},
        {"type": "user", "id": "   "},
        {"type": "user", "id": 5},
        {"type": "group", "id": UPNS[0]},
        {"type": "conversation", "properties": {"members": UPNS[:3]}},
        {"type": "conversation"},
        "ann@contoso.com",
        [],
    ]
)
odd_actions = st.sampled_from(
    [
        {},
        {"name": ""},
        {"name": "Chat"},
        {"name": "add-team-member"},
        {"name": "group-chat"},
        {"name": "teleport"},
        {"name": ["chat"]},
        {"name": {"x": 1}},
        {"name": 5},
        "chat",
    ]
)
MISSING = object()


def field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: usually a plain one, sometimes absent, null or odd."""
    return st.one_of(values, values, values, st.just(MISSING), st.none())


def item_of(plain_only: bool) -> st.SearchStrategy[Any]:
    entity = users if plain_only else st.one_of(users, users, users, odd_entities)
    action = plain_actions if plain_only else st.one_of(plain_actions, plain_actions, odd_actions)

    def build(s: Any, a: Any, r: Any, extra: bool) -> dict[str, Any]:
        item = {
            k: v for k, v in (("subject", s), ("action", a), ("resource", r)) if v is not MISSING
        }
        if extra:
            item["context"] = {"ignored": True}  # unknown or extra fields are ignored
        return item

    built = st.builds(build, field(entity), field(action), field(entity), st.booleans())
    return (
        built if plain_only else st.one_of(built, built, built, st.sampled_from(["odd", 3, None]))
    )


def general(
    epoch: Epoch, listed: list[Any], defaults: tuple[Any, Any, Any], restricted: bool
) -> bytes:
    items: list[Check | str] = [_item(item, *defaults) for item in listed]
    return evaluate_all(epoch, restricted, None, items, "execute_all")[0]


def check_same(
    epoch: Epoch, listed: list[Any], defaults: tuple[Any, Any, Any], restricted: bool
) -> bool:
    """Whether the fast path took the request; when it did, its answer is the general one."""
    found = plain_checks(listed, *defaults)
    if found is None:
        return False
    fast = evaluate_plain(epoch, restricted, None, found)[0]
    assert fast == general(epoch, listed, defaults, restricted)
    # The one action reported (for metrics and the columns) is every check's; a batch
    # without one lists several.
    actions = {c["action"] for c in found.checks()}
    if found.action is not None:
        assert actions == {found.action}
    else:
        assert found.actions is not None
        assert len(actions) > 1
    assert len(orjson.loads(fast)["evaluations"]) == len(listed)
    return True


defaults = st.tuples(
    field(st.one_of(users, odd_entities)),
    field(st.one_of(plain_actions, odd_actions)),
    field(st.one_of(users, odd_entities)),
).map(lambda d: tuple(None if v is MISSING else v for v in d))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listed=st.lists(item_of(plain_only=False), min_size=1, max_size=6),
    top=defaults,
    restricted=st.booleans(),
    which=st.sampled_from(sorted(EPOCHS)),
)
def test_on_any_request_the_fast_path_answers_as_the_general_one(
    listed: list[Any], top: tuple[Any, Any, Any], restricted: bool, which: str
) -> None:
    check_same(EPOCHS[which], listed, top, restricted)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listed=st.lists(item_of(plain_only=True), min_size=1, max_size=12),
    subject=users,
    action=plain_actions,
    resource=users,
    restricted=st.booleans(),
    which=st.sampled_from(sorted(EPOCHS)),
)
def test_plain_requests_take_the_fast_path_and_answer_as_the_general_one(
    listed: list[Any],
    subject: Any,
    action: Any,
    resource: Any,
    restricted: bool,
    which: str,
) -> None:
    """Items of users (any spelling, unknown ones, a user with themself), each field
    given or left to the plain defaults: the fast path answers them all."""
    listed = [{k: v for k, v in item.items() if v is not None} for item in listed]
    assert check_same(EPOCHS[which], listed, (subject, action, resource), restricted)


def test_a_request_of_one_action_reports_it_and_a_mixed_one_does_not() -> None:
    ann, bob = ({"type": "user", "id": u} for u in UPNS[:2])
    same = [{"subject": ann, "resource": bob}, {"subject": bob, "action": {"name": "chat"}}]
    found = plain_checks(same, None, {"name": "chat"}, ann)
    assert found is not None
    assert found.action == "chat"
    mixed = [*same, {"subject": bob, "action": {"name": "call"}}]
    found = plain_checks(mixed, None, {"name": "chat"}, ann)
    assert found is not None
    assert found.action is None
    assert plain_checks([{"subject": ann, "resource": bob}], None, None, None) is None
