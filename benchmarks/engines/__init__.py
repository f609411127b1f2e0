"""The engines the benchmark compares, behind one small interface.

Every engine is built from the same generated tenant and answers the same questions:
``compatible(u, v)`` of semantics §6 for two users, given either as *handles* (whatever
the engine resolves a user to ahead of time: an epoch index, a Cedar entity uid, a Casbin
subject name, a ``User`` object) or by UPN, one at a time or in a batch, the §7 group
check (every pair among the users), and a directory change (one user's department).

Segment membership (the OPATH filters of §3) is evaluated by infobarrier for everyone:
neither Cedar nor Casbin can evaluate OPATH filters, so their build starts from each
user's list of segments (read from the compiled epoch) and loads users, segments and
the policies into the engine. Their build time therefore covers only that load; a
directory change re-evaluates the changed user's segments with infobarrier's per-user
evaluator (``core.patch.segments_of_user``) for them too, inside the timed change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from benchmarks.generate import Tenant
from infobarrier.core.directory import User
from infobarrier.core.epoch import Epoch


class Engine(ABC):
    """One engine over one tenant. ``build`` is timed by the harness."""

    #: Short name used in tables and JSON (``infobarrier``, ``cedar``, ``casbin``, ...).
    name: ClassVar[str]
    #: How the engine models the rule, in a sentence (printed under the tables).
    model: str = ""

    def __init__(self, tenant: Tenant, epoch: Epoch) -> None:
        self.tenant = tenant
        self.epoch = epoch

    def unsupported(self) -> str | None:
        """Why this engine is not run on this tenant (too large to load), or ``None``."""
        return None

    @abstractmethod
    def build(self) -> None:
        """Load the tenant into the engine (the engine's "apply")."""

    @abstractmethod
    def handles(self, indices: Sequence[int]) -> list[Any]:
        """The engine's resolved handle of each user (by position in the tenant)."""

    @abstractmethod
    def decide(self, a: Any, b: Any) -> bool:
        """``compatible`` for two handles."""

    @abstractmethod
    def decide_upn(self, a: str, b: str) -> bool:
        """``compatible`` for two UPNs."""

    def prepare_many(self, us: Sequence[int], vs: Sequence[int]) -> Any:
        """Whatever :meth:`decide_many` takes for these pairs (prepared untimed)."""
        return list(zip(self.handles(us), self.handles(vs), strict=True))

    def decide_many(self, prepared: Any) -> Sequence[bool]:
        """``compatible`` for many pairs (the engine's batch path, if it has one)."""
        return [self.decide(a, b) for a, b in prepared]

    def group(self, members: Sequence[Any]) -> bool:
        """Every pair among ``members`` (handles) compatible: a §7 group chat."""
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if not self.decide(a, b):
                    return False
        return True

    @abstractmethod
    def change(self, index: int, user: User, member_of: Sequence[str]) -> None:
        """Take a changed user (same id and UPN, new attributes) so decisions reflect it."""

    def memory(self) -> dict[str, Any] | None:
        """Exact accounting of what the engine keeps, where it can be had."""
        return None


__all__ = ["Engine", "registry"]


def registry() -> dict[str, type[Engine]]:
    """Every engine by name (imported lazily: cedarpy and pycasbin are the bench extra)."""
    from benchmarks.engines.casbin import Casbin, CasbinDeny
    from benchmarks.engines.cedar import Cedar, CedarPerPolicy
    from benchmarks.engines.infobarrier import Infobarrier
    from benchmarks.engines.reference import Reference

    return {e.name: e for e in (Infobarrier, Cedar, Casbin, Reference, CedarPerPolicy, CasbinDeny)}
