"""What the admin page lists, one page at a time: users and service accounts by search,
groups and their members, bulk license changes, the audit log with its actors' names.

At 100,000 users a view must never receive every user: each read here is one count and
one page, in SQL (``store/directory_repository.py``), never the whole directory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from infobarrier.core.audit import AuditEntry
from infobarrier.core.directory import Group, User
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.licenses import LicenseBook
from infobarrier.service.context import Context

#: The largest page a list answers.
MAX_PAGE = 500
#: The most users one bulk license change names.
MAX_BULK = 10_000


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of users: how many match, and the page with groups and sponsor's UPN."""

    total: int
    users: list[tuple[User, list[Group], str | None]]


@dataclass(frozen=True, slots=True)
class GroupPage:
    """One page of groups (without their members) and their member counts."""

    total: int
    groups: list[tuple[Group, int]]


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk license change did: the users named, and how many changed."""

    named: int
    changed: int
    book: LicenseBook


def _window(offset: int, limit: int) -> tuple[int, int]:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"offset must be >= 0 and limit 1-{MAX_PAGE}")
    return offset, limit


class ListingHandler:
    """Paged reads for the admin page, and bulk license changes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- directory -------------------------------------------------------------------
    def users(
        self,
        tenant: str,
        query: str = "",
        kind: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> UserPage:
        """Users whose UPN, name or mail contains ``query``, of ``kind`` (``person`` or
        ``service_account``) if given, by UPN: one page."""
        offset, limit = _window(offset, limit)
        if kind not in (None, "", "person", "service_account"):
            raise InvalidInput(f"unknown kind {kind!r}: expected person or service_account")
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            repo = tx.repos.directory
            total, ids = repo.search_page(query, kind or None, offset, limit)
            loaded = repo.load_users(ids)
            sponsors = repo.users_by_id({u.sponsor_id for u, _ in loaded if u.sponsor_id})
        return UserPage(
            total,
            [
                (u, g, sponsors[u.sponsor_id].upn if u.sponsor_id in sponsors else None)
                for u, g in loaded
            ],
        )

    def groups(self, tenant: str, query: str = "", offset: int = 0, limit: int = 50) -> GroupPage:
        """Groups whose name or mail contains ``query``, by name: one page with counts."""
        offset, limit = _window(offset, limit)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            total, groups = tx.repos.directory.search_groups(query, offset, limit)
        return GroupPage(total, groups)

    def members(
        self, tenant: str, group: str, offset: int = 0, limit: int = 50
    ) -> tuple[Group, int, list[User]]:
        """A group (without members), how many members it has, and one page of them."""
        offset, limit = _window(offset, limit)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            repo = tx.repos.directory
            gid = repo.find_group_id(group)
            found = repo.load_group(gid) if gid else None
            if found is None:
                raise NotFound(f"no group {group!r}")
            total, users = repo.member_page(found.id, offset, limit)
        return Group(found.id, found.display_name, found.mail, frozenset()), total, users

    # -- licenses --------------------------------------------------------------------
    def change_licenses(
        self,
        tenant: str,
        part_number: str,
        actor: str,
        *,
        upns: Sequence[str] = (),
        group: str | None = None,
        remove: bool = False,
    ) -> BulkResult:
        """Assign (or remove) one SKU for many users at once, named by UPN and/or as the
        members of a group: all or nothing (§2; out of seats refuses the whole change)."""
        if len(upns) > MAX_BULK:
            raise InvalidInput(f"at most {MAX_BULK} users at once")
        if not upns and not group:
            raise InvalidInput("name users (UPNs) or a group")
        with self.ctx.tenant_tx(tenant, actor) as tx:
            repo = tx.repos.directory
            users: list[User] = []
            for upn in upns:
                user = repo.find_user(upn)
                if user is None:
                    raise NotFound(f"no user {upn!r}")
                users.append(user)
            if group:
                gid = repo.find_group_id(group)
                found = repo.load_group(gid) if gid else None
                if found is None:
                    raise NotFound(f"no group {group!r}")
                users.extend(repo.users_by_id(found.members).values())
            users = list({u.id: u for u in users}.values())
            book = tx.repos.licenses.load()
            sku = book.sku(part_number)
            if remove:
                book, changed = book.unassign_many(users, sku.part_number)
            else:
                book, changed = book.assign_many(users, sku.part_number)
            tx.repos.licenses.save(book)
            tx.audit(
                "licenses.unassigned_many" if remove else "licenses.assigned_many",
                sku=sku.part_number,
                group=group,
                users=len(users),
                changed=changed,
                upns=[u.upn for u in users[:100]],
            )
            return BulkResult(len(users), changed, book)

    # -- audit -----------------------------------------------------------------------
    def actor_names(self, tenant: str) -> dict[str, str]:
        """The audit actor ``token:<id>`` of each token of the tenant, mapped to the person
        it was issued to (else its label): the audit names people, not token ids (§9)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            tokens = tx.repos.tokens.all()
        return {f"token:{t.id}": t.person or t.label for t in tokens if t.person or t.label}

    def audit(
        self,
        tenant: str,
        *,
        kinds: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        """Entries filtered by kind, time and actor (a token id or its person's name)."""
        actors = None
        if actor:
            names = self.actor_names(tenant)
            wanted = actor.strip().casefold()
            actors = {actor.strip()} | {a for a, n in names.items() if n.casefold() == wanted}
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            entries = tx.repos.audit.entries(since=since, until=until, kinds=kinds)
        if actors is not None:
            entries = [e for e in entries if e.actor in actors]
        return entries[::-1] if newest_first else entries

    def audit_kinds(self, tenant: str) -> list[str]:
        """Every kind the tenant's log holds, sorted (the viewer's picker)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.audit.kinds()


def chunked(entries: Sequence[AuditEntry], size: int = 500) -> Iterator[Sequence[AuditEntry]]:
    """Entries in slices (an export streams them a slice at a time)."""
    for start in range(0, len(entries), size):
        yield entries[start : start + size]
