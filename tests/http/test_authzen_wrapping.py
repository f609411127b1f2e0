"""AuthZEN ``evaluations`` written in one go (``core.answers.Wrapping``): the answer
decodes to exactly the straightforward encoding, one ``{"decision", "context"}`` object
per item built from our verdict (or the error with its status) and then JSON-encoded,
in request order (docs/authzen.md, "Evaluations")."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.test_answers import EPOCHS, UPNS
from infobarrier.core.answers import answer_parts
from infobarrier.core.decisions import answer
from infobarrier.core.epoch import Epoch
from infobarrier.http.routes.authzen import WRAPPING, _status, evaluate_plain, plain_checks

ids = st.one_of(
    st.sampled_from(UPNS),
    st.sampled_from(UPNS).map(str.upper),
    st.just("nobody@contoso.com"),
)
names = st.sampled_from(["chat", "call", "search", "share-screen", "share-file"])


def straightforward(epoch: Epoch, asked: list[tuple[str, str, str]], restricted: bool) -> Any:
    """Each item's decision object built, then the whole answer JSON-encoded."""
    decisions = []
    for name, sid, rid in asked:
        check = {"action": name, "from": sid, "to": [rid]}
        found = answer(epoch, check, people_search_restriction=restricted).as_dict()  # type: ignore[arg-type]
        if "error" in found:
            code = found["error"]["code"]
            error = {"status": _status(code), "code": code, "message": found["error"]["message"]}
            decisions.append({"decision": False, "context": {"error": error}})
        else:
            decisions.append({"decision": found["allowed"], "context": found})
    return json.loads(json.dumps({"evaluations": decisions}, ensure_ascii=False))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    asked=st.lists(st.tuples(names, ids, ids), min_size=1, max_size=12),
    restricted=st.booleans(),
    which=st.sampled_from(sorted(EPOCHS)),
)
def test_evaluations_decode_to_the_straightforward_encoding(
    asked: list[tuple[str, str, str]], restricted: bool, which: str
) -> None:
    epoch = EPOCHS[which]
    listed = [
        {
            "subject": {"type": "user", "id": sid},
            "action": {"name": name},
            "resource": {"type": "user", "id": rid},
        }
        for name, sid, rid in asked
    ]
    found = plain_checks(listed, None, None, None)
    assert found is not None
    for _ in range(2):  # the second time from the cached fragments
        content, parts = evaluate_plain(epoch, restricted, None, found)
        assert orjson.loads(content) == straightforward(epoch, asked, restricted)
        each = answer_parts(
            epoch, found.checks(), people_search_restriction=restricted, wrapping=WRAPPING
        )
        assert content == ('{"evaluations":[' + ",".join(each) + "]}").encode()
        assert parts is None or parts == each
