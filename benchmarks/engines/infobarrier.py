"""infobarrier through its public Python API.

Build: :func:`~infobarrier.core.compiler.compile_epoch`. Handles are epoch indices
(:meth:`Epoch.index_of` resolves a UPN); one pair is :meth:`Epoch.allowed`, by UPN
:meth:`Epoch.allowed_upn`; a batch is :func:`~infobarrier.core.decisions.compatible_many`
over index arrays; a group is :meth:`Epoch.all_allowed`; a directory change is
:func:`~infobarrier.core.patch.patch_epoch` for the changed user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.engines import Engine
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatible_many
from infobarrier.core.directory import User
from infobarrier.core.patch import patch_epoch


class Infobarrier(Engine):
    """The engine under test."""

    name = "infobarrier"
    model = (
        "compile_epoch: users grouped into profiles (their exact set of segments), a P×P "
        "compatibility table; decisions are table lookups"
    )

    def build(self) -> None:
        self.epoch = compile_epoch(self.tenant.directory, self.tenant.config)

    def handles(self, indices: Sequence[int]) -> list[Any]:
        return [int(i) for i in indices]

    def decide(self, a: Any, b: Any) -> bool:
        return self.epoch.allowed(a, b)

    def decide_upn(self, a: str, b: str) -> bool:
        return bool(self.epoch.allowed_upn(a, b))

    def prepare_many(
        self, us: Sequence[int], vs: Sequence[int]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        return np.asarray(us, dtype=np.intp), np.asarray(vs, dtype=np.intp)

    def decide_many(self, prepared: Any) -> Sequence[bool]:
        u, v = prepared
        return compatible_many(self.epoch, u, v)  # type: ignore[no-any-return]

    def group(self, members: Sequence[Any]) -> bool:
        return self.epoch.all_allowed(members)

    def change(self, index: int, user: User, member_of: Sequence[str]) -> None:
        patched = patch_epoch(self.epoch, [(user, member_of)])
        if patched is None:
            raise RuntimeError("patch_epoch refused the change")
        self.epoch = patched
