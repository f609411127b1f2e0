"""Users, groups and memberships of one tenant (semantics §2, §3)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from infobarrier.core.directory import Directory, Group, User, UserKind, UserType, fold
from infobarrier.store.changes import ChangeLog
from infobarrier.store.records import Tenant, chunks
from infobarrier.store.schema import AssignmentRow, GroupRow, MembershipRow, UserRow
from infobarrier.store.scoped import TenantScoped


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


class DirectoryRepository(TenantScoped):
    """The directory of one tenant; every write records a change (:class:`ChangeLog`)."""

    __slots__ = ("_changes",)

    def __init__(self, session: Session, tenant: Tenant, changes: ChangeLog) -> None:
        super().__init__(session, tenant)
        self._changes = changes

    def load(self) -> Directory:
        """All users and groups."""
        users = [
            _user(r)
            for r in self._session.scalars(
                select(UserRow).where(UserRow.tenant_id == self._tid).order_by(UserRow.upn_key)
            )
        ]
        members: dict[str, set[str]] = {}
        rows = self._session.execute(
            select(MembershipRow.group_id, MembershipRow.user_id).where(
                MembershipRow.tenant_id == self._tid
            )
        )
        for gid, uid in rows:
            members.setdefault(gid, set()).add(uid)
        groups = [
            Group(r.id, r.display_name, r.mail, frozenset(members.get(r.id, ())))
            for r in self._session.scalars(
                select(GroupRow).where(GroupRow.tenant_id == self._tid).order_by(GroupRow.name_key)
            )
        ]
        return Directory(users, groups)

    def find_user(self, upn: str) -> User | None:
        """One user by UPN (case-insensitive), without loading the directory."""
        row = self._session.scalar(
            select(UserRow).where(
                UserRow.tenant_id == self._tid, UserRow.upn_key == fold(upn.strip())
            )
        )
        return _user(row) if row is not None else None

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
        """Insert or update users (by id, within this tenant)."""
        ids: list[str] = []
        for u in users:
            values = {
                "upn": u.upn,
                "upn_key": fold(u.upn),
                "display_name": u.display_name,
                "mail": u.mail,
                "account_enabled": u.account_enabled,
                "user_type": u.user_type.value,
                "hidden": u.hidden_from_address_lists,
                "kind": u.kind.value,
                "sponsor_id": u.sponsor_id,
                "attributes": dict(u.attributes),
                "proxy_addresses": list(u.proxy_addresses),
            }
            row = self._session.get(UserRow, (self._tid, u.id))
            if row is None:
                self._session.add(UserRow(tenant_id=self._tid, id=u.id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            ids.append(u.id)
        self._session.flush()
        self._changes.record(ids)

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
        """Insert or update groups (by id, within this tenant) with exactly their members."""
        affected: set[str] = set()
        for g in groups:
            row = self._session.get(GroupRow, (self._tid, g.id))
            renamed = row is not None and (row.display_name != g.display_name or row.mail != g.mail)
            if row is None:
                self._session.add(
                    GroupRow(
                        tenant_id=self._tid,
                        id=g.id,
                        display_name=g.display_name,
                        name_key=fold(g.display_name),
                        mail=g.mail,
                    )
                )
            else:
                row.display_name = g.display_name
                row.name_key = fold(g.display_name)
                row.mail = g.mail
            self._session.flush()
            current = set(
                self._session.scalars(
                    select(MembershipRow.user_id).where(
                        MembershipRow.tenant_id == self._tid, MembershipRow.group_id == g.id
                    )
                )
            )
            affected |= (current | g.members) if renamed else (current ^ g.members)
            gone = current - g.members
            if gone:
                self._session.execute(
                    delete(MembershipRow).where(
                        MembershipRow.tenant_id == self._tid,
                        MembershipRow.group_id == g.id,
                        MembershipRow.user_id.in_(gone),
                    )
                )
            self._session.add_all(
                MembershipRow(tenant_id=self._tid, group_id=g.id, user_id=uid)
                for uid in g.members - current
            )
        self._session.flush()
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
