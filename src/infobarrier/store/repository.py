"""The store: one :class:`Store` per database, one :class:`Repository` per transaction.

Every use case runs in exactly one transaction (``with store.transaction() as repo``):
it commits when the block ends and rolls back on any error, so a failing command leaves
the store exactly as it was (docs/architecture.md, "Transactions").
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infobarrier.core.audit import GENESIS, AuditEntry, entry_hash
from infobarrier.core.barriers import BarrierConfig, Mode, check_tenant_name
from infobarrier.core.codes import ApplicationState, ErrorCode
from infobarrier.core.directory import Directory, Group, User, UserKind, UserType, fold
from infobarrier.core.errors import Conflict, NotFound
from infobarrier.core.licenses import CATALOG, LicenseBook, Sku
from infobarrier.store import codec
from infobarrier.store.migrate import upgrade
from infobarrier.store.schema import (
    ApplicationRow,
    AssignmentRow,
    AuditRow,
    ChangeRow,
    CollabRow,
    EpochRow,
    GroupRow,
    MembershipRow,
    MessageRow,
    PolicyRow,
    SegmentRow,
    SkuRow,
    TenantRow,
    TokenRow,
    UserRow,
)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every datetime we hand out is aware UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant as stored."""

    id: int
    name: str
    mode: Mode
    people_search_restriction: bool
    created_at: datetime
    version: int = 0


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token's record (the secret itself is never stored)."""

    id: str
    tenant: str
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
    secret_hash: str


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message."""

    id: int
    chat_id: str
    sender_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Application:
    """One policy application and its status (semantics §5)."""

    id: str
    seq: int
    status: ApplicationState
    actor: str
    started_at: datetime
    ended_at: datetime | None
    total_recipients: int
    failed_recipients: int
    percent: int
    host: str
    pid: int
    error: str
    report: dict[str, Any]


def _application(row: ApplicationRow) -> Application:
    return Application(
        id=row.id,
        seq=row.seq,
        status=ApplicationState(row.status),
        actor=row.actor,
        started_at=aware(row.started_at) or utcnow(),
        ended_at=aware(row.ended_at),
        total_recipients=row.total_recipients,
        failed_recipients=row.failed_recipients,
        percent=row.percent,
        host=row.host,
        pid=row.pid,
        error=row.error,
        report=dict(row.report or {}),
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


#: Ids per ``IN (...)`` list: under the 999 bound parameters of older SQLite builds.
_CHUNK = 500


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Distinct ids in sorted lists of at most ``_CHUNK``."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _CHUNK):
        yield wanted[start : start + _CHUNK]


#: The PostgreSQL channel on which commits announce ``tenant_id:version``.
NOTIFY_CHANNEL = "infobarrier_changes"
#: How many change records a tenant keeps (a replica further behind recompiles).
CHANGES_KEPT = 1000


class Store:
    """A database: SQLite file by default, or PostgreSQL; migrated on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = create_engine(url, connect_args={"timeout": 30})
            _sqlite_serialisable(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        upgrade(self.engine)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        _refuse_writes_in_reads(self.engine)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Repository]:
        """One use case: commit on success, roll back everything on error.

        ``write=False`` is a read: on SQLite it takes no write lock (a plain ``BEGIN``
        on WAL reads a snapshot while a writer works), and any statement that would
        change data raises instead of running.
        """
        engine = self.engine if write else self._reader
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield Repository(session)

    def tenant_state(self, name: str) -> tuple[int, int, bool] | None:
        """``(id, version, people_search_restriction)`` of a tenant, or ``None``.

        One statement on a pooled connection, without an ORM session: the check every
        decision makes that its cached epoch is still the one in force.
        """
        with self._reader.connect() as connection:
            row = connection.execute(
                select(TenantRow.id, TenantRow.version, TenantRow.people_search_restriction).where(
                    TenantRow.name == name
                )
            ).first()
        return None if row is None else (int(row[0]), int(row[1]), bool(row[2]))

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _sqlite_serialisable(engine: Engine) -> None:
    """Make each SQLite transaction ``BEGIN IMMEDIATE``: concurrent commands never interleave."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


#: Execution option of :meth:`Store.transaction` reads.
READ_ONLY = "infobarrier_read_only"
_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")


class ReadOnlyViolation(RuntimeError):
    """A statement that changes data was sent inside a read transaction (a bug)."""


def _refuse_writes_in_reads(engine: Engine) -> None:
    """A read transaction is not locked for writers: writing in it would race them."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(
        connection: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        if reading and statement.lstrip()[:7].lower().startswith(_WRITES):
            raise ReadOnlyViolation(f"write in a read transaction: {statement[:80]!r}")


class Repository:
    """Reads and writes of one transaction. Methods take and return core values."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- tenants -------------------------------------------------------------
    def create_tenant(self, name: str, mode: Mode = Mode.SINGLE_SEGMENT) -> Tenant:
        """A new tenant with the license catalog (semantics §1, §2)."""
        check_tenant_name(name)
        if self.session.scalar(select(TenantRow).where(TenantRow.name == name)) is not None:
            raise Conflict(f"tenant {name!r} already exists", code=ErrorCode.TENANT_EXISTS)
        row = TenantRow(
            name=name, mode=mode.value, people_search_restriction=True, created_at=utcnow()
        )
        self.session.add(row)
        self.session.flush()
        for sku in CATALOG:
            self.session.add(
                SkuRow(
                    tenant_id=row.id,
                    part_number=sku.part_number,
                    name=sku.name,
                    service_plans=list(sku.service_plans),
                    seats=0,
                )
            )
        return self._tenant(row)

    @staticmethod
    def _tenant(row: TenantRow) -> Tenant:
        return Tenant(
            row.id,
            row.name,
            Mode(row.mode),
            row.people_search_restriction,
            aware(row.created_at) or utcnow(),
            row.version,
        )

    def find_tenant(self, name: str) -> Tenant | None:
        """A tenant by name, or ``None``."""
        row = self.session.scalar(select(TenantRow).where(TenantRow.name == name.strip()))
        return self._tenant(row) if row is not None else None

    def tenant(self, name: str) -> Tenant:
        """A tenant by name, or :class:`NotFound`."""
        found = self.find_tenant(name)
        if found is None:
            raise NotFound(f"no tenant {name!r} (create it with `infobarrier tenants create`)")
        return found

    def tenants(self) -> list[Tenant]:
        """Every tenant, by name."""
        rows = self.session.scalars(select(TenantRow).order_by(TenantRow.name))
        return [self._tenant(r) for r in rows]

    def lock_tenant(self, tenant: Tenant) -> None:
        """Serialise writers of one tenant (PostgreSQL row lock; SQLite is already serial)."""
        self.session.execute(
            select(TenantRow.id).where(TenantRow.id == tenant.id).with_for_update()
        )

    def bump_version(self, tenant: Tenant, users: Iterable[str] | None = None) -> int:
        """Record that decisions may have moved: for these users, or for all (``None``).

        Returns the new version. On PostgreSQL, replicas hear of it at commit through
        ``NOTIFY infobarrier_changes`` (payload ``tenant_id:version``).
        """
        version = self.session.execute(
            update(TenantRow)
            .where(TenantRow.id == tenant.id)
            .values(version=TenantRow.version + 1)
            .returning(TenantRow.version)
        ).scalar_one()
        ids = sorted(set(users)) if users is not None else None
        self.session.add(ChangeRow(tenant_id=tenant.id, version=version, user_ids=ids))
        self.session.execute(
            delete(ChangeRow).where(
                ChangeRow.tenant_id == tenant.id, ChangeRow.version <= version - CHANGES_KEPT
            )
        )
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": f"{tenant.id}:{version}"},
            )
        self.session.flush()
        return int(version)

    def changes_since(self, tenant: Tenant, version: int) -> list[tuple[int, list[str] | None]]:
        """``(version, user ids or None)`` of each change after ``version``, in order."""
        rows = self.session.execute(
            select(ChangeRow.version, ChangeRow.user_ids)
            .where(ChangeRow.tenant_id == tenant.id, ChangeRow.version > version)
            .order_by(ChangeRow.version)
        )
        return [(int(v), list(ids) if ids is not None else None) for v, ids in rows]

    def find_user(self, tenant: Tenant, upn: str) -> User | None:
        """One user by UPN (case-insensitive), without loading the directory."""
        row = self.session.scalar(
            select(UserRow).where(
                UserRow.tenant_id == tenant.id, UserRow.upn_key == fold(upn.strip())
            )
        )
        return _user(row) if row is not None else None

    def load_users(self, tenant: Tenant, ids: Iterable[str]) -> list[tuple[User, list[Group]]]:
        """Some users with their direct groups (for patching an epoch)."""
        wanted = list(ids)
        users = {
            r.id: _user(r)
            for r in self.session.scalars(
                select(UserRow).where(UserRow.tenant_id == tenant.id, UserRow.id.in_(wanted))
            )
        }
        groups: dict[str, list[Group]] = {uid: [] for uid in users}
        # Two indexed lookups rather than a join: without statistics, SQLite plans the join
        # as a scan of every membership of the tenant. The membership lookup is a covering
        # search of ix_memberships_user (migration 0004).
        pairs = self.session.execute(
            select(MembershipRow.user_id, MembershipRow.group_id).where(
                MembershipRow.tenant_id == tenant.id, MembershipRow.user_id.in_(list(users))
            )
        ).all()
        found = {
            g.id: Group(g.id, g.display_name, g.mail, frozenset())
            for g in self.session.scalars(
                select(GroupRow).where(
                    GroupRow.tenant_id == tenant.id,
                    GroupRow.id.in_(sorted({gid for _, gid in pairs})),
                )
            )
        }
        for uid, gid in pairs:
            groups[uid].append(found[gid])
        return [(users[u], groups[u]) for u in wanted if u in users]

    def version(self, tenant_name: str) -> tuple[int, int] | None:
        """``(tenant id, version)`` by name in one cheap query, or ``None``."""
        row = self.session.execute(
            select(TenantRow.id, TenantRow.version).where(TenantRow.name == tenant_name)
        ).first()
        return (row[0], row[1]) if row is not None else None

    def delete_tenant_data(self, tenant: Tenant) -> None:
        """Remove a tenant's directory, licenses, barriers and history (demo reset)."""
        self.session.execute(delete(MessageRow).where(MessageRow.tenant_id == tenant.id))
        for table in (
            ChangeRow,
            CollabRow,
            TokenRow,
            AuditRow,
            EpochRow,
            ApplicationRow,
            PolicyRow,
            SegmentRow,
            AssignmentRow,
            SkuRow,
        ):
            self.session.execute(delete(table).where(table.tenant_id == tenant.id))
        self.session.execute(delete(MembershipRow).where(MembershipRow.tenant_id == tenant.id))
        self.session.execute(delete(GroupRow).where(GroupRow.tenant_id == tenant.id))
        self.session.execute(delete(UserRow).where(UserRow.tenant_id == tenant.id))
        self.session.execute(delete(TenantRow).where(TenantRow.id == tenant.id))

    # -- directory -----------------------------------------------------------
    def load_directory(self, tenant: Tenant) -> Directory:
        """All users and groups of a tenant."""
        users = [
            _user(r)
            for r in self.session.scalars(
                select(UserRow).where(UserRow.tenant_id == tenant.id).order_by(UserRow.upn_key)
            )
        ]
        members: dict[str, set[str]] = {}
        rows = self.session.execute(
            select(MembershipRow.group_id, MembershipRow.user_id).where(
                MembershipRow.tenant_id == tenant.id
            )
        )
        for gid, uid in rows:
            members.setdefault(gid, set()).add(uid)
        groups = [
            Group(r.id, r.display_name, r.mail, frozenset(members.get(r.id, ())))
            for r in self.session.scalars(
                select(GroupRow).where(GroupRow.tenant_id == tenant.id).order_by(GroupRow.name_key)
            )
        ]
        return Directory(users, groups)

    # One user or group by its key, without loading the directory: what a SCIM request
    # (``service/provisioning.py``) reads and checks, in indexed lookups only.
    def users_by_id(self, tenant: Tenant, ids: Iterable[str]) -> dict[str, User]:
        """The users of these ids that exist, without their groups."""
        found: dict[str, User] = {}
        for chunk in _chunks(ids):
            for r in self.session.scalars(
                select(UserRow).where(UserRow.tenant_id == tenant.id, UserRow.id.in_(chunk))
            ):
                found[r.id] = _user(r)
        return found

    def groups_of_user(self, tenant: Tenant, user_id: str) -> list[Group]:
        """The groups a user is a direct member of, by id, without their members.

        Without statistics SQLite plans ``tenant_id = ? AND user_id = ?`` over the primary
        key's ``tenant_id`` prefix: a scan of every membership of the tenant (15-20 ms at
        100k users). On SQLite the query names ``ix_memberships_user``; elsewhere the
        planner is trusted.
        """
        self.session.flush()  # a textual query does not autoflush
        if self.session.get_bind().dialect.name == "sqlite":
            gids = list(
                self.session.scalars(
                    text(
                        "SELECT group_id FROM memberships INDEXED BY ix_memberships_user"
                        " WHERE tenant_id = :tenant AND user_id = :user"
                    ),
                    {"tenant": tenant.id, "user": user_id},
                )
            )
        else:
            gids = list(
                self.session.scalars(
                    select(MembershipRow.group_id).where(
                        MembershipRow.tenant_id == tenant.id, MembershipRow.user_id == user_id
                    )
                )
            )
        groups = [
            Group(g.id, g.display_name, g.mail, frozenset())
            for chunk in _chunks(gids)
            for g in self.session.scalars(
                select(GroupRow).where(GroupRow.tenant_id == tenant.id, GroupRow.id.in_(chunk))
            )
        ]
        return sorted(groups, key=lambda g: g.id)

    def existing_user_ids(self, tenant: Tenant, ids: Iterable[str]) -> set[str]:
        """Which of these ids are users of the tenant (a group's members are checked so)."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(
                self.session.scalars(
                    select(UserRow.id).where(UserRow.tenant_id == tenant.id, UserRow.id.in_(chunk))
                )
            )
        return found

    def existing_group_ids(self, tenant: Tenant, ids: Iterable[str]) -> set[str]:
        """Which of these ids are groups of the tenant."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(
                self.session.scalars(
                    select(GroupRow.id).where(
                        GroupRow.tenant_id == tenant.id, GroupRow.id.in_(chunk)
                    )
                )
            )
        return found

    def load_group(self, tenant: Tenant, id: str) -> Group | None:
        """One group by id with its members (their ids), or ``None``."""
        row = self.session.scalar(
            select(GroupRow).where(GroupRow.tenant_id == tenant.id, GroupRow.id == id)
        )
        if row is None:
            return None
        members = self.session.scalars(
            select(MembershipRow.user_id).where(
                MembershipRow.tenant_id == tenant.id, MembershipRow.group_id == id
            )
        )
        return Group(row.id, row.display_name, row.mail, frozenset(members))

    def find_group_id(self, tenant: Tenant, name_or_mail: str) -> str | None:
        """The id of a group by id, else by display name or mail (case-insensitive).

        The same answer as ``Directory.find_group``. Mails have no folded column, so the
        groups that have a mail are compared here (groups only, never users).
        """
        row = self.session.scalar(
            select(GroupRow.id).where(GroupRow.tenant_id == tenant.id, GroupRow.id == name_or_mail)
        )
        if row is not None:
            return row
        key = fold(name_or_mail.strip())
        row = self.session.scalar(
            select(GroupRow.id).where(GroupRow.tenant_id == tenant.id, GroupRow.name_key == key)
        )
        if row is not None or not key:
            return row
        mails = self.session.execute(
            select(GroupRow.id, GroupRow.mail).where(
                GroupRow.tenant_id == tenant.id, GroupRow.mail != ""
            )
        )
        return next((gid for gid, mail in mails if fold(mail) == key), None)

    def save_users(self, tenant: Tenant, users: Iterable[User]) -> None:
        """Insert or update users (by id)."""
        ids: list[str] = []
        for u in users:
            self.session.merge(
                UserRow(
                    id=u.id,
                    tenant_id=tenant.id,
                    upn=u.upn,
                    upn_key=fold(u.upn),
                    display_name=u.display_name,
                    mail=u.mail,
                    account_enabled=u.account_enabled,
                    user_type=u.user_type.value,
                    hidden=u.hidden_from_address_lists,
                    kind=u.kind.value,
                    sponsor_id=u.sponsor_id,
                    attributes=dict(u.attributes),
                    proxy_addresses=list(u.proxy_addresses),
                )
            )
            ids.append(u.id)
        self.session.flush()
        self.bump_version(tenant, ids)

    def delete_users(self, tenant: Tenant, ids: Iterable[str]) -> None:
        """Delete users (memberships and licenses go with them)."""
        wanted = list(ids)
        self.session.execute(
            delete(MembershipRow).where(
                MembershipRow.tenant_id == tenant.id, MembershipRow.user_id.in_(wanted)
            )
        )
        self.session.execute(
            delete(AssignmentRow).where(
                AssignmentRow.tenant_id == tenant.id, AssignmentRow.user_id.in_(wanted)
            )
        )
        self.session.execute(
            delete(UserRow).where(UserRow.tenant_id == tenant.id, UserRow.id.in_(wanted))
        )
        self.bump_version(tenant)

    def save_groups(self, tenant: Tenant, groups: Iterable[Group]) -> None:
        """Insert or update groups (by id) with exactly their members."""
        affected: set[str] = set()
        for g in groups:
            before = self.session.get(GroupRow, (tenant.id, g.id))
            renamed = before is not None and (
                before.display_name != g.display_name or before.mail != g.mail
            )
            self.session.merge(
                GroupRow(
                    id=g.id,
                    tenant_id=tenant.id,
                    display_name=g.display_name,
                    name_key=fold(g.display_name),
                    mail=g.mail,
                )
            )
            self.session.flush()
            current = set(
                self.session.scalars(
                    select(MembershipRow.user_id).where(
                        MembershipRow.tenant_id == tenant.id, MembershipRow.group_id == g.id
                    )
                )
            )
            affected |= (current | g.members) if renamed else (current ^ g.members)
            gone = current - g.members
            if gone:
                self.session.execute(
                    delete(MembershipRow).where(
                        MembershipRow.tenant_id == tenant.id,
                        MembershipRow.group_id == g.id,
                        MembershipRow.user_id.in_(gone),
                    )
                )
            self.session.add_all(
                MembershipRow(tenant_id=tenant.id, group_id=g.id, user_id=uid)
                for uid in g.members - current
            )
        self.session.flush()
        self.bump_version(tenant, affected)

    def delete_groups(self, tenant: Tenant, ids: Iterable[str]) -> None:
        """Delete groups (their members stay)."""
        wanted = list(ids)
        self.session.execute(
            delete(MembershipRow).where(
                MembershipRow.tenant_id == tenant.id, MembershipRow.group_id.in_(wanted)
            )
        )
        self.session.execute(
            delete(GroupRow).where(GroupRow.tenant_id == tenant.id, GroupRow.id.in_(wanted))
        )
        self.bump_version(tenant)

    # -- barrier configuration -------------------------------------------------
    def load_config(self, tenant: Tenant) -> BarrierConfig:
        """The tenant's settings, segments and policies as defined (not as applied)."""
        segments = self.session.scalars(
            select(SegmentRow)
            .where(SegmentRow.tenant_id == tenant.id)
            .order_by(SegmentRow.position)
        )
        policies = self.session.scalars(
            select(PolicyRow).where(PolicyRow.tenant_id == tenant.id).order_by(PolicyRow.position)
        )
        return codec.config_from_json(
            {
                "mode": tenant.mode.value,
                "people_search_restriction": tenant.people_search_restriction,
                "segments": [{"id": s.id, "name": s.name, "filter": s.filter} for s in segments],
                "policies": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "segment": p.segment,
                        "kind": p.kind,
                        "segments": p.segments,
                        "state": p.state,
                        "moderation_allowed": p.moderation_allowed,
                        "comment": p.comment,
                    }
                    for p in policies
                ],
            }
        )

    def save_config(self, tenant: Tenant, config: BarrierConfig) -> Tenant:
        """Make the stored configuration equal ``config``; returns the updated tenant."""
        self.session.execute(
            update(TenantRow)
            .where(TenantRow.id == tenant.id)
            .values(
                mode=config.mode.value, people_search_restriction=config.people_search_restriction
            )
        )
        keep_p = [p.id for p in config.policies]
        keep_s = [s.id for s in config.segments]
        self.session.execute(
            delete(PolicyRow).where(PolicyRow.tenant_id == tenant.id, PolicyRow.id.not_in(keep_p))
        )
        self.session.execute(
            delete(SegmentRow).where(
                SegmentRow.tenant_id == tenant.id, SegmentRow.id.not_in(keep_s)
            )
        )
        self.session.flush()
        for i, s in enumerate(config.segments):
            self.session.merge(
                SegmentRow(
                    id=s.id,
                    tenant_id=tenant.id,
                    position=i,
                    name=s.name,
                    name_key=fold(s.name),
                    filter=s.filter,
                )
            )
        for i, p in enumerate(config.policies):
            self.session.merge(
                PolicyRow(
                    id=p.id,
                    tenant_id=tenant.id,
                    position=i,
                    name=p.name,
                    name_key=fold(p.name),
                    segment=p.segment,
                    segment_key=fold(p.segment),
                    kind=p.kind.value,
                    segments=list(p.segments),
                    state=p.state.value,
                    moderation_allowed=p.moderation_allowed,
                    comment=p.comment,
                )
            )
        self.session.flush()
        return Tenant(
            tenant.id,
            tenant.name,
            config.mode,
            config.people_search_restriction,
            tenant.created_at,
            tenant.version,
        )

    # -- licenses -------------------------------------------------------------------
    def load_licenses(self, tenant: Tenant) -> LicenseBook:
        """The tenant's SKUs with seats, and who holds what."""
        skus = {
            r.part_number: Sku(r.part_number, r.name, tuple(r.service_plans), r.seats)
            for r in self.session.scalars(select(SkuRow).where(SkuRow.tenant_id == tenant.id))
        }
        held: dict[str, set[str]] = {}
        for uid, part in self.session.execute(
            select(AssignmentRow.user_id, AssignmentRow.part_number).where(
                AssignmentRow.tenant_id == tenant.id
            )
        ):
            held.setdefault(uid, set()).add(part)
        return LicenseBook(skus, {u: frozenset(p) for u, p in held.items()})

    def save_licenses(self, tenant: Tenant, book: LicenseBook) -> None:
        """Store seats and assignments exactly as in ``book``."""
        for sku in book.skus.values():
            self.session.merge(
                SkuRow(
                    tenant_id=tenant.id,
                    part_number=sku.part_number,
                    name=sku.name,
                    service_plans=list(sku.service_plans),
                    seats=sku.seats,
                )
            )
        self.session.execute(delete(AssignmentRow).where(AssignmentRow.tenant_id == tenant.id))
        self.session.add_all(
            AssignmentRow(tenant_id=tenant.id, user_id=uid, part_number=part)
            for uid, parts in book.assignments.items()
            for part in sorted(parts)
        )
        self.session.flush()

    # -- applications and epochs (§5) -------------------------------------------------
    def start_application(self, tenant: Tenant, application_id: str, actor: str) -> Application:
        """Record an InProgress application; the database refuses a second one."""
        seq = (
            self.session.scalar(
                select(func.max(ApplicationRow.seq)).where(ApplicationRow.tenant_id == tenant.id)
            )
            or 0
        ) + 1
        row = ApplicationRow(
            id=application_id,
            tenant_id=tenant.id,
            seq=seq,
            status=ApplicationState.IN_PROGRESS,
            actor=actor,
            started_at=utcnow(),
            host=socket.gethostname(),
            pid=os.getpid(),
            report={},
        )
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(
                "another application is already running for this tenant",
                code=ErrorCode.APPLY_RUNNING,
            ) from None
        return _application(row)

    def update_application(self, application_id: str, **values: Any) -> None:
        """Change status fields of an application."""
        self.session.execute(
            update(ApplicationRow).where(ApplicationRow.id == application_id).values(**values)
        )

    def applications(self, tenant: Tenant) -> list[Application]:
        """The status history, newest first."""
        rows = self.session.scalars(
            select(ApplicationRow)
            .where(ApplicationRow.tenant_id == tenant.id)
            .order_by(ApplicationRow.seq.desc())
        )
        return [_application(r) for r in rows]

    def application(self, tenant: Tenant, application_id: str) -> Application:
        """One application by id or sequence number."""
        query = select(ApplicationRow).where(ApplicationRow.tenant_id == tenant.id)
        if application_id.isascii() and application_id.isdigit() and len(application_id) < 10:
            query = query.where(ApplicationRow.seq == int(application_id))
        else:
            query = query.where(ApplicationRow.id == application_id)
        row = self.session.scalar(query)
        if row is None:
            raise NotFound(f"no application {application_id!r}")
        return _application(row)

    def running_applications(self, tenant: Tenant) -> list[Application]:
        """Applications recorded as InProgress (a dead process's may linger)."""
        rows = self.session.scalars(
            select(ApplicationRow).where(
                ApplicationRow.tenant_id == tenant.id,
                ApplicationRow.status == ApplicationState.IN_PROGRESS,
            )
        )
        return [_application(r) for r in rows]

    def add_epoch(self, tenant: Tenant, application_id: str, config: BarrierConfig) -> int:
        """Store an applied epoch's own copy of segments and Active policies."""
        row = EpochRow(
            tenant_id=tenant.id,
            application_id=application_id,
            created_at=utcnow(),
            config=codec.config_to_json(config.active()),
        )
        self.session.add(row)
        self.session.flush()
        self.bump_version(tenant)
        return row.id

    def current_epoch(self, tenant: Tenant) -> tuple[int, BarrierConfig] | None:
        """The epoch in force (the latest one stored), or ``None`` before the first apply."""
        row = self.session.scalar(
            select(EpochRow).where(EpochRow.tenant_id == tenant.id).order_by(EpochRow.id.desc())
        )
        if row is None:
            return None
        return row.id, codec.config_from_json(row.config)

    # -- audit (§9) --------------------------------------------------------------------
    def append_audit(
        self, tenant: Tenant, actor: str, kind: str, detail: dict[str, Any]
    ) -> AuditEntry:
        """Append a hash-chained entry."""
        last = self.session.scalar(
            select(AuditRow).where(AuditRow.tenant_id == tenant.id).order_by(AuditRow.seq.desc())
        )
        seq = (last.seq if last else 0) + 1
        prev = last.hash if last else GENESIS
        at = utcnow()
        digest = entry_hash(seq, at, actor, kind, detail, prev)
        self.session.add(
            AuditRow(
                tenant_id=tenant.id,
                seq=seq,
                at=at.isoformat(),
                actor=actor,
                kind=kind,
                detail=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        self.session.flush()
        return AuditEntry(seq, at, actor, kind, detail, prev, digest)

    def audit(
        self,
        tenant: Tenant,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[AuditEntry]:
        """Audit entries in order, optionally filtered."""
        query = select(AuditRow).where(AuditRow.tenant_id == tenant.id).order_by(AuditRow.seq)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if kinds:
            query = query.where(AuditRow.kind.in_(list(kinds)))
        entries = [
            AuditEntry(
                r.seq,
                datetime.fromisoformat(r.at),
                r.actor,
                r.kind,
                dict(r.detail),
                r.prev_hash,
                r.hash,
            )
            for r in self.session.scalars(query)
        ]
        since, until = aware(since), aware(until)  # a time without offset is UTC
        if since is not None:
            entries = [e for e in entries if e.at >= since]
        if until is not None:
            entries = [e for e in entries if e.at <= until]
        return entries

    # -- tokens ----------------------------------------------------------------------------
    def add_token(
        self, tenant: Tenant, token_id: str, role: str, secret_hash: str, label: str = ""
    ) -> Token:
        """Store a token's hash."""
        row = TokenRow(
            id=token_id,
            tenant_id=tenant.id,
            role=role,
            secret_hash=secret_hash,
            label=label,
            created_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return self._token(row, tenant.name)

    @staticmethod
    def _token(row: TokenRow, tenant: str) -> Token:
        return Token(
            row.id,
            tenant,
            row.role,
            row.label,
            aware(row.created_at) or utcnow(),
            aware(row.revoked_at),
            row.secret_hash,
        )

    def find_token(self, token_id: str) -> Token | None:
        """A token by id, with its tenant's name."""
        row = self.session.execute(
            select(TokenRow, TenantRow.name)
            .join(TenantRow, TenantRow.id == TokenRow.tenant_id)
            .where(TokenRow.id == token_id)
        ).first()
        return self._token(row[0], row[1]) if row is not None else None

    def tokens(self, tenant: Tenant | None = None) -> list[Token]:
        """Every token (of one tenant, or all)."""
        query = select(TokenRow, TenantRow.name).join(TenantRow, TenantRow.id == TokenRow.tenant_id)
        if tenant is not None:
            query = query.where(TokenRow.tenant_id == tenant.id)
        return [
            self._token(r, n) for r, n in self.session.execute(query.order_by(TokenRow.created_at))
        ]

    def revoke_token(self, token_id: str) -> Token:
        """Mark a token revoked (idempotent)."""
        found = self.find_token(token_id)
        if found is None:
            raise NotFound(f"no token {token_id!r}")
        if found.revoked_at is None:
            self.session.execute(
                update(TokenRow).where(TokenRow.id == token_id).values(revoked_at=utcnow())
            )
        result = self.find_token(token_id)
        assert result is not None
        return result

    # -- collaboration objects (§7, §8) ----------------------------------------------------------
    def collab_objects(self, tenant: Tenant, kind: str | None = None) -> list[dict[str, Any]]:
        """Stored objects as JSON documents (with ``kind``), oldest first."""
        query = select(CollabRow).where(CollabRow.tenant_id == tenant.id)
        if kind is not None:
            query = query.where(CollabRow.kind == kind)
        rows = self.session.scalars(query.order_by(CollabRow.created_at, CollabRow.id))
        return [dict(r.data) for r in rows]

    def collab_object(self, tenant: Tenant, kind: str, object_id: str) -> dict[str, Any]:
        """One object, or NotFound."""
        row = self.session.scalar(
            select(CollabRow).where(
                CollabRow.tenant_id == tenant.id, CollabRow.kind == kind, CollabRow.id == object_id
            )
        )
        if row is None:
            raise NotFound(f"no {kind} {object_id!r}")
        return dict(row.data)

    def save_collab_object(self, tenant: Tenant, kind: str, data: dict[str, Any]) -> None:
        """Insert or replace an object by id."""
        existing = self.session.get(CollabRow, (tenant.id, data["id"]))
        if existing is None:
            self.session.add(
                CollabRow(
                    id=data["id"], tenant_id=tenant.id, kind=kind, created_at=utcnow(), data=data
                )
            )
        else:
            existing.data = data
        self.session.flush()

    def add_message(self, tenant: Tenant, chat_id: str, sender_id: str, text: str) -> Message:
        """Append a message to a chat."""
        row = MessageRow(
            tenant_id=tenant.id, chat_id=chat_id, sender_id=sender_id, text=text, at=utcnow()
        )
        self.session.add(row)
        self.session.flush()
        return Message(row.id, chat_id, sender_id, text, aware(row.at) or utcnow())

    def messages(self, tenant: Tenant, chat_id: str) -> list[Message]:
        """A chat's messages in order."""
        rows = self.session.scalars(
            select(MessageRow)
            .where(MessageRow.tenant_id == tenant.id, MessageRow.chat_id == chat_id)
            .order_by(MessageRow.id)
        )
        return [
            Message(r.id, r.chat_id, r.sender_id, r.text, aware(r.at) or utcnow()) for r in rows
        ]
