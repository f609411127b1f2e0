"""The users CSV's bulk path: :func:`entra_csv.parse_users_csv` and
:func:`entra_csv.merge_users`, column by column (semantics §2; design, "Users CSV").

A million-row file spends most of its time in per-row Python: building a row object,
checking each cell, building a user and checking it again. Here the file is read into
columns (split at commas when no line holds a quote, else by ``csv.reader``), and each
column is checked at once with the column-wise tests of ``core.limits`` (one compiled
regex over the joined column, ``max(map(len, ...))``), each distinct cell of a converted
column (``accountEnabled``, ``userType``, ``MemberOf`` ...) is converted once, and new
users are built straight from the columns (:func:`new_users_import`, ``core.new_users``;
docs/decisions.md, "The users CSV import path").

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
from itertools import chain, repeat
from types import MappingProxyType
from typing import Final

import numpy as np

from infobarrier.core.attributes import STORED_ATTRIBUTES
from infobarrier.core.directory import (
    Directory,
    Group,
    User,
    fold,
    new_id,
)
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import (
    check_upn,
    plain_addresses,
)
from infobarrier.core.new_users import NewUsers, new_users
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
    split = _plain_split(text)
    if split is not None:
        first, header, body = split
        width, columns = _table_header(first, header, source)
        upn_index = columns.pop(entra_csv._UPN)[0]
        cells = _plain_columns(body, width)
        if cells is None:
            raise _Refused
        lines = list(range(first + 2, first + 2 + len(cells[0]))) if cells else []
        return _table(lines, cells, upn_index, columns)
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
    width, columns = _table_header(start, records[start], source)
    upn_index = columns.pop(entra_csv._UPN)[0]
    data_rows = records[start + 1 :]
    lines = list(range(start + 2, start + 2 + len(data_rows)))
    while data_rows and entra_csv._blank(data_rows[-1]):  # trailing blank lines
        data_rows.pop()
        lines.pop()
    if not data_rows:
        return _table([], [], upn_index, columns)
    if min(map(len, data_rows)) != width or max(map(len, data_rows)) != width:
        raise _Refused
    return _table(lines, list(zip(*data_rows, strict=True)), upn_index, columns)


def _table_header(
    start: int, header: list[str], source: str
) -> tuple[int, dict[str, tuple[int, str]]]:
    """The reference's reading of the header (line ``start + 1``): its width and columns."""
    return entra_csv._header(
        iter([(start + 1, header)]),
        source,
        entra_csv._user_header,
        entra_csv._UPN,
        "userPrincipalName",
    )


def _table(
    lines: list[int],
    cells: Sequence[Sequence[str]],
    upn_index: int,
    columns: dict[str, tuple[int, str]],
) -> UsersTable:
    """The table of the data rows' ``cells`` (one sequence per column of the file)."""
    if not lines:
        return UsersTable([], [], {key: [] for key in columns}, entra_csv._one_based(columns))
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


def _plain_split(text: str) -> tuple[int, list[str], str] | None:
    """``(index of the header line, its cells, the text after it)`` when no line of
    ``text`` can be read differently by ``csv.reader`` than by splitting it at commas:
    no quote (so no quoted cell, no cell over several lines), no NUL, and line breaks
    that are ``\n`` or ``\r\n`` only (a lone ``\r`` ends a record for ``csv``). ``None``
    otherwise (the caller then reads it with ``csv.reader``)."""
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    start = at = 0
    while True:  # the reference skips blank lines before the header
        end = text.find("\n", at)
        line = text[at:] if end < 0 else text[at:end]
        if not entra_csv._blank(line.split(",")):
            break
        if end < 0:
            return None  # no header: the reference says so
        start += 1
        at = end + 1
    if len(line) > csv.field_size_limit():
        return None  # csv.reader refuses a longer cell
    return start, line.split(","), "" if end < 0 else text[end + 1 :]


def _plain_columns(body: str, width: int) -> list[list[str]] | None:
    """The cells of ``body`` (lines without quotes) as columns, from one split of the
    whole text at commas; ``None`` when some line has another number of cells than
    ``width`` (a blank line among the rows, a short or long line: the reference reads
    those), or is longer than ``csv.reader`` takes a cell."""
    lines = body.split("\n")
    while lines and entra_csv._blank(lines[-1].split(",")):  # trailing blank lines
        lines.pop()
    if not lines:
        return []
    if set(map(str.count, lines, repeat(",", len(lines)))) != {width - 1}:
        return None
    if max(map(len, lines)) > csv.field_size_limit():
        return None
    flat = ",".join(lines).split(",")
    return [flat[k::width] for k in range(width)]


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
    upns = table.upns
    if len(directory) and not {fold(u.upn) for u in directory.users()}.isdisjoint(
        fold(upn) for upn in upns
    ):
        raise _Refused  # updates of existing users: the reference merges them
    found = _new_import(table, [(g.id, g.display_name, g.mail) for g in directory.groups()])
    if found is None or (
        len(directory) and not {u.id for u in directory.users()}.isdisjoint(found.users.ids)
    ):
        raise _Refused
    added: dict[str, set[str]] = {}
    for uid, gids in zip(found.users.ids, found.member_of or (), strict=False):
        for gid in gids:
            added.setdefault(gid, set()).add(uid)
    groups = [
        replace(g, members=g.members | added[g.id]) for g in directory.groups() if g.id in added
    ]
    return UserChanges(found.users.users(), groups, len(found.users))


@dataclass(frozen=True, slots=True)
class NewUsersImport:
    """A users file whose every row creates a user, as columns (``core.new_users``).

    ``member_of``: per user, the ids of the groups its ``MemberOf`` cell names (distinct,
    in the order of the groups given), or ``None`` when the file has no such column;
    ``groups_changed``: how many groups gain members.
    """

    users: NewUsers
    member_of: list[tuple[str, ...]] | None
    groups_changed: int


def new_users_import(
    parsed: UsersFile, groups: Sequence[tuple[str, str, str]]
) -> NewUsersImport | None:
    """The file's rows as new users, column-wise, when every fast test passes, else
    ``None`` (the caller then takes the reference merge, which accepts the file or names
    its first error). ``groups``: the tenant's groups as ``(id, display name, mail)``, in
    the directory's order.

    Whether a UPN or id already exists is the caller's to check (with the store: a file
    that updates users takes the reference merge). An empty file gives ``None``.
    """
    if parsed.table is None or not len(parsed.table):
        return None
    try:
        return _new_import(parsed.table, groups)
    except _Refused:
        return None


def _new_import(table: UsersTable, groups: Sequence[tuple[str, str, str]]) -> NewUsersImport | None:
    n = len(table)
    values = table.values
    ids = _ids(values.get(ID), n)
    if len(set(ids)) != n:
        return None  # the reference names the repeated id
    users = new_users(
        ids,
        table.upns,
        display_names=values.get(DISPLAY_NAME),  # type: ignore[arg-type]  # text
        mails=values.get(MAIL),  # type: ignore[arg-type]  # text
        enabled=values.get(ACCOUNT_ENABLED),  # type: ignore[arg-type]  # converted
        user_types=values.get(USER_TYPE),  # type: ignore[arg-type]  # converted
        hidden=values.get(HIDDEN_FROM_ADDRESS_LISTS),  # type: ignore[arg-type]  # converted
        proxy_addresses=values.get(PROXY_ADDRESSES),  # type: ignore[arg-type]  # split
        attributes={k: v for k, v in values.items() if k in STORED_ATTRIBUTES},  # type: ignore[misc]
    )
    if users is None:
        return None
    cells = values.get(MEMBER_OF)
    if cells is None:
        return NewUsersImport(users, None, 0)
    member_of = _group_ids(cells, groups)  # type: ignore[arg-type]  # split lists
    if member_of is None:
        return None
    changed = len(set().union(*set(member_of))) if member_of else 0
    return NewUsersImport(users, member_of, changed)


def _group_ids(
    cells: list[tuple[str, ...]], groups: Sequence[tuple[str, str, str]]
) -> list[tuple[str, ...]] | None:
    """Per cell, the ids of the groups it names as ``Directory.find_group`` finds them (by
    id, else by folded display name or mail), distinct and in the order of ``groups``;
    each distinct name resolved once. ``None``: a name that is no group.

    When every cell names its groups once each and in that order (a file written in
    name order), each cell is mapped name by name with no Python per cell
    (:func:`_in_order` checks it over all cells at once); else each distinct cell is
    sorted once."""
    rank = {gid: k for k, (gid, _, _) in enumerate(groups)}
    by_name: dict[str, str] = {}
    for gid, name, mail in groups:
        for key in {fold(name), fold(mail)} - {""}:
            by_name[key] = gid
    flat = list(chain.from_iterable(cells))
    gid_of: dict[str, str] = {}
    for name in set(flat):
        found = name if name in rank else by_name.get(fold(name.strip()))
        if found is None:
            return None  # the reference names the unknown group
        gid_of[name] = found
    rank_of = {name: rank[gid] for name, gid in gid_of.items()}
    if _in_order(cells, list(map(rank_of.__getitem__, flat))):
        return list(map(tuple, map(map, repeat(gid_of.__getitem__), cells)))
    resolved = {
        names: tuple(sorted({gid_of[name] for name in names}, key=rank.__getitem__))
        for names in set(cells)
    }
    return list(map(resolved.__getitem__, cells))


def _in_order(cells: list[tuple[str, ...]], ranks: list[int]) -> bool:
    """Whether, in every cell, the ranks of its names (``ranks``: of all cells' names,
    in order) strictly increase: numpy over the flat ranks, the pairs that straddle two
    cells left out."""
    if len(ranks) < 2:
        return True
    counts = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    cell_of = np.repeat(np.arange(len(cells)), counts)
    flat = np.array(ranks, dtype=np.int64)
    same = cell_of[1:] == cell_of[:-1]
    return bool(np.all(flat[1:][same] > flat[:-1][same]))


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
