"""Entra ID CSV import (design, "Users CSV" and "Groups CSV"; semantics §2)."""

from __future__ import annotations

import pytest

from infobarrier.core.directory import Directory, Group, UserType, make_user
from infobarrier.core.errors import InvalidInput
from infobarrier.formats.entra_csv import (
    CsvError,
    GroupRow,
    UserRow,
    merge_groups,
    merge_users,
    parse_groups_csv,
    parse_users_csv,
)

ALICE_ID = "4f6c2a9e-8d1b-4c3a-9b7e-2a1d5c6e7f80"
BOB_ID = "0b1c2d3e-4f50-4617-a8b9-cadbecf00112"
NEW_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

ENTRA_HEADER = (
    "userPrincipalName,displayName,surname,mail,givenName,objectId,userType,jobTitle,"
    "department,accountEnabled,usageLocation,streetAddress,state,country,officeLocation,"
    "city,postalCode,telephoneNumber,mobile,companyName"
)

ENTRA_EXPORT = (
    ENTRA_HEADER
    + "\r\n"
    + "alice@contoso.com,Alice Ng,Ng,alice@contoso.com,Alice,"
    + ALICE_ID
    + ",Member,Analyst,Research,True,US,1 Main St,WA,United States,Building 1,Redmond,"
    + "98052,+1 425 555 0100,+1 425 555 0101,Contoso\r\n"
    + "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com,Gus Guest,,gus@fabrikam.com,,"
    + NEW_ID
    + ",Guest,,,FALSE,,,,,,,,,,Fabrikam\r\n"
)


def _directory() -> Directory:
    alice = make_user(
        "alice@contoso.com",
        id=ALICE_ID,
        display_name="Alice",
        department="Sales",
        company="Contoso",
        office="Building 9",
    )
    bob = make_user("bob@contoso.com", id=BOB_ID, department="Research")
    return Directory(
        [alice, bob],
        [
            Group(id="g-legal", display_name="Legal", mail="legal@contoso.com"),
            Group(id="g-research", display_name="Research Team", members=frozenset({ALICE_ID})),
            Group(id="g-all", display_name="All Staff", members=frozenset({ALICE_ID, BOB_ID})),
        ],
    )


def _snapshot(directory: Directory) -> tuple[list[object], list[object]]:
    return list(directory.users()), list(directory.groups())


def _group_names(directory: Directory, upn: str) -> set[str]:
    return {g.display_name for g in directory.groups_of(directory.by_upn(upn).id)}


# -- parse_users_csv ----------------------------------------------------------------------------
def test_parses_a_realistic_entra_export() -> None:
    rows = parse_users_csv(ENTRA_EXPORT)
    assert [r.upn for r in rows] == [
        "alice@contoso.com",
        "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    ]
    assert [r.line for r in rows] == [2, 3]
    alice = rows[0].fields
    assert alice["id"] == ALICE_ID
    assert alice["display_name"] == "Alice Ng"
    assert alice["mail"] == "alice@contoso.com"
    assert alice["user_type"] is UserType.MEMBER
    assert alice["account_enabled"] is True
    assert alice["Department"] == "Research"
    assert alice["UsageLocation"] == "US"
    assert alice["StreetAddress"] == "1 Main St"
    assert alice["Co"] == "United States"
    assert alice["PhysicalDeliveryOfficeName"] == "Building 1"
    assert alice["PostalCode"] == "98052"
    assert alice["Company"] == "Contoso"
    # Non-segmentable columns (surname, jobTitle, city, mobile, ...) are not kept.
    assert set(alice) == {
        "id",
        "display_name",
        "mail",
        "user_type",
        "account_enabled",
        "Department",
        "UsageLocation",
        "StreetAddress",
        "Co",
        "PhysicalDeliveryOfficeName",
        "PostalCode",
        "Company",
    }
    guest = rows[1].fields
    assert guest["user_type"] is UserType.GUEST
    assert guest["account_enabled"] is False
    assert guest["Department"] == ""


def test_bytes_with_and_without_bom_parse_the_same() -> None:
    text = "userPrincipalName,department\nzoë@contoso.com,Recherche\n"
    plain = parse_users_csv(text.encode("utf-8"))
    with_bom = parse_users_csv(b"\xef\xbb\xbf" + text.encode("utf-8"))
    from_str_bom = parse_users_csv("\ufeff" + text)
    assert plain == with_bom == from_str_bom
    assert plain[0].upn == "zoë@contoso.com"
    assert plain[0].fields == {"Department": "Recherche"}


def test_without_bom_stripping_the_first_header_would_be_unknown() -> None:
    # The BOM must not end up in the first header name, or the UPN column goes missing.
    rows = parse_users_csv(b"\xef\xbb\xbfuserPrincipalName\na@contoso.com\n")
    assert rows[0].upn == "a@contoso.com"


def test_invalid_utf8_names_the_line() -> None:
    data = b"userPrincipalName,department\na@contoso.com,Sales\nb@contoso.com,R\xffD\n"
    with pytest.raises(CsvError) as info:
        parse_users_csv(data)
    assert info.value.line == 3
    assert "users.csv line 3" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_headers_match_case_insensitively_with_aliases_and_spaces() -> None:
    text = (
        " USERPRINCIPALNAME , ID ,PhysicalDeliveryOfficeName,MobilePhone,CompanyName,COUNTRY,"
        "onPremisesExtensionAttributes.extensionAttribute3,CustomAttribute4,mailNickname,"
        "HiddenFromAddressListsEnabled,proxyAddresses,MemberOf\n"
        "a@contoso.com," + NEW_ID + ",Floor 2,555-0100,Contoso,Norway,ext3,ca4,anick,TRUE,"
        "SMTP:a@contoso.com; smtp:alias@contoso.com,Legal;research team\n"
    )
    (row,) = parse_users_csv(text)
    assert row.fields == {
        "id": NEW_ID,
        "PhysicalDeliveryOfficeName": "Floor 2",
        "Company": "Contoso",
        "Co": "Norway",
        "ExtensionAttribute3": "ext3",
        "ExtensionAttribute4": "ca4",
        "MailNickname": "anick",
        "hidden_from_address_lists": True,
        "proxy_addresses": ("SMTP:a@contoso.com", "smtp:alias@contoso.com"),
        "member_of": ("Legal", "research team"),
    }


def test_unknown_columns_are_ignored() -> None:
    text = "favouriteColour,userPrincipalName,jobTitle,shoeSize\nteal,a@contoso.com,CEO,44\n"
    (row,) = parse_users_csv(text)
    assert row.upn == "a@contoso.com"
    assert row.fields == {}


def test_booleans_accept_true_false_in_any_case() -> None:
    text = (
        "userPrincipalName,accountEnabled,HiddenFromAddressListsEnabled\n"
        "a@contoso.com,TRUE,false\n"
        "b@contoso.com,fAlSe,True\n"
        "c@contoso.com,,\n"
    )
    rows = parse_users_csv(text)
    assert [(r.fields["account_enabled"], r.fields["hidden_from_address_lists"]) for r in rows] == [
        (True, False),
        (False, True),
        (True, None),
    ]


@pytest.mark.parametrize("value", ["maybe", "yes", "1", "0", "no"])
def test_other_boolean_values_are_errors_naming_line_and_column(value: str) -> None:
    text = (
        "userPrincipalName,displayName,accountEnabled\n"
        f"a@contoso.com,A,True\nb@contoso.com,B,{value}\n"
    )
    with pytest.raises(CsvError) as info:
        parse_users_csv(text)
    err = info.value
    assert (err.line, err.column) == (3, 3)
    assert err.code == "csv_error"
    assert isinstance(err, InvalidInput)
    assert str(err) == (
        f"users.csv line 3, column 3 (accountEnabled): expected True or False, found '{value}'"
    )


def test_user_type_must_be_member_or_guest() -> None:
    rows = parse_users_csv("userPrincipalName,userType\na@x.com,guest\nb@x.com,\n")
    assert [r.fields["user_type"] for r in rows] == [UserType.GUEST, UserType.MEMBER]
    with pytest.raises(CsvError, match=r"line 2, column 2 \(userType\).*'Admin'"):
        parse_users_csv("userPrincipalName,userType\na@x.com,Admin\n")


def test_formula_leading_cells_are_kept_as_data() -> None:
    text = (
        "userPrincipalName,department,companyName,displayName,streetAddress\n"
        'a@contoso.com,"=HYPERLINK(""http://evil"",""x"")",+Contoso,-Alice,@home\n'
    )
    (row,) = parse_users_csv(text)
    assert row.fields["Department"] == '=HYPERLINK("http://evil","x")'
    assert row.fields["Company"] == "+Contoso"
    assert row.fields["display_name"] == "-Alice"
    assert row.fields["StreetAddress"] == "@home"


def test_missing_upn_column_is_an_error() -> None:
    with pytest.raises(CsvError) as info:
        parse_users_csv("displayName,mail\nAlice,alice@contoso.com\n")
    assert info.value.line == 1
    assert info.value.column is None
    assert "userPrincipalName" in str(info.value)


def test_empty_file_is_an_error() -> None:
    with pytest.raises(CsvError, match="userPrincipalName"):
        parse_users_csv(b"")


def test_empty_upn_is_an_error_naming_the_line() -> None:
    text = "displayName,userPrincipalName\nA,a@contoso.com\nB,  \n"
    with pytest.raises(CsvError) as info:
        parse_users_csv(text)
    assert (info.value.line, info.value.column) == (3, 2)


def test_duplicate_upn_names_both_lines() -> None:
    text = "userPrincipalName\na@contoso.com\nb@contoso.com\nA@Contoso.com\n"
    with pytest.raises(CsvError) as info:
        parse_users_csv(text)
    assert info.value.line == 4
    assert "line 2" in str(info.value)
    assert str(info.value).startswith("users.csv line 4, column 1 (userPrincipalName)")


def test_two_columns_for_the_same_field_are_an_error() -> None:
    with pytest.raises(CsvError, match=r"line 1, column 3 \(physicalDeliveryOfficeName\)"):
        parse_users_csv("userPrincipalName,officeLocation,physicalDeliveryOfficeName\n")


def test_line_numbers_count_physical_lines_and_blank_lines_are_skipped() -> None:
    text = (
        "userPrincipalName,streetAddress,accountEnabled\n"
        'a@contoso.com,"1 Main St\nSuite 5",True\n'
        "\n"
        "b@contoso.com,2 Side St,nope\n"
    )
    with pytest.raises(CsvError) as info:
        parse_users_csv(text)
    assert (info.value.line, info.value.column) == (5, 3)


def test_short_row_is_an_error() -> None:
    with pytest.raises(CsvError, match="line 2: expected 3 cells, found 2"):
        parse_users_csv("userPrincipalName,department,mail\na@contoso.com,Sales\n")


def test_custom_source_name_in_messages() -> None:
    with pytest.raises(CsvError, match=r"^export\.csv line 3, column 1"):
        parse_users_csv("userPrincipalName,department\n\n,Sales\n", source="export.csv")


# -- merge_users --------------------------------------------------------------------------------
def test_update_changes_only_columns_present_and_keeps_id() -> None:
    directory = _directory()
    rows = parse_users_csv("userPrincipalName,objectId,department\nALICE@contoso.com,,Legal\n")
    result = merge_users(directory, rows)
    alice = result.directory.by_upn("alice@contoso.com")
    assert alice.id == ALICE_ID
    assert alice.upn == "alice@contoso.com"
    assert alice.attribute("Department") == "Legal"
    assert alice.attribute("Company") == "Contoso"  # no column: untouched
    assert alice.display_name == "Alice"
    assert [u.upn for u in result.changed_users] == ["alice@contoso.com"]
    assert result.changed_groups == []


def test_update_with_matching_id_in_other_spelling_is_fine() -> None:
    rows = parse_users_csv(f"userPrincipalName,id\nalice@contoso.com,{ALICE_ID.upper()}\n")
    result = merge_users(_directory(), rows)
    assert result.directory.by_upn("alice@contoso.com").id == ALICE_ID
    assert result.changed_users == []


def test_empty_cell_clears_an_attribute_on_update() -> None:
    rows = parse_users_csv(
        "userPrincipalName,department,officeLocation,displayName\nalice@contoso.com,,,\n"
    )
    result = merge_users(_directory(), rows)
    alice = result.directory.by_upn("alice@contoso.com")
    assert alice.attribute("Department") == ""
    assert "Department" not in alice.attributes
    assert alice.attribute("PhysicalDeliveryOfficeName") == ""
    assert alice.attribute("Company") == "Contoso"
    assert alice.display_name == "alice"


def test_booleans_and_user_type_are_applied() -> None:
    rows = parse_users_csv(
        "userPrincipalName,accountEnabled,userType,HiddenFromAddressListsEnabled\n"
        "bob@contoso.com,False,Guest,True\n"
    )
    bob = merge_users(_directory(), rows).directory.by_upn("bob@contoso.com")
    assert bob.account_enabled is False
    assert bob.user_type is UserType.GUEST
    assert bob.hidden_from_address_lists is True


def test_id_mismatch_is_an_error_naming_the_line() -> None:
    rows = parse_users_csv(
        f"userPrincipalName,id\nbob@contoso.com,{BOB_ID}\nalice@contoso.com,{NEW_ID}\n"
    )
    with pytest.raises(CsvError) as info:
        merge_users(_directory(), rows)
    assert (info.value.line, info.value.column) == (3, 2)
    assert NEW_ID in str(info.value)


def test_new_user_uses_file_id_and_defaults() -> None:
    rows = parse_users_csv(
        f"userPrincipalName,objectId,department\ncarol@contoso.com,{NEW_ID.upper()},Legal\n"
    )
    result = merge_users(_directory(), rows)
    carol = result.directory.by_upn("carol@contoso.com")
    assert carol.id == NEW_ID
    assert carol.display_name == "carol"
    assert carol.account_enabled is True
    assert carol.user_type is UserType.MEMBER
    assert carol.attribute("Department") == "Legal"
    assert result.changed_users == [carol]


def test_new_user_with_a_non_uuid_id_gets_a_fresh_one() -> None:
    rows = parse_users_csv("userPrincipalName,id\ncarol@contoso.com,E1234\n")
    carol = merge_users(_directory(), rows).directory.by_upn("carol@contoso.com")
    assert carol.id != "E1234"
    assert len(carol.id) == 36


def test_new_user_reusing_another_users_id_is_an_error() -> None:
    rows = parse_users_csv(f"userPrincipalName,id\ncarol@contoso.com,{BOB_ID}\n")
    with pytest.raises(CsvError, match=r"line 2, column 2 \(id\).*bob@contoso\.com"):
        merge_users(_directory(), rows)


def test_member_of_replaces_direct_groups() -> None:
    directory = _directory()
    rows = parse_users_csv(
        "userPrincipalName,MemberOf\n"
        "alice@contoso.com,legal@contoso.com; ALL STAFF\n"
        "bob@contoso.com,\n"
    )
    result = merge_users(directory, rows)
    assert _group_names(result.directory, "alice@contoso.com") == {"Legal", "All Staff"}
    assert _group_names(result.directory, "bob@contoso.com") == set()
    assert {g.display_name for g in result.changed_groups} == {
        "Legal",
        "Research Team",
        "All Staff",
    }
    assert [u.upn for u in result.changed_users] == ["alice@contoso.com", "bob@contoso.com"]
    # The input directory still has the old memberships.
    assert _group_names(directory, "alice@contoso.com") == {"Research Team", "All Staff"}


def test_unchanged_rows_report_no_changes() -> None:
    rows = parse_users_csv(
        "userPrincipalName,department,MemberOf\nbob@contoso.com,Research,All Staff\n"
    )
    result = merge_users(_directory(), rows)
    assert result.changed_users == []
    assert result.changed_groups == []


def test_unknown_group_is_an_error_naming_line_and_group() -> None:
    rows = parse_users_csv(
        "userPrincipalName,memberOf\nbob@contoso.com,Legal\nalice@contoso.com,Legal;Finance\n"
    )
    with pytest.raises(CsvError) as info:
        merge_users(_directory(), rows)
    assert info.value.line == 3
    assert "'Finance'" in str(info.value)
    assert str(info.value).startswith("users.csv line 3, column 2 (memberOf)")


def test_input_directory_untouched_after_an_error() -> None:
    directory = _directory()
    before = _snapshot(directory)
    rows = parse_users_csv(
        "userPrincipalName,department,MemberOf\n"
        "alice@contoso.com,Legal,Legal\n"
        "dave@contoso.com,New,\n"
        "bob@contoso.com,X,Nope\n"
    )
    with pytest.raises(CsvError):
        merge_users(directory, rows)
    assert _snapshot(directory) == before
    assert directory.find_upn("dave@contoso.com") is None
    assert directory.by_upn("alice@contoso.com").attribute("Department") == "Sales"


def test_successful_merge_does_not_touch_the_input_either() -> None:
    directory = _directory()
    before = _snapshot(directory)
    rows = parse_users_csv(ENTRA_EXPORT.encode("utf-8-sig"))
    result = merge_users(directory, rows)
    assert _snapshot(directory) == before
    assert len(result.directory) == 3
    guest = result.directory.by_upn("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert guest.user_type is UserType.GUEST
    assert guest.account_enabled is False
    assert guest.mail == "gus@fabrikam.com"
    assert guest.company == "Fabrikam"


def test_hand_made_rows_are_accepted() -> None:
    row = UserRow(line=7, upn="erin@contoso.com", fields={"Department": "Ops"})
    result = merge_users(_directory(), [row])
    assert result.directory.by_upn("erin@contoso.com").attribute("Department") == "Ops"


# -- groups CSV ---------------------------------------------------------------------------------
GROUPS_CSV = (
    "GroupDisplayName,groupMail,MEMBERUSERPRINCIPALNAME\n"
    "Finance,finance@contoso.com,alice@contoso.com\n"
    "Finance,,bob@contoso.com\n"
    "Legal,,bob@contoso.com\n"
    "Empty Group,empty@contoso.com,\n"
)


def test_parse_groups_csv() -> None:
    rows = parse_groups_csv("\ufeff" + GROUPS_CSV)
    assert rows == [
        GroupRow(2, "Finance", "finance@contoso.com", "alice@contoso.com"),
        GroupRow(3, "Finance", "", "bob@contoso.com"),
        GroupRow(4, "Legal", "", "bob@contoso.com"),
        GroupRow(5, "Empty Group", "empty@contoso.com", ""),
    ]


def test_groups_csv_requires_group_display_name_column() -> None:
    with pytest.raises(CsvError, match=r"groups\.csv line 1: .*groupDisplayName"):
        parse_groups_csv("groupMail,memberUserPrincipalName\nx@contoso.com,a@contoso.com\n")


def test_groups_csv_creates_groups_and_memberships() -> None:
    directory = _directory()
    before = _snapshot(directory)
    result = merge_groups(directory, parse_groups_csv(GROUPS_CSV))
    new = result.directory
    finance = new.find_group("Finance")
    assert finance is not None
    assert finance.mail == "finance@contoso.com"
    assert finance.members == {ALICE_ID, BOB_ID}
    legal = new.find_group("legal")
    assert legal is not None
    assert legal.id == "g-legal"
    assert legal.members == {BOB_ID}
    empty = new.find_group("empty@contoso.com")
    assert empty is not None
    assert empty.display_name == "Empty Group"
    assert empty.members == frozenset()
    assert [g.display_name for g in result.changed_groups] == ["Legal", "Finance", "Empty Group"]
    assert _snapshot(directory) == before


def test_existing_memberships_are_not_changes() -> None:
    rows = parse_groups_csv(
        "groupDisplayName,memberUserPrincipalName\nAll Staff,alice@contoso.com\nResearch Team,\n"
    )
    result = merge_groups(_directory(), rows)
    assert result.changed_groups == []


def test_mail_is_set_when_missing_and_conflicting_mail_is_an_error() -> None:
    rows = parse_groups_csv("groupDisplayName,groupMail\nAll Staff,all@contoso.com\n")
    result = merge_groups(_directory(), rows)
    assert [g.mail for g in result.changed_groups] == ["all@contoso.com"]

    rows = parse_groups_csv(
        "groupDisplayName,groupMail\nLegal,LEGAL@contoso.com\nLegal,law@x.com\n"
    )
    with pytest.raises(CsvError) as info:
        merge_groups(_directory(), rows)
    assert (info.value.line, info.value.column) == (3, 2)


def test_unknown_member_upn_is_an_error_naming_line_and_upn() -> None:
    directory = _directory()
    before = _snapshot(directory)
    rows = parse_groups_csv(
        "groupDisplayName,groupMail,memberUserPrincipalName\n"
        "Finance,,alice@contoso.com\n"
        "Finance,,nobody@contoso.com\n"
    )
    with pytest.raises(CsvError) as info:
        merge_groups(directory, rows)
    assert info.value.line == 3
    assert "'nobody@contoso.com'" in str(info.value)
    assert str(info.value).startswith("groups.csv line 3, column 3 (memberUserPrincipalName)")
    assert _snapshot(directory) == before
    assert directory.find_group("Finance") is None


def test_group_mail_of_another_group_is_an_error() -> None:
    rows = parse_groups_csv("groupDisplayName,groupMail\nCompliance,Legal@Contoso.com\n")
    with pytest.raises(CsvError, match=r"line 2, column 2 \(groupMail\).*'Legal'"):
        merge_groups(_directory(), rows)


def test_empty_group_name_is_an_error_naming_the_line() -> None:
    with pytest.raises(CsvError) as info:
        parse_groups_csv("groupDisplayName,memberUserPrincipalName\nLegal,a@x.com\n ,b@x.com\n")
    assert (info.value.line, info.value.column) == (3, 1)
