"""Provisioning: directory changes made by an identity provider (SCIM 2.0, docs/scim.md).

A provisioning change is a directory change like any other (semantics §2, §5): it runs in
one transaction of the tenant, keeps the directory's invariants, is audited with the
provisioner token as actor (§9), takes effect on decisions at once (§5), and ends with
``after_change(tx)``, which the wiring points at reconciliation (§8), as
:class:`~infobarrier.service.directory.DirectoryHandler` does.

Next to the directory, a :class:`~infobarrier.store.scim_repository.ScimRecord` per
provisioned user or group keeps what the directory does not hold (``externalId`` and the
SCIM attributes infobarrier does not use), written in the same transaction.

This module knows nothing of SCIM's wire format: the SCIM adapter (``infobarrier.scim``)
turns resources into core users and groups and calls a :class:`ProvisioningSession`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from infobarrier.core.attributes import STORED_ATTRIBUTES
from infobarrier.core.codes import ErrorCode
from infobarrier.core.directory import Directory, Group, User, fold
from infobarrier.core.errors import Conflict, InvalidInput, NotFound
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.directory import AfterChange
from infobarrier.store.scim_repository import MAX_EXTERNAL_ID, ScimRecord


class ResourceKind(StrEnum):
    """What a SCIM record describes (the SCIM resource type's name)."""

    USER = "User"
    GROUP = "Group"
    #: Not a resource: the tenant's provisioning settings (one record per tenant).
    SETTINGS = "Settings"


SETTINGS_KIND = ResourceKind.SETTINGS.value


def _nothing(_tx: TenantTx) -> None:
    return None


def user_facts(user: User) -> dict[str, Any]:
    """A user's directory values by their §2 names: what provisioning may change.

    Used to tell what a change changed (the audit detail) and whether the directory moved
    away from what the identity provider last wrote.
    """
    facts: dict[str, Any] = {
        "UserPrincipalName": user.upn,
        "DisplayName": user.display_name,
        "Mail": user.mail,
        "AccountEnabled": user.account_enabled,
        "UserType": user.user_type.value,
        "HiddenFromAddressListsEnabled": user.hidden_from_address_lists,
        "ProxyAddresses": list(user.proxy_addresses),
    }
    for name in STORED_ATTRIBUTES:
        facts[name] = user.attributes.get(name, "")
    return facts


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in new.items() if old.get(key) != value}


class ProvisioningSession:
    """One provisioning request: reads and writes in one transaction of one tenant.

    Obtain it from :meth:`ProvisioningHandler.session`. Every write keeps the directory's
    invariants (unique UPNs and group names, members that exist), saves the directory
    change and the SCIM record, and appends an audit entry.
    """

    def __init__(self, tx: TenantTx, now: datetime) -> None:
        self.tx = tx
        self.now = now
        self.records = tx.repos.scim
        self._directory: Directory | None = None
        #: Users read by id in this session, until it writes (the tenant is locked for
        #: writers, so nobody else changes them meanwhile).
        self._users: dict[str, User] = {}
        #: True once the directory itself changed (reconciliation then runs).
        self.directory_changed = False

    # -- reads --------------------------------------------------------------------
    @property
    def tenant(self) -> str:
        """The tenant's name."""
        return self.tx.tenant.name

    @property
    def directory(self) -> Directory:
        """The tenant's whole directory, as this transaction sees it (changes included).

        Loads every user, group and membership: only for what needs them all (a search
        without a key filter). One user or group is read with :meth:`user`,
        :meth:`user_with_groups`, :meth:`group` and the lookups below, whose cost does
        not grow with the tenant.
        """
        if self._directory is None:
            self._directory = self.tx.repos.directory.load()
        return self._directory

    def page(self, kind: ResourceKind, offset: int, limit: int | None) -> tuple[int, list[str]]:
        """``(how many users or groups, the ids of one page)``, paged in the database
        (users by UPN, groups by name: the order of :attr:`directory`)."""
        return self.tx.repos.directory.page_ids(kind is ResourceKind.GROUP, offset, limit)

    def user(self, id: str) -> User:
        """One user by id, or :class:`NotFound`."""
        found = self._user_or_none(id)
        if found is None:
            raise NotFound(f"no user with id {id}")
        return found

    def user_with_groups(self, id: str) -> tuple[User, list[Group]]:
        """One user and the groups it is a direct member of (by group id, without their
        members), or :class:`NotFound`."""
        user = self.user(id)
        return user, self.tx.repos.directory.groups_of_user(id)

    def users(self, ids: Iterable[str]) -> dict[str, User]:
        """The users of these ids that exist (a group's members, to render it)."""
        return self.tx.repos.directory.users_by_id(ids)

    def find_upn(self, upn: str) -> User | None:
        """The user with this UPN (case-insensitive), or ``None``."""
        return self.tx.repos.directory.find_user(upn)

    def group(self, id: str) -> Group:
        """One group by id with its members, or :class:`NotFound`."""
        found = self.tx.repos.directory.load_group(id)
        if found is None:
            raise NotFound(f"no group with id {id}")
        return found

    def find_group(self, name_or_mail: str) -> str | None:
        """The id of a group by id, display name or mail (case-insensitive), or ``None``."""
        return self.tx.repos.directory.find_group_id(name_or_mail)

    def users_among(self, ids: Collection[str]) -> set[str]:
        """Which of these ids are users of the tenant."""
        return self.tx.repos.directory.existing_user_ids(ids)

    def groups_among(self, ids: Collection[str]) -> set[str]:
        """Which of these ids are groups of the tenant."""
        return self.tx.repos.directory.existing_group_ids(ids)

    def record(self, kind: ResourceKind, id: str) -> ScimRecord | None:
        """The SCIM record of a user or group, or ``None`` (not provisioned through SCIM)."""
        return self.records.get(kind.value, id)

    def all_records(self, kind: ResourceKind) -> dict[str, ScimRecord]:
        """Every SCIM record of a kind, by object id."""
        return self.records.all(kind.value)

    def with_external_id(self, kind: ResourceKind, external_id: str) -> list[str]:
        """Object ids whose ``externalId`` is exactly this."""
        return self.records.with_external_id(kind.value, external_id)

    # -- the tenant's provisioning settings -------------------------------------------
    def upn_template(self) -> str | None:
        """The tenant's template for user principal names (docs/scim.md), or ``None``."""
        record = self.records.get(SETTINGS_KIND, self._settings_id())
        value = record.data.get("upn_template") if record is not None else None
        return value if isinstance(value, str) else None

    def set_upn_template(self, template: str | None) -> None:
        """Set (or with ``None`` reset) the tenant's UPN template; audited."""
        self._writable()
        before = self.upn_template()
        self._save_record(
            ResourceKind.SETTINGS,
            self._settings_id(),
            None,
            {"upn_template": template} if template is not None else {},
        )
        self.tx.audit("scim.upn_template", before=before, after=template)

    def _settings_id(self) -> str:
        return f"tenant-{self.tx.tenant.id}"

    # -- users ----------------------------------------------------------------------
    def save_user(
        self, user: User, *, external_id: str | None, data: Mapping[str, Any]
    ) -> ScimRecord:
        """Create a user (new id) or replace one (same id), with its SCIM record.

        Reads and writes this user's rows only: the UPN's uniqueness is one indexed query.
        """
        self._writable()
        known = self._users.get(user.id)
        if known is not None and fold(known.upn) == fold(user.upn.strip()):
            holder: User | None = known  # the UPN is unique: nobody else holds it
        else:
            holder = self.find_upn(user.upn)
        if holder is not None and holder.id != user.id:
            raise Conflict(
                f"userName {user.upn!r} is already used by another user", code=ErrorCode.USER_EXISTS
            )
        old = holder if holder is not None else self._user_or_none(user.id)
        if old is None or old != user:
            self.tx.repos.directory.save_users([user])
            self._changed()
        record = self._save_record(ResourceKind.USER, user.id, external_id, data)
        if old is None:
            self.tx.audit(
                "scim.user_created",
                id=user.id,
                upn=user.upn,
                external_id=external_id,
                account_enabled=user.account_enabled,
            )
        else:
            changes = _changes(user_facts(old), user_facts(user))
            kind = "scim.user_updated"
            if changes.get("AccountEnabled") is False:
                kind = "scim.user_deactivated"
            elif changes.get("AccountEnabled") is True:
                kind = "scim.user_reactivated"
            self.tx.audit(kind, id=user.id, upn=user.upn, changes=changes)
        return record

    def delete_user(self, id: str) -> None:
        """Delete a user (memberships and licenses go with it) and its SCIM record."""
        self._writable()
        user = self.user(id)
        self.tx.repos.directory.delete_users([id])
        self.records.delete(ResourceKind.USER.value, [id])
        self._changed()
        self.tx.audit("scim.user_deleted", id=id, upn=user.upn)

    # -- groups -----------------------------------------------------------------------
    def save_group(
        self, group: Group, *, external_id: str | None, data: Mapping[str, Any]
    ) -> ScimRecord:
        """Create a group (new id) or replace one (same id): name and exact members.

        Names are checked by key and members by id, in queries: the directory is not loaded.
        """
        self._writable()
        if not group.display_name.strip():
            raise InvalidInput("a group needs a displayName")
        for key in {fold(group.display_name), fold(group.mail)} - {""}:
            holder = self.find_group(key)
            if holder is not None and holder != group.id:
                raise Conflict(
                    f"a group named {group.display_name!r} already exists",
                    code=ErrorCode.GROUP_EXISTS,
                )
        known = self.users_among(group.members)
        for uid in group.members:
            if uid not in known:
                raise InvalidInput(f"member {uid!r} is not a user of this tenant")
        old = self._group_or_none(group.id)
        if old is None or old != group:
            self.tx.repos.directory.save_groups([group])
            self._changed()
        record = self._save_record(ResourceKind.GROUP, group.id, external_id, data)
        before = old.members if old is not None else frozenset()
        detail: dict[str, Any] = {
            "id": group.id,
            "group": group.display_name,
            "added": self._upns(group.members - before),
            "removed": self._upns(before - group.members),
        }
        if old is None:
            self.tx.audit("scim.group_created", external_id=external_id, **detail)
        else:
            if old.display_name != group.display_name:
                detail["renamed_from"] = old.display_name
            self.tx.audit("scim.group_updated", **detail)
        return record

    def delete_group(self, id: str) -> None:
        """Delete a group (its members stay) and its SCIM record."""
        self._writable()
        group = self.group(id)
        self.tx.repos.directory.delete_groups([id])
        self.records.delete(ResourceKind.GROUP.value, [id])
        self._changed()
        self.tx.audit("scim.group_deleted", id=id, group=group.display_name)

    # -- helpers -----------------------------------------------------------------------
    def _writable(self) -> None:
        if not self.tx.write:
            raise RuntimeError("a read-only provisioning session cannot change the directory")

    def _changed(self) -> None:
        """The directory changed: reconciliation will run; a loaded directory is stale."""
        self.directory_changed = True
        self._directory = None
        self._users.clear()

    def _user_or_none(self, id: str) -> User | None:
        if id not in self._users:
            found = self.tx.repos.directory.users_by_id([id]).get(id)
            if found is None:
                return None
            self._users[id] = found
        return self._users[id]

    def _group_or_none(self, id: str) -> Group | None:
        return self.tx.repos.directory.load_group(id)

    def _upns(self, ids: frozenset[str]) -> list[str]:
        """The UPNs of these users (an id when the user is gone), in order."""
        found = self.users(ids)
        upns = [found[uid].upn if uid in found else uid for uid in ids]
        return sorted(upns, key=fold)

    def _save_record(
        self, kind: ResourceKind, id: str, external_id: str | None, data: Mapping[str, Any]
    ) -> ScimRecord:
        if external_id is not None and len(external_id) > MAX_EXTERNAL_ID:
            raise InvalidInput(f"externalId is longer than {MAX_EXTERNAL_ID} characters")
        previous = self.records.get(kind.value, id)
        record = ScimRecord(
            kind=kind.value,
            id=id,
            external_id=external_id,
            data=dict(data),
            created=previous.created if previous is not None else self.now,
            modified=self.now,
        )
        self.records.save(record)
        return record


class ProvisioningHandler:
    """Opens provisioning sessions; each is one audited transaction, then reconciliation."""

    def __init__(self, ctx: Context, after_change: AfterChange = _nothing) -> None:
        self.ctx = ctx
        self.after_change = after_change

    @contextmanager
    def session(
        self, tenant: str, actor: str, *, write: bool = True
    ) -> Iterator[ProvisioningSession]:
        """One transaction on a tenant; commits when the block ends, rolls back on error.

        When the directory changed, ``after_change(tx)`` (reconciliation, §8) runs in the
        same transaction before it commits.
        """
        with self.ctx.tenant_tx(tenant, actor, write=write) as tx:
            session = ProvisioningSession(tx, datetime.now(UTC))
            yield session
            if session.directory_changed:
                self.after_change(tx)


__all__ = [
    "ProvisioningHandler",
    "ProvisioningSession",
    "ResourceKind",
    "ScimRecord",
    "user_facts",
]
