"""Deterministic synthetic tenants for the benchmarks.

A tenant of ``users`` people and ``segments`` segments:

* every user has a realistic display name ("First Last", from skewed lists of 129 first and
  127 last names) and a UPN ``first.last.i@contoso.example`` (unique by ``i``);
* every user has a home *unit* ``k`` in ``0..S-1`` drawn from a skewed (Zipf-like)
  distribution, or none (about 10% of users: "General" departments no filter names);
* ``Department`` is ``Dept kkkk`` (the unit's department), ``Company`` one of three,
  ``ExtensionAttribute1`` a project code (``PRJkkkk-nnnnn``) for units segmented by a
  ``-like`` pattern and a cost centre (``CC-nnnnn``) otherwise, ``UsageLocation`` a skewed
  country code; about 2% of accounts are disabled and 1% are guests;
* segment ``k`` is defined by one of three kinds of filter: ``Department -eq 'Dept kkkk'``
  (about 60%, a few combined with ``-and``), ``MemberOf -eq 'SEG-GRP-kkkk'`` (about 30%,
  the group holding that unit's members, named by display name or by mail) and
  ``ExtensionAttribute1 -like 'PRJkkkk-*'`` (about 10%, some ``-or``-ed with the department);
* besides the segment groups there are distribution lists with random members (about two
  per user), so ``MemberOf`` is a realistic many-to-many column;
* ``SingleSegment``: about 70% of segments carry an Active policy, 60% of them block lists
  (1-10 segments) and 40% allow lists (own segment plus 2-29 others); about 0.3% of the
  segmented users are also put in another unit's segment group, so they land in
  ``IBPolicyConflict``;
* ``MultiSegment``: allow lists only; about 20% of the segmented users are also in one or
  two *overlay* segments (group-defined). Overlays are correlated with the home unit (each
  unit has two fixed overlay bundles, as "Research" people tend to share the same
  compliance groups), which keeps the number of distinct segment sets (profiles) near 3S.
  ``correlated_overlays=False`` draws the overlays at random instead (a stress case: the
  number of profiles then grows with the number of multi-segment users).

Users and groups are built as dataclasses directly (not through ``make_user``), and the
segments and policies as :class:`Segment` / :class:`Policy` values (the generator keeps
every rule of semantics §4 itself: unique names, one policy per segment, no duplicates in
a list, allow lists only in MultiSegment mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import (
    BarrierConfig,
    ListKind,
    Mode,
    Policy,
    PolicyState,
    Segment,
)
from infobarrier.core.directory import Directory, Group, User, UserType
from infobarrier.core.filters.parser import parse_filter

DOMAIN = "contoso.example"
COMPANIES = ("Contoso Ltd", "Contoso Bank", "Fabrikam Inc")
COMPANY_WEIGHTS = (0.85, 0.10, 0.05)
COUNTRIES = ("US", "GB", "DE", "FR", "IN", "JP", "BR", "CA", "SG", "CH")
GENERAL_DEPARTMENTS = tuple(f"General {i:02d}" for i in range(10))
#: Display names are "First Last" from these (skewed) lists, so a search prefix matches a
#: realistic share of the directory (not every user, as "User 0000042" would).
_FIRST = """
Aaron Abigail Adam Adrian Aisha Alan Alex Alice Amir Amy Ana Andrea Andrew Angela Anna
Anton Arjun Ava Ben Beatriz Bella Bruno Carla Carlos Carmen Charles Chen Chloe Chris
Clara Daniel David Diana Diego Dmitri Elena Eli Emma Eric Ethan Eva Fatima Felix Fiona
Francesca Frank Gabriel Grace Hannah Hans Harper Hassan Helen Henry Hiro Ian Ingrid
Isaac Isabel Ivan Jack Jacob James Jane Javier Jin John Jonas Jorge Jose Julia Kai Karen
Kate Kenji Kevin Kim Laura Leo Liam Lina Lucas Lucy Luis Maria Mark Marta Mateo Maya Mei
Mia Michael Mohamed Nadia Naomi Nina Noah Nora Olga Oliver Omar Oscar Paul Pedro Peter
Priya Rachel Rahul Ravi Rosa Ryan Sam Sara Sofia Sophie Stefan Tariq Thomas Tom Uma
Valentina Victor Wei Will Xavier Yara Yusuf Zara Zoe
"""
_LAST = """
Adams Ahmed Ali Allen Alvarez Anderson Baker Bauer Becker Bell Brown Campbell Carter
Castro Chen Clark Collins Cook Costa Cruz Davies Davis Diaz Dubois Edwards Evans Fischer
Fernandez Ferrari Fisher Garcia Gomez Gonzalez Green Gupta Hall Harris Hernandez Hill
Hoffmann Huang Hughes Ito Jackson Jensen Johnson Jones Kaur Khan Kim King Klein Koch
Kowalski Kumar Lambert Lee Lewis Li Lopez Martin Martinez Meyer Miller Mitchell Moore
Morales Morgan Mueller Murphy Nakamura Nelson Nguyen Novak Olsen Ortiz Patel Perez
Peters Petrov Phillips Popescu Price Ramirez Reed Reyes Richter Rivera Roberts Robinson
Rodriguez Rossi Russo Sanchez Santos Sato Schmidt Schneider Schulz Scott Shah Silva
Singh Smith Suzuki Tanaka Taylor Thomas Thompson Torres Turner Wagner Walker Wang
Watanabe Weber White Williams Wilson Wong Wright Wu Yamamoto Yang Young Zhang Zimmermann
"""
FIRST_NAMES = tuple(_FIRST.split())
LAST_NAMES = tuple(_LAST.split())
DISTRIBUTION_LISTS = 40

#: Segment kinds, by how their filter reads.
DEPT, GROUP, LIKE = "dept", "group", "like"


@dataclass(frozen=True, slots=True)
class TenantSpec:
    """What to generate; the same spec always gives the same tenant."""

    users: int
    segments: int
    mode: Mode = Mode.SINGLE_SEGMENT
    seed: int = 20_240_501
    unsegmented: float = 0.10
    disabled: float = 0.02
    guests: float = 0.01
    conflicts: float = 0.003
    multi: float = 0.20
    #: ``False``: overlays drawn at random from every group segment (a stress case whose
    #: number of profiles grows with the number of multi-segment users).
    correlated_overlays: bool = True
    policy_share: float = 0.70


@dataclass(slots=True)
class Tenant:
    """A generated tenant: its directory, its (all Active) configuration and some facts."""

    spec: TenantSpec
    directory: Directory
    config: BarrierConfig
    users: list[User]
    unit: npt.NDArray[np.int32]
    kinds: list[str]
    facts: dict[str, int | float] = field(default_factory=dict)


def _skewed(count: int, exponent: float = 0.9) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _user_id(seed: int, i: int) -> str:
    return f"{seed & 0xFFFFFFFF:08x}-0000-4000-8000-{i:012x}"


def _segment_filter(k: int, kind: str, rng: np.random.Generator) -> str:
    dept = f"Dept {k:04d}"
    if kind == DEPT:
        if k % 7 == 3:
            return f"Department -eq '{dept}' -and UsageLocation -like '*'"
        return f"Department -eq '{dept}'"
    if kind == GROUP:
        if k % 3 == 0:
            return f"MemberOf -eq 'seg-grp-{k:04d}@{DOMAIN}'"
        return f"MemberOf -eq 'SEG-GRP-{k:04d}'"
    if rng.random() < 0.5:
        return f"(Department -eq '{dept}') -or (ExtensionAttribute1 -like 'prj{k:04d}-*')"
    return f"ExtensionAttribute1 -like 'PRJ{k:04d}-*'"


def _kinds(s: int, rng: np.random.Generator) -> list[str]:
    pool = [DEPT] * 6 + [GROUP] * 3 + [LIKE]
    kinds = [pool[int(x)] for x in rng.integers(0, len(pool), size=s)]
    # At least one segment of each kind (and a group segment for conflicts and overlays).
    for k, kind in enumerate((GROUP, LIKE, DEPT)):
        if kind not in kinds and s > k:
            kinds[k] = kind
    return kinds


def _policies(
    s: int, mode: Mode, names: list[str], rng: np.random.Generator, share: float
) -> tuple[Policy, ...]:
    policies: list[Policy] = []
    for k in range(s):
        if s < 2 or rng.random() >= share:
            continue
        others = np.delete(np.arange(s), k)
        allow = mode is Mode.MULTI_SEGMENT or rng.random() < 0.4
        if allow:
            size = int(rng.integers(2, min(30, s)))
            picked = rng.choice(others, size=min(size, len(others)), replace=False)
            listed = [k, *(int(x) for x in picked)]
        else:
            size = int(rng.integers(1, min(11, s)))
            listed = [
                int(x) for x in rng.choice(others, size=min(size, len(others)), replace=False)
            ]
        policies.append(
            Policy(
                id=f"pol-{k:05d}",
                name=f"POL-{k:04d}",
                segment=names[k],
                kind=ListKind.ALLOW if allow else ListKind.BLOCK,
                segments=tuple(names[x] for x in listed),
                state=PolicyState.ACTIVE,
            )
        )
    return tuple(policies)


def generate(spec: TenantSpec) -> Tenant:
    """Build the tenant of ``spec`` (deterministic for a given spec)."""
    n, s = spec.users, spec.segments
    rng = np.random.default_rng(spec.seed)
    kinds = _kinds(s, rng)

    # Home units: -1 for the unsegmented, else a skewed draw over the S units.
    unit = rng.choice(s, size=n, p=_skewed(s)).astype(np.int32)
    unit[rng.random(n) < spec.unsegmented] = -1
    company = rng.choice(len(COMPANIES), size=n, p=np.asarray(COMPANY_WEIGHTS))
    country = rng.choice(len(COUNTRIES), size=n, p=_skewed(len(COUNTRIES), 1.2))
    general = rng.integers(0, len(GENERAL_DEPARTMENTS), size=n)
    code = rng.integers(0, 100_000, size=n)
    first = rng.choice(len(FIRST_NAMES), size=n, p=_skewed(len(FIRST_NAMES), 0.6))
    last = rng.choice(len(LAST_NAMES), size=n, p=_skewed(len(LAST_NAMES), 0.6))
    enabled = rng.random(n) >= spec.disabled
    guest = rng.random(n) < spec.guests

    dept_names = [f"Dept {k:04d}" for k in range(s)]
    is_like = np.array([kind == LIKE for kind in kinds], dtype=np.bool_)
    ids = [_user_id(spec.seed, i) for i in range(n)]
    users: list[User] = []
    member = UserType.MEMBER
    guest_type = UserType.GUEST
    for i, (k, c, loc, gen, cc, en, gu, fn, ln) in enumerate(
        zip(
            unit.tolist(),
            company.tolist(),
            country.tolist(),
            general.tolist(),
            code.tolist(),
            enabled.tolist(),
            guest.tolist(),
            first.tolist(),
            last.tolist(),
            strict=True,
        )
    ):
        given, family = FIRST_NAMES[fn], LAST_NAMES[ln]
        upn = f"{given}.{family}.{i}@{DOMAIN}".lower()
        if k >= 0:
            dept = dept_names[k]
            ext1 = f"PRJ{k:04d}-{cc:05d}" if is_like[k] else f"CC-{cc:05d}"
        else:
            dept = GENERAL_DEPARTMENTS[gen]
            ext1 = f"CC-{cc:05d}"
        users.append(
            User(
                id=ids[i],
                upn=upn,
                display_name=f"{given} {family}",
                mail=upn,
                account_enabled=en,
                user_type=guest_type if gu else member,
                attributes={
                    "Department": dept,
                    "Company": COMPANIES[c],
                    "ExtensionAttribute1": ext1,
                    "UsageLocation": COUNTRIES[loc],
                },
            )
        )

    # Segment groups: members of each group-defined unit, plus conflicts / overlays.
    group_units = [k for k, kind in enumerate(kinds) if kind == GROUP]
    members: dict[int, list[int]] = {k: [] for k in group_units}
    order = np.argsort(unit, kind="stable")
    bounds = np.searchsorted(unit[order], np.arange(-1, s + 1))
    for k in group_units:
        members[k].extend(order[bounds[k + 1] : bounds[k + 2]].tolist())
    segmented = np.flatnonzero(unit >= 0)
    extra_memberships = 0
    if spec.mode is Mode.MULTI_SEGMENT:
        # Each unit has two overlay bundles (1 and 2 group segments other than itself).
        bundles: list[tuple[list[int], list[int]]] = []
        for k in range(s):
            pool = [g for g in group_units if g != k]
            if not pool:
                bundles.append(([], []))
                continue
            picked = [int(x) for x in rng.choice(pool, size=min(2, len(pool)), replace=False)]
            bundles.append((picked[:1], picked))
        chosen = segmented[rng.random(len(segmented)) < spec.multi]
        which = rng.integers(0, 2, size=len(chosen))
        for i, b in zip(chosen.tolist(), which.tolist(), strict=True):
            if spec.correlated_overlays:
                overlays = bundles[int(unit[i])][b]
            else:
                pool = [g for g in group_units if g != int(unit[i])]
                size = min(b + 1, len(pool))
                overlays = [int(x) for x in rng.choice(pool, size=size, replace=False)]
            for g in overlays:
                members[g].append(i)
                extra_memberships += 1
    elif group_units:
        chosen = segmented[rng.random(len(segmented)) < spec.conflicts]
        for i in chosen.tolist():
            pool = [g for g in group_units if g != int(unit[i])]
            if pool:
                members[pool[int(rng.integers(0, len(pool)))]].append(i)
                extra_memberships += 1

    groups: list[Group] = [
        Group(
            id=f"grp-{k:05d}",
            display_name=f"SEG-GRP-{k:04d}",
            mail=f"seg-grp-{k:04d}@{DOMAIN}",
            members=frozenset(ids[i] for i in members[k]),
        )
        for k in group_units
    ]
    # Distribution lists with skewed sizes, about two memberships per user in all.
    sizes = np.maximum(1, (_skewed(DISTRIBUTION_LISTS, 0.7) * 2 * n).astype(np.int64))
    for g, size in enumerate(sizes.tolist()):
        picked = rng.choice(n, size=min(size, n), replace=False)
        groups.append(
            Group(
                id=f"dl-{g:05d}",
                display_name=f"DL All {g:03d}",
                mail=f"dl-{g:03d}@{DOMAIN}",
                members=frozenset(ids[i] for i in picked.tolist()),
            )
        )

    names = [f"SEG-{k:04d}-{kinds[k]}" for k in range(s)]
    segment_values = tuple(
        Segment(f"seg-{k:05d}", names[k], text, parse_filter(text))
        for k, text in ((k, _segment_filter(k, kinds[k], rng)) for k in range(s))
    )
    config = BarrierConfig(
        mode=spec.mode,
        segments=segment_values,
        policies=_policies(s, spec.mode, names, rng, spec.policy_share),
    )
    directory = Directory(users, groups)
    facts: dict[str, int | float] = {
        "groups": len(groups),
        "group_memberships": sum(len(g.members) for g in groups),
        "policies": len(config.policies),
        "block_policies": sum(p.kind is ListKind.BLOCK for p in config.policies),
        "allow_policies": sum(p.kind is ListKind.ALLOW for p in config.policies),
        "unsegmented_share": float(np.mean(unit < 0)) if n else 0.0,
        "extra_segment_memberships": extra_memberships,
    }
    return Tenant(spec, directory, config, users, unit, kinds, facts)


__all__ = ["Tenant", "TenantSpec", "generate"]
