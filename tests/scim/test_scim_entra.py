"""Microsoft Entra ID's provisioning service, replayed: each step moves the barrier at once.

The requests are written as Entra sends them (learn.microsoft.com, "Tutorial: Develop and
plan provisioning for a SCIM endpoint" and "Known issues and resolutions with SCIM 2.0
protocol compliance"), with its default attribute mappings: userPrincipalName → userName,
mailNickname → externalId, mail → emails[type eq "work"].value, department →
enterprise department, physicalDeliveryOfficeName → addresses[type eq "work"].formatted,
Switch([IsSoftDeleted], ...) → active. Two dialects: the ``scim`` job as it behaves by
default (``Replace`` capitalised, booleans as strings, member removal listing the
members), and with the compliance flag (``aadOptscim062020``).
"""

from __future__ import annotations

from typing import Any

import pytest
from scim_support import CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, Scim, build_wall, chat

from infobarrier.core.contract import make_check
from infobarrier.core.errors import NotFound

ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"
PAT = "pat@contoso.com"
RITA = "rita@contoso.com"
SAM = "sam@contoso.com"
IVAN = "ivan@contoso.com"
GROUP_OBJECT_ID = "5c0b6a1e-2f4d-4c0e-9a43-0d8f1d7b2a11"

CREATE_USER: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE],
    "externalId": "pat",
    "userName": PAT,
    "active": True,
    "displayName": "Pat Doe",
    "title": "Analyst",
    "preferredLanguage": "en-US",
    "emails": [{"primary": True, "type": "work", "value": PAT}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "Pat Doe", "familyName": "Doe", "givenName": "Pat"},
    "addresses": [
        {
            "type": "work",
            "formatted": "Building 7",
            "streetAddress": "1 Microsoft Way",
            "locality": "Redmond",
            "region": "WA",
            "postalCode": "98052",
            "country": "US",
        }
    ],
    "phoneNumbers": [{"type": "work", "value": "+1 425 555 0100"}],
    ENTERPRISE: {"employeeNumber": "1001", "department": "Sales"},
    "roles": [],
}

CREATE_GROUP: dict[str, Any] = {
    "schemas": [CORE_GROUP, ADSCIM_GROUP],
    "externalId": GROUP_OBJECT_ID,
    "displayName": "Deal Team",
    "meta": {"resourceType": "Group"},
}


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


#: What each dialect sends for: the department change, adding a member, removing one,
#: and the soft delete.
DIALECTS: dict[str, dict[str, Any]] = {
    "default": {
        "department": lambda: ops(
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"},
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": PAT},
        ),
        "add": lambda uid: ops(
            {"op": "Add", "path": "members", "value": [{"$ref": None, "value": uid}]}
        ),
        "remove": lambda uid: ops(
            {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": uid}]}
        ),
        "deactivate": lambda: ops({"op": "Replace", "path": "active", "value": "False"}),
    },
    "aadOptscim062020": {
        "department": lambda: ops(
            {
                "op": "replace",
                "value": {
                    "displayName": "Pat Doe",
                    'emails[type eq "work"].value': PAT,
                    f"{ENTERPRISE}:department": "Research",
                    "name.givenName": "Pat",
                },
            }
        ),
        "add": lambda uid: ops({"op": "add", "path": "members", "value": [{"value": uid}]}),
        "remove": lambda uid: ops({"op": "remove", "path": f'members[value eq "{uid}"]'}),
        "deactivate": lambda: ops({"op": "replace", "path": "active", "value": False}),
    },
}


def found(scim: Scim, endpoint: str, text: str, **params: str) -> list[dict[str, Any]]:
    answer = scim.ok("GET", endpoint, params={"filter": text, **params})
    resources: list[dict[str, Any]] = answer.get("Resources", [])
    assert answer["totalResults"] == len(resources)
    return resources


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_entra_sequence_moves_the_barrier(scim: Scim, dialect: str) -> None:
    sends = DIALECTS[dialect]
    services = scim.services
    tenant = scim.tenant
    build_wall(services, tenant, "contoso.com")
    services.directory.purchase(tenant, "SPE_E5", 10, "test")
    for upn in (RITA, SAM, IVAN):
        services.directory.assign(tenant, upn, "SPE_E5", "test")

    # "Test connection": a query for a user that does not exist.
    assert found(scim, "Users", 'userName eq "2b4e1d52-2c9f-4d0b-9a1f-0f9a7f3c5e11"') == []
    with pytest.raises(NotFound):
        chat(services, tenant, PAT, RITA)

    # 1. Create: Entra looks the user up by userName, then POSTs it. Pat is in Sales.
    assert found(scim, "Users", f'userName eq "{PAT}"') == []
    pat = scim.ok("POST", "Users", CREATE_USER, status=201)
    uid = pat["id"]
    assert pat["externalId"] == "pat"
    verdict = chat(services, tenant, PAT, RITA)
    assert not verdict.allowed
    assert verdict.policy == "Research wall"
    assert chat(services, tenant, PAT, SAM).allowed
    user = services.directory.directory(tenant).by_upn(PAT)
    assert user.attributes["PhysicalDeliveryOfficeName"] == "Building 7"
    assert user.attributes["Co"] == "US"
    services.directory.assign(tenant, PAT, "SPE_E5", "test")
    # Entra links the manager in a PATCH of its own, the manager's id as a bare string.
    rita_id = services.directory.directory(tenant).by_upn(RITA).id
    linked = scim.ok(
        "PATCH",
        f"Users/{uid}",
        ops({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": rita_id}),
    )
    assert linked[ENTERPRISE]["manager"]["value"] == rita_id

    # 2. Department changes to Research: Pat may now talk with Rita, not with Sam.
    assert found(scim, "Users", f'userName eq "{PAT}"')[0]["id"] == uid
    answer = scim.ok("PATCH", f"Users/{uid}", sends["department"]())
    assert answer[ENTERPRISE]["department"] == "Research"
    assert chat(services, tenant, PAT, RITA).allowed
    assert not chat(services, tenant, PAT, SAM).allowed
    conversation = services.collaboration.create_chat(tenant, PAT, [RITA], "test")

    # 3. Added to the Deal Team group (Entra creates the group, then adds the member):
    #    the Deal Team wall now separates Pat and Rita, and their chat turns read-only (§8).
    assert found(scim, "Groups", 'displayName eq "Deal Team"', excludedAttributes="members") == []
    group = scim.ok("POST", "Groups", CREATE_GROUP, status=201)
    gid = group["id"]
    assert group["schemas"] == [CORE_GROUP]
    scim.ok("PATCH", f"Groups/{gid}", sends["add"](uid))
    verdict = chat(services, tenant, PAT, RITA)
    assert not verdict.allowed
    assert verdict.segment in {"Deal Team", "Research"}
    assert services.decisions.recipient(tenant, PAT).segments == ["Deal Team"]
    assert services.collaboration.get(tenant, "chat", conversation.id).read_only is True  # type: ignore[union-attr]
    kinds = [e.kind for e in services.audit.entries(tenant)]
    assert any(k.startswith("reconciliation.") for k in kinds)
    membership = found(
        scim, "Groups", f'id eq "{gid}" and members[value eq "{uid}"]', excludedAttributes="members"
    )
    assert [g["id"] for g in membership] == [gid]

    # 4. Removed from the group: back in Research, Pat and Rita may talk again.
    scim.ok("PATCH", f"Groups/{gid}", sends["remove"](uid))
    assert services.decisions.recipient(tenant, PAT).segments == ["Research"]
    assert chat(services, tenant, PAT, RITA).allowed
    assert "members" not in scim.ok("GET", f"Groups/{gid}")

    # 5. Soft delete (unassigned in Entra): active false blocks Pat everywhere.
    answer = scim.ok("PATCH", f"Users/{uid}", sends["deactivate"]())
    assert answer["active"] is False
    for other in (RITA, SAM, IVAN):
        verdict = chat(services, tenant, PAT, other)
        assert (verdict.allowed, verdict.code) == (False, "account_disabled"), other
    for action, sender, to in (
        ("call", IVAN, [PAT]),
        ("meeting-invite", RITA, [IVAN, PAT]),
        ("share-file", PAT, [IVAN]),
        ("search", IVAN, [PAT]),
    ):
        verdict = services.decisions.check(tenant, make_check(action, sender, to))
        assert (verdict.allowed, verdict.code) == (False, "account_disabled"), action
    assert chat(services, tenant, RITA, IVAN).allowed  # nobody else moved

    # Every SCIM write is in the audit log, with the provisioner token as actor.
    scim_kinds = [e.kind for e in services.audit.entries(tenant) if e.kind.startswith("scim.")]
    assert scim_kinds == [
        "scim.user_created",
        "scim.user_updated",  # the manager
        "scim.user_updated",
        "scim.group_created",
        "scim.group_updated",
        "scim.group_updated",
        "scim.user_deactivated",
    ]

    # 6. Hard delete after the soft delete.
    scim.ok("DELETE", f"Users/{uid}", status=204)
    with pytest.raises(NotFound):
        chat(services, tenant, PAT, RITA)
