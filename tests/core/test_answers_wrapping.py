"""``core.answers.Wrapping``: answers written inside the caller's objects in one go (the
AuthZEN evaluations' decisions) decode to exactly what the straightforward encoding gives,
one object per answer built and JSON-encoded: on random batches, with and without
wall-crossing exceptions, from fresh and from cached fragments (docs/decisions.md,
"Evaluations written in one go")."""

from __future__ import annotations

import itertools
import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.test_answers import EPOCHS, checks
from core.test_exceptions import HOUR, NAMES, ONE_PAIR, T0, Tenant, exceptions, tenants, upn
from infobarrier.core.answers import Wrapping, answer_parts
from infobarrier.core.contract import Check, make_check
from infobarrier.core.decisions import Openings, answer
from infobarrier.core.epoch import Epoch
from infobarrier.core.exceptions import ExceptionIndex, WallException


def _other(text: str) -> str:
    """An error answer as a caller might write it (here: the error with a marker)."""
    error = orjson.loads(text)["error"]
    return orjson.dumps({"ok": False, "failed": error}).decode()


#: A caller's object around each answer: {"ok": allowed, "why": verdict}.
WRAPPING = Wrapping('{"ok":true,"why":', '{"ok":false,"why":', "}", _other)


def straightforward(
    epoch: Epoch, batch: list[Check], restricted: bool, openings: Openings | None
) -> Any:
    """One object per answer, built and then JSON-encoded (and decoded again)."""
    items = []
    for check in batch:
        found = answer(
            epoch, check, people_search_restriction=restricted, openings=openings
        ).as_dict()
        if "error" in found:
            items.append({"ok": False, "failed": found["error"]})
        else:
            items.append({"ok": found["allowed"], "why": found})
    return json.loads(json.dumps(items, ensure_ascii=False))


def same(epoch: Epoch, batch: list[Check], restricted: bool, openings: Openings | None) -> None:
    expected = straightforward(epoch, batch, restricted, openings)
    for _ in range(2):  # the second time from the cached fragments
        wrapped = answer_parts(
            epoch,
            batch,
            people_search_restriction=restricted,
            openings=openings,
            wrapping=WRAPPING,
        )
        assert orjson.loads("[" + ",".join(wrapped) + "]") == expected
        # The very text of wrapping each answer after it was written.
        parts = answer_parts(epoch, batch, people_search_restriction=restricted, openings=openings)
        assert wrapped == [WRAPPING.wrap(part) for part in parts]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(checks, max_size=12),
    restricted=st.booleans(),
    kind=st.sampled_from(sorted(EPOCHS)),
)
def test_wrapped_answers_decode_to_the_straightforward_encoding(
    batch: list[tuple[str, str, list[str]]], restricted: bool, kind: str
) -> None:
    same(EPOCHS[kind], [make_check(*check) for check in batch], restricted, None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tenants(), found=exceptions(), hours=st.integers(-3, 8))
def test_wrapped_answers_with_exceptions_decode_to_the_straightforward_encoding(
    t: Tenant, found: list[WallException], hours: int
) -> None:
    openings = ExceptionIndex(found).at(T0 + HOUR * hours)
    batch = [
        make_check(action.value, upn(a), [upn(b)])
        for a, b in itertools.permutations(NAMES, 2)
        for action in ONE_PAIR
    ]
    same(t.epoch, batch, True, openings)


def test_each_kind_of_answer_is_wrapped_its_way() -> None:
    assert WRAPPING.wrap('{"allowed":true,"x":1}') == '{"ok":true,"why":{"allowed":true,"x":1}}'
    assert WRAPPING.wrap('{"allowed":false}') == '{"ok":false,"why":{"allowed":false}}'
    assert orjson.loads(WRAPPING.wrap('{"error":{"code":"c","message":"m"}}')) == {
        "ok": False,
        "failed": {"code": "c", "message": "m"},
    }
