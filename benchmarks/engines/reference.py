"""The naive reference evaluator of ``tests/reference_model.py`` (docs/semantics.md read literally).

It keeps nothing: every question recomputes both users' segments from the directory
(``MemberOf`` by scanning every group). Handles are user ids (the directory's dict finds
the current ``User``); by UPN, the directory's UPN index finds them. A directory change
is the directory's own ``put_user``: the next question sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reference_model
from benchmarks.engines import Engine
from infobarrier.core.directory import User


class Reference(Engine):
    """No compile step: everything at decision time."""

    name = "reference"
    model = "tests/reference_model.py: segments_of both users, then §6 line by line, per call"

    def build(self) -> None:
        self.directory = self.tenant.directory
        self.config = self.tenant.config.active()

    def handles(self, indices: Sequence[int]) -> list[Any]:
        users = self.tenant.users
        return [users[int(i)].id for i in indices]

    def decide(self, a: Any, b: Any) -> bool:
        directory = self.directory
        return reference_model.compatible(
            directory, self.config, directory.user(a), directory.user(b)
        )

    def decide_upn(self, a: str, b: str) -> bool:
        directory = self.directory
        return reference_model.compatible(
            directory, self.config, directory.by_upn(a), directory.by_upn(b)
        )

    def change(self, index: int, user: User, member_of: Sequence[str]) -> None:
        self.directory.put_user(user)
