"""Who can communicate with whom, segment by segment, including the unsegmented (§6).

Each cell is the verdict for two users, one in each segment (or in no segment), who are
enabled and not in conflict: the part of §6 that segments and policies decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infobarrier.core.codes import VerdictCode
from infobarrier.core.decisions import NO_SEGMENT, explain_profiles
from infobarrier.core.epoch import UNSEGMENTED, Epoch


@dataclass(frozen=True, slots=True)
class Cell:
    """The verdict between segment ``a`` and segment ``b`` (either may be ``(none)``)."""

    a: str
    b: str
    allowed: bool
    code: VerdictCode
    reason: str
    policy: str | None


def row_names(epoch: Epoch) -> list[str]:
    """The matrix's rows and columns: every segment, then ``(none)``."""
    return [*epoch.segment_names, NO_SEGMENT]


def _profile(epoch: Epoch, row: int) -> int:
    return UNSEGMENTED if row == len(epoch.segment_names) else row + 1


def segment_verdicts(epoch: Epoch) -> list[Cell]:
    """One cell per unordered pair of rows (the relation is symmetric), row-major."""
    names = row_names(epoch)
    cells: list[Cell] = []
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            found = explain_profiles(epoch, _profile(epoch, i), _profile(epoch, j))
            cells.append(Cell(a, names[j], found.allowed, found.code, found.reason, found.policy))
    return cells


def full_matrix(epoch: Epoch) -> list[list[Cell]]:
    """The square matrix, both halves filled, in :func:`row_names` order."""
    names = row_names(epoch)
    index = {n: k for k, n in enumerate(names)}
    grid: list[list[Cell | None]] = [[None] * len(names) for _ in names]
    for cell in segment_verdicts(epoch):
        i, j = index[cell.a], index[cell.b]
        grid[i][j] = cell
        grid[j][i] = Cell(cell.b, cell.a, cell.allowed, cell.code, cell.reason, cell.policy)
    return [[c for c in row if c is not None] for row in grid]


def allowed_rows(epoch: Epoch) -> list[str]:
    """Every cell's verdict, one string per row in :func:`row_names` order (``"1"`` allowed,
    ``"0"`` blocked): what the web page's grid draws.

    Read from the epoch's profile table (``compat``: segments are profiles ``1..S``, users
    in no segment profile 0), so no reason is built: 500 segments are 251,001 characters,
    not 251,001 explained cells. :func:`cell_at` explains one cell when asked.
    """
    order = np.array([*range(1, len(epoch.segment_names) + 1), UNSEGMENTED], dtype=np.intp)
    grid = epoch.compat[np.ix_(order, order)].astype(np.uint8) + ord("0")
    return [row.tobytes().decode("ascii") for row in grid]


def cell_at(epoch: Epoch, i: int, j: int) -> Cell:
    """The cell of rows ``i`` and ``j`` (indexes of :func:`row_names`), explained."""
    names = row_names(epoch)
    found = explain_profiles(epoch, _profile(epoch, i), _profile(epoch, j))
    return Cell(names[i], names[j], found.allowed, found.code, found.reason, found.policy)
