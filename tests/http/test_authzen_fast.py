"""AuthZEN ``evaluations`` decoded by msgspec (``http.authzen_fast.plain_request``): for
any body it takes, it finds exactly what the general reading finds (``load_object``,
``semantic_of``, the ``evaluations`` checks, ``plain_checks``): the same checks in
request order, the defaults merged per item, the same one action; every body it refuses
(``None``) is read the general way, so errors, statuses and other semantics are
unchanged. Bodies are generated as JSON text, including odd fields, odd values, unknown
fields, ``options`` and text orjson refuses."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_authzen_batch import MISSING, defaults, item_of, odd_actions, odd_entities

from core.test_answers import EPOCHS, UPNS
from infobarrier.core.answer_columns import OnePairBatch
from infobarrier.http.authzen_fast import plain_request
from infobarrier.http.authzen_protocol import (
    MAX_EVALUATIONS,
    BadRequest,
    load_object,
    semantic_of,
)
from infobarrier.http.routes.authzen import evaluate_plain, plain_checks

Found = OnePairBatch | None


def reference(body: bytes) -> Found:
    """What the general reading of ``_evaluations_inline`` reaches ``plain_checks`` with,
    or ``None`` where it answers otherwise (an error, a single evaluation, another
    semantic)."""
    try:
        data = load_object(body)
        semantic = semantic_of(data)
    except BadRequest:
        return None
    listed = data.get("evaluations")
    if listed is None or listed == [] or type(listed) is not list:
        return None
    if len(listed) > MAX_EVALUATIONS or semantic != "execute_all":
        return None
    return plain_checks(listed, data.get("subject"), data.get("action"), data.get("resource"))


def agree(body: bytes) -> Found:
    """The fast reading of ``body``, checked against the general one."""
    found = plain_request(body)
    if found is not None:
        assert found == reference(body)
    return found


options = st.one_of(
    st.just(MISSING),
    st.none(),
    st.just({}),
    st.sampled_from(
        [
            {"evaluations_semantic": "execute_all"},
            {"evaluations_semantic": "deny_on_first_deny"},
            {"evaluations_semantic": "permit_on_first_permit"},
            {"evaluations_semantic": "other"},
            {"evaluations_semantic": None},
            {"evaluations_semantic": "execute_all", "other": 1},
            "execute_all",
        ]
    ),
)


def body_of(listed: Any, top: tuple[Any, Any, Any], opts: Any, extra: bool) -> bytes:
    data: dict[str, Any] = {"evaluations": listed}
    for key, value in zip(("subject", "action", "resource"), top, strict=True):
        if value is not None:
            data[key] = value
    if opts is not MISSING:
        data["options"] = opts
    if extra:
        data["context"] = {"time": 1}
    return orjson.dumps(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listed=st.lists(item_of(plain_only=False), min_size=0, max_size=6),
    top=defaults,
    opts=options,
    extra=st.booleans(),
)
def test_any_body_the_decoder_takes_reads_as_the_general_path(
    listed: list[Any], top: tuple[Any, Any, Any], opts: Any, extra: bool
) -> None:
    agree(body_of(listed, top, opts, extra))


users = (
    st.sampled_from(UPNS)
    .flatmap(lambda upn: st.sampled_from([upn, upn.upper(), f" {upn} ", "nobody@contoso.com"]))
    .map(lambda upn: {"type": "user", "id": upn})
)
names = st.sampled_from(["chat", "call", "search", "share-screen", "share-file", "meeting-invite"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listed=st.lists(item_of(plain_only=True), min_size=1, max_size=12),
    subject=users,
    action=names.map(lambda name: {"name": name}),
    resource=users,
    opts=st.sampled_from([MISSING, None, {}, {"evaluations_semantic": "execute_all"}]),
    restricted=st.booleans(),
    which=st.sampled_from(sorted(EPOCHS)),
)
def test_plain_bodies_are_taken_and_answered_as_the_general_path(
    listed: list[Any],
    subject: Any,
    action: Any,
    resource: Any,
    opts: Any,
    restricted: bool,
    which: str,
) -> None:
    """Plain items (fields given, left to the defaults, or null) in a plain body: the
    decoder takes them, and the answer is the general path's, in request order."""
    listed = [{k: v for k, v in item.items() if k != "context"} for item in listed]
    body = body_of(listed, (subject, action, resource), opts, False)
    found = agree(body)
    assert found is not None
    epoch = EPOCHS[which]
    fast = evaluate_plain(epoch, restricted, None, found)[0]
    data = orjson.loads(body)
    general = reference(body)
    assert general is not None
    assert fast == evaluate_plain(epoch, restricted, None, general)[0]
    assert len(orjson.loads(fast)["evaluations"]) == len(data["evaluations"])


ANN, BOB = ({"type": "user", "id": u} for u in UPNS[:2])
PLAIN = {"subject": ANN, "action": {"name": "chat"}, "resource": BOB}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"x",
        b"[]",
        b'"evaluations"',
        b"\xef\xbb\xbf" + orjson.dumps({"evaluations": [PLAIN]}),  # a BOM
        orjson.dumps({"evaluations": [PLAIN]}) + b"x",  # trailing text
        # text orjson refuses inside a field the decoder would otherwise take
        b'{"evaluations":[{"subject":{"type":"user","id":"\\ud800"},"action":{"name":"chat"},'
        b'"resource":{"type":"user","id":"b@x"}}]}',
        b'{"evaluations":[{"subject":{"type":"user","id":"a\xff"},"action":{"name":"chat"},'
        b'"resource":{"type":"user","id":"b@x"}}]}',
        # an integer out of orjson's range in an unknown field (ignored by the general path
        # only when it parses at all)
        b'{"n":123456789012345678901234567890,"evaluations":[' + orjson.dumps(PLAIN) + b"]}",
        b'{"evaluations":[' + orjson.dumps(PLAIN)[:-1] + b',"context":{"n":1e999}}]}',
        # duplicate keys: the last one counts for both readers
        b'{"evaluations":[' + orjson.dumps(PLAIN) + b'],"evaluations":[]}',
        orjson.dumps({"evaluations": [PLAIN], "options": {"evaluations_semantic": "other"}}),
        orjson.dumps({"evaluations": [PLAIN] * (MAX_EVALUATIONS + 1)}),
        orjson.dumps({"evaluations": [], **PLAIN}),
        orjson.dumps({"evaluations": None, **PLAIN}),
        orjson.dumps({"evaluations": [PLAIN, "x"]}),
        orjson.dumps({"evaluations": [PLAIN, {**PLAIN, "action": {"name": "add-team-member"}}]}),
        orjson.dumps({"evaluations": [{**PLAIN, "context": {"a": 1}}]}),  # unknown: general path
    ],
)
def test_bodies_the_decoder_leaves_to_the_general_path(body: bytes) -> None:
    assert plain_request(body) is None


@pytest.mark.parametrize(
    "text",
    [
        b"\\udc00",
        b"a\tb",
        b"a\x00b",
        b"a\x1fb",
        b"\\ud800x",
        b"\\x41",
        b"\\u00",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xf4\x90\x80\x80",
    ],
)
def test_an_id_orjson_refuses_is_refused(text: bytes) -> None:
    """Escapes, control characters and UTF-8 orjson refuses: the general path answers
    (400, not valid JSON)."""
    body = orjson.dumps({"evaluations": [PLAIN]}).replace(b"ann@contoso.com", text)
    with pytest.raises(BadRequest):
        load_object(body)
    assert plain_request(body) is None


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps({"evaluations": [PLAIN]}),
        b' \n{ "evaluations" : [ ' + orjson.dumps(PLAIN) + b" ] } \n",
        orjson.dumps(
            {
                "evaluations": [{"subject": None, "resource": BOB}],
                "subject": ANN,
                "action": {"name": "call"},
            }
        ),
        b'{"evaluations":[{"subject":{"type":"user","id":"\\u0061nn@x"},"action":{"name":"chat"},'
        b'"resource":{"type":"user","id":"b\\u00e9@x"}}]}',
        b'{"evaluations":[{"subject":{"type":"group","id":"a@x"},"subject":'
        + orjson.dumps(ANN)
        + b',"action":{"name":"chat"},"resource":'
        + orjson.dumps(BOB)
        + b"}]}",
        orjson.dumps({"evaluations": [PLAIN], "options": {"evaluations_semantic": "execute_all"}}),
        orjson.dumps({"evaluations": [PLAIN], "options": None}),
    ],
)
def test_plain_bodies_the_decoder_takes(body: bytes) -> None:
    assert agree(body) is not None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entity=st.one_of(odd_entities, st.none()),
    action=st.one_of(odd_actions, st.none()),
    where=st.sampled_from(["subject", "action", "resource"]),
)
def test_one_odd_field_anywhere(entity: Any, action: Any, where: str) -> None:
    item = dict(PLAIN)
    item[where] = action if where == "action" else entity
    agree(orjson.dumps({"evaluations": [PLAIN, item, PLAIN]}))
