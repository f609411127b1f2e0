"""The users CSV's bulk path (formats.entra_users_fast) against the reference parser and
merge (formats.entra_csv), and the column-wise tests of core.limits against the per-value
checks they shortcut.

The bulk path must give the reference's result, or refuse with the reference's error, for
any file: the properties below generate files mixing valid rows with every kind of bad or
unusual cell (control and invisible characters, non-ASCII, long values, repeated UPNs and
ids, unknown groups, existing users, blank and short lines, multi-line cells).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infobarrier.core.directory import Directory, Group, User, fold, make_group, make_user
from infobarrier.core.errors import InfobarrierError, InvalidInput
from infobarrier.core.limits import (
    MAX_DISPLAY_NAME,
    check_mail,
    check_text,
    check_upn,
    plain_address,
    plain_addresses,
    texts_fit,
)
from infobarrier.formats import entra_csv, entra_users_fast

# -- the column-wise tests of core.limits ---------------------------------------------------------

#: Characters that make a value unusual: controls, invisible and bidi marks, separators,
#: spaces of several kinds, non-ASCII letters, '@', NUL.
_ODD = "\x00\x01\t\n\r \xa0\u00e9\u0130\u200b\u200e\u202e\u2028\u3000\ufeff\U0001f600@;,\"'"
_CHARS = st.one_of(
    st.sampled_from("abcXYZ019.-_+@"),
    st.sampled_from(_ODD),
    st.characters(),
)


@st.composite
def _values(draw: st.DrawFn) -> str:
    """Address-like text, sometimes long, with odd characters anywhere."""
    local = draw(st.text(_CHARS, max_size=8))
    domain = draw(st.text(_CHARS, max_size=8))
    value = draw(st.sampled_from([f"{local}@{domain}", local, f"{local}@", f"@{domain}"]))
    if draw(st.booleans()):
        value = value + "x" * draw(st.sampled_from([0, 250, 300, 315, 330, 1100]))
    return value


def _upn_or_none(value: str) -> str | None:
    try:
        return check_upn(value)
    except InvalidInput:
        return None


def _mail_or_none(value: str) -> str | None:
    try:
        return check_mail(value)
    except InvalidInput:
        return None


@settings(max_examples=1500, deadline=None)
@given(_values())
def test_a_plain_address_passes_the_upn_and_mail_checks_unchanged(value: str) -> None:
    if plain_address(value):
        assert _upn_or_none(value) == value
        assert _mail_or_none(value) == value


@settings(max_examples=1500, deadline=None)
@given(st.text(st.sampled_from("ab@.- \t\x00\u200b\u00e9"), max_size=12))
def test_printable_ascii_addresses_are_plain_exactly_when_check_upn_keeps_them(
    value: str,
) -> None:
    """On printable ASCII (nearly every real address) the fast test is not only sound but
    exact: it refuses only what the per-value check refuses or changes."""
    if value.isascii() and value.isprintable():
        assert plain_address(value) == (_upn_or_none(value) == value)


@settings(max_examples=500, deadline=None)
@given(st.lists(_values(), max_size=6))
def test_plain_addresses_is_plain_address_of_every_value(values: list[str]) -> None:
    assert plain_addresses(values) == all(plain_address(v) for v in values)


def _fits(value: str, limit: int) -> bool:
    try:
        check_text("x", value, limit)
    except InvalidInput:
        return False
    return True


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.one_of(_values(), st.text(_CHARS, max_size=300)), max_size=6),
    st.sampled_from([0, 1, 8, MAX_DISPLAY_NAME, 1024]),
)
def test_texts_fit_is_exactly_check_text_of_every_value(values: list[str], limit: int) -> None:
    assert texts_fit(values, limit) == all(_fits(v, limit) for v in values)


# -- the bulk import against the reference ------------------------------------------------------

_UUID = "0134d875-0000-4000-8000-00000000000{}"
_COLUMNS = {
    "userPrincipalName": None,  # drawn separately
    "id": ["", _UUID.format(1), _UUID.format(2), _UUID.format(3).upper(), "not-a-uuid", " "],
    "displayName": ["", "Ann Lee", "  padded  ", "x" * 257, "a\x00b", "\u00c9lise"],
    "mail": ["", "m@t.example", "bad mail", "m\u200b@t.example", " m2@t.example "],
    "accountEnabled": ["", "True", "false", "FALSE", "yes"],
    "userType": ["", "Member", "guest", "Other"],
    "department": ["", "Sales", "x" * 1025, "a\x00", "R&D"],
    "proxyAddresses": ["", "smtp:a@b;SMTP:c@d", ";;", "x" * 1025, " p@q "],
    "MemberOf": ["", "Sales", "sales;DL One", "Unknown", "dl@t.example", "grp-1;Sales"],
    "hiddenFromAddressListsEnabled": ["", "True", "maybe"],
    "Notes": ["", "ignored"],
}
_UPNS = [
    "a@t.example",  # exists
    "A@T.EXAMPLE",  # exists, another spelling
    "bad",
    " x@y.example ",
    "x y@z.example",
    "\u00e9@t.example",
    "zw\u200b@t.example",
    "",
    "u" * 330 + "@t.example",
]


@st.composite
def users_csvs(draw: st.DrawFn) -> str:
    """A users CSV: mostly fresh UPNs, with any mix of odd cells and lines."""
    extra = draw(st.lists(st.sampled_from(list(_COLUMNS)[1:]), unique=True, max_size=6))
    header = ["userPrincipalName", *extra]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)) == 0:
            upn = draw(st.sampled_from(_UPNS))
        else:
            upn = f"u{draw(st.integers(0, 12)) if draw(st.booleans()) else i}@t.example"
        cells = [upn]
        for name in extra:
            pool = _COLUMNS[name]
            assert pool is not None
            cells.append(pool[0] if draw(st.integers(0, 3)) else draw(st.sampled_from(pool)))
        odd = draw(st.integers(0, 19))
        if odd == 0:
            writer.writerow([])
        elif odd == 1:
            cells = cells[:-1]
        elif odd == 2:
            cells = [*cells, ""]
        elif odd == 3:
            cells = [*cells[:-1], "two\nlines"] if extra else cells
        writer.writerow(cells)
    if draw(st.booleans()):
        out.write("\n")
    return out.getvalue()


def _directory() -> Directory:
    ann = make_user("a@t.example", id=_UUID.format(9), department="Sales")
    return Directory(
        [ann],
        [
            make_group("Sales", id="grp-1", members=[ann.id]),
            make_group("DL One", id="grp-2", mail="dl@t.example"),
        ],
    )


def _shape(users: Sequence[User], groups: Sequence[Group], created: int) -> object:
    """A merge outcome with generated ids replaced by UPNs (both sides draw fresh UUIDs
    for rows without a usable id)."""
    upn_of = {u.id: fold(u.upn) for u in users}
    return (
        [
            (
                upn_of[u.id],
                u.upn,
                u.display_name,
                u.mail,
                u.account_enabled,
                u.user_type,
                u.hidden_from_address_lists,
                u.kind,
                u.sponsor_id,
                dict(u.attributes),
                u.proxy_addresses,
            )
            for u in users
        ],
        [
            (g.id, g.display_name, g.mail, sorted(upn_of.get(m, m) for m in g.members))
            for g in groups
        ],
        created,
        sorted(u.id for u in users if u.id.startswith(_UUID[:20])),
    )


def _reference(directory: Directory, text: str) -> object:
    try:
        rows = entra_csv.parse_users_csv(text)
        merged = entra_csv.merge_users(directory, rows)
    except InfobarrierError as exc:
        return type(exc), str(exc)
    created = sum(directory.find_user_by_id(u.id) is None for u in merged.changed_users)
    return len(rows), _shape(merged.changed_users, merged.changed_groups, created)


def _bulk(directory: Directory, text: str) -> object:
    try:
        parsed = entra_users_fast.read_users_csv(text)
        changes = entra_users_fast.merge_users_file(directory, parsed)
    except InfobarrierError as exc:
        return type(exc), str(exc)
    return len(parsed), _shape(changes.changed_users, changes.changed_groups, changes.created)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(users_csvs(), st.booleans())
def test_the_bulk_import_gives_the_reference_result_or_error(text: str, empty: bool) -> None:
    directory = Directory() if empty else _directory()
    assert _bulk(directory, text) == _reference(directory, text)


@settings(max_examples=300, deadline=None)
@given(users_csvs())
def test_the_table_holds_the_reference_rows(text: str) -> None:
    try:
        expected = entra_csv.parse_users_csv(text)
    except InfobarrierError:
        return
    parsed = entra_users_fast.read_users_csv(text)
    assert parsed.rows() == expected
    assert [r.columns for r in parsed.rows()] == [r.columns for r in expected]


def _clean_file(n: int) -> str:
    lines = ["userPrincipalName,id,displayName,accountEnabled,department,MemberOf"]
    lines += [
        f"u{i}@t.example,{_UUID[:-1]}{i + 100:04d},User {i},True,Dept {i % 3},Sales;DL One"
        for i in range(n)
    ]
    return "\n".join(lines) + "\n"


def test_a_clean_file_takes_the_column_wise_path() -> None:
    """Not a timing: the file is read into a table, and every row becomes a new user."""
    parsed = entra_users_fast.read_users_csv(_clean_file(50))
    assert parsed.table is not None
    changes = entra_users_fast.merge_users_file(_directory(), parsed)
    assert changes.created == 50
    assert [g.display_name for g in changes.changed_groups] == ["Sales", "DL One"]
    assert all(len(g.members) >= 50 for g in changes.changed_groups)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("u0@t.example", "line 3, column 1 (userPrincipalName): user 'u0@t.example' already"),
        ("u 1@t.example", "line 3, column 1 (userPrincipalName): invalid UserPrincipalName"),
        ("", "line 3, column 1 (userPrincipalName): empty userPrincipalName"),
    ],
)
def test_a_bad_upn_in_a_clean_file_is_named_as_the_reference_names_it(
    cell: str, message: str
) -> None:
    text = _clean_file(4).replace("u1@t.example", cell, 1)
    with pytest.raises(entra_csv.CsvError) as caught:
        entra_users_fast.read_users_csv(text)
    assert str(caught.value).startswith(f"users.csv {message}")
    assert _bulk(_directory(), text) == _reference(_directory(), text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab;; \t\u00a0\u2028\u3000\x1c"), max_size=8), max_size=5))
def test_list_cells_split_as_the_reference_splits_them(cells: list[str]) -> None:
    stripped = [c.strip() for c in cells]
    expected = [entra_csv._split_list(c) for c in stripped]
    assert entra_users_fast._convert(entra_csv.MEMBER_OF, stripped) == expected
    assert entra_users_fast._convert(entra_csv.PROXY_ADDRESSES, stripped) == expected


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab;\n \t\x0b\x1f\u00a0\u00e9"), max_size=8), max_size=5))
def test_tidy_lists_is_the_regex_on_ascii_and_any_text(cells: list[str]) -> None:
    joined = "\n".join(c.replace("\n", "") for c in cells)
    expected = entra_users_fast._UNTIDY_LISTS.search(joined) is None
    assert entra_users_fast._tidy_lists(joined) == expected


# -- lines split at commas, and the columns the store inserts ------------------------------------

_LINE_CELLS = st.sampled_from(
    ["u1@t.example", "U1@t.example", "u2@t.example", "", " ", "True", "Sales", "\u00e9", "a\tb"]
)


@st.composite
def unquoted_csvs(draw: st.DrawFn) -> str:
    """Files the comma split may read (no quotes), with every line break ``csv.reader``
    knows, blank, short and long lines, blank lines before the header, and now and then
    a quote or a NUL (which send the file to ``csv.reader``)."""
    width = draw(st.integers(1, 4))
    header = ["userPrincipalName", "department", "accountEnabled", "Notes"][:width]
    lines = [""] * draw(st.integers(0, 2)) + [",".join(header)]
    for _ in range(draw(st.integers(0, 6))):
        cells = draw(st.lists(_LINE_CELLS, min_size=width - 1, max_size=width + 1))
        lines.append(",".join(cells))
    text = ""
    for line in lines:
        text += line + draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    odd = draw(st.integers(0, 9))
    if odd == 0:
        text = text.replace("Sales", 'S"ales', 1)
    elif odd == 1:
        text = text.replace("Sales", "S\x00ales", 1)
    return text


@settings(max_examples=800, deadline=None)
@given(unquoted_csvs(), st.booleans())
def test_lines_split_at_commas_give_the_reference_result_or_error(text: str, empty: bool) -> None:
    directory = Directory() if empty else _directory()
    assert _bulk(directory, text) == _reference(directory, text)
    try:
        expected = entra_csv.parse_users_csv(text)
    except InfobarrierError:
        return
    assert entra_users_fast.read_users_csv(text).rows() == expected


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(users_csvs(), unquoted_csvs()))
def test_new_users_import_is_the_reference_merge_of_a_first_import(text: str) -> None:
    """What the store inserts for a first import (``new_users_import``: users as
    columns, each user's groups) is what the reference merge creates; and it never
    accepts a file the reference refuses."""
    groups = _directory().groups()
    directory = Directory([], [dataclasses.replace(g, members=frozenset()) for g in groups])
    try:
        parsed = entra_users_fast.read_users_csv(text)
    except InfobarrierError:
        return
    fresh = entra_users_fast.new_users_import(
        parsed, [(g.id, g.display_name, g.mail) for g in directory.groups()]
    )
    if fresh is None:
        return
    merged = entra_csv.merge_users(directory, parsed.rows())  # must not raise
    users = fresh.users.users()
    added: dict[str, set[str]] = {}
    for uid, gids in zip(
        fresh.users.ids,
        fresh.member_of
        or [
            (),
        ]
        * len(users),
        strict=True,
    ):
        for gid in gids:
            added.setdefault(gid, set()).add(uid)
    changed = [
        dataclasses.replace(g, members=frozenset(added[g.id]))
        for g in directory.groups()
        if g.id in added
    ]
    assert fresh.groups_changed == len(changed)
    assert _shape(users, changed, len(users)) == _shape(
        merged.changed_users, merged.changed_groups, len(merged.changed_users)
    )
    assert fresh.users.upn_keys == [fold(u.upn) for u in users]
    assert fresh.users.attributes == [orjson.dumps(dict(u.attributes)).decode() for u in users]
