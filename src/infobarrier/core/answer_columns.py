"""A batch of one-pair checks of one action, given as two columns of UPNs, answered with
array operations (semantics §10).

The usual enforcement batch is a thousand questions "may *a* reach *b*?" about one action:
``POST /decisions`` with one action throughout, or an AuthZEN ``evaluations`` request whose
items are a subject and a resource. :func:`~infobarrier.core.answers.answer_parts` answers
each item in a Python loop (two dict lookups, two key reads, a cache read and a string
built per item). Here the same answers are built column by column: the UPNs are looked up
by ``map`` in C, the profile keys and pairs computed by numpy, each pair's answer around
its two UPNs (quotes and the caller's wrapping included) read from a cache by ``map``, and
the whole text joined from the columns by one ``str.join`` (docs/decisions.md, "Batches
answered as columns").

The answers are exactly those of :func:`~infobarrier.core.answers.answer_parts` (a
property test compares the two): an item the columns cannot answer alone (an unknown or
doubled user, a pair an exception may open) is answered by ``answer_parts`` itself, in its
place; a user who may not communicate at all gets their cached refusal
(:func:`~infobarrier.core.answers.user_fragments`); a UPN found only once folded is
written as stored. An epoch whose UPNs need JSON escaping, an action that is not one
pair's, and ``search`` when people search is not restricted take ``answer_parts`` for the
whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from infobarrier.core.answers import (
    ALLOWED,
    ASK,
    FRAGMENTS,
    ONE_PAIR,
    Wrapping,
    answer_parts,
    base_fragment,
    folded_fragment,
    folded_upns,
    plain_upns,
    user_fragments,
)
from infobarrier.core.contract import Action, Check
from infobarrier.core.decisions import FoldedOpenings, Openings, blocking_user
from infobarrier.core.epoch import Epoch, LineageCache
from infobarrier.core.packed import PackedStrings, UpnIndex

#: An answer around its two UPNs: ``head + a + '","' + b + tail`` is its JSON text.
Around = tuple[str, str]

#: Per lineage and wrapping: each profile pair's :data:`Around` (pairs of one lineage mean
#: the same profiles; the key ``-1`` is the placeholder of an item answered alone).
_AROUND: LineageCache[Wrapping | None, dict[int, Around]] = LineageCache(64)

#: What an item answered alone holds until it is; :data:`_OPENABLE` is found by identity.
_PLACEHOLDER: Around = ("", "")
_OPENABLE: Any = ("", "", "an exception may open this pair")

_BETWEEN, _COMMA = '","', ","
_heads, _tails = itemgetter(0), itemgetter(1)


@dataclass(frozen=True, slots=True)
class OnePairBatch:
    """Checks of one pair each, as columns: check ``i`` asks whether ``senders[i]`` may
    reach ``recipients[i]`` by ``action``, or by ``actions[i]`` when the checks do not
    share one (``action`` is then ``None``). What the decoders of the usual request
    bodies give (``http.authzen_fast``, ``http.decisions_fast``)."""

    senders: list[str]
    recipients: list[str]
    action: str | None
    actions: list[str] | None = None

    def __post_init__(self) -> None:
        if (self.action is None) == (self.actions is None):
            raise ValueError("a batch has one action for all its checks, or one per check")

    def __len__(self) -> int:
        return len(self.senders)

    def action_of_each(self) -> list[str]:
        """Every check's action, in order."""
        if self.actions is not None:
            return self.actions
        assert self.action is not None
        return [self.action] * len(self.senders)

    @classmethod
    def of(cls, senders: list[str], recipients: list[str], actions: list[str]) -> OnePairBatch:
        """The batch of these columns, ``action`` set when every check asks the same one."""
        if actions and actions.count(actions[0]) == len(actions):
            return cls(senders, recipients, actions[0])
        return cls(senders, recipients, None, actions)

    def checks(self) -> list[Check]:
        """The checks as the contract writes them (``core.contract.Check``)."""
        return [
            {"action": a, "from": s, "to": [r]}
            for a, s, r in zip(self.action_of_each(), self.senders, self.recipients, strict=True)
        ]


def answer_batch(
    epoch: Epoch,
    batch: OnePairBatch,
    *,
    people_search_restriction: bool,
    openings: Openings | None = None,
    wrapping: Wrapping | None = None,
) -> tuple[str, list[str] | None]:
    """The answers of a batch joined by commas, and for a batch of several actions each
    answer apart (a caller counts them per action): :func:`answer_columns` for a batch of
    one action, ``answer_parts`` for the others."""
    if batch.action is not None:
        text = answer_columns(
            epoch,
            batch.action,
            batch.senders,
            batch.recipients,
            people_search_restriction=people_search_restriction,
            openings=openings,
            wrapping=wrapping,
        )
        return text, None
    parts = answer_parts(
        epoch,
        batch.checks(),
        people_search_restriction=people_search_restriction,
        openings=openings,
        wrapping=wrapping,
    )
    return ",".join(parts), parts


def answer_columns(
    epoch: Epoch,
    action: str,
    senders: Sequence[str],
    recipients: Sequence[str],
    *,
    people_search_restriction: bool,
    openings: Openings | None = None,
    wrapping: Wrapping | None = None,
) -> str:
    """The answers of the checks ``{"action": action, "from": senders[i], "to":
    [recipients[i]]}``, in order, joined by commas: the text ``",".join(answer_parts(...))``
    gives (what goes between the brackets of the caller's array)."""
    n = len(senders)
    one = ONE_PAIR.get(action)
    if (
        n == 0
        or one is None
        or (one is Action.SEARCH and not people_search_restriction)
        or not plain_upns(epoch)
    ):
        return ",".join(
            answer_parts(
                epoch,
                OnePairBatch(list(senders), list(recipients), action).checks(),
                people_search_restriction=people_search_restriction,
                openings=openings,
                wrapping=wrapping,
            )
        )
    u, u_folded = _positions(epoch, senders, 2 * n)
    v, v_folded = _positions(epoch, recipients, 2 * n)
    folded = openings.folded(epoch) if openings is not None else None
    count = 0
    if folded is None:
        keys_of = _int_view(epoch.keys)
        width = len(epoch.profiles)
    else:  # the exceptions folded into the numbering (§11)
        keys_of = _int_view(folded.keys)
        width, count = folded.width, folded.count
    known = (u >= 0) & (v >= 0)
    k = _gather(keys_of, u, known)
    m = _gather(keys_of, v, known)
    if epoch.overlay and folded is None:  # patched users: their key from the overlay
        _overlay_keys(epoch, u, k)
        _overlay_keys(epoch, v, m)
    good = known & (u != v) & (k >= 0) & (m >= 0)
    if folded is not None:  # one side named by an exception of two users: its base pair
        k_named, m_named = k >= count, m >= count
        m = np.where(m_named & ~k_named, m - count, m)
        k = np.where(k_named & ~m_named, k - count, k)
    pairs: list[int] = np.where(good, k * width + m, -1).tolist()
    around = _around_table(epoch, wrapping, None if folded is None else folded.around)
    got: list[Around] = list(map(around.get, pairs))  # type: ignore[arg-type]
    if None in got:  # pairs not met before (all of them at first)
        _fill(epoch, folded, wrapping, around, pairs, got)
    as_given = folded_upns(epoch)  # a UPN found as given is the stored one
    flat: list[str] = [""] * (6 * n)
    flat[0::6] = map(_heads, got)
    flat[1::6] = senders if as_given else _stored(epoch, u)
    flat[2::6] = repeat(_BETWEEN, n)
    flat[3::6] = recipients if as_given else _stored(epoch, v)
    flat[4::6] = map(_tails, got)
    flat[5::6] = repeat(_COMMA, n)
    if as_given and (u_folded or v_folded):  # found once folded: written as stored
        upns = epoch.upns
        for i in u_folded:
            flat[6 * i + 1] = upns[int(u[i])]
        for i in v_folded:
            flat[6 * i + 3] = upns[int(v[i])]
    alone = np.flatnonzero(~good).tolist()
    if folded is not None:
        openable = [i for i, g in enumerate(got) if g is _OPENABLE]
        if openable:
            alone = sorted({*alone, *openable})
    for i in alone:
        flat[6 * i : 6 * i + 5] = _alone(
            epoch,
            action,
            senders[i],
            recipients[i],
            int(u[i]),
            int(v[i]),
            int(k[i]) < 0 or int(m[i]) < 0,
            people_search_restriction=people_search_restriction,
            openings=openings,
            wrapping=wrapping,
        )
    flat.pop()  # no comma after the last answer
    return "".join(flat)


def _int_view(keys: Sequence[int]) -> npt.NDArray[np.intc]:
    """An ``array('i')`` of keys as a numpy view (no copy)."""
    return np.frombuffer(keys, dtype=np.intc) if len(keys) else np.zeros(0, np.intc)  # type: ignore[call-overload]


def _positions(
    epoch: Epoch, upns: Sequence[str], lookups: int
) -> tuple[npt.NDArray[np.intp], list[int]]:
    """Each UPN's user index, -1 when unknown: the index's own ``get`` over the column
    (one ``map`` in C), then the few not found as given, folded one by one; and where
    those were found (their UPN is written as stored, not as given)."""
    index = epoch.upn_index
    get: Callable[[str, int], int | None] = (
        index.getter(lookups) if isinstance(index, UpnIndex) else index.get  # type: ignore[assignment]
    )
    found = np.fromiter(map(get, upns, repeat(-1)), dtype=np.intp, count=len(upns))
    refound: list[int] = []
    missing = np.flatnonzero(found < 0)
    if len(missing):
        index_of = epoch.index_of
        for i in missing.tolist():
            at = index_of(upns[i])
            if at is not None:
                found[i] = at
                refound.append(i)
    return found, refound


def _gather(
    keys: npt.NDArray[np.intc], users: npt.NDArray[np.intp], known: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """``keys[users]`` where ``known``, else -1 (an epoch of no users has no keys at all)."""
    if not len(keys):
        return np.full(len(users), -1, dtype=np.int64)
    return np.where(known, keys[np.where(known, users, 0)], -1).astype(np.int64)


def _overlay_keys(epoch: Epoch, users: npt.NDArray[np.intp], keys: npt.NDArray[np.int64]) -> None:
    """Patch ``keys`` in place for the users of the overlay (few: a patch's users)."""
    changed = np.fromiter(epoch.overlay, dtype=np.intp, count=len(epoch.overlay))
    for i in np.flatnonzero(np.isin(users, changed)).tolist():
        keys[i] = epoch.key(int(users[i]))


def _around_table(
    epoch: Epoch, wrapping: Wrapping | None, folded: dict[Any, dict[int, Any]] | None
) -> dict[int, Around]:
    """The answers around each pair for this wrapping: per lineage, or with exceptions
    per folded numbering (which lives as long as the exceptions in force and the epoch)."""
    per_wrapping: dict[Any, dict[int, Any]] = _AROUND.of(epoch) if folded is None else folded
    found = per_wrapping.get(wrapping)
    if found is None:
        found = per_wrapping.setdefault(wrapping, {-1: _PLACEHOLDER})
    return found


def _fill(
    epoch: Epoch,
    folded: FoldedOpenings | None,
    wrapping: Wrapping | None,
    around: dict[int, Around],
    pairs: list[int],
    got: list[Around],
) -> None:
    """Fill ``got`` where it misses, from the verdict fragments (built when new), and keep
    each pair's :data:`Around` in ``around`` (bounded like the fragments)."""
    base = FRAGMENTS.of(epoch)
    width = len(epoch.profiles)
    for i, found in enumerate(got):
        if found is not None:
            continue
        pair = pairs[i]
        if pair < 0:  # answered alone (the table was cleared by another thread meanwhile)
            got[i] = _PLACEHOLDER
            continue
        kept = around.get(pair)
        if kept is None:
            fragment: Any
            if folded is None:
                fragment = base_fragment(epoch, base, *divmod(pair, width))
            else:
                fragment = folded.fragments.get(pair)
                if fragment is None:
                    fragment = folded_fragment(epoch, folded, base, pair)
            # (ASK, answer, touched, k, m): answered alone
            kept = _OPENABLE if fragment[0] is ASK else _wrapped(fragment, wrapping)
            if len(around) >= FRAGMENTS.limit:
                around.clear()
                around[-1] = _PLACEHOLDER
            around[pair] = kept
        got[i] = kept


def _wrapped(fragment: tuple[str, str], wrapping: Wrapping | None) -> Around:
    """A verdict's fragments with the quotes of the UPNs and the caller's wrapping."""
    head, tail = fragment
    if wrapping is None:
        return f'{head}"', f'"{tail}'
    prefix = wrapping.permit if head.startswith(ALLOWED) else wrapping.deny
    return f'{prefix}{head}"', f'"{tail}{wrapping.close}'


def _alone(
    epoch: Epoch,
    action: str,
    sender: str,
    recipient: str,
    u: int,
    v: int,
    unusable: bool,
    *,
    people_search_restriction: bool,
    openings: Openings | None,
    wrapping: Wrapping | None,
) -> tuple[str, str, str, str, str]:
    """The five slots of an item the columns did not answer: a user who may not
    communicate gets their cached refusal, anything else ``answer_parts``' answer."""
    if unusable and u >= 0 and v >= 0 and u != v:
        blocking = blocking_user(epoch, u, v)
        if blocking is not None:
            head, tail = _wrapped(user_fragments(epoch, *blocking), wrapping)
            upns = epoch.upns
            return head, upns[u], _BETWEEN, upns[v], tail
    check: Check = {"action": action, "from": sender, "to": [recipient]}
    (text,) = answer_parts(
        epoch,
        [check],
        people_search_restriction=people_search_restriction,
        openings=openings,
        wrapping=wrapping,
    )
    return text, "", "", "", ""


def _stored(epoch: Epoch, users: npt.NDArray[np.intp]) -> list[str]:
    """The stored UPNs of these users, read by ``map`` in C (an unknown user, -1, reads
    the first UPN as a placeholder: such an item is answered alone)."""
    upns = epoch.upns
    if not len(upns):
        return [""] * len(users)
    if isinstance(upns, PackedStrings):
        upns = upns.for_reads(len(users))
    return list(map(upns.__getitem__, np.where(users >= 0, users, 0).tolist()))


__all__ = ["OnePairBatch", "answer_batch", "answer_columns"]
