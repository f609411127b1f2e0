"""What a filter means for a user (semantics §3), on both evaluation paths.

Every case is evaluated three ways: as bitset algebra over the whole directory
(``DirectoryColumns.evaluate``), user by user (``filters.matches``), and by the naive
reference model; all three must give the expected set of users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from core_builders import make_directory, upn

import reference_model
from infobarrier.core.columns import DirectoryColumns
from infobarrier.core.directory import Directory, User
from infobarrier.core.filters import matches, parse_filter


def values_of(directory: Directory, user: User) -> Callable[[str], Sequence[str]]:
    """The non-empty values of an attribute for one user (the per-user path's input)."""

    def get(attribute: str) -> Sequence[str]:
        if attribute == "MemberOf":
            found = directory.member_of_values(user.id)
        elif attribute == "ProxyAddresses":
            found = list(user.proxy_addresses)
        else:
            found = [user.attribute(attribute)]
        return [v for v in found if v]

    return get


def short(user: User) -> str:
    return user.upn.split("@")[0]


def matching(directory: Directory, text: str) -> set[str]:
    """Users matching ``text``; asserts that both engine paths and the reference agree."""
    expr = parse_filter(text)
    users = list(directory.users())
    mask = DirectoryColumns(directory).evaluate(expr)
    assert mask.shape == (len(users),)
    columnar = {short(u) for u, hit in zip(users, mask, strict=True) if hit}
    per_user = {short(u) for u in users if matches(expr, values_of(directory, u))}
    reference = {short(u) for u in users if reference_model.holds(expr, directory, u)}
    assert columnar == per_user, ("columns vs matches", columnar, per_user)
    assert per_user == reference, ("matches vs reference", per_user, reference)
    return columnar


def build() -> Directory:
    directory = make_directory(
        {
            "ann": {
                "department": "Sales",
                "company": "Contoso",
                "extensionattribute1": "a.b",
                "mail": "ann@contoso.com",
                "proxy": ["SMTP:ann@contoso.com", "smtp:ann.sales@contoso.com"],
            },
            "bob": {
                "department": "SALES",
                "extensionattribute1": "",
                "proxy": ["smtp:bob@fabrikam.com"],
            },
            "cat": {"department": "Trading Desk", "company": "contoso", "customattribute1": "a?b"},
            "dan": {"extensionattribute1": "axb"},
            "eve": {
                "department": "R&D [lab]",
                "company": "Fabrikam+",
                "extensionattribute1": "a[b]",
            },
            "fay": {"department": "sales team", "extensionattribute1": "a+b"},
        },
        {"Traders": ["ann", "cat"], "Research": ["bob", "cat"], "Empty Club": []},
    )
    # A user whose attribute is stored as an explicit empty string: the same as missing.
    directory.put_user(User(id="id-gus", upn=upn("gus"), attributes={"Department": ""}))
    return directory


EVERYONE = {"ann", "bob", "cat", "dan", "eve", "fay", "gus"}


@pytest.fixture(scope="module")
def directory() -> Directory:
    return build()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case-insensitive comparison, -eq is exact (no substring, no wildcard)
        ("Department -eq 'Sales'", {"ann", "bob"}),
        ("Department -eq 'sales'", {"ann", "bob"}),
        ("Department -eq 'SaLeS'", {"ann", "bob"}),
        ("department -EQ 'SALES'", {"ann", "bob"}),
        ("Department -eq 'Sale'", set()),
        ("Department -eq 'Sales*'", set()),
        ("Department -eq 'trading desk'", {"cat"}),
        ("Company -eq 'CONTOSO'", {"ann", "cat"}),
        ("Department -ne 'Sales'", EVERYONE - {"ann", "bob"}),
        ("Department -ne 'sAlEs'", EVERYONE - {"ann", "bob"}),
        ("Department -like 'SALES'", {"ann", "bob"}),
        ("Department -like 'sales*'", {"ann", "bob", "fay"}),
        ("Department -notlike 'SALES*'", EVERYONE - {"ann", "bob", "fay"}),
        ("Company -like 'contoso'", {"ann", "cat"}),
    ],
)
def test_case_insensitive(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Department -like '*team'", {"fay"}),
        ("Department -like '*DESK'", {"cat"}),
        ("Department -like 'tra*'", {"cat"}),
        ("Department -like 's*s'", {"ann", "bob"}),
        ("Department -like 'tr*k'", {"cat"}),
        ("Department -like '*a*e*'", {"ann", "bob", "cat", "fay"}),
        ("Department -like '*les*'", {"ann", "bob", "fay"}),
        ("Department -like 's*l*s*t*m'", {"fay"}),
        ("Department -like '*'", {"ann", "bob", "cat", "eve", "fay"}),
        ("Department -like '**'", {"ann", "bob", "cat", "eve", "fay"}),
        ("Department -like '***'", {"ann", "bob", "cat", "eve", "fay"}),
        ("Department -like 'sales'", {"ann", "bob"}),
        ("Department -like 'sales team*'", {"fay"}),
        ("Department -like '*sales team'", {"fay"}),
        ("Department -like '*sales team*'", {"fay"}),
        ("Department -like 'sales team?'", set()),
        ("Department -notlike '*a*'", EVERYONE - {"ann", "bob", "cat", "eve", "fay"}),
        ("Department -notlike 't*'", EVERYONE - {"cat"}),
    ],
)
def test_star_wildcard_anywhere(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ExtensionAttribute1: ann 'a.b', cat 'a?b', dan 'axb', eve 'a[b]', fay 'a+b'
        ("ExtensionAttribute1 -like 'a.b'", {"ann"}),
        ("ExtensionAttribute1 -like 'a?b'", {"cat"}),
        ("ExtensionAttribute1 -like 'a[b]'", {"eve"}),
        ("ExtensionAttribute1 -like 'a[b]*'", {"eve"}),
        ("ExtensionAttribute1 -like 'a+b'", {"fay"}),
        ("ExtensionAttribute1 -like 'a*b'", {"ann", "cat", "dan", "fay"}),
        ("ExtensionAttribute1 -like 'a.*'", {"ann"}),
        ("ExtensionAttribute1 -like '*?*'", {"cat"}),
        ("ExtensionAttribute1 -like '*[*'", {"eve"}),
        ("ExtensionAttribute1 -like '[ab]*'", set()),
        ("ExtensionAttribute1 -like '[a]?b'", set()),
        ("ExtensionAttribute1 -like 'a+*'", {"fay"}),
        ("ExtensionAttribute1 -like 'a.?'", set()),
        ("ExtensionAttribute1 -like '.*'", set()),
        ("ExtensionAttribute1 -like '^a.b$'", set()),
        ("ExtensionAttribute1 -like 'a.b|axb'", set()),
        ("ExtensionAttribute1 -like '(a).b'", set()),
        ("ExtensionAttribute1 -like 'a\\.b'", set()),
        ("ExtensionAttribute1 -eq 'a.b'", {"ann"}),
        ("ExtensionAttribute1 -eq 'a?b'", {"cat"}),
        ("ExtensionAttribute1 -notlike 'a?b'", EVERYONE - {"cat"}),
        ("ExtensionAttribute1 -notlike 'a.b'", EVERYONE - {"ann"}),
        ("Department -like 'r&d [lab]'", {"eve"}),
        ("Department -like 'R&D [*]'", {"eve"}),
        ("Company -like 'fabrikam+'", {"eve"}),
        ("Company -like 'fabrikam+*'", {"eve"}),
        ("Company -like 'fabrikam*+'", {"eve"}),
    ],
)
def test_regex_metacharacters_are_literal(
    directory: Directory, text: str, expected: set[str]
) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # dan has no Department, gus has it stored as ''
        ("Department -eq ''", {"dan", "gus"}),
        ('Department -eq ""', {"dan", "gus"}),
        ("Department -ne ''", EVERYONE - {"dan", "gus"}),
        ("Department -like '*'", EVERYONE - {"dan", "gus"}),
        ("Department -notlike '*'", {"dan", "gus"}),
        ("-not (Department -like '*')", {"dan", "gus"}),
        ("Department -eq 'Sales'", {"ann", "bob"}),
        ("Department -ne 'Sales'", {"cat", "dan", "eve", "fay", "gus"}),
        ("Department -notlike 'x*'", EVERYONE),
        ("Department -notlike 'sales'", {"cat", "dan", "eve", "fay", "gus"}),
        ("Department -like ''", set()),
        ("Department -notlike ''", EVERYONE),
        # bob's ExtensionAttribute1 was given as '' (dropped), so missing like gus's
        ("ExtensionAttribute1 -eq ''", {"bob", "gus"}),
        ("CustomAttribute1 -like '*'", EVERYONE - {"bob", "gus"}),
        ("Company -eq ''", {"bob", "dan", "fay", "gus"}),
        ("Company -ne 'Contoso'", {"bob", "dan", "eve", "fay", "gus"}),
        # never set anywhere
        ("Description -eq ''", EVERYONE),
        ("Description -ne ''", set()),
        ("Description -eq 'x'", set()),
        ("Description -ne 'x'", EVERYONE),
        ("Description -like '*'", set()),
        ("Description -notlike '*'", EVERYONE),
        ("Description -notlike 'anything*'", EVERYONE),
        # first-class fields: the UPN always has a value, Mail only for ann
        ("UserPrincipalName -like '*@contoso.com'", EVERYONE),
        ("UserPrincipalName -eq 'ANN@CONTOSO.COM'", {"ann"}),
        ("UserPrincipalName -eq ''", set()),
        ("Mail -eq ''", EVERYONE - {"ann"}),
        ("WindowsEmailAddress -like 'ann@*'", {"ann"}),
    ],
)
def test_missing_and_empty_attributes(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ann: SMTP:ann@contoso.com, smtp:ann.sales@contoso.com; bob: smtp:bob@fabrikam.com
        ("ProxyAddresses -eq 'smtp:ann@contoso.com'", {"ann"}),
        ("ProxyAddresses -eq 'SMTP:ANN.SALES@CONTOSO.COM'", {"ann"}),
        ("EmailAddresses -eq 'smtp:bob@fabrikam.com'", {"bob"}),
        ("ProxyAddresses -eq 'ann@contoso.com'", set()),
        ("ProxyAddresses -ne 'smtp:ann@contoso.com'", EVERYONE - {"ann"}),
        ("ProxyAddresses -ne 'smtp:ann.sales@contoso.com'", EVERYONE - {"ann"}),
        ("ProxyAddresses -ne 'smtp:nobody@contoso.com'", EVERYONE),
        ("ProxyAddresses -like '*@contoso.com'", {"ann"}),
        ("ProxyAddresses -like 'smtp:*'", {"ann", "bob"}),
        ("ProxyAddresses -like '*sales*'", {"ann"}),
        ("ProxyAddresses -like '*fabrikam*'", {"bob"}),
        ("ProxyAddresses -notlike '*sales*'", EVERYONE - {"ann"}),
        ("ProxyAddresses -notlike 'smtp:*'", EVERYONE - {"ann", "bob"}),
        ("ProxyAddresses -notlike '*@nowhere.com'", EVERYONE),
        ("ProxyAddresses -eq ''", EVERYONE - {"ann", "bob"}),
        ("ProxyAddresses -ne ''", {"ann", "bob"}),
        ("ProxyAddresses -like '*'", {"ann", "bob"}),
        ("ProxyAddresses -notlike '*'", EVERYONE - {"ann", "bob"}),
        (
            "ProxyAddresses -eq 'smtp:ann@contoso.com' -and ProxyAddresses -ne 'x'",
            {"ann"},
        ),
    ],
)
def test_proxy_addresses_multi_valued(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Traders (traders@contoso.com, id group-traders): ann, cat; Research: bob, cat
        ("MemberOf -eq 'Traders'", {"ann", "cat"}),
        ("MemberOf -eq 'TRADERS'", {"ann", "cat"}),
        ("MemberOf -eq 'traders@contoso.com'", {"ann", "cat"}),
        ("MemberOfGroup -eq 'Traders@Contoso.com'", {"ann", "cat"}),
        ("MemberOf -eq 'group-traders'", {"ann", "cat"}),
        ("MemberOf -eq 'Trader'", set()),
        ("MemberOf -eq 'Research'", {"bob", "cat"}),
        ("MemberOf -eq 'Empty Club'", set()),
        ("MemberOf -ne 'Traders'", EVERYONE - {"ann", "cat"}),
        ("MemberOf -ne 'traders@contoso.com'", EVERYONE - {"ann", "cat"}),
        ("MemberOf -ne 'group-research'", EVERYONE - {"bob", "cat"}),
        ("MemberOf -ne 'Empty Club'", EVERYONE),
        ("MemberOf -like 'Tra*'", {"ann", "cat"}),
        ("MemberOf -like '*@contoso.com'", {"ann", "bob", "cat"}),
        ("MemberOf -like 'group-*'", {"ann", "bob", "cat"}),
        ("MemberOf -like '*search'", {"bob", "cat"}),
        ("MemberOf -notlike 'res*'", EVERYONE - {"bob", "cat"}),
        ("MemberOf -notlike '*'", {"dan", "eve", "fay", "gus"}),
        ("MemberOf -like '*'", {"ann", "bob", "cat"}),
        ("MemberOf -eq ''", {"dan", "eve", "fay", "gus"}),
        ("MemberOf -ne ''", {"ann", "bob", "cat"}),
        ("MemberOf -eq 'Traders' -and MemberOf -eq 'Research'", {"cat"}),
        ("MemberOf -eq 'Traders' -and MemberOf -ne 'Research'", {"ann"}),
        ("-not (Department -eq 'Sales') -and MemberOf -eq 'Research'", {"cat"}),
        ("Department -eq 'Traders'", set()),
    ],
)
def test_member_of_multi_valued(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Department -eq 'Sales' -or Department -eq 'Trading Desk'", {"ann", "bob", "cat"}),
        ("Department -eq 'Sales' -and Company -eq 'Contoso'", {"ann"}),
        ("-not Department -eq 'Sales'", EVERYONE - {"ann", "bob"}),
        ("-not -not Department -eq 'Sales'", {"ann", "bob"}),
        (
            "Department -like 's*' -and -not Company -like '*' -or MemberOf -eq 'Traders'",
            {"bob", "fay", "ann", "cat"},
        ),
        ("(Department -like 's*' -or Department -eq '') -and MemberOf -ne ''", {"ann", "bob"}),
    ],
)
def test_combinations(directory: Directory, text: str, expected: set[str]) -> None:
    assert matching(directory, text) == expected


def test_member_of_is_direct_membership_and_follows_group_changes() -> None:
    directory = build()
    assert "dan" not in matching(directory, "MemberOf -eq 'Traders'")
    directory.set_user_groups("id-dan", ["group-traders"])
    assert matching(directory, "MemberOf -eq 'Traders'") == {"ann", "cat", "dan"}
    assert matching(directory, "MemberOf -eq 'Research'") == {"bob", "cat"}
    directory.set_user_groups("id-cat", [])
    assert matching(directory, "MemberOf -eq 'Traders'") == {"ann", "dan"}
    assert matching(directory, "MemberOf -eq ''") == {"cat", "eve", "fay", "gus"}
    directory.remove_group("group-research")
    assert matching(directory, "MemberOf -eq 'Research'") == set()
    assert matching(directory, "MemberOf -eq ''") == {"bob", "cat", "eve", "fay", "gus"}


def test_member_of_matches_only_the_users_own_groups_not_a_groups_other_names() -> None:
    # A group whose display name is another group's id-like text must not leak membership.
    directory = make_directory(
        {"ann": {}, "bob": {}},
        {"Alpha": ["ann"], "group-alpha-x": ["bob"]},
    )
    assert matching(directory, "MemberOf -eq 'Alpha'") == {"ann"}
    assert matching(directory, "MemberOf -eq 'group-alpha'") == {"ann"}
    assert matching(directory, "MemberOf -eq 'group-alpha-x'") == {"bob"}
    assert matching(directory, "MemberOf -like 'group-alpha*'") == {"ann", "bob"}


def test_columns_over_a_subset_of_users_keep_that_order() -> None:
    directory = build()
    users = [directory.by_upn(upn(n)) for n in ("fay", "cat", "dan")]
    mask = DirectoryColumns(directory, users).evaluate(parse_filter("MemberOf -eq 'Traders'"))
    assert mask.tolist() == [False, True, False]
    mask = DirectoryColumns(directory, users).evaluate(parse_filter("Department -like '*a*'"))
    assert mask.tolist() == [True, True, False]


def test_columns_on_an_empty_directory() -> None:
    mask = DirectoryColumns(Directory()).evaluate(parse_filter("MemberOf -ne 'x' -or Co -eq ''"))
    assert mask.shape == (0,)


def test_same_columns_object_answers_many_filters_consistently() -> None:
    directory = build()
    columns = DirectoryColumns(directory)
    users = list(directory.users())
    for text in (
        "Department -eq 'Sales'",
        "Department -like 's*'",
        "Department -eq ''",
        "ProxyAddresses -like '*'",
        "MemberOf -eq 'Traders'",
        "ProxyAddresses -eq ''",
        "Department -ne 'sales team'",
    ):
        expr = parse_filter(text)
        expected = [matches(expr, values_of(directory, u)) for u in users]
        assert columns.evaluate(expr).tolist() == expected, text
