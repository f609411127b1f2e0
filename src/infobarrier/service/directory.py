"""Directory use cases: users, groups, service accounts, licenses (semantics §2).

A directory change takes effect on decisions at once (§5): decisions compile the
directory as it is now against the epoch in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace

from infobarrier.core.attributes import STORED_ATTRIBUTES, canonical_attribute
from infobarrier.core.codes import ErrorCode
from infobarrier.core.directory import (
    Directory,
    Group,
    User,
    UserKind,
    fold,
    make_group,
    make_user,
)
from infobarrier.core.errors import Conflict, InvalidInput, NotFound
from infobarrier.core.licenses import LicenseBook
from infobarrier.formats import entra_csv, entra_users_fast
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.gc_pause import gc_paused


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import changed."""

    rows: int
    users_created: int
    users_updated: int
    groups_changed: int


#: Called at the end of every directory change, in its transaction (§8 reconciliation).
AfterChange = Callable[[TenantTx], object]


def _nothing(_tx: TenantTx) -> None:
    return None


class DirectoryHandler:
    """Users, groups, service accounts and licenses of a tenant.

    Every change that can move a decision ends with ``after_change(tx)``, which the wiring
    points at reconciliation: existing chats, teams, meetings and calls follow at once.
    """

    def __init__(self, ctx: Context, after_change: AfterChange = _nothing) -> None:
        self.ctx = ctx
        self.after_change = after_change

    # -- reads ------------------------------------------------------------------
    def directory(self, tenant: str) -> Directory:
        """The tenant's directory as it is now."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.directory.load()

    def user_view(self, tenant: str, upn: str) -> tuple[User, list[Group], str | None]:
        """One user with its groups and its sponsor's UPN, without loading the directory."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            user = tx.repos.directory.find_user(upn)
            if user is None:
                raise NotFound(f"no user {upn!r}")
            ((_, groups),) = tx.repos.directory.load_users([user.id])
            sponsor = None
            if user.sponsor_id:
                found = tx.repos.directory.load_users([user.sponsor_id])
                sponsor = found[0][0].upn if found else None
            return user, groups, sponsor

    def licenses(self, tenant: str) -> LicenseBook:
        """SKUs, seats and assignments."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.licenses.load()

    # -- imports -------------------------------------------------------------------
    def import_users_csv(
        self, tenant: str, data: bytes, actor: str, source: str = "users.csv"
    ) -> ImportSummary:
        """Entra ID "Download users" CSV: all rows or nothing."""
        # Column-wise (formats.entra_users_fast), with the reference parser's and merge's
        # results and errors; parsed before the write transaction begins. The collector is
        # paused while rows are built, not while waiting for the tenant's write lock (it is
        # paused for the whole process: a server's other requests would go without it),
        # and until the transaction has committed (the commit and the session's clean-up
        # run among the millions of rows and cells still alive; docs/decisions.md, "The
        # users CSV import path").
        with gc_paused():
            parsed = entra_users_fast.read_users_csv(data, source=source)
        with ExitStack() as after_commit:
            with self.ctx.tenant_tx(tenant, actor) as tx:
                after_commit.enter_context(gc_paused())
                summary = self._new_users(tx, parsed) or self._merged_users(tx, parsed)
                tx.audit("directory.users_imported", source=source, **_as_dict(summary))
                self.after_change(tx)
            return summary

    @staticmethod
    def _new_users(tx: TenantTx, parsed: entra_users_fast.UsersFile) -> ImportSummary | None:
        """A file of new users only (a first import), inserted straight from its columns
        (``DirectoryRepository.insert_new_users``); ``None`` when the file is not that, or
        a column-wise test cannot vouch for it (the reference merge then decides)."""
        if parsed.table is None:
            return None
        repo = tx.repos.directory
        fresh = entra_users_fast.new_users_import(parsed, repo.group_names())
        if fresh is None or repo.any_user_of(fresh.users.ids, fresh.users.upn_keys):
            return None
        repo.insert_new_users(fresh.users, fresh.member_of)
        return ImportSummary(len(parsed), len(fresh.users), 0, fresh.groups_changed)

    @staticmethod
    def _merged_users(tx: TenantTx, parsed: entra_users_fast.UsersFile) -> ImportSummary:
        """Any file: merged into the loaded directory (updates row by row, as the
        reference merges them)."""
        directory = tx.repos.directory.load()
        merged = entra_users_fast.merge_users_file(directory, parsed)
        tx.repos.directory.save_users(merged.changed_users)
        tx.repos.directory.save_groups(merged.changed_groups)
        created = merged.created
        return ImportSummary(
            len(parsed),
            created,
            len(merged.changed_users) - created,
            len(merged.changed_groups),
        )

    def import_groups_csv(
        self, tenant: str, data: bytes, actor: str, source: str = "groups.csv"
    ) -> ImportSummary:
        """``groupDisplayName,groupMail,memberUserPrincipalName``: all rows or nothing."""
        rows = entra_csv.parse_groups_csv(data, source=source)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            directory = tx.repos.directory.load()
            merged = entra_csv.merge_groups(directory, rows, source=source)
            tx.repos.directory.save_groups(merged.changed_groups)
            summary = ImportSummary(len(rows), 0, 0, len(merged.changed_groups))
            tx.audit("directory.groups_imported", source=source, **_as_dict(summary))
            self.after_change(tx)
            return summary

    # -- single changes ----------------------------------------------------------------
    def put_users(self, tenant: str, users: Sequence[User], actor: str) -> None:
        """Create or replace users (by id) with the directory's invariants."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            # UPNs stay unique: checked by key, one indexed lookup per user, so the write
            # transaction stays short whatever the tenant's size.
            seen: dict[str, str] = {}
            for user in users:
                key = fold(user.upn)
                holder = seen.get(key)
                if holder is None:
                    found = tx.repos.directory.find_user(user.upn)
                    holder = found.id if found is not None else None
                if holder is not None and holder != user.id:
                    raise InvalidInput(
                        f"UserPrincipalName {user.upn!r} is already used by another user"
                    )
                seen[key] = user.id
            tx.repos.directory.save_users(users)
            tx.audit("directory.users_saved", upns=[u.upn for u in users])
            self.after_change(tx)

    def update_user(
        self,
        tenant: str,
        upn: str,
        actor: str,
        attributes: Mapping[str, str] | None = None,
        **changes: object,
    ) -> User:
        """Change fields (``account_enabled=False``) or attributes (``Department="Sales"``, or
        ``attributes={...}``, where every key must be a segmentable attribute) of one user."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            user = tx.repos.directory.find_user(upn)  # one row, not the whole directory
            if user is None:
                raise NotFound(f"no user {upn!r}")
            fields = {k: v for k, v in changes.items() if k in _USER_FIELDS}
            named = {k: v for k, v in changes.items() if k not in _USER_FIELDS}
            updated = _updated(user, fields, {**named, **(attributes or {})})
            changes = {**changes, **(attributes or {})}
            tx.repos.directory.save_users([updated])
            tx.audit(
                "directory.user_updated",
                upn=user.upn,
                changes=_jsonable(changes),
                before=_jsonable(_values(user, changes)),
            )
            self.after_change(tx)
            return updated

    def create_service_account(
        self,
        tenant: str,
        upn: str,
        *,
        vendor: str,
        sponsor: str,
        display_name: str | None = None,
        actor: str,
        **attributes: str,
    ) -> User:
        """A vendor service account: kind ``service_account``, sponsor, company = vendor (§2)."""
        if not vendor.strip():
            raise InvalidInput("a service account needs a vendor company")
        with self.ctx.tenant_tx(tenant, actor) as tx:
            # The sponsor's row and the new UPN's key only, never the whole directory.
            sponsor_user = _find(tx, sponsor)
            if sponsor_user.kind is UserKind.SERVICE_ACCOUNT:
                raise InvalidInput(
                    f"sponsor {sponsor!r} must be an internal user, not a service account"
                )
            account = make_user(
                upn,
                display_name=display_name,
                kind=UserKind.SERVICE_ACCOUNT,
                sponsor_id=sponsor_user.id,
                attrs={**attributes, "Company": vendor.strip()},
            )
            if tx.repos.directory.find_user(account.upn) is not None:
                raise InvalidInput(
                    f"UserPrincipalName {account.upn!r} is already used by another user"
                )
            tx.repos.directory.save_users([account])
            tx.audit(
                "directory.service_account_created",
                upn=account.upn,
                vendor=vendor,
                sponsor=sponsor_user.upn,
            )
            return account

    def put_group(
        self, tenant: str, name: str, actor: str, *, mail: str = "", members: Iterable[str] = ()
    ) -> Group:
        """Create a group or set its members (by UPN)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            directory = tx.repos.directory.load()
            ids = frozenset(directory.by_upn(m).id for m in members)
            found = directory.find_group(name)
            group = (
                replace(found, members=ids, mail=mail or found.mail)
                if found is not None
                else make_group(name, mail=mail, members=ids)
            )
            directory.put_group(group)
            tx.repos.directory.save_groups([group])
            tx.audit("directory.group_saved", group=group.display_name, members=len(ids))
            self.after_change(tx)
            return group

    def create_user(self, tenant: str, user: User, actor: str) -> User:
        """Create one user (its UPN must be new)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            if tx.repos.directory.find_user(user.upn) is not None:  # by key, not a load
                raise Conflict(f"user {user.upn!r} already exists", code=ErrorCode.USER_EXISTS)
            tx.repos.directory.save_users([user])
            tx.audit("directory.user_created", upn=user.upn, kind=user.kind.value)
            return user

    def add_member(self, tenant: str, group: str, upn: str, actor: str) -> Group:
        """Add a user to a group (no-op when already a member)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            found = _stored_group(tx, group)  # the group's and the user's rows only
            user = _find(tx, upn)
            updated = replace(found, members=found.members | {user.id})
            tx.repos.directory.save_groups([updated])
            tx.audit("directory.member_added", group=found.display_name, upn=user.upn)
            self.after_change(tx)
            return updated

    def remove_member(self, tenant: str, group: str, upn: str, actor: str) -> Group:
        """Remove a user from a group."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            found = _stored_group(tx, group)
            user = _find(tx, upn)
            if user.id not in found.members:
                raise NotFound(f"{user.upn} is not a member of {found.display_name!r}")
            updated = replace(found, members=found.members - {user.id})
            tx.repos.directory.save_groups([updated])
            tx.audit("directory.member_removed", group=found.display_name, upn=user.upn)
            self.after_change(tx)
            return updated

    def remove_group(self, tenant: str, group: str, actor: str) -> None:
        """Delete a group (its members stay)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            found = _stored_group(tx, group)
            tx.repos.directory.delete_groups([found.id])
            tx.audit("directory.group_removed", group=found.display_name)
            self.after_change(tx)

    def add_seats(self, tenant: str, part_number: str, seats: int, actor: str) -> LicenseBook:
        """Buy more seats of a SKU."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            book = tx.repos.licenses.load()
            sku = book.sku(part_number)
            book = book.set_seats(sku.part_number, sku.seats + seats)
            tx.repos.licenses.save(book)
            tx.audit(
                "licenses.purchased", sku=sku.part_number, added=seats, seats=sku.seats + seats
            )
            return book

    def remove_user(self, tenant: str, upn: str, actor: str) -> None:
        """Delete a user."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            user = _find(tx, upn)
            tx.repos.directory.delete_users([user.id])
            tx.audit("directory.user_removed", upn=user.upn)
            self.after_change(tx)

    # -- licenses --------------------------------------------------------------------------
    def purchase(self, tenant: str, part_number: str, seats: int, actor: str) -> LicenseBook:
        """Set the seats bought for a SKU (never below those assigned)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            loaded = tx.repos.licenses.load()
            book = loaded.set_seats(part_number, seats)
            tx.repos.licenses.save(book)
            tx.audit(
                "licenses.seats",
                sku=book.sku(part_number).part_number,
                seats=seats,
                before={"seats": loaded.sku(part_number).seats},
            )
            return book

    def assign(self, tenant: str, upn: str, part_number: str, actor: str) -> LicenseBook:
        """Assign a license to a user (out of seats and guests refused, §2)."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            return self._assign(tx, upn, part_number)

    def _assign(self, tx: TenantTx, upn: str, part_number: str) -> LicenseBook:
        user = _find(tx, upn)
        book = tx.repos.licenses.load().assign(user, part_number)
        tx.repos.licenses.save(book)
        tx.audit("licenses.assigned", upn=user.upn, sku=book.sku(part_number).part_number)
        return book

    def unassign(self, tenant: str, upn: str, part_number: str, actor: str) -> LicenseBook:
        """Remove a license from a user."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            user = _find(tx, upn)
            book = tx.repos.licenses.load().unassign(user, part_number)
            tx.repos.licenses.save(book)
            tx.audit("licenses.unassigned", upn=user.upn, sku=book.sku(part_number).part_number)
            return book


def _stored_group(tx: TenantTx, name: str) -> Group:
    """One group by id, display name or mail (as ``Directory.find_group``) with its members'
    ids, read by key: a member change touches its group's rows, not the directory."""
    gid = tx.repos.directory.find_group_id(name)
    found = tx.repos.directory.load_group(gid) if gid is not None else None
    if found is None:
        raise NotFound(f"no group {name!r}")
    return found


_USER_FIELDS = {
    "display_name",
    "mail",
    "account_enabled",
    "user_type",
    "hidden_from_address_lists",
    "proxy_addresses",
}


def _updated(user: User, fields: dict[str, object], named: Mapping[str, object]) -> User:
    """Apply field and attribute changes to a user through ``make_user``'s validation.

    ``named`` keys must be segmentable attributes (any spelling); ``""`` clears one.
    """
    attributes = dict(user.attributes)
    for key, value in named.items():
        canonical = canonical_attribute(key)
        if canonical is None or canonical not in STORED_ATTRIBUTES:
            raise InvalidInput(f"unknown or non-stored attribute {key!r}")
        attributes[canonical] = "" if value is None else str(value)
    try:
        rebuilt = make_user(
            user.upn,
            id=user.id,
            display_name=str(fields.get("display_name", user.display_name)),
            mail=str(fields.get("mail", user.mail)),
            account_enabled=bool(fields.get("account_enabled", user.account_enabled)),
            user_type=str(fields.get("user_type", user.user_type.value)),
            hidden_from_address_lists=fields.get(  # type: ignore[arg-type]
                "hidden_from_address_lists", user.hidden_from_address_lists
            ),
            kind=user.kind,
            sponsor_id=user.sponsor_id,
            proxy_addresses=fields.get("proxy_addresses", user.proxy_addresses),  # type: ignore[arg-type]
            attrs=attributes,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return rebuilt


def _as_dict(summary: ImportSummary) -> dict[str, int]:
    return {
        "rows": summary.rows,
        "users_created": summary.users_created,
        "users_updated": summary.users_updated,
        "groups_changed": summary.groups_changed,
    }


def _jsonable(changes: dict[str, object]) -> dict[str, object]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in changes.items()}


__all__ = ["DirectoryHandler", "ImportSummary", "NotFound"]


def _values(user: User, changes: Mapping[str, object]) -> dict[str, object]:
    """A user's values of the changed fields and attributes before the change (the
    audit's before/after view, §9)."""
    before: dict[str, object] = {}
    for key in changes:
        if hasattr(user, key) and key != "attributes":
            before[key] = getattr(user, key)
        else:
            canonical = canonical_attribute(key)
            before[key] = user.attribute(canonical) if canonical else ""
    return before


def _find(tx: TenantTx, upn: str) -> User:
    """One user by UPN in one indexed read (never the whole directory: §2's license and
    delete changes stay fast at 100,000 users), or :class:`NotFound` naming it."""
    user = tx.repos.directory.find_user(upn)
    if user is None:
        raise NotFound(f"no user {upn!r}")
    return user
