"""Okta's SCIM 2.0 provisioning, replayed: each step moves the barrier at once.

The requests are written as Okta sends them (developer.okta.com, "SCIM 2.0 protocol
reference"): lookups with ``startIndex=1&count=100``, a POST carrying ``password`` and
``groups: []``, profile updates as a PUT of the whole user, Group Push as a POST, a PUT of
the whole group, PATCH ``add`` of members with their ``display``, PATCH ``remove`` with
``members[value eq "..."]``, a rename as a path-less ``replace`` carrying the ``id``, and
deactivation as a path-less ``replace`` of ``active``. Decisions are asked of the
decisions API with an enforcer token, as a collaboration front-end would.
"""

from __future__ import annotations

from typing import Any

from scim_support import CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, Scim, build_wall

PAT = "pat@fabrikam.com"
RITA = "rita@fabrikam.com"
SAM = "sam@fabrikam.com"
IVAN = "ivan@fabrikam.com"
OKTA_USER_ID = "00ujl29u0le5T6Aj10h7"
PAGE = {"startIndex": "1", "count": "100"}


def decide(scim: Scim, action: str, sender: str, to: list[str]) -> dict[str, Any]:
    """The decisions API, as an enforcer of the tenant asks it."""
    response = scim.http.post(
        "/v1/tenants/fabrikam/decisions",
        json={"checks": [{"action": action, "from": sender, "to": to}]},
        headers={"Authorization": f"Bearer {scim.tokens[('fabrikam', 'enforcer')]}"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def okta_user(department: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE_USER, ENTERPRISE],
        "userName": PAT,
        "name": {"givenName": "Pat", "familyName": "Doe"},
        "emails": [{"primary": True, "value": PAT, "type": "work"}],
        "displayName": "Pat Doe",
        "locale": "en-US",
        "externalId": OKTA_USER_ID,
        "groups": [],
        "active": True,
        ENTERPRISE: {"department": department, "organization": "Fabrikam"},
        **extra,
    }


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def test_okta_sequence_moves_the_barrier(scim: Scim) -> None:
    scim.tenant = "fabrikam"
    build_wall(scim.services, "fabrikam", "fabrikam.com")

    unknown = decide(scim, "chat", PAT, [RITA])
    assert unknown["error"]["code"] == "unknown_user"

    # 1. Create: Okta checks the userName is free, then POSTs (a password Okta generated
    #    and an empty groups list, both of which infobarrier does not keep).
    lookup = scim.ok("GET", "Users", params={"filter": f'userName eq "{PAT}"', **PAGE})
    assert (lookup["totalResults"], lookup["startIndex"]) == (0, 1)
    pat = scim.ok("POST", "Users", okta_user("Sales", password="1mz050nq"), status=201)
    uid = pat["id"]
    assert "password" not in pat
    blocked = decide(scim, "chat", PAT, [RITA])
    assert (blocked["allowed"], blocked["policy"]) == (False, "Research wall")
    assert decide(scim, "chat", PAT, [SAM])["allowed"] is True

    # 2. Department updated in Okta: a PUT of the whole user, as Okta read it back.
    current = scim.ok("GET", f"Users/{uid}")
    replaced = scim.ok(
        "PUT",
        f"Users/{uid}",
        {**okta_user("Research"), "id": uid, "meta": current["meta"]},
    )
    assert replaced[ENTERPRISE]["department"] == "Research"
    assert decide(scim, "chat", PAT, [RITA])["allowed"] is True
    assert decide(scim, "chat", PAT, [SAM])["allowed"] is False

    # 3. Group Push: Okta creates the group, then pushes it whole with Pat as a member.
    group = scim.ok(
        "POST",
        "Groups",
        {"schemas": [CORE_GROUP], "displayName": "Deal Team", "members": []},
        status=201,
    )
    gid = group["id"]
    pushed = scim.ok(
        "PUT",
        f"Groups/{gid}",
        {
            "schemas": [CORE_GROUP],
            "id": gid,
            "displayName": "Deal Team",
            "members": [{"value": uid, "display": PAT}],
        },
    )
    assert pushed["members"] == [{"value": uid, "display": PAT}]
    blocked = decide(scim, "chat", PAT, [RITA])
    assert blocked["allowed"] is False
    assert blocked["segment"] in {"Deal Team", "Research"}
    assert decide(scim, "group-chat", IVAN, [PAT, RITA])["allowed"] is False

    # 4. Pat leaves the group: PATCH remove with a value filter.
    scim.ok("PATCH", f"Groups/{gid}", ops({"op": "remove", "path": f'members[value eq "{uid}"]'}))
    assert decide(scim, "chat", PAT, [RITA])["allowed"] is True

    # 5. Back in, then the group is renamed: "Deal Team" no longer matches, the wall falls.
    scim.ok(
        "PATCH",
        f"Groups/{gid}",
        ops({"op": "add", "path": "members", "value": [{"value": uid, "display": PAT}]}),
    )
    assert decide(scim, "chat", PAT, [RITA])["allowed"] is False
    renamed = scim.ok(
        "PATCH",
        f"Groups/{gid}",
        ops({"op": "replace", "value": {"id": gid, "displayName": "Deal Team Alumni"}}),
    )
    assert renamed["displayName"] == "Deal Team Alumni"
    assert decide(scim, "chat", PAT, [RITA])["allowed"] is True

    # 6. Deactivation: a path-less replace; Okta reads the user back from the answer.
    answer = scim.ok("PATCH", f"Users/{uid}", ops({"op": "replace", "value": {"active": False}}))
    assert answer["active"] is False
    assert answer["id"] == uid
    for other in (RITA, SAM, IVAN):
        verdict = decide(scim, "chat", PAT, [other])
        assert (verdict["allowed"], verdict["code"]) == (False, "account_disabled")
    assert decide(scim, "chat", SAM, [IVAN])["allowed"] is True

    # Okta finds the user by externalId too; Group Push deletes the group at the end.
    by_external = scim.ok("GET", "Users", params={"filter": f'externalId eq "{OKTA_USER_ID}"'})
    assert [u["id"] for u in by_external["Resources"]] == [uid]
    scim.ok("DELETE", f"Groups/{gid}", status=204)
    assert decide(scim, "chat", PAT, [RITA])["code"] == "account_disabled"
