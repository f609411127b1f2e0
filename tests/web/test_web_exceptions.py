"""Wall-crossing exceptions on the web page, in a real browser against ``serve --demo``
(semantics §11): the request form (each refusal of the API next to its field, times in the
viewer's time zone), the queue of requests with what approving would change, approval by a
second person, the active list with its remaining time, the effect in the matrix and in
explain, and the expiry the server records by itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
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

from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build

web_server = pytest.fixture(scope="module")(serve_demo)
browser_context = pytest.fixture(scope="module")(chromium_context)


@pytest.fixture
def page(browser_context: Any, web_server: WebServer) -> Iterator[Any]:
    yield from new_tab(browser_context)


def people(server: WebServer) -> None:
    """Two compliance officers with named tokens: Alice requests, Bob approves."""
    services = build(server.db_url)
    for who in ("alice", "bob"):
        _record, plain = services.tokens.create(
            "abc", Role.COMPLIANCE, "web tests", person=who.title()
        )
        server.tokens[who] = plain
    services.store.dispose()


def pick(page: Any, label: str, query: str, upn: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill("")
    box.press_sequentially(query, delay=20)
    page.locator(f"[role=option]:has-text('{upn}')").first.click()
    expect(box).to_have_value(upn)


def test_queue_approve_active_matrix_explain_expire(page: Any, web_server: WebServer) -> None:
    people(web_server)
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=50)
    with web_server.api("alice") as alice:
        created = ok(
            alice.post(
                "/exceptions",
                json={
                    "segments": ["V1_RemoteAssistUser", "V2_SupportEngineer"],
                    "actions": ["chat", "call"],
                    "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "why": "outage cover for vendor 2",
                },
            ),
            201,
        )
    exc_id = created["id"]

    sign_in(page, web_server, "bob")
    goto(page, web_server, "exceptions")
    row = page.locator(f"#queue-table tr[data-exception='{exc_id}']")
    expect(row).to_contain_text("segments V1_RemoteAssistUser ↔ V2_SupportEngineer")
    expect(row).to_contain_text("outage cover for vendor 2")
    expect(row).to_contain_text("Alice")
    expect(row.locator(".exception-effect")).to_contain_text(re.compile(r"[1-9]\d* pair\(s\) flip"))
    screenshot(page, "exceptions-queue")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#queue-table tr[data-exception]")).to_have_count(0)
    active = page.locator(f"#active-table tr[data-exception='{exc_id}']")
    expect(active).to_contain_text("active")
    expect(active).to_contain_text("Bob (requested by Alice)")
    expect(active.locator(".exception-remaining")).to_have_text(re.compile(r"^\d+m \d+s$"))
    screenshot(page, "exceptions-active")

    # The matrix marks the cell it opens (both ways); explain says why it is allowed.
    goto(page, web_server, "matrix")
    for a, b in (
        ("V1_RemoteAssistUser", "V2_SupportEngineer"),
        ("V2_SupportEngineer", "V1_RemoteAssistUser"),
    ):
        opened = page.locator(f"#matrix .cell[data-a='{a}'][data-b='{b}']")
        expect(opened).to_have_class(re.compile(r"\bcell-opened\b"))
        assert exc_id in (opened.get_attribute("data-exceptions") or "")
    other = page.locator("#matrix .cell[data-a='V1_RemoteAssistUser'][data-b='V3_SupportEngineer']")
    expect(other).not_to_have_class(re.compile(r"\bcell-opened\b"))

    goto(page, web_server, "explain")
    pick(page, "From", "vendor1 remote assist 1", "v1-ra1@abc.example")
    pick(page, "To", "se2a", "se2a@abc.example")
    page.get_by_label("Action").select_option("chat")
    page.get_by_role("button", name="Explain").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("ALLOWED")
    expect(verdict).to_contain_text("allowed_by_exception")
    expect(page.locator("#verdict-reason")).to_contain_text(f"Exception {exc_id} allows this")
    page.get_by_label("Action").select_option("share-file")
    page.get_by_role("button", name="Explain").click()
    expect(verdict).to_contain_text("BLOCKED")

    # Use: a 1:1 chat the exception allows (a collaboration front-end asks the API).
    with web_server.api() as admin:
        chat = ok(
            admin.post("/chats", json={"from": "v1-ra1@abc.example", "to": ["se2a@abc.example"]}),
            201,
        )
        assert chat["read_only"] is False

    # Nobody acts: at its end the server's sweep records the expiry.
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 2)
    goto(page, web_server, "exceptions")
    closed = page.locator("#closed-table tr", has_text="V1_RemoteAssistUser")
    expect(closed).to_contain_text("expired")
    expect(page.locator("#active-table tr[data-exception]")).to_have_count(0)
    goto(page, web_server, "matrix")
    expect(page.locator("#matrix .cell-opened")).to_have_count(0)

    # Reconciled as after a policy change: the chat is read-only, and the audit log in the
    # page says which exception's expiry did it.
    with web_server.api() as admin:
        assert ok(admin.get(f"/chats/{chat['id']}"), 200)["read_only"] is True
    goto(page, web_server, "audit")
    page.get_by_label("Kinds").select_option(["reconciliation.chat_read_only"])
    page.get_by_role("button", name="Filter").click()
    entry = page.locator("#audit-table tbody tr[data-kind='reconciliation.chat_read_only']")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(exc_id)
    expect(entry).to_contain_text("exception.expired")


def typed(when: datetime) -> str:
    """What a person types in a datetime-local field for ``when`` (the browser context of
    the tests is in UTC, ``web_support.chromium_context``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def request_error(page: Any, name: str, text: str | re.Pattern[str]) -> None:
    """Submit the request form and expect the API's refusal next to field ``name``."""
    page.get_by_role("button", name="Request exception").click()
    expect(page.locator(f"#exception-{name}-error")).to_contain_text(text)
    target = page.locator("#exception-actions" if name == "actions" else f"#exception-{name}")
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#exception-form .field-error:not(:empty)")).to_have_count(1)


def test_request_in_the_page_four_eyes_use_revoke(
    browser_context: Any, web_server: WebServer
) -> None:
    """The whole life of an exception in the page: requested by Alice (times in her time
    zone, every refusal of the API next to its field), approved by Bob, used, revoked,
    reconciled."""
    if "alice" not in web_server.tokens:
        people(web_server)
    pages = [browser_context.new_page() for _ in range(2)]
    errors: list[str] = []
    for tab in pages:
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
    alice, bob = pages
    try:
        sign_in(alice, web_server, "alice")
        goto(alice, web_server, "exceptions")
        form = alice.locator("#exception-form")
        expect(form).to_contain_text("In your time zone (UTC)")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        end = now + timedelta(hours=2)

        pick(alice, "First user", "vendor2 remote assist 1", "v2-ra1@abc.example")
        alice.get_by_label("Second user", exact=True).fill("nobody@abc.example")
        alice.get_by_label("chat (1:1)").check()
        alice.get_by_label("End", exact=True).fill(typed(end))
        alice.get_by_label("Justification").fill("SE3 covers vendor 2 this afternoon")
        request_error(alice, "user2", "no user 'nobody@abc.example'")

        pick(alice, "Second user", "support engineer 3b", "se3b@abc.example")
        alice.get_by_label("chat (1:1)").uncheck()
        request_error(alice, "actions", "should have at least 1 item")
        alice.get_by_label("chat (1:1)").check()

        alice.get_by_label("Start", exact=True).fill(typed(now + timedelta(hours=3)))
        request_error(alice, "end", "before it starts")
        alice.get_by_label("Start", exact=True).fill("")
        alice.get_by_label("End", exact=True).fill(typed(now - timedelta(hours=1)))
        request_error(alice, "end", "lies in the past")
        alice.get_by_label("End", exact=True).fill(typed(now + timedelta(days=40)))
        request_error(alice, "end", "this tenant allows at most")

        alice.get_by_label("every member of two segments").check()
        alice.get_by_label("First segment").fill("V2_RemoteAssistUser")
        alice.get_by_label("Second segment").fill("No_Such_Segment")
        request_error(alice, "segment2", "no segment 'No_Such_Segment'")
        alice.get_by_label("two users").check()

        alice.get_by_label("End", exact=True).fill(typed(end))
        alice.get_by_role("button", name="Request exception").click()
        queued = alice.locator("#queue-table tr[data-exception]", has_text="se3b@abc.example")
        expect(queued).to_contain_text("SE3 covers vendor 2 this afternoon")
        expect(queued).to_contain_text("Alice")
        expect(form.locator(".field-error:not(:empty)")).to_have_count(0)
        exc_id = queued.get_attribute("data-exception")
        assert exc_id
        # Four eyes: the requester's own approval is refused and changes nothing.
        queued.get_by_role("button", name="Approve").click()
        expect(alice.locator("#flash")).to_contain_text("cannot approve it")
        expect(alice.locator(f"#queue-table tr[data-exception='{exc_id}']")).to_have_count(1)

        sign_in(bob, web_server, "bob")
        goto(bob, web_server, "exceptions")
        bob.locator(f"#queue-table tr[data-exception='{exc_id}']").get_by_role(
            "button", name="Approve"
        ).click()
        active = bob.locator(f"#active-table tr[data-exception='{exc_id}']")
        expect(active).to_contain_text("Bob (requested by Alice)")
        expect(active.locator(".exception-remaining")).to_have_text(re.compile(r"^1h 5\dm$"))

        # Use: explain names the exception and its end, the minute Alice typed.
        goto(bob, web_server, "explain")
        pick(bob, "From", "vendor2 remote assist 1", "v2-ra1@abc.example")
        pick(bob, "To", "support engineer 3b", "se3b@abc.example")
        bob.get_by_label("Action").select_option("chat")
        bob.get_by_role("button", name="Explain").click()
        expect(bob.locator("#verdict")).to_contain_text("allowed_by_exception")
        expect(bob.locator("#verdict-reason")).to_contain_text(
            f"Exception {exc_id} allows this for chat until {end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
        with web_server.api() as admin:
            chat = ok(
                admin.post(
                    "/chats", json={"from": "v2-ra1@abc.example", "to": ["se3b@abc.example"]}
                ),
                201,
            )
            assert chat["read_only"] is False

        goto(bob, web_server, "exceptions")
        bob.locator(f"#active-table tr[data-exception='{exc_id}']").get_by_role(
            "button", name="Revoke"
        ).click()
        bob.locator("#confirm-ok").click()
        closed = bob.locator("#closed-table tr", has_text=exc_id)
        expect(closed).to_contain_text("revoked")
        expect(closed).to_contain_text("Bob")
        with web_server.api() as admin:
            assert ok(admin.get(f"/chats/{chat['id']}"), 200)["read_only"] is True
        goto(bob, web_server, "explain")
        pick(bob, "From", "vendor2 remote assist 1", "v2-ra1@abc.example")
        pick(bob, "To", "support engineer 3b", "se3b@abc.example")
        bob.get_by_role("button", name="Explain").click()
        expect(bob.locator("#verdict")).to_contain_text("BLOCKED")
    finally:
        for tab in pages:
            tab.close()
    assert not errors, f"script errors on the page: {errors}"


def test_an_auditor_reads_the_queue_but_cannot_decide(page: Any, web_server: WebServer) -> None:
    if "alice" not in web_server.tokens:
        people(web_server)
    end = datetime.now(UTC) + timedelta(days=1)
    with web_server.api("alice") as alice:
        ok(
            alice.post(
                "/exceptions",
                json={
                    "users": ["v1-ra1@abc.example", "se3a@abc.example"],
                    "actions": ["call"],
                    "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "why": "a later request",
                },
            ),
            201,
        )
    sign_in(page, web_server, "auditor")
    goto(page, web_server, "exceptions")
    expect(page.locator("#queue-table")).to_contain_text("a later request")
    expect(page.locator("#queue-table")).to_contain_text("read only")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.locator("#exceptions-person")).to_contain_text("may read exceptions")
