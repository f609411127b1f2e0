"""``core.answer_columns``: a batch of one action answered column by column gives, text
for text, what ``answer_parts`` gives for the same checks: on random columns (any
spelling, unknown users, a user with themself, odd actions), with a patched epoch, with
UPNs stored in mixed case or needing escapes, with and without wrapping, with
wall-crossing exceptions, and from fresh and from cached fragments."""

from __future__ import annotations

import itertools

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.test_answers import EPOCHS, PLAIN, _upn, build_epoch, upns
from core.test_answers_wrapping import WRAPPING
from core.test_exceptions import HOUR, NAMES, ONE_PAIR, T0, Tenant, exceptions, tenants, upn
from infobarrier.core.answer_columns import OnePairBatch, answer_batch, answer_columns
from infobarrier.core.answers import Wrapping, answer_parts
from infobarrier.core.contract import Check
from infobarrier.core.decisions import Openings
from infobarrier.core.directory import make_user
from infobarrier.core.epoch import Epoch
from infobarrier.core.exceptions import ExceptionIndex, WallException
from infobarrier.core.patch import patch_epoch

#: The same people with their UPNs stored capitalised ("Ann@contoso.com"): a UPN found as
#: given is then not the stored one, which the answer must name.
ALL_EPOCHS = {**EPOCHS, "titled": build_epoch({name.title(): p for name, p in PLAIN.items()})}
ACTIONS = ["chat", "call", "search", "share-screen", "meeting-invite", "share-file"]
actions = st.sampled_from([*ACTIONS, "group-chat", "add-team-member", "CHAT", "teleport"])


def expected(
    epoch: Epoch,
    checks: list[Check],
    restricted: bool,
    openings: Openings | None,
    wrapping: Wrapping | None,
) -> str:
    return ",".join(
        answer_parts(
            epoch,
            checks,
            people_search_restriction=restricted,
            openings=openings,
            wrapping=wrapping,
        )
    )


def same(
    epoch: Epoch,
    action: str,
    pairs: list[tuple[str, str]],
    restricted: bool,
    openings: Openings | None,
    wrapping: Wrapping | None,
) -> None:
    senders, recipients = [a for a, _ in pairs], [b for _, b in pairs]
    checks: list[Check] = [{"action": action, "from": a, "to": [b]} for a, b in pairs]
    want = expected(epoch, checks, restricted, openings, wrapping)
    for _ in range(2):  # the second time from the cached answers
        got = answer_columns(
            epoch,
            action,
            senders,
            recipients,
            people_search_restriction=restricted,
            openings=openings,
            wrapping=wrapping,
        )
        assert got == want
        if pairs:
            assert len(orjson.loads("[" + got + "]")) == len(pairs)


def patched(epoch: Epoch) -> Epoch:
    """Ann moves to Research (the overlay), Bob is disabled (the names of ``PEOPLE``)."""
    ann, bob = (epoch.index_of(_upn(n)) for n in ("ann", "bob"))
    assert ann is not None
    assert bob is not None
    moved = make_user(epoch.upns[ann], id=epoch.user_ids[ann], department="Research")
    off = make_user(epoch.upns[bob], id=epoch.user_ids[bob], account_enabled=False)
    found = patch_epoch(epoch, [(moved, []), (off, [])])
    assert found is not None
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(st.tuples(upns, upns), max_size=14),
    action=actions,
    restricted=st.booleans(),
    patch=st.booleans(),
    wrapped=st.booleans(),
    kind=st.sampled_from(sorted(ALL_EPOCHS)),
)
def test_columns_answer_as_answer_parts(
    pairs: list[tuple[str, str]],
    action: str,
    restricted: bool,
    patch: bool,
    wrapped: bool,
    kind: str,
) -> None:
    epoch = ALL_EPOCHS[kind]
    if patch:
        epoch = patched(epoch)
    same(epoch, action, pairs, restricted, None, WRAPPING if wrapped else None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    t=tenants(),
    found=exceptions(),
    hours=st.integers(-3, 8),
    wrapped=st.booleans(),
    patch=st.sampled_from([None, *NAMES]),
)
def test_columns_answer_as_answer_parts_with_exceptions(
    t: Tenant, found: list[WallException], hours: int, wrapped: bool, patch: str | None
) -> None:
    """With exceptions, also on an epoch patched since (one person moved to no segment)."""
    epoch = t.epoch
    if patch is not None:
        at = epoch.index_of(upn(patch))
        assert at is not None
        changed = patch_epoch(epoch, [(make_user(epoch.upns[at], id=epoch.user_ids[at]), [])])
        assert changed is not None
        epoch = changed
    openings = ExceptionIndex(found).at(T0 + HOUR * hours)
    pairs = [(upn(a), upn(b)) for a, b in itertools.permutations(NAMES, 2)]
    for action in ONE_PAIR:
        same(epoch, action.value, pairs, True, openings, WRAPPING if wrapped else None)


def test_a_user_refused_by_their_own_state_is_answered_anew_after_a_patch() -> None:
    """Eve is disabled and Dee in two segments (conflict); once Eve is enabled and Dee
    left Ops, the cached refusals of either must not be given again."""
    epoch = ALL_EPOCHS["plain"]
    senders, recipients = [_upn("eve"), _upn("ann")], [_upn("ann"), _upn("dee")]
    text = answer_columns(epoch, "chat", senders, recipients, people_search_restriction=True)
    before = orjson.loads("[" + text + "]")
    assert [a["code"] for a in before] == ["account_disabled", "policy_conflict"]
    eve, dee = (epoch.index_of(_upn(n)) for n in ("eve", "dee"))
    assert eve is not None
    assert dee is not None
    changed = patch_epoch(
        epoch,
        [
            (make_user(_upn("eve"), id=epoch.user_ids[eve], department="Sales"), []),
            (make_user(_upn("dee"), id=epoch.user_ids[dee], department="Research"), []),
        ],
    )
    assert changed is not None
    after = answer_columns(changed, "chat", senders, recipients, people_search_restriction=True)
    checks: list[Check] = [
        {"action": "chat", "from": a, "to": [b]} for a, b in zip(senders, recipients, strict=True)
    ]
    assert after == expected(changed, checks, True, None, None)
    codes = [a["code"] for a in orjson.loads("[" + after + "]")]
    assert "account_disabled" not in codes
    assert "policy_conflict" not in codes


def test_a_batch_of_one_action_knows_it_and_of_several_lists_them() -> None:
    one = OnePairBatch.of(["a"], ["b"], ["chat"])
    assert (one.action, one.actions) == ("chat", None)
    assert one.checks() == [{"action": "chat", "from": "a", "to": ["b"]}]
    mixed = OnePairBatch.of(["a", "b"], ["b", "a"], ["chat", "call"])
    assert (mixed.action, mixed.actions) == (None, ["chat", "call"])
    assert mixed.action_of_each() == ["chat", "call"]
    assert len(mixed) == 2


def test_answer_batch_gives_each_answer_apart_only_for_several_actions() -> None:
    epoch = ALL_EPOCHS["plain"]
    ann, bob = _upn("ann"), _upn("bob")
    batch = OnePairBatch.of([ann, bob], [bob, ann], ["chat", "chat"])
    text, parts = answer_batch(epoch, batch, people_search_restriction=True)
    assert parts is None
    assert [a["code"] for a in orjson.loads("[" + text + "]")] == ["blocked_by_policy"] * 2
    batch = OnePairBatch.of([ann, bob], [bob, ann], ["chat", "call"])
    text, parts = answer_batch(epoch, batch, people_search_restriction=True)
    assert parts is not None
    assert ",".join(parts) == text


def test_an_epoch_of_no_users_answers_every_item_as_unknown() -> None:
    empty = build_epoch({})
    senders, recipients = [_upn("ann"), _upn("bob")], [_upn("bob"), _upn("ann")]
    text = answer_columns(empty, "chat", senders, recipients, people_search_restriction=True)
    checks: list[Check] = [
        {"action": "chat", "from": a, "to": [b]} for a, b in zip(senders, recipients, strict=True)
    ]
    assert text == expected(empty, checks, True, None, None)
    assert [a["error"]["code"] for a in orjson.loads("[" + text + "]")] == ["unknown_user"] * 2
