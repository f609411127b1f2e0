"""A person's page, a segment's members and explain for several recipients (semantics §12).

Reads only, against the epoch in force over today's directory (the decision service's
cached one): a person's page is a few lookups and one verdict per profile, and a
segment's members are paged, so neither grows with the tenant's size beyond one
vectorised pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infobarrier.core.codes import VerdictCode
from infobarrier.core.columns import DirectoryColumns
from infobarrier.core.contract import Verdict, parse_action
from infobarrier.core.decisions import compatibility, decide
from infobarrier.core.decisions import user_index as _index
from infobarrier.core.directory import Directory, User
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.filters.parser import parse_filter
from infobarrier.core.person import causes, fixes, reach_rows, segment_members
from infobarrier.service.decisions import DecisionHandler

#: Recipients explain answers for at once (each with its own pair verdict and causes).
MAX_EXPLAIN = 100


def _user(u: User, directory: Directory) -> dict[str, Any]:
    return {
        "upn": u.upn,
        "display_name": u.display_name,
        "kind": u.kind.value,
        "account_enabled": u.account_enabled,
        "user_type": u.user_type.value,
        "company": u.company,
        "sponsor": _upn_of(directory, u.sponsor_id),
    }


def _upn_of(directory: Directory, user_id: str | None) -> str | None:
    """A user's UPN by id; ``None`` when not given or deleted since."""
    if not user_id:
        return None
    try:
        return directory.user(user_id).upn
    except NotFound:
        return None


def _segments(epoch: Epoch, i: int, directory: Directory) -> list[dict[str, Any]]:
    user = directory.user(epoch.user_ids[i])
    config = epoch.config
    out = []
    for name in epoch.segments_of(i):
        segment = config.find_segment(name)
        policy = config.policy_of(name)
        out.append(
            {
                "name": name,
                "filter": segment.filter if segment else "",
                "causes": [c.as_dict() for c in causes(config, name, user, directory)],
                "policy": None
                if policy is None
                else {
                    "name": policy.name,
                    "kind": policy.kind.value,
                    "segments": list(policy.segments),
                },
            }
        )
    return out


class PeopleReader:
    """A person's page, a segment's members, explain for several recipients."""

    def __init__(self, decisions: DecisionHandler) -> None:
        self.decisions = decisions

    def person(self, tenant: str, upn: str) -> dict[str, Any]:
        """Attributes, groups, segments (each with the comparisons that put them there),
        the applied policies and errors, and how many users they reach or not."""
        current = self.decisions.current(tenant)
        epoch, directory = current.epoch, current.directory
        i = _index(epoch, upn)
        user = directory.user(epoch.user_ids[i])
        rows = reach_rows(epoch, i)
        errors = []
        if epoch.in_conflict(i):
            errors.append(
                f"IBPolicyConflict: matches {len(epoch.segments_of(i))} segments "
                f"({', '.join(epoch.segments_of(i))}); {epoch.mode.value} mode allows fewer"
            )
        if not user.account_enabled:
            errors.append("account disabled")
        return {
            **_user(user, directory),
            "attributes": dict(sorted(user.attributes.items())),
            "mail": user.mail,
            "proxy_addresses": list(user.proxy_addresses),
            "groups": [g.display_name for g in directory.groups_of(user.id)],
            "segments": _segments(epoch, i, directory),
            "errors": errors,
            "fixes": [
                f for f in fixes(epoch, directory, _self_verdict(epoch, i)) if epoch.in_conflict(i)
            ],
            "epoch": current.epoch_id,
            "mode": epoch.mode.value,
            "reach": {
                "groups": len(rows),
                "reachable": sum(r.users for r in rows if r.allowed),
                "unreachable": sum(r.users for r in rows if not r.allowed),
            },
        }

    def reach(self, tenant: str, upn: str, offset: int, limit: int) -> dict[str, Any]:
        """Whom the person can and cannot reach, by group of users in the same segments
        (blocked first), with the verdict's reason and policy: one page of rows."""
        current = self.decisions.current(tenant)
        epoch = current.epoch
        rows = reach_rows(epoch, _index(epoch, upn))
        return {
            "total": len(rows),
            "offset": offset,
            "rows": [r.as_dict() for r in rows[offset : offset + limit]],
        }

    def members(self, tenant: str, segment: str, offset: int, limit: int) -> dict[str, Any]:
        """A segment's users, a page at a time: as applied when the segment is in the
        epoch in force, else as its definition's filter matches today's directory."""
        current = self.decisions.current(tenant)
        epoch, directory = current.epoch, current.directory
        applied = epoch.config.find_segment(segment)
        if applied is not None:
            found = segment_members(epoch, applied.name)
            ids = [epoch.user_ids[k] for k in found[offset : offset + limit]]
            name, text, total = applied.name, applied.filter, len(found)
        else:
            with self.decisions.ctx.tenant_tx(tenant, "", write=False) as tx:
                defined = tx.repos.barriers.load().segment(segment)
            mask = DirectoryColumns(directory).evaluate(parse_filter(defined.filter))
            users = list(directory.users())
            hits = [users[k].id for k in mask.nonzero()[0]]
            ids = hits[offset : offset + limit]
            name, text, total = defined.name, defined.filter, len(hits)
        return {
            "segment": name,
            "filter": text,
            "applied": applied is not None,
            "total": total,
            "offset": offset,
            "members": [_user(directory.user(uid), directory) for uid in ids],
        }

    def explain(self, tenant: str, action: str, sender: str, to: Sequence[str]) -> dict[str, Any]:
        """The verdict of one check with several recipients (``add-team-member``: the
        newcomer and the team's members, its Implicit rule), each recipient's own pair
        with the sender, what put each user in their segments, and suggested fixes."""
        if not to:
            raise InvalidInput("name at least one recipient")
        if len(to) > MAX_EXPLAIN:
            raise InvalidInput(f"explain answers for at most {MAX_EXPLAIN} recipients at once")
        kind = parse_action(action)
        current = self.decisions.current(tenant)
        epoch, directory = current.epoch, current.directory
        openings = self.decisions.openings(current)
        _v, restricted = self.decisions.in_force(tenant)
        s = _index(epoch, sender)
        others = [_index(epoch, u) for u in to]
        verdict = decide(
            epoch,
            kind,
            s,
            others,
            people_search_restriction=restricted,
            openings=openings,
        )
        pairs = []
        for o in others:
            pair = compatibility(epoch, s, o, action=kind, openings=openings)
            pairs.append(
                {
                    "upn": epoch.upns[o],
                    "verdict": pair.as_dict(),
                    "fixes": fixes(epoch, directory, pair),
                }
            )
        users = []
        for k in [s, *others]:
            user = directory.user(epoch.user_ids[k])
            users.append(
                {
                    **_user(user, directory),
                    "segments": _segments(epoch, k, directory),
                    "groups": [g.display_name for g in directory.groups_of(user.id)],
                }
            )
        return {
            "action": kind.value,
            "verdict": verdict.as_dict(),
            "fixes": fixes(epoch, directory, verdict),
            "pairs": pairs,
            "users": users,
            "epoch": current.epoch_id,
        }


def _self_verdict(epoch: Epoch, i: int) -> Verdict:
    """A conflict verdict naming only this user (to reuse :func:`fixes` for their page)."""
    return Verdict(False, VerdictCode.POLICY_CONFLICT, "", (epoch.upns[i], epoch.upns[i]))
