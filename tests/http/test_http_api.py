"""The HTTP API in-process: bad input, nothing written on failure, decisions, applications,
search, licensing, recipients, and the OpenAPI document's models (docs/interfaces.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from http_builders import (
    ACTOR,
    Api,
    add_people,
    define_barrier,
    json_of,
    license_users,
    standard_tenant,
    upn,
)

from infobarrier.core.barriers import PolicyState
from infobarrier.http.app import create_app
from infobarrier.service.settings import Settings
from live_server import AppClient


@pytest.fixture
def lenient(app_client: AppClient) -> Iterator[AppClient]:
    """The same app and store, but a server error is a 500 answer, not a raised exception."""
    with TestClient(create_app(app_client.services), raise_server_exceptions=False) as http:
        yield AppClient(app_client.services, http, app_client.tokens)


@pytest.fixture
def admin(lenient: AppClient) -> Api:
    return Api(lenient, "admin")


@pytest.fixture
def front(lenient: AppClient) -> Api:
    return Api(lenient, "enforcer")


@pytest.fixture
def tenant(lenient: AppClient) -> AppClient:
    """The standard tenant (http_builders), applied."""
    standard_tenant(lenient.services)
    return lenient


def error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An error answer: ``status`` and a JSON ``{"code", "message", ...}`` body."""
    body: dict[str, Any] = json_of(response, status)
    assert isinstance(body["code"], str), body
    assert body["code"], body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body


READS = (
    "/users",
    "/groups",
    "/service-accounts",
    "/skus",
    "/segments",
    "/policies",
    "/settings",
    "/applications",
    "/audit",
)


def snapshot(admin: Api) -> dict[str, Any]:
    """Everything an admin can read, to compare before and after."""
    return {path: json_of(admin.get(path), 200) for path in READS}


# -- bad input ---------------------------------------------------------------------------------
def test_unknown_fields_are_422_invalid_request(admin: Api, front: Api, tenant: AppClient) -> None:
    before = snapshot(admin)
    for api, method, path, body in (
        (admin, "POST", "/users", {"upn": "x@abc.example", "shoe_size": 42}),
        (admin, "PATCH", f"/users/{upn('s1')}", {"attributes": {}, "colour": "red"}),
        (admin, "POST", "/groups", {"display_name": "G", "owner": "s1"}),
        (admin, "POST", "/segments", {"name": "X", "filter": "Department -eq 'X'", "extra": 1}),
        (admin, "POST", "/policies", {"name": "p", "assigned_segment": "Ops", "state2": "x"}),
        (admin, "PATCH", "/settings", {"mood": "happy"}),
        (admin, "POST", "/skus/SPE_E5/purchase", {"seats": 1, "price": 3}),
        (front, "POST", "/decisions", {"checks": [], "verbose": True}),
        (front, "POST", "/chats", {"from": upn("s1"), "to": [upn("s2")], "topic": "x"}),
        (front, "POST", "/teams", {"name": "t", "owners": [upn("s1")], "private": True}),
    ):
        body = error(api.request(method, path, json=body), 422, "invalid_request")
        assert "not permitted" in body["message"] or "extra" in body["message"].lower(), body
    assert snapshot(admin) == before


def test_malformed_json_is_422(admin: Api, tenant: AppClient) -> None:
    before = snapshot(admin)
    for path in ("/users", "/segments", "/policies", "/groups"):
        response = admin.post(
            path, content=b'{"name": "broken', headers={"content-type": "application/json"}
        )
        error(response, 422, "invalid_request")
    assert snapshot(admin) == before


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("Bogus -eq 'x'", 1),
        ("Department -eq 'Sales", 16),
        ("Department -eq 'Sales' junk", 24),
        ("Department -eq 'Sales' -and", 28),
    ],
)
def test_a_bad_filter_is_400_with_its_position(
    admin: Api, tenant: AppClient, text: str, position: int
) -> None:
    before = snapshot(admin)
    body = error(
        admin.post("/segments", json={"name": "New", "filter": text}), 400, "filter_syntax"
    )
    assert body["position"] == position
    body = error(admin.patch("/segments/Ops", json={"filter": text}), 400, "filter_syntax")
    assert body["position"] == position
    assert snapshot(admin) == before
    preview = json_of(admin.post("/segments/preview", json={"filter": text}), 200)
    assert preview["valid"] is False
    assert preview["position"] == position


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"segments_blocked": ["Nope"]}, "policy.listed_segment_exists"),
        ({"segments_blocked": ["Ops"], "segments_allowed": ["Ops"]}, "policy.one_list"),
        ({"segments_blocked": ["Ops", "Ops"]}, "policy.list_duplicate"),
        ({"segments_blocked": []}, "policy.list_nonempty"),
        ({}, "policy.one_list"),
    ],
)
def test_a_broken_policy_rule_is_400_naming_the_rule(
    admin: Api, tenant: AppClient, body: dict[str, Any], rule: str
) -> None:
    before = snapshot(admin)
    answer = admin.post("/policies", json={"name": "p", "assigned_segment": "Research", **body})
    assert error(answer, 400, "rule_violation")["rule"] == rule
    assert snapshot(admin) == before


def test_failed_requests_write_nothing(admin: Api, tenant: AppClient) -> None:
    before = snapshot(admin)
    failures: list[tuple[httpx.Response, int | tuple[int, ...]]] = [
        (admin.post(f"/users/{upn('s1')}/licenses", json={"sku": "SPE_E5"}), 409),  # no seat
        (admin.post("/users", json={"upn": upn("s1")}), 409),  # exists
        (admin.post("/users", json={"upn": "no-at-sign"}), 400),
        (admin.post("/users", json={"upn": "x@abc.example", "attributes": {"Shoe": "4"}}), 400),
        (admin.post("/groups", json={"display_name": "G", "members": ["ghost@abc.example"]}), 404),
        (admin.post("/groups", json={"display_name": "researchguests"}), (400, 409)),
        (
            admin.post(
                "/service-accounts",
                json={"upn": "v@abc.example", "vendor": "V", "sponsor": "ghost@abc.example"},
            ),
            404,
        ),
        (admin.post("/segments", json={"name": "sales", "filter": "Department -eq 'x'"}), 400),
        (
            admin.post(
                "/policies",
                json={"name": "Other", "assigned_segment": "Sales", "segments_blocked": ["Ops"]},
            ),
            400,
        ),
        (admin.patch("/policies/Sales-block", json={"segments_allowed": ["Nope"]}), 400),
        (admin.delete("/segments/Research"), 400),  # referenced by Sales-block
        (admin.patch("/settings", json={"mode": "Legacy"}), 400),  # segments exist
        (admin.put("/skus/ENTERPRISEPACK", json={"seats": 0}), 409),  # seats in use
        (admin.put("/groups/ResearchGuests/members/ghost@abc.example"), 404),
        (admin.delete(f"/groups/ResearchGuests/members/{upn('s1')}"), 404),  # not a member
        (admin.post("/users/ghost@abc.example/licenses", json={"sku": "SPE_E5"}), 404),
        (admin.post(f"/users/{upn('s1')}/licenses", json={"sku": "NOPE"}), 404),
        (admin.patch(f"/users/{upn('s1')}", json={}), 400),  # nothing to change
        (admin.delete("/users/ghost@abc.example"), 404),
    ]
    for response, status in failures:
        expected = status if isinstance(status, tuple) else (status,)
        assert response.status_code in expected, f"{response.request.url}: {response.text}"
        error(response, response.status_code)
    assert snapshot(admin) == before


# -- decisions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_request"),
        ({"checks": "chat"}, "invalid_request"),
        ({"checks": [{"action": "chat", "from": "s1@abc.example"}]}, "invalid_check"),  # no "to"
        (
            {"checks": [{"action": "chat", "from": "s1@abc.example", "to": "s2@abc.example"}]},
            "invalid_check",
        ),
        (
            {"checks": [{"action": "chat", "from": "s1@abc.example", "to": [], "why": 1}]},
            "invalid_check",
        ),
        ({"checks": [{"action": "chat", "to": ["s2@abc.example"]}]}, "invalid_check"),
    ],
)
def test_a_malformed_decisions_body_is_422_as_a_whole(
    front: Api, tenant: AppClient, body: dict[str, Any], code: str
) -> None:
    error(front.post("/decisions", json=body), 422, code)


def test_a_bad_check_is_an_error_item_in_its_place(front: Api, tenant: AppClient) -> None:
    s1, s2, r1 = upn("s1"), upn("s2"), upn("r1")
    checks = [
        {"action": "chat", "from": s1, "to": [s2]},
        {"action": "chat", "from": s1, "to": ["nobody@abc.example"]},
        {"action": "call", "from": s1, "to": [r1]},
        {"action": "teleport", "from": s1, "to": [s2]},
        {"action": "chat", "from": s1, "to": [s1]},
        {"action": "chat", "from": "ghost@abc.example", "to": [s2]},
        {"action": "search", "from": r1, "to": [s2, s1]},
    ]
    results = json_of(front.post("/decisions", json={"checks": checks}), 200)["results"]
    assert len(results) == len(checks)
    assert results[0]["allowed"] is True
    assert results[1]["error"]["code"] == "unknown_user"
    assert results[2]["allowed"] is False
    assert results[2]["policy"] == "Sales-block"
    assert results[2]["pair"] == [s1, r1]
    assert "error" in results[3]
    assert "allowed" not in results[3]
    assert "error" in results[4]
    assert "allowed" not in results[4]
    assert results[5]["error"]["code"] == "unknown_user"
    assert results[6]["allowed"] is False
    assert results[6]["pair"] == [r1, s2]


def test_a_batch_above_the_inline_size_is_answered_the_same(front: Api, tenant: AppClient) -> None:
    """Large batches (over the setting inline_pairs pairs) go to the thread pool: same
    answers."""
    inline_pairs = Settings().inline_pairs
    s1, s2, r1 = upn("s1"), upn("s2"), upn("r1")
    pattern = [
        {"action": "chat", "from": s1, "to": [s2]},
        {"action": "call", "from": s1, "to": [r1]},
        {"action": "chat", "from": s1, "to": ["nobody@abc.example"]},
    ]
    small = json_of(front.post("/decisions", json={"checks": pattern}), 200)["results"]
    checks = pattern * (inline_pairs // len(pattern) + 1)
    assert len(checks) > inline_pairs
    results = json_of(front.post("/decisions", json={"checks": checks}), 200)["results"]
    assert results == small * (len(checks) // len(pattern))


def test_relationship(front: Api, tenant: AppClient) -> None:
    verdict = json_of(front.get("/relationship", params={"a": upn("r1"), "b": upn("s2")}), 200)
    assert verdict["allowed"] is False
    assert (verdict["policy"], verdict["segment"]) == ("Sales-block", "Sales")
    assert verdict["pair"] == [upn("r1"), upn("s2")]
    error(front.get("/relationship", params={"a": upn("r1"), "b": "x@abc.example"}), 404)


# -- applications ----------------------------------------------------------------------------------
def make_running(services: Any, tenant: str = "abc") -> str:
    """An InProgress application record (as an apply on another replica would leave)."""
    app_id = "11111111-1111-4111-8111-111111111111"
    with services.store.transaction() as repo:
        repo.scope(repo.tenants.get(tenant)).applications.start(app_id, "elsewhere")
    return app_id


def test_apply_wait_answers_when_done(admin: Api, front: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services, apply=False)
    assert json_of(front.get("/relationship", params={"a": upn("s1"), "b": upn("r1")}), 200)[
        "allowed"
    ]
    answer = admin.post("/applications", params={"wait": "true"})
    assert answer.status_code in (200, 202), answer.text
    done = answer.json()
    assert done["status"] == "Completed"
    assert done["ended"] is not None
    assert done["percent"] == 100
    assert done["total_recipients"] == 9
    assert done["failed_recipients"] == 0
    assert done["actor"].startswith("token:")
    verdict = json_of(front.get("/relationship", params={"a": upn("s1"), "b": upn("r1")}), 200)
    assert verdict["allowed"] is False  # in force as soon as the answer came


def test_apply_answers_202_with_the_id_and_can_be_polled(admin: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services, apply=False)
    started = json_of(admin.post("/applications"), 202)
    assert started["status"] in ("InProgress", "Completed")
    assert started["number"] == 1
    status = started
    for _ in range(500):
        status = json_of(admin.get(f"/applications/{started['id']}"), 200)
        if status["status"] != "InProgress":
            break
    assert status["status"] == "Completed"
    assert json_of(admin.get("/applications/1"), 200)["id"] == started["id"]  # by number


def test_a_second_apply_while_one_runs_is_409_naming_it(admin: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services, apply=False)
    running = make_running(lenient.services)
    before = snapshot(admin)
    for params in ({}, {"wait": "true"}):
        body = error(admin.post("/applications", params=params), 409, "apply_running")
        assert running in body["message"]
        assert "application 1" in body["message"]
    assert snapshot(admin) == before


def test_stop_an_application(admin: Api, front: Api, lenient: AppClient) -> None:
    services = lenient.services
    standard_tenant(services, apply=False)
    app_id = services.applications.begin("abc", ACTOR)
    stopped = json_of(admin.delete(f"/applications/{app_id}"), 200)
    assert stopped["status"] == "Stopped"
    assert stopped["ended"] is not None
    # The stopped application produces no epoch, even if its work finishes afterwards.
    finished = services.applications.run("abc", app_id, ACTOR)
    assert finished.status == "Stopped"
    assert json_of(front.get("/relationship", params={"a": upn("s1"), "b": upn("r1")}), 200)[
        "allowed"
    ]
    # Stopping again, or stopping what is not running: 409; unknown: 404.
    error(admin.delete(f"/applications/{app_id}"), 409)
    error(admin.delete("/applications/00000000-0000-4000-8000-000000000000"), 404)
    # Another apply may start now.
    assert json_of(admin.post("/applications", params={"wait": "true"}), 200)["status"] == (
        "Completed"
    )
    kinds = [e["kind"] for e in json_of(admin.get("/audit"), 200)]
    assert "apply.stopped" in kinds


def test_applications_history_newest_first(admin: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services)  # application 1
    services = lenient.services
    app_id = services.applications.begin("abc", ACTOR)
    json_of(admin.delete(f"/applications/{app_id}"), 200)  # application 2, stopped
    json_of(admin.post("/applications", params={"wait": "true"}), 200)  # application 3
    history = json_of(admin.get("/applications"), 200)
    assert [(a["number"], a["status"]) for a in history] == [
        (3, "Completed"),
        (2, "Stopped"),
        (1, "Completed"),
    ]
    assert json_of(admin.get(f"/applications/{app_id}"), 200)["number"] == 2
    error(admin.get("/applications/9"), 404)
    error(admin.get("/applications/not-an-id"), 404)


def test_application_answers_are_documented(admin: Api, lenient: AppClient) -> None:
    """Each status ``POST /applications`` answers with is one its OpenAPI entry documents."""
    standard_tenant(lenient.services, apply=False)
    documented = set(
        lenient.http.app.openapi()["paths"]["/v1/tenants/{tenant}/applications"]["post"][  # type: ignore[attr-defined]
            "responses"
        ]
    )
    answers = {
        "what_if": admin.post("/applications", params={"what_if": "true"}).status_code,
        "wait": admin.post("/applications", params={"wait": "true"}).status_code,
        "plain": admin.post("/applications").status_code,
    }
    undocumented = {k: v for k, v in answers.items() if str(v) not in documented}
    assert undocumented == {}, f"documented {sorted(documented)}, answered {answers}"


def test_application_lookups_never_fail_with_500(admin: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services)
    problems = []
    for ident in ("99999999999999999999999", "²", "0", "-1", "1.5"):
        for method in ("GET", "DELETE"):
            answer = admin.request(method, f"/applications/{ident}")
            if answer.status_code not in (400, 404):
                problems.append(f"{method} /applications/{ident}: {answer.status_code}")
    assert problems == []


# -- audit ------------------------------------------------------------------------------------
def test_audit_filters_never_fail_with_500(admin: Api, lenient: AppClient) -> None:
    standard_tenant(lenient.services)
    everything = json_of(admin.get("/audit"), 200)
    assert everything
    aware = json_of(admin.get("/audit", params={"since": "2000-01-01T00:00:00Z"}), 200)
    assert aware == everything
    # A date-time without an offset (valid per the declared ``format: date-time``... or not):
    # whatever the answer, not a server error.
    naive = admin.get("/audit", params={"since": "2000-01-01T00:00:00"})
    assert naive.status_code in (200, 400, 422), f"{naive.status_code} {naive.text}"
    naive = admin.get("/audit", params={"until": "2999-01-01T00:00:00"})
    assert naive.status_code in (200, 400, 422), f"{naive.status_code} {naive.text}"


# -- users: PATCH --------------------------------------------------------------------------------
def test_patch_user_with_explicit_nulls(admin: Api, lenient: AppClient) -> None:
    """``null`` for a field means "no change" (or is refused): never a 500, never a change
    to ``False`` or to the text ``"None"``."""
    add_people(lenient.services, "abc", {"pat": "Ops"})
    who = upn("pat")
    before = json_of(admin.get(f"/users/{who}"), 200)
    problems = []
    for field in ("account_enabled", "display_name", "mail", "proxy_addresses", "user_type"):
        answer = admin.patch(f"/users/{who}", json={field: None})
        now = json_of(admin.get(f"/users/{who}"), 200)
        if answer.status_code >= 500 or now != before:
            changed = {k: (before[k], now[k]) for k in before if before[k] != now[k]}
            problems.append(f"{field}=null: {answer.status_code} {answer.text[:80]}; {changed}")
        if now != before:  # put it back for the next field
            lenient.services.directory.update_user(
                "abc",
                who,
                ACTOR,
                account_enabled=before["account_enabled"],
                display_name=before["display_name"],
                mail=before["mail"],
            )
    assert problems == []


def test_patch_user_attributes_are_segmentable_attributes_only(
    admin: Api, lenient: AppClient
) -> None:
    """``attributes`` takes segmentable attributes (like ``POST /users``), never user fields."""
    add_people(lenient.services, "abc", {"pat": "Ops"})
    who = upn("pat")
    before = json_of(admin.get(f"/users/{who}"), 200)
    problems = []
    for attributes in (
        {"account_enabled": "false"},
        {"hidden_from_address_lists": "x"},
        {"display_name": "Renamed"},
        {"user_type": "Guest"},
    ):
        created = admin.post("/users", json={"upn": "new@abc.example", "attributes": attributes})
        assert created.status_code == 400, created.text
        answer = admin.patch(f"/users/{who}", json={"attributes": attributes})
        now = json_of(admin.get(f"/users/{who}"), 200)
        if answer.status_code != 400 or now != before:
            changed = {k: (before[k], now[k]) for k in before if before[k] != now[k]}
            problems.append(f"attributes={attributes}: {answer.status_code}; changed {changed}")
            lenient.services.directory.update_user(
                "abc", who, ACTOR, display_name=before["display_name"], user_type="Member"
            )
    assert problems == []


def test_patch_user(admin: Api, lenient: AppClient) -> None:
    add_people(lenient.services, "abc", {"pat": "Ops"})
    who = upn("pat")
    patched = json_of(
        admin.patch(
            f"/users/{who}",
            json={
                "display_name": "Pat Q",
                "hidden_from_address_lists": True,
                "attributes": {"Department": "", "Company": "ACME", "office": "B2"},
                "proxy_addresses": ["smtp:pat@abc.example"],
            },
        ),
        200,
    )
    assert patched["display_name"] == "Pat Q"
    assert patched["hidden_from_address_lists"] is True
    assert patched["attributes"] == {"Company": "ACME", "PhysicalDeliveryOfficeName": "B2"}
    assert patched["proxy_addresses"] == ["smtp:pat@abc.example"]
    assert json_of(admin.get(f"/users/{who}"), 200) == patched


# -- search -------------------------------------------------------------------------------------
@pytest.fixture
def directory_for_search(lenient: AppClient) -> AppClient:
    """Sales and Research blocked; names chosen for prefixes and ordering."""
    services = lenient.services
    people = {
        "seeker": ("Seeker", "Sales"),
        "zadams": ("Zoe Adams", "Sales"),
        "asmith": ("adam smith", "Ops"),
        "bob": ("Bob Adamson", "Research"),
        "carl": ("Carl Young", ""),
        "dora": ("Dora Adair", "Research"),
        "ed": ("Ed Stone", "Sales"),
        "fay": ("Fay Hill", ""),
    }
    from infobarrier.core.directory import make_user

    users = [
        make_user(
            upn(name),
            display_name=display,
            mail=("adam.carl@mail.example" if name == "carl" else upn(name)),
            attrs={"Department": dept} if dept else None,
        )
        for name, (display, dept) in people.items()
    ]
    services.directory.put_users("abc", users, ACTOR)
    define_barrier(
        services,
        "abc",
        {s: f"Department -eq '{s}'" for s in ("Sales", "Research", "Ops")},
        [],
    )
    services.barriers.new_policy(
        "abc", "Sales-block", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply("abc", ACTOR)
    return lenient


def search(front: Api, q: str, who: str = "seeker", **params: Any) -> list[str]:
    found = json_of(front.get("/search", params={"q": q, "as": upn(who), **params}), 200)
    return [r["upn"].split("@")[0] for r in found["results"]]


def test_search_prefix_of_any_word_upn_or_mail_by_display_name(
    front: Api, directory_for_search: AppClient
) -> None:
    # "adam": Zoe Adams (word), adam smith (word), carl (mail); Bob Adamson and Dora Adair are
    # Research, blocked for a Sales seeker. Ordered by display name, case-insensitively.
    assert search(front, "adam") == ["asmith", "carl", "zadams"]
    assert search(front, "ADAM") == ["asmith", "carl", "zadams"]
    assert search(front, "smi") == ["asmith"]  # a later word of the display name
    assert search(front, "zad") == ["zadams"]  # the UPN
    assert search(front, "dam") == []  # a prefix, not a substring
    assert search(front, "seek") == []  # never the seeker
    # An unsegmented seeker sees everyone.
    assert search(front, "adam", "fay") == ["asmith", "bob", "carl", "zadams"]
    assert search(front, "ad", "fay") == ["asmith", "bob", "carl", "dora", "zadams"]


def test_search_leaves_blocked_users_out_before_the_limit(
    front: Api, admin: Api, directory_for_search: AppClient
) -> None:
    # A Research seeker: Sales (zadams) is blocked. Ordered: adam smith, Bob Adamson, Carl
    # (mail), Dora Adair, Zoe Adams; the limit counts the visible only.
    assert search(front, "ad", "bob") == ["asmith", "carl", "dora"]
    assert search(front, "ad", "bob", limit=2) == ["asmith", "carl"]
    assert search(front, "ad", "seeker", limit=1) == ["asmith"]
    # PeopleSearchRestriction Disabled: search is never restricted (§1).
    json_of(admin.patch("/settings", json={"people_search_restriction": False}), 200)
    assert search(front, "ad", "bob") == ["asmith", "carl", "dora", "zadams"]


def test_search_bad_input(front: Api, directory_for_search: AppClient) -> None:
    error(front.get("/search", params={"q": "a", "as": "ghost@abc.example"}), 404)
    error(front.get("/search", params={"q": "   ", "as": upn("seeker")}), 400)
    error(front.get("/search", params={"as": upn("seeker")}), 422, "invalid_request")
    error(front.get("/search", params={"q": "a", "as": upn("seeker"), "limit": 0}), 422)


# -- licensing ---------------------------------------------------------------------------------
def test_licensing_seats_and_guests(admin: Api, lenient: AppClient) -> None:
    add_people(lenient.services, "abc", {"a": "", "b": ""}, sku=None)
    add_people(lenient.services, "abc", {"guest": ""}, sku=None, user_type="Guest")
    skus = {s["part_number"]: s for s in json_of(admin.put("/skus/SPE_E5", json={"seats": 1}), 200)}
    assert (skus["SPE_E5"]["seats"], skus["SPE_E5"]["assigned"]) == (1, 0)
    assigned = json_of(admin.post(f"/users/{upn('a')}/licenses", json={"sku": "SPE_E5"}), 200)
    assert assigned["skus"] == ["SPE_E5"]
    assert {"TEAMS1", "INFORMATION_BARRIERS"} <= set(assigned["service_plans"])
    before = snapshot(admin)
    error(admin.post(f"/users/{upn('b')}/licenses", json={"sku": "SPE_E5"}), 409, "out_of_seats")
    error(admin.put("/skus/SPE_E5", json={"seats": 0}), 409, "seats_in_use")
    json_of(admin.post("/skus/MICROSOFT_REMOTE_ASSIST/purchase", json={"seats": 2}), 200)
    before = snapshot(admin)
    refused = admin.post(f"/users/{upn('guest')}/licenses", json={"sku": "MICROSOFT_REMOTE_ASSIST"})
    assert refused.status_code in (400, 403, 409), refused.text
    assert refused.json()["code"] == "guest_not_allowed"
    assert snapshot(admin) == before
    # A member may have it; removing a license frees its seat.
    json_of(admin.post(f"/users/{upn('b')}/licenses", json={"sku": "MICROSOFT_REMOTE_ASSIST"}), 200)
    freed = json_of(admin.delete(f"/users/{upn('a')}/licenses/SPE_E5"), 200)
    assert freed["skus"] == []
    json_of(admin.post(f"/users/{upn('b')}/licenses", json={"sku": "SPE_E5"}), 200)
    skus = {s["part_number"]: s for s in json_of(admin.get("/skus"), 200)}
    assert (skus["SPE_E5"]["seats"], skus["SPE_E5"]["assigned"]) == (1, 1)
    assert skus["MICROSOFT_REMOTE_ASSIST"]["assigned"] == 1
    more = {
        s["part_number"]: s
        for s in json_of(admin.post("/skus/SPE_E5/purchase", json={"seats": 4}), 200)
    }
    assert more["SPE_E5"]["seats"] == 5


# -- recipients -----------------------------------------------------------------------------------
def test_recipient_status(admin: Api, lenient: AppClient) -> None:
    services = lenient.services
    standard_tenant(services, apply=False)
    before = json_of(admin.get(f"/recipients/{upn('s1')}"), 200)
    assert before["segments"] == []
    assert before["epoch"] == 0
    services.applications.apply("abc", ACTOR)
    s1 = json_of(admin.get(f"/recipients/{upn('s1')}"), 200)
    assert s1["upn"] == upn("s1")
    assert s1["segments"] == ["Sales"]
    assert s1["policies"] == ["Sales-block"]
    assert s1["errors"] == []
    assert s1["account_enabled"] is True
    assert s1["kind"] == "person"
    assert any("INFORMATION_BARRIERS" in f for f in s1["findings"])  # E3 has no IB plan
    assert s1["epoch"] > 0
    license_users(services, "abc", [upn("r1")], "EQUIVIO_ANALYTICS")
    r1 = json_of(admin.get(f"/recipients/{upn('r1')}"), 200)
    assert (r1["segments"], r1["policies"], r1["findings"]) == (["Research"], [], [])
    n1 = json_of(admin.get(f"/recipients/{upn('n1')}"), 200)
    assert (n1["segments"], n1["policies"], n1["errors"], n1["findings"]) == ([], [], [], [])
    # A conflict and a disabled account are errors.
    json_of(admin.put(f"/groups/ResearchGuests/members/{upn('o1')}"), 200)
    json_of(admin.patch(f"/users/{upn('o1')}", json={"account_enabled": False}), 200)
    o1 = json_of(admin.get(f"/recipients/{upn('o1')}"), 200)
    assert sorted(o1["segments"]) == ["Ops", "Research"]
    assert len(o1["errors"]) == 2
    assert any("IBPolicyConflict" in e for e in o1["errors"])
    assert any("disabled" in e for e in o1["errors"])
    error(admin.get("/recipients/ghost@abc.example"), 404)


# -- the OpenAPI document ------------------------------------------------------------------------
#: Files the API reads or writes as they are: imports and exports (docs/interfaces.md).
FILE_TYPES = {"text/csv", "text/plain", "application/x-ndjson"}


def test_every_route_has_request_and_response_models(lenient: AppClient) -> None:
    document = lenient.http.app.openapi()  # type: ignore[attr-defined]
    schemas = document["components"]["schemas"]
    problems = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            label = f"{method.upper()} {path}"
            successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
            if not successes:
                problems.append(f"{label}: no 2xx response")
            for status, response in successes.items():
                if status == "204":
                    assert not response.get("content"), f"{label}: a 204 with a body"
                    continue
                content = response.get("content", {})
                if path == "/metrics" and any(t.startswith("text/plain") for t in content):
                    continue  # the Prometheus text format
                if content and all(t in FILE_TYPES for t in content):
                    continue  # a download (an export), each type with its schema
                schema = content.get("application/json", {}).get("schema")
                if not schema:
                    problems.append(f"{label}: {status} has no response schema")
            body = op.get("requestBody")
            # An import reads a file as it is (a CSV, a script): no JSON model.
            if body is not None and not set(body["content"]) <= FILE_TYPES:
                schema = body["content"]["application/json"]["schema"]
                ref = schema.get("$ref", "")
                if not ref.startswith("#/components/schemas/"):
                    problems.append(f"{label}: request body without a model: {schema}")
                    continue
                model = schemas[ref.rsplit("/", 1)[1]]
                # AuthZEN requires receivers to ignore unknown fields (docs/authzen.md).
                authzen = path.startswith("/access/v1/")
                if model.get("additionalProperties") is not authzen:
                    problems.append(f"{label}: request model's unknown fields are wrong")
            if path.startswith("/v1/tenants/{tenant}/"):
                for code in ("401", "403", "404", "422"):
                    if code not in op["responses"]:
                        problems.append(f"{label}: {code} not documented")
    assert problems == []
    # Every write takes a body, except those whose path says it all.
    bodiless = sorted(
        f"{m.upper()} {p}"
        for p, ops in document["paths"].items()
        for m, op in ops.items()
        if m in ("post", "put", "patch") and "requestBody" not in op
    )
    assert bodiless == [
        "POST /v1/tenants/{tenant}/applications",
        "POST /v1/tenants/{tenant}/calls/{call_id}/end",
        "POST /v1/tenants/{tenant}/exceptions/{exception_id}/approve",
        "PUT /v1/tenants/{tenant}/groups/{group}/members/{upn}",
    ]
