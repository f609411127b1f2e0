"""The API the admin page's directory, licensing, tokens and audit views use: paged
search, bulk licenses (all or none), imports and exports that read back, tokens kept to
their tenant, and the audit by page with names, before/after values and exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from infobarrier.formats.entra_csv import parse_users_csv, render_users_csv
from live_server import AppClient

USERS_CSV = "userPrincipalName,displayName,department,companyName\n" + "".join(
    f"user{i:03d}@abc.example,User {i:03d},{'Sales' if i % 2 else 'Research'},ABC\n"
    for i in range(120)
)


SCRIPT = "New-OrganizationSegment -Name 'Sales' -UserGroupFilter \"Department -eq 'Sales'\"\n"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _import(client: AppClient) -> dict[str, str]:
    admin = client.headers("abc", "admin")
    result = _ok(
        client.http.post(
            "/v1/tenants/abc/directory/users.csv",
            content=USERS_CSV,
            headers={**admin, "Content-Type": "text/csv"},
        )
    )
    assert result["rows"] == 120
    assert result["created"] == 120
    return admin


def test_user_pages_search_and_kinds(app_client: AppClient) -> None:
    admin = _import(app_client)
    url = "/v1/tenants/abc/directory/users"
    first = _ok(app_client.http.get(url, params={"limit": 50}, headers=admin))
    assert first["total"] == 120
    assert len(first["items"]) == 50
    assert first["items"][0]["upn"] == "user000@abc.example"
    last = _ok(app_client.http.get(url, params={"offset": 100, "limit": 50}, headers=admin))
    assert [u["upn"] for u in last["items"]][-1] == "user119@abc.example"
    assert len(last["items"]) == 20
    found = _ok(app_client.http.get(url, params={"q": "USER 11"}, headers=admin))
    assert found["total"] == 10  # display names "User 110" .. "User 119"
    # LIKE's wildcards are literals in a search.
    assert _ok(app_client.http.get(url, params={"q": "user_0"}, headers=admin))["total"] == 0
    _ok(
        app_client.http.post(
            "/v1/tenants/abc/service-accounts",
            json={
                "upn": "v4-ra1@abc.example",
                "vendor": "Vendor4",
                "sponsor": "user001@abc.example",
            },
            headers=admin,
        ),
        201,
    )
    accounts = _ok(app_client.http.get(url, params={"kind": "service_account"}, headers=admin))
    assert [(u["upn"], u["sponsor"], u["attributes"]["Company"]) for u in accounts["items"]] == [
        ("v4-ra1@abc.example", "user001@abc.example", "Vendor4")
    ]
    assert app_client.http.get(url, params={"limit": 501}, headers=admin).status_code == 422


def test_bulk_licenses_all_or_none(app_client: AppClient) -> None:
    admin = _import(app_client)
    skus = _ok(app_client.http.get("/v1/tenants/abc/skus", headers=admin))
    part = skus[0]["part_number"]
    _ok(app_client.http.put(f"/v1/tenants/abc/skus/{part}", json={"seats": 2}, headers=admin))
    upns = ["user000@abc.example", "user001@abc.example", "user002@abc.example"]
    refused = app_client.http.post(
        f"/v1/tenants/abc/skus/{part}/assignments", json={"upns": upns}, headers=admin
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "out_of_seats"
    held = _ok(
        app_client.http.get("/v1/tenants/abc/users/user000@abc.example/licenses", headers=admin)
    )
    assert held["skus"] == []  # nothing of a refused change stays
    done = _ok(
        app_client.http.post(
            f"/v1/tenants/abc/skus/{part}/assignments", json={"upns": upns[:2]}, headers=admin
        )
    )
    assert (done["named"], done["changed"]) == (2, 2)
    assert next(s for s in done["skus"] if s["part_number"] == part)["assigned"] == 2
    removed = _ok(
        app_client.http.post(
            f"/v1/tenants/abc/skus/{part}/assignments",
            json={"upns": upns, "remove": True},
            headers=admin,
        )
    )
    assert (removed["named"], removed["changed"]) == (3, 2)
    unknown = app_client.http.post(
        f"/v1/tenants/abc/skus/{part}/assignments", json={"upns": ["x@abc.example"]}, headers=admin
    )
    assert unknown.status_code == 404


def test_exports_read_back(app_client: AppClient) -> None:
    admin = _import(app_client)
    response = app_client.http.get("/v1/tenants/abc/directory/users.csv", headers=admin)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = parse_users_csv(response.content)
    assert len(rows) == 120
    assert rows[1].fields["Department"] == "Sales"
    assert rows[1].fields["display_name"] == "User 001"
    # The rendering is what the parser reads back, whatever the field.
    directory = app_client.services.directory.directory("abc")
    again = parse_users_csv("".join(render_users_csv(directory.users())))
    assert [r.upn for r in again] == [r.upn for r in rows]
    script = app_client.http.get(
        "/v1/tenants/abc/powershell", params={"definitions": "true"}, headers=admin
    )
    assert script.status_code == 200
    imported = _ok(
        app_client.http.post(
            "/v1/tenants/abc/powershell",
            content=SCRIPT,
            headers={**admin, "Content-Type": "text/plain"},
        )
    )
    assert imported["commands"] == 1
    bad = app_client.http.post(
        "/v1/tenants/abc/directory/users.csv",
        content="userPrincipalName\nnot-an-upn\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert bad.status_code == 400
    assert "line 2" in bad.json()["message"]


def test_tokens_stay_in_their_tenant(app_client: AppClient) -> None:
    admin = app_client.headers("abc", "admin")
    created = _ok(
        app_client.http.post(
            "/v1/tenants/abc/tokens",
            json={"person": "Dana Reader", "role": "auditor", "expires_at": "2999-01-01T00:00:00Z"},
            headers=admin,
        ),
        201,
    )
    reader = {"Authorization": f"Bearer {created['token']}"}
    assert app_client.http.get("/v1/tenants/abc/settings", headers=reader).status_code == 200
    listed = _ok(app_client.http.get("/v1/tenants/abc/tokens", headers=admin))
    assert listed[0]["person"] == "Dana Reader"
    assert "token" not in listed[0]
    # Another tenant's admin cannot see or revoke it.
    other = app_client.headers("other", "admin")
    assert (
        app_client.http.delete(
            f"/v1/tenants/other/tokens/{created['id']}", headers=other
        ).status_code
        == 404
    )
    assert (
        app_client.http.post(
            "/v1/tenants/abc/tokens", json={"person": "x", "role": "admin"}, headers=reader
        ).status_code
        == 403
    )
    revoked = _ok(app_client.http.delete(f"/v1/tenants/abc/tokens/{created['id']}", headers=admin))
    assert revoked["revoked_at"] is not None
    assert app_client.http.get("/v1/tenants/abc/settings", headers=reader).status_code == 401
    past = app_client.http.post(
        "/v1/tenants/abc/tokens",
        json={"person": "Late", "role": "auditor", "expires_at": "2000-01-01T00:00:00Z"},
        headers=admin,
    )
    assert past.status_code == 400


def test_audit_pages_names_diffs_and_exports(app_client: AppClient) -> None:
    admin = app_client.headers("abc", "admin")
    created = _ok(
        app_client.http.post(
            "/v1/tenants/abc/tokens", json={"person": "Erin Admin", "role": "admin"}, headers=admin
        ),
        201,
    )
    erin = {"Authorization": f"Bearer {created['token']}"}
    _ok(
        app_client.http.post(
            "/v1/tenants/abc/users",
            json={"upn": "pat@abc.example", "attributes": {"Department": "Sales"}},
            headers=erin,
        ),
        201,
    )
    _ok(
        app_client.http.patch(
            "/v1/tenants/abc/users/pat@abc.example",
            json={"attributes": {"Department": "Research"}},
            headers=erin,
        )
    )
    page = _ok(
        app_client.http.get(
            "/v1/tenants/abc/audit/page",
            params={"kind": ["directory.user_updated", "directory.user_created"]},
            headers=admin,
        )
    )
    assert page["total"] == 2
    newest = page["items"][0]
    assert newest["kind"] == "directory.user_updated"
    assert newest["actor_name"] == "Erin Admin"
    assert newest["detail"]["before"] == {"Department": "Sales"}
    assert newest["detail"]["changes"] == {"Department": "Research"}
    by_name = _ok(
        app_client.http.get(
            "/v1/tenants/abc/audit/page", params={"actor": "erin admin"}, headers=admin
        )
    )
    assert {e["kind"] for e in by_name["items"]} == {
        "directory.user_created",
        "directory.user_updated",
    }
    kinds = _ok(app_client.http.get("/v1/tenants/abc/audit/kinds", headers=admin))
    assert "token.created" in kinds
    assert kinds == sorted(kinds)

    params = {"kind": "directory.user_updated"}
    text = app_client.http.get(
        "/v1/tenants/abc/audit/export", params={**params, "format": "csv"}, headers=admin
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["kind"], r["actor_name"]) for r in rows] == [
        ("directory.user_updated", "Erin Admin")
    ]
    assert json.loads(rows[0]["detail"])["before"] == {"Department": "Sales"}
    lines = app_client.http.get(
        "/v1/tenants/abc/audit/export", params={"format": "jsonl"}, headers=admin
    ).text.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)  # oldest first
    assert (
        len(entries)
        == _ok(app_client.http.get("/v1/tenants/abc/audit/page", headers=admin))["total"]
    )


def test_a_users_csv_over_the_default_body_cap_imports_from_the_page(
    app_client: AppClient,
) -> None:
    """Files uploaded from the page have their own cap (``body_limit_imports``): a 2 MiB
    users CSV, twice the cap of other routes, imports in full."""
    admin = app_client.headers("abc", "admin")
    padding = "x" * 180
    body = "userPrincipalName,displayName\n" + "".join(
        f"big{i:05d}@abc.example,Big {i:05d} {padding}\n" for i in range(11_000)
    )
    assert len(body.encode()) > 2 * 1024 * 1024
    result = _ok(
        app_client.http.post(
            "/v1/tenants/abc/directory/users.csv",
            content=body,
            headers={**admin, "Content-Type": "text/csv"},
        )
    )
    assert result["created"] == 11_000
