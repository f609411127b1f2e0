"""Users, groups and memberships of one tenant (semantics §2, §3)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice, repeat
from operator import attrgetter, itemgetter, le
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Text, cast, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from infobarrier.core.attributes import STORED_ATTRIBUTES
from infobarrier.core.columns import Indices, MultiColumn, SingleColumn, UserColumns, encode
from infobarrier.core.directory import Directory, Group, User, UserKind, UserType, fold
from infobarrier.core.new_users import NewUsers
from infobarrier.core.packed import PackedStrings
from infobarrier.store import bulk
from infobarrier.store.changes import ChangeLog
from infobarrier.store.records import CHUNK, Tenant, chunks
from infobarrier.store.schema import AssignmentRow, GroupRow, MembershipRow, UserRow
from infobarrier.store.scoped import TenantScoped

#: The user columns in the order of :func:`_user_values` (after ``tenant_id``).
_USER_COLUMNS = (
    "id",
    "upn",
    "upn_key",
    "display_name",
    "mail",
    "account_enabled",
    "user_type",
    "hidden",
    "kind",
    "sponsor_id",
    "attributes",
    "proxy_addresses",
)


def _user_values(u: User) -> tuple[Any, ...]:
    """A user as the values of :data:`_USER_COLUMNS`, its JSON columns as JSON text (a
    bulk import writes a million of these: no enum lookups, one ``orjson`` call each)."""
    upn = u.upn
    return (
        u.id,
        upn,
        upn.lower() if upn.isascii() else fold(upn),  # fold, without two calls per user
        u.display_name,
        u.mail,
        u.account_enabled,
        _VALUE[u.user_type],
        u.hidden_from_address_lists,
        _VALUE[u.kind],
        u.sponsor_id,
        orjson.dumps(u.attributes if type(u.attributes) is dict else dict(u.attributes)).decode(),
        orjson.dumps(u.proxy_addresses).decode(),
    )


_VALUE: dict[UserType | UserKind, str] = {
    **{t: t.value for t in UserType},
    **{k: k.value for k in UserKind},
}


def _json_columns(users_t: Any) -> tuple[Any, Any]:
    """``attributes`` and ``proxy_addresses`` as their JSON text (decoded with orjson)."""
    return (
        cast(users_t.c.attributes, Text).label("attributes"),
        cast(users_t.c.proxy_addresses, Text).label("proxy_addresses"),
    )


#: Rows fetched at a time when a whole directory is streamed (a server-side cursor on
#: PostgreSQL: the rows never all sit in memory at once).
STREAM = 10_000

_USER_TYPES = {t.value: t for t in UserType}
_KINDS = {k.value: k for k in UserKind}


def _user_of(r: Any) -> User:
    """A user from a Core row of :data:`_USER_COLUMNS` (JSON columns as text)."""
    (
        uid,
        upn,
        _key,
        display_name,
        mail,
        enabled,
        user_type,
        hidden,
        kind,
        sponsor,
        attrs,
        proxies,
    ) = r
    return User(
        id=uid,
        upn=upn,
        display_name=display_name,
        mail=mail,
        account_enabled=bool(enabled),
        user_type=_USER_TYPES[user_type],
        hidden_from_address_lists=None if hidden is None else bool(hidden),
        kind=_KINDS[kind],
        sponsor_id=sponsor,
        attributes=orjson.loads(attrs) if attrs else {},
        proxy_addresses=tuple(orjson.loads(proxies)) if proxies else (),
    )


def _user(r: UserRow) -> User:
    return User(
        id=r.id,
        upn=r.upn,
        display_name=r.display_name,
        mail=r.mail,
        account_enabled=r.account_enabled,
        user_type=UserType(r.user_type),
        hidden_from_address_lists=r.hidden,
        kind=UserKind(r.kind),
        sponsor_id=r.sponsor_id,
        attributes=dict(r.attributes or {}),
        proxy_addresses=tuple(r.proxy_addresses or ()),
    )


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _reordered(column: SingleColumn, order: npt.NDArray[np.intp]) -> SingleColumn:
    """A column encoded in scan order, put in the order ``order`` lists the users."""
    return SingleColumn(column.codes[order], column.vocabulary, column.lookup)


def _proxy_column(texts: list[str | None], rank: Indices) -> MultiColumn:
    """``ProxyAddresses`` from each user's JSON list in scan order (``rank``: each scanned
    user's position)."""
    lookup: dict[str, int] = {}
    owners: array[int] = array("i")
    items: array[int] = array("i")
    for scanned, listed in enumerate(texts):
        for address in orjson.loads(listed) if listed else ():
            owners.append(scanned)
            items.append(lookup.setdefault(address.casefold(), len(lookup)))
    names: list[tuple[str, ...]] = [("",)] * len(lookup)
    for value, code in lookup.items():
        names[code] = (value,)
    return MultiColumn(
        rank[np.frombuffer(owners, dtype=np.int32)], np.frombuffer(items, dtype=np.int32), names
    )


def _hashes(strings: npt.NDArray[Any], width: int) -> npt.NDArray[np.uint64]:
    """A 64-bit polynomial hash of each fixed-width byte string, computed a byte column at
    a time (``width`` numpy operations, none per string); overflow wraps by design."""
    columns = strings.view(np.uint8).reshape(len(strings), width)
    found = np.zeros(len(strings), dtype=np.uint64)
    factor = np.uint64(0x100000001B3)  # the FNV-1 prime
    for k in range(width):
        found *= factor
        found ^= columns[:, k]
    return found


def _driver_rows(connection: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """The rows of ``query`` a partition at a time, as the driver's own tuples: no Row
    object per row, nor result processing (booleans come as the driver gives them, 0/1
    on SQLite). On PostgreSQL a server-side cursor, so the rows never all sit in memory.
    """
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    raw = connection.connection
    if connection.dialect.name == "postgresql":
        cursor = raw.driver_connection.cursor(name="ib_read_columns")  # type: ignore[union-attr]
    else:
        cursor = raw.cursor()
    try:
        if compiled.positional:
            cursor.execute(str(compiled), tuple(params[k] for k in compiled.positiontup or ()))
        else:
            cursor.execute(str(compiled), params)
        while part := cursor.fetchmany(STREAM):
            yield part
    finally:
        cursor.close()


class DirectoryRepository(TenantScoped):
    """The directory of one tenant; every write records a change (:class:`ChangeLog`)."""

    __slots__ = ("_changes",)

    def __init__(self, session: Session, tenant: Tenant, changes: ChangeLog) -> None:
        super().__init__(session, tenant)
        self._changes = changes

    def load(self) -> Directory:
        """All users and groups, read as Core rows (no ORM object per user)."""
        self._session.flush()  # Core selects do not autoflush
        users_t, groups_t, members_t = (
            UserRow.__table__,
            GroupRow.__table__,
            MembershipRow.__table__,
        )
        rows = self._session.connection().execute(
            select(*(users_t.c[c] for c in _USER_COLUMNS[:-2]), *_json_columns(users_t))
            .where(users_t.c.tenant_id == self._tid)
            .order_by(users_t.c.upn_key)
        )
        users = [_user_of(r) for r in rows]
        members: dict[str, set[str]] = {}
        for gid, uid in self._session.connection().execute(
            select(members_t.c.group_id, members_t.c.user_id).where(
                members_t.c.tenant_id == self._tid
            )
        ):
            found = members.get(gid)
            if found is None:
                members[gid] = found = set()
            found.add(uid)
        groups = [
            Group(gid, name, mail, frozenset(members.get(gid, ())))
            for gid, name, mail in self._session.connection().execute(
                select(groups_t.c.id, groups_t.c.display_name, groups_t.c.mail)
                .where(groups_t.c.tenant_id == self._tid)
                .order_by(groups_t.c.name_key)
            )
        ]
        return Directory(users, groups)

    def read_columns(
        self,
        attributes: Iterable[str],
        groups: Callable[[tuple[str, ...]], bool] | None = None,
    ) -> UserColumns:
        """Every user as columns (the order of :meth:`load`) with the columns of
        ``attributes``: what ``apply`` compiles, never a :class:`User` or :class:`Group`
        object per user (docs/architecture.md, "Performance shape"). ``groups``: which
        groups (by their folded names) ``MemberOf`` needs the members of (``None``: all;
        ``core.columns.groups_compared``); the others are listed without members.

        The users are read in the store's own order (no ``ORDER BY``: on SQLite, ordering
        by the UPN index costs a random table lookup per user, 2.5 s at 1M users) a
        partition of rows at a time, each partition turned into columns by ``zip``; then
        put in folded-UPN order here. Per user, only C loops run (``zip``, ``map``,
        ``numpy``), besides the JSON of the attributes when a filter reads one.
        """
        self._session.flush()  # Core selects do not autoflush
        users_t, groups_t, members_t = (
            UserRow.__table__,
            GroupRow.__table__,
            MembershipRow.__table__,
        )
        wanted = set(attributes)
        stored = sorted(wanted & set(STORED_ATTRIBUTES))
        proxies = "ProxyAddresses" in wanted
        mails = "Mail" in wanted
        columns = [
            users_t.c.id,
            users_t.c.upn,
            users_t.c.upn_key,
            users_t.c.account_enabled,
            users_t.c.user_type,
            users_t.c.hidden,
        ]
        if mails:
            columns.append(users_t.c.mail)
        if stored:
            columns.append(cast(users_t.c.attributes, Text).label("attributes"))
        if proxies:
            columns.append(cast(users_t.c.proxy_addresses, Text).label("proxy_addresses"))
        read: list[list[Any]] = [[] for _ in columns]
        values: dict[str, list[str]] = {a: [] for a in stored}
        loads = orjson.loads
        query = select(*columns).where(users_t.c.tenant_id == self._tid)
        for part in _driver_rows(self._session.connection(), query):
            cells = tuple(zip(*part, strict=True))
            for k, column in enumerate(cells):
                if k < 6 + mails:
                    read[k].extend(column)
            if stored:
                parsed = [loads(text) if text else {} for text in cells[6 + mails]]
                for name, found in values.items():
                    found.extend([d.get(name) or "" for d in parsed])
            if proxies:
                read[-1].extend(cells[-1])
        scan_ids, scan_upns, scan_keys, on, kinds, hide = read[:6]
        n = len(scan_ids)
        # The order of :meth:`load` (by folded UPN), sorted here rather than by the store.
        order_list = sorted(range(n), key=scan_keys.__getitem__)
        order = np.array(order_list, dtype=np.intp)
        del scan_keys, order_list
        # Packed (UTF-8 and offsets), as the stored epoch keeps them: never a tuple of a
        # million strings in UPN order, each a cache miss to gather.
        ids = PackedStrings.pack_ordered(scan_ids, order)
        upns = PackedStrings.pack_ordered(scan_upns, order)
        hidden_cells = np.array(hide, dtype=object)
        unset = hidden_cells == None  # noqa: E711 (element-wise: which users have no flag)
        guests = np.array(kinds, dtype=object) == UserType.GUEST.value
        hidden = np.where(unset, guests, hidden_cells.astype(np.bool_))[order]
        enabled = np.array(on, dtype=np.bool_)[order]
        single: dict[str, SingleColumn] = {}
        for name, found in values.items():
            single[name] = _reordered(encode(found, n), order)
        if "UserPrincipalName" in wanted:
            single["UserPrincipalName"] = _reordered(encode(scan_upns, n), order)
        if mails:
            single["Mail"] = _reordered(encode((m or "" for m in read[6]), n), order)
        rank = np.empty(n, dtype=np.int32)
        rank[order] = np.arange(n, dtype=np.int32)
        multi: dict[str, MultiColumn] = {}
        if proxies:
            multi["ProxyAddresses"] = _proxy_column(read[-1], rank)
        if "MemberOf" in wanted:
            multi["MemberOf"] = self._member_of_column(scan_ids, rank, groups, groups_t, members_t)
        return UserColumns(
            ids=ids,
            upns=upns,
            enabled=enabled,
            hidden=hidden,
            single=single,
            multi=multi,
        )

    def _member_of_column(
        self,
        ids: list[str],
        rank: Indices,
        groups: Callable[[tuple[str, ...]], bool] | None,
        groups_t: Any,
        members_t: Any,
    ) -> MultiColumn:
        """``MemberOf`` as (user position, group) pairs and each group's folded names
        (``ids``: the users in scan order, ``rank``: each one's position)."""
        connection = self._session.connection()
        group_ix: dict[str, int] = {}
        names: list[tuple[str, ...]] = []
        for gid, name, mail in connection.execute(
            select(groups_t.c.id, groups_t.c.display_name, groups_t.c.mail)
            .where(groups_t.c.tenant_id == self._tid)
            .order_by(groups_t.c.name_key)
        ):
            group_ix[gid] = len(names)
            names.append(tuple(n.casefold() for n in (name, mail, gid) if n))
        if groups is not None:
            group_ix = {g: k for g, k in group_ix.items() if groups(names[k])}
        found = self._members_by_width(ids, group_ix, members_t) if group_ix else None
        if found is None:
            found = self._members_by_row(ids, group_ix, members_t)
        return MultiColumn(rank[found[0]], found[1], names)

    def _members_by_width(
        self, ids: list[str], group_ix: dict[str, int], members_t: Any
    ) -> tuple[Indices, Indices] | None:
        """The memberships matched to users without a Python object per membership, when
        every user id is ASCII of one length (object ids are GUIDs): each group's members
        come as one concatenated string (``group_concat``/``string_agg``), viewed as a
        numpy array of fixed-width ids, hashed (:func:`_hashes`) and found by binary
        search among the users' hashes, each hit then compared with the id itself. A dict
        lookup per membership cost 2 s at 1M users (2.2M memberships), a binary search
        over the byte strings as much. ``None``: not so (the caller matches row by row).
        """
        width = len(ids[0]) if ids else 0
        joined = "".join(ids)
        if not width or len(joined) != width * len(ids) or not joined.isascii():
            return None
        kind = f"S{width}"
        table = np.frombuffer(joined.encode(), dtype=kind)
        hashes = _hashes(table, width)
        by_hash = np.argsort(hashes)
        ordered = hashes[by_hash]
        if len(ordered) > 1 and not np.all(ordered[1:] != ordered[:-1]):
            return None  # two ids of one hash: a hit would not name one user
        owners: list[Indices] = []
        items: list[Indices] = []
        rows = (
            row
            for chunk in chunks(group_ix)
            for row in self._session.connection().execute(
                select(
                    members_t.c.group_id,
                    func.count(),
                    func.aggregate_strings(members_t.c.user_id, ""),
                )
                .where(members_t.c.tenant_id == self._tid, members_t.c.group_id.in_(chunk))
                .group_by(members_t.c.group_id)
            )
        )
        for gid, count, joined_ids in rows:
            if len(joined_ids) != count * width or not joined_ids.isascii():
                return None  # a member id of another length: matched row by row
            members = np.frombuffer(joined_ids.encode(), dtype=kind)
            needles = _hashes(members, width)
            by_needle = np.argsort(needles)  # searched in order: neighbouring probes
            wanted = members[by_needle]
            at = by_hash[np.minimum(np.searchsorted(ordered, needles[by_needle]), len(ids) - 1)]
            hit = table[at] == wanted  # the id itself: a hash can be shared by a non-user
            owners.append(at[hit].astype(np.int32))
            items.append(np.full(int(np.count_nonzero(hit)), group_ix[gid], dtype=np.int32))
        if not owners:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return np.concatenate(owners), np.concatenate(items)

    def _members_by_row(
        self, ids: list[str], group_ix: dict[str, int], members_t: Any
    ) -> tuple[Indices, Indices]:
        """The memberships of the groups of ``group_ix`` matched to users one row at a
        time (any ids)."""
        position = {uid: i for i, uid in enumerate(ids)} if group_ix else {}
        owners: array[int] = array("i")
        items: array[int] = array("i")
        for chunk in chunks(group_ix):
            for gid, uid in (
                self._session.connection()
                .execution_options(yield_per=STREAM)
                .execute(
                    select(members_t.c.group_id, members_t.c.user_id).where(
                        members_t.c.tenant_id == self._tid, members_t.c.group_id.in_(chunk)
                    )
                )
            ):
                at = position.get(uid)
                if at is not None:
                    owners.append(at)
                    items.append(group_ix[gid])
        return np.frombuffer(owners, dtype=np.int32), np.frombuffer(items, dtype=np.int32)

    def find_user(self, upn: str) -> User | None:
        """One user by UPN (case-insensitive), without loading the directory."""
        row = self._session.scalar(
            select(UserRow).where(
                UserRow.tenant_id == self._tid, UserRow.upn_key == fold(upn.strip())
            )
        )
        return _user(row) if row is not None else None

    def ids_of(self, upns: Iterable[str]) -> list[str]:
        """The object ids of the users with these UPNs (case-insensitive; unknown ones are
        left out), in one indexed query: what a reader of a few people asks first."""
        keys = sorted({fold(u.strip()) for u in upns})
        if not keys:
            return []
        return list(
            self._session.scalars(
                select(UserRow.id).where(UserRow.tenant_id == self._tid, UserRow.upn_key.in_(keys))
            )
        )

    def load_users(self, ids: Iterable[str]) -> list[tuple[User, list[Group]]]:
        """Some users with their direct groups (for patching an epoch)."""
        wanted = list(ids)
        users = {
            r.id: _user(r)
            for r in self._session.scalars(
                select(UserRow).where(UserRow.tenant_id == self._tid, UserRow.id.in_(wanted))
            )
        }
        groups: dict[str, list[Group]] = {uid: [] for uid in users}
        # Two indexed lookups rather than a join: without statistics, SQLite plans the join
        # as a scan of every membership of the tenant. The membership lookup is a covering
        # search of ix_memberships_user (migration 0004).
        pairs = self._session.execute(
            select(MembershipRow.user_id, MembershipRow.group_id).where(
                MembershipRow.tenant_id == self._tid, MembershipRow.user_id.in_(list(users))
            )
        ).all()
        found = {
            g.id: Group(g.id, g.display_name, g.mail, frozenset())
            for g in self._session.scalars(
                select(GroupRow).where(
                    GroupRow.tenant_id == self._tid,
                    GroupRow.id.in_(sorted({gid for _, gid in pairs})),
                )
            )
        }
        for uid, gid in pairs:
            groups[uid].append(found[gid])
        return [(users[u], groups[u]) for u in wanted if u in users]

    def page_ids(self, groups: bool, offset: int, limit: int | None) -> tuple[int, list[str]]:
        """``(how many, ids of one page)`` of users (by UPN) or groups (by name), in SQL.

        What an unfiltered SCIM list reads: one ``COUNT`` and one ``LIMIT``/``OFFSET``
        page, never the whole directory.
        """
        table: type[UserRow] | type[GroupRow] = GroupRow if groups else UserRow
        key = GroupRow.name_key if groups else UserRow.upn_key
        total = self._session.scalar(
            select(func.count()).select_from(table).where(table.tenant_id == self._tid)
        )
        query = (
            select(table.id)
            .where(table.tenant_id == self._tid)
            .order_by(key, table.id)
            .offset(max(offset, 0))
        )
        if limit is not None:
            query = query.limit(max(limit, 0))
        return int(total or 0), list(self._session.scalars(query))

    def search_page(
        self, query: str, kind: str | None, offset: int, limit: int
    ) -> tuple[int, list[str]]:
        """``(how many match, ids of one page)`` of users whose UPN, display name or mail
        contains ``query`` (case-insensitive), of one ``kind`` if given, by UPN, in SQL.

        What the admin page's directory lists: a count and one page, never every user.
        With a query, one scan gives both (``count(*) OVER ()``); without, the count and
        the page read the UPN index.
        """
        where = [UserRow.tenant_id == self._tid]
        if kind:
            where.append(UserRow.kind == kind)
        needle = query.strip()
        if not needle:
            total = self._session.scalar(select(func.count()).select_from(UserRow).where(*where))
            ids = self._session.scalars(
                select(UserRow.id)
                .where(*where)
                .order_by(UserRow.upn_key, UserRow.id)
                .offset(max(offset, 0))
                .limit(max(limit, 0))
            )
            return int(total or 0), list(ids)
        pattern = "%" + _like(fold(needle)) + "%"
        # SQLite's LIKE ignores ASCII case (lower() would cost a call per row); elsewhere
        # ILIKE. The UPN key is folded already.
        sqlite = self._session.get_bind().dialect.name == "sqlite"

        def contains(column: Any) -> Any:
            return (
                column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\")
            )

        where.append(
            UserRow.upn_key.like(pattern, escape="\\")
            | contains(UserRow.display_name)
            | contains(UserRow.mail)
        )
        rows = self._session.execute(
            select(UserRow.id, func.count().over())
            .where(*where)
            .order_by(UserRow.upn_key, UserRow.id)
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        ).all()
        if rows:
            return int(rows[0][1]), [str(r[0]) for r in rows]
        total = self._session.scalar(select(func.count()).select_from(UserRow).where(*where))
        return int(total or 0), []

    def search_groups(
        self, query: str, offset: int, limit: int
    ) -> tuple[int, list[tuple[Group, int]]]:
        """``(how many match, one page of (group without members, member count))`` of the
        groups whose name or mail contains ``query``, by name, in SQL."""
        where = [GroupRow.tenant_id == self._tid]
        needle = query.strip()
        if needle:
            pattern = "%" + _like(fold(needle)) + "%"
            where.append(
                GroupRow.name_key.like(pattern, escape="\\")
                | func.lower(GroupRow.mail).like(pattern, escape="\\")
            )
        total = self._session.scalar(select(func.count()).select_from(GroupRow).where(*where))
        rows = list(
            self._session.scalars(
                select(GroupRow)
                .where(*where)
                .order_by(GroupRow.name_key, GroupRow.id)
                .offset(max(offset, 0))
                .limit(max(limit, 0))
            )
        )
        counts: dict[str, int] = {}
        per_group = (
            select(MembershipRow.group_id, func.count())
            .where(
                MembershipRow.tenant_id == self._tid,
                MembershipRow.group_id.in_([r.id for r in rows]),
            )
            .group_by(MembershipRow.group_id)
        )
        for row in self._session.execute(per_group):
            counts[str(row[0])] = int(row[1])
        return int(total or 0), [
            (Group(r.id, r.display_name, r.mail, frozenset()), int(counts.get(r.id, 0)))
            for r in rows
        ]

    def member_page(self, group_id: str, offset: int, limit: int) -> tuple[int, list[User]]:
        """``(how many members, one page of them by UPN)`` of a group, in SQL."""
        where = (
            MembershipRow.tenant_id == self._tid,
            MembershipRow.group_id == group_id,
            UserRow.tenant_id == self._tid,
            UserRow.id == MembershipRow.user_id,
        )
        total = self._session.scalar(
            select(func.count()).select_from(MembershipRow).where(*where[:2])
        )
        rows = self._session.scalars(
            select(UserRow)
            .where(*where)
            .order_by(UserRow.upn_key, UserRow.id)
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        return int(total or 0), [_user(r) for r in rows]

    # One user or group by its key, without loading the directory: what a SCIM request
    # (``service/provisioning.py``) reads and checks, in indexed lookups only.
    def users_by_id(self, ids: Iterable[str]) -> dict[str, User]:
        """The users of these ids that exist, without their groups."""
        found: dict[str, User] = {}
        for chunk in chunks(ids):
            for r in self._session.scalars(
                select(UserRow).where(UserRow.tenant_id == self._tid, UserRow.id.in_(chunk))
            ):
                found[r.id] = _user(r)
        return found

    def groups_of_user(self, user_id: str) -> list[Group]:
        """The groups a user is a direct member of, by id, without their members.

        Without statistics SQLite plans ``tenant_id = ? AND user_id = ?`` over the primary
        key's ``tenant_id`` prefix: a scan of every membership of the tenant (15-20 ms at
        100k users). On SQLite the query names ``ix_memberships_user``; elsewhere the
        planner is trusted.
        """
        self._session.flush()  # a textual query does not autoflush
        if self._session.get_bind().dialect.name == "sqlite":
            gids = list(
                self._session.scalars(
                    text(
                        "SELECT group_id FROM memberships INDEXED BY ix_memberships_user"
                        " WHERE tenant_id = :tenant AND user_id = :user"
                    ),
                    {"tenant": self._tid, "user": user_id},
                )
            )
        else:
            gids = list(
                self._session.scalars(
                    select(MembershipRow.group_id).where(
                        MembershipRow.tenant_id == self._tid, MembershipRow.user_id == user_id
                    )
                )
            )
        groups = [
            Group(g.id, g.display_name, g.mail, frozenset())
            for chunk in chunks(gids)
            for g in self._session.scalars(
                select(GroupRow).where(GroupRow.tenant_id == self._tid, GroupRow.id.in_(chunk))
            )
        ]
        return sorted(groups, key=lambda g: g.id)

    def existing_user_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these ids are users of the tenant (a group's members are checked so)."""
        found: set[str] = set()
        for chunk in chunks(ids):
            found.update(
                self._session.scalars(
                    select(UserRow.id).where(UserRow.tenant_id == self._tid, UserRow.id.in_(chunk))
                )
            )
        return found

    def existing_group_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these ids are groups of the tenant."""
        found: set[str] = set()
        for chunk in chunks(ids):
            found.update(
                self._session.scalars(
                    select(GroupRow.id).where(
                        GroupRow.tenant_id == self._tid, GroupRow.id.in_(chunk)
                    )
                )
            )
        return found

    def load_group(self, id: str) -> Group | None:
        """One group by id with its members (their ids), or ``None``."""
        row = self._session.scalar(
            select(GroupRow).where(GroupRow.tenant_id == self._tid, GroupRow.id == id)
        )
        if row is None:
            return None
        members = self._session.scalars(
            select(MembershipRow.user_id).where(
                MembershipRow.tenant_id == self._tid, MembershipRow.group_id == id
            )
        )
        return Group(row.id, row.display_name, row.mail, frozenset(members))

    def find_group_id(self, name_or_mail: str) -> str | None:
        """The id of a group by id, else by display name or mail (case-insensitive).

        The same answer as ``Directory.find_group``. Mails have no folded column, so the
        groups that have a mail are compared here (groups only, never users).
        """
        row = self._session.scalar(
            select(GroupRow.id).where(GroupRow.tenant_id == self._tid, GroupRow.id == name_or_mail)
        )
        if row is not None:
            return row
        key = fold(name_or_mail.strip())
        row = self._session.scalar(
            select(GroupRow.id).where(GroupRow.tenant_id == self._tid, GroupRow.name_key == key)
        )
        if row is not None or not key:
            return row
        mails = self._session.execute(
            select(GroupRow.id, GroupRow.mail).where(
                GroupRow.tenant_id == self._tid, GroupRow.mail != ""
            )
        )
        return next((gid for gid, mail in mails if fold(mail) == key), None)

    def save_users(self, users: Iterable[User]) -> None:
        """Insert or update users (by id, within this tenant), set-based (``store.bulk``)."""
        # The last version of each id wins, as it did row by row; inserted in key order
        # (B-tree pages are then filled in sequence).
        given = sorted({u.id: u for u in users}.values(), key=attrgetter("id"))
        existing = self._existing_users([u.id for u in given])
        tid = self._tid
        table = bulk.table_of(UserRow)
        bulk.insert_rows(
            self._session,
            table,
            ("tenant_id", "id", *_USER_COLUMNS[1:]),
            ((tid, *_user_values(u)) for u in given if u.id not in existing),
            json_text=True,
        )
        bulk.update_rows(
            self._session,
            table,
            ("tenant_id", "id"),
            _USER_COLUMNS[1:],
            ((*_user_values(u)[1:], tid, u.id) for u in given if u.id in existing),
            json_text=True,
        )
        self._changes.record(u.id for u in given)

    def group_names(self) -> list[tuple[str, str, str]]:
        """Every group as ``(id, display name, mail)``, in the order of :meth:`load`."""
        self._session.flush()
        groups_t = bulk.table_of(GroupRow)
        return [
            (gid, name, mail)
            for gid, name, mail in self._session.connection().execute(
                select(groups_t.c.id, groups_t.c.display_name, groups_t.c.mail)
                .where(groups_t.c.tenant_id == self._tid)
                .order_by(groups_t.c.name_key)
            )
        ]

    def any_user_of(self, ids: Sequence[str], upn_keys: Sequence[str]) -> bool:
        """Whether a user of this tenant has one of these ids, or one of these folded
        UPNs: one indexed probe when the tenant has no user (a first import), else the
        keys looked up a chunk at a time."""
        self._session.flush()
        users_t = bulk.table_of(UserRow)
        connection = self._session.connection()
        mine = users_t.c.tenant_id == self._tid
        if connection.execute(select(users_t.c.id).where(mine).limit(1)).first() is None:
            return False
        for column, values in ((users_t.c.id, ids), (users_t.c.upn_key, upn_keys)):
            for chunk in chunks(values):
                found = select(column).where(mine, column.in_(chunk)).limit(1)
                if connection.execute(found).first() is not None:
                    return True
        return False

    def insert_new_users(
        self, users: NewUsers, member_of: Sequence[tuple[str, ...]] | None = None
    ) -> None:
        """Insert users none of which exists (by id or folded UPN; the caller checked,
        :meth:`any_user_of`), and their memberships (``member_of``: per user, the ids of
        its groups), straight from columns (docs/decisions.md, "The users CSV import
        path").

        What :meth:`save_users` and :meth:`save_groups` would write for them, without a
        :class:`User` or a membership diff: the rows are zipped from the columns (C loops)
        and written with ``store.bulk`` (``executemany`` on SQLite, ``COPY`` on
        PostgreSQL) in this transaction, so all of them or none commit. Users go in id
        order and memberships in user order, as :meth:`save_users` and
        :meth:`save_groups` insert them (B-tree pages filled in sequence). A user or
        membership that exists breaks a key and fails the transaction.
        """
        n = len(users)
        ids = users.ids
        columns: list[Sequence[Any]] = [
            ids,
            users.upns,
            users.upn_keys,
            users.display_names,
            users.mails,
            users.enabled,
            users.user_types,
            users.hidden,
        ]
        tail: list[Sequence[Any]] = [users.attributes, users.proxy_addresses]
        groups: Sequence[tuple[str, ...]] | None = member_of
        if n > 1 and not all(map(le, ids, islice(ids, 1, None))):
            order = sorted(range(n), key=ids.__getitem__)
            at = order.__iter__
            columns = [list(map(c.__getitem__, at())) for c in columns]
            tail = [list(map(c.__getitem__, at())) for c in tail]
            if groups is not None:
                groups = list(map(groups.__getitem__, at()))
        if bulk.dialect(self._session) == "postgresql":
            self._copy_new_users(columns, tail, groups)
        else:
            self._insert_new_users(columns, tail, groups)
        # One change for the users and their groups: a group's change only concerns them.
        self._changes.record(ids)

    def _insert_new_users(
        self,
        columns: list[Sequence[Any]],
        tail: list[Sequence[Any]],
        groups: Sequence[tuple[str, ...]] | None,
    ) -> None:
        """:meth:`insert_new_users` as ``executemany`` of rows zipped from the columns."""
        tid, n = self._tid, len(columns[0])
        bulk.insert_rows(
            self._session,
            bulk.table_of(UserRow),
            ("tenant_id", "id", *_USER_COLUMNS[1:]),
            zip(
                repeat(tid, n),
                *columns,
                repeat(UserKind.PERSON.value, n),
                repeat(None, n),
                *tail,
                strict=True,
            ),
            json_text=True,
        )
        if groups is not None:
            bulk.insert_rows(
                self._session,
                bulk.table_of(MembershipRow),
                ("tenant_id", "user_id", "group_id"),
                zip(
                    repeat(tid),
                    chain.from_iterable(map(repeat, columns[0], map(len, groups))),
                    chain.from_iterable(groups),
                ),
            )

    def _copy_new_users(
        self,
        columns: list[Sequence[Any]],
        tail: list[Sequence[Any]],
        groups: Sequence[tuple[str, ...]] | None,
    ) -> None:
        """:meth:`insert_new_users` as ``COPY`` of text built column by column."""
        n = len(columns[0])
        tid = str(self._tid)
        ids, upns, keys, names, mails, enabled, types, hidden = columns
        flag = bulk.COPY_FLAGS.__getitem__
        texts = bulk.copy_texts
        bulk.copy_columns(
            self._session,
            bulk.table_of(UserRow),
            ("tenant_id", "id", *_USER_COLUMNS[1:]),
            [
                repeat(tid, n),
                texts(list(ids)),
                texts(list(upns)),
                texts(list(keys)),
                texts(list(names)),
                texts(list(mails)),
                map(flag, enabled),
                texts(list(types)),
                map(flag, hidden),
                repeat(UserKind.PERSON.value, n),
                repeat(bulk.COPY_FLAGS[None], n),
                *(texts(list(c)) for c in tail),
            ],
        )
        if groups is not None:
            bulk.copy_columns(
                self._session,
                bulk.table_of(MembershipRow),
                ("tenant_id", "user_id", "group_id"),
                [
                    repeat(tid, sum(map(len, groups))),
                    chain.from_iterable(map(repeat, texts(list(ids)), map(len, groups))),
                    texts(list(chain.from_iterable(groups))),
                ],
            )

    def _existing_users(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` exist: by key for a few, else one read of the tenant's ids."""
        if len(ids) <= 5 * CHUNK:
            return self.existing_user_ids(ids)
        self._session.flush()
        users_t = bulk.table_of(UserRow)
        return set(
            self._session.connection()
            .execute(select(users_t.c.id).where(users_t.c.tenant_id == self._tid))
            .scalars()
        )

    def delete_users(self, ids: Iterable[str]) -> None:
        """Delete users (memberships and licenses go with them)."""
        wanted = list(ids)
        self._session.execute(
            delete(MembershipRow).where(
                MembershipRow.tenant_id == self._tid, MembershipRow.user_id.in_(wanted)
            )
        )
        self._session.execute(
            delete(AssignmentRow).where(
                AssignmentRow.tenant_id == self._tid, AssignmentRow.user_id.in_(wanted)
            )
        )
        self._session.execute(
            delete(UserRow).where(UserRow.tenant_id == self._tid, UserRow.id.in_(wanted))
        )
        self._changes.record()

    def save_groups(self, groups: Iterable[Group]) -> None:
        """Insert or update groups (by id, within this tenant) with exactly their members.

        Set-based: the groups' rows and current members are read in a few queries, and
        the memberships that differ are deleted and inserted with ``store.bulk``.
        """
        given = list({g.id: g for g in groups}.values())
        if not given:
            self._changes.record(())
            return
        self._session.flush()
        tid = self._tid
        groups_t, members_t = bulk.table_of(GroupRow), bulk.table_of(MembershipRow)
        connection = self._session.connection()
        rows: dict[str, tuple[str, str]] = {}
        current: dict[str, set[str]] = {g.id: set() for g in given}
        for chunk in chunks(current):
            for gid, name, mail in connection.execute(
                select(groups_t.c.id, groups_t.c.display_name, groups_t.c.mail).where(
                    groups_t.c.tenant_id == tid, groups_t.c.id.in_(chunk)
                )
            ):
                rows[gid] = (name, mail)
            for gid, uid in connection.execute(
                select(members_t.c.group_id, members_t.c.user_id).where(
                    members_t.c.tenant_id == tid, members_t.c.group_id.in_(chunk)
                )
            ):
                current[gid].add(uid)
        affected: set[str] = set()
        added: list[tuple[int, str, str]] = []  # (tenant, user, group)
        gone: list[tuple[int, str, str]] = []
        for g in given:
            before = rows.get(g.id)
            now = current[g.id]
            renamed = before is not None and before != (g.display_name, g.mail)
            affected |= (now | g.members) if renamed else (now ^ g.members)
            gone.extend((tid, g.id, uid) for uid in now - g.members)
            added.extend((tid, uid, g.id) for uid in g.members - now)
        columns = ("display_name", "name_key", "mail")
        bulk.insert_rows(
            self._session,
            groups_t,
            ("tenant_id", "id", *columns),
            (
                (tid, g.id, g.display_name, fold(g.display_name), g.mail)
                for g in given
                if g.id not in rows
            ),
        )
        bulk.update_rows(
            self._session,
            groups_t,
            ("tenant_id", "id"),
            columns,
            (
                (g.display_name, fold(g.display_name), g.mail, tid, g.id)
                for g in given
                if g.id in rows
            ),
        )
        # Inserted in user order: both membership indexes then grow at a few
        # moving points (one per group, and one), instead of the by-user index being swept
        # once per group, a cache miss per row once it outgrows the page cache (1M users).
        added.sort(key=itemgetter(1))
        bulk.delete_rows(self._session, members_t, ("tenant_id", "group_id", "user_id"), gone)
        bulk.insert_rows(self._session, members_t, ("tenant_id", "user_id", "group_id"), added)
        self._changes.record(affected)

    def delete_groups(self, ids: Iterable[str]) -> None:
        """Delete groups (their members stay)."""
        wanted = list(ids)
        self._session.execute(
            delete(MembershipRow).where(
                MembershipRow.tenant_id == self._tid, MembershipRow.group_id.in_(wanted)
            )
        )
        self._session.execute(
            delete(GroupRow).where(GroupRow.tenant_id == self._tid, GroupRow.id.in_(wanted))
        )
        self._changes.record()
