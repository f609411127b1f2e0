"""``core.answers``: the batch encoder answers exactly as the general path."""

from __future__ import annotations

import gc
import json
import weakref
from dataclasses import replace
from typing import Annotated

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from infobarrier.core.answers import FRAGMENTS, answer_json, fragments
from infobarrier.core.barriers import BarrierConfig, PolicyState
from infobarrier.core.codes import ErrorCode, VerdictCode
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.contract import Check, Verdict, make_check, read_body
from infobarrier.core.decisions import EXPLANATIONS, answer
from infobarrier.core.directory import Directory, make_user
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput
from infobarrier.core.patch import patch_epoch

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


def general(epoch: Epoch, batch: list[Check], restricted: bool) -> object:
    """What the general path answers, through a JSON round trip."""
    answers = [
        answer(epoch, check, people_search_restriction=restricted).as_dict() for check in batch
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
    checks = [make_check(*check) for check in batch]
    for _ in range(2):  # the second time from the cached fragments
        fast = orjson.loads(answer_json(epoch, checks, people_search_restriction=restricted))
        assert fast == general(epoch, checks, restricted)


def test_a_blocked_pair_names_its_policy_and_escapes_upns() -> None:
    body = answer_json(
        EPOCH,
        [
            make_check("chat", _upn("ann"), [_upn('zoë"q')]),
            make_check("chat", _upn("ann"), [_upn("cyd")]),
        ],
        people_search_restriction=True,
    )
    first, second = orjson.loads(body)["results"]
    assert first["allowed"] is False
    assert first["policy"] == "Sales-Research"
    assert first["pair"] == [_upn("ann"), _upn('zoë"q')]
    assert second["allowed"] is True
    assert second["pair"] == [_upn("ann"), _upn("cyd")]


texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"pair":null', '\\"', "policy 'P' of segment \"S\"", "ü€𝄞", ""]
)
verdicts = st.builds(
    Verdict,
    allowed=st.booleans(),
    code=st.sampled_from(list(VerdictCode)),
    reason=texts,
    policy=st.none() | texts,
    segment=st.none() | texts,
)


@settings(max_examples=300, deadline=None)
@given(verdict=verdicts, a=texts, b=texts)
def test_fragments_around_a_pair_are_the_verdicts_own_json(
    verdict: Verdict, a: str, b: str
) -> None:
    head, tail = fragments(verdict)
    text = head + orjson.dumps(a).decode() + "," + orjson.dumps(b).decode() + tail
    assert json.loads(text) == replace(verdict, pair=(a, b)).as_dict()


# A small reference for the body parser: pydantic validating the documented shape.
Reference = TypedDict(
    "Reference",
    {
        "action": Annotated[str, Field(min_length=1, max_length=32)],
        "from": Annotated[str, Field(min_length=1, max_length=320)],
        "to": Annotated[list[str], Field(max_length=10_000)],
    },
)
Reference = with_config(ConfigDict(extra="forbid", strict=True))(Reference)  # type: ignore[misc]


@with_config(ConfigDict(extra="forbid", strict=True))
class ReferenceBody(TypedDict):
    checks: Annotated[list[Reference], Field(max_length=100)]


REFERENCE = TypeAdapter(ReferenceBody)

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
def test_the_parser_accepts_exactly_what_the_reference_accepts(data: object) -> None:
    body = json.dumps(data).encode()
    try:
        parsed = REFERENCE.validate_json(body)
    except ValidationError:
        with pytest.raises(InvalidInput) as caught:
            read_body(body, max_checks=100)
        assert caught.value.code in (ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_CHECK)
        return
    assert read_body(body, max_checks=100) == parsed["checks"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"]}]}',
        b'{"checks":[]}',
        b'{"checks":[{"to":[],"from":"a@b","action":"search"}]}',
    ],
)
def test_the_parser_takes_well_formed_bodies(body: bytes) -> None:
    parsed = REFERENCE.validate_json(body)
    assert read_body(body, max_checks=100) == parsed["checks"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"not json", ErrorCode.INVALID_JSON, "not JSON"),
        (b"[]", ErrorCode.INVALID_REQUEST, '{"checks"'),
        (b'{"checks":[],"more":1}', ErrorCode.INVALID_REQUEST, "not permitted: more"),
        (b'{"checks":"chat"}', ErrorCode.INVALID_REQUEST, "'checks' must be a list"),
        (
            b'{"checks":[{"action":"chat","from":"a@b","to":["c@d"],"x":1}]}',
            ErrorCode.INVALID_CHECK,
            "checks[0]: field(s) not permitted: x",
        ),
        (
            b'{"checks":[{"action":"chat","from":"a@b","to":[]},{"action":"","from":"a","to":[]}]}',
            ErrorCode.INVALID_CHECK,
            "checks[1]: 'action'",
        ),
        (
            b'{"checks":[{"action":"chat","from":"a@b","to":"c@d"}]}',
            ErrorCode.INVALID_CHECK,
            "'to' must be a list",
        ),
        (b'{"checks":[{"action":"chat","to":[]}]}', ErrorCode.INVALID_CHECK, "missing field"),
        (b'{"checks":[{"action":"chat","from":1,"to":[]}]}', ErrorCode.INVALID_CHECK, "'from'"),
        (b'{"checks":[{}, {}, {}]}', ErrorCode.TOO_MANY_CHECKS, "at most 2"),
    ],
)
def test_the_parser_names_what_is_wrong(body: bytes, code: ErrorCode, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_body(body, max_checks=2)
    assert caught.value.code is code
    assert words in caught.value.message


def _all_pairs() -> list[Check]:
    return [make_check("chat", a, [b]) for a in UPNS for b in UPNS if a != b]


def test_a_patch_that_adds_a_profile_does_not_reuse_another_profiles_answers() -> None:
    """Fragments are cached per lineage, keyed by profile pair: a patch that adds a profile
    renumbers nothing but starts a new lineage, so no pair is answered from another's."""
    epoch = build_epoch(PEOPLE)
    checks = _all_pairs()
    answer_json(epoch, checks, people_search_restriction=True)  # warm the caches
    ann = epoch.index_of(_upn("ann"))
    assert ann is not None
    both = make_user(_upn("ann"), id=epoch.user_ids[ann], department="Sales", company="Ops")
    patched = patch_epoch(epoch, [(both, [])])
    assert patched is not None
    assert len(patched.profiles) == len(epoch.profiles) + 1
    assert patched.lineage is not epoch.lineage
    fast = orjson.loads(answer_json(patched, checks, people_search_restriction=True))
    assert fast == general(patched, checks, True)


def test_a_patch_that_keeps_the_profiles_shares_the_lineage() -> None:
    epoch = build_epoch(PEOPLE)
    bob = epoch.index_of(_upn("bob"))
    assert bob is not None
    off = make_user(_upn("bob"), id=epoch.user_ids[bob], account_enabled=False)
    patched = patch_epoch(epoch, [(off, [])])
    assert patched is not None
    assert patched.lineage is epoch.lineage
    assert FRAGMENTS.of(patched) is FRAGMENTS.of(epoch)


def test_the_epoch_holds_no_adapter_state_and_caches_go_with_it() -> None:
    epoch = build_epoch(PEOPLE)
    before = dict(epoch.derived)
    answer_json(epoch, _all_pairs(), people_search_restriction=True)
    assert set(epoch.derived) - set(before) <= {"ids"}  # core's own index, nothing else
    assert FRAGMENTS.of(epoch)
    assert EXPLANATIONS.of(epoch)
    lineage = weakref.ref(epoch.lineage)
    del epoch
    gc.collect()
    assert lineage() is None  # nothing the caches hold keeps the lineage (or the epoch) alive


@given(st.lists(st.text(max_size=6), max_size=12))
def test_packed_upns_are_plain_exactly_when_the_joined_text_is(strings: list[str]) -> None:
    """``_plain_bytes`` on the packed bytes against the check on the joined strings."""
    from infobarrier.core.answers import _plain_bytes
    from infobarrier.core.packed import PackedStrings

    text = "".join(strings)
    expected = text.isascii() and text.isprintable() and '"' not in text and "\\" not in text
    packed = PackedStrings.pack(strings)
    assert _plain_bytes(packed.data, len(strings)) == expected
