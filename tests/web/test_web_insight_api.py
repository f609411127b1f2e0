"""The JSON routes the web page reads (``routes/insight.py``), in-process over the demo tenant.

Overview, matrix, the draft what-if (validates like the API, saves nothing), the user
picker and explain; the browser tests drive the same routes through the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infobarrier.demo import abc
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services


@dataclass
class Api:
    """The app over the demo tenant, with a client per role."""

    services: Services
    http: TestClient
    tokens: dict[str, str]

    def get(self, path: str, role: str = "admin", **params: Any) -> Any:
        return self.http.get(f"/v1/tenants/abc{path}", params=params, headers=self._auth(role))

    def post(self, path: str, body: Any, role: str = "admin", **params: Any) -> Any:
        return self.http.post(
            f"/v1/tenants/abc{path}", json=body, params=params, headers=self._auth(role)
        )

    def _auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    abc.load(services, "test")
    tokens = {r.value: services.tokens.create("abc", r, "test")[1] for r in Role}
    with TestClient(create_app(services)) as http:
        yield Api(services, http, tokens)


def draft_of(api: Api) -> list[dict[str, Any]]:
    """The current policies in PolicyCreate shape (what the page starts a draft from)."""
    keep = (
        "name",
        "assigned_segment",
        "segments_allowed",
        "segments_blocked",
        "state",
        "moderation_allowed",
        "comment",
    )
    return [{k: p[k] for k in keep} for p in api.get("/policies").json()]


def test_overview_of_the_demo(api: Api) -> None:
    body = api.get("/overview").json()
    assert body["role"] == "admin"
    assert body["mode"] == "SingleSegment"
    assert body["users"] == {"total": 16, "enabled": 16, "guests": 0, "service_accounts": 6}
    assert (body["segmented"], body["unsegmented"]) == (16, 0)
    assert body["conflicts"] == []
    assert body["epoch"] >= 1
    assert body["pending_changes"] is False
    assert body["findings"] == []
    assert body["last_application"]["status"] == "Completed"
    assert next(s["name"] for s in body["applied"]["segments"]) == "ABC_Staff"
    assert api.get("/overview", role="auditor").json()["role"] == "auditor"
    assert api.get("/overview", role="enforcer").status_code == 403


def test_overview_findings_conflicts_and_pending_changes(api: Api) -> None:
    # A service account without Remote Assist, a segmented user without any license, a
    # user in two segments, and a definition not yet applied.
    services = api.services
    account = services.directory.directory("abc").by_upn("v1-ra1@abc.example")
    services.directory.unassign("abc", account.upn, "MICROSOFT_REMOTE_ASSIST", "test")
    assert api.post("/users", {"upn": "nolicense@abc.example"}).status_code == 201
    services.directory.add_member("abc", "ABC_Staff", "nolicense@abc.example", "test")
    services.directory.add_member("abc", "V2_SupportEngineer", "alex@abc.example", "test")
    body = api.get("/overview").json()
    findings = {(f["upn"], f["plan"]) for f in body["findings"]}
    assert ("v1-ra1@abc.example", "MICROSOFT_REMOTE_ASSIST") in findings
    assert ("nolicense@abc.example", "INFORMATION_BARRIERS") in findings
    assert ("nolicense@abc.example", "EXCHANGE_S_ENTERPRISE") in findings
    assert body["conflicts"] == [
        {"upn": "alex@abc.example", "segments": ["ABC_Staff", "V2_SupportEngineer"]}
    ]
    assert body["pending_changes"] is False
    new = {"name": "Later", "filter": "Department -eq 'Nobody'"}
    assert api.post("/segments", new).status_code == 201
    assert api.get("/overview").json()["pending_changes"] is True


def test_matrix_rows_cells_and_counts(api: Api) -> None:
    body = api.get("/matrix", role="auditor").json()
    names = [r["name"] for r in body["rows"]]
    assert names == [*(s.name for s in abc.build_config().segments), "(none)"]
    by_name = {r["name"]: r for r in body["rows"]}
    assert by_name["ABC_Staff"]["users"] == 4
    assert by_name["ABC_Staff"]["policy"] == "ABC_Staff-allow"
    assert by_name["(none)"] == {**by_name["(none)"], "users": 0, "policy": None}
    k = names.index("V2_SupportEngineer")
    cell = by_name["V1_RemoteAssistUser"]["cells"][k]
    assert cell == {
        "allowed": False,
        "code": "blocked_by_policy",
        "reason": "policy 'V1_RemoteAssistUser-allow' of segment 'V1_RemoteAssistUser': "
        "its allow list does not include 'V2_SupportEngineer'",
        "policy": "V1_RemoteAssistUser-allow",
    }
    # Square and symmetric.
    for i, row in enumerate(body["rows"]):
        assert len(row["cells"]) == len(names)
        for j, c in enumerate(row["cells"]):
            assert c["allowed"] == body["rows"][j]["cells"][i]["allowed"]


def test_matrix_grid_is_the_matrix_without_its_reasons(api: Api) -> None:
    # Two users in two segments too, so profiles beyond the single segments exist.
    services = api.services
    services.directory.add_member("abc", "V2_SupportEngineer", "alex@abc.example", "test")
    services.applications.apply("abc", "test")
    full = api.get("/matrix", role="auditor").json()
    grid = api.get("/matrix/grid", role="auditor").json()
    assert grid["epoch"] == full["epoch"]
    assert grid["names"] == [r["name"] for r in full["rows"]]
    assert grid["users"] == [r["users"] for r in full["rows"]]
    assert grid["policies"] == [r["policy"] for r in full["rows"]]
    assert grid["allowed"] == [
        "".join("1" if c["allowed"] else "0" for c in r["cells"]) for r in full["rows"]
    ]
    k = grid["names"].index("V2_SupportEngineer")
    cell = api.get("/matrix/cell", a="V1_RemoteAssistUser", b="v2_supportengineer").json()
    assert cell == {
        **full["rows"][grid["names"].index("V1_RemoteAssistUser")]["cells"][k],
        "a": "V1_RemoteAssistUser",
        "b": "V2_SupportEngineer",
        "users_a": grid["users"][grid["names"].index("V1_RemoteAssistUser")],
        "users_b": grid["users"][k],
    }
    assert api.get("/matrix/cell", a="(none)", b="ABC_Staff").status_code == 200
    assert api.get("/matrix/cell", a="Nobody", b="ABC_Staff").status_code == 404
    assert api.get("/matrix/grid", role="enforcer").status_code == 403


def test_a_draft_preview_lists_the_first_findings_and_counts_them_all(api: Api) -> None:
    for k in range(5):
        assert api.post("/users", {"upn": f"n{k}@abc.example"}).status_code == 201
        api.services.directory.add_member("abc", "ABC_Staff", f"n{k}@abc.example", "test")
    whole = api.post("/what-if", {"policies": draft_of(api)}).json()
    assert whole["totals"]["findings"] == len(whole["findings"]) == 5  # one line per user
    assert whole["totals"]["conflicts"] == len(whole["conflicts"]) == 0
    api.services.applications.list_limit = 3
    body = api.post("/what-if", {"policies": draft_of(api)}).json()
    assert body["findings"] == whole["findings"][:3]
    assert body["totals"]["findings"] == 5
    assert body["totals"]["users_changed"] == whole["totals"]["users_changed"]


def test_overview_counts_every_finding_and_lists_a_page(api: Api) -> None:
    for k in range(5):
        assert api.post("/users", {"upn": f"n{k}@abc.example"}).status_code == 201
        api.services.directory.add_member("abc", "ABC_Staff", f"n{k}@abc.example", "test")
    body = api.get("/overview", limit=3).json()
    assert body["findings_total"] == 10  # two plans each
    assert len(body["findings"]) == 3
    assert body["conflicts_total"] == len(body["conflicts"]) == 0
    whole = api.get("/findings", limit=1000).json()
    assert whole["total"] == len(whole["findings"]) == 10
    assert whole["findings"][:3] == body["findings"]
    page = api.get("/findings", offset=8, limit=5).json()
    assert page == {"total": 10, "offset": 8, "findings": whole["findings"][8:]}


def test_draft_what_if_previews_without_saving(api: Api) -> None:
    before = api.get("/policies").json()
    unchanged = api.post("/what-if", {"policies": draft_of(api)}).json()
    assert unchanged["pairs_blocked"] == unchanged["pairs_allowed"] == []
    assert unchanged["users_changed"] == []
    assert unchanged["reconciliation"] == []

    # Staff start a chat with V1's engineer; a draft that drops staff's allow list for a
    # block list of V1's engineers would make it read-only.
    chat = {"from": "alex@abc.example", "to": ["se1a@abc.example"]}
    assert api.post("/chats", chat).status_code == 201
    draft = [p for p in draft_of(api) if p["name"] != "ABC_Staff-allow"]
    draft.append(
        {
            "name": "ABC_Staff-block",
            "assigned_segment": "ABC_Staff",
            "segments_blocked": ["V1_SupportEngineer"],
            "state": "Active",
        }
    )
    body = api.post("/what-if", {"policies": draft}).json()
    blocked = {(p["a"], p["b"]) for p in body["pairs_blocked"]}
    assert ("ABC_Staff", "V1_SupportEngineer") in blocked
    assert body["total_recipients"] == 16
    [action] = body["reconciliation"]
    assert action["kind"] == "chat_read_only"
    assert action["object_label"] == "1:1 chat (alex@abc.example, se1a@abc.example)"
    assert "alex@abc.example and se1a@abc.example are no longer compatible" in action["reason"]
    # Inactive policies in the draft count for nothing, as when applied.
    inactive = [{**p, "state": "Inactive"} if p["name"] == "ABC_Staff-block" else p for p in draft]
    assert api.post("/what-if", {"policies": inactive}).json()["reconciliation"] == []
    # Nothing was saved, nothing applied.
    assert api.get("/policies").json() == before
    assert len(api.get("/applications").json()) == 1
    # Auditors may read, not preview.
    assert api.post("/what-if", {"policies": draft}, role="auditor").status_code == 403


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda d: [*d, {**d[0]}], "policy.name_unique"),
        (lambda d: [*d, {**d[0], "name": "Second"}], "policy.one_per_segment"),
        (
            lambda d: [{**d[0], "segments_allowed": ["NoSuchSegment"]}, *d[1:]],
            "policy.listed_segment_exists",
        ),
        (lambda d: [{**d[0], "segments_allowed": []}, *d[1:]], "policy.list_nonempty"),
        (
            lambda d: [{**d[0], "segments_blocked": ["ABC_Staff"]}, *d[1:]],
            "policy.one_list",
        ),
    ],
)
def test_draft_what_if_names_the_broken_rule(api: Api, change: Any, rule: str) -> None:
    response = api.post("/what-if", {"policies": change(draft_of(api))})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "rule_violation"
    assert body["rule"] == rule
    assert body["message"].endswith(f"[rule {rule}]")


def test_draft_warns_about_an_allow_list_without_its_own_segment(api: Api) -> None:
    draft = [
        {**p, "segments_allowed": ["V1_SupportEngineer"]}
        if p["name"] == "V1_RemoteAssistUser-allow"
        else p
        for p in draft_of(api)
    ]
    body = api.post("/what-if", {"policies": draft}).json()
    assert any("omits its own segment 'V1_RemoteAssistUser'" in w for w in body["warnings"])
    blocked = {(p["a"], p["b"]) for p in body["pairs_blocked"]}
    assert ("V1_RemoteAssistUser", "V1_RemoteAssistUser") in blocked


def test_user_lookup(api: Api) -> None:
    found = api.get("/user-lookup", q="support engineer 1", role="auditor").json()["results"]
    assert [u["upn"] for u in found] == ["se1a@abc.example", "se1b@abc.example"]
    found = api.get("/user-lookup", q="V2-", limit=1).json()["results"]
    assert [u["upn"] for u in found] == ["v2-ra1@abc.example"]
    assert found[0]["kind"] == "service_account"
    assert api.get("/user-lookup", q="nobody-at-all").json() == {"results": []}
    assert api.get("/user-lookup", q=" ").status_code == 400
    assert api.get("/user-lookup", q="se", role="enforcer").status_code == 403


def test_explain(api: Api) -> None:
    body = api.get(
        "/explain", action="Search", **{"from": "v1-ra1@abc.example", "to": "se2a@abc.example"}
    ).json()
    assert body["action"] == "search"
    assert body["verdict"]["allowed"] is False
    assert body["verdict"]["policy"] == "V1_RemoteAssistUser-allow"
    assert body["policy"] == {
        "name": "V1_RemoteAssistUser-allow",
        "assigned_segment": "V1_RemoteAssistUser",
        "kind": "allow",
        "segments": ["V1_RemoteAssistUser", "V1_SupportEngineer"],
    }
    assert [u["upn"] for u in body["users"]] == ["v1-ra1@abc.example", "se2a@abc.example"]
    assert body["users"][0]["segments"] == ["V1_RemoteAssistUser"]
    assert body["relationship"] == body["verdict"]

    allowed = api.get(
        "/explain", action="chat", **{"from": "alex@abc.example", "to": "se1a@abc.example"}
    ).json()
    assert allowed["verdict"]["allowed"] is True

    def error(**params: str) -> Any:
        response = api.get("/explain", **params)
        assert response.status_code in (400, 404), response.text
        return response.json()

    assert error(action="chat", **{"from": "alex@abc.example", "to": "nobody@abc.example"})[
        "code"
    ] == ("unknown_user")
    assert (
        "unknown action"
        in error(action="wave", **{"from": "alex@abc.example", "to": "se1a@abc.example"})["message"]
    )
    assert (
        "also in 'to'"
        in error(action="chat", **{"from": "alex@abc.example", "to": "alex@abc.example"})["message"]
    )


def test_applications_brief_leaves_the_per_user_lists_out(api: Api) -> None:
    assert api.post("/users", {"upn": "nolicense@abc.example"}).status_code == 201
    api.services.directory.add_member("abc", "ABC_Staff", "nolicense@abc.example", "test")
    api.services.applications.apply("abc", "test")
    full = api.get("/applications").json()
    brief = api.get("/applications", brief="true").json()
    assert [a["id"] for a in brief] == [a["id"] for a in full]
    newest, short = full[0]["report"], brief[0]["report"]
    assert len(newest["findings"]) == short["findings_count"] == 1
    assert short["conflicts_count"] == len(newest["conflicts"])
    assert "findings" not in short
    assert "conflicts" not in short
    assert {k: v for k, v in newest.items() if k not in ("findings", "conflicts")} == {
        k: v for k, v in short.items() if not k.endswith("_count")
    }
