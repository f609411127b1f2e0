"""A vendor's onboarding and offboarding as one proposal (semantics §12).

The seed's scenario as one task: a vendor's service accounts may reach only the support
engineers assigned to it. Onboarding proposes two groups and two segments (the vendor's
accounts, its engineers; each by ``MemberOf``, as Microsoft advises), an allow list on
each (made mutual: the engineers' segment is added to every allow list of the segments it
names), the service accounts to create and the licenses (and seats) they lack.
Offboarding proposes the reverse, and disables the vendor's accounts: with its segment
gone an account would be unsegmented, and an unsegmented user reaches everyone open
to it (§6 rule 6).

Everything here is pure: :func:`propose_onboarding` and :func:`propose_offboarding` read
the definitions, the directory and the licenses; :func:`carry_out` returns them as the
proposal leaves them. The service previews that (what-if) or saves it and applies, in
one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, PolicyState
from infobarrier.core.directory import (
    Directory,
    Group,
    User,
    UserKind,
    fold,
    make_group,
    make_user,
)
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.filters.ast import quote
from infobarrier.core.licenses import (
    EXCHANGE,
    INFORMATION_BARRIERS,
    TEAMS,
    LicenseBook,
)
from infobarrier.core.limits import MAX_NAME, check_name

#: The SKU proposed to a user who lacks Teams, Exchange or the barrier plan (the seed's).
SUITE = "SPE_E5"
#: The SKU a vendor's service account needs to start Remote Assist calls (§2, §7).
REMOTE_ASSIST_SKU = "MICROSOFT_REMOTE_ASSIST"
#: The suffixes of a vendor's two groups and segments (the seed's names).
ACCOUNTS_SUFFIX, ENGINEERS_SUFFIX = "_RemoteAssistUser", "_SupportEngineer"
#: The longest vendor name whose derived names fit a segment name.
MAX_VENDOR = MAX_NAME - len(ENGINEERS_SUFFIX) - len("-allow")


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """A service account of the vendor: existing (by UPN) or to create."""

    upn: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field of the request: ``vendor``, ``accounts.N``, ``engineers.N``."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """A policy to create, or an allow/block list to change (``before`` set)."""

    name: str
    segment: str
    kind: ListKind
    segments: tuple[str, ...]
    before: tuple[str, ...] | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    """What onboarding (``kind="onboard"``) or offboarding a vendor would change."""

    kind: str
    vendor: str
    accounts_to_create: tuple[AccountRequest, ...] = ()
    sponsor: str = ""
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups_removed: tuple[str, ...] = ()
    segments: Mapping[str, str] = field(default_factory=dict)
    segments_removed: tuple[str, ...] = ()
    policies: tuple[PolicyPlan, ...] = ()
    policies_changed: tuple[PolicyPlan, ...] = ()
    policies_removed: tuple[str, ...] = ()
    seats: Mapping[str, int] = field(default_factory=dict)
    assign: tuple[tuple[str, str], ...] = ()
    unassign: tuple[tuple[str, str], ...] = ()
    disable: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[FieldError, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether it can be previewed and applied."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the HTTP API's ``VendorProposalOut``)."""

        def plan(p: PolicyPlan) -> dict[str, Any]:
            return {
                "name": p.name,
                "assigned_segment": p.segment,
                "kind": p.kind.value,
                "segments": list(p.segments),
                "before": None if p.before is None else list(p.before),
                "comment": p.comment,
            }

        return {
            "kind": self.kind,
            "vendor": self.vendor,
            "accounts_to_create": [
                {"upn": a.upn, "display_name": a.display_name} for a in self.accounts_to_create
            ],
            "sponsor": self.sponsor,
            "groups": [{"name": k, "members": list(v)} for k, v in self.groups.items()],
            "groups_removed": list(self.groups_removed),
            "segments": [{"name": k, "filter": v} for k, v in self.segments.items()],
            "segments_removed": list(self.segments_removed),
            "policies": [plan(p) for p in self.policies],
            "policies_changed": [plan(p) for p in self.policies_changed],
            "policies_removed": list(self.policies_removed),
            "seats": [{"sku": k, "seats": v} for k, v in self.seats.items()],
            "assign": [{"upn": u, "sku": s} for u, s in self.assign],
            "unassign": [{"upn": u, "sku": s} for u, s in self.unassign],
            "disable": list(self.disable),
            "warnings": list(self.warnings),
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


def names_of(vendor: str) -> tuple[str, str]:
    """The vendor's accounts' and engineers' group (and segment) names."""
    v = vendor.strip()
    return f"{v}{ACCOUNTS_SUFFIX}", f"{v}{ENGINEERS_SUFFIX}"


def _vendor_error(vendor: str) -> str | None:
    """The vendor name as segment names are validated (§3), or why not."""
    v = vendor.strip()
    if not v:
        return "name the vendor"
    if len(v) > MAX_VENDOR:
        return f"a vendor name must be 1-{MAX_VENDOR} characters (its segments add a suffix)"
    try:
        check_name("vendor", v, MAX_VENDOR)
    except InfobarrierError as exc:
        return exc.message
    return None


def member_filter(group: str) -> str:
    """The ``UserGroupFilter`` of a group's segment."""
    return f"MemberOf -eq {quote(group)}"


#: The plans every member of a vendor's segments needs: Teams (§7) and those without
#: which a segmented user is a licensing finding (§2).
NEEDED = frozenset({TEAMS, EXCHANGE, INFORMATION_BARRIERS})


def _licenses(
    book: LicenseBook, users: Sequence[tuple[str, User | None, bool]]
) -> tuple[tuple[tuple[str, str], ...], dict[str, int]]:
    """The assignments ``(upn, sku)`` missing for ``(upn, user, is_account)`` (Remote Assist
    for an account; the suite for whoever still lacks a needed plan), and the seats each
    SKU must reach so that every assignment finds a seat."""
    assign: list[tuple[str, str]] = []
    for upn, user, is_account in users:
        held = book.assignments.get(user.id, frozenset()) if user is not None else frozenset()
        plans = set(book.plans_of(user.id)) if user is not None else set()
        if is_account and REMOTE_ASSIST_SKU not in held:
            assign.append((upn, REMOTE_ASSIST_SKU))
            plans.update(book.sku(REMOTE_ASSIST_SKU).service_plans)
        if not plans >= NEEDED and SUITE not in held:
            assign.append((upn, SUITE))
    seats: dict[str, int] = {}
    for sku in dict.fromkeys(s for _, s in assign):
        count = sum(1 for _, s in assign if s == sku)
        current = book.sku(sku)
        free = current.seats - book.assigned(current.part_number)
        if count > free:
            seats[current.part_number] = current.seats + count - free
    return tuple(assign), seats


def propose_onboarding(
    config: BarrierConfig,
    directory: Directory,
    book: LicenseBook,
    vendor: str,
    accounts: Sequence[AccountRequest],
    engineers: Sequence[str],
    *,
    account_segments: frozenset[str] = frozenset(),
    segments_of: Mapping[str, Sequence[str]] | None = None,
) -> Proposal:
    """The groups, segments, mutual allow lists, accounts and licenses for a new vendor.

    ``account_segments`` are the existing segments of other vendors' accounts (their
    members are all service accounts): the vendor's engineers are not given those. Every
    other segment is "internal": the engineers' allow list names it, and if its own policy
    is an allow list, the engineers' segment is added to it (a one-sided list keeps both
    sides apart, §4, §6). ``segments_of`` gives the segments a user is in now (by UPN).
    """
    errors: list[FieldError] = []
    warnings: list[str] = []
    vendor = vendor.strip()
    problem = _vendor_error(vendor)
    if problem:
        errors.append(FieldError("vendor", problem))
    ra, se = names_of(vendor)
    if not problem:
        for name in (ra, se):
            if config.find_segment(name) is not None:
                errors.append(FieldError("vendor", f"a segment named {name!r} already exists"))
            elif directory.find_group(name) is not None:
                errors.append(FieldError("vendor", f"a group named {name!r} already exists"))
    if not accounts:
        errors.append(FieldError("accounts", "name at least one service account"))
    if not engineers:
        errors.append(FieldError("engineers", "name at least one engineer the vendor may reach"))
    found: dict[str, User | None] = {}
    seen: set[str] = set()
    to_create: list[AccountRequest] = []
    for n, account in enumerate(accounts):
        where = f"accounts.{n}"
        key = fold(account.upn.strip())
        if key in seen:
            errors.append(FieldError(where, f"{account.upn.strip()!r} is named twice"))
            continue
        seen.add(key)
        user = directory.find_upn(account.upn.strip())
        if user is None:
            try:
                made = make_user(account.upn, display_name=account.display_name or None)
            except InfobarrierError as exc:
                errors.append(FieldError(where, exc.message))
                continue
            to_create.append(AccountRequest(made.upn, made.display_name))
            found[made.upn] = None
        elif user.kind is not UserKind.SERVICE_ACCOUNT:
            errors.append(FieldError(where, f"{user.upn} is a person, not a service account"))
        else:
            if fold(user.company) != fold(vendor):
                warnings.append(f"{user.upn}'s vendor company is {user.company!r}, not {vendor!r}")
            found[user.upn] = user
    people: dict[str, User] = {}
    for n, upn in enumerate(engineers):
        where = f"engineers.{n}"
        key = fold(upn.strip())
        if key in seen:
            errors.append(FieldError(where, f"{upn.strip()!r} is named twice"))
            continue
        seen.add(key)
        user = directory.find_upn(upn.strip())
        if user is None:
            errors.append(FieldError(where, f"no user {upn.strip()!r}"))
        elif user.kind is UserKind.SERVICE_ACCOUNT:
            errors.append(FieldError(where, f"{user.upn} is a service account, not an engineer"))
        else:
            if not user.account_enabled:
                warnings.append(f"{user.upn} is disabled: nobody can reach them (§6)")
            now = list((segments_of or {}).get(user.upn, ()))
            if now and config.mode is not Mode.MULTI_SEGMENT:
                warnings.append(
                    f"{user.upn} is in segment {', '.join(now)} now: in {config.mode.value} "
                    f"mode, also being in {se} puts them in IBPolicyConflict; take them out "
                    f"of {', '.join(now)} first (the person's page shows which filter or "
                    "group puts them there)"
                )
            people[user.upn] = user
    if errors:
        return Proposal("onboard", vendor, errors=tuple(errors), warnings=tuple(warnings))

    sponsor = next(iter(people))
    internal = [s.name for s in config.segments if s.name not in account_segments]
    policies = (
        PolicyPlan(
            f"{ra}-allow",
            ra,
            ListKind.ALLOW,
            (ra, se),
            comment=f"{vendor}'s service accounts reach only {vendor}'s engineers",
        ),
        PolicyPlan(
            f"{se}-allow",
            se,
            ListKind.ALLOW,
            (se, ra, *internal),
            comment=f"{vendor}'s engineers reach {vendor}'s service accounts and the staff",
        ),
    )
    changed = []
    for name in internal:
        policy = config.policy_of(name)
        if policy is not None and policy.kind is ListKind.ALLOW:
            changed.append(
                PolicyPlan(
                    policy.name,
                    policy.segment,
                    ListKind.ALLOW,
                    (*policy.segments, se),
                    before=policy.segments,
                )
            )
    assign, seats = _licenses(
        book,
        [(u, a, True) for u, a in found.items()] + [(u, p, False) for u, p in people.items()],
    )
    return Proposal(
        "onboard",
        vendor,
        accounts_to_create=tuple(to_create),
        sponsor=sponsor,
        groups={ra: tuple(found), se: tuple(people)},
        segments={ra: member_filter(ra), se: member_filter(se)},
        policies=policies,
        policies_changed=tuple(changed),
        seats=seats,
        assign=assign,
        warnings=tuple(warnings),
    )


def propose_offboarding(
    config: BarrierConfig, directory: Directory, book: LicenseBook, vendor: str
) -> Proposal:
    """Remove a vendor's policies, segments and groups, take its name out of every other
    list, and disable its service accounts and take their licenses back.

    The vendor's accounts are the members of its accounts' group and the service accounts
    whose vendor company is the vendor. A list left empty removes its policy (an empty
    list is not valid, §4), with a warning.
    """
    vendor = vendor.strip()
    problem = _vendor_error(vendor)
    if problem:
        return Proposal("offboard", vendor, errors=(FieldError("vendor", problem),))
    ra, se = names_of(vendor)
    mine = [s.name for s in config.segments if fold(s.name) in {fold(ra), fold(se)}]
    groups = [g for g in (directory.find_group(ra), directory.find_group(se)) if g is not None]
    if not mine and not groups:
        return Proposal(
            "offboard",
            vendor,
            errors=(FieldError("vendor", f"no segment or group {ra!r} or {se!r}: not onboarded"),),
        )
    folded = {fold(n) for n in mine}
    removed = [p.name for p in config.policies if fold(p.segment) in folded]
    changed: list[PolicyPlan] = []
    warnings: list[str] = []
    for p in config.policies:
        if p.name in removed or not folded & {fold(s) for s in p.segments}:
            continue
        kept = tuple(s for s in p.segments if fold(s) not in folded)
        if kept:
            changed.append(PolicyPlan(p.name, p.segment, p.kind, kept, before=p.segments))
        else:
            removed.append(p.name)
            warnings.append(f"policy {p.name!r} listed only {vendor}'s segments: it is removed")
    accounts: dict[str, User] = {}
    account_group = directory.find_group(ra)
    if account_group is not None:
        for uid in sorted(account_group.members):
            user = directory.user(uid)
            if user.kind is UserKind.SERVICE_ACCOUNT:
                accounts[user.upn] = user
    for user in directory.users():
        if user.kind is UserKind.SERVICE_ACCOUNT and fold(user.company) == fold(vendor):
            accounts.setdefault(user.upn, user)
    return Proposal(
        "offboard",
        vendor,
        groups_removed=tuple(g.display_name for g in groups),
        segments_removed=tuple(mine),
        policies_changed=tuple(changed),
        policies_removed=tuple(removed),
        unassign=tuple(
            (upn, sku)
            for upn, user in accounts.items()
            for sku in sorted(book.assignments.get(user.id, frozenset()))
        ),
        disable=tuple(upn for upn, user in accounts.items() if user.account_enabled),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """The definitions, users, groups and licenses as a proposal leaves them."""

    config: BarrierConfig
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    groups_removed: tuple[str, ...]
    book: LicenseBook


def carry_out(
    proposal: Proposal, config: BarrierConfig, directory: Directory, book: LicenseBook
) -> Outcome:
    """Apply a proposal to copies; ``directory`` is changed in place (pass a copy to
    preview). Every step goes through the same checks as the API's (a broken rule raises)."""
    if not proposal.ok:
        raise ValueError("a proposal with errors cannot be carried out")
    users: dict[str, User] = {}
    groups: list[Group] = []
    removed: list[str] = []
    sponsor = directory.find_upn(proposal.sponsor) if proposal.sponsor else None
    for account in proposal.accounts_to_create:
        user = make_user(
            account.upn,
            display_name=account.display_name or None,
            kind=UserKind.SERVICE_ACCOUNT,
            sponsor_id=sponsor.id if sponsor is not None else None,
            attrs={"Company": proposal.vendor},
        )
        directory.put_user(user)
        users[user.upn] = user
    for name, members in proposal.groups.items():
        group = make_group(name, members=frozenset(directory.by_upn(m).id for m in members))
        directory.put_group(group)
        groups.append(group)
    for part, seats in proposal.seats.items():
        book = book.set_seats(part, seats)
    for upn, sku in proposal.assign:
        book = book.assign(directory.by_upn(upn), sku)
    for upn, sku in proposal.unassign:
        book = book.unassign(directory.by_upn(upn), sku)
    for upn in proposal.disable:
        user = replace(directory.by_upn(upn), account_enabled=False)
        directory.put_user(user)
        users[user.upn] = user
    for name in proposal.groups_removed:
        gone = directory.find_group(name)
        if gone is not None:
            directory.remove_group(gone.id)
            removed.append(gone.id)
    for name, text in proposal.segments.items():
        config = config.new_segment(name, text)
    for plan in proposal.policies:
        config = config.new_policy(
            plan.name,
            plan.segment,
            allowed=plan.segments if plan.kind is ListKind.ALLOW else None,
            blocked=plan.segments if plan.kind is ListKind.BLOCK else None,
            state=PolicyState.ACTIVE,
            comment=plan.comment,
        )
    for plan in proposal.policies_changed:
        config = config.set_policy(
            plan.name,
            allowed=plan.segments if plan.kind is ListKind.ALLOW else None,
            blocked=plan.segments if plan.kind is ListKind.BLOCK else None,
        )
    for name in proposal.policies_removed:
        config = config.remove_policy(name)
    for name in proposal.segments_removed:
        config = config.remove_segment(name)
    return Outcome(config, tuple(users.values()), tuple(groups), tuple(removed), book)
