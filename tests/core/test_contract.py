"""The one check parser (``core.contract``): every input reads checks with the same rules
and the same error codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.codes import ErrorCode, VerdictCode
from infobarrier.core.contract import (
    MAX_ACTION,
    CheckError,
    Verdict,
    check_problem,
    make_check,
    read_checks,
    read_lines,
)

GOOD = {"action": "chat", "from": "a@x.example", "to": ["b@x.example"]}

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1, 1)
    | st.sampled_from(["", "chat", "a@x", "x" * (MAX_ACTION + 1)]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["action", "from", "to", "context", "x"]), inner)
    ),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(item=values)
def test_the_inlined_test_of_a_batch_agrees_with_check_problem(item: object) -> None:
    found = read_checks([GOOD, item])
    problem = check_problem(item)
    if problem is None:
        assert isinstance(found, list)
        assert found[1] is item  # the same object, not a copy
    else:
        assert found == CheckError(ErrorCode.INVALID_CHECK, f"checks[1]: {problem}")


def test_json_lines_answer_each_line_in_its_place() -> None:
    text = "\n".join(
        [
            json.dumps(GOOD),
            "",
            "{not json",
            json.dumps({**GOOD, "context": {}}),
            json.dumps({"action": "chat", "from": "a@x.example", "to": "b@x.example"}),
            json.dumps(["chat"]),
        ]
    )
    found = read_lines(text)
    assert found[0] == GOOD
    assert [type(x) for x in found] == [dict, CheckError, CheckError, CheckError, CheckError]
    errors = [x for x in found if isinstance(x, CheckError)]
    assert [e.code for e in errors] == [
        ErrorCode.INVALID_JSON,
        ErrorCode.INVALID_CHECK,
        ErrorCode.INVALID_CHECK,
        ErrorCode.INVALID_CHECK,
    ]
    assert errors[0].message.startswith("line 3: ")  # blank lines still count
    assert "not permitted: context" in errors[1].message
    assert "'to' must be a list of UPNs" in errors[2].message
    assert "expected a JSON object" in errors[3].message


def test_a_json_array_is_read_item_by_item() -> None:
    found = read_lines(json.dumps([GOOD, {"action": "chat"}]))
    assert found[0] == GOOD
    assert isinstance(found[1], CheckError)
    assert found[1].code is ErrorCode.INVALID_CHECK
    assert found[1].message.startswith("item 2: missing field(s): from, to")
    broken = read_lines("[" + json.dumps(GOOD))
    assert len(broken) == 1
    assert isinstance(broken[0], CheckError)
    assert broken[0].code is ErrorCode.INVALID_JSON


def test_make_check_is_what_the_parser_reads() -> None:
    assert read_lines(json.dumps(make_check("chat", "a@x.example", ("b@x.example",)))) == [GOOD]


def test_a_verdict_names_an_exception_only_when_one_applied() -> None:
    plain = Verdict(True, VerdictCode.PERMITTED, "why", ("a", "b"), "P", "S")
    assert list(plain.as_dict()) == ["allowed", "reason", "code", "pair", "policy", "segment"]
    end = datetime(2027, 1, 1, tzinfo=UTC)
    crossed = Verdict(
        True, VerdictCode.PERMITTED, "why", ("a", "b"), exception="x1", exception_end=end
    )
    assert crossed.as_dict()["exception"] == "x1"
    assert crossed.as_dict()["exception_end"] == "2027-01-01T00:00:00+00:00"
