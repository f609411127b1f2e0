"""The directory model: users (people and vendor service accounts) and groups (semantics §2).

A :class:`Directory` is an in-memory aggregate with the directory's invariants (unique
UPNs and group names, members that exist). It is pure: the store loads and saves it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from infobarrier.core.attributes import STORED_ATTRIBUTES, canonical_attribute
from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.limits import (
    MAX_DISPLAY_NAME,
    MAX_PROXY_ADDRESSES,
    check_attribute_value,
    check_mail,
    check_name,
    check_text,
    check_upn,
    identity_key,
)


class UserKind(StrEnum):
    """A person, or a service account shared by vendor staff (the seed's V1, V2, V3)."""

    PERSON = "person"
    SERVICE_ACCOUNT = "service_account"


class UserType(StrEnum):
    """Entra ID's ``userType``."""

    MEMBER = "Member"
    GUEST = "Guest"


def new_id() -> str:
    """A fresh object id (a UUID, as Entra ID uses)."""
    return str(uuid.uuid4())


def fold(text: str) -> str:
    """The identity key of UPNs and names (semantics §2, §3): NFKC and case folding, so
    that two spellings of one name are one name (``core.limits.identity_key``)."""
    return identity_key(text)


@dataclass(frozen=True, slots=True)
class User:
    """A directory user; ``attributes`` maps canonical attribute names to values.

    ``UserPrincipalName`` and ``Mail`` are first-class fields, ``ProxyAddresses`` is a
    tuple, and ``MemberOf`` is derived from the groups, so none of them is in
    ``attributes``.
    """

    id: str
    upn: str
    display_name: str = ""
    mail: str = ""
    account_enabled: bool = True
    user_type: UserType = UserType.MEMBER
    hidden_from_address_lists: bool | None = None
    kind: UserKind = UserKind.PERSON
    sponsor_id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    proxy_addresses: tuple[str, ...] = ()

    def attribute(self, canonical: str) -> str:
        """A single-valued attribute by canonical name; ``""`` when missing."""
        if canonical == "UserPrincipalName":
            return self.upn
        if canonical == "Mail":
            return self.mail
        return self.attributes.get(canonical, "")

    @property
    def is_hidden(self) -> bool:
        """Hidden from address lists; when not set, true for guests (semantics §6)."""
        if self.hidden_from_address_lists is None:
            return self.user_type is UserType.GUEST
        return self.hidden_from_address_lists

    @property
    def company(self) -> str:
        """The ``Company`` attribute (a service account's vendor company)."""
        return self.attributes.get("Company", "")


def make_user(
    upn: str,
    *,
    id: str | None = None,
    display_name: str | None = None,
    mail: str = "",
    account_enabled: bool = True,
    user_type: UserType | str = UserType.MEMBER,
    hidden_from_address_lists: bool | None = None,
    kind: UserKind | str = UserKind.PERSON,
    sponsor_id: str | None = None,
    proxy_addresses: Iterable[str] = (),
    attrs: Mapping[str, str] | None = None,
    **attributes: str,
) -> User:
    """Build a validated user; attribute names may use any synonym (``department=``)."""
    upn = check_upn(upn)
    clean: dict[str, str] = {}
    for key, value in {**(attrs or {}), **attributes}.items():
        canonical = canonical_attribute(key)
        if canonical is None or canonical not in STORED_ATTRIBUTES:
            raise InvalidInput(f"unknown or non-stored attribute {key!r}")
        if value:
            clean[canonical] = value
    user = User(
        id=id or new_id(),
        upn=upn,
        display_name=display_name if display_name is not None else upn.split("@")[0],
        mail=mail,
        account_enabled=account_enabled,
        user_type=UserType(user_type),
        hidden_from_address_lists=hidden_from_address_lists,
        kind=UserKind(kind),
        sponsor_id=sponsor_id,
        attributes=clean,
        proxy_addresses=tuple(p for p in proxy_addresses if p),
    )
    return check_user(user)


def check_user(user: User) -> User:
    """A user whose every field is within ``core.limits`` (the UPN stripped), or
    :class:`InvalidInput` naming the first field that is not. Every interface builds
    users through :func:`make_user`, which ends here; code that edits a user with
    ``dataclasses.replace`` calls it too."""
    upn = check_upn(user.upn)
    mail = check_mail(user.mail)
    check_text("the display name", user.display_name, MAX_DISPLAY_NAME)
    for name, value in user.attributes.items():
        check_attribute_value(name, value)
    if len(user.proxy_addresses) > MAX_PROXY_ADDRESSES:
        raise InvalidInput(
            f"{len(user.proxy_addresses)} proxy addresses, at most {MAX_PROXY_ADDRESSES}",
            code=ErrorCode.TOO_LONG,
        )
    for address in user.proxy_addresses:
        check_attribute_value("ProxyAddresses", address)
    if upn != user.upn or mail != user.mail:
        return replace(user, upn=upn, mail=mail)
    return user


def make_group(
    display_name: str, *, id: str | None = None, mail: str = "", members: Iterable[str] = ()
) -> Group:
    """A validated group from input: a name within ``core.limits`` (no control or
    invisible characters) and a valid mail, both stripped."""
    return Group(
        id=id or new_id(),
        display_name=check_name("group", display_name, MAX_DISPLAY_NAME),
        mail=check_mail(mail, "group mail"),
        members=frozenset(members),
    )


@dataclass(frozen=True, slots=True)
class Group:
    """A group; ``MemberOf`` matches its display name, mail or id (direct membership)."""

    id: str
    display_name: str
    mail: str = ""
    members: frozenset[str] = frozenset()  # user ids

    def names(self) -> tuple[str, ...]:
        """The values a ``MemberOf`` comparison may match."""
        return tuple(v for v in (self.display_name, self.mail, self.id) if v)


class Directory:
    """Users and groups of one tenant, with the invariants of semantics §2."""

    def __init__(self, users: Iterable[User] = (), groups: Iterable[Group] = ()) -> None:
        self._users: dict[str, User] = {}
        self._by_upn: dict[str, str] = {}
        self._groups: dict[str, Group] = {}
        self._group_by_name: dict[str, str] = {}
        self._groups_of: dict[str, set[str]] = {}
        for user in users:
            self.put_user(user)
        for group in groups:
            self.put_group(group)

    # -- users ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._users)

    def users(self) -> Iterator[User]:
        """Every user, in insertion order."""
        return iter(self._users.values())

    def user(self, id: str) -> User:
        """The user with this id, or :class:`NotFound`."""
        try:
            return self._users[id]
        except KeyError:
            raise NotFound(f"no user with id {id}") from None

    def find_user_by_id(self, id: str) -> User | None:
        """The user with this id, or ``None``."""
        return self._users.get(id)

    def find_upn(self, upn: str) -> User | None:
        """The user with this UPN (case-insensitive), or ``None``."""
        uid = self._by_upn.get(fold(upn.strip()))
        return self._users[uid] if uid is not None else None

    def by_upn(self, upn: str) -> User:
        """The user with this UPN, or :class:`NotFound` naming it."""
        user = self.find_upn(upn)
        if user is None:
            raise NotFound(f"no user {upn!r}")
        return user

    def put_user(self, user: User) -> None:
        """Insert or replace a user (by id); UPNs stay unique, case-insensitively."""
        key = fold(user.upn)
        holder = self._by_upn.get(key)
        if holder is not None and holder != user.id:
            raise InvalidInput(f"UserPrincipalName {user.upn!r} is already used by another user")
        old = self._users.get(user.id)
        if old is not None and fold(old.upn) != key:
            del self._by_upn[fold(old.upn)]
        self._users[user.id] = user
        self._by_upn[key] = user.id
        self._groups_of.setdefault(user.id, set())

    def remove_user(self, id: str) -> None:
        """Delete a user and its group memberships."""
        user = self.user(id)
        del self._users[id]
        del self._by_upn[fold(user.upn)]
        for gid in self._groups_of.pop(id, set()):
            group = self._groups[gid]
            self._groups[gid] = replace(group, members=group.members - {id})

    # -- groups --------------------------------------------------------------
    def groups(self) -> Iterator[Group]:
        """Every group, in insertion order."""
        return iter(self._groups.values())

    def group(self, id: str) -> Group:
        """The group with this id, or :class:`NotFound`."""
        try:
            return self._groups[id]
        except KeyError:
            raise NotFound(f"no group with id {id}") from None

    def find_group(self, name_or_mail: str) -> Group | None:
        """A group by display name, mail or id (case-insensitive)."""
        if name_or_mail in self._groups:
            return self._groups[name_or_mail]
        gid = self._group_by_name.get(fold(name_or_mail.strip()))
        return self._groups[gid] if gid is not None else None

    def put_group(self, group: Group) -> None:
        """Insert or replace a group; display names and mails are unique (semantics §3)."""
        if not group.display_name.strip():
            raise InvalidInput("a group needs a display name")
        for key in {fold(group.display_name), fold(group.mail)} - {""}:
            holder = self._group_by_name.get(key)
            if holder is not None and holder != group.id:
                raise InvalidInput(f"a group named {key!r} already exists")
        for uid in group.members:
            if uid not in self._users:
                raise NotFound(f"group {group.display_name!r}: no user with id {uid}")
        old = self._groups.get(group.id)
        if old is not None:
            for key in {fold(old.display_name), fold(old.mail)} - {""}:
                self._group_by_name.pop(key, None)
            for uid in old.members:
                self._groups_of[uid].discard(group.id)
        self._groups[group.id] = group
        for key in {fold(group.display_name), fold(group.mail)} - {""}:
            self._group_by_name[key] = group.id
        for uid in group.members:
            self._groups_of[uid].add(group.id)

    def remove_group(self, id: str) -> None:
        """Delete a group (its members stay)."""
        group = self.group(id)
        for uid in group.members:
            self._groups_of[uid].discard(id)
        for key in {fold(group.display_name), fold(group.mail)} - {""}:
            self._group_by_name.pop(key, None)
        del self._groups[id]

    def find_group_by_id(self, id: str) -> Group | None:
        """The group with this id, or ``None``."""
        return self._groups.get(id)

    def group_ids_of(self, user_id: str) -> frozenset[str]:
        """The ids of the groups a user is a direct member of."""
        return frozenset(self._groups_of.get(user_id, ()))

    def groups_of(self, user_id: str) -> list[Group]:
        """The groups a user is a direct member of."""
        return [self._groups[g] for g in sorted(self._groups_of.get(user_id, ()))]

    def member_of_values(self, user_id: str) -> list[str]:
        """The ``MemberOf`` values of a user: each group's display name, mail and id."""
        values: list[str] = []
        for group in self.groups_of(user_id):
            values.extend(group.names())
        return values

    def set_user_groups(self, user_id: str, group_ids: Iterable[str]) -> None:
        """Make a user a member of exactly these groups (the CSV ``MemberOf`` column)."""
        wanted = set(group_ids)
        current = set(self._groups_of.get(user_id, ()))
        for gid in current - wanted:
            g = self._groups[gid]
            self.put_group(replace(g, members=g.members - {user_id}))
        for gid in wanted - current:
            g = self.group(gid)
            self.put_group(replace(g, members=g.members | {user_id}))

    def set_groups_of_users(self, wanted: Mapping[str, Iterable[str]]) -> None:
        """:meth:`set_user_groups` for many users at once: each group touched is replaced
        once with all its additions and removals, instead of once per user (a group of
        half a million members would otherwise be copied half a million times)."""
        added: dict[str, set[str]] = {}
        removed: dict[str, set[str]] = {}
        for user_id, group_ids in wanted.items():
            want = set(group_ids)
            current = self._groups_of.get(user_id, set())
            for gid in current - want:
                removed.setdefault(gid, set()).add(user_id)
            for gid in want - current:
                self.group(gid)  # NotFound for an unknown group, as set_user_groups
                added.setdefault(gid, set()).add(user_id)
        for gid in [*added, *(g for g in removed if g not in added)]:
            g = self._groups[gid]
            members = (g.members - removed.get(gid, set())) | added.get(gid, set())
            self.put_group(replace(g, members=frozenset(members)))

    def copy(self) -> Directory:
        """An independent copy (users and groups are immutable, so this is shallow).

        The indexes are copied as they are (they already hold the invariants): putting
        every user and group again took seconds at 100,000 users, on each vendor preview.
        """
        other = Directory()
        other._users = dict(self._users)
        other._by_upn = dict(self._by_upn)
        other._groups = dict(self._groups)
        other._group_by_name = dict(self._group_by_name)
        other._groups_of = {uid: set(gids) for uid, gids in self._groups_of.items()}
        return other
