"""Group checks (semantics §7) are bounded and stop at their first blocked pair.

``decide`` no longer builds every pair before checking any: it checks the sender's
pairs, then the recipients' one pair of profiles at a time, and looks for the first
blocked pair only when there is one. The verdict must be exactly
that of the eager reference below: the first blocked pair in ``pairs_for`` order. A
request is bounded where it is read (``contract.read_body``).
"""

from __future__ import annotations

import json

import pytest
from core_builders import Tenant, block, tenant
from hypothesis import given
from hypothesis import strategies as st

from infobarrier.core.barriers import Mode
from infobarrier.core.contract import pairs_required, read_body
from infobarrier.core.decisions import (
    Action,
    Verdict,
    compatibility,
    decide,
    pairs_for,
)
from infobarrier.core.errors import TooLarge
from infobarrier.core.limits import MAX_PAIRS_PER_REQUEST

GROUP_ACTIONS = [Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL, Action.SEARCH]


def build() -> Tenant:
    users = {f"{d.lower()}{i}": {"department": d} for d in "ABCN" for i in range(3)}
    users["off"] = {"department": "A", "enabled": False}
    segments = {d: f"Department -eq '{d}'" for d in "ABC"}
    return tenant(
        users,
        mode=Mode.SINGLE_SEGMENT,
        segments=segments,
        policies={"A": block("B"), "C": block("A")},
    )


TENANT = build()


def eager(t: Tenant, action: Action, sender: int, others: list[int]) -> Verdict:
    """The reference: build every pair, report the first one that is not compatible."""
    pairs = pairs_for(action, sender, others)
    if len(pairs) == 1:
        return compatibility(t.epoch, *pairs[0])
    for a, b in pairs:
        if not compatibility(t.epoch, a, b).allowed:
            return compatibility(t.epoch, a, b)
    return Verdict(True, "all_compatible", f"all {len(pairs)} pairs are compatible")


@given(
    st.sampled_from(GROUP_ACTIONS),
    st.permutations(range(len(TENANT.epoch))).flatmap(
        lambda order: st.integers(2, len(order)).map(lambda n: list(order[:n]))
    ),
)
def test_lazy_decide_equals_the_eager_reference(action: Action, users: list[int]) -> None:
    sender, others = users[0], users[1:]
    assert decide(TENANT.epoch, action, sender, others) == eager(TENANT, action, sender, others)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_pairs_required_counts_pairs_for(action: Action, n: int) -> None:
    others = list(range(1, n + 1))
    if action in (Action.CHAT, Action.SHARE_FILE) and n != 1:
        return
    assert pairs_required(action.value, n) == len(pairs_for(action, 0, others))
    assert pairs_required(action.value.upper(), n) == len(pairs_for(action, 0, others))


def test_a_request_beyond_the_bound_is_refused_before_any_pair_is_built() -> None:
    """10,000 invitees are 50,005,000 pairs: the request is refused, naming the limit."""
    to = [f"u{i}@t.example" for i in range(10_000)]
    assert pairs_required("meeting-invite", len(to)) == 10_000 + 10_000 * 9_999 // 2
    body = json.dumps({"checks": [{"action": "meeting-invite", "from": "s@t.example", "to": to}]})
    with pytest.raises(TooLarge) as caught:
        read_body(body, max_checks=10)
    assert caught.value.code == "too_large"
    assert str(MAX_PAIRS_PER_REQUEST) in caught.value.message
    # The same recipients need only 10,000 pairs for a search: read.
    search = body.replace("meeting-invite", "search")
    assert len(read_body(search, max_checks=10)[0]["to"]) == 10_000


def test_a_large_group_is_decided_without_building_its_pairs() -> None:
    """In-process callers (a chat platform's module) may check a room of any size."""
    users = {f"a{i}": {"department": "A"} for i in range(1_500)}
    users |= {"b0": {"department": "B"}, "c0": {"department": "C"}}
    segments = {d: f"Department -eq '{d}'" for d in "ABC"}
    big = tenant(users, mode=Mode.SINGLE_SEGMENT, segments=segments, policies={"C": block("B")})
    sender = big.ix("a0")
    others = [big.ix(f"a{i}") for i in range(1, 1_500)] + [big.ix("b0")]
    assert decide(big.epoch, Action.MEETING_INVITE, sender, others).allowed
    last = decide(big.epoch, Action.MEETING_INVITE, sender, [*others, big.ix("c0")])
    assert not last.allowed
    assert last.pair == (big.epoch.upns[big.ix("b0")], big.epoch.upns[big.ix("c0")])
