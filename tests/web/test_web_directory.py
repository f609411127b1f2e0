"""The admin's directory, licensing, settings, tokens and audit in a real browser against
``serve --demo``: each task end to end, checked through the API afterwards."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from web_support import (
    WebServer,
    chromium_context,
    goto,
    new_tab,
    ok,
    screenshot,
    serve_demo,
    sign_in,
)

web_server = pytest.fixture(scope="module")(serve_demo)
browser_context = pytest.fixture(scope="module")(chromium_context)


@pytest.fixture
def page(browser_context: Any, web_server: WebServer) -> Iterator[Any]:
    yield from new_tab(browser_context)


def field_error(page: Any, form: str, label: str) -> Any:
    """The error line of the field labelled ``label`` in ``form``."""
    box = page.locator(form).get_by_label(label, exact=True)
    return page.locator(f"#{box.get_attribute('aria-describedby')}")


def test_service_account_with_sponsor(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "directory")
    expect(page.locator("#users-table tbody tr")).to_have_count(16)
    page.get_by_role("button", name="New service account").click()
    form = "#user-form"
    page.locator(form).get_by_label("UserPrincipalName").fill("v4 ra1")
    page.locator(form).get_by_role("button", name="Create").click()
    # The API's rule, checked before sending, next to its field.
    expect(field_error(page, form, "UserPrincipalName")).to_contain_text("expected name@domain")
    expect(field_error(page, form, "Vendor company")).to_contain_text("required")
    page.locator(form).get_by_label("UserPrincipalName").fill("v4-ra1@abc.example")
    page.locator(form).get_by_label("Display name").fill("Vendor4 Remote Assist 1")
    page.locator(form).get_by_label("Vendor company").fill("Vendor4")
    page.locator(form).get_by_label("Sponsor (an internal user's UPN)").fill("nobody@abc.example")
    page.locator(form).get_by_label("Attributes (one Name=Value a line)").fill(
        "Department=Field Service"
    )
    page.locator(form).get_by_role("button", name="Create").click()
    # The API's refusal, next to the field it concerns.
    expect(field_error(page, form, "Sponsor (an internal user's UPN)")).to_contain_text(
        "nobody@abc.example"
    )
    expect(field_error(page, form, "UserPrincipalName")).to_be_empty()
    page.locator(form).get_by_label("Sponsor (an internal user's UPN)").fill("se1a@abc.example")
    page.locator(form).get_by_role("button", name="Create").click()
    expect(page.locator("#flash")).to_contain_text("Created v4-ra1@abc.example")
    with web_server.api() as api:
        created = ok(api.get("/users/v4-ra1@abc.example"))
    assert created["kind"] == "service_account"
    assert created["sponsor"] == "se1a@abc.example"
    assert created["attributes"]["Company"] == "Vendor4"
    assert created["attributes"]["Department"] == "Field Service"

    # Search (server-side), then edit an attribute and disable.
    page.get_by_label("Search", exact=True).fill("vendor4")
    row = page.locator("#users-table tbody tr[data-upn='v4-ra1@abc.example']")
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    expect(row).to_contain_text("sponsor se1a@abc.example")
    row.get_by_role("button", name="Edit v4-ra1@abc.example").click()
    page.locator(form).get_by_label("Attributes (one Name=Value a line)").fill(
        "Company=Vendor4\nDepartment=Remote Support"
    )
    page.locator(form).get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_contain_text("Saved v4-ra1@abc.example")
    row.get_by_role("button", name="Disable v4-ra1@abc.example").click()
    expect(row).to_contain_text("disabled")
    with web_server.api() as api:
        changed = ok(api.get("/users/v4-ra1@abc.example"))
    assert changed["attributes"]["Department"] == "Remote Support"
    assert changed["account_enabled"] is False
    screenshot(page, "directory")

    # A group and its members.
    page.get_by_role("button", name="New group").click()
    page.locator("#group-form").get_by_label("Group name").fill("V4_RemoteAssistUser")
    page.locator("#group-form").get_by_role("button", name="Create").click()
    expect(page.locator("#flash")).to_contain_text("Created group V4_RemoteAssistUser")
    page.get_by_label("Search groups").fill("V4_")
    page.get_by_role("button", name="Members of V4_RemoteAssistUser").click()
    page.get_by_label("Add a member (UPN)").fill("v4-ra1@abc.example")
    page.locator("#group-members").get_by_role("button", name="Add").click()
    expect(page.locator("#members-table tbody tr")).to_have_count(1)
    expect(page.locator("#groups-table tbody tr").first).to_contain_text("1")

    # Delete, after confirming.
    row.get_by_role("button", name="Delete v4-ra1@abc.example").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#flash")).to_contain_text("Deleted v4-ra1@abc.example")
    with web_server.api() as api:
        assert api.get("/users/v4-ra1@abc.example").status_code == 404


def test_buy_seats_and_assign_in_bulk(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "licensing")
    upns = ["alex@abc.example", "blair@abc.example", "casey@abc.example"]
    seats = page.locator("#seats-form")
    seats.get_by_label("SKU").select_option("ENTERPRISEPACK")
    seats.get_by_label("Seats").fill("2")
    seats.get_by_role("button", name="Save seats").click()
    row = page.locator("#skus-table tr[data-sku='ENTERPRISEPACK']")
    expect(row.locator(".seats")).to_have_text("2")

    bulk = page.locator("#bulk-form")
    bulk.get_by_label("SKU").select_option("ENTERPRISEPACK")
    bulk.get_by_label("Users (UPNs, one a line)").fill("\n".join(upns))
    bulk.get_by_role("button", name="Apply").click()
    # Out of seats: refused as a whole, the error beside the users it concerns.
    expect(field_error(page, "#bulk-form", "Users (UPNs, one a line)")).to_contain_text(
        "3 users need a seat, 2 left"
    )
    seats.get_by_label("SKU").select_option("ENTERPRISEPACK")
    seats.get_by_label("Seats").fill("1")
    seats.get_by_role("button", name="Save seats").click()
    expect(row.locator(".seats")).to_have_text("3")
    bulk.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result")).to_contain_text("assigned to 3 users")
    with web_server.api() as api:
        for upn in upns:
            assert "ENTERPRISEPACK" in ok(api.get(f"/users/{upn}/licenses"))["skus"]

    # One by one: show a user's licenses, remove one.
    one = page.locator("#one-form")
    one.get_by_label("User (UPN)").fill("casey@abc.example")
    one.get_by_role("button", name="Show").click()
    page.get_by_role("button", name="Remove ENTERPRISEPACK from casey@abc.example").click()
    expect(page.locator("#held-table tr[data-held='ENTERPRISEPACK']")).to_have_count(0)
    with web_server.api() as api:
        assert "ENTERPRISEPACK" not in ok(api.get("/users/casey@abc.example/licenses"))["skus"]
    screenshot(page, "licensing")


def test_licensing_finding_links_to_its_fix(page: Any, web_server: WebServer) -> None:
    with web_server.api() as api:
        ok(api.delete("/users/se2b@abc.example/licenses/SPE_E5"))
    sign_in(page, web_server)
    # The overview's finding links to the fix: the Licensing page with the user filled in.
    page.get_by_role(
        "link", name="Assign se2b@abc.example a license with INFORMATION_BARRIERS"
    ).click()
    page.wait_for_url("**/web/licensing?*")
    expect(page.locator("#one-form").get_by_label("User (UPN)")).to_have_value("se2b@abc.example")
    expect(page.locator("#one-form").get_by_label("SKU to assign")).to_have_value("SPE_E5")
    goto(page, web_server, "licensing")
    finding = page.locator("#findings-table tr[data-finding='se2b@abc.example']").first
    fix = finding.get_by_role("button", name="Fix: assign")
    expect(fix).to_be_visible()
    fix.click()
    one = page.locator("#one-form")
    expect(one.get_by_label("User (UPN)")).to_have_value("se2b@abc.example")
    one.get_by_role("button", name="Assign").click()
    expect(page.locator("#flash")).to_contain_text("to se2b@abc.example")
    expect(page.locator("#findings-table tr[data-finding='se2b@abc.example']")).to_have_count(0)


def test_settings_and_tokens(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "settings")
    save = page.get_by_role("button", name="Save settings")
    expect(save).to_be_disabled()
    box = page.get_by_label("Restrict people search to reachable users")
    was = box.is_checked()
    box.set_checked(not was)
    expect(save).to_be_enabled()
    save.click()
    expect(page.locator("#flash")).to_contain_text("Settings saved")
    with web_server.api() as api:
        assert ok(api.get("/settings"))["people_search_restriction"] is (not was)

    form = page.locator("#token-form")
    form.get_by_role("button", name="Create token").click()
    expect(field_error(page, "#token-form", "Issued to (a person's name)")).to_contain_text(
        "required"
    )
    form.get_by_label("Issued to (a person's name)").fill("Dana Reader")
    form.get_by_label("Role").select_option("auditor")
    form.get_by_label("Expires (your time zone; empty: never)").fill("2999-01-01T09:30")
    form.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-value").input_value()
    assert secret.startswith("ib_")
    headers = {"Authorization": f"Bearer {secret}"}
    settings_url = f"{web_server.base}/v1/tenants/abc/settings"
    assert httpx.get(settings_url, headers=headers).status_code == 200
    row = page.locator("#tokens-table tr[data-person='Dana Reader']")
    expect(row).to_contain_text("auditor")
    expect(row).to_contain_text("2999-01-01 09:30")
    row.get_by_role("button", name="Revoke the token of Dana Reader").click()
    page.locator("#confirm-ok").click()
    expect(row).to_contain_text("revoked")
    assert httpx.get(settings_url, headers=headers).status_code == 401
    screenshot(page, "settings")


def test_audit_names_diffs_and_exports(page: Any, web_server: WebServer, tmp_path: Path) -> None:
    with web_server.api() as api:
        erin = ok(api.post("/tokens", json={"person": "Erin Admin", "role": "admin"}), 201)
    web_server.tokens["erin"] = erin["token"]
    with httpx.Client(
        base_url=f"{web_server.base}/v1/tenants/abc",
        headers={"Authorization": f"Bearer {erin['token']}"},
    ) as as_erin:
        ok(as_erin.patch("/users/drew@abc.example", json={"attributes": {"Department": "Audit"}}))
    sign_in(page, web_server, "erin")
    goto(page, web_server, "audit")
    page.get_by_label("Kinds").select_option(["directory.user_updated"])
    page.get_by_role("button", name="Filter").click()
    row = page.locator("#audit-table tbody tr[data-kind='directory.user_updated']").first
    expect(row).to_contain_text("Erin Admin")
    diff = row.locator("table.diff tr[data-field='Department']")
    expect(diff.locator(".diff-before")).to_have_text("Operations")
    expect(diff.locator(".diff-after")).to_have_text("Audit")

    files = {}
    for fmt, name in (("csv", "Export CSV"), ("jsonl", "Export JSON lines")):
        with page.expect_download() as info:
            page.get_by_role("button", name=name).click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        files[fmt] = target.read_text()
    rows = list(csv.DictReader(io.StringIO(files["csv"])))
    assert rows
    assert {r["kind"] for r in rows} == {"directory.user_updated"}
    drew = [r for r in rows if json.loads(r["detail"])["upn"] == "drew@abc.example"]
    assert drew[-1]["actor_name"] == "Erin Admin"
    assert json.loads(drew[-1]["detail"])["before"] == {"Department": "Operations"}
    lines = [json.loads(line) for line in files["jsonl"].splitlines()]
    assert [e["seq"] for e in lines] == [int(r["seq"]) for r in rows]
    screenshot(page, "audit")


def test_import_csv_and_script_then_page(page: Any, web_server: WebServer, tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_text(
        "userPrincipalName,displayName,department\n"
        + "".join(f"bulk{i:02d}@abc.example,Bulk {i:02d},Research\n" for i in range(60))
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("userPrincipalName,accountEnabled\nok@abc.example,maybe\n")
    script = tmp_path / "barriers.ps1"
    script.write_text(
        "New-OrganizationSegment -Name 'Research' -UserGroupFilter \"Department -eq 'Research'\"\n"
    )
    sign_in(page, web_server)
    goto(page, web_server, "directory")
    page.get_by_label("Entra ID users CSV").set_input_files(str(bad))
    uploader = page.locator(".uploader").filter(has=page.get_by_label("Entra ID users CSV"))
    uploader.get_by_role("button", name="Import").click()
    expect(field_error(page, "#main", "Entra ID users CSV")).to_contain_text("line 2")
    page.get_by_label("Entra ID users CSV").set_input_files(str(users))
    uploader.get_by_role("button", name="Import").click()
    expect(uploader.locator(".upload-status")).to_contain_text("60 created")
    # Paged on the server: 50 of the 76 users, then the rest.
    expect(page.locator(".pager-text").first).to_have_text("1–50 of 76")
    page.get_by_role("group", name="Users pages").get_by_role("button", name="Next").click()
    expect(page.locator(".pager-text").first).to_have_text("51–76 of 76")

    scripts = page.locator(".uploader").filter(
        has=page.get_by_label("PowerShell script (IB cmdlets)")
    )
    page.get_by_label("PowerShell script (IB cmdlets)").set_input_files(str(script))
    scripts.get_by_role("button", name="Import").click()
    expect(scripts.locator(".upload-status")).to_contain_text("Ran 1 command")
    with web_server.api() as api:
        assert ok(api.get("/segments/Research"))["users"] == 60

    with page.expect_download() as info:
        page.get_by_role("button", name="Export users CSV").click()
    exported = tmp_path / "export.csv"
    info.value.save_as(exported)
    upns = [r["userPrincipalName"] for r in csv.DictReader(exported.open())]
    assert "bulk59@abc.example" in upns
    assert len(upns) == 76
    with page.expect_download() as info:
        page.get_by_role("button", name="Export script (definitions)").click()
    ps1 = tmp_path / "definitions.ps1"
    info.value.save_as(ps1)
    assert "New-OrganizationSegment -Name 'Research'" in ps1.read_text()


@pytest.mark.parametrize("width", [1366, 390])
def test_open_forms_and_errors_pass_axe(page: Any, web_server: WebServer, width: int) -> None:
    """The forms, their error lines and the created token's secret, open, at a laptop's
    and a phone's width: axe-core finds nothing critical or serious (the page-by-page
    check in test_web_access.py sees them closed)."""

    def blocking() -> list[str]:
        found = Axe().run(page).response["violations"]
        return [v["id"] for v in found if v["impact"] in ("critical", "serious")]

    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, web_server)
    goto(page, web_server, "directory")
    page.get_by_role("button", name="New service account").click()
    page.locator("#user-form").get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Members of ABC_Staff").click()
    expect(page.locator("#members-table")).to_be_visible()
    assert blocking() == []
    goto(page, web_server, "licensing")
    page.locator("#bulk-form").get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-form [aria-invalid='true']")).to_have_count(1)
    assert blocking() == []
    goto(page, web_server, "settings")
    page.get_by_label("Issued to (a person's name)").fill("Axe Check")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#token-value")).to_be_visible()
    assert blocking() == []
