"""A column store of the directory, so that a filter is evaluated as bitset algebra.

Each attribute a filter reads becomes a column: single-valued attributes an ``int32``
code per user into a vocabulary of case-folded values (code 0 is "missing or empty"),
multi-valued ones (``ProxyAddresses``, ``MemberOf``) a list of (user, item) pairs. A
comparison is then evaluated once per *distinct value*, never once per user, and
combined with numpy boolean masks (docs/architecture.md, "Performance shape").
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infobarrier.core.attributes import is_multi_valued
from infobarrier.core.directory import Directory, User
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op, Or
from infobarrier.core.filters.evaluate import folded_matcher

Mask = npt.NDArray[np.bool_]
Indices = npt.NDArray[np.int32]


@dataclass(slots=True)
class SingleColumn:
    """Codes into ``vocabulary`` (folded values; ``vocabulary[0] == ""`` is "missing")."""

    codes: Indices
    vocabulary: list[str]
    lookup: dict[str, int]
    #: The vocabulary sorted, with each value's code: ``-like 'prefix*'`` bisects it.
    ordered: list[str] | None = None
    ordered_codes: list[int] | None = None

    def sorted_vocabulary(self) -> tuple[list[str], list[int]]:
        """The vocabulary in sorted order, built on first use."""
        if self.ordered is None or self.ordered_codes is None:
            # Codes sorted by their value (no tuple per value: 1M values at 1M users).
            codes = sorted(range(len(self.vocabulary)), key=self.vocabulary.__getitem__)
            self.ordered = list(map(self.vocabulary.__getitem__, codes))
            self.ordered_codes = codes
        return self.ordered, self.ordered_codes


@dataclass(frozen=True, slots=True)
class MultiColumn:
    """Pairs (owner user index, item index); each item has one or more folded names."""

    owners: Indices
    items: Indices
    item_names: list[tuple[str, ...]]


def as_mask(values: object) -> Mask:
    """View an array expression as a boolean mask (for the type checker)."""
    return np.asarray(values, dtype=np.bool_)


def attributes_of(exprs: Iterable[Expr]) -> set[str]:
    """The canonical attributes some filter among ``exprs`` compares."""
    found: set[str] = set()
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        if isinstance(expr, Comparison):
            found.add(expr.attribute)
        elif isinstance(expr, Not):
            stack.append(expr.operand)
        elif isinstance(expr, And | Or):
            stack.extend(expr.operands)
    return found


def _predicate(comparison: Comparison) -> Callable[[str], bool]:
    """Whether a value already folded (as the columns keep them) is the compared one, or
    matches the compared pattern; a negated comparison is this match, negated after."""
    folded = comparison.value.casefold()
    return folded.__eq__ if comparison.op in (Op.EQ, Op.NE) else folded_matcher(folded)


def _names_match(predicate: Callable[[str], bool], names: tuple[str, ...]) -> bool:
    """An item of a multi-valued column (a group: its name, mail and id) matches when one
    of its names does."""
    return any(n and predicate(n) for n in names)


def groups_compared(exprs: Iterable[Expr]) -> Callable[[tuple[str, ...]], bool] | None:
    """Whether a group (its folded names) is one some ``MemberOf`` comparison among
    ``exprs`` can match, so that only its memberships need reading; ``None``: every
    group's are needed (``MemberOf -eq ''`` asks whether a user has any group).

    A user matches ``MemberOf -eq 'X'`` when one of its groups does (§3): groups no
    comparison matches change no answer. At 1M users, 2.0M of the benchmark's 2.2M
    memberships are in distribution lists no segment names.
    """
    found: list[Callable[[str], bool]] = []
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        if isinstance(expr, Comparison):
            if expr.attribute == "MemberOf":
                if expr.op in (Op.EQ, Op.NE) and expr.value == "":
                    return None
                found.append(_predicate(expr))
        elif isinstance(expr, Not):
            stack.append(expr.operand)
        elif isinstance(expr, And | Or):
            stack.extend(expr.operands)
    return lambda names: any(_names_match(p, names) for p in found)


class _Codes(dict[str, int]):
    """Value -> code, a new value taking the next code on first lookup (so that a column
    is encoded by ``map`` in C, with Python code only once per distinct value)."""

    __slots__ = ()

    def __missing__(self, value: str) -> int:
        code = self[value] = len(self)
        return code


def encode(values: Iterable[str], count: int) -> SingleColumn:
    """The column of ``count`` users' values (``""``: missing), folded here."""
    codes = _Codes({"": 0})
    encoded = np.fromiter(
        map(codes.__getitem__, map(str.casefold, values)), dtype=np.int32, count=count
    )
    lookup = dict(codes)
    vocabulary = list(lookup)  # codes are given in insertion order
    return SingleColumn(encoded, vocabulary, lookup)


@dataclass(frozen=True, slots=True)
class UserColumns:
    """A directory read as columns, for compiling an epoch without a :class:`User` object
    per user (``apply`` at a million users): per-user strings and flags, the users listed
    by folded UPN (as the store keeps it, the order of a loaded directory), and the
    columns of the attributes the filters compare."""

    ids: Sequence[str]
    upns: Sequence[str]
    enabled: Mask
    hidden: Mask
    single: dict[str, SingleColumn]
    multi: dict[str, MultiColumn]

    def columns(self) -> DirectoryColumns:
        """Filters over these columns (only the attributes read can be compared)."""
        return DirectoryColumns.prebuilt(len(self.ids), self.single, self.multi)


class DirectoryColumns:
    """Columns of one directory snapshot, built lazily per attribute."""

    def __init__(self, directory: Directory, users: Sequence[User] | None = None) -> None:
        self.directory: Directory | None = directory
        self.users: Sequence[User] = users if users is not None else list(directory.users())
        self.size = len(self.users)
        self._single: dict[str, SingleColumn] = {}
        self._multi: dict[str, MultiColumn] = {}
        self._grouped: dict[str, tuple[Indices, npt.NDArray[np.int64]]] = {}

    @classmethod
    def prebuilt(
        cls, size: int, single: dict[str, SingleColumn], multi: dict[str, MultiColumn]
    ) -> DirectoryColumns:
        """Columns read elsewhere (:class:`UserColumns`); no directory behind them."""
        self = cls.__new__(cls)
        self.directory, self.users, self.size = None, (), size
        self._single, self._multi = dict(single), dict(multi)
        self._grouped = {}
        return self

    def single(self, attribute: str) -> SingleColumn:
        """The column of a single-valued attribute."""
        column = self._single.get(attribute)
        if column is None:
            if self.directory is None:
                raise RuntimeError(f"the column {attribute} was not read")
            lookup: dict[str, int] = {"": 0}
            codes = np.fromiter(
                (
                    lookup.setdefault(u.attribute(attribute).casefold(), len(lookup))
                    for u in self.users
                ),
                dtype=np.int32,
                count=self.size,
            )
            vocabulary = [""] * len(lookup)
            for value, code in lookup.items():
                vocabulary[code] = value
            column = self._single[attribute] = SingleColumn(codes, vocabulary, lookup)
        return column

    def multi(self, attribute: str) -> MultiColumn:
        """The column of ``ProxyAddresses`` or ``MemberOf``."""
        column = self._multi.get(attribute)
        if column is None:
            if self.directory is None:
                raise RuntimeError(f"the column {attribute} was not read")
            column = self._multi[attribute] = (
                self._member_of() if attribute == "MemberOf" else self._proxy_addresses()
            )
        return column

    def _proxy_addresses(self) -> MultiColumn:
        lookup: dict[str, int] = {}
        owners: list[int] = []
        items: list[int] = []
        for i, user in enumerate(self.users):
            for address in user.proxy_addresses:
                owners.append(i)
                items.append(lookup.setdefault(address.casefold(), len(lookup)))
        names: list[tuple[str, ...]] = [("",)] * len(lookup)
        for value, code in lookup.items():
            names[code] = (value,)
        return MultiColumn(np.array(owners, np.int32), np.array(items, np.int32), names)

    def _member_of(self) -> MultiColumn:
        assert self.directory is not None
        position = {u.id: i for i, u in enumerate(self.users)}
        lookup = position.__getitem__
        owners: list[Indices] = []
        items: list[Indices] = []
        names: list[tuple[str, ...]] = []
        for g, group in enumerate(self.directory.groups()):
            names.append(tuple(n.casefold() for n in group.names()))
            members = np.fromiter(
                map(lookup, (m for m in group.members if m in position)), dtype=np.int32
            )
            owners.append(members)
            items.append(np.full(len(members), g, dtype=np.int32))
        if not owners:
            return MultiColumn(np.zeros(0, np.int32), np.zeros(0, np.int32), names)
        return MultiColumn(np.concatenate(owners), np.concatenate(items), names)

    # -- evaluation ------------------------------------------------------------
    def evaluate(self, expr: Expr) -> Mask:
        """The users matching a filter, as a boolean mask in ``users`` order."""
        if isinstance(expr, Comparison):
            return self._compare(expr)
        if isinstance(expr, Not):
            return ~self.evaluate(expr.operand)
        masks = [self.evaluate(o) for o in expr.operands]
        combine = np.logical_and if isinstance(expr, And) else np.logical_or
        result = masks[0].copy()
        for mask in masks[1:]:
            combine(result, mask, out=result)
        return result

    def _compare(self, comparison: Comparison) -> Mask:
        op, target = comparison.op, comparison.value
        negate = op in (Op.NE, Op.NOTLIKE)
        predicate = _predicate(comparison)
        if op in (Op.EQ, Op.NE) and target == "":
            hit = ~self._has_value(comparison.attribute)
        elif is_multi_valued(comparison.attribute):
            hit = self._multi_hit(comparison.attribute, predicate)
        else:
            hit = self._single_hit(self.single(comparison.attribute), op, target, predicate)
        return ~hit if negate else hit

    def _has_value(self, attribute: str) -> Mask:
        if is_multi_valued(attribute):
            has = np.zeros(self.size, dtype=np.bool_)
            has[self.multi(attribute).owners] = True
            return has
        return as_mask(self.single(attribute).codes != 0)

    @staticmethod
    def _single_hit(
        column: SingleColumn, op: Op, target: str, predicate: Callable[[str], bool]
    ) -> Mask:
        if op in (Op.EQ, Op.NE):
            code = column.lookup.get(target.casefold())
            if code is None:
                return np.zeros(len(column.codes), dtype=np.bool_)
            return as_mask(column.codes == code)
        table = np.zeros(len(column.vocabulary), dtype=np.bool_)
        pattern = target.casefold()
        prefix = pattern.split("*", 1)[0]
        if prefix:
            # Only values that start with the literal prefix can match: bisect for them.
            ordered, codes = column.sorted_vocabulary()
            lo = bisect.bisect_left(ordered, prefix)
            hi = bisect.bisect_left(ordered, prefix + "\U0010ffff", lo)
            only_prefix = pattern == prefix + "*"
            hits = [codes[k] for k in range(lo, hi) if only_prefix or predicate(ordered[k])]
            table[hits] = True
        else:
            table[:] = np.fromiter(
                (predicate(v) for v in column.vocabulary),
                dtype=np.bool_,
                count=len(column.vocabulary),
            )
        table[0] = False  # a missing value never matches -like
        return as_mask(table[column.codes])

    def _multi_hit(self, attribute: str, predicate: Callable[[str], bool]) -> Mask:
        column = self.multi(attribute)
        table = np.fromiter(
            (_names_match(predicate, names) for names in column.item_names),
            dtype=np.bool_,
            count=len(column.item_names),
        )
        hit = np.zeros(self.size, dtype=np.bool_)
        chosen = np.flatnonzero(table)
        if not len(chosen) or not len(column.items):
            return hit
        if len(chosen) * 16 > len(table):  # many items match: one pass over every pair
            hit[column.owners[table[column.items]]] = True
            return hit
        # A few items (a group, an address): only their pairs are read, not every pair
        # (a MemberOf segment read all 2.2M memberships at 1M users).
        owners, starts = self._by_item(attribute, column)
        hit[np.concatenate([owners[starts[k] : starts[k + 1]] for k in chosen.tolist()])] = True
        return hit

    def _by_item(
        self, attribute: str, column: MultiColumn
    ) -> tuple[Indices, npt.NDArray[np.int64]]:
        """The owners of a multi-valued column grouped by item (item ``k``'s owners are
        ``owners[starts[k]:starts[k + 1]]``), built on first use."""
        found = self._grouped.get(attribute)
        if found is None:
            order = np.argsort(column.items, kind="stable")
            starts = np.zeros(len(column.item_names) + 1, dtype=np.int64)
            np.cumsum(np.bincount(column.items, minlength=len(column.item_names)), out=starts[1:])
            found = self._grouped[attribute] = (column.owners[order], starts)
        return found
