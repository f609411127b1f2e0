"""SCIM from any identity provider: a ``userName`` that is not an address (docs/scim.md).

The user principal name is ``userName`` when it is an address (Entra ID, Okta), else the
UPN the user already has when ``userName`` did not change, else the primary work e-mail,
else the tenant's template (default ``{userName}@{tenant}.invalid``).
"""

from __future__ import annotations

from typing import Any

import pytest
from scim2_models import Email, User
from scim_support import CORE_USER, PATCH_OP, Scim

from infobarrier.core.errors import InvalidInput
from infobarrier.scim.upn import check_template, derive_upn, is_address


def body(user_name: str, *emails: tuple[str, str, bool]) -> dict[str, Any]:
    sent: dict[str, Any] = {"schemas": [CORE_USER], "userName": user_name, "active": True}
    if emails:
        sent["emails"] = [{"value": v, "type": t, "primary": p} for v, t, p in emails]
    return sent


def upns(scim: Scim) -> list[str]:
    return sorted(u.upn for u in scim.services.directory.directory(scim.tenant).users())


def test_a_bare_userName_gets_the_template_upn_and_reads_back_as_sent(scim: Scim) -> None:
    created = scim.ok("POST", "Users", body("bjensen"), status=201)
    assert created["userName"] == "bjensen"
    assert upns(scim) == ["bjensen@contoso.invalid"]
    assert scim.ok("GET", f"Users/{created['id']}")["userName"] == "bjensen"
    for asked in ("bjensen", "BJENSEN"):
        found = scim.ok("GET", "Users", params={"filter": f'userName eq "{asked}"'})
        assert [r["id"] for r in found["Resources"]] == [created["id"]], asked
    assert scim.ok("GET", "Users", params={"filter": 'userName eq "nobody"'})["totalResults"] == 0


def test_a_bare_userName_is_unique_ignoring_case(scim: Scim) -> None:
    scim.ok("POST", "Users", body("bjensen"), status=201)
    error = scim.error(
        "POST", "Users", body("BJensen", ("b2@contoso.com", "work", True)), status=409
    )
    assert error["scimType"] == "uniqueness"
    assert upns(scim) == ["bjensen@contoso.invalid"]


def test_the_primary_work_email_is_the_upn_and_later_edits_rename_nobody(scim: Scim) -> None:
    created = scim.ok(
        "POST",
        "Users",
        body(
            "1001",
            ("home@example.net", "home", False),
            ("other@contoso.com", "work", False),
            ("pat@contoso.com", "work", True),
        ),
        status=201,
    )
    assert upns(scim) == ["pat@contoso.com"]
    scim.ok(
        "PATCH",
        f"Users/{created['id']}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "replace",
                    "path": "emails",
                    "value": [{"value": "x@contoso.com", "type": "work"}],
                }
            ],
        },
    )
    assert upns(scim) == ["pat@contoso.com"]  # same userName: the UPN stays
    scim.ok(
        "PATCH",
        f"Users/{created['id']}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "userName", "value": "1002"}],
        },
    )
    assert upns(scim) == ["x@contoso.com"]  # a new userName: derived again
    assert scim.ok("GET", f"Users/{created['id']}")["userName"] == "1002"


def test_an_address_userName_is_the_upn_as_before(scim: Scim) -> None:
    scim.ok(
        "POST", "Users", body("ann@contoso.com", ("ann.x@contoso.com", "work", True)), status=201
    )
    assert upns(scim) == ["ann@contoso.com"]


def test_a_userName_that_gives_no_address_is_refused_and_changes_nothing(scim: Scim) -> None:
    error = scim.error("POST", "Users", body("Barbara Jensen"), status=400)
    assert error["scimType"] == "invalidValue"
    assert "not name@domain" in error["detail"]
    assert "template" in error["detail"]
    assert upns(scim) == []


def test_a_derived_upn_taken_by_another_user_is_a_conflict(scim: Scim) -> None:
    scim.ok("POST", "Users", body("ann@contoso.invalid"), status=201)
    error = scim.error("POST", "Users", body("ann"), status=409)
    assert error["scimType"] == "uniqueness"
    assert upns(scim) == ["ann@contoso.invalid"]


def test_the_tenant_template_is_set_from_the_cli(scim: Scim, cli: Any) -> None:
    cli.tenant = "contoso"
    assert cli.ok("scim", "upn-template").strip() == "{userName}@{tenant}.invalid (default)"
    cli.ok("scim", "upn-template", "{userName}@corp.contoso.com")
    assert cli.ok("scim", "upn-template").strip() == "{userName}@corp.contoso.com"
    scim.ok("POST", "Users", body("bjensen"), status=201)
    assert upns(scim) == ["bjensen@corp.contoso.com"]
    for bad, says in (
        ("{user}@contoso.com", "unknown placeholder {user}"),
        ("contoso.com", "must contain {userName}"),
        ("{userName}", "not name@domain"),
    ):
        result = cli("scim", "upn-template", bad)
        assert result.code == 2, bad
        assert says in result.err, result.err
    assert cli.ok("scim", "upn-template").strip() == "{userName}@corp.contoso.com"
    # Another tenant keeps the default.
    scim.ok("POST", "Users", body("bjensen"), status=201, tenant="fabrikam")
    assert [u.upn for u in scim.services.directory.directory("fabrikam").users()] == [
        "bjensen@fabrikam.invalid"
    ]
    cli.ok("scim", "upn-template", "--reset")
    assert "(default)" in cli.ok("scim", "upn-template")
    kinds = [e.kind for e in scim.services.audit.entries("contoso")]
    assert kinds.count("scim.upn_template") == 2


@pytest.mark.parametrize(
    ("user_name", "emails", "expected"),
    [
        ("a@b.example", [], "a@b.example"),
        ("jdoe", [], "jdoe@t.invalid"),
        ("jdoe", [("w@b.example", "work", False)], "w@b.example"),
        ("jdoe", [("h@b.example", "home", True)], "jdoe@t.invalid"),
        ("jdoe", [("w1@b.example", "work", False), ("w2@b.example", "work", True)], "w2@b.example"),
    ],
)
def test_derive_upn_rules(
    user_name: str, emails: list[tuple[str, str, bool]], expected: str
) -> None:
    user = User(
        user_name=user_name,
        emails=[Email(value=v, type=t, primary=p) for v, t, p in emails] or None,
    )
    assert derive_upn(user, tenant="t", template=lambda: None) == expected
    assert is_address(expected)


def test_templates_are_checked() -> None:
    assert check_template(" {userName}@{tenant}.example ") == "{userName}@{tenant}.example"
    with pytest.raises(InvalidInput):
        check_template("{userName}@")
