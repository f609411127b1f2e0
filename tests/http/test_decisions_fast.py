"""``POST /decisions`` bodies decoded by msgspec into columns (``http.decisions_fast``):
whatever the decoder takes, ``core.contract.read_body`` reads as the very same checks, on
random bodies (the parser's own property test's) and on plain ones; anything else it
leaves to ``read_body``, whose errors are then the answer."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.test_answers import bodies
from infobarrier.core.contract import read_body
from infobarrier.core.errors import InvalidInput
from infobarrier.http.decisions_fast import one_pair_batch

LIMITS = {"max_checks": 100, "max_pairs": 100}


def agree(body: bytes) -> bool:
    """Whether the decoder took the body; when it did, ``read_body`` reads the same."""
    found = one_pair_batch(body, **LIMITS)
    if found is None:
        return False
    assert found.checks() == read_body(body, **LIMITS)
    return True


@settings(max_examples=500, deadline=None)
@given(data=bodies)
def test_random_bodies_are_taken_only_as_read_body_reads_them(data: object) -> None:
    agree(json.dumps(data).encode())


check = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["chat", "call", "CHAT", " search", "group-chat", "x" * 33, ""]),
        "from": st.sampled_from(["a@b", "B@c", " ", "", "x" * 321]),
        "to": st.lists(st.sampled_from(["c@d", "a@b", ""]), min_size=0, max_size=2),
    }
)


@settings(max_examples=500, deadline=None)
@given(checks=st.lists(check, min_size=0, max_size=8))
def test_check_shaped_bodies_are_taken_only_as_read_body_reads_them(
    checks: list[dict[str, object]],
) -> None:
    body = orjson.dumps({"checks": checks})
    took = agree(body)
    plain = all(
        len(c["to"]) == 1 and 0 < len(c["action"]) <= 32 and 0 < len(c["from"]) <= 320  # type: ignore[arg-type]
        for c in checks
    )
    assert took == (bool(checks) and plain)


def test_a_batch_of_one_action_is_one_column_batch() -> None:
    body = (
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"]},'
        b'{"to":["a@b"],"from":"c@d","action":"chat"}]}'
    )
    found = one_pair_batch(body, **LIMITS)
    assert found is not None
    assert (found.action, found.senders, found.recipients) == (
        "chat",
        ["a@b", "c@d"],
        ["c@d", "a@b"],
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"],"x":1}]}',  # unknown field
        b'{"checks":[],"more":1}',
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d","e@f"]}]}',  # a group
        b'{"checks":[{"action":"chat","from":1,"to":["c@d"]}]}',
        b'{"checks":[]}',
        b"not json",
    ],
)
def test_other_bodies_are_left_to_read_body(body: bytes) -> None:
    assert one_pair_batch(body, **LIMITS) is None


def test_more_checks_than_a_request_may_hold_are_left_to_read_body_and_its_413() -> None:
    body = orjson.dumps({"checks": [{"action": "chat", "from": "a@b", "to": ["c@d"]}] * 3})
    assert one_pair_batch(body, max_checks=2, max_pairs=100) is None
    assert one_pair_batch(body, max_checks=100, max_pairs=2) is None
    with pytest.raises(InvalidInput):
        read_body(body, max_checks=2)
