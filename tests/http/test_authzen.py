"""The AuthZEN 1.0 endpoints through a real server, and each protocol rule of the
specification: 400 with a message for a missing required field, 401/403 for tokens,
unknown fields ignored, ``X-Request-ID`` echoed, a deny is 200 with ``decision: false``.

The tenant ``abc`` is the standard one: Sales and Research may not talk (a block list of
Sales), Ops has no policy, n1 and n2 are in no segment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from http_builders import add_people, running_server, standard_tenant, upn

from infobarrier.http.app import create_app
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import build
from live_server import LiveServer, make_tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("authzen"), seed=standard_tenant) as found:
        yield found


def pdp(server: LiveServer, role: str = "enforcer", tenant: str = "abc") -> httpx.Client:
    """A client at the server root with a token of ``role`` of ``tenant``."""
    return httpx.Client(
        base_url=server.base,
        headers={"Authorization": f"Bearer {server.tokens[(tenant, role)]}"},
        timeout=30,
    )


def user(name: str) -> dict[str, str]:
    return {"type": "user", "id": upn(name)}


def ask(subject: str, action: str, resource: str) -> dict[str, Any]:
    return {"subject": user(subject), "action": {"name": action}, "resource": user(resource)}


def conversation(*names: str) -> dict[str, Any]:
    return {"type": "conversation", "properties": {"members": [upn(n) for n in names]}}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def bad(response: httpx.Response, status: int, words: str) -> None:
    """An error of the specification: the status, and a JSON string naming the problem."""
    assert response.status_code == status, response.text
    message = response.json()
    assert isinstance(message, str)
    assert words in message, message


# -- evaluation ----------------------------------------------------------------------------
def test_a_permit_carries_our_verdict_as_its_context(server: LiveServer) -> None:
    with pdp(server) as c:
        body = ok(c.post("/access/v1/evaluation", json=ask("s1", "chat", "s2")))
    assert body["decision"] is True
    assert body["context"]["code"] == "permitted"
    assert body["context"]["pair"] == [upn("s1"), upn("s2")]
    assert body["context"]["segment"] == "Sales"


def test_a_deny_is_200_with_decision_false_and_the_policy_that_decided(server: LiveServer) -> None:
    with pdp(server) as c:
        response = c.post("/access/v1/evaluation", json=ask("s1", "call", "r1"))
    body = ok(response)
    assert body["decision"] is False
    assert body["context"]["code"] == "blocked_by_policy"
    assert body["context"]["policy"] == "Sales-block"
    assert "block list" in body["context"]["reason"]


def test_group_actions_take_a_conversation_and_check_every_pair(server: LiveServer) -> None:
    with pdp(server) as c:
        fine = ok(
            c.post(
                "/access/v1/evaluation",
                json={
                    "subject": user("s1"),
                    "action": {"name": "group-chat"},
                    "resource": conversation("s1", "s2", "o1"),  # the sender may be listed
                },
            )
        )
        # s1 and r1 are never paired by the subject: o1 invites both, who may not meet.
        clash = ok(
            c.post(
                "/access/v1/evaluation",
                json={
                    "subject": user("o1"),
                    "action": {"name": "meeting-invite"},
                    "resource": conversation("s1", "r1"),
                },
            )
        )
        # share-screen pairs only the presenter with each viewer.
        screen = ok(
            c.post(
                "/access/v1/evaluation",
                json={
                    "subject": user("o1"),
                    "action": {"name": "share-screen"},
                    "resource": conversation("s1", "r1"),
                },
            )
        )
        team = ok(
            c.post(
                "/access/v1/evaluation",
                json={
                    "subject": user("r1"),
                    "action": {"name": "add-team-member"},
                    "resource": conversation("o1", "s2"),
                },
            )
        )
    assert fine["decision"] is True
    assert fine["context"]["code"] == "all_compatible"
    assert clash["decision"] is False
    assert clash["context"]["pair"] == [upn("s1"), upn("r1")]
    assert screen["decision"] is True
    assert team["decision"] is False
    assert team["context"]["pair"] == [upn("r1"), upn("s2")]


def test_a_question_that_cannot_be_answered_is_a_deny_with_the_error(server: LiveServer) -> None:
    with pdp(server) as c:
        unknown = ok(c.post("/access/v1/evaluation", json=ask("s1", "chat", "ghost")))
        action = ok(c.post("/access/v1/evaluation", json=ask("s1", "wave", "s2")))
        kind = ok(
            c.post(
                "/access/v1/evaluation",
                json={
                    "subject": user("s1"),
                    "action": {"name": "chat"},
                    "resource": {"type": "document", "id": "x"},
                },
            )
        )
    assert unknown["decision"] is False
    assert unknown["context"]["error"]["status"] == 404
    assert unknown["context"]["error"]["code"] == "unknown_user"
    assert action["decision"] is False
    assert "unknown action" in action["context"]["error"]["message"]
    assert kind["decision"] is False
    assert kind["context"]["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": {"name": "chat"}, "resource": user("s2")}, "'subject' is required"),
        ({"subject": user("s1"), "resource": user("s2")}, "'action' is required"),
        ({"subject": user("s1"), "action": {"name": "chat"}}, "'resource' is required"),
        (
            {"subject": {"type": "user"}, "action": {"name": "chat"}, "resource": user("s2")},
            "'subject.id' is required",
        ),
        (
            {"subject": {"id": upn("s1")}, "action": {"name": "chat"}, "resource": user("s2")},
            "'subject.type' is required",
        ),
        ({"subject": user("s1"), "action": {}, "resource": user("s2")}, "'action.name'"),
        (
            {"subject": user("s1"), "action": {"name": "chat"}, "resource": {"type": "user"}},
            "'resource.id' is required",
        ),
        (
            {
                "subject": user("s1"),
                "action": {"name": "group-chat"},
                "resource": {"type": "conversation"},
            },
            "'resource.properties.members' is required",
        ),
        ({"subject": "s1", "action": {"name": "chat"}, "resource": user("s2")}, "an object"),
    ],
)
def test_a_missing_required_field_is_400_with_a_message(
    server: LiveServer, body: dict[str, Any], words: str
) -> None:
    with pdp(server) as c:
        bad(c.post("/access/v1/evaluation", json=body), 400, words)


def test_a_body_that_is_not_a_json_object_is_400(server: LiveServer) -> None:
    with pdp(server) as c:
        bad(c.post("/access/v1/evaluation", content=b"{not json"), 400, "not valid JSON")
        bad(c.post("/access/v1/evaluation", json=[1, 2]), 400, "JSON object")
        bad(c.post("/access/v1/evaluations", json="x"), 400, "JSON object")


def test_unknown_fields_are_ignored(server: LiveServer) -> None:
    body = {
        **ask("s1", "chat", "r1"),
        "context": {"time": "2026-01-01T00:00Z", "nested": {"deep": [1]}},
        "extension": True,
    }
    body["subject"] = {**body["subject"], "properties": {"department": "x"}, "other": 1}
    body["action"] = {"name": "chat", "properties": {"urgent": True}}
    with pdp(server) as c:
        plain = ok(c.post("/access/v1/evaluation", json=ask("s1", "chat", "r1")))
        decorated = ok(c.post("/access/v1/evaluation", json=body))
    assert decorated == plain


def test_no_token_or_a_bad_one_is_401_and_a_role_that_may_not_ask_is_403(
    server: LiveServer,
) -> None:
    body = ask("s1", "chat", "s2")
    paths = [
        "/access/v1/evaluation",
        "/access/v1/evaluations",
        "/access/v1/search/resource",
        "/access/v1/search/subject",
        "/access/v1/search/action",
    ]
    for path in paths:
        missing = httpx.post(server.base + path, json=body, timeout=30)
        bad(missing, 401, "bearer token is required")
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = httpx.post(
            server.base + path, json=body, headers={"Authorization": "Bearer ib_x_y"}, timeout=30
        )
        bad(wrong, 401, "unknown or revoked")
        for role in ("auditor", "provisioner"):
            with pdp(server, role) as c:
                bad(c.post(path, json=body), 403, f"the {role} role may not")
    with pdp(server, "admin") as c:
        assert ok(c.post("/access/v1/evaluation", json=body))["decision"] is True


def test_authentication_comes_before_the_body_is_read(server: LiveServer) -> None:
    bad(httpx.post(server.base + "/access/v1/evaluation", content=b"{", timeout=30), 401, "token")


def test_the_tenant_is_the_tokens(server: LiveServer) -> None:
    """A token of tenant ``other`` asks about ``other``, where nobody from ``abc`` exists."""
    with pdp(server, tenant="other") as c:
        body = ok(c.post("/access/v1/evaluation", json=ask("s1", "chat", "s2")))
    assert body["decision"] is False
    assert body["context"]["error"]["code"] == "unknown_user"


def test_the_request_id_is_echoed_and_one_is_made_when_absent(server: LiveServer) -> None:
    with pdp(server) as c:
        given = c.post(
            "/access/v1/evaluation",
            json=ask("s1", "chat", "s2"),
            headers={"X-Request-ID": "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"},
        )
        failed = c.post("/access/v1/evaluation", json={}, headers={"X-Request-ID": "abc-1"})
        made = c.post("/access/v1/evaluation", json=ask("s1", "chat", "s2"))
    assert given.headers["x-request-id"] == "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"
    assert failed.status_code == 400
    assert failed.headers["x-request-id"] == "abc-1"
    assert len(made.headers["x-request-id"]) == 32


# -- evaluations ---------------------------------------------------------------------------
def test_evaluations_use_top_level_defaults_and_answer_in_order(server: LiveServer) -> None:
    body = {
        "subject": user("s1"),
        "action": {"name": "chat"},
        "context": {"time": "now"},
        "evaluations": [
            {"resource": user("s2")},
            {"resource": user("r1")},
            {"resource": user("ghost")},
            {"action": {"name": "group-chat"}, "resource": conversation("s2", "o1")},
            {"subject": user("r1"), "resource": user("r2")},  # overrides the subject
            {"resource": {"type": "user"}},  # no id: this item fails, the others stand
            "not an object",
        ],
    }
    with pdp(server) as c:
        found = ok(c.post("/access/v1/evaluations", json=body))["evaluations"]
    assert [e["decision"] for e in found] == [True, False, False, True, True, False, False]
    assert found[1]["context"]["code"] == "blocked_by_policy"
    assert found[2]["context"]["error"]["code"] == "unknown_user"
    assert found[4]["context"]["pair"] == [upn("r1"), upn("r2")]
    assert found[5]["context"]["error"] == {
        "status": 400,
        "code": "invalid_request",
        "message": "'resource.id' is required",
    }
    assert found[6]["context"]["error"]["status"] == 400


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("execute_all", [True, False, True, False]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ],
)
def test_evaluations_semantics(server: LiveServer, semantic: str, expected: list[bool]) -> None:
    body = {
        "subject": user("s1"),
        "action": {"name": "chat"},
        "options": {"evaluations_semantic": semantic},
        "evaluations": [{"resource": user(n)} for n in ("s2", "r1", "o1", "r2")],
    }
    with pdp(server) as c:
        found = ok(c.post("/access/v1/evaluations", json=body))["evaluations"]
    assert [e["decision"] for e in found] == expected


def test_permit_on_first_permit_runs_on_past_denials(server: LiveServer) -> None:
    body = {
        "subject": user("s1"),
        "action": {"name": "chat"},
        "options": {"evaluations_semantic": "permit_on_first_permit"},
        "evaluations": [{"resource": user(n)} for n in ("r1", "ghost", "o1", "s2")],
    }
    with pdp(server) as c:
        found = ok(c.post("/access/v1/evaluations", json=body))["evaluations"]
    assert [e["decision"] for e in found] == [False, False, True]


def test_evaluations_without_items_is_a_single_evaluation(server: LiveServer) -> None:
    with pdp(server) as c:
        absent = ok(c.post("/access/v1/evaluations", json=ask("s1", "chat", "r1")))
        empty = ok(
            c.post("/access/v1/evaluations", json={**ask("s1", "chat", "s2"), "evaluations": []})
        )
        missing = c.post("/access/v1/evaluations", json={"evaluations": []})
    assert absent["decision"] is False
    assert empty["decision"] is True
    bad(missing, 400, "'action' is required")


def test_evaluations_errors_of_the_request_itself_are_400(server: LiveServer) -> None:
    with pdp(server) as c:
        bad(
            c.post("/access/v1/evaluations", json={"evaluations": {"resource": user("s1")}}),
            400,
            "'evaluations' must be an array",
        )
        bad(
            c.post(
                "/access/v1/evaluations",
                json={
                    **ask("s1", "chat", "s2"),
                    "options": {"evaluations_semantic": "sometimes"},
                    "evaluations": [{}],
                },
            ),
            400,
            "evaluations_semantic",
        )


def test_a_large_batch_answers_every_item_in_order(server: LiveServer) -> None:
    names = ["s2", "r1", "o1", "n1"] * 1000  # more than are answered on the event loop
    body = {
        "subject": user("s1"),
        "action": {"name": "call"},
        "evaluations": [{"resource": user(n)} for n in names],
    }
    with pdp(server) as c:
        found = ok(c.post("/access/v1/evaluations", json=body))["evaluations"]
    assert [e["decision"] for e in found] == [n != "r1" for n in names]


def test_the_plain_fast_path_and_the_item_path_give_the_same_answers(
    server: LiveServer,
) -> None:
    """A request of plain user-to-user questions is answered in one loop; one odd item
    sends the whole request item by item: the answers must not differ."""
    names = ["s1", "s2", "r1", "o1", "n1", "ghost"]
    actions = ["chat", "call", "search", "share-file", "Chat", "add-team-member"]
    items = [
        {
            "subject": user(a),
            "action": {"name": actions[(i + j) % len(actions)]},
            "resource": user(b),
        }
        for i, a in enumerate(names)
        for j, b in enumerate(names)
    ]
    plain = [i for i in items if i["action"]["name"] not in ("Chat", "add-team-member")]
    with pdp(server) as c:
        fast = ok(c.post("/access/v1/evaluations", json={"evaluations": plain}))["evaluations"]
        slow = ok(c.post("/access/v1/evaluations", json={"evaluations": [*plain, "odd"]}))
        mixed = ok(c.post("/access/v1/evaluations", json={"evaluations": items}))["evaluations"]
    assert slow["evaluations"][:-1] == fast
    assert len(mixed) == len(items)
    for item, answer in zip(items, mixed, strict=True):
        if item["action"]["name"] == "Chat":  # an action name is read case-insensitively
            twin = {**item, "action": {"name": "chat"}}
            with pdp(server) as c:
                assert ok(c.post("/access/v1/evaluation", json=twin)) == answer


# -- searches ------------------------------------------------------------------------------
def _search(c: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    return ok(c.post(path, json=body))


def test_resource_search_pages_through_the_people_a_subject_may_reach(server: LiveServer) -> None:
    body: dict[str, Any] = {
        "subject": user("s1"),
        "action": {"name": "chat"},
        "resource": {"type": "user", "id": "ignored"},
        "page": {"limit": 2},
    }
    seen: list[str] = []
    counts: list[int] = []
    with pdp(server) as c:
        while True:
            found = _search(c, "/access/v1/search/resource", body)
            assert found["page"]["total"] == 6
            counts.append(found["page"]["count"])
            assert all(r["type"] == "user" for r in found["results"])
            seen += [r["id"] for r in found["results"]]
            token = found["page"]["next_token"]
            if token == "":
                break
            body["page"] = {"limit": 2, "token": token}
    assert counts == [2, 2, 2]
    assert sorted(seen) == sorted(upn(n) for n in ("s2", "s3", "o1", "o2", "n1", "n2"))


def test_a_page_token_must_come_with_the_same_request(server: LiveServer) -> None:
    body: dict[str, Any] = {
        "subject": user("s1"),
        "action": {"name": "chat"},
        "resource": {"type": "user"},
        "page": {"limit": 1},
    }
    with pdp(server) as c:
        token = _search(c, "/access/v1/search/resource", body)["page"]["next_token"]
        assert token
        changed = {**body, "subject": user("o1"), "page": {"limit": 1, "token": token}}
        bad(c.post("/access/v1/search/resource", json=changed), 400, "another request")
        forged = {**body, "page": {"limit": 1, "token": "garbage!"}}
        bad(c.post("/access/v1/search/resource", json=forged), 400, "'page.token'")
        negative = {**body, "page": {"limit": -1}}
        bad(c.post("/access/v1/search/resource", json=negative), 400, "'page.limit'")


def test_one_page_when_everything_fits(server: LiveServer) -> None:
    body = {"subject": user("r1"), "action": {"name": "chat"}, "resource": {"type": "user"}}
    with pdp(server) as c:
        found = _search(c, "/access/v1/search/resource", body)
    assert found["page"] == {"next_token": "", "count": 5, "total": 5}
    assert sorted(r["id"] for r in found["results"]) == sorted(
        upn(n) for n in ("r2", "o1", "o2", "n1", "n2")
    )


def test_subject_search_finds_who_may_reach_a_user_or_a_conversation(server: LiveServer) -> None:
    with pdp(server) as c:
        of_user = _search(
            c,
            "/access/v1/search/subject",
            {
                "subject": {"type": "user", "id": "ignored"},
                "action": {"name": "chat"},
                "resource": user("r1"),
            },
        )
        of_group = _search(
            c,
            "/access/v1/search/subject",
            {
                "subject": {"type": "user"},
                "action": {"name": "group-chat"},
                "resource": conversation("o1", "n1"),
            },
        )
        clash = _search(
            c,
            "/access/v1/search/subject",
            {
                "subject": {"type": "user"},
                "action": {"name": "group-chat"},
                "resource": conversation("s1", "r1"),
            },
        )
    assert sorted(r["id"] for r in of_user["results"]) == sorted(
        upn(n) for n in ("r2", "o1", "o2", "n1", "n2")
    )
    assert of_group["page"]["total"] == 7  # everyone but o1 and n1
    assert clash == {"page": {"next_token": "", "count": 0, "total": 0}, "results": []}


def test_action_search_lists_the_actions_a_pair_may_use(server: LiveServer) -> None:
    with pdp(server) as c:
        open_pair = _search(
            c, "/access/v1/search/action", {"subject": user("s1"), "resource": user("o1")}
        )
        walled = _search(
            c, "/access/v1/search/action", {"subject": user("s1"), "resource": user("r1")}
        )
        group = _search(
            c,
            "/access/v1/search/action",
            {"subject": user("o1"), "resource": conversation("s1", "n1")},
        )
    assert [r["name"] for r in open_pair["results"]] == [
        "search",
        "chat",
        "group-chat",
        "meeting-invite",
        "share-screen",
        "call",
        "add-team-member",
        "share-file",
    ]
    assert open_pair["page"]["next_token"] == ""
    assert walled["results"] == []
    assert [r["name"] for r in group["results"]] == [
        "search",
        "group-chat",
        "meeting-invite",
        "share-screen",
        "call",
        "add-team-member",
    ]


def test_searches_that_cannot_be_answered_are_empty_with_the_error(server: LiveServer) -> None:
    with pdp(server) as c:
        unknown = _search(
            c,
            "/access/v1/search/resource",
            {"subject": user("ghost"), "action": {"name": "chat"}, "resource": {"type": "user"}},
        )
        kind = _search(
            c,
            "/access/v1/search/resource",
            {"subject": user("s1"), "action": {"name": "chat"}, "resource": {"type": "room"}},
        )
    assert unknown["results"] == []
    assert unknown["context"]["error"]["code"] == "unknown_user"
    assert kind["results"] == []
    assert kind["context"]["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        (
            "/access/v1/search/resource",
            {"action": {"name": "chat"}, "resource": {"type": "user"}},
            "'subject'",
        ),
        (
            "/access/v1/search/resource",
            {"subject": user("s1"), "resource": {"type": "user"}},
            "'action'",
        ),
        (
            "/access/v1/search/resource",
            {"subject": user("s1"), "action": {"name": "chat"}},
            "'resource'",
        ),
        (
            "/access/v1/search/resource",
            {"subject": user("s1"), "action": {"name": "chat"}, "resource": {}},
            "'resource.type'",
        ),
        (
            "/access/v1/search/subject",
            {"subject": {}, "action": {"name": "chat"}, "resource": user("s1")},
            "'subject.type'",
        ),
        ("/access/v1/search/action", {"subject": user("s1")}, "'resource'"),
        ("/access/v1/search/action", {"resource": user("s1")}, "'subject'"),
    ],
)
def test_searches_missing_a_required_field_are_400(
    server: LiveServer, path: str, body: dict[str, Any], words: str
) -> None:
    with pdp(server) as c:
        bad(c.post(path, json=body), 400, words)


# -- metadata, version, operations -----------------------------------------------------------
def test_the_configuration_names_the_decision_point_and_every_endpoint(server: LiveServer) -> None:
    found = ok(httpx.get(server.base + "/.well-known/authzen-configuration", timeout=30))
    assert found == {
        "policy_decision_point": server.base,
        "access_evaluation_endpoint": server.base + "/access/v1/evaluation",
        "access_evaluations_endpoint": server.base + "/access/v1/evaluations",
        "search_subject_endpoint": server.base + "/access/v1/search/subject",
        "search_resource_endpoint": server.base + "/access/v1/search/resource",
        "search_action_endpoint": server.base + "/access/v1/search/action",
    }


def test_answers_carry_the_decision_state_which_a_change_moves(server: LiveServer) -> None:
    """Tenant ``other`` (empty) gains a user: its version moves, and so does the state."""
    with pdp(server, tenant="other") as c:
        before = c.get("/v1/tenants/other/version")
        state = ok(before)
        answered = c.post("/access/v1/evaluation", json=ask("x1", "chat", "x2"))
        assert answered.headers["x-infobarrier-version"] == state["stamp"]
        assert before.headers["x-infobarrier-version"] == state["stamp"]
        assert state["people_search_restriction"] is True
        services = build(server.db_url)
        try:
            add_people(services, "other", {"x1": "Sales"}, sku=None)
        finally:
            services.store.dispose()
        after = ok(c.get("/v1/tenants/other/version"))
    assert after["version"] > state["version"]
    assert after["stamp"] != state["stamp"]


def test_questions_are_bounded_like_the_native_batch(server: LiveServer) -> None:
    """A conversation lists at most 10,000 people (400), and one request may require at
    most a million pairs to be checked (413), as ``POST /decisions``."""
    many = [f"m{i}@abc.example" for i in range(1500)]  # 1500 + 1500·1499/2 pairs
    body = {
        "subject": user("s1"),
        "action": {"name": "group-chat"},
        "resource": {"type": "conversation", "properties": {"members": many}},
    }
    with pdp(server) as c:
        assert c.post("/access/v1/evaluation", json=body).status_code == 413
        assert c.post("/access/v1/evaluations", json={"evaluations": [body]}).status_code == 413
        huge = {**body, "resource": {"type": "conversation", "properties": {"members": many * 7}}}
        bad(c.post("/access/v1/evaluation", json=huge), 400, "at most 10000")


def test_a_token_not_verified_moments_ago_is_verified_off_the_event_loop(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """An untrusted token's query runs in the thread pool, as on the native routes: a slow
    database never holds the event loop. Within ``token_trust_seconds`` it is admitted
    without a query; a revoked or unknown token is 401 either way."""
    services = build(f"sqlite:///{tmp_path_factory.mktemp('authzen-verify') / 'v.db'}")
    try:
        tokens = make_tokens(services, ["abc"])
        standard_tenant(services, "abc")
        handler = services.tokens
        verify = handler.verify
        on_loop: list[bool] = []

        def recording(plain: str) -> Principal | None:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return verify(plain)

        handler.verify = recording  # type: ignore[method-assign]
        handler.trust_seconds = 0.0  # every token untrusted: each request verifies
        client = TestClient(create_app(services))
        headers = {"Authorization": f"Bearer {tokens[('abc', 'enforcer')]}"}
        body = ask("s1", "chat", "s2")
        assert client.post("/access/v1/evaluation", json=body, headers=headers).json()["decision"]
        assert on_loop == [False]
        handler.trust_seconds = 60.0
        for _ in range(3):
            answer = client.post("/access/v1/evaluations", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
        assert on_loop == [False, False]  # verified once, then trusted
        unknown = {"Authorization": "Bearer not-a-token"}
        assert client.post("/access/v1/evaluation", json=body, headers=unknown).status_code == 401
        assert on_loop == [False, False, False]
    finally:
        services.store.dispose()
