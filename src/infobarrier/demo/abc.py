"""Company ABC from the seed document: vendors V1-V3 reach only their support engineers.

Each vendor's staff share two Remote Assist service accounts (company ``Vendor1``...,
sponsored by an ABC support engineer) in group ``Vn_RemoteAssistUser``; two support
engineers per vendor are in ``Vn_SupportEngineer``; the other staff in ``ABC_Staff``.
One segment per group by ``MemberOf`` (the same attribute for all, as Microsoft advises),
allow-list policies both ways, licenses bought and assigned, applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from infobarrier.core.barriers import BarrierConfig, Mode, PolicyState
from infobarrier.core.directory import Directory, Group, User, UserKind, make_user, new_id
from infobarrier.core.licenses import LicenseBook
from infobarrier.service.wiring import Services

TENANT = "abc"
DOMAIN = "abc.example"
VENDORS = ("V1", "V2", "V3")
STAFF = ("alex", "blair", "casey", "drew")


@dataclass(frozen=True, slots=True)
class DemoChecks:
    """A few questions the demo prints, with what they show."""

    action: str
    sender: str
    to: tuple[str, ...]
    note: str


def upn(local: str) -> str:
    """A demo UPN."""
    return f"{local}@{DOMAIN}"


def build_directory() -> Directory:
    """Users and groups of Company ABC."""
    directory = Directory()
    groups: dict[str, set[str]] = {"ABC_Staff": set()}
    for name in STAFF:
        user = make_user(
            upn(name),
            display_name=name.title(),
            Department="Operations",
            Company="Company ABC",
            UsageLocation="US",
        )
        directory.put_user(user)
        groups["ABC_Staff"].add(user.id)
    for n, vendor in enumerate(VENDORS, start=1):
        engineers: list[User] = []
        for k in ("a", "b"):
            engineer = make_user(
                upn(f"se{n}{k}"),
                display_name=f"Support Engineer {n}{k.upper()}",
                Department="Support",
                Company="Company ABC",
                UsageLocation="US",
            )
            directory.put_user(engineer)
            engineers.append(engineer)
        groups[f"{vendor}_SupportEngineer"] = {e.id for e in engineers}
        accounts: set[str] = set()
        for number in (1, 2):
            account = make_user(
                upn(f"v{n}-ra{number}"),
                display_name=f"Vendor{n} Remote Assist {number}",
                kind=UserKind.SERVICE_ACCOUNT,
                sponsor_id=engineers[0].id,
                Company=f"Vendor{n}",
                Department="Field Service",
                UsageLocation="US",
            )
            directory.put_user(account)
            accounts.add(account.id)
        groups[f"{vendor}_RemoteAssistUser"] = accounts
    for name, members in groups.items():
        directory.put_group(Group(new_id(), name, f"{name.lower()}@{DOMAIN}", frozenset(members)))
    return directory


def build_config() -> BarrierConfig:
    """One segment per group, allow lists both ways, all Active."""
    config = BarrierConfig(mode=Mode.SINGLE_SEGMENT)
    names = ["ABC_Staff"]
    for vendor in VENDORS:
        names += [f"{vendor}_RemoteAssistUser", f"{vendor}_SupportEngineer"]
    for name in names:
        config = config.new_segment(name, f"MemberOf -eq '{name}'")
    engineers = [f"{v}_SupportEngineer" for v in VENDORS]
    for vendor in VENDORS:
        ra, se = f"{vendor}_RemoteAssistUser", f"{vendor}_SupportEngineer"
        config = config.new_policy(
            f"{ra}-allow",
            ra,
            allowed=[ra, se],
            state=PolicyState.ACTIVE,
            comment=f"{vendor}'s Remote Assist accounts reach only {vendor}'s engineers",
        )
        config = config.new_policy(
            f"{se}-allow",
            se,
            allowed=[se, ra, "ABC_Staff", *[e for e in engineers if e != se]],
            state=PolicyState.ACTIVE,
            comment=f"{vendor}'s engineers reach {vendor}'s vendor accounts and ABC staff",
        )
    config = config.new_policy(
        "ABC_Staff-allow",
        "ABC_Staff",
        allowed=["ABC_Staff", *engineers],
        state=PolicyState.ACTIVE,
        comment="staff reach staff and support engineers, no vendor",
    )
    return config


def build_licenses(directory: Directory) -> LicenseBook:
    """Remote Assist for the service accounts, Microsoft 365 E5 for everyone."""
    users = list(directory.users())
    accounts = [u for u in users if u.kind is UserKind.SERVICE_ACCOUNT]
    book = LicenseBook.new().set_seats("MICROSOFT_REMOTE_ASSIST", len(accounts))
    book = book.set_seats("SPE_E5", len(users))
    for user in users:
        book = book.assign(user, "SPE_E5")
    for account in accounts:
        book = book.assign(account, "MICROSOFT_REMOTE_ASSIST")
    return book


CHECKS = (
    DemoChecks("call", upn("v1-ra1"), (upn("se1a"),), "V1's account calls V1's engineer"),
    DemoChecks("share-screen", upn("v1-ra1"), (upn("se1a"),), "and shares its screen"),
    DemoChecks("search", upn("v1-ra1"), (upn("se2a"),), "V1 cannot find V2's engineer"),
    DemoChecks("call", upn("v1-ra1"), (upn("se2a"),), "nor call V2's engineer"),
    DemoChecks(
        "group-chat",
        upn("v1-ra1"),
        (upn("se1a"), upn("v3-ra1")),
        "no group chat with V3's account",
    ),
    DemoChecks("chat", upn("v2-ra1"), (upn("alex"),), "vendors do not reach other ABC staff"),
    DemoChecks("chat", upn("se2a"), (upn("alex"),), "engineers and staff reach each other"),
)


def load(services: Services, actor: str) -> None:
    """Create (or reset) tenant ``abc`` with the demo data, and apply."""
    store = services.store
    with store.transaction() as transaction:
        existing = transaction.tenants.find(TENANT)
        if existing is not None:
            transaction.tenants.delete_data(existing)
    if existing is not None:
        store.audit_anchor.forget(existing.id)
    services.tenants.create(TENANT, Mode.SINGLE_SEGMENT, actor)
    directory = build_directory()
    with services.directory.ctx.tenant_tx(TENANT, actor) as tx:
        tx.repos.directory.save_users(directory.users())
        tx.repos.directory.save_groups(directory.groups())
        tx.repos.licenses.save(build_licenses(directory))
        tx.repos.barriers.save(build_config())
        tx.audit("demo.loaded", users=len(directory))
    services.applications.apply(TENANT, actor)
