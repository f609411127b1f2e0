"""SCIM resources to directory users and groups, and back (docs/scim.md, "Mapping").

A SCIM user becomes a directory user (semantics §2):

- ``userName`` → ``UserPrincipalName``: itself when it is an address (``name@domain``),
  else derived by the rule of :mod:`infobarrier.scim.upn`;
- ``displayName`` (else ``name.formatted``, else given and family name) → display name;
- ``active`` (``"False"`` accepted) → ``AccountEnabled``;
- ``userType`` → ``UserType``: ``Guest`` when it says guest, else ``Member``;
- the ``emails`` entry of type ``work`` (else the primary, else the first) → ``Mail``, and
  every e-mail → ``ProxyAddresses`` (``SMTP:`` the mail, ``smtp:`` the others);
- the ``addresses`` entry of type ``work`` (else the first untyped one): ``streetAddress``,
  ``postalCode``, ``country``, ``formatted`` → ``StreetAddress``, ``PostalCode``, ``Co``,
  ``PhysicalDeliveryOfficeName``;
- enterprise ``department``, ``organization`` → ``Department``, ``Company``;
- infobarrier's extension → ``MailNickname``, ``UsageLocation``, ``Description``,
  ``TargetAddress``, ``HiddenFromAddressListsEnabled``, ``ExtensionAttribute1..15``,
  ``MSExchExtensionCustomAttribute1..5``.

Everything else a client sends (``externalId``, ``name``, ``title``, phone numbers,
``employeeNumber``, ``manager``, ...) is kept in the user's SCIM record and given back.

Reading a resource starts from what the client last wrote and lays the directory over
it: a directory value that differs from what that SCIM write meant (it was changed
through the CLI, a CSV import or the HTTP API since) is shown as the directory holds it.
So the directory stays the system of record and a client still reads back what it wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError
from scim2_models import (
    Address,
    Context,
    Email,
    EnterpriseUser,
    Group,
    GroupMember,
    GroupMembership,
    Meta,
    Resource,
    User,
)

from infobarrier.core.directory import Group as DirectoryGroup
from infobarrier.core.directory import User as DirectoryUser
from infobarrier.core.directory import UserKind, UserType, fold, make_user
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import MAX_DISPLAY_NAME, check_name
from infobarrier.scim.schemas import InfobarrierUser, ScimUser
from infobarrier.scim.upn import derive_upn
from infobarrier.service.provisioning import ResourceKind, user_facts
from infobarrier.store.scim_repository import ScimRecord

#: Enterprise extension attribute (Python name) by directory attribute.
ENTERPRISE: dict[str, str] = {"Department": "department", "Company": "organization"}

#: Sub-attribute of the work address (Python name) by directory attribute.
ADDRESS: dict[str, str] = {
    "StreetAddress": "street_address",
    "PostalCode": "postal_code",
    "Co": "country",
    "PhysicalDeliveryOfficeName": "formatted",
}

#: infobarrier extension attribute (Python name) by directory attribute.
EXTENSION: dict[str, str] = {
    "MailNickname": "mail_nickname",
    "UsageLocation": "usage_location",
    "Description": "description",
    "TargetAddress": "target_address",
    **{f"ExtensionAttribute{i}": f"extension_attribute{i}" for i in range(1, 16)},
    **{
        f"MSExchExtensionCustomAttribute{i}": f"ms_exch_extension_custom_attribute{i}"
        for i in range(1, 6)
    },
}

#: The attributes a SCIM record keeps aside are everything but these (the directory's).
_NOT_KEPT = ("id", "meta", "external_id", "groups", "password")


# -- reading what a resource says ------------------------------------------------------
def work_address(resource: User[Any]) -> Address | None:
    """The address that stands for the office: type ``work``, else the first untyped one."""
    addresses = resource.addresses or []
    for address in addresses:
        if address.type is not None and str(address.type).casefold() == "work":
            return address
    for address in addresses:
        if address.type is None:
            return address
    return None


def mail_entry(resource: User[Any]) -> Email | None:
    """The e-mail that is the user's ``Mail``: type ``work``, else the primary, else the first."""
    emails = [e for e in resource.emails or [] if e.value]
    for email in emails:
        if email.type is not None and str(email.type).casefold() == "work":
            return email
    for email in emails:
        if email.primary:
            return email
    return emails[0] if emails else None


def _enterprise(resource: User[Any]) -> EnterpriseUser | None:
    value = resource[EnterpriseUser]
    return value if isinstance(value, EnterpriseUser) else None


def _extension(resource: User[Any]) -> InfobarrierUser | None:
    value = resource[InfobarrierUser]
    return value if isinstance(value, InfobarrierUser) else None


def _display_name(resource: User[Any]) -> str | None:
    if resource.display_name and resource.display_name.strip():
        return resource.display_name.strip()
    name = resource.name
    if name is not None:
        if name.formatted and name.formatted.strip():
            return name.formatted.strip()
        joined = " ".join(p.strip() for p in (name.given_name, name.family_name) if p and p.strip())
        if joined:
            return joined
    return None


def attributes_of(resource: User[Any]) -> dict[str, str]:
    """The directory attributes a SCIM user carries (empty ones left out)."""
    values: dict[str, str] = {}
    enterprise = _enterprise(resource)
    if enterprise is not None:
        for name, field in ENTERPRISE.items():
            values[name] = getattr(enterprise, field) or ""
    address = work_address(resource)
    if address is not None:
        for name, field in ADDRESS.items():
            values[name] = getattr(address, field) or ""
    extension = _extension(resource)
    if extension is not None:
        for name, field in EXTENSION.items():
            values[name] = getattr(extension, field) or ""
    return {name: value.strip() for name, value in values.items() if value and value.strip()}


def proxy_addresses_of(resource: User[Any]) -> list[str]:
    """``ProxyAddresses`` from the e-mails: ``SMTP:`` the ``Mail`` one, ``smtp:`` the others."""
    mail = mail_entry(resource)
    addresses: list[str] = []
    seen: set[str] = set()
    if mail is not None and mail.value and mail.value.strip():
        addresses.append(f"SMTP:{mail.value.strip()}")
        seen.add(fold(mail.value.strip()))
    for email in resource.emails or []:
        value = (email.value or "").strip()
        if value and fold(value) not in seen:
            seen.add(fold(value))
            addresses.append(f"smtp:{value}")
    return addresses


def user_from_scim(
    resource: User[Any], *, id: str, base: DirectoryUser | None = None, upn: str | None = None
) -> DirectoryUser:
    """The directory user a SCIM user stands for (``base``: the user it replaces, if any).

    ``upn``: the user principal name :func:`~infobarrier.scim.upn.derive_upn` gave; by
    default ``userName`` when it is an address, else ``base``'s UPN. A service account
    stays one (kind and sponsor are not SCIM's to change).
    """
    if upn is None:
        upn = derive_upn(
            resource,
            tenant="",
            template=lambda: None,
            current_upn=base.upn if base is not None else None,
            previous_user_name=resource.user_name,
        )
    mail = mail_entry(resource)
    extension = _extension(resource)
    user_type = (resource.user_type or "").strip()
    try:
        return make_user(
            upn,
            id=id,
            display_name=_display_name(resource),
            mail=(mail.value or "").strip() if mail is not None else "",
            account_enabled=resource.active is not False,
            user_type=UserType.GUEST if fold(user_type) == "guest" else UserType.MEMBER,
            hidden_from_address_lists=(
                extension.hidden_from_address_lists_enabled if extension is not None else None
            ),
            kind=base.kind if base is not None else UserKind.PERSON,
            sponsor_id=base.sponsor_id if base is not None else None,
            proxy_addresses=proxy_addresses_of(resource),
            attrs=attributes_of(resource),
        )
    except ValueError as exc:  # an enum value make_user refuses
        raise InvalidInput(str(exc)) from None


class MemberLookup(Protocol):
    """Tells which ids are users and which are groups of the tenant, in one query each
    (a :class:`~infobarrier.service.provisioning.ProvisioningSession`)."""

    def users_among(self, ids: Collection[str]) -> set[str]:
        """Which of these ids are users."""
        ...

    def groups_among(self, ids: Collection[str]) -> set[str]:
        """Which of these ids are groups."""
        ...


def group_from_scim(
    resource: Group, *, id: str, members: MemberLookup, base: DirectoryGroup | None = None
) -> DirectoryGroup:
    """The directory group a SCIM group stands for: its name and exactly its members.

    Members are users, by their id (the SCIM id of a user); nested groups are refused.
    The members are looked up all at once; the first member at fault names the error.
    """
    name = (resource.display_name or "").strip()
    if not name:
        raise InvalidInput("a group needs a displayName")
    name = check_name("group", name, MAX_DISPLAY_NAME)
    entries = [((m.value or "").strip(), fold(m.type or "user")) for m in resource.members or []]
    values = {value for value, _kind in entries if value}
    users = members.users_among(values) if values else set()
    groups = members.groups_among(values) if values else set()
    found: set[str] = set()
    for value, kind in entries:
        if not value:
            raise InvalidInput("every member needs a value: the id of a user")
        if kind == "group" or value in groups:
            raise InvalidInput(f"member {value!r} is a group: nested groups are not supported")
        if value not in users:
            raise InvalidInput(f"member {value!r} is not a user of this tenant")
        found.add(value)
    return DirectoryGroup(id, name, base.mail if base is not None else "", frozenset(found))


def kept(resource: Resource[Any]) -> dict[str, Any]:
    """What a SCIM record keeps of a resource: all but id, meta, externalId, groups, password."""
    copy = resource.model_copy(deep=True)
    for name in _NOT_KEPT:
        if name in type(copy).model_fields:
            setattr(copy, name, None)
    if isinstance(copy, User):
        _tidy_extensions(copy)
    else:
        copy.schemas = [str(type(copy).__schema__)]  # not a client's own schema URNs
    dumped: dict[str, Any] = copy.model_dump(scim_ctx=Context.DEFAULT)
    return dumped


# -- writing the directory over a resource ------------------------------------------------
def _set_enterprise(resource: User[Any], field: str, value: str) -> None:
    enterprise = _enterprise(resource)
    if enterprise is None:
        if not value:
            return
        enterprise = EnterpriseUser()
    setattr(enterprise, field, value or None)
    resource[EnterpriseUser] = enterprise


def _set_extension(resource: User[Any], field: str, value: Any) -> None:
    extension = _extension(resource)
    if extension is None:
        if value in (None, "", []):
            return
        extension = InfobarrierUser()
    setattr(extension, field, value if value not in ("", []) else None)
    resource[InfobarrierUser] = extension


def _set_address(resource: User[Any], field: str, value: str) -> None:
    address = work_address(resource)
    if address is None:
        if not value:
            return
        address = Address(type=Address.Type.work)
        resource.addresses = [*(resource.addresses or []), address]
    setattr(address, field, value or None)
    if not address.model_dump(exclude={"type", "primary"}, exclude_none=True):
        resource.addresses = [a for a in resource.addresses or [] if a is not address] or None


def _email(value: str, kind: Email.Type, primary: bool | None = None) -> Email | None:
    """An e-mail entry, or ``None`` for a value SCIM would not accept as an address."""
    try:
        return Email(value=value, type=kind, primary=primary)
    except ValidationError:
        return None


def _set_mail(resource: User[Any], value: str) -> None:
    entry = mail_entry(resource)
    emails = list(resource.emails or [])
    if not value:
        resource.emails = [e for e in emails if e is not entry] or None
        return
    if entry is not None and entry.value == value:
        return
    if entry is None:
        added = _email(value, Email.Type.work, not any(e.primary for e in emails))
        if added is not None:
            resource.emails = [*emails, added]
        return
    replacement = _email(value, entry.type or Email.Type.work, entry.primary)
    if replacement is not None:
        replacement.display = entry.display
        resource.emails = [replacement if e is entry else e for e in emails]


def _set_proxy_addresses(resource: User[Any], proxies: list[str]) -> None:
    """Show ``ProxyAddresses`` as e-mails: one per ``smtp:`` address (others have no place)."""
    mail = mail_entry(resource)
    mail_key = fold(mail.value.strip()) if mail is not None and mail.value else None
    wanted: dict[str, str] = {}
    for proxy in proxies:
        prefix, colon, address = proxy.partition(":")
        address = address.strip()
        if colon and fold(prefix) == "smtp" and address and fold(address) != mail_key:
            wanted.setdefault(fold(address), address)
    kept_entries = [mail] if mail is not None else []
    for email in resource.emails or []:
        key = fold((email.value or "").strip())
        if email is not mail and key in wanted:
            kept_entries.append(email)
            del wanted[key]
    for address in wanted.values():
        entry = _email(address, Email.Type.other)
        if entry is not None:
            kept_entries.append(entry)
    resource.emails = kept_entries or None


def overlay(resource: User[Any], name: str, value: Any) -> None:
    """Write one directory value (its §2 name as :func:`user_facts` gives it) into a resource."""
    if name == "UserPrincipalName":
        resource.user_name = value
    elif name == "DisplayName":
        resource.display_name = value or None
    elif name == "Mail":
        _set_mail(resource, value)
    elif name == "AccountEnabled":
        resource.active = bool(value)
    elif name == "UserType":
        resource.user_type = value
    elif name == "HiddenFromAddressListsEnabled":
        _set_extension(resource, "hidden_from_address_lists_enabled", value)
    elif name == "ProxyAddresses":
        _set_proxy_addresses(resource, list(value))
    elif name in ENTERPRISE:
        _set_enterprise(resource, ENTERPRISE[name], value)
    elif name in ADDRESS:
        _set_address(resource, ADDRESS[name], value)
    elif name in EXTENSION:
        _set_extension(resource, EXTENSION[name], value)


def _tidy_extensions(resource: User[Any]) -> None:
    """Drop an extension left with no value, so that ``schemas`` lists only those present."""
    for extension_type in (EnterpriseUser, InfobarrierUser):
        value = resource[extension_type]
        if value is not None and not value.model_dump(exclude={"schemas"}, exclude_none=True):
            del resource[extension_type]
    schemas = [str(User.__schema__)]
    for extension_type in (EnterpriseUser, InfobarrierUser):
        if resource[extension_type] is not None:
            schemas.append(str(extension_type.__schema__))
    resource.schemas = schemas


def _version(resource: Resource[Any]) -> str:
    """A weak ETag: a digest of the resource's representation (it moves with any change)."""
    dumped = resource.model_dump(scim_ctx=Context.DEFAULT)
    dumped.pop("meta", None)
    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:24]}"'


def _meta(resource: Resource[Any], kind: ResourceKind, record: ScimRecord | None) -> Meta:
    return Meta(
        resource_type=kind.value,
        created=record.created if record is not None else None,
        last_modified=record.modified if record is not None else None,
        version=_version(resource),
    )


def render_user(
    user: DirectoryUser, record: ScimRecord | None, groups: Sequence[DirectoryGroup]
) -> User[Any]:
    """The SCIM user of a directory user: what SCIM last wrote, with the directory laid over it.

    ``groups``: the groups the user is a direct member of, in the order to show them
    (``Directory.groups_of``'s: by id); their members are not read.
    """
    resource: User[Any] = ScimUser(user_name=user.upn)
    written: dict[str, Any] = {}
    if record is not None:
        try:
            resource = ScimUser.model_validate(dict(record.data))
            written = user_facts(user_from_scim(resource, id=user.id, base=user))
        except (ValidationError, InvalidInput):  # kept by another version: the directory's
            resource = ScimUser(user_name=user.upn)
            written = {}
    for name, value in user_facts(user).items():
        if name not in written or written[name] != value:
            overlay(resource, name, value)
    resource.id = user.id
    resource.external_id = record.external_id if record is not None else None
    resource.password = None
    resource.groups = [
        GroupMembership(
            value=g.id, ref=_ref(f"Groups/{g.id}"), display=g.display_name, type="direct"
        )
        for g in groups
    ] or None
    _tidy_extensions(resource)
    resource.meta = _meta(resource, ResourceKind.USER, record)
    return resource


def render_group(
    group: DirectoryGroup,
    record: ScimRecord | None,
    users: Callable[[Collection[str]], Mapping[str, DirectoryUser]],
) -> Group:
    """The SCIM group of a directory group: what SCIM last wrote, with the directory laid over it.

    Members are the directory's; those SCIM wrote keep the entry as written (``display``,
    ``$ref``), the others get one built from the directory: ``users(ids)`` reads those
    members' users (only theirs, not the directory).
    """
    resource = Group()
    written_name: str | None = None
    if record is not None:
        try:
            resource = Group.model_validate(dict(record.data))
            written_name = (resource.display_name or "").strip()
        except ValidationError:  # kept by another version: the directory's
            resource = Group()
    if written_name != group.display_name:
        resource.display_name = group.display_name
    members: list[GroupMember] = []
    seen: set[str] = set()
    for member in resource.members or []:
        value = (member.value or "").strip()
        if value in group.members and value not in seen:
            seen.add(value)
            members.append(member)
    others = group.members - seen
    found = users(others) if others else {}
    rest = [found[uid] for uid in others]
    for user in sorted(rest, key=lambda u: fold(u.upn)):
        members.append(
            GroupMember(
                value=user.id, ref=_ref(f"Users/{user.id}"), type="User", display=user.display_name
            )
        )
    resource.members = members or None
    resource.id = group.id
    resource.external_id = record.external_id if record is not None else None
    resource.schemas = [str(Group.__schema__)]
    resource.meta = _meta(resource, ResourceKind.GROUP, record)
    return resource


def _ref(relative: str) -> Any:
    """A reference relative to the SCIM root (``Users/<id>``); the service makes it a URL."""
    return relative
