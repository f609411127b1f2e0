"""Cedar (the Rust engine, through ``cedarpy``), with the two-way rule of semantics §6.

Entities: ``User::"<upn>"`` whose parents are its segments (``Segment::"s<k>"``), with
attributes ``disabled`` and ``conflict`` (more segments than the mode allows: Cedar cannot
count parents, so the loader sets it) and, per mode, what the policies read. The request
is ``principal = User, action = Action::"communicate", resource = User``; ``Allow`` means
compatible. Entities and policies are parsed once into ``cedarpy.Entities`` /
``cedarpy.PolicySet`` handles and reused by every call (no re-parse per request).

Policies (``ATTRIBUTE`` encoding, the default: a constant number of policies):

* SingleSegment: each segment carries its policy as data (``restricted``: it has an allow
  list, ``allows`` / ``blocks``: the listed segments) and each segmented user a ``seg``
  reference::

      permit(principal, action, resource);
      forbid(...) when { principal != resource && (principal.disabled || resource.disabled
                         || principal.conflict || resource.conflict) };
      forbid(...) when { principal != resource && principal has seg && resource has seg && (
          principal.seg.blocks.contains(resource.seg) || resource.seg.blocks.contains(principal.seg)
          || (principal.seg.restricted && !principal.seg.allows.contains(resource.seg))
          || (resource.seg.restricted && !resource.seg.allows.contains(principal.seg))) };

  Users in no segment pass (in SingleSegment every segment is ``open``), the same user
  always passes, and the two ``forbid`` directions are the two-way rule.
* MultiSegment ("some a in segs(u), b in segs(v) permitted both ways"): an existential
  over both users' segments, which ``forbid`` cannot express. Each segment ``b`` gets as
  parents ``Reach::"s<a>"`` for every segment ``a`` it is mutually permitted with (the
  segment relation, from the policies), and each user the attribute ``reach`` = the
  ``Reach`` entities of its own segments; then ``resource in principal.reach`` holds
  exactly when some pair of their segments is mutually permitted::

      permit(principal, action, resource) when { principal == resource
          || !principal.segmented || !resource.segmented || resource in principal.reach };
      forbid(...) when { principal != resource && (disabled or conflict, as above) };

``PER_POLICY`` encoding (SingleSegment only, ``--engines cedar-per-policy``): the way
an administrator would transcribe each information-barrier policy, two ``forbid``
statements per policy (one per direction), e.g. for a block list
``forbid(principal in Segment::"s3", action, resource) when { resource in [Segment::"s7",
...] }`` and its mirror. Cedar evaluates every policy on every request, so its latency
grows with the number of policies (about 0.8 µs per policy).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import cedarpy
import numpy as np

from benchmarks.engines import Engine
from infobarrier.core.barriers import LIMITS, ListKind, Mode
from infobarrier.core.directory import User, fold
from infobarrier.core.patch import segments_of_user

ACTION = 'Action::"communicate"'

SINGLE_POLICIES = """
permit(principal, action, resource);
forbid(principal, action, resource) when { principal != resource && (principal.disabled
  || resource.disabled || principal.conflict || resource.conflict) };
forbid(principal, action, resource) when { principal != resource && principal has seg
  && resource has seg && (principal.seg.blocks.contains(resource.seg)
  || resource.seg.blocks.contains(principal.seg)
  || (principal.seg.restricted && !principal.seg.allows.contains(resource.seg))
  || (resource.seg.restricted && !resource.seg.allows.contains(principal.seg))) };
"""

MULTI_POLICIES = """
permit(principal, action, resource) when { principal == resource || !principal.segmented
  || !resource.segmented || resource in principal.reach };
forbid(principal, action, resource) when { principal != resource && (principal.disabled
  || resource.disabled || principal.conflict || resource.conflict) };
"""

#: Above this many segment-to-segment parent edges (MultiSegment), the entity graph is
#: too large to load in the benchmark's time.
MAX_REACH_EDGES = 3_000_000
#: MultiSegment keeps about 14 KB per user resident (the transitive closure of the
#: User → Segment → Reach graph): above this many users it would not fit beside the rest.
MAX_MULTI_USERS = 300_000


def _sid(s: int) -> str:
    return f"s{s}"


def _seg_ref(s: int) -> dict[str, Any]:
    return {"__entity": {"type": "Segment", "id": _sid(s)}}


class Cedar(Engine):
    """Cedar with the attribute encoding (few policies, the lists as segment data)."""

    name = "cedar"
    encoding: ClassVar[str] = "attribute"
    model = (
        "cedarpy Entities/PolicySet handles; User parents = segments; SingleSegment: 3 "
        "policies reading each segment's allow/block list as data; MultiSegment: permit "
        "when `resource in principal.reach` (Segment → Reach parents from the mutual "
        "segment relation)"
    )

    def unsupported(self) -> str | None:
        mode = self.epoch.mode
        if mode is Mode.LEGACY:
            return "Legacy mode is not modelled"
        if mode is Mode.MULTI_SEGMENT:
            if len(self.epoch) > MAX_MULTI_USERS:
                return (
                    f"MultiSegment keeps ~14 KB/user resident (measured at 100k users): "
                    f"~{len(self.epoch) * 14 / 1e6:.0f} GB at this size"
                )
            mutual = self.epoch.permits & self.epoch.permits.T
            edges = int(mutual.sum())
            if edges > MAX_REACH_EDGES:
                return f"{edges:,} Segment→Reach edges: too large to load"
        return None

    # -- building ----------------------------------------------------------------------
    def _segment_indices(self) -> dict[str, int]:
        return {fold(s.name): k for k, s in enumerate(self.epoch.config.segments)}

    def _segment_entities(self) -> list[dict[str, Any]]:
        epoch = self.epoch
        index = self._segment_indices()
        count = len(epoch.config.segments)
        entities: list[dict[str, Any]] = []
        if epoch.mode is Mode.MULTI_SEGMENT:
            mutual = epoch.permits & epoch.permits.T
            for s in range(count):
                parents = [{"type": "Reach", "id": _sid(int(a))} for a in np.flatnonzero(mutual[s])]
                entities.append(
                    {"uid": {"type": "Segment", "id": _sid(s)}, "attrs": {}, "parents": parents}
                )
                entities.append(
                    {"uid": {"type": "Reach", "id": _sid(s)}, "attrs": {}, "parents": []}
                )
            return entities
        for s in range(count):
            policy = epoch.policies[s]
            listed = [_seg_ref(index[fold(n)]) for n in policy.segments] if policy else []
            allow = policy is not None and policy.kind is ListKind.ALLOW
            attrs = {
                "restricted": allow,
                "allows": listed if allow else [],
                "blocks": listed if policy is not None and not allow else [],
            }
            entities.append(
                {"uid": {"type": "Segment", "id": _sid(s)}, "attrs": attrs, "parents": []}
            )
        return entities

    def _user_entity(self, upn: str, enabled: bool, segments: Sequence[int]) -> dict[str, Any]:
        limit = LIMITS[self.epoch.mode].max_segments_per_user
        attrs: dict[str, Any] = {"disabled": not enabled, "conflict": len(segments) > limit}
        if self.epoch.mode is Mode.MULTI_SEGMENT:
            attrs["segmented"] = bool(segments)
            attrs["reach"] = [{"__entity": {"type": "Reach", "id": _sid(s)}} for s in segments]
        elif len(segments) == 1:
            attrs["seg"] = _seg_ref(segments[0])
        return {
            "uid": {"type": "User", "id": upn},
            "attrs": attrs,
            "parents": [{"type": "Segment", "id": _sid(s)} for s in segments],
        }

    def _entities_json(self) -> str:
        epoch = self.epoch
        profiles = epoch.profiles
        entities = self._segment_entities()
        user = self._user_entity
        overrides = self._overrides
        for i, (upn, enabled, profile) in enumerate(
            zip(epoch.upns, epoch.enabled.tolist(), epoch.profile_of.tolist(), strict=True)
        ):
            if i in overrides:
                entities.append(user(upn, *overrides[i]))
            else:
                entities.append(user(upn, enabled, profiles[profile]))
        return json.dumps(entities, separators=(",", ":"))

    def _policies(self) -> str:
        return SINGLE_POLICIES if self.epoch.mode is not Mode.MULTI_SEGMENT else MULTI_POLICIES

    def build(self) -> None:
        self._overrides: dict[int, tuple[bool, tuple[int, ...]]] = {}
        text = self._entities_json()
        self.entities = cedarpy.Entities.from_json_str(text)
        del text
        self.policies = cedarpy.PolicySet.from_str(self._policies())

    # -- deciding ----------------------------------------------------------------------
    def handles(self, indices: Sequence[int]) -> list[Any]:
        """``{"type": "User", "id": upn}``: the structured form, which Cedar does not have to
        parse (the ``'User::"upn"'`` string form costs about 20 µs more per request)."""
        upns = self.epoch.upns
        return [{"type": "User", "id": upns[int(i)]} for i in indices]

    def decide(self, a: Any, b: Any) -> bool:
        request = {"principal": a, "action": ACTION, "resource": b}
        return cedarpy.is_authorized(request, self.policies, self.entities).allowed

    def decide_upn(self, a: str, b: str) -> bool:
        request = {
            "principal": {"type": "User", "id": a.strip().lower()},
            "action": ACTION,
            "resource": {"type": "User", "id": b.strip().lower()},
        }
        return cedarpy.is_authorized(request, self.policies, self.entities).allowed

    def prepare_many(self, us: Sequence[int], vs: Sequence[int]) -> Any:
        return [
            {"principal": a, "action": ACTION, "resource": b}
            for a, b in zip(self.handles(us), self.handles(vs), strict=True)
        ]

    def decide_many(self, prepared: Any) -> Sequence[bool]:
        answers = cedarpy.is_authorized_batch(prepared, self.policies, self.entities)
        return [r.allowed for r in answers]

    def group(self, members: Sequence[Any]) -> bool:
        requests = [
            {"principal": a, "action": ACTION, "resource": b}
            for i, a in enumerate(members)
            for b in members[i + 1 :]
        ]
        return all(
            r.allowed for r in cedarpy.is_authorized_batch(requests, self.policies, self.entities)
        )

    # -- a directory change --------------------------------------------------------------
    #: A change re-parses the whole entity set: its cost is the build's.
    change_is_rebuild = True

    def change(self, index: int, user: User, member_of: Sequence[str]) -> None:
        """Cedar's entity set is immutable: rebuild it with the changed user and re-parse.

        (``Entities.with_added_json_str`` only adds: a uid already present with other
        attributes or parents is an error.)
        """
        segments = segments_of_user(self.epoch, user, member_of)
        self._overrides[index] = (user.account_enabled, segments)
        self.entities = cedarpy.Entities.from_json_str(self._entities_json())


class CedarPerPolicy(Cedar):
    """Cedar with one pair of ``forbid`` statements per information-barrier policy."""

    name = "cedar-per-policy"
    encoding = "per-policy"
    model = (
        "cedarpy; User parents = segments; two forbid statements per IB policy "
        "(`principal in Segment::a` ... `resource in [listed]`, and the mirror)"
    )

    def unsupported(self) -> str | None:
        if self.epoch.mode is not Mode.SINGLE_SEGMENT:
            return "per-policy forbids cannot express MultiSegment's 'some pair' rule"
        return None

    def _segment_entities(self) -> list[dict[str, Any]]:
        count = len(self.epoch.config.segments)
        return [
            {"uid": {"type": "Segment", "id": _sid(s)}, "attrs": {}, "parents": []}
            for s in range(count)
        ]

    def _user_entity(self, upn: str, enabled: bool, segments: Sequence[int]) -> dict[str, Any]:
        limit = LIMITS[self.epoch.mode].max_segments_per_user
        return {
            "uid": {"type": "User", "id": upn},
            "attrs": {
                "disabled": not enabled,
                "conflict": len(segments) > limit,
                "segmented": bool(segments),
            },
            "parents": [{"type": "Segment", "id": _sid(s)} for s in segments],
        }

    def _policies(self) -> str:
        index = self._segment_indices()
        lines = [
            "permit(principal, action, resource);",
            "forbid(principal, action, resource) when { principal != resource && "
            "(principal.disabled || resource.disabled || principal.conflict "
            "|| resource.conflict) };",
        ]
        for policy in self.epoch.config.policies:
            a = _sid(index[fold(policy.segment)])
            listed = ", ".join(f'Segment::"{_sid(index[fold(n)])}"' for n in policy.segments)
            if policy.kind is ListKind.BLOCK:
                lines.append(
                    f'forbid(principal in Segment::"{a}", action, resource) when '
                    f"{{ principal != resource && resource in [{listed}] }};"
                )
                lines.append(
                    f'forbid(principal, action, resource in Segment::"{a}") when '
                    f"{{ principal != resource && principal in [{listed}] }};"
                )
            else:
                lines.append(
                    f'forbid(principal in Segment::"{a}", action, resource) unless '
                    f"{{ principal == resource || !resource.segmented || resource in [{listed}] }};"
                )
                lines.append(
                    f'forbid(principal, action, resource in Segment::"{a}") unless '
                    f"{{ principal == resource || !principal.segmented "
                    f"|| principal in [{listed}] }};"
                )
        return "\n".join(lines)
