"""Two tenants that imported the same directory (same object ids) never touch each other.

The same Entra export imported into ``contoso`` and ``fabrikam`` gives both tenants users
and groups with the same ids. Each tenant's provisioner then works on its own copy: what
one does must change nothing the other sees (its SCIM record, lookups, audit log).
"""

from __future__ import annotations

from scim_support import CORE_USER, PATCH_OP, Scim

from infobarrier.core.directory import make_user

ADMIN = "test"


def test_the_same_object_id_in_two_tenants_is_two_resources(scim: Scim) -> None:
    shared = make_user("ann@example.com", Department="Sales")
    for tenant in ("contoso", "fabrikam"):
        scim.services.directory.put_users(tenant, [shared], ADMIN)

    # contoso's provisioner sets externalId and title on its copy.
    scim.ok(
        "PATCH",
        f"/Users/{shared.id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "externalId", "value": "C-1"},
                {"op": "add", "path": "title", "value": "Trader"},
            ],
        },
        tenant="contoso",
    )
    before = scim.ok("GET", f"/Users/{shared.id}", tenant="contoso")
    assert before["externalId"] == "C-1"
    audit_before = [e.kind for e in scim.services.audit.entries("contoso")]

    # fabrikam's provisioner patches its own copy, then deletes it.
    scim.ok(
        "PATCH",
        f"/Users/{shared.id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "title", "value": "Clerk"}],
        },
        tenant="fabrikam",
    )
    assert scim.ok("GET", f"/Users/{shared.id}", tenant="fabrikam").get("externalId") is None
    scim.ok("DELETE", f"/Users/{shared.id}", tenant="fabrikam", status=204)

    after = scim.ok("GET", f"/Users/{shared.id}", tenant="contoso")
    assert after == before
    assert after["schemas"][0] == CORE_USER
    found = scim.ok("GET", "/Users", params={"filter": 'externalId eq "C-1"'}, tenant="contoso")
    assert [r["id"] for r in found["Resources"]] == [shared.id]
    assert [e.kind for e in scim.services.audit.entries("contoso")] == audit_before
