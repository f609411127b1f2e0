"""infobarrier for Matrix Synapse: a homeserver module that enforces a tenant's barrier.

Configure ``infobarrier_synapse.InformationBarrierModule`` under ``modules:`` (see the
package README). This package imports Synapse; infobarrier itself never does.
"""

from infobarrier_synapse.module import InformationBarrierModule

__all__ = ["InformationBarrierModule"]
