"""SCIM 2.0 at /scim/v2/{tenant}/: discovery, tokens, CRUD, filters, paging, errors, mapping."""

from __future__ import annotations

from typing import Any

import pytest
from scim_support import CORE_GROUP, CORE_USER, ENTERPRISE, INFOBARRIER, PATCH_OP, Scim

from infobarrier.core.attributes import STORED_ATTRIBUTES
from infobarrier.core.directory import make_user
from infobarrier.scim.mapping import ADDRESS, EXTENSION
from infobarrier.scim.mapping import ENTERPRISE as ENTERPRISE_FIELDS


def user_body(upn: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE_USER], "userName": upn, "active": True, **extra}


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def directory_user(scim: Scim, upn: str) -> Any:
    return scim.services.directory.directory(scim.tenant).by_upn(upn)


# -- discovery ---------------------------------------------------------------------------------
def test_service_provider_config_announces_what_is_supported(scim: Scim) -> None:
    config = scim.ok("GET", "ServiceProviderConfig")
    assert config["patch"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["bulk"]["supported"] is False
    assert config["changePassword"]["supported"] is False
    assert config["etag"]["supported"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim: Scim) -> None:
    types = {t["name"]: t for t in scim.ok("GET", "ResourceTypes")["Resources"]}
    assert types["User"]["endpoint"] == "/Users"
    assert {e["schema"] for e in types["User"]["schemaExtensions"]} == {ENTERPRISE, INFOBARRIER}
    assert types["Group"]["schema"] == CORE_GROUP
    schemas = {s["id"]: s for s in scim.ok("GET", "Schemas")["Resources"]}
    assert {CORE_USER, CORE_GROUP, ENTERPRISE, INFOBARRIER} <= set(schemas)
    ours = {a["name"] for a in schemas[INFOBARRIER]["attributes"]}
    assert {"mailNickname", "usageLocation", "extensionAttribute1", "extensionAttribute15"} <= ours
    assert "msExchExtensionCustomAttribute5" in ours
    assert scim.ok("GET", f"Schemas/{INFOBARRIER}")["id"] == INFOBARRIER


# -- tokens --------------------------------------------------------------------------------------
def test_tokens_roles_and_tenants(scim: Scim) -> None:
    response = scim.http.get("/scim/v2/contoso/Users")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/scim+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    bad = scim.http.get("/scim/v2/contoso/Users", headers={"Authorization": "Bearer ib_x_y"})
    assert bad.status_code == 401
    scim.error("GET", "Users", status=403, role="auditor")
    scim.error("GET", "Users", status=403, role="enforcer")
    scim.error("POST", "Users", user_body("x@contoso.com"), status=403, role="enforcer")
    # Another tenant's provisioner: as if the tenant did not exist.
    scim.error("GET", "Users", status=404, as_tenant="fabrikam")
    scim.error("GET", "Users", status=404, tenant="nowhere", as_tenant="fabrikam")
    assert scim.ok("GET", "Users", role="admin")["totalResults"] == 0
    assert scim.ok("GET", "Users")["totalResults"] == 0


def test_a_tenant_never_sees_another_tenants_users(scim: Scim) -> None:
    created = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    scim.error("GET", f"Users/{created['id']}", status=404, tenant="fabrikam")
    scim.error("DELETE", f"Users/{created['id']}", status=404, tenant="fabrikam")
    assert scim.ok("GET", "Users", tenant="fabrikam")["totalResults"] == 0


def test_unknown_endpoint_and_bad_requests_are_scim_errors(scim: Scim) -> None:
    assert "Nothing" in scim.error("GET", "Nothing", status=404)["detail"]
    error = scim.error("GET", "Users", status=400, params={"filter": 'userName eq "x'})
    assert error["scimType"] == "invalidFilter"
    error = scim.error("POST", "Users", {"schemas": [CORE_USER]}, status=400)
    assert "userName" in error["detail"]
    scim.error("GET", "Users/does-not-exist", status=404)
    scim.error("POST", "Bulk", {"Operations": []}, status=501)


# -- users ---------------------------------------------------------------------------------------
FULL_USER: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE, INFOBARRIER],
    "externalId": "E-1",
    "userName": "Pat.Doe@contoso.com",
    "name": {"givenName": "Pat", "familyName": "Doe"},
    "title": "Analyst",
    "userType": "guest",
    "active": True,
    "password": "never kept",
    "emails": [
        {"value": "pat@contoso.com", "type": "work", "primary": True},
        {"value": "pat.doe@contoso.mail.example", "type": "other"},
    ],
    "addresses": [
        {"type": "home", "country": "NL"},
        {
            "type": "work",
            "streetAddress": "1 Main St",
            "postalCode": "12345",
            "country": "US",
            "formatted": "Building 7",
        },
    ],
    "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
    ENTERPRISE: {"department": "Research", "organization": "Contoso Ltd", "employeeNumber": "42"},
    INFOBARRIER: {
        "mailNickname": "pat",
        "usageLocation": "US",
        "extensionAttribute3": "Desk-9",
        "msExchExtensionCustomAttribute2": "EU",
        "hiddenFromAddressListsEnabled": False,
    },
}


def test_create_maps_scim_onto_the_directory(scim: Scim) -> None:
    created = scim.ok("POST", "Users", FULL_USER, status=201)
    response = scim("GET", f"Users/{created['id']}")
    assert response.headers["etag"] == created["meta"]["version"]
    assert created["meta"]["location"].endswith(f"/scim/v2/contoso/Users/{created['id']}")
    assert "password" not in created
    user = directory_user(scim, "pat.doe@contoso.com")
    assert user.id == created["id"]
    assert user.upn == "Pat.Doe@contoso.com"
    assert user.display_name == "Pat Doe"  # no displayName: given + family name
    assert user.mail == "pat@contoso.com"
    assert user.account_enabled is True
    assert user.user_type.value == "Guest"
    assert user.hidden_from_address_lists is False
    assert user.proxy_addresses == ("SMTP:pat@contoso.com", "smtp:pat.doe@contoso.mail.example")
    assert dict(user.attributes) == {
        "Department": "Research",
        "Company": "Contoso Ltd",
        "StreetAddress": "1 Main St",
        "PostalCode": "12345",
        "Co": "US",
        "PhysicalDeliveryOfficeName": "Building 7",
        "MailNickname": "pat",
        "UsageLocation": "US",
        "ExtensionAttribute3": "Desk-9",
        "MSExchExtensionCustomAttribute2": "EU",
    }
    # What the directory does not hold is kept and given back, the password excepted.
    assert created["externalId"] == "E-1"
    assert created["title"] == "Analyst"
    assert created["userType"] == "guest"
    assert created["phoneNumbers"] == [{"value": "+1 555 0100", "type": "work"}]
    assert created[ENTERPRISE]["employeeNumber"] == "42"
    with scim.services.store.transaction() as repo:
        record = repo.scope(repo.tenants.get("contoso")).scim.get("User", created["id"])
    assert record is not None
    assert "password" not in record.data


def test_userName_is_unique(scim: Scim) -> None:
    scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    error = scim.error("POST", "Users", user_body("ANN@contoso.com"), status=409)
    assert error["scimType"] == "uniqueness"
    assert [u.upn for u in scim.services.directory.directory("contoso").users()] == [
        "ann@contoso.com"
    ]


def test_filters(scim: Scim) -> None:
    ann = scim.ok("POST", "Users", user_body("ann@contoso.com", externalId="A-1"), status=201)
    scim.ok(
        "POST",
        "Users",
        user_body("bob@contoso.com", externalId="B-1", **{ENTERPRISE: {"department": "Sales"}}),
        status=201,
    )

    def found(text: str) -> list[str]:
        answer = scim.ok("GET", "Users", params={"filter": text})
        assert answer["totalResults"] == len(answer.get("Resources", []))
        return [r["userName"] for r in answer.get("Resources", [])]

    assert found('userName eq "ANN@Contoso.com"') == ["ann@contoso.com"]
    assert found('USERNAME Eq "ann@contoso.com"') == ["ann@contoso.com"]
    assert found('externalId eq "B-1"') == ["bob@contoso.com"]
    assert found('externalId eq "b-1"') == []  # externalId is case-exact
    assert found(f'id eq "{ann["id"]}"') == ["ann@contoso.com"]
    assert found('userName eq "nobody@contoso.com"') == []
    assert found(f'{ENTERPRISE}:department eq "sales"') == ["bob@contoso.com"]
    assert found('userName sw "b" or externalId eq "A-1"') == ["ann@contoso.com", "bob@contoso.com"]
    # POST .search works as GET does.
    answer = scim.ok(
        "POST",
        "Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "bob@contoso.com"',
        },
    )
    assert answer["totalResults"] == 1


def test_paging_and_sorting(scim: Scim) -> None:
    for name in ("eve", "cat", "ann", "dan", "bob"):
        scim.ok("POST", "Users", user_body(f"{name}@contoso.com"), status=201)
    page = scim.ok("GET", "Users", params={"startIndex": 2, "count": 2, "sortBy": "userName"})
    assert page["totalResults"] == 5
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 2
    assert [r["userName"] for r in page["Resources"]] == ["bob@contoso.com", "cat@contoso.com"]
    last = scim.ok(
        "GET",
        "Users",
        params={"startIndex": 5, "count": 10, "sortBy": "userName", "sortOrder": "descending"},
    )
    assert [r["userName"] for r in last["Resources"]] == ["ann@contoso.com"]
    assert scim.ok("GET", "Users", params={"count": 0})["totalResults"] == 5
    only_names = scim.ok("GET", "Users", params={"attributes": "userName", "count": 1})
    assert set(only_names["Resources"][0]) == {"schemas", "id", "userName"}


def test_put_replaces_and_clears(scim: Scim) -> None:
    created = scim.ok("POST", "Users", FULL_USER, status=201)
    replaced = scim.ok(
        "PUT",
        f"Users/{created['id']}",
        {
            "schemas": [CORE_USER],
            "id": created["id"],
            "userName": "pat.doe@contoso.com",
            "displayName": "Pat D.",
            "active": False,
            "emails": [{"value": "pat@contoso.com", "type": "work", "primary": True}],
        },
    )
    assert ENTERPRISE not in replaced
    assert "title" not in replaced
    assert "externalId" not in replaced  # a PUT without it clears it
    user = directory_user(scim, "pat.doe@contoso.com")
    assert user.upn == "pat.doe@contoso.com"
    assert user.display_name == "Pat D."
    assert user.account_enabled is False
    assert user.user_type.value == "Member"
    assert dict(user.attributes) == {}
    assert user.proxy_addresses == ("SMTP:pat@contoso.com",)


def test_patch_operations(scim: Scim) -> None:
    created = scim.ok("POST", "Users", FULL_USER, status=201)
    path = f"Users/{created['id']}"
    scim.ok(
        "PATCH",
        path,
        patch(
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
            {"op": "Add", "path": f"{INFOBARRIER}:extensionAttribute1", "value": "Floor 3"},
            {"op": "Remove", "path": 'addresses[type eq "work"].formatted'},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "pd@contoso.com"},
        ),
    )
    user = directory_user(scim, "pat.doe@contoso.com")
    assert user.attributes["Department"] == "Sales"
    assert user.attributes["ExtensionAttribute1"] == "Floor 3"
    assert "PhysicalDeliveryOfficeName" not in user.attributes
    assert user.mail == "pd@contoso.com"
    # The operations of a PATCH apply as a whole: one fails, none applies.
    scim.error(
        "PATCH",
        path,
        patch(
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Legal"},
            {"op": "replace", "path": "id", "value": "other"},
        ),
        status=400,
    )
    assert directory_user(scim, "pat.doe@contoso.com").attributes["Department"] == "Sales"
    # Without a path, the value names the attributes (Okta's deactivation).
    answer = scim.ok("PATCH", path, patch({"op": "replace", "value": {"active": False}}))
    assert answer["active"] is False
    assert directory_user(scim, "pat.doe@contoso.com").account_enabled is False


def test_etags(scim: Scim) -> None:
    created = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    path = f"Users/{created['id']}"
    version = created["meta"]["version"]
    stale = scim(
        "PATCH",
        path,
        patch({"op": "replace", "path": "displayName", "value": "A"}),
        headers={"If-Match": 'W/"stale"'},
    )
    assert stale.status_code == 412
    fresh = scim.ok(
        "PATCH",
        path,
        patch({"op": "replace", "path": "displayName", "value": "A"}),
        headers={"If-Match": version},
    )
    assert fresh["meta"]["version"] != version
    assert scim("GET", path, headers={"If-None-Match": fresh["meta"]["version"]}).status_code == 304


def test_delete_user(scim: Scim) -> None:
    created = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    group = scim.ok(
        "POST",
        "Groups",
        {"schemas": [CORE_GROUP], "displayName": "Team", "members": [{"value": created["id"]}]},
        status=201,
    )
    scim.ok("DELETE", f"Users/{created['id']}", status=204)
    scim.error("GET", f"Users/{created['id']}", status=404)
    assert scim.services.directory.directory("contoso").find_upn("ann@contoso.com") is None
    assert "members" not in scim.ok("GET", f"Groups/{group['id']}")
    scim.error("DELETE", f"Users/{created['id']}", status=404)


# -- groups --------------------------------------------------------------------------------
def test_groups(scim: Scim) -> None:
    ann = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    bob = scim.ok("POST", "Users", user_body("bob@contoso.com"), status=201)
    group = scim.ok(
        "POST",
        "Groups",
        {
            "schemas": [CORE_GROUP],
            "externalId": "G-1",
            "displayName": "Deal Team",
            "members": [{"value": ann["id"]}],
        },
        status=201,
    )
    assert group["members"] == [{"value": ann["id"]}]
    found = scim.ok(
        "GET",
        "Groups",
        params={"filter": 'displayName eq "deal team"', "excludedAttributes": "members"},
    )
    assert found["totalResults"] == 1
    assert "members" not in found["Resources"][0]
    assert scim.ok("GET", "Groups", params={"filter": 'externalId eq "G-1"'})["totalResults"] == 1
    member_of = scim.ok("GET", "Groups", params={"filter": f'members[value eq "{ann["id"]}"]'})
    assert member_of["totalResults"] == 1
    # A user shows the groups it is in (read-only).
    assert [g["display"] for g in scim.ok("GET", f"Users/{ann['id']}")["groups"]] == ["Deal Team"]

    path = f"Groups/{group['id']}"
    scim.ok("PATCH", path, patch({"op": "add", "path": "members", "value": [{"value": bob["id"]}]}))
    directory = scim.services.directory.directory("contoso")
    assert directory.group(group["id"]).members == {ann["id"], bob["id"]}
    scim.ok("PATCH", path, patch({"op": "remove", "path": f'members[value eq "{ann["id"]}"]'}))
    scim.ok("PATCH", path, patch({"op": "replace", "path": "displayName", "value": "Deal Team 2"}))
    directory = scim.services.directory.directory("contoso")
    assert directory.group(group["id"]).members == {bob["id"]}
    assert directory.group(group["id"]).display_name == "Deal Team 2"
    scim.ok("DELETE", path, status=204)
    assert scim.services.directory.directory("contoso").find_group("Deal Team 2") is None
    assert directory_user(scim, "bob@contoso.com").id == bob["id"]


def test_group_errors_change_nothing(scim: Scim) -> None:
    ann = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    group = scim.ok(
        "POST",
        "Groups",
        {"schemas": [CORE_GROUP], "displayName": "Team", "members": [{"value": ann["id"]}]},
        status=201,
    )
    error = scim.error(
        "PATCH",
        f"Groups/{group['id']}",
        patch({"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}),
        status=400,
    )
    assert "no-such-user" in error["detail"]
    error = scim.error(
        "PUT",
        f"Groups/{group['id']}",
        {"schemas": [CORE_GROUP], "displayName": "Team", "members": [{"value": group["id"]}]},
        status=400,
    )
    assert "nested groups" in error["detail"]
    error = scim.error(
        "POST", "Groups", {"schemas": [CORE_GROUP], "displayName": "TEAM"}, status=409
    )
    assert error["scimType"] == "uniqueness"
    assert scim.services.directory.directory("contoso").group(group["id"]).members == {ann["id"]}


# -- the directory stays the system of record ------------------------------------------------
def test_directory_changes_show_through_scim(scim: Scim) -> None:
    created = scim.ok("POST", "Users", FULL_USER, status=201)
    scim.services.directory.update_user(
        "contoso", "pat.doe@contoso.com", "test", Department="Legal", mail="pd@contoso.com"
    )
    seen = scim.ok("GET", f"Users/{created['id']}")
    assert seen[ENTERPRISE]["department"] == "Legal"
    assert seen[ENTERPRISE]["employeeNumber"] == "42"  # what SCIM wrote is kept
    assert seen["emails"][0] == {"value": "pd@contoso.com", "type": "work", "primary": True}
    assert seen["title"] == "Analyst"
    assert seen["meta"]["version"] != created["meta"]["version"]


def test_users_from_other_sources_are_resources_too(scim: Scim) -> None:
    scim.services.directory.put_users(
        "contoso",
        [
            make_user(
                "old@contoso.com",
                display_name="Old Timer",
                mail="old@contoso.com",
                proxy_addresses=["SMTP:old@contoso.com", "smtp:o@contoso.com", "SIP:old@x"],
                Department="Ops",
                Co="FR",
            )
        ],
        "test",
    )
    scim.services.directory.put_group("contoso", "Ops", "test", members=["old@contoso.com"])
    listed = scim.ok("GET", "Users", params={"filter": 'userName eq "old@contoso.com"'})
    (old,) = listed["Resources"]
    assert old["displayName"] == "Old Timer"
    assert old["active"] is True
    assert old[ENTERPRISE] == {"department": "Ops"}
    assert old["addresses"] == [{"country": "FR", "type": "work"}]
    assert old["emails"] == [
        {"value": "old@contoso.com", "type": "work", "primary": True},
        {"value": "o@contoso.com", "type": "other"},
    ]
    assert [g["display"] for g in old["groups"]] == ["Ops"]
    assert "created" not in old["meta"]  # never provisioned through SCIM
    groups = scim.ok("GET", "Groups")["Resources"]
    assert groups[0]["members"][0]["value"] == old["id"]
    assert groups[0]["members"][0]["display"] == "Old Timer"
    # A SCIM write then takes the user over; the directory keeps the id.
    scim.ok("PATCH", f"Users/{old['id']}", patch({"op": "replace", "path": "title", "value": "X"}))
    assert directory_user(scim, "old@contoso.com").attributes["Department"] == "Ops"


def test_every_scim_write_is_audited_with_the_token(scim: Scim) -> None:
    created = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    scim.ok(
        "PATCH",
        f"Users/{created['id']}",
        patch({"op": "replace", "path": "active", "value": False}),
    )
    scim.ok("GET", "Users")
    entries = [e for e in scim.services.audit.entries("contoso") if e.kind.startswith("scim.")]
    assert [e.kind for e in entries] == ["scim.user_created", "scim.user_deactivated"]
    token_id = scim.tokens[("contoso", "provisioner")].split("_")[1]
    assert {e.actor for e in entries} == {f"token:{token_id}"}
    assert entries[1].detail["changes"] == {"AccountEnabled": False}
    assert scim.services.audit.verify("contoso")[1] is None


@pytest.mark.parametrize("text", ["False", "false", "FALSE"])
def test_active_as_a_string(scim: Scim, text: str) -> None:
    created = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    scim.ok(
        "PATCH", f"Users/{created['id']}", patch({"op": "Replace", "path": "active", "value": text})
    )
    assert directory_user(scim, "ann@contoso.com").account_enabled is False


def test_every_segmentable_attribute_has_a_scim_attribute() -> None:
    mapped = [*ENTERPRISE_FIELDS, *ADDRESS, *EXTENSION]
    assert sorted(mapped) == sorted(STORED_ATTRIBUTES)


def test_root_search_entra_flag_and_scim_suffix(scim: Scim) -> None:
    scim.ok("POST", "Users", user_body("ann@contoso.com", displayName="Ops"), status=201)
    scim.ok("POST", "Groups", {"schemas": [CORE_GROUP], "displayName": "Ops"}, status=201)
    both = scim.ok("GET", "", params={"filter": 'displayName eq "ops"'})
    assert sorted(r["meta"]["resourceType"] for r in both["Resources"]) == ["Group", "User"]
    # Entra ID's compliance flag travels on the tenant URL; it changes nothing here.
    flagged = scim.ok(
        "GET", "Users", params={"aadOptscim062020": "", "filter": 'userName eq "ann@contoso.com"'}
    )
    assert flagged["totalResults"] == 1
    assert scim.ok("GET", "Users.scim")["totalResults"] == 1


def test_renaming_a_user(scim: Scim) -> None:
    ann = scim.ok("POST", "Users", user_body("ann@contoso.com"), status=201)
    scim.ok("POST", "Users", user_body("bob@contoso.com"), status=201)
    path = f"Users/{ann['id']}"
    renamed = scim.ok(
        "PATCH", path, patch({"op": "Replace", "path": "userName", "value": "ann.lee@contoso.com"})
    )
    assert renamed["userName"] == "ann.lee@contoso.com"
    assert directory_user(scim, "ann.lee@contoso.com").id == ann["id"]
    error = scim.error(
        "PATCH",
        path,
        patch({"op": "Replace", "path": "userName", "value": "BOB@contoso.com"}),
        status=409,
    )
    assert error["scimType"] == "uniqueness"
    assert directory_user(scim, "ann.lee@contoso.com").id == ann["id"]


def test_entra_manager_as_a_string(scim: Scim) -> None:
    boss = scim.ok("POST", "Users", user_body("boss@contoso.com"), status=201)
    body = user_body(
        "ann@contoso.com", **{ENTERPRISE: {"department": "Ops", "Manager": boss["id"]}}
    )
    ann = scim.ok("POST", "Users", body, status=201)
    boss_url = boss["meta"]["location"]
    assert ann[ENTERPRISE]["manager"] == {"value": boss["id"], "$ref": boss_url}
    cleared = scim.ok(
        "PATCH",
        f"Users/{ann['id']}",
        patch({"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""}),
    )
    assert cleared[ENTERPRISE] == {"department": "Ops"}
    again = scim.ok(
        "PATCH",
        f"Users/{ann['id']}",
        patch({"op": "replace", "value": {f"{ENTERPRISE}:manager": boss["id"]}}),
    )
    assert again[ENTERPRISE]["manager"] == {"value": boss["id"], "$ref": boss_url}
