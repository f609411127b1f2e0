"""Who a user may reach, and with which actions (semantics §6, §7), over one epoch.

The searches of the AuthZEN interface: the people a subject may reach with an action
(resource search), the people who may reach a user or a conversation (subject search),
and the actions a pair may use (action search). Every one-pair action of §7 is decided
by ``compatible`` (or by nothing, for ``search`` when PeopleSearchRestriction is
Disabled), so a search is a walk over the epoch's users with one vectorised
compatibility test per chunk, in epoch order, stopping once a page is full. The total
is counted per profile, without walking anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from infobarrier.core.contract import Action
from infobarrier.core.decisions import Openings, compatibility, decide
from infobarrier.core.directory import fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.exceptions import ActiveExceptions

#: Actions whose conversation members must also be compatible with each other (§7).
GROUP_ACTIONS = frozenset({Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL})

#: Users tested per step of a walk at first, doubling up to ``LAST_STEP``.
FIRST_STEP, LAST_STEP = 4096, 1 << 18


def unrestricted(action: Action, people_search_restriction: bool) -> bool:
    """Whether the action is allowed with anyone (``search`` when the setting is off)."""
    return action is Action.SEARCH and not people_search_restriction


def _usable_per_profile(epoch: Epoch) -> npt.NDArray[np.int64]:
    """How many usable users each profile has (once per epoch; a patch drops it)."""
    found: npt.NDArray[np.int64] | None = epoch.derived.get("usable_per_profile")
    if found is None:
        usable, profile = epoch.usable_array(), epoch.profile_array()
        found = np.bincount(profile[usable], minlength=len(epoch.profiles)).astype(np.int64)
        epoch.derived["usable_per_profile"] = found
    return found


#: Per anchor: the profiles compatible with it (or opened to it by an exception), and the
#: users an exception between two people opens to it besides.
Rule = tuple[npt.NDArray[np.bool_], frozenset[int]]


def _opened(
    epoch: Epoch, anchor: int, openings: ActiveExceptions, action: Action
) -> tuple[npt.NDArray[np.bool_], frozenset[int]]:
    """The profiles and users an active exception opens to ``anchor`` for ``action``
    (§11): exactly those ``ActiveExceptions.opening`` finds, found from the exceptions'
    side (a few) instead of the users' (a million)."""
    index, now = openings.index, openings.now
    rows = np.zeros(len(epoch.profiles), dtype=np.bool_)
    users: set[int] = set()
    if index.by_segments:
        names = [fold(n) for n in epoch.segment_names]
        mine = {names[s] for s in epoch.profiles[epoch.profile(anchor)]}
        others: set[str] = set()
        for (x, y), found in index.by_segments.items():
            if any(e.is_active(now) and e.covers(action) for e in found):
                if x in mine:
                    others.add(y)
                if y in mine:
                    others.add(x)
        if others:
            for q, segments in enumerate(epoch.profiles):
                if any(names[b] in others for b in segments):
                    rows[q] = True
    if index.by_users:
        me = epoch.user_ids[anchor]
        for (x, y), found in index.by_users.items():
            if me in (x, y) and any(e.is_active(now) and e.covers(action) for e in found):
                other = epoch.index_of_id(y if x == me else x)
                if other is not None:
                    users.add(other)
    return rows, frozenset(users)


def _rules(
    epoch: Epoch,
    anchors: Sequence[int],
    openings: ActiveExceptions | None = None,
    action: Action | None = None,
) -> list[Rule] | None:
    """Each anchor's rule, or ``None`` when an anchor is unusable (disabled, in conflict,
    hidden in Legacy mode: nobody else may reach them, and no exception opens that)."""
    rules: list[Rule] = []
    for a in anchors:
        k = epoch.key(a)
        if k < 0:
            return None
        row = epoch.compat[k]
        if openings is not None and action is not None:
            opened, users = _opened(epoch, a, openings, action)
            rules.append((row | opened, users))
        else:
            rules.append((row, frozenset()))
    return rules


def members_compatible(
    epoch: Epoch,
    action: Action,
    members: Sequence[int],
    openings: ActiveExceptions | None = None,
) -> bool:
    """Whether a conversation's members pass the pairs among themselves that ``action``
    requires (only the group actions require any)."""
    if action not in GROUP_ACTIONS:
        return True
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if not compatibility(epoch, a, b, action=action, openings=openings).allowed:
                return False
    return True


def _reaches(epoch: Epoch, rules: list[Rule], v: int) -> bool:
    if epoch.key(v) < 0:
        return False
    p = epoch.profile(v)
    return all(row[p] or v in users for row, users in rules)


def reach_total(
    epoch: Epoch,
    anchors: Sequence[int],
    *,
    everyone: bool = False,
    openings: ActiveExceptions | None = None,
    action: Action | None = None,
) -> int:
    """How many users other than the anchors every anchor may reach (with ``action``,
    counting the exceptions ``openings`` holds open for it)."""
    distinct = set(anchors)
    if everyone:
        return len(epoch) - len(distinct)
    rules = _rules(epoch, anchors, openings, action)
    if rules is None:
        return 0
    joint = np.logical_and.reduce([row for row, _ in rules])
    total = int(_usable_per_profile(epoch)[joint].sum())
    for a in distinct:  # the anchors are usable (else ``rules`` is None): drop those counted
        if joint[epoch.key(a)]:
            total -= 1
    extra = set().union(*(users for _, users in rules)) - distinct
    for v in extra:  # opened one by one: counted unless their profile already was
        if epoch.key(v) >= 0 and not joint[epoch.profile(v)] and _reaches(epoch, rules, v):
            total += 1
    return total


def reach_page(
    epoch: Epoch,
    anchors: Sequence[int],
    start: int,
    limit: int,
    *,
    everyone: bool = False,
    openings: ActiveExceptions | None = None,
    action: Action | None = None,
) -> tuple[list[int], int]:
    """Up to ``limit`` users from epoch index ``start`` on, in epoch order, that every
    anchor may reach (the anchors themselves left out), and the index the next page
    starts at (``len(epoch)`` when the walk reached the end)."""
    n = len(epoch)
    found: list[int] = []
    if limit <= 0:
        return found, start
    rules = None if everyone else _rules(epoch, anchors, openings, action)
    if rules is None and not everyone:
        return found, n
    usable, profile = epoch.usable_array(), epoch.profile_array()
    excluded = np.array(sorted(set(anchors)), dtype=np.intp)
    position, step = start, FIRST_STEP
    while position < n and len(found) < limit:
        stop = min(n, position + step)
        candidates = np.arange(position, stop, dtype=np.intp)
        if everyone:
            mask = np.ones(len(candidates), dtype=np.bool_)
        else:
            assert rules is not None
            mask = usable[position:stop].copy()
            profiles = profile[position:stop]
            for row, users in rules:
                allowed = row[profiles]
                if users:
                    allowed |= np.isin(candidates, np.fromiter(users, dtype=np.intp))
                mask &= allowed
        if len(excluded):
            mask &= ~np.isin(candidates, excluded)
        hits = candidates[mask]
        need = limit - len(found)
        if len(hits) >= need:
            hits = hits[:need]
            position = int(hits[-1]) + 1
        else:
            position = stop
        found.extend(hits.tolist())
        step = min(step * 2, LAST_STEP)
    return found, position


def allowed_actions(
    epoch: Epoch,
    sender: int,
    others: Sequence[int],
    *,
    people_search_restriction: bool,
    openings: Openings | None = None,
) -> list[Action]:
    """The actions of §7 ``sender`` may use with ``others``, in their declared order.

    ``add-team-member`` is its ``Implicit`` rule (the newcomer with every member), as in
    :func:`~infobarrier.core.decisions.decide`; an action the question does not fit
    (``chat`` with several people) is not among them.
    """
    found = []
    for action in Action:
        try:
            verdict = decide(
                epoch,
                action,
                sender,
                others,
                people_search_restriction=people_search_restriction,
                openings=openings,
            )
        except InfobarrierError:
            continue
        if verdict.allowed:
            found.append(action)
    return found
