"""The guided vendor task, a person's page and a segment's members, in Chromium.

Against a real ``infobarrier serve --demo`` (Company ABC): onboard a vendor V4 with two new
service accounts and an engineer (propose, preview, apply), check on the account's page that
it reaches only its engineer, then offboard it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from test_web_access import blocking, overflowing
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
    """A new tab: a session of its own."""
    yield from new_tab(browser_context)


def test_onboard_and_offboard_a_vendor(page: Any, web_server: WebServer) -> None:
    with web_server.api() as api:
        ok(
            api.post(
                "/users",
                json={"upn": "se4a@abc.example", "display_name": "Support Engineer 4A"},
            ),
            201,
        )
    sign_in(page, web_server)
    goto(page, web_server, "vendors")

    # Errors are shown next to the field they concern.
    page.get_by_label("Vendor name", exact=True).first.fill("V1")
    page.get_by_label("Service account 1 UPN").fill("alex@abc.example")
    page.get_by_label("Engineer 1 UPN").fill("nobody@abc.example")
    page.locator("#onboard-propose").click()
    expect(page.locator("#onboard-vendor-error")).to_contain_text("already exists")
    expect(page.locator("#onboard-accounts-1-error")).to_contain_text("not a service account")
    expect(page.locator("#onboard-engineers-1-error")).to_contain_text("no user")
    expect(page.locator("#onboard-preview-btn")).to_be_disabled()

    page.locator("#onboard-vendor").fill("V4")
    page.get_by_label("Service account 1 UPN").fill("v4-ra1@abc.example")
    page.get_by_label("Service account 1 display name").fill("Vendor4 Remote Assist 1")
    page.get_by_role("button", name="Add a service account").click()
    page.get_by_label("Service account 2 UPN").fill("v4-ra2@abc.example")
    page.get_by_label("Engineer 1 UPN").fill("se4a@abc.example")
    page.locator("#onboard-propose").click()
    proposal = page.locator("#onboard-proposal")
    expect(proposal).to_contain_text("V4_RemoteAssistUser-allow")
    expect(page.locator("#onboard-changed")).to_contain_text("ABC_Staff-allow")
    expect(page.locator("#onboard-licenses")).to_contain_text("MICROSOFT_REMOTE_ASSIST")
    expect(page.locator("#onboard-apply")).to_be_disabled()  # not before the preview

    page.locator("#onboard-preview-btn").click()
    expect(page.locator("#onboard-preview")).to_contain_text("become blocked")
    expect(page.locator("#onboard-preview")).to_contain_text("ABC_Staff ↔ V4_RemoteAssistUser")
    screenshot(page, "vendors")
    page.locator("#onboard-apply").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#flash")).to_contain_text("V4: onboarded and applied")

    # The account's page: it reaches its engineer (and its fellow account) and nobody else.
    page.locator("#onboard-verify a").click()
    page.wait_for_url("**/web/people#upn=*")
    expect(page.locator("#person-name")).to_have_text("Vendor4 Remote Assist 1")
    expect(page.locator("#person-segments")).to_contain_text("member of group V4_RemoteAssistUser")
    allowed = page.locator("#reach-table tr[data-allowed='true']")
    expect(allowed).to_have_count(2)
    expect(allowed.nth(0)).to_contain_text("V4_")
    expect(allowed.nth(1)).to_contain_text("V4_")
    expect(page.locator("#reach-table tr[data-allowed='false']").first).to_be_visible()
    screenshot(page, "person")
    expect(page.locator("#person-reach-summary")).to_have_text(
        "can reach 2 users, cannot reach 16 users"
    )

    # The engineer's segment lists its members (linked from the segments page too).
    page.locator("#reach-table a", has_text="V4_SupportEngineer").click()
    page.wait_for_url("**/web/segment#name=*")
    page.reload()
    expect(page.locator("#members-table")).to_contain_text("se4a@abc.example")
    goto(page, web_server, "barriers")
    page.locator("#segments-list a", has_text="V4_SupportEngineer").click()
    page.wait_for_url("**/web/segment#name=V4_SupportEngineer")
    expect(page.locator("#members-table")).to_contain_text("se4a@abc.example")
    expect(page.locator("#members-count")).to_have_text("1 member")

    # Offboard: the proposal disables the accounts; after apply they reach nobody.
    goto(page, web_server, "vendors")
    page.locator("#offboard-vendor").fill("V4")
    page.locator("#offboard-propose").click()
    expect(page.locator("#offboard-proposal")).to_contain_text("Service accounts to disable")
    page.locator("#offboard-preview-btn").click()
    expect(page.locator("#offboard-preview")).to_contain_text("change segment")
    page.locator("#offboard-apply").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#flash")).to_contain_text("V4: offboarded and applied")
    with web_server.api() as api:
        verdict = ok(
            api.post(
                "/decisions",
                json={
                    "checks": [
                        {"action": "chat", "from": "v4-ra1@abc.example", "to": ["alex@abc.example"]}
                    ]
                },
            )
        )["results"][0]
        assert verdict["allowed"] is False
        assert verdict["code"] == "account_disabled"
        assert not [s for s in ok(api.get("/segments")) if s["name"].startswith("V4_")]


def test_explain_add_to_team_with_several_recipients(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "explain")
    page.locator("#explain-from").fill("se1a@abc.example")
    page.locator("#explain-action").select_option("add-team-member")
    page.locator("#explain-to").fill("alex@abc.example")
    page.locator("#explain-more").fill("v2-ra1@abc.example, se1b@abc.example")
    page.locator("#explain-more").press("Enter")  # submits (a picker's list may cover the button)
    expect(page.locator("#verdict")).to_contain_text("BLOCKED")
    pairs = page.locator("#explain-pairs tbody tr")
    expect(pairs).to_have_count(3)
    expect(page.locator("#explain-pairs tr[data-upn='alex@abc.example']")).to_have_attribute(
        "data-allowed", "true"
    )
    blocked = page.locator("#explain-pairs tr[data-upn='v2-ra1@abc.example']")
    expect(blocked).to_have_attribute("data-allowed", "false")
    expect(blocked).to_contain_text("allow list of policy")
    # The cause: the group that puts each user in their segment, and a fix naming it.
    expect(page.locator("#explain-fixes")).to_contain_text("from group")
    expect(page.locator("#explain-why")).to_contain_text("member of group V1_SupportEngineer")
    screenshot(page, "explain-several")


def test_explain_a_conflict_names_the_group_to_leave(page: Any, web_server: WebServer) -> None:
    with web_server.api() as api:
        ok(api.put("/groups/V2_SupportEngineer/members/se1b@abc.example"))
    sign_in(page, web_server)
    page.goto(f"{web_server.base}/web/people#upn=se1b@abc.example")
    expect(page.locator("#person-errors")).to_contain_text("IBPolicyConflict")
    expect(page.locator("#person-fixes")).to_contain_text(
        "remove se1b@abc.example from group 'V2_SupportEngineer'"
    )
    goto(page, web_server, "explain")
    page.locator("#explain-from").fill("se1b@abc.example")
    page.locator("#explain-to").fill("alex@abc.example")
    page.locator("#explain-to").press("Enter")
    expect(page.locator("#verdict-reason")).to_contain_text("IBPolicyConflict")
    expect(page.locator("#explain-fixes")).to_contain_text("from group 'V1_SupportEngineer'")
    with web_server.api() as api:
        ok(api.delete("/groups/V2_SupportEngineer/members/se1b@abc.example"))


def test_editing_help_warns_and_places_errors(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "what-if")
    # A draft equal to the saved definitions has nothing to apply.
    expect(page.locator("#draft-apply")).to_be_disabled()
    page.get_by_role("button", name="Edit draft policy ABC_Staff-allow").click()
    submit = page.locator("#policy-submit")
    expect(submit).to_be_disabled()  # nothing changed yet
    boxes = page.locator("#policy-segments")
    boxes.get_by_label("ABC_Staff", exact=True).uncheck()
    warning = page.locator("#policy-warning")
    expect(warning).to_contain_text("leaves out its own segment ABC_Staff")
    boxes.get_by_label("V1_RemoteAssistUser", exact=True).check()
    expect(warning).to_contain_text(
        "One-sided: V1_RemoteAssistUser's policy V1_RemoteAssistUser-allow does not allow ABC_Staff"
    )
    boxes.get_by_label("ABC_Staff", exact=True).check()
    expect(warning).not_to_contain_text("leaves out")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.locator("#draft-summary")).to_have_text("0 new · 1 changed · 0 removed")
    expect(page.locator("#draft-apply")).to_be_enabled()
    page.get_by_role("button", name="Discard draft").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#draft-apply")).to_be_disabled()

    # Names are checked as the API checks them, the error next to the field.
    goto(page, web_server, "barriers")
    page.locator("#policy-new").click()
    page.locator("#policy-name").fill("Sales\u200bwall")
    expect(page.locator("#policy-name-error")).to_contain_text("invisible character")
    expect(page.locator("#policy-name")).to_have_attribute("aria-invalid", "true")
    page.locator("#policy-name").fill("Second-for-staff")
    expect(page.locator("#policy-name-error")).to_be_empty()
    page.locator("#policy-segment").select_option("ABC_Staff")
    page.locator("#policy-segments").get_by_label("ABC_Staff", exact=True).check()
    page.locator("#policy-submit").click()
    expect(page.locator("#policy-segment-error")).to_contain_text("already has policy")
    expect(page.locator("#policy-error")).to_be_empty()


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["1366x768", "390x844"])
def test_views_with_their_content_pass_axe_and_fit(
    page: Any, web_server: WebServer, size: tuple[int, int]
) -> None:
    """axe-core (0 critical or serious) and no table wider than the screen, on these pages
    filled with what they show (the page-by-page test opens them empty)."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page, web_server)
    page.goto(f"{web_server.base}/web/people#upn=v1-ra1@abc.example")
    expect(page.locator("#reach-table")).to_be_visible()
    checked = [("people", blocking(page), overflowing(page))]
    page.goto(f"{web_server.base}/web/segment#name=V1_SupportEngineer")
    expect(page.locator("#members-table")).to_be_visible()
    checked.append(("segment", blocking(page), overflowing(page)))
    goto(page, web_server, "explain")
    page.locator("#explain-from").fill("se1a@abc.example")
    page.locator("#explain-action").select_option("group-chat")
    page.locator("#explain-to").fill("alex@abc.example")
    page.locator("#explain-more").fill("v2-ra1@abc.example")
    page.locator("#explain-more").press("Enter")
    expect(page.locator("#explain-why")).to_be_visible()
    checked.append(("explain", blocking(page), overflowing(page)))
    goto(page, web_server, "vendors")
    page.locator("#onboard-vendor").fill("V9")
    page.get_by_label("Service account 1 UPN").fill("v9-ra1@abc.example")
    page.get_by_label("Engineer 1 UPN").fill("casey@abc.example")
    page.locator("#onboard-propose").click()
    page.locator("#onboard-preview-btn").click()
    expect(page.locator("#vendor-whatif")).to_be_visible()
    checked.append(("vendors", blocking(page), overflowing(page)))
    assert [c for c in checked if c[1] or c[2]] == []
