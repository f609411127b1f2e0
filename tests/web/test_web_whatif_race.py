"""The what-if draft never loses an edit to a slow answer.

At 100,000 users a preview takes seconds. Here the slowness is made on purpose: Playwright
holds the answer to the edit's check (``page.route``) while three other policies are removed
from the draft; when the held answer is let through, the draft must keep the removals, the
stored draft must match the table, and the preview shown must be the one of the final draft.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import WebServer, chromium_context, goto, new_tab, ok, serve_demo, sign_in

web_server = pytest.fixture(scope="module")(serve_demo)
browser_context = pytest.fixture(scope="module")(chromium_context)


@pytest.fixture
def page(browser_context: Any, web_server: WebServer) -> Iterator[Any]:
    """A new tab: a session of its own (sessionStorage is per tab)."""
    yield from new_tab(browser_context)


def stored_draft(page: Any) -> list[dict[str, Any]]:
    """The draft the tab keeps in sessionStorage."""
    raw = page.evaluate(
        "() => Object.entries(sessionStorage).find(([k]) => k.startsWith('infobarrier.draft'))"
    )
    assert raw, "no draft stored"
    policies: list[dict[str, Any]] = json.loads(raw[1])["policies"]
    return policies


def test_a_slow_answer_never_overwrites_a_newer_draft(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "what-if")
    expect(page.locator("#preview-status")).to_contain_text("Compared with")
    names = [p["name"] for p in ok(web_server.api().get("/policies"))]
    edited, removed = names[0], names[1:4]

    held: list[Any] = []

    def hold_first(route: Any) -> None:
        if not held:
            held.append(route)  # answered later, by hand
        else:
            route.continue_()

    page.route("**/v1/tenants/abc/what-if", hold_first)
    page.get_by_role("button", name=f"Edit draft policy {edited}").click()
    page.get_by_label("Comment").fill("edited while the preview computes")
    page.get_by_role("button", name="Update draft").click()
    for _ in range(200):  # route handlers run while Playwright waits
        if held:
            break
        page.wait_for_timeout(25)
    assert len(held) == 1
    # While the edit's answer is held, three other policies leave the draft.
    for name in removed:
        page.get_by_role("button", name=f"Remove draft policy {name}").click()
        expect(page.locator(f"#draft-table tr[data-policy='{name}']")).to_have_attribute(
            "data-change", "removed"
        )
    expect(page.locator("#draft-summary")).to_have_text("0 new · 0 changed · 3 removed")
    # The slow answer arrives last.
    held[0].continue_()
    expect(page.locator("#draft-editor")).to_be_hidden()
    expect(page.locator("#draft-summary")).to_have_text("0 new · 1 changed · 3 removed")
    for name in removed:
        expect(page.locator(f"#draft-table tr[data-policy='{name}']")).to_have_attribute(
            "data-change", "removed"
        )
    expect(page.locator(f"#draft-table tr[data-policy='{edited}']")).to_have_attribute(
        "data-change", "changed"
    )
    draft = stored_draft(page)
    assert sorted(p["name"] for p in draft) == sorted(set(names) - set(removed))
    assert next(p for p in draft if p["name"] == edited)["comment"] == (
        "edited while the preview computes"
    )
    # The preview on screen is the final draft's.
    expect(page.locator("body[data-preview='ready']")).to_be_attached()
    expected = ok(web_server.api().post("/what-if", json={"policies": draft}))
    blocked = expected.get("totals", {}).get("pairs_blocked", len(expected["pairs_blocked"]))
    allowed = expected.get("totals", {}).get("pairs_allowed", len(expected["pairs_allowed"]))
    summary = page.locator("#preview-summary")
    expect(summary).to_contain_text(f"{blocked} pair{'' if blocked == 1 else 's'} blocked")
    expect(summary).to_contain_text(f"{allowed} pair{'' if allowed == 1 else 's'} allowed")
    # And the page, reloaded, reads the same draft back.
    page.unroute("**/v1/tenants/abc/what-if")
    goto(page, web_server, "what-if")
    expect(page.locator("#draft-summary")).to_have_text("0 new · 1 changed · 3 removed")
