"""The relational schema. Alembic migrations (``store/migrations``) create and upgrade it.

Names are folded (case-insensitive keys, semantics §2-§4) in ``*_key`` columns with
unique constraints, so the database itself refuses duplicates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from infobarrier.core.codes import ApplicationState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class TenantRow(Base):
    """A tenant and its settings (semantics §1)."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    mode: Mapped[str] = mapped_column(String(16))
    people_search_restriction: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Bumped by every change that moves decisions (directory, apply): caches compare it.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UserRow(Base):
    """A directory user (semantics §2); segmentable attributes in ``attributes``."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "upn_key"),)
    # Keyed by tenant too: the same Entra object id may be imported into several tenants.
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    upn: Mapped[str] = mapped_column(String(320))
    upn_key: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    mail: Mapped[str] = mapped_column(String(320), default="")
    account_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    user_type: Mapped[str] = mapped_column(String(8), default="Member")
    hidden: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")
    sponsor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proxy_addresses: Mapped[list[Any]] = mapped_column(JSON, default=list)


class GroupRow(Base):
    """A group; display names and mails are unique per tenant (semantics §3)."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(256))
    name_key: Mapped[str] = mapped_column(String(256))
    mail: Mapped[str] = mapped_column(String(320), default="")


class MembershipRow(Base):
    """Direct group membership."""

    __tablename__ = "memberships"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "group_id"], ["groups.tenant_id", "groups.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        # Covering (group_id last): SQLite then plans lookups by user on it (migration 0004).
        Index("ix_memberships_user", "tenant_id", "user_id", "group_id"),
    )
    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class SkuRow(Base):
    """A SKU of a tenant with its seats bought."""

    __tablename__ = "skus"
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    part_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    service_plans: Mapped[list[Any]] = mapped_column(JSON, default=list)
    seats: Mapped[int] = mapped_column(Integer, default=0)


class AssignmentRow(Base):
    """A license assigned to a user."""

    __tablename__ = "license_assignments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )
    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_number: Mapped[str] = mapped_column(String(64), primary_key=True)


class SegmentRow(Base):
    """``New-OrganizationSegment`` (semantics §3)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)
    # Keyed by tenant: an imported segment keeps its id, which another tenant may hold too.
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    filter: Mapped[str] = mapped_column(Text)


class PolicyRow(Base):
    """``New-InformationBarrierPolicy`` (semantics §4)."""

    __tablename__ = "policies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name_key"),
        UniqueConstraint("tenant_id", "segment_key"),
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(64))
    segment_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    segments: Mapped[list[Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8))
    moderation_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")


class ApplicationRow(Base):
    """One run of ``Start-InformationBarrierPoliciesApplication`` and its status (§5)."""

    __tablename__ = "applications"
    __table_args__ = (
        # At most one InProgress application per tenant, enforced by the database itself
        # (a partial index: its WHERE is given per dialect by ``use_dialect``).
        Index("uq_applications_running", "tenant_id", unique=True),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    total_recipients: Mapped[int] = mapped_column(Integer, default=0)
    failed_recipients: Mapped[int] = mapped_column(Integer, default=0)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EpochRow(Base):
    """An applied epoch's own copy of the segments and Active policies (§4, §5)."""

    __tablename__ = "epochs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)


class EpochFormRow(Base):
    """The compiled form of the tenant's epoch in force (``store/compiled.py``): one per
    tenant, replaced when a newer one is written. ``version`` is the tenant version whose
    directory it reflects; ``format``, ``source`` and ``digest`` are checked before use."""

    __tablename__ = "epoch_forms"
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    epoch_id: Mapped[int] = mapped_column(ForeignKey("epochs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRow(Base):
    """An append-only, hash-chained audit entry (semantics §9)."""

    __tablename__ = "audit"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    #: ISO 8601 text, so the hashed form survives every backend unchanged.
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class TokenRow(Base):
    """A bearer token bound to one tenant and one role; only its hash is stored."""

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: After this instant the token is refused (``None``: it never expires).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The last accepted use, recorded at most once a minute per token.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The person the token was issued to (``tokens create --for NAME``; migration 0006).
    person: Mapped[str | None] = mapped_column(String(256), nullable=True)


class CollabRow(Base):
    """A team, chat, meeting or call (semantics §7, §8), as a JSON document."""

    __tablename__ = "collab_objects"
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class MessageRow(Base):
    """A chat message (the history that removed participants keep read-only)."""

    __tablename__ = "messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "chat_id"],
            ["collab_objects.tenant_id", "collab_objects.id"],
            ondelete="CASCADE",
        ),
        Index("ix_messages_chat", "tenant_id", "chat_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    chat_id: Mapped[str] = mapped_column(String(36))
    sender_id: Mapped[str] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChangeRow(Base):
    """What each tenant version changed: the users concerned, or everything (``None``).

    Replicas and caches that hold version ``v`` catch up to ``v + k`` by patching just
    these users into their epoch, instead of recompiling (docs/replicas.md).
    """

    __tablename__ = "tenant_changes"
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_ids: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


#: The rows ``uq_applications_running`` covers: the applications still in progress.
RUNNING_ONLY = f"status = '{ApplicationState.IN_PROGRESS}'"

#: Dialects whose partial-index WHERE is set already.
_DIALECTS_USED: set[str] = set()


def use_dialect(name: str) -> None:
    """Give the schema's partial index its WHERE for dialect ``name`` (``sqlite`` or
    ``postgresql``), once an engine of that dialect exists.

    Written as ``postgresql_where=`` in the ``Index`` itself, the keyword makes SQLAlchemy
    import the PostgreSQL dialect (and its asyncpg driver module) when this module is
    imported, so every SQLite command paid 0.05-0.1 s for it. Set here, each dialect's
    option is validated when that dialect is loaded already. Only DDL and the schema
    comparison read it: the migrations create the index themselves.
    """
    if name in _DIALECTS_USED or name not in ("sqlite", "postgresql"):
        return
    table = Base.metadata.tables[ApplicationRow.__tablename__]
    index = next(i for i in table.indexes if i.name == "uq_applications_running")
    index.dialect_options[name]["where"] = text(RUNNING_ONLY)
    _DIALECTS_USED.add(name)
