"""The ``UserGroupFilter`` parser (semantics §3): valid forms, tree shapes and every error."""

from __future__ import annotations

import dataclasses

import pytest

from infobarrier.core.errors import FilterSyntaxError, InvalidInput
from infobarrier.core.filters import And, Comparison, Expr, Not, Op, Or, parse_filter
from infobarrier.core.filters.ast import render


def strip(expr: Expr) -> Expr:
    """The tree with every comparison's position set to 0 (to compare shapes only)."""
    if isinstance(expr, Comparison):
        return dataclasses.replace(expr, position=0)
    if isinstance(expr, Not):
        return Not(strip(expr.operand))
    if isinstance(expr, And):
        return And(tuple(strip(o) for o in expr.operands))
    return Or(tuple(strip(o) for o in expr.operands))


def single(text: str) -> Comparison:
    expr = parse_filter(text)
    assert isinstance(expr, Comparison), expr
    return expr


# -- operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op_text", "op"),
    [
        ("-eq", Op.EQ),
        ("-ne", Op.NE),
        ("-like", Op.LIKE),
        ("-notlike", Op.NOTLIKE),
        ("-EQ", Op.EQ),
        ("-Ne", Op.NE),
        ("-LIKE", Op.LIKE),
        ("-NotLike", Op.NOTLIKE),
        ("-nOtLiKe", Op.NOTLIKE),
    ],
)
def test_every_operator_in_any_case(op_text: str, op: Op) -> None:
    assert single(f"Department {op_text} 'Sales'") == Comparison("Department", op, "Sales", 1)


@pytest.mark.parametrize("word", ["-and", "-AND", "-And"])
def test_and_is_case_insensitive(word: str) -> None:
    expr = strip(parse_filter(f"Department -eq 'a' {word} Company -eq 'b'"))
    assert expr == And((Comparison("Department", Op.EQ, "a"), Comparison("Company", Op.EQ, "b")))


@pytest.mark.parametrize("word", ["-or", "-OR", "-oR"])
def test_or_is_case_insensitive(word: str) -> None:
    expr = strip(parse_filter(f"Department -eq 'a' {word} Company -eq 'b'"))
    assert expr == Or((Comparison("Department", Op.EQ, "a"), Comparison("Company", Op.EQ, "b")))


@pytest.mark.parametrize("word", ["-not", "-NOT", "-Not"])
def test_not_is_case_insensitive(word: str) -> None:
    assert strip(parse_filter(f"{word} Department -eq 'a'")) == Not(
        Comparison("Department", Op.EQ, "a")
    )


# -- attribute names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Department", "Department"),
        ("department", "Department"),
        ("DEPARTMENT", "Department"),
        ("dEpArTmEnT", "Department"),
        ("Co", "Co"),
        ("co", "Co"),
        ("Company", "Company"),
        ("ExtensionAttribute1", "ExtensionAttribute1"),
        ("extensionattribute15", "ExtensionAttribute15"),
        ("CustomAttribute3", "ExtensionAttribute3"),
        ("customattribute3", "ExtensionAttribute3"),
        ("CUSTOMATTRIBUTE15", "ExtensionAttribute15"),
        ("MSExchExtensionCustomAttribute5", "MSExchExtensionCustomAttribute5"),
        ("ExtensionCustomAttribute2", "MSExchExtensionCustomAttribute2"),
        ("MailNickname", "MailNickname"),
        ("Alias", "MailNickname"),
        ("alias", "MailNickname"),
        ("mailNickname", "MailNickname"),
        ("PhysicalDeliveryOfficeName", "PhysicalDeliveryOfficeName"),
        ("Office", "PhysicalDeliveryOfficeName"),
        ("officeLocation", "PhysicalDeliveryOfficeName"),
        ("PostalCode", "PostalCode"),
        ("postalCode", "PostalCode"),
        ("ProxyAddresses", "ProxyAddresses"),
        ("proxyAddresses", "ProxyAddresses"),
        ("EmailAddresses", "ProxyAddresses"),
        ("emailaddresses", "ProxyAddresses"),
        ("StreetAddress", "StreetAddress"),
        ("streetAddress", "StreetAddress"),
        ("TargetAddress", "TargetAddress"),
        ("ExternalEmailAddress", "TargetAddress"),
        ("UsageLocation", "UsageLocation"),
        ("usageLocation", "UsageLocation"),
        ("UserPrincipalName", "UserPrincipalName"),
        ("userprincipalname", "UserPrincipalName"),
        ("Mail", "Mail"),
        ("mail", "Mail"),
        ("WindowsEmailAddress", "Mail"),
        ("Description", "Description"),
        ("MemberOf", "MemberOf"),
        ("memberof", "MemberOf"),
        ("MemberOfGroup", "MemberOf"),
        ("MEMBEROFGROUP", "MemberOf"),
        ("companyName", "Company"),
        ("CompanyName", "Company"),
        ("country", "Co"),
        ("Country", "Co"),
        ("onPremisesExtensionAttributes.extensionAttribute7", "ExtensionAttribute7"),
        ("onpremisesextensionattributes.extensionattribute15", "ExtensionAttribute15"),
    ],
)
def test_attribute_names_and_synonyms_resolve_to_canonical(written: str, canonical: str) -> None:
    assert single(f"{written} -eq 'x'").attribute == canonical


# -- precedence and grouping --------------------------------------------------------

A = Comparison("Department", Op.EQ, "a")
B = Comparison("Company", Op.EQ, "b")
C = Comparison("Co", Op.EQ, "c")
D = Comparison("PhysicalDeliveryOfficeName", Op.EQ, "d")
TA, TB, TC, TD = "Department -eq 'a'", "Company -eq 'b'", "Co -eq 'c'", "Office -eq 'd'"


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        (f"{TA}", A),
        (f"({TA})", A),
        (f"(({TA}))", A),
        (f"{TA} -or {TB} -and {TC}", Or((A, And((B, C))))),
        (f"{TA} -and {TB} -or {TC}", Or((And((A, B)), C))),
        (f"{TA} -and {TB} -or {TC} -and {TD}", Or((And((A, B)), And((C, D))))),
        (f"{TA} -or {TB} -or {TC}", Or((A, B, C))),
        (f"{TA} -and {TB} -and {TC}", And((A, B, C))),
        (f"-not {TA} -and {TB}", And((Not(A), B))),
        (f"-not {TA} -or {TB}", Or((Not(A), B))),
        (f"{TA} -and -not {TB}", And((A, Not(B)))),
        (f"{TA} -or -not {TB} -and {TC}", Or((A, And((Not(B), C))))),
        (f"-not ({TA} -or {TB})", Not(Or((A, B)))),
        (f"-not ({TA} -and {TB}) -or {TC}", Or((Not(And((A, B))), C))),
        (f"({TA} -or {TB}) -and {TC}", And((Or((A, B)), C))),
        (f"{TA} -and ({TB} -or {TC})", And((A, Or((B, C))))),
        (f"({TA} -or {TB}) -and ({TC} -or {TD})", And((Or((A, B)), Or((C, D))))),
        (f"-not -not {TA}", Not(Not(A))),
        (f"-not -not -not {TA}", Not(Not(Not(A)))),
        (f"-not (-not {TA})", Not(Not(A))),
        (f"-not (-not ({TA} -and -not {TB}))", Not(Not(And((A, Not(B)))))),
        (
            f"{TA} -and -not {TB} -or -not ({TC} -and {TD})",
            Or((And((A, Not(B))), Not(And((C, D))))),
        ),
        (f"({TA} -and {TB}) -and {TC}", And((And((A, B)), C))),
        (f"{TA}-or({TB})", Or((A, B))),
        ("(Department -eq 'a')-and(Company -eq 'b')", And((A, B))),
        (f"\t{TA}\n-or\r\n{TB}  ", Or((A, B))),
    ],
)
def test_precedence_not_over_and_over_or(text: str, tree: Expr) -> None:
    assert strip(parse_filter(text)) == tree


@pytest.mark.parametrize(
    ("text", "positions"),
    [
        ("Department -eq 'a'", [1]),
        ("  Department -eq 'a'", [3]),
        ("(Department -eq 'a') -or Company -eq 'b'", [2, 26]),
        ("-not Department -eq 'a' -and Co -eq 'c'", [6, 30]),
    ],
)
def test_comparison_position_is_the_attribute_column(text: str, positions: list[int]) -> None:
    found: list[int] = []

    def walk(expr: Expr) -> None:
        if isinstance(expr, Comparison):
            found.append(expr.position)
        elif isinstance(expr, Not):
            walk(expr.operand)
        else:
            for operand in expr.operands:
                walk(operand)

    walk(parse_filter(text))
    assert found == positions


# -- values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'Sales'", "Sales"),
        ('"Sales"', "Sales"),
        ("''", ""),
        ('""', ""),
        ("'O''Brien'", "O'Brien"),
        ("''''", "'"),
        ("'a''''b'", "a''b"),
        ("'it''s'", "it's"),
        ('"O\'Brien"', "O'Brien"),
        ("'say \"hi\"'", 'say "hi"'),
        ("'  spaced  out '", "  spaced  out "),
        ("'Sales*'", "Sales*"),
        ("'-eq (x) -and'", "-eq (x) -and"),
        ("'R&D [lab] a.b?c+d|e$^'", "R&D [lab] a.b?c+d|e$^"),
        ("'Zürich — ümlaut'", "Zürich — ümlaut"),
    ],
)
def test_quoted_values(literal: str, value: str) -> None:
    assert single(f"Department -like {literal}").value == value


def test_value_directly_after_operator_without_space() -> None:
    assert single("Department -eq'Sales'").value == "Sales"


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "fragments"),
    [
        # empty
        ("", 1, ["empty"]),
        ("   ", 1, ["empty"]),
        ("\t\n", 1, ["empty"]),
        # unknown attribute
        ("Manager -eq 'x'", 1, ["unknown attribute", "'Manager'"]),
        ("  Title -eq 'x'", 3, ["unknown attribute", "'Title'"]),
        ("Department -eq 'a' -and City -eq 'b'", 25, ["unknown attribute", "'City'"]),
        ("(Department -eq 'a') -or -not CustomAttribute16 -eq 'x'", 31, ["CustomAttribute16"]),
        ("ExtensionAttribute0 -eq 'x'", 1, ["unknown attribute"]),
        ("ExtensionCustomAttribute6 -eq 'x'", 1, ["unknown attribute"]),
        # unterminated quote
        ("Department -eq 'Sales", 16, ["unterminated", "column 16"]),
        ('Department -eq "Sales', 16, ["unterminated", "column 16"]),
        ("Department -eq 'O''Brien", 16, ["unterminated"]),
        ("Department -eq 'a' -or Company -eq '", 36, ["unterminated", "column 36"]),
        ("Department -eq \"a'", 16, ["unterminated"]),
        # stray token
        ("Department -eq 'a' 'b'", 20, ["expected -and, -or or the end", "the string 'b'"]),
        ("Department -eq 'a' Company", 20, ["expected -and, -or or the end", "'Company'"]),
        ("Department -eq 'a' (Company -eq 'b')", 20, ["expected -and, -or or the end", "'('"]),
        ("Department -eq 'a' -not Company -eq 'b'", 20, ["expected -and, -or", "'-not'"]),
        ("Department -eq 'a' -eq 'b'", 20, ["expected -and, -or", "'-eq'"]),
        # missing ')'
        ("(Department -eq 'a'", 20, ["')' to close the '(' at column 1", "end of the filter"]),
        ("((Department -eq 'a')", 22, ["')' to close the '(' at column 1"]),
        ("Co -eq 'x' -and (Department -eq 'a'", 36, ["')' to close the '(' at column 17"]),
        ("(Department -eq 'a' 'b')", 21, ["')' to close", "the string 'b'"]),
        # unexpected ')'
        ("Department -eq 'a')", 19, ["expected -and, -or or the end", "')'"]),
        ("(Department -eq 'a'))", 21, ["expected -and, -or or the end", "')'"]),
        (")Department -eq 'a'", 1, ["expected an attribute name, '(' or -not", "')'"]),
        ("()", 2, ["expected an attribute name, '(' or -not", "')'"]),
        ("Department -eq 'a' -and )", 25, ["expected an attribute name", "')'"]),
        # bare value without quotes
        ("Department -eq Sales", 16, ["a quoted value after -eq", "'Sales'"]),
        ("Company -like Contoso", 15, ["a quoted value after -like", "'Contoso'"]),
        ("Department -eq", 15, ["a quoted value after -eq", "end of the filter"]),
        ("Department -eq (", 16, ["a quoted value", "'('"]),
        # unknown operator
        ("Department -gt 'x'", 12, ["an operator (-eq, -ne, -like, -notlike)", "'-gt'"]),
        ("Department -contains 'x'", 12, ["an operator", "'-contains'"]),
        ("Department -match 'x'", 12, ["an operator", "'-match'"]),
        ("Department -and 'x'", 12, ["an operator", "'-and'"]),
        ("Department 'x'", 12, ["an operator", "the string 'x'"]),
        ("Department", 11, ["an operator", "end of the filter"]),
        # trailing -and / -or / -not
        ("Department -eq 'a' -and", 24, ["an attribute name, '(' or -not", "end of the filter"]),
        ("Department -eq 'a' -or", 23, ["an attribute name", "end of the filter"]),
        ("Department -eq 'a' -and -not", 29, ["an attribute name", "end of the filter"]),
        ("-not", 5, ["an attribute name", "end of the filter"]),
        ("Department -eq 'a' -and -or Co -eq 'c'", 25, ["an attribute name", "'-or'"]),
        ("-and Department -eq 'a'", 1, ["an attribute name", "'-and'"]),
        ("-eq 'x'", 1, ["an attribute name", "'-eq'"]),
        ("'Sales'", 1, ["an attribute name", "the string 'Sales'"]),
        # unexpected character
        ("Department -eq 'a' & Co -eq 'c'", 20, ["unexpected character '&'"]),
        ("Department -eq 'a' | Co -eq 'c'", 20, ["unexpected character '|'"]),
        ("Department = 'a'", 12, ["unexpected character '='"]),
        ("Department -eq $true", 16, ["unexpected character '$'"]),
        ("Départment -eq 'a'", 2, ["unexpected character 'é'"]),
        ("Department -eq 'a'; Co -eq 'c'", 19, ["unexpected character ';'"]),
        ("{Department -eq 'a'}", 1, ["unexpected character '{'"]),
    ],
)
def test_errors_name_the_column_and_what_was_wrong(
    text: str, column: int, fragments: list[str]
) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    error = caught.value
    assert error.position == column
    assert error.text == text
    assert str(error).startswith(f"filter error at column {column}: ")
    for fragment in fragments:
        assert fragment in error.detail, (fragment, error.detail)


def test_filter_syntax_error_is_invalid_input_with_stable_code() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter("Department -gt 'x'")
    assert caught.value.code == "filter_syntax"


# -- rendering -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        TA,
        f"{TA} -or {TB} -and {TC}",
        f"-not ({TA} -or {TB}) -and -not -not {TC}",
        "Department -like 'O''Brien*' -or Company -ne \"say 'hi'\"",
        "MemberOfGroup -eq '' -and EmailAddresses -notlike '*@x.com'",
    ],
)
def test_render_parses_back_to_the_same_shape(text: str) -> None:
    expr = parse_filter(text)
    again = parse_filter(render(expr))
    assert strip(again) == strip(expr)
    assert render(again) == render(expr)


def nested(depth: int, shape: str) -> tuple[str, Expr]:
    """A filter nested ``depth`` levels deep, and the tree it stands for."""
    if shape == "parens":
        return "(" * depth + TA + ")" * depth, A
    tree: Expr = A
    for _ in range(depth):
        tree = Not(tree)
    return "-not " * depth + TA, tree


@pytest.mark.parametrize("depth", [10, 100, 1000])
@pytest.mark.parametrize("shape", ["parens", "nots"])
def test_deep_nesting_parses_or_is_a_clear_error(shape: str, depth: int) -> None:
    """§3: a filter either parses or is refused with a clear error naming a position;
    a deeply nested one must not escape as a ``RecursionError``."""
    text, tree = nested(depth, shape)
    outcome: Expr | FilterSyntaxError
    try:
        outcome = parse_filter(text)
    except FilterSyntaxError as error:
        outcome = error
    if isinstance(outcome, FilterSyntaxError):
        assert 1 <= outcome.position <= len(text) + 1
    else:
        assert strip(outcome) == tree
