"""The users CSV's bulk path: :func:`entra_csv.parse_users_csv` and
:func:`entra_csv.merge_users`, column by column (semantics §2; design, "Users CSV").

A million-row file spends most of its time in per-row Python: building a row object,
checking each cell, building a user and checking it again. Here the file is read into
columns, and each column is checked at once with the column-wise tests of
``core.limits`` (one compiled regex over the joined column, ``max(map(len, ...))``), each
distinct cell of a converted column (``accountEnabled``, ``userType``, ``MemberOf`` ...)
is converted once, and new users are built straight from the columns.

The reference functions in :mod:`entra_csv` stay the one definition of what is accepted
and of every error message: whenever a fast test does not pass (a value it cannot vouch
for, a line it cannot place, a UPN that already exists, an unknown group), this module
hands the whole file to them, which then refuse it with the exact error they always gave
(or accept it, if the value was only unusual). So the results and errors are those of the
reference path by construction; ``tests/formats/test_entra_users_fast.py`` checks it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from infobarrier.core.attributes import STORED_ATTRIBUTES
from infobarrier.core.directory import (
    Directory,
    Group,
    User,
    UserKind,
    UserType,
    fold,
    new_id,
)
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import (
    MAX_ATTRIBUTE_VALUE,
    MAX_DISPLAY_NAME,
    MAX_PROXY_ADDRESSES,
    check_mail,
    check_upn,
    plain_address,
    plain_addresses,
    texts_fit,
)
from infobarrier.formats import entra_csv
from infobarrier.formats.entra_csv import (
    ACCOUNT_ENABLED,
    DISPLAY_NAME,
    HIDDEN_FROM_ADDRESS_LISTS,
    ID,
    MAIL,
    MEMBER_OF,
    PROXY_ADDRESSES,
    USER_TYPE,
    Columns,
    UserRow,
)

#: Field keys whose cells are converted (``entra_csv._user_value``); others are text.
_CONVERTED: Final = frozenset(
    {ACCOUNT_ENABLED, HIDDEN_FROM_ADDRESS_LISTS, USER_TYPE, PROXY_ADDRESSES, MEMBER_OF}
)


class _Refused(Exception):
    """A fast test did not pass: the reference path decides."""


@dataclass(frozen=True, slots=True)
class UsersTable:
    """A users CSV read column by column: every parse check of the reference passed.

    ``values`` maps each field key (the reference's ``UserRow.fields`` keys, in the same
    order) to its converted cells, one per row.
    """

    lines: list[int]
    upns: list[str]
    values: Mapping[str, list[object]]
    columns: Columns

    def __len__(self) -> int:
        return len(self.upns)

    def rows(self) -> list[UserRow]:
        """The rows :func:`entra_csv.parse_users_csv` returns for the same file."""
        keys = list(self.values)
        cells = [self.values[k] for k in keys]
        return [
            UserRow(line, upn, MappingProxyType(dict(zip(keys, row, strict=True))), self.columns)
            for line, upn, *row in zip(self.lines, self.upns, *cells, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class UsersFile:
    """A parsed users CSV: a :class:`UsersTable` when the fast path read it, else the
    reference's rows."""

    source: str
    table: UsersTable | None
    reference_rows: list[UserRow] | None

    def __len__(self) -> int:
        if self.table is not None:
            return len(self.table)
        assert self.reference_rows is not None
        return len(self.reference_rows)

    def rows(self) -> list[UserRow]:
        """The reference's rows (built from the table when the fast path read the file)."""
        if self.table is not None:
            return self.table.rows()
        assert self.reference_rows is not None
        return self.reference_rows


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What a users import changes: the users and groups to save, and how many users are
    new (:class:`entra_csv.UserMerge` without the merged directory)."""

    changed_users: list[User]
    changed_groups: list[Group]
    created: int


# -- parsing ------------------------------------------------------------------------------------
def read_users_csv(data: bytes | str, *, source: str = "users.csv") -> UsersFile:
    """:func:`entra_csv.parse_users_csv`, column-wise when every fast test passes.

    Raises exactly the errors of the reference (it is the reference that raises them).
    """
    try:
        table = _read_table(data, source)
    except _Refused:
        return UsersFile(source, None, entra_csv.parse_users_csv(data, source=source))
    return UsersFile(source, table, None)


def _read_table(data: bytes | str, source: str) -> UsersTable:
    text = entra_csv._decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error:
        raise _Refused from None
    if reader.line_num != len(records):
        raise _Refused  # a quoted cell spans lines: the reference counts them
    start = next((i for i, cells in enumerate(records) if not entra_csv._blank(cells)), None)
    if start is None:
        raise _Refused
    width, columns = entra_csv._header(
        iter([(start + 1, records[start])]),
        source,
        entra_csv._user_header,
        entra_csv._UPN,
        "userPrincipalName",
    )
    upn_index, _ = columns.pop(entra_csv._UPN)
    data_rows = records[start + 1 :]
    lines = list(range(start + 2, start + 2 + len(data_rows)))
    while data_rows and entra_csv._blank(data_rows[-1]):  # trailing blank lines
        data_rows.pop()
        lines.pop()
    if not data_rows:
        return UsersTable([], [], {key: [] for key in columns}, entra_csv._one_based(columns))
    if min(map(len, data_rows)) != width or max(map(len, data_rows)) != width:
        raise _Refused
    cells = list(zip(*data_rows, strict=True))
    upns = list(map(str.strip, cells[upn_index]))
    if "" in upns:
        raise _Refused  # a blank line, or a row without a UPN
    if plain_addresses(upns):
        keys = "\n".join(upns).lower().split("\n")  # identity_key of ASCII text
    else:
        upns = [_checked(check_upn, upn) for upn in upns]
        keys = [fold(upn) for upn in upns]
    if len(set(keys)) != len(keys):
        raise _Refused  # a UPN repeated
    values = {key: _convert(key, list(map(str.strip, cells[i]))) for key, (i, _) in columns.items()}
    return UsersTable(lines, upns, values, entra_csv._one_based(columns))


def _checked(check: object, value: str) -> str:
    """``check(value)``, or :class:`_Refused` when it refuses (the reference then names
    the first error of the file)."""
    assert callable(check)
    try:
        result = check(value)
    except (InvalidInput, ValueError):
        raise _Refused from None
    assert isinstance(result, str)
    return result


def _convert(key: str, cells: list[str]) -> list[object]:
    """The column's cells as ``entra_csv._user_value`` converts them, each distinct
    cell once."""
    if key not in _CONVERTED:
        return list(cells)
    if key in (PROXY_ADDRESSES, MEMBER_OF) and _tidy_lists("\n".join(cells)):
        # Every part is already non-empty and trimmed: ``_split_list`` is ``split(";")``.
        return [tuple(cell.split(";")) if cell else () for cell in cells]
    memo: dict[str, object] = {}
    for cell in set(cells):
        try:
            memo[cell] = entra_csv._user_value(key, cell)
        except ValueError:
            raise _Refused from None
    return list(map(memo.__getitem__, cells))


#: Where a ``;``-separated cell (one per line) has an empty or untrimmed part.
_UNTIDY_LISTS: Final = re.compile(r"^;|;$|;;|\s;|;\s", re.MULTILINE)
#: The ASCII characters ``str.isspace`` (and ``\s``) counts as whitespace.
_ASCII_SPACES: Final = "".join(chr(c) for c in range(128) if chr(c).isspace())


def _tidy_lists(joined: str) -> bool:
    """Whether no cell of ``joined`` (one per line) has an empty or untrimmed part: for
    ASCII text by substring searches (C loops), else by :data:`_UNTIDY_LISTS`."""
    if ";" not in joined:
        return True
    if not joined.isascii():
        return _UNTIDY_LISTS.search(joined) is None
    if joined.startswith(";") or joined.endswith(";") or ";;" in joined:
        return False
    return not any(f"{c};" in joined or f";{c}" in joined for c in _ASCII_SPACES)


# -- merging ------------------------------------------------------------------------------------
def merge_users_file(directory: Directory, parsed: UsersFile) -> UserChanges:
    """:func:`entra_csv.merge_users` of the file's rows into ``directory``: new users
    straight from the columns when every fast test passes, else the reference merge
    (which raises its own errors). ``directory`` is not modified."""
    if parsed.table is not None:
        try:
            return _merge_new(directory, parsed.table)
        except _Refused:
            pass
    merged = entra_csv.merge_users(directory, parsed.rows(), source=parsed.source)
    created = sum(directory.find_user_by_id(u.id) is None for u in merged.changed_users)
    return UserChanges(merged.changed_users, merged.changed_groups, created)


def _merge_new(directory: Directory, table: UsersTable) -> UserChanges:
    """Every row a new user (the reference's create branch, column-wise)."""
    n = len(table)
    values = table.values
    upns = table.upns
    if len(directory) and not {fold(u.upn) for u in directory.users()}.isdisjoint(
        fold(upn) for upn in upns
    ):
        raise _Refused  # updates of existing users: the reference merges them
    ids = _ids(values.get(ID), n)
    if len(set(ids)) != n or (
        len(directory) and not {u.id for u in directory.users()}.isdisjoint(ids)
    ):
        raise _Refused
    names = _texts(values, DISPLAY_NAME, n)
    if "" in names:
        names = [name or upn.split("@")[0] for name, upn in zip(names, upns, strict=True)]
    if not texts_fit(names, MAX_DISPLAY_NAME):
        raise _Refused
    mails = _texts(values, MAIL, n)
    if not plain_addresses([m for m in mails if m]):
        for mail in mails:
            if mail and not plain_address(mail) and _checked(check_mail, mail) != mail:
                raise _Refused
    enabled = values.get(ACCOUNT_ENABLED) or [True] * n
    hidden = values.get(HIDDEN_FROM_ADDRESS_LISTS) or [None] * n
    kinds = values.get(USER_TYPE) or [UserType.MEMBER] * n
    proxies = _proxies(values.get(PROXY_ADDRESSES), n)
    attributes = _attributes(values, n)
    person = UserKind.PERSON
    users = [
        User(uid, upn, name, mail, on, kind, hide, person, None, attrs, proxy)
        for uid, upn, name, mail, on, kind, hide, attrs, proxy in zip(
            ids, upns, names, mails, enabled, kinds, hidden, attributes, proxies, strict=True
        )
    ]
    groups = _groups_with(directory, values.get(MEMBER_OF), ids)
    return UserChanges(users, groups, n)


def _texts(values: Mapping[str, list[object]], key: str, n: int) -> list[str]:
    found = values.get(key)
    if found is None:
        return [""] * n
    return found  # type: ignore[return-value]  # text columns hold str


def _ids(cells: list[object] | None, n: int) -> list[str]:
    """The reference's ``_as_uuid(file id) or new_id()``, column-wise."""
    if cells is None:
        return [new_id() for _ in range(n)]
    texts: list[str] = cells  # type: ignore[assignment]  # the id column is text
    joined = "\n".join(texts) + "\n"
    if _CANONICAL_UUIDS.fullmatch(joined):
        return list(texts)
    return [entra_csv._as_uuid(t) or new_id() for t in texts]


_CANONICAL_UUIDS: Final = re.compile(f"(?:{entra_csv._CANONICAL_UUID.pattern}\n)*")


def _proxies(cells: list[object] | None, n: int) -> list[tuple[str, ...]]:
    if cells is None:
        return [()] * n
    out: list[tuple[str, ...]] = cells  # type: ignore[assignment]  # split lists
    for addresses in set(out):
        if len(addresses) > MAX_PROXY_ADDRESSES or not texts_fit(addresses, MAX_ATTRIBUTE_VALUE):
            raise _Refused
    return out


def _attributes(values: Mapping[str, list[object]], n: int) -> list[dict[str, str]]:
    """Per row, the non-empty stored attributes in column order (the reference's
    ``attributes`` of a new user)."""
    keys = [k for k in values if k in STORED_ATTRIBUTES]
    cells: list[list[str]] = [values[k] for k in keys]  # type: ignore[misc]
    for column in cells:
        if not texts_fit(column, MAX_ATTRIBUTE_VALUE):
            raise _Refused
    if not keys:
        return [{} for _ in range(n)]
    if all("" not in column for column in cells):
        return [dict(zip(keys, row, strict=True)) for row in zip(*cells, strict=True)]
    return [{k: v for k, v in zip(keys, row, strict=True) if v} for row in zip(*cells, strict=True)]


def _groups_with(
    directory: Directory, cells: list[object] | None, ids: Sequence[str]
) -> list[Group]:
    """The groups that gain the new users their ``MemberOf`` cells name, in the
    directory's order (the reference's ``changed_groups``)."""
    if cells is None:
        return []
    by_name: dict[str, str] = {}
    added: dict[str, set[str]] = {}
    for names, uid in zip(cells, ids, strict=True):
        assert isinstance(names, tuple)
        for name in names:
            gid = by_name.get(name)
            if gid is None:
                group = directory.find_group(str(name))
                if group is None:
                    raise _Refused  # the reference names the unknown group
                gid = by_name[name] = group.id
                added.setdefault(gid, set())
            added[gid].add(uid)
    return [
        replace(g, members=g.members | added[g.id]) for g in directory.groups() if g.id in added
    ]
