"""infobarrier for Matrix Synapse: a homeserver module that enforces a tenant's barrier.

Configure ``infobarrier_synapse.InformationBarrierModule`` under ``modules:`` (see the
package README). Only :mod:`infobarrier_synapse.module` imports Synapse, and only when the
class is asked for, so the other parts (configuration, decisions, rooms) import without it.
infobarrier itself never imports Synapse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infobarrier_synapse.module import InformationBarrierModule

__all__ = ["InformationBarrierModule"]


def __getattr__(name: str) -> Any:
    if name == "InformationBarrierModule":
        from infobarrier_synapse.module import InformationBarrierModule

        return InformationBarrierModule
    raise AttributeError(f"module 'infobarrier_synapse' has no attribute {name!r}")
