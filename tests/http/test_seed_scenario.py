"""The seed document end to end, over HTTP against a real uvicorn server.

Company ABC lets vendors V1-V3 use Remote Assist through service accounts, and uses
information barriers so each vendor finds and reaches only its own support engineers.
"""

from __future__ import annotations

import httpx

from live_server import LiveServer

VENDORS = ("V1", "V2", "V3")


def ok(response: httpx.Response, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def refused(response: httpx.Response, code: str | None = None) -> dict:  # type: ignore[type-arg]
    assert response.status_code == 403, response.text
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def test_seed_scenario(live_server: LiveServer) -> None:
    admin = live_server.client("abc", "admin")
    front = live_server.client("abc", "enforcer")

    # Step 1: determine the need: before any barrier, everyone can find and call everyone.
    preview = ok(admin.post("/applications", params={"what_if": "true"}))
    assert preview["pairs_blocked"] == []

    # Step 2: buy the licenses.
    ok(admin.post("/skus/MICROSOFT_REMOTE_ASSIST/purchase", json={"seats": 3}))
    skus = {
        s["part_number"]: s for s in ok(admin.post("/skus/SPE_E5/purchase", json={"seats": 20}))
    }
    assert skus["SPE_E5"]["seats"] == 20
    assert skus["MICROSOFT_REMOTE_ASSIST"]["seats"] == 3

    # People: two support engineers per vendor, and other ABC staff.
    for n in range(1, 4):
        for k in "ab":
            ok(
                admin.post(
                    "/users",
                    json={
                        "upn": f"se{n}{k}@abc.example",
                        "display_name": f"Support Engineer {n}{k.upper()}",
                        "attributes": {"Department": "Support"},
                    },
                ),
                201,
            )
    for name in ("alex", "blair"):
        ok(
            admin.post(
                "/users",
                json={
                    "upn": f"{name}@abc.example",
                    "display_name": name.title(),
                    "attributes": {"Department": "Operations"},
                },
            ),
            201,
        )

    # Step 3: a service account per vendor, sponsored by the vendor's first engineer.
    for n, vendor in enumerate(VENDORS, start=1):
        account = ok(
            admin.post(
                "/service-accounts",
                json={
                    "upn": f"{vendor.lower()}-ra@abc.example",
                    "vendor": f"Vendor{n}",
                    "sponsor": f"se{n}a@abc.example",
                    "display_name": f"{vendor} Remote Assist",
                },
            ),
            201,
        )
        assert account["kind"] == "service_account"
        assert account["attributes"]["Company"] == f"Vendor{n}"
        assert account["sponsor"] == f"se{n}a@abc.example"

    # Step 4: assign licenses, and run out of Remote Assist seats.
    everyone = [u["upn"] for u in ok(admin.get("/users"))]
    for upn in everyone:
        ok(admin.post(f"/users/{upn}/licenses", json={"sku": "SPE_E5"}))
    for vendor in VENDORS:
        plans = ok(
            admin.post(
                f"/users/{vendor.lower()}-ra@abc.example/licenses",
                json={"sku": "MICROSOFT_REMOTE_ASSIST"},
            )
        )
        assert "MICROSOFT_REMOTE_ASSIST" in plans["service_plans"]
    ok(admin.post("/users", json={"upn": "spare@abc.example"}), 201)
    out = admin.post("/users/spare@abc.example/licenses", json={"sku": "MICROSOFT_REMOTE_ASSIST"})
    assert out.status_code == 409
    assert out.json()["code"] == "out_of_seats"

    # Step 5: groups, segments (by group, the same attribute for all) and policies.
    for n, vendor in enumerate(VENDORS, start=1):
        ok(
            admin.post(
                "/groups",
                json={
                    "display_name": f"{vendor}_RemoteAssistUser",
                    "members": [f"{vendor.lower()}-ra@abc.example"],
                },
            ),
            201,
        )
        ok(
            admin.post(
                "/groups",
                json={
                    "display_name": f"{vendor}_SupportEngineer",
                    "members": [f"se{n}a@abc.example", f"se{n}b@abc.example"],
                },
            ),
            201,
        )
        for role in ("RemoteAssistUser", "SupportEngineer"):
            name = f"{vendor}_{role}"
            ok(
                admin.post("/segments", json={"name": name, "filter": f"MemberOf -eq '{name}'"}),
                201,
            )
    ok(
        admin.post("/segments", json={"name": "Staff", "filter": "Department -eq 'Operations'"}),
        201,
    )
    ok(admin.post("/segments", json={"name": "Legal", "filter": "Department -eq 'Legal'"}), 201)
    engineers = [f"{v}_SupportEngineer" for v in VENDORS]
    for vendor in VENDORS:
        ra, se = f"{vendor}_RemoteAssistUser", f"{vendor}_SupportEngineer"
        ok(
            admin.post(
                "/policies",
                json={
                    "name": f"{ra}-allow",
                    "assigned_segment": ra,
                    "segments_allowed": [ra, se],
                    "state": "Active",
                },
            ),
            201,
        )
        ok(
            admin.post(
                "/policies",
                json={
                    "name": f"{se}-allow",
                    "assigned_segment": se,
                    "segments_allowed": [se, ra, "Staff", *(e for e in engineers if e != se)],
                    "state": "Active",
                },
            ),
            201,
        )
    ok(
        admin.post(
            "/policies",
            json={
                "name": "Legal-block",
                "assigned_segment": "Legal",
                "segments_blocked": engineers,
                "state": "Active",
            },
        ),
        201,
    )

    # Preview, then apply: 202 with the application's id, then poll its status.
    preview = ok(admin.post("/applications", params={"what_if": "true"}))
    assert any(
        {p["a"], p["b"]} == {"V1_RemoteAssistUser", "V2_SupportEngineer"}
        for p in preview["pairs_blocked"]
    )
    started = admin.post("/applications")
    assert started.status_code == 202, started.text
    app_id = started.json()["id"]
    for _ in range(200):
        status = ok(admin.get(f"/applications/{app_id}"))
        if status["status"] != "InProgress":
            break
    assert status["status"] == "Completed"
    assert status["failed_recipients"] == 0

    # V1's service account finds and calls V1's engineer, and shares its screen.
    found = ok(front.get("/search", params={"q": "support", "as": "v1-ra@abc.example"}))
    assert [r["upn"] for r in found["results"]] == ["se1a@abc.example", "se1b@abc.example"]
    call = ok(
        front.post(
            "/calls",
            json={"from": "v1-ra@abc.example", "to": ["se1a@abc.example"], "kind": "remote_assist"},
        ),
        201,
    )
    shared = ok(front.post(f"/calls/{call['id']}/screen-share", json={"upn": "v1-ra@abc.example"}))
    assert shared["sharing"] == "v1-ra@abc.example"

    # It cannot find or call V2's engineer, nor start a group chat with V3's account.
    found = ok(front.get("/search", params={"q": "se2", "as": "v1-ra@abc.example"}))
    assert found["results"] == []
    body = refused(
        front.post(
            "/calls",
            json={"from": "v1-ra@abc.example", "to": ["se2a@abc.example"], "kind": "remote_assist"},
        ),
        "blocked_by_policy",
    )
    assert body["policy"] == "V1_RemoteAssistUser-allow"
    body = refused(
        front.post(
            "/chats",
            json={"from": "v1-ra@abc.example", "to": ["se1a@abc.example", "v3-ra@abc.example"]},
        )
    )
    assert body["pair"] == ["v1-ra@abc.example", "v3-ra@abc.example"]
    decided = ok(
        front.post(
            "/decisions",
            json={
                "checks": [
                    {"action": "call", "from": "v1-ra@abc.example", "to": ["se1a@abc.example"]},
                    {"action": "search", "from": "v1-ra@abc.example", "to": ["se2a@abc.example"]},
                    {"action": "chat", "from": "v1-ra@abc.example", "to": ["nobody@abc.example"]},
                ]
            },
        )
    )["results"]
    assert [r.get("allowed") for r in decided[:2]] == [True, False]
    assert decided[2]["error"]["code"] == "unknown_user"
    # A Remote Assist call needs the caller's license: the engineer has none.
    refused(
        front.post(
            "/calls",
            json={"from": "se1a@abc.example", "to": ["v1-ra@abc.example"], "kind": "remote_assist"},
        ),
        "license_required",
    )

    # Existing communications for the changes that follow.
    one_on_one = ok(
        front.post("/chats", json={"from": "alex@abc.example", "to": ["se1a@abc.example"]}), 201
    )
    group = ok(
        front.post(
            "/chats",
            json={"from": "se1a@abc.example", "to": ["se2a@abc.example", "blair@abc.example"]},
        ),
        201,
    )
    meeting = ok(
        front.post(
            "/meetings",
            json={
                "organizer": "se1b@abc.example",
                "subject": "sync",
                "invitees": ["alex@abc.example", "se2b@abc.example"],
            },
        ),
        201,
    )
    ok(
        front.post(
            f"/chats/{one_on_one['id']}/messages",
            json={"from": "alex@abc.example", "text": "hello"},
        ),
        201,
    )

    # A policy change: V1's and V2's engineers may no longer talk to each other.
    others = ["V3_SupportEngineer"]
    ok(
        admin.patch(
            "/policies/V1_SupportEngineer-allow",
            json={
                "segments_allowed": ["V1_SupportEngineer", "V1_RemoteAssistUser", "Staff", *others]
            },
        )
    )
    applied = ok(admin.post("/applications", params={"wait": "true"}))
    actions = applied["report"]["reconciliation"]
    removed = [(a["kind"], a["upn"]) for a in actions]
    # The group chat se1a + se2a + blair: se1a and se2a clash once each; the tie goes to the
    # most recently joined, then the greater UPN: se2a (joined with blair, after se1a).
    assert ("chat_participant_removed", "se2a@abc.example") in removed
    assert ("meeting_invitee_removed", "se2b@abc.example") in removed
    chat = ok(front.get(f"/chats/{group['id']}"))
    assert "se2a@abc.example" in chat["removed"]
    refused(
        front.post(
            f"/chats/{group['id']}/messages",
            json={"from": "se2a@abc.example", "text": "still here?"},
        ),
        "removed_from_chat",
    )

    # A user's department changes: Alex moves to Legal, blocked from every engineer,
    # effective at once (no re-apply): the 1:1 chat becomes read-only, the meeting loses Alex.
    ok(admin.patch("/users/alex@abc.example", json={"attributes": {"Department": "Legal"}}))
    chat = ok(front.get(f"/chats/{one_on_one['id']}"))
    assert chat["read_only"] is True
    refused(
        front.post(
            f"/chats/{one_on_one['id']}/messages", json={"from": "se1a@abc.example", "text": "hi"}
        ),
        "chat_read_only",
    )
    history = ok(front.get(f"/chats/{one_on_one['id']}/messages"))
    assert [m["text"] for m in history] == ["hello"]  # history stays readable
    meeting_now = ok(front.get(f"/meetings/{meeting['id']}"))
    assert "alex@abc.example" not in [i["upn"] for i in meeting_now["invitees"]]
    verdict = ok(
        front.get("/relationship", params={"a": "alex@abc.example", "b": "se1a@abc.example"})
    )
    assert verdict["allowed"] is False
    assert verdict["policy"] == "Legal-block"

    # Every change, refusal and reconciliation action is in the audit log, which verifies.
    kinds = [e["kind"] for e in ok(admin.get("/audit"))]
    assert "collaboration.refused" in kinds
    assert "reconciliation.chat_read_only" in kinds
    assert "reconciliation.chat_participant_removed" in kinds
    assert ok(admin.get("/audit/verify"))["intact"] is True
