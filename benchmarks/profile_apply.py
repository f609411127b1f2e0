"""Where does ``compile_epoch`` spend its time? A phase-by-phase breakdown.

Run from the repository root::

    python -m benchmarks.profile_apply --size 1000000 --segments 500 [--mode multi]
                                       [--cprofile]

It generates the tenant, times ``compile_epoch`` as a whole, then replays the same steps
one by one (mirroring ``src/infobarrier/core/compiler.py``: building each column of
``DirectoryColumns``, evaluating the segment filters grouped by the kind of comparison,
profiles, the compatibility table, the per-user arrays and the UPN index) and checks
that the replay produces the same profiles as ``compile_epoch``. ``--cprofile`` adds the
top functions by own time (cProfile inflates per-call costs; the phase timings are not
instrumented and are the ones to trust). For line-level attribution use py-spy::

    py-spy record -o apply.svg -- python -m benchmarks.profile_apply --size 1000000
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from benchmarks.generate import TenantSpec, generate
from infobarrier.core.attributes import is_multi_valued
from infobarrier.core.barriers import LIMITS, Mode
from infobarrier.core.columns import DirectoryColumns
from infobarrier.core.compiler import (
    _profiles,
    compile_epoch,
    profile_compat,
    segment_relation,
)
from infobarrier.core.directory import fold
from infobarrier.core.epoch import fast_tables
from infobarrier.core.filters.ast import Comparison, Expr, Not, Op

T = TypeVar("T")


def comparisons(expr: Expr) -> list[Comparison]:
    """The comparisons of a filter, in order."""
    if isinstance(expr, Comparison):
        return [expr]
    if isinstance(expr, Not):
        return comparisons(expr.operand)
    return [c for o in expr.operands for c in comparisons(o)]


def kind_of(expr: Expr) -> str:
    """A label for a filter: the attributes and operators it uses."""
    parts = sorted({f"{c.attribute} {c.op.value}" for c in comparisons(expr)})
    return " & ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.profile_apply``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_apply")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--mode", choices=("single", "multi"), default="single")
    parser.add_argument("--overlays", choices=("correlated", "random"), default="correlated")
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args(argv)
    mode = Mode.SINGLE_SEGMENT if args.mode == "single" else Mode.MULTI_SEGMENT

    start = time.perf_counter()
    spec = TenantSpec(
        args.size, args.segments, mode, correlated_overlays=args.overlays == "correlated"
    )
    tenant = generate(spec)
    print(f"generated {args.size:,} users in {time.perf_counter() - start:.2f} s")
    directory, config = tenant.directory, tenant.config.active()

    gc.collect()
    start = time.perf_counter()
    epoch = compile_epoch(directory, config)
    total = time.perf_counter() - start
    print(f"compile_epoch: {total:.2f} s ({len(epoch.profiles):,} profiles)\n")
    del epoch
    gc.collect()

    phases: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def timed(label: str, fn: Callable[[], T]) -> T:
        begin = time.perf_counter()
        value = fn()
        phases[label] += time.perf_counter() - begin
        calls[label] += 1
        return value

    users = timed("list(directory.users())", lambda: list(directory.users()))
    n = len(users)
    columns = DirectoryColumns(directory, users)
    attributes = sorted({c.attribute for s in config.segments for c in comparisons(s.expr)})
    for attribute in attributes:
        if is_multi_valued(attribute):
            timed(f"column build: {attribute} (multi)", partial(columns.multi, attribute))
        else:
            timed(f"column build: {attribute}", partial(columns.single, attribute))
    owners: list[npt.NDArray[np.int64]] = []
    for segment in config.segments:
        mask = timed(f"filter: {kind_of(segment.expr)}", partial(columns.evaluate, segment.expr))
        owners.append(timed("np.flatnonzero(mask)", partial(np.flatnonzero, mask)))
    s_count = len(config.segments)
    profile_of, profiles = timed("_profiles", lambda: _profiles(n, owners, s_count))
    limit = LIMITS[config.mode].max_segments_per_user
    conflict = np.array([len(p) > limit for p in profiles], dtype=np.bool_)
    relation, opened = timed("segment_relation", lambda: segment_relation(config))
    compat = timed(
        "profile_compat",
        lambda: profile_compat(profiles, s_count, relation, opened, conflict),
    )
    timed(
        "enabled + hidden (fromiter)",
        lambda: (
            np.fromiter((u.account_enabled for u in users), dtype=np.bool_, count=n),
            np.fromiter((u.is_hidden for u in users), dtype=np.bool_, count=n),
        ),
    )
    enabled = np.fromiter((u.account_enabled for u in users), dtype=np.bool_, count=n)
    usable = enabled & ~conflict[profile_of]
    timed("fast_tables (keys, rows)", lambda: fast_tables(usable, profile_of, compat))
    timed(
        "segment names + policies",
        lambda: (
            tuple(s.name for s in config.segments),
            tuple(config.policy_of(s.name) for s in config.segments),
        ),
    )
    upns = timed(
        "upns + user_ids tuples", lambda: (tuple(u.upn for u in users), [u.id for u in users])
    )[0]
    timed("upn_index dict (fold)", lambda: {fold(upn): i for i, upn in enumerate(upns)})

    replay = sum(phases.values())
    print(f"{'phase':<70} {'calls':>6} {'seconds':>8} {'share':>6}")
    for label, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"{label:<70} {calls[label]:>6} {seconds:>8.3f} {seconds / replay:>6.1%}")
    print(f"{'replay total':<70} {'':>6} {replay:>8.3f}   (compile_epoch: {total:.3f} s)")

    vocab = {a: len(columns.single(a).vocabulary) for a in attributes if not is_multi_valued(a)}
    likes: dict[str, int] = defaultdict(int)
    for segment in config.segments:
        for c in comparisons(segment.expr):
            if c.op in (Op.LIKE, Op.NOTLIKE):
                likes[c.attribute] += 1
    print("\ndistinct values per single-valued column:", vocab)
    print("-like comparisons per attribute:", dict(likes))
    print(
        "values a full vocabulary scan would test for -like (comparisons x vocabulary):",
        {a: likes[a] * vocab.get(a, 0) for a in likes},
    )
    check = compile_epoch(directory, config)
    if not np.array_equal(check.profile_of, profile_of):
        print("replay differs from compile_epoch: the breakdown is stale", file=sys.stderr)
        return 1

    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        compile_epoch(directory, config)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
