"""Entra ID CSV import: the "Download users" file and a group-membership file.

Semantics §2 (users, groups, segmentable attributes) and design, "Names people will type"
(the "Users CSV" and "Groups CSV" bullets). Everything here is pure: the parsers take the
file's text or bytes and return rows, and the merges take a :class:`Directory` and rows and
return a new directory with the lists of what changed; the directory passed in is never
modified, and on any error nothing is returned.

Errors are :class:`CsvError`, naming the file, the 1-based line (the header is line 1) and,
where there is one, the 1-based column with its header.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, TypeAlias

from infobarrier.core.attributes import STORED_ATTRIBUTES, canonical_attribute
from infobarrier.core.codes import ErrorCode
from infobarrier.core.directory import (
    Directory,
    Group,
    User,
    UserType,
    check_user,
    fold,
    make_group,
    new_id,
)
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import check_upn

# -- field keys of UserRow.fields (besides canonical attribute names) ------------------------
ID: Final = "id"
DISPLAY_NAME: Final = "display_name"
MAIL: Final = "mail"
ACCOUNT_ENABLED: Final = "account_enabled"
USER_TYPE: Final = "user_type"
HIDDEN_FROM_ADDRESS_LISTS: Final = "hidden_from_address_lists"
PROXY_ADDRESSES: Final = "proxy_addresses"
MEMBER_OF: Final = "member_of"

_UPN: Final = "upn"
_IGNORED: Final = ""

#: Users-CSV headers (folded) that are not, or not only, segmentable attribute names.
_USER_HEADERS: Final[Mapping[str, str]] = {
    "userprincipalname": _UPN,
    "id": ID,
    "objectid": ID,
    "displayname": DISPLAY_NAME,
    "mail": MAIL,
    "accountenabled": ACCOUNT_ENABLED,
    "usertype": USER_TYPE,
    "hiddenfromaddresslistsenabled": HIDDEN_FROM_ADDRESS_LISTS,
    "mobilephone": _IGNORED,  # accepted, but not segmentable
    "mobile": _IGNORED,
}

#: Canonical attributes that are first-class fields of a user rather than stored attributes.
_CANONICAL_FIELDS: Final[Mapping[str, str]] = {
    "UserPrincipalName": _UPN,
    "Mail": MAIL,
    "ProxyAddresses": PROXY_ADDRESSES,
    "MemberOf": MEMBER_OF,
}

_GROUP_DISPLAY_NAME: Final = "display_name"
_GROUP_MAIL: Final = "mail"
_GROUP_MEMBER: Final = "member_upn"

_GROUP_HEADERS: Final[Mapping[str, str]] = {
    "groupdisplayname": _GROUP_DISPLAY_NAME,
    "groupmail": _GROUP_MAIL,
    "memberuserprincipalname": _GROUP_MEMBER,
}

#: Where a field came from: its 1-based column and its header as written in the file.
Columns: TypeAlias = Mapping[str, tuple[int, str]]


class CsvError(InvalidInput):
    """A CSV file that cannot be imported; names the line and, if known, the column.

    ``line`` is 1-based (the header is line 1); ``column`` is the 1-based index of the
    cell, or ``None`` when the problem is the whole line.
    """

    code = ErrorCode.CSV_ERROR

    def __init__(
        self,
        source: str,
        line: int,
        column: int | None,
        detail: str,
        *,
        header: str | None = None,
    ) -> None:
        where = f"{source} line {line}"
        if column is not None:
            where += f", column {column}"
            if header:
                where += f" ({header})"
        self.source = source
        self.line = line
        self.column = column
        self.header = header
        self.detail = detail
        super().__init__(f"{where}: {detail}")


@dataclass(frozen=True, slots=True)
class UserRow:
    """One user line of a users CSV (design, "Users CSV").

    ``fields`` holds only the columns present in the file: ``id``, ``display_name``,
    ``mail``, ``account_enabled`` (bool), ``user_type`` (:class:`UserType`),
    ``hidden_from_address_lists`` (bool or ``None``), ``proxy_addresses`` and ``member_of``
    (tuples of str) and canonical attribute names (str; ``""`` clears the attribute).
    """

    line: int
    upn: str
    fields: Mapping[str, object]
    columns: Columns = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One line of a groups CSV: a group, and optionally one member (design, "Groups CSV")."""

    line: int
    display_name: str
    mail: str = ""
    member_upn: str = ""
    columns: Columns = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class UserMerge:
    """The outcome of :func:`merge_users`: the new directory and what actually changed.

    A user counts as changed when its record or its set of direct groups changed.
    """

    directory: Directory
    changed_users: list[User]
    changed_groups: list[Group]


@dataclass(frozen=True, slots=True)
class GroupMerge:
    """The outcome of :func:`merge_groups`: the new directory and the groups that changed."""

    directory: Directory
    changed_groups: list[Group]


# -- reading CSV text ---------------------------------------------------------------------------
def _decode(data: bytes | str, source: str) -> str:
    """UTF-8 text with or without a byte-order mark."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    raw = data.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CsvError(
            source, line, None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvError(source, line, None, f"malformed CSV: {exc}") from None
        yield line, cells
        line = reader.line_num + 1


def _blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _header(
    records: Iterator[tuple[int, list[str]]],
    source: str,
    resolve: Callable[[str], str | None],
    required: str,
    required_name: str,
) -> tuple[int, dict[str, tuple[int, str]]]:
    """Read the header row; return its width and ``key -> (0-based index, header)``."""
    for line, cells in records:
        if _blank(cells):
            continue
        columns: dict[str, tuple[int, str]] = {}
        for index, raw in enumerate(cells):
            name = raw.strip()
            key = resolve(name)
            if not key:
                continue
            if key in columns:
                first, first_name = columns[key]
                raise CsvError(
                    source,
                    line,
                    index + 1,
                    f"repeats column {first + 1} ({first_name})",
                    header=name,
                )
            columns[key] = (index, name)
        if required not in columns:
            raise CsvError(source, line, None, f"no {required_name} column in the header")
        return len(cells), columns
    raise CsvError(source, 1, None, f"no header row (expected a {required_name} column)")


def _check_width(cells: Sequence[str], width: int, line: int, source: str) -> None:
    """Every record has the header's number of cells (trailing empty cells are tolerated)."""
    if len(cells) < width:
        raise CsvError(source, line, None, f"expected {width} cells, found {len(cells)}")
    for index in range(width, len(cells)):
        if cells[index].strip():
            raise CsvError(source, line, index + 1, f"expected {width} cells, found {len(cells)}")


def _one_based(columns: Mapping[str, tuple[int, str]]) -> Columns:
    return MappingProxyType({key: (index + 1, name) for key, (index, name) in columns.items()})


# -- users CSV ----------------------------------------------------------------------------------
def _user_header(name: str) -> str | None:
    """The field key of a users-CSV header, ``""`` for accepted-but-ignored, else ``None``."""
    folded = name.strip().casefold()
    if folded in _USER_HEADERS:
        return _USER_HEADERS[folded]
    canonical = canonical_attribute(folded)
    if canonical is None:
        return None
    if canonical in _CANONICAL_FIELDS:
        return _CANONICAL_FIELDS[canonical]
    return canonical if canonical in STORED_ATTRIBUTES else None


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def _user_value(key: str, value: str) -> object:
    """Convert one cell; raises ``ValueError`` with the detail for the error message."""
    if key == ACCOUNT_ENABLED:
        return True if not value else _boolean(value)
    if key == HIDDEN_FROM_ADDRESS_LISTS:
        return None if not value else _boolean(value)
    if key == USER_TYPE:
        if not value:
            return UserType.MEMBER
        kind = _USER_TYPES.get(value.casefold())
        if kind is None:
            raise ValueError(f"expected Member or Guest, found {value!r}")
        return kind
    if key in (PROXY_ADDRESSES, MEMBER_OF):
        return _split_list(value)
    return value


_USER_TYPES: Final[Mapping[str, UserType]] = {kind.value.casefold(): kind for kind in UserType}


def _boolean(value: str) -> bool:
    folded = value.casefold()
    if folded == "true":
        return True
    if folded == "false":
        return False
    raise ValueError(f"expected True or False, found {value!r}")


def parse_users_csv(data: bytes | str, *, source: str = "users.csv") -> list[UserRow]:
    """Parse an Entra ID "Download users" CSV (design, "Users CSV"; semantics §2).

    Columns are matched by header, case-insensitively, with Entra's aliases and every
    segmentable attribute's names; unknown columns are ignored, and so are wholly blank
    lines. Cells are trimmed and otherwise kept as data (a leading ``=``, ``+``, ``-`` or
    ``@`` means nothing). ``source`` names the file in error messages.
    """
    records = _records(_decode(data, source), source)
    width, columns = _header(records, source, _user_header, _UPN, "userPrincipalName")
    upn_index, upn_header = columns.pop(_UPN)
    where = _one_based(columns)
    rows: list[UserRow] = []
    seen: dict[str, int] = {}
    for line, cells in records:
        if _blank(cells):
            continue
        _check_width(cells, width, line, source)
        upn = cells[upn_index].strip()
        if not upn:
            raise CsvError(
                source, line, upn_index + 1, "empty userPrincipalName", header=upn_header
            )
        try:
            upn = check_upn(upn)
        except InvalidInput as exc:
            raise CsvError(source, line, upn_index + 1, exc.message, header=upn_header) from None
        if fold(upn) in seen:
            raise CsvError(
                source,
                line,
                upn_index + 1,
                f"user {upn!r} already appears on line {seen[fold(upn)]}",
                header=upn_header,
            )
        seen[fold(upn)] = line
        fields: dict[str, object] = {}
        for key, (index, name) in columns.items():
            try:
                fields[key] = _user_value(key, cells[index].strip())
            except ValueError as exc:
                raise CsvError(source, line, index + 1, str(exc), header=name) from None
        rows.append(UserRow(line, upn, MappingProxyType(fields), where))
    return rows


def _row_error(source: str, line: int, columns: Columns, key: str, detail: str) -> CsvError:
    column, header = columns.get(key, (None, None))
    return CsvError(source, line, column, detail, header=header)


def _text(row: UserRow, key: str, source: str) -> str:
    value = row.fields.get(key, "")
    if not isinstance(value, str):
        raise _row_error(source, row.line, row.columns, key, f"expected text, got {value!r}")
    return value


_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _same_id(a: str, b: str) -> bool:
    try:
        return uuid.UUID(a) == uuid.UUID(b)
    except ValueError:
        return fold(a.strip()) == fold(b.strip())


def _as_uuid(value: str) -> str | None:
    """The canonical form of a UUID, or ``None`` if ``value`` is not one."""
    if _CANONICAL_UUID.fullmatch(value):  # already canonical (Entra writes them so)
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _updated(user: User, row: UserRow, source: str) -> User:
    """``user`` with the fields present in ``row`` (an empty value clears the field)."""
    fields = row.fields
    display_name = user.display_name
    if DISPLAY_NAME in fields:
        display_name = _text(row, DISPLAY_NAME, source) or user.upn.split("@")[0]
    mail = _text(row, MAIL, source) if MAIL in fields else user.mail
    account_enabled = user.account_enabled
    if ACCOUNT_ENABLED in fields:
        value = fields[ACCOUNT_ENABLED]
        if not isinstance(value, bool):
            raise _row_error(source, row.line, row.columns, ACCOUNT_ENABLED, "expected a bool")
        account_enabled = value
    hidden = user.hidden_from_address_lists
    if HIDDEN_FROM_ADDRESS_LISTS in fields:
        value = fields[HIDDEN_FROM_ADDRESS_LISTS]
        if value is not None and not isinstance(value, bool):
            raise _row_error(
                source, row.line, row.columns, HIDDEN_FROM_ADDRESS_LISTS, "expected a bool"
            )
        hidden = value
    user_type = user.user_type
    if USER_TYPE in fields:
        try:
            user_type = UserType(_text(row, USER_TYPE, source) or UserType.MEMBER)
        except ValueError:
            raise _row_error(
                source, row.line, row.columns, USER_TYPE, "expected Member or Guest"
            ) from None
    proxy_addresses = user.proxy_addresses
    if PROXY_ADDRESSES in fields:
        value = fields[PROXY_ADDRESSES]
        if not isinstance(value, tuple):
            raise _row_error(source, row.line, row.columns, PROXY_ADDRESSES, "expected a tuple")
        proxy_addresses = tuple(str(v) for v in value if v)
    attributes = dict(user.attributes)
    for key in fields:
        if key in STORED_ATTRIBUTES:
            text = _text(row, key, source)
            if text:
                attributes[key] = text
            else:
                attributes.pop(key, None)
    return check_user(
        replace(
            user,
            display_name=display_name,
            mail=mail,
            account_enabled=account_enabled,
            hidden_from_address_lists=hidden,
            user_type=user_type,
            proxy_addresses=proxy_addresses,
            attributes=attributes,
        )
    )


def _merge_user_row(work: Directory, row: UserRow, source: str) -> tuple[str, list[str] | None]:
    """Create or update the row's user in ``work``; return its id and, when the row has a
    ``MemberOf`` column, the ids of the groups it names (set by the caller, all at once)."""
    existing = work.find_upn(row.upn)
    file_id = _text(row, ID, source).strip() if ID in row.fields else ""
    if existing is not None:
        if file_id and not _same_id(file_id, existing.id):
            raise _row_error(
                source,
                row.line,
                row.columns,
                ID,
                f"id {file_id!r} differs from the id {existing.id!r} of user {existing.upn!r}",
            )
        user = _updated(existing, row, source)
    else:
        uid = _as_uuid(file_id) or new_id()
        holder = work.find_user_by_id(uid)
        if holder is not None:
            raise _row_error(
                source,
                row.line,
                row.columns,
                ID,
                f"id {uid!r} already belongs to user {holder.upn!r}",
            )
        # The row's UPN was checked by the parser; ``_updated`` checks the whole user.
        user = _updated(User(uid, row.upn, display_name=row.upn.split("@")[0]), row, source)
    work.put_user(user)
    if MEMBER_OF not in row.fields:
        return user.id, None
    names = row.fields[MEMBER_OF]
    if not isinstance(names, tuple):
        raise _row_error(source, row.line, row.columns, MEMBER_OF, "expected a tuple")
    group_ids: list[str] = []
    for name in names:
        group = work.find_group(str(name))
        if group is None:
            raise _row_error(source, row.line, row.columns, MEMBER_OF, f"unknown group {name!r}")
        group_ids.append(group.id)
    return user.id, group_ids


def merge_users(
    directory: Directory, rows: Sequence[UserRow], *, source: str = "users.csv"
) -> UserMerge:
    """Merge users-CSV rows into a copy of ``directory`` (design, "Users CSV"; semantics §2).

    A row whose UPN exists updates that user in place (only the columns present; its id is
    kept); any other row creates a user, with the file's id when it is a valid UUID. A
    ``MemberOf`` column replaces the user's direct groups. ``directory`` is not modified.
    """
    work = directory.copy()
    touched: dict[str, None] = {}
    wanted: dict[str, list[str]] = {}
    for row in rows:
        try:
            uid, group_ids = _merge_user_row(work, row, source)
        except CsvError:
            raise
        except InvalidInput as exc:
            raise CsvError(source, row.line, None, exc.message) from exc
        touched[uid] = None
        if group_ids is not None:
            wanted[uid] = group_ids
    work.set_groups_of_users(wanted)
    changed_users: list[User] = []
    for uid in touched:
        user = work.user(uid)
        old = directory.find_user_by_id(uid)
        if old is None or old != user or directory.group_ids_of(uid) != work.group_ids_of(uid):
            changed_users.append(user)
    changed_groups = [g for g in work.groups() if directory.find_group_by_id(g.id) != g]
    return UserMerge(work, changed_users, changed_groups)


# -- groups CSV ---------------------------------------------------------------------------------
def _group_header(name: str) -> str | None:
    return _GROUP_HEADERS.get(name.strip().casefold())


def parse_groups_csv(data: bytes | str, *, source: str = "groups.csv") -> list[GroupRow]:
    """Parse ``groupDisplayName,groupMail,memberUserPrincipalName`` (design, "Groups CSV").

    Headers are case-insensitive; only ``groupDisplayName`` is required; one row per
    membership, and a row without a member names the group only. Unknown columns and
    wholly blank lines are ignored.
    """
    records = _records(_decode(data, source), source)
    width, columns = _header(
        records, source, _group_header, _GROUP_DISPLAY_NAME, "groupDisplayName"
    )
    where = _one_based(columns)
    name_index, name_header = columns[_GROUP_DISPLAY_NAME]
    rows: list[GroupRow] = []
    for line, cells in records:
        if _blank(cells):
            continue
        _check_width(cells, width, line, source)
        values = {key: cells[index].strip() for key, (index, _) in columns.items()}
        if not values[_GROUP_DISPLAY_NAME]:
            raise CsvError(source, line, name_index + 1, "empty group name", header=name_header)
        rows.append(
            GroupRow(
                line,
                values[_GROUP_DISPLAY_NAME],
                values.get(_GROUP_MAIL, ""),
                values.get(_GROUP_MEMBER, ""),
                where,
            )
        )
    return rows


def _merge_group_row(work: Directory, row: GroupRow, source: str) -> tuple[str, str | None]:
    """Create the row's group if needed and give it the row's mail.

    Returns the group's id and the id of the row's member, if any; the caller adds the
    memberships, one update per group.
    """
    name, mail, upn = row.display_name.strip(), row.mail.strip(), row.member_upn.strip()

    def error(key: str, detail: str) -> CsvError:
        return _row_error(source, row.line, row.columns, key, detail)

    if not name:
        raise error(_GROUP_DISPLAY_NAME, "empty group name")
    by_name = work.find_group(name)
    by_mail = work.find_group(mail) if mail else None
    if by_name is not None and fold(by_name.display_name) != fold(name):
        raise error(
            _GROUP_DISPLAY_NAME,
            f"{name!r} is the mail or id of group {by_name.display_name!r}, not a group name",
        )
    if by_mail is not None and (by_name is None or by_mail.id != by_name.id):
        raise error(_GROUP_MAIL, f"mail {mail!r} belongs to group {by_mail.display_name!r}")
    if by_name is None:
        group = make_group(name, mail=mail)
    elif mail and not by_name.mail:
        group = replace(by_name, mail=mail)
    elif mail and fold(by_name.mail) != fold(mail):
        raise error(
            _GROUP_MAIL,
            f"group {by_name.display_name!r} already has mail {by_name.mail!r}, not {mail!r}",
        )
    else:
        group = by_name
    if group is not by_name:
        work.put_group(group)
    if not upn:
        return group.id, None
    user = work.find_upn(upn)
    if user is None:
        raise error(_GROUP_MEMBER, f"unknown user {upn!r}")
    return group.id, user.id


def merge_groups(
    directory: Directory, rows: Sequence[GroupRow], *, source: str = "groups.csv"
) -> GroupMerge:
    """Merge groups-CSV rows into a copy of ``directory`` (design, "Groups CSV"; §2).

    Groups are found by display name or mail and created when missing; a mail is set when
    the group has none; memberships are added (never removed). ``directory`` is not
    modified.
    """
    work = directory.copy()
    before = {group.id: group for group in directory.groups()}
    added: dict[str, set[str]] = {}
    for row in rows:
        try:
            gid, uid = _merge_group_row(work, row, source)
        except CsvError:
            raise
        except InvalidInput as exc:
            raise CsvError(source, row.line, None, exc.message) from exc
        if uid is not None:
            added.setdefault(gid, set()).add(uid)
    for gid, uids in added.items():
        group = work.group(gid)
        if not uids <= group.members:
            work.put_group(replace(group, members=group.members | uids))
    changed = [g for g in work.groups() if before.get(g.id) != g]
    return GroupMerge(work, changed)


# -- export -------------------------------------------------------------------------------------
#: The users CSV's columns as written, before the stored attributes (the headers the parser
#: reads back, so an export imports unchanged).
_EXPORT_HEADERS: Final = (
    "userPrincipalName",
    "id",
    "displayName",
    "mail",
    "accountEnabled",
    "userType",
    "hiddenFromAddressListsEnabled",
    "proxyAddresses",
)


def _csv_line(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def render_users_csv(users: Iterable[User]) -> Iterator[str]:
    """The users as an Entra ID "Download users" CSV, a line at a time (an export can be
    streamed): every field and stored attribute that :func:`parse_users_csv` reads back.
    Kinds and sponsors of service accounts are not columns of Entra's file."""
    yield _csv_line([*_EXPORT_HEADERS, *STORED_ATTRIBUTES])
    for u in users:
        hidden = u.hidden_from_address_lists
        yield _csv_line(
            [
                u.upn,
                u.id,
                u.display_name,
                u.mail,
                "True" if u.account_enabled else "False",
                u.user_type.value,
                "" if hidden is None else ("True" if hidden else "False"),
                ";".join(u.proxy_addresses),
                *(u.attributes.get(a, "") for a in STORED_ATTRIBUTES),
            ]
        )


def render_groups_csv(groups: Iterable[tuple[Group, Sequence[str]]]) -> Iterator[str]:
    """Group memberships as the groups CSV (one line per member, a line for a group with
    none), given each group with its members' UPNs."""
    yield _csv_line(["groupDisplayName", "groupMail", "memberUserPrincipalName"])
    for group, upns in groups:
        for upn in upns or [""]:
            yield _csv_line([group.display_name, group.mail, upn])
