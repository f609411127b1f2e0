"""The web admin page in a real browser against ``infobarrier serve --demo``.

The tests of this module share one server; they run in file order and each sets up what it
needs. Each page is screenshotted into ``docs/screenshots/`` (linked from the README).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import (
    WebServer,
    chromium_context,
    goto,
    new_tab,
    ok,
    ready,
    screenshot,
    serve_demo,
    sign_in,
)

#: One ``infobarrier serve --demo`` and one Chromium for the module.
web_server = pytest.fixture(scope="module")(serve_demo)
browser_context = pytest.fixture(scope="module")(chromium_context)


@pytest.fixture
def page(browser_context: Any, web_server: WebServer) -> Iterator[Any]:
    """A new tab: a session of its own (sessionStorage is per tab)."""
    yield from new_tab(browser_context)


DEMO_SEGMENTS = [
    "ABC_Staff",
    "V1_RemoteAssistUser",
    "V1_SupportEngineer",
    "V2_RemoteAssistUser",
    "V2_SupportEngineer",
    "V3_RemoteAssistUser",
    "V3_SupportEngineer",
]


def cell(page: Any, a: str, b: str) -> Any:
    """The matrix cell of segments ``a`` (row) and ``b`` (column)."""
    return page.locator(f"#matrix .cell[data-a='{a}'][data-b='{b}']")


def stored(page: Any) -> dict[str, Any]:
    """Where the browser keeps things: cookies, localStorage, sessionStorage."""
    return {
        "cookies": page.context.cookies(),
        "local": page.evaluate("() => ({...localStorage})"),
        "session": page.evaluate("() => ({...sessionStorage})"),
    }


# -- sign-in -----------------------------------------------------------------------------------
def test_sign_in_keeps_the_token_in_the_tab_only(page: Any, web_server: WebServer) -> None:
    page.goto(f"{web_server.base}/web/matrix")
    page.wait_for_url(f"{web_server.base}/")  # not signed in: back to the sign-in page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")

    # A wrong token, a token of the wrong role, a tenant the token is not for: clear errors.
    page.get_by_label("Tenant").fill("abc")
    page.get_by_label("Token").fill("ib_0000000000000000_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("This token is unknown or revoked.")
    page.get_by_label("Token").fill(web_server.tokens["enforcer"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("use an admin or auditor token")
    page.get_by_label("Tenant").fill("other")
    page.get_by_label("Token").fill(web_server.tokens["admin"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text('does not belong to tenant "other"')

    sign_in(page, web_server)
    expect(page.locator("#session-tenant")).to_have_text("abc")
    expect(page.locator("#session-role")).to_have_text("admin")
    token = web_server.tokens["admin"]
    where = stored(page)
    assert where["cookies"] == []
    assert token not in str(where["local"])
    assert token in str(where["session"])
    assert token not in page.url

    # A new tab is a new session: it must sign in again.
    other = page.context.new_page()
    try:
        other.goto(f"{web_server.base}/web/overview")
        other.wait_for_url(f"{web_server.base}/")
    finally:
        other.close()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/\?signedout=1$"))
    expect(page.locator("#signin-notice")).to_have_text("You have signed out.")
    assert token not in str(stored(page)["session"])


# -- matrix ------------------------------------------------------------------------------------
def test_matrix_of_the_demo_tenant(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "matrix")
    rows = page.locator("#matrix .row-name").all_inner_texts()
    assert rows == [*DEMO_SEGMENTS, "(none)"]
    columns = page.locator("#matrix .col-head").all_inner_texts()
    assert [c.strip() for c in columns] == [*DEMO_SEGMENTS, "(none)"]
    expect(page.locator("#matrix-epoch")).to_contain_text("Epoch #1")

    # The seed: V1's Remote Assist accounts reach V1's engineers only; staff reach no vendor.
    allowed = cell(page, "V1_RemoteAssistUser", "V1_SupportEngineer")
    blocked = cell(page, "V1_RemoteAssistUser", "V2_SupportEngineer")
    expect(allowed).to_have_class(re.compile(r"\bcell-allow\b"))
    expect(blocked).to_have_class(re.compile(r"\bcell-block\b"))
    expect(cell(page, "ABC_Staff", "V2_RemoteAssistUser")).to_have_class(re.compile("cell-block"))
    # Symmetric: enforcement is two-way.
    for a in DEMO_SEGMENTS:
        for b in DEMO_SEGMENTS:
            assert cell(page, a, b).get_attribute("class") == cell(page, b, a).get_attribute(
                "class"
            ), (a, b)

    # Hover explains; a click pins the explanation: which policy said no.
    allowed.hover()
    detail = page.locator("#cell-detail")
    expect(detail).to_contain_text("Allowed")
    expect(detail).to_contain_text("permit each other")
    blocked.click()
    expect(detail).to_contain_text("Blocked")
    expect(detail).to_contain_text(
        "Policy 'V1_RemoteAssistUser-allow' of segment 'V1_RemoteAssistUser': "
        "its allow list does not include 'V2_SupportEngineer'"
    )
    expect(detail.locator("dd").first).to_have_text("V1_RemoteAssistUser-allow")
    expect(blocked).to_have_accessible_name("V1_RemoteAssistUser and V2_SupportEngineer: blocked")
    screenshot(page, "matrix")


# -- segments and policies --------------------------------------------------------------------
def test_segments_and_policies_with_live_filter_check(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "barriers")
    expect(page.locator("#segments-table tbody tr")).to_have_count(len(DEMO_SEGMENTS))
    expect(page.locator("#policies-table tbody tr")).to_have_count(len(DEMO_SEGMENTS))

    page.get_by_role("button", name="New segment").click()
    name = page.get_by_label("Name (never renamed)")
    filter_box = page.get_by_label("Filter (UserGroupFilter)")
    status = page.locator("#filter-status")

    # As you type: whether it parses and how many users it matches.
    filter_box.fill("Department -eq 'Support'")
    expect(status).to_have_text("✓ Parses · matches 6 users")
    filter_box.fill("MemberOf -eq 'ABC_Staff'")
    expect(status).to_have_text("✓ Parses · matches 4 users")

    # A malformed filter shows where it breaks: the message and a caret under the column.
    malformed = "Department -eq 'Support' -and Bogus -eq 'x'"
    filter_box.fill(malformed)
    bad = status.locator(".filter-bad")
    expect(bad).to_contain_text("filter error at column 31")
    expect(bad).to_contain_text("Bogus")
    assert bad.get_attribute("data-position") == "31"
    caret_line = status.locator("pre.filter-caret").inner_text().split("\n")
    assert caret_line[0] == malformed
    assert caret_line[1] == " " * 30 + "^"
    assert malformed[30:35] == "Bogus"
    expect(filter_box).to_have_attribute("aria-invalid", "true")
    name.fill("Support_Desk")
    screenshot(page, "segments-and-policies")
    unbalanced = "Department -eq 'Support"
    filter_box.fill(unbalanced)
    expect(status.locator(".filter-bad")).to_contain_text("column 16")

    # Saving goes through the API: the same rules and messages.
    name.fill("abc_staff")
    filter_box.fill("Department -eq 'Support'")
    page.get_by_role("button", name="Create segment").click()
    expect(page.locator("#segment-error")).to_have_text(
        "a segment named 'abc_staff' already exists [rule segment.name_unique]"
    )
    name.fill("Scratch")
    filter_box.fill("Department -eq 'Nobody here'")
    expect(status).to_have_text("✓ Parses · matches 0 users")
    page.get_by_role("button", name="Create segment").click()
    expect(page.locator("#flash")).to_have_text("Segment Scratch created.")
    row = page.locator("#segments-table tr[data-segment='Scratch']")
    expect(row).to_contain_text("Department -eq 'Nobody here'")

    # Edit its filter.
    page.get_by_role("button", name="Edit filter of Scratch").click()
    expect(page.get_by_label("Name (never renamed)")).to_have_attribute("readonly", "")
    page.get_by_label("Filter (UserGroupFilter)").fill("Company -eq 'Vendor1'")
    expect(status).to_have_text("✓ Parses · matches 2 users")
    page.get_by_role("button", name="Save filter").click()
    expect(row).to_contain_text("Company -eq 'Vendor1'")
    expect(row.locator("td").nth(2)).to_have_text("2")

    # A policy: the API's rule errors, then created, edited and removed.
    page.get_by_role("button", name="New policy").click()
    page.get_by_label("Name", exact=True).fill("Scratch-block")
    page.get_by_label("Assigned segment").select_option("ABC_Staff")
    page.get_by_label("every segment but those listed (SegmentsBlocked)").check()
    page.locator("#policy-segments").get_by_label("V1_RemoteAssistUser", exact=True).check()
    page.get_by_role("button", name="Create policy").click()
    # The error stands next to the field it concerns.
    expect(page.locator("#policy-segment-error")).to_contain_text(
        "already has policy 'ABC_Staff-allow'"
    )
    expect(page.locator("#policy-segment-error")).to_contain_text("[rule policy.one_per_segment]")
    page.get_by_label("Assigned segment").select_option("Scratch")
    page.locator("#policy-segments").get_by_label("V1_RemoteAssistUser", exact=True).uncheck()
    page.get_by_role("button", name="Create policy").click()
    expect(page.locator("#policy-list-error")).to_have_text(
        "policy 'Scratch-block': the segment list is empty [rule policy.list_nonempty]"
    )
    page.locator("#policy-segments").get_by_label("ABC_Staff", exact=True).check()
    page.get_by_role("button", name="Create policy").click()
    expect(page.locator("#flash")).to_have_text("Policy Scratch-block created.")
    policy_row = page.locator("#policies-table tr[data-policy='Scratch-block']")
    expect(policy_row).to_contain_text("blocks ABC_Staff")
    expect(policy_row).to_contain_text("Inactive")

    page.get_by_role("button", name="Edit policy Scratch-block").click()
    page.get_by_label("State").select_option("Active")
    page.get_by_label("Comment").fill("temporary")
    page.get_by_role("button", name="Save policy").click()
    expect(policy_row).to_contain_text("Active")
    expect(policy_row).to_contain_text("temporary")

    # A segment a policy references cannot be removed (the API's message)...
    page.get_by_role("button", name="Remove segment Scratch").click()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("[rule segment.referenced]")
    # ... until the policy is gone.
    page.get_by_role("button", name="Remove policy Scratch-block").click()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(policy_row).to_have_count(0)
    page.get_by_role("button", name="Remove segment Scratch").click()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(row).to_have_count(0)
    assert [s["name"] for s in ok(web_server.api().get("/segments"))] == DEMO_SEGMENTS


# -- what-if, apply, and the matrix changing ---------------------------------------------------
def research_and_trading(server: WebServer) -> None:
    """Research and Trading (a classic wall), applied, with conversations between them."""
    api = server.api()
    ok(api.post("/skus/SPE_E5/purchase", json={"seats": 5}))
    people = {
        "rae": ("Rae Analyst", "Research"),
        "ray": ("Ray Economist", "Research"),
        "rin": ("Rin Intern", "Research"),
        "tia": ("Tia Trader", "Trading"),
        "tom": ("Tom Sales", "Trading"),
    }
    for local, (display, department) in people.items():
        upn = f"{local}@abc.example"
        body = {"upn": upn, "display_name": display, "attributes": {"Department": department}}
        ok(api.post("/users", json=body), 201)
        if local != "rin":  # rin stays unlicensed: a licensing finding once segmented
            ok(api.post(f"/users/{upn}/licenses", json={"sku": "SPE_E5"}))
    for name in ("Research", "Trading"):
        body = {"name": name, "filter": f"Department -eq '{name}'"}
        ok(api.post("/segments", json=body), 201)
    # The other segments' allow lists do not name them: they reach each other only.
    assert ok(api.post("/applications", params={"wait": "true"}))["status"] == "Completed"
    ok(api.post("/chats", json={"from": "rae@abc.example", "to": ["tia@abc.example"]}), 201)
    group = {"from": "ray@abc.example", "to": ["rae@abc.example", "tom@abc.example"]}
    ok(api.post("/chats", json=group), 201)
    meeting = {
        "organizer": "ray@abc.example",
        "subject": "Morning call",
        "invitees": ["tia@abc.example", "tom@abc.example"],
    }
    ok(api.post("/meetings", json=meeting), 201)
    ok(api.post("/calls", json={"from": "rae@abc.example", "to": ["tom@abc.example"]}), 201)
    team = ok(api.post("/teams", json={"name": "Deal room", "owners": ["ray@abc.example"]}), 201)
    member = {"upn": "tia@abc.example", "by": "ray@abc.example"}
    ok(api.post(f"/teams/{team['id']}/members", json=member))


def test_what_if_draft_preview_apply_and_matrix_change(page: Any, web_server: WebServer) -> None:
    research_and_trading(web_server)
    sign_in(page, web_server)
    goto(page, web_server, "matrix")
    expect(cell(page, "Research", "Trading")).to_have_class(re.compile("cell-allow"))

    goto(page, web_server, "what-if")
    expect(page.locator("#draft-summary")).to_have_text("Same as the saved definitions")
    expect(page.locator("#preview-nothing")).to_be_visible()

    # Draft a new policy: Research may not reach Trading.
    page.get_by_role("button", name="Add policy").click()
    page.get_by_label("Name", exact=True).fill("Research-Trading-wall")
    page.get_by_label("Assigned segment").select_option("Research")
    page.get_by_label("every segment but those listed (SegmentsBlocked)").check()
    page.locator("#policy-segments").get_by_label("Trading", exact=True).check()
    expect(page.get_by_label("State")).to_have_value("Active")
    page.get_by_label("Comment").fill("Chinese wall between research and trading")
    page.get_by_role("button", name="Add to draft").click()
    expect(page.locator("#draft-summary")).to_have_text("1 new · 0 changed · 0 removed")
    expect(page.locator("#draft-table tr[data-policy='Research-Trading-wall']")).to_contain_text(
        "new"
    )

    # The preview: the pair that flips, and the conversations the policy breaks.
    pairs = page.locator("#preview-pairs tbody tr")
    expect(pairs).to_have_count(1)
    expect(pairs.first).to_contain_text("Research")
    expect(pairs.first).to_contain_text("Trading")
    expect(pairs.first).to_contain_text("Blocked")
    expect(pairs.first).to_contain_text("Research-Trading-wall")
    # The 1:1 chat, the group chat (tom), the meeting (tom, then tia: the organizer stays),
    # the live call and the team (tia).
    conversations = page.locator("#preview-conversations tbody tr")
    expect(conversations).to_have_count(6)
    text = page.locator("#preview-conversations").inner_text()
    assert "1:1 chat (rae@abc.example, tia@abc.example)" in text
    assert "becomes read-only" in text
    assert "group chat (ray@abc.example, rae@abc.example, tom@abc.example)" in text
    assert "meeting 'Morning call'" in text
    assert "loses an invitee" in text
    assert "call (rae@abc.example, tom@abc.example)" in text
    assert "ends" in text
    assert "team 'Deal room'" in text
    assert "loses a member" in text
    assert "tom@abc.example" in text
    expect(page.locator("#preview-summary")).to_contain_text("1 pair blocked")
    # Nothing was saved yet.
    assert "Research-Trading-wall" not in str(ok(web_server.api().get("/policies")))
    screenshot(page, "what-if")

    # A draft that breaks a rule is refused with the API's message, and not added.
    page.get_by_role("button", name="Add policy").click()
    page.get_by_label("Name", exact=True).fill("Second-for-Research")
    page.get_by_label("Assigned segment").select_option("Research")
    page.locator("#policy-segments").get_by_label("Research", exact=True).check()
    page.get_by_role("button", name="Add to draft").click()
    # The error stands next to the field it concerns.
    expect(page.locator("#policy-segment-error")).to_contain_text("[rule policy.one_per_segment]")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#draft-summary")).to_have_text("1 new · 0 changed · 0 removed")

    # Apply: save the draft, start an application, follow it to the end.
    page.get_by_role("button", name="Apply draft").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("create Research-Trading-wall")
    dialog.get_by_role("button", name="Apply").click()
    expect(page.locator("#apply-label")).to_have_text(re.compile(r"Application #\d+ completed"))
    expect(page.locator("#apply-bar")).to_have_attribute("value", "100")
    expect(page.locator("#flash")).to_contain_text("completed for 21 recipients")
    expect(page.locator("#flash")).to_contain_text("6 conversation changes")
    expect(page.locator("#draft-summary")).to_have_text("Same as the saved definitions")
    expect(page.locator("#preview-nothing")).to_be_visible()

    # It happened: the policy is saved and applied, the conversations reconciled.
    policy = ok(web_server.api().get("/policies/Research-Trading-wall"))
    assert policy["segments_blocked"] == ["Trading"]
    assert policy["state"] == "Active"
    chats = ok(web_server.api().get("/chats"))
    one_on_one = next(c for c in chats if c["kind"] == "one_on_one")
    assert one_on_one["read_only"] is True
    assert not any(c["live"] for c in ok(web_server.api().get("/calls")))

    # And the matrix shows it, with the policy that said no.
    goto(page, web_server, "matrix")
    wall = cell(page, "Research", "Trading")
    expect(wall).to_have_class(re.compile("cell-block"))
    expect(cell(page, "Trading", "Research")).to_have_class(re.compile("cell-block"))
    expect(cell(page, "Research", "Research")).to_have_class(re.compile("cell-allow"))
    wall.click()
    expect(page.locator("#cell-detail")).to_contain_text(
        "Policy 'Research-Trading-wall' of segment 'Research': its block list includes 'Trading'"
    )
    screenshot(page, "matrix-after-apply")


def test_what_if_discard_drops_the_draft(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "what-if")
    before = ok(web_server.api().get("/policies"))
    page.get_by_role("button", name=f"Remove draft policy {before[0]['name']}").click()
    removed = page.locator(f"#draft-table tr[data-policy='{before[0]['name']}']")
    expect(removed).to_have_attribute("data-change", "removed")
    expect(page.locator("#draft-summary")).to_have_text("0 new · 0 changed · 1 removed")
    expect(page.locator("#preview-summary")).to_be_visible()
    # The draft survives a reload of the page (it lives in this tab's session)...
    page.reload()
    ready(page)
    expect(page.locator("#draft-summary")).to_have_text("0 new · 0 changed · 1 removed")
    # ... and is dropped by Discard; nothing was ever saved.
    page.get_by_role("button", name="Discard draft").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Discard").click()
    expect(page.locator("#draft-summary")).to_have_text("Same as the saved definitions")
    assert ok(web_server.api().get("/policies")) == before


# -- explain ------------------------------------------------------------------------------------
def pick(page: Any, field: str, typed: str, upn: str) -> None:
    """Type into a user picker and choose ``upn`` from the suggestions."""
    box = page.get_by_label(field, exact=True)
    box.fill("")
    box.press_sequentially(typed, delay=20)
    option = page.locator(f"#explain-{field.lower()}-list li[data-upn='{upn}']")
    expect(option).to_be_visible()
    option.click()
    expect(box).to_have_value(upn)


def test_explain_a_verdict(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "explain")

    # Search as you type, by any word of the name, the UPN or the mail.
    box = page.get_by_label("From", exact=True)
    box.press_sequentially("vendor1", delay=20)
    options = page.locator("#explain-from-list li")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("Vendor1 Remote Assist 1")
    expect(options.first).to_contain_text("service account")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("v1-ra1@abc.example")

    pick(page, "To", "support engineer 2", "se2a@abc.example")
    page.get_by_label("Action").select_option("call")
    page.get_by_role("button", name="Explain").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("BLOCKED")
    expect(page.locator("#verdict-reason")).to_have_text(
        "Policy 'V1_RemoteAssistUser-allow' of segment 'V1_RemoteAssistUser': its allow list "
        "does not include 'V2_SupportEngineer'"
    )
    expect(verdict).to_contain_text("blocked_by_policy")
    expect(verdict).to_contain_text("allows only: V1_RemoteAssistUser V1_SupportEngineer")
    expect(page.locator("#explain-result")).to_contain_text("V2_SupportEngineer-allow")
    screenshot(page, "explain")

    # V1's own engineer: allowed, and why.
    pick(page, "To", "se1a", "se1a@abc.example")
    page.get_by_role("button", name="Explain").click()
    expect(verdict).to_contain_text("ALLOWED")
    expect(page.locator("#verdict-reason")).to_have_text(
        "Segments 'V1_RemoteAssistUser' and 'V1_SupportEngineer' permit each other"
    )
    # Bad input is the API's error, never a yes.
    pick(page, "To", "vendor1 remote assist 1", "v1-ra1@abc.example")
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#explain-error")).to_have_text("the 'from' user is also in 'to'")


# -- applications and audit ---------------------------------------------------------------------
def test_applications_and_audit(page: Any, web_server: WebServer) -> None:
    """One place for the audit log (the Audit page); the Applications page keeps the
    applications' history and links to it."""
    sign_in(page, web_server)
    goto(page, web_server, "history")
    expect(page.locator("nav.sidenav a[data-nav='history']")).to_have_text("Applications")
    apps = ok(web_server.api().get("/applications"))
    rows = page.locator("#applications-table tbody tr")
    expect(rows).to_have_count(len(apps))
    expect(rows.first).to_contain_text(apps[0]["status"])
    expect(page.locator("#audit-table")).to_have_count(0)  # no second audit log here
    screenshot(page, "applications")
    page.locator("#applications-audit").get_by_role("link", name="Audit").click()
    page.wait_for_url("**/web/audit")
    ready(page)

    entries = ok(web_server.api().get("/audit"))
    expect(page.locator("#audit-count")).to_have_text(f"{len(entries)} entries, newest first")
    first_shown = page.locator("#audit-table > tbody > tr").first
    expect(first_shown).to_have_attribute("data-seq", str(entries[-1]["seq"]))

    # The applications' entries, by kind.
    page.get_by_label("Kinds").select_option(["apply.completed"])
    page.get_by_role("button", name="Filter").click()
    completed = [e for e in entries if e["kind"] == "apply.completed"]
    expect(page.locator("#audit-table > tbody > tr")).to_have_count(len(completed))
    for kind in page.locator("#audit-table > tbody > tr").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    ):
        assert kind == "apply.completed"
    # By an actor nobody is.
    page.get_by_label("Actor").fill("token:nobody")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-list")).to_contain_text("No entry matches.")
    page.get_by_role("button", name="Reset").click()
    expect(page.locator("#audit-table > tbody > tr").first).to_be_visible()

    # The chain check.
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#chain-status")).to_contain_text("The hash chain is intact")
    # And back to the applications.
    page.get_by_role("link", name="Applications", exact=True).first.click()
    page.wait_for_url("**/web/history")


# -- auditors, and the overview ----------------------------------------------------------------
def test_auditor_reads_but_cannot_change(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server, role="auditor")
    expect(page.locator("#session-role")).to_have_text("auditor")
    goto(page, web_server, "barriers")
    expect(page.locator("#segments-table tbody tr").first).to_be_visible()
    expect(page.get_by_role("button", name="New segment")).to_be_hidden()
    expect(page.get_by_role("button", name="New policy")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    goto(page, web_server, "what-if")
    expect(page.locator("#whatif-readonly")).to_be_visible()
    expect(page.get_by_role("button", name="Apply draft")).to_be_hidden()
    goto(page, web_server, "matrix")
    expect(page.locator("#matrix .cell").first).to_be_visible()


def test_overview(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    data = ok(web_server.api().get("/overview"))

    def card(label: str) -> Any:
        return page.locator(f"#overview-cards .card[data-card='{label}'] .card-value")

    expect(card("Mode")).to_have_text(data["mode"])
    expect(card("Users")).to_have_text(str(data["users"]["total"]))
    expect(card("Segmented")).to_have_text(str(data["segmented"]))
    expect(card("Unsegmented")).to_have_text(str(data["unsegmented"]))
    expect(card("Conflicts")).to_have_text(str(len(data["conflicts"])))
    expect(card("Epoch in force")).to_have_text(f"#{data['epoch']}")
    expect(card("Licensing findings")).to_have_text(str(len(data["findings"])))
    expect(page.locator("#overview-pending")).to_be_hidden()
    expect(page.locator("#overview-last-app")).to_contain_text(
        f"#{data['last_application']['number']}"
    )
    segments = page.locator("#overview-segments tbody tr")
    expect(segments).to_have_count(len(data["applied"]["segments"]))
    if data["findings"]:
        findings = page.locator("#findings-table tbody tr")
        expect(findings).to_have_count(len(data["findings"]))
        expect(findings.first).to_contain_text(data["findings"][0]["upn"])
    else:
        expect(page.locator("#overview-findings")).to_contain_text("No findings")
    screenshot(page, "overview")
