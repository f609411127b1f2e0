"""Benchmark the engine against the naive reference model on synthetic tenants.

Run from the repository root::

    python -m benchmarks.run --sizes 10000,100000[,1000000] [--segments 50,500]
                             [--modes single,multi] [--quick] [--markdown]

For every (size, segment count, mode) it generates a tenant (``benchmarks.generate``),
compiles it, checks that the engine agrees with ``tests/reference_model.py`` on a sample
of pairs (a disagreement aborts the run), then times: ``compile_epoch`` (apply), the
epoch's memory, single decisions (``compatibility``), the boolean-only path, batches
(``compatible_many``) and a 20-person group chat (``decide``), each next to the reference
evaluator (timed on a sample within a time budget and extrapolated where the sample is
smaller than the workload). Results go to ``benchmarks/results/latest.json``.

"speedup" is reference time / infobarrier time (= infobarrier throughput / reference
throughput): how many times faster the engine is.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import reference_model
from benchmarks import ROOT
from benchmarks.generate import Tenant, TenantSpec, generate
from infobarrier.core.barriers import Mode
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import Action, compatibility, compatible_many, decide, pairs_for
from infobarrier.core.directory import User
from infobarrier.core.epoch import Epoch

RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
GROUP_SIZE = 20
MODES = {"single": Mode.SINGLE_SEGMENT, "multi": Mode.MULTI_SEGMENT}

#: Targets from the issue: (label, figure key, comparison, threshold).
APPLY_TARGET_S = 10.0
BATCH_TARGET_PER_S = 1_000_000.0

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    """How much work each measurement does."""

    calls: int = 200_000
    batch: int = 100_000
    batch_repeats: int = 10
    agreement: int = 300
    groups: int = 50
    group_calls: int = 2_000
    ref_pairs: int = 200
    ref_users: int = 1_000
    ref_groups: int = 5
    ref_budget_s: float = 3.0

    @classmethod
    def quick(cls) -> Settings:
        """Smaller samples for a smoke run (``--quick``)."""
        return cls(
            calls=20_000,
            batch=100_000,
            batch_repeats=3,
            agreement=100,
            groups=10,
            group_calls=200,
            ref_pairs=50,
            ref_users=200,
            ref_groups=1,
            ref_budget_s=1.0,
        )


class Disagreement(Exception):
    """The engine and the reference model gave different answers."""


# -- machine ------------------------------------------------------------------------------
def machine() -> Json:
    """nproc, CPU model, memory, Python and numpy versions."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": nproc,
        "cpu_model": model,
        "memory_gb": mem_gb,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- timing helpers -----------------------------------------------------------------------
def sampled(items: Sequence[Any], fn: Callable[[Any], object], limit: int, budget_s: float) -> Json:
    """Call ``fn`` on up to ``limit`` items, stopping once ``budget_s`` is spent."""
    done = 0
    start = time.perf_counter_ns()
    for item in items[:limit]:
        fn(item)
        done += 1
        if (time.perf_counter_ns() - start) / 1e9 > budget_s:
            break
    elapsed = time.perf_counter_ns() - start
    return {"sample": done, "mean_ns": elapsed / max(done, 1)}


def random_pairs(rng: np.random.Generator, n: int, count: int) -> tuple[list[int], list[int]]:
    """``count`` random (u, v) index pairs, as Python ints."""
    return rng.integers(0, n, size=count).tolist(), rng.integers(0, n, size=count).tolist()


# -- agreement ----------------------------------------------------------------------------
def agreement_pairs(epoch: Epoch, rng: np.random.Generator, count: int) -> list[tuple[int, int]]:
    """Random pairs plus pairs chosen to hit each rule of §6 (about 1/6 of them)."""
    n = len(epoch)
    us, vs = random_pairs(rng, n, count)
    pairs = list(zip(us, vs, strict=True))
    profile_of = epoch.profile_of
    pools = {
        "disabled": np.flatnonzero(~epoch.enabled),
        "conflict": np.flatnonzero(epoch.conflict[profile_of]),
        "unsegmented": np.flatnonzero(profile_of == 0),
        "multi": np.flatnonzero(np.array([len(p) > 1 for p in epoch.profiles])[profile_of]),
    }
    targeted: list[tuple[int, int]] = []
    per_pool = max(1, count // 24)
    for pool in pools.values():
        if len(pool) == 0:
            continue
        for _ in range(per_pool):
            targeted.append((int(rng.choice(pool)), int(rng.integers(0, n))))
            targeted.append((int(rng.choice(pool)), int(rng.choice(pool))))
    targeted += [(i, i) for i in rng.integers(0, n, size=per_pool).tolist()]
    return targeted + pairs[: max(0, count - len(targeted))]


def check_agreement(tenant: Tenant, epoch: Epoch, rng: np.random.Generator, count: int) -> Json:
    """``compatibility(...).allowed`` must equal ``reference_model.compatible(...)``."""
    users: list[User] = tenant.users
    if list(epoch.user_ids) != [u.id for u in users]:
        raise Disagreement("the epoch's users are not in the directory's order")
    pairs = agreement_pairs(epoch, rng, count)
    allowed = 0
    for u, v in pairs:
        engine = compatibility(epoch, u, v)
        expected = reference_model.compatible(tenant.directory, tenant.config, users[u], users[v])
        if engine.allowed != expected:
            raise Disagreement(
                f"pair ({u}, {v}) = ({users[u].upn}, {users[v].upn}): engine says "
                f"{engine.allowed} ({engine.code}: {engine.reason}); reference says {expected}. "
                f"segments {epoch.segments_of(u)} / {epoch.segments_of(v)}; reference "
                f"{reference_model.segments_of(tenant.directory, tenant.config, users[u])} / "
                f"{reference_model.segments_of(tenant.directory, tenant.config, users[v])}"
            )
        allowed += engine.allowed
    # The vectorised and boolean paths must agree with the explained one.
    us, vs = random_pairs(rng, len(epoch), 5_000)
    batch = compatible_many(epoch, np.array(us, np.intp), np.array(vs, np.intp))
    for k, (u, v) in enumerate(zip(us, vs, strict=True)):
        single = compatibility(epoch, u, v).allowed
        hot = epoch.allowed(u, v)
        if bool(batch[k]) != single or boolean_path(epoch, u, v) != single or hot != single:
            raise Disagreement(
                f"pair ({u}, {v}): compatibility {single}, compatible_many {bool(batch[k])}, "
                f"boolean path {boolean_path(epoch, u, v)}, Epoch.allowed {hot}"
            )
    return {"pairs": len(pairs), "allowed": allowed, "internal_pairs": len(us), "ok": True}


def boolean_path(epoch: Epoch, u: int, v: int) -> bool:
    """The decision without its explanation."""
    return bool(
        u == v
        or (
            epoch.usable[u]
            and epoch.usable[v]
            and epoch.compat[epoch.profile_of[u], epoch.profile_of[v]]
        )
    )


# -- memory -------------------------------------------------------------------------------
def _str_bytes(values: Iterable[str]) -> int:
    return sum(sys.getsizeof(v) for v in values)


def memory(epoch: Epoch, users: Sequence[User]) -> Json:
    """Bytes held by the epoch: numpy arrays exactly, Python objects by sys.getsizeof."""
    n = max(len(epoch), 1)
    per_user, tables, hot = 0, 0, 0
    arrays: dict[str, int] = {}
    hot_tables: dict[str, int] = {}
    for name in Epoch.__slots__:
        value = getattr(epoch, name)
        if isinstance(value, np.ndarray):
            arrays[name] = int(value.nbytes)
            if value.ndim == 1 and value.shape[0] == len(epoch):
                per_user += int(value.nbytes)
            else:
                tables += int(value.nbytes)
        elif isinstance(value, array):
            hot_tables[name] = sys.getsizeof(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], bytes):
            hot_tables[name] = sys.getsizeof(value) + sum(sys.getsizeof(b) for b in value)
    hot = sum(hot_tables.values())
    index = epoch.upn_index
    owned_keys = _str_bytes(k for k, i in index.items() if k is not users[i].upn)
    big_ints = sum(sys.getsizeof(i) for i in index.values() if i > 256)
    index_bytes = sys.getsizeof(index) + owned_keys + big_ints
    tuples = sys.getsizeof(epoch.upns) + sys.getsizeof(epoch.user_ids)
    profiles = sys.getsizeof(epoch.profiles) + sum(sys.getsizeof(p) for p in epoch.profiles)
    shared = sum(1 for i, u in enumerate(users) if epoch.upns[i] is u.upn)
    shared_bytes = _str_bytes(epoch.upns) + _str_bytes(epoch.user_ids)
    python_total = index_bytes + tuples + profiles
    return {
        "arrays": arrays,
        "array_bytes": per_user + tables,
        "array_bytes_per_user": (per_user + tables) / n,
        "per_user_array_bytes_per_user": per_user / n,
        "profile_table_bytes": tables,
        "hot_tables": hot_tables,
        "hot_table_bytes_per_user": hot / n,
        "python": {
            "upn_index_bytes": index_bytes,
            "upns_and_user_ids_tuple_bytes": tuples,
            "profiles_bytes": profiles,
            "total_bytes_per_user": python_total / n,
            "shared_strings_bytes_per_user": shared_bytes / n,
            "upns_shared_with_directory": shared == len(users),
        },
    }


def explanation_cache(epoch: Epoch) -> Json:
    """Size of the per-epoch explanation cache (grows with the profile pairs seen)."""
    cache = epoch.explanations
    size = sys.getsizeof(cache)
    for key, value in cache.items():
        size += sys.getsizeof(key) + sys.getsizeof(value) + sys.getsizeof(value[2])
    return {"entries": len(cache), "bytes": size, "max_entries": len(epoch.profiles) ** 2}


# -- the engine's figures -----------------------------------------------------------------
def time_compile(tenant: Tenant, repeats: int) -> tuple[Epoch, Json]:
    """``compile_epoch`` (apply's in-memory work); the best of ``repeats`` runs."""
    runs: list[float] = []
    cpu: list[float] = []
    epoch: Epoch | None = None
    for _ in range(repeats):
        epoch = None
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        epoch = compile_epoch(tenant.directory, tenant.config)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert epoch is not None
    best = min(runs)
    return epoch, {
        "seconds": best,
        "runs": runs,
        "cpu_seconds": cpu[runs.index(best)],
        "users_per_s": len(epoch) / best,
    }


def time_single(epoch: Epoch, us: list[int], vs: list[int]) -> Json:
    """``compatibility`` on random pairs: first pass (cache filling) and warm pass."""
    epoch.explanations.clear()
    figures: Json = {"calls": len(us)}
    for label in ("first", "warm"):
        gc.collect()
        start = time.perf_counter_ns()
        for u, v in zip(us, vs, strict=True):
            compatibility(epoch, u, v)
        ns = (time.perf_counter_ns() - start) / len(us)
        figures[f"{label}_ns"] = ns
        figures[f"{label}_per_s"] = 1e9 / ns
    figures["explanations"] = explanation_cache(epoch)
    return figures


def time_boolean(epoch: Epoch, us: list[int], vs: list[int]) -> Json:
    """``u == v or (usable[u] and usable[v] and compat[profile[u], profile[v]])``."""
    gc.collect()
    start = time.perf_counter_ns()
    for u, v in zip(us, vs, strict=True):
        _ = u == v or (
            epoch.usable[u]
            and epoch.usable[v]
            and epoch.compat[epoch.profile_of[u], epoch.profile_of[v]]
        )
    ns = (time.perf_counter_ns() - start) / len(us)
    return {"calls": len(us), "ns": ns, "per_s": 1e9 / ns}


def time_hot(epoch: Epoch, us: list[int], vs: list[int]) -> Json:
    """``Epoch.allowed(u, v)``: the engine's own boolean hot path (plain-Python tables)."""
    allowed = epoch.allowed
    gc.collect()
    start = time.perf_counter_ns()
    for u, v in zip(us, vs, strict=True):
        allowed(u, v)
    ns = (time.perf_counter_ns() - start) / len(us)
    return {"calls": len(us), "ns": ns, "per_s": 1e9 / ns}


def time_all_allowed(epoch: Epoch, groups: list[list[int]], calls: int) -> Json:
    """``Epoch.all_allowed(group)``: the boolean group check (each profile pair once)."""
    rounds = max(1, calls // len(groups))
    gc.collect()
    start = time.perf_counter_ns()
    allowed = 0
    for _ in range(rounds):
        for g in groups:
            allowed += epoch.all_allowed(g)
    ns = (time.perf_counter_ns() - start) / (rounds * len(groups))
    return {
        "calls": rounds * len(groups),
        "ns": ns,
        "allowed_share": allowed / (rounds * len(groups)),
    }


def time_batch(epoch: Epoch, rng: np.random.Generator, size: int, repeats: int) -> Json:
    """``compatible_many`` on ``size`` random pairs; the median of ``repeats`` runs."""
    n = len(epoch)
    u: npt.NDArray[np.intp] = rng.integers(0, n, size=size).astype(np.intp)
    v: npt.NDArray[np.intp] = rng.integers(0, n, size=size).astype(np.intp)
    compatible_many(epoch, u, v)
    runs: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = compatible_many(epoch, u, v)
        runs.append(time.perf_counter() - start)
    median = float(np.median(runs))
    return {
        "pairs": size,
        "median_s": median,
        "best_s": min(runs),
        "per_s": size / median,
        "allowed_share": float(result.mean()),
    }


def compatible_groups(epoch: Epoch, rng: np.random.Generator, count: int) -> list[list[int]]:
    """Groups of 20 users who are all mutually compatible (every pair gets checked).

    Each is drawn from one profile whose users may reach each other (a segment whose
    policy permits itself, or the unsegmented users).
    """
    usable = epoch.usable
    eligible: list[npt.NDArray[np.intp]] = []
    for p in range(len(epoch.profiles)):
        if not epoch.compat[p, p]:
            continue
        members = np.flatnonzero((epoch.profile_of == p) & usable)
        if len(members) >= GROUP_SIZE:
            eligible.append(members)
        if len(eligible) >= 64:
            break
    if not eligible:
        return []
    groups: list[list[int]] = []
    for _ in range(count):
        pool = eligible[int(rng.integers(0, len(eligible)))]
        groups.append([int(x) for x in rng.choice(pool, size=GROUP_SIZE, replace=False)])
    return groups


def time_groups(epoch: Epoch, groups: list[list[int]], calls: int) -> Json:
    """``decide(GROUP_CHAT, a, others19)``, warm (after one pass over the groups)."""
    for g in groups:
        decide(epoch, Action.GROUP_CHAT, g[0], g[1:])
    rounds = max(1, calls // len(groups))
    gc.collect()
    start = time.perf_counter_ns()
    allowed = 0
    for _ in range(rounds):
        for g in groups:
            allowed += decide(epoch, Action.GROUP_CHAT, g[0], g[1:]).allowed
    ns = (time.perf_counter_ns() - start) / (rounds * len(groups))
    return {
        "calls": rounds * len(groups),
        "ns": ns,
        "allowed_share": allowed / (rounds * len(groups)),
    }


# -- the reference's figures --------------------------------------------------------------
def reference_group(tenant: Tenant, group: list[int]) -> bool:
    """§7 group chat with the reference: every pair, in ``pairs_for`` order, first refusal."""
    users = tenant.users
    for a, b in pairs_for(Action.GROUP_CHAT, group[0], group[1:]):
        if not reference_model.compatible(tenant.directory, tenant.config, users[a], users[b]):
            return False
    return True


def time_reference(
    tenant: Tenant,
    epoch: Epoch,
    settings: Settings,
    us: list[int],
    vs: list[int],
    groups: list[list[int]],
    random_groups: list[list[int]],
) -> Json:
    """The reference evaluator on samples within the time budget, extrapolated."""
    users, directory, config = tenant.users, tenant.directory, tenant.config
    budget = settings.ref_budget_s
    n = len(users)
    ref: Json = {"budget_s": budget}

    segs = sampled(
        [users[int(i)] for i in np.linspace(0, n - 1, settings.ref_users).astype(int)],
        lambda user: reference_model.segments_of(directory, config, user),
        settings.ref_users,
        budget,
    )
    ref["apply"] = {
        "what": "segments_of for every user (the reference has no compile step)",
        "sample_users": segs["sample"],
        "per_user_ns": segs["mean_ns"],
        "seconds": segs["mean_ns"] * n / 1e9,
        "extrapolated": segs["sample"] < n,
    }
    pairs = list(zip(us, vs, strict=True))
    single = sampled(
        pairs,
        lambda p: reference_model.compatible(directory, config, users[p[0]], users[p[1]]),
        settings.ref_pairs,
        budget,
    )
    ref["single"] = {
        "sample_pairs": single["sample"],
        "ns": single["mean_ns"],
        "per_s": 1e9 / single["mean_ns"],
        "extrapolated": single["sample"] < len(us),
    }
    ref["batch"] = {
        "what": "no batch path: per-pair rate",
        "per_s": 1e9 / single["mean_ns"],
        "extrapolated": True,
    }
    for key, chosen in (("group_compatible", groups), ("group_random", random_groups)):
        if not chosen:
            ref[key] = None
            continue
        outcome: list[bool] = []

        def run(group: list[int], outcome: list[bool] = outcome) -> None:
            outcome.append(reference_group(tenant, group))

        timing = sampled(chosen, run, settings.ref_groups, budget)
        for group, expected in zip(chosen, outcome, strict=False):
            engine = decide(epoch, Action.GROUP_CHAT, group[0], group[1:]).allowed
            if engine != expected:
                raise Disagreement(f"group {group}: engine says {engine}, reference {expected}")
        ref[key] = {
            "sample_groups": timing["sample"],
            "ns": timing["mean_ns"],
            "extrapolated": timing["sample"] < len(chosen),
        }
    return ref


# -- one configuration --------------------------------------------------------------------
def run_one(
    size: int, segments: int, mode: Mode, seed: int, settings: Settings, correlated: bool = True
) -> Json:
    """Generate, compile, check agreement, and measure one (size, segments, mode)."""
    result: Json = {"size": size, "segments": segments, "mode": mode.value, "seed": seed}
    if not correlated:
        result["overlays"] = "random"
    start = time.perf_counter()
    tenant = generate(TenantSpec(size, segments, mode, seed=seed, correlated_overlays=correlated))
    result["generation_s"] = time.perf_counter() - start
    result["tenant"] = tenant.facts

    epoch, result["compile"] = time_compile(tenant, 3 if size <= 100_000 else 2)
    counts = np.bincount(epoch.profile_of, minlength=len(epoch.profiles))
    result["epoch"] = {
        "profiles": len(epoch.profiles),
        "multi_segment_profiles": sum(len(p) > 1 for p in epoch.profiles),
        "conflicts": len(epoch.conflicts()),
        "unsegmented": int(counts[0]),
        "usable": int(epoch.usable.sum()),
    }

    rng = np.random.default_rng(seed + size + segments)
    result["agreement"] = check_agreement(tenant, epoch, rng, settings.agreement)
    result["memory"] = memory(epoch, tenant.users)

    us, vs = random_pairs(rng, size, settings.calls)
    result["single"] = time_single(epoch, us, vs)
    result["boolean"] = time_boolean(epoch, us, vs)
    result["hot"] = time_hot(epoch, us, vs)
    result["batch"] = time_batch(epoch, rng, settings.batch, settings.batch_repeats)

    groups = compatible_groups(epoch, rng, settings.groups)
    random_groups = [
        [int(x) for x in rng.choice(size, size=GROUP_SIZE, replace=False)]
        for _ in range(settings.groups)
    ]
    result["group_compatible"] = (
        time_groups(epoch, groups, settings.group_calls) if groups else None
    )
    result["group_random"] = time_groups(epoch, random_groups, settings.group_calls)
    for g in groups + random_groups:
        if epoch.all_allowed(g) != decide(epoch, Action.GROUP_CHAT, g[0], g[1:]).allowed:
            raise Disagreement(f"group {g}: Epoch.all_allowed disagrees with decide")
    result["all_allowed"] = (
        time_all_allowed(epoch, groups, settings.group_calls * 10) if groups else None
    )
    result["memory"]["explanation_cache"] = explanation_cache(epoch)

    result["reference"] = time_reference(tenant, epoch, settings, us, vs, groups, random_groups)
    result["speedup"] = speedups(result)
    result["peak_rss_mb"] = peak_rss_mb()
    result["loadavg_1min_after"] = os.getloadavg()[0]
    return result


def speedups(r: Json) -> Json:
    """reference time / infobarrier time, per figure."""
    ref = r["reference"]
    out: Json = {
        "apply": ref["apply"]["seconds"] / r["compile"]["seconds"],
        "single_first": ref["single"]["ns"] / r["single"]["first_ns"],
        "single_warm": ref["single"]["ns"] / r["single"]["warm_ns"],
        "boolean": ref["single"]["ns"] / r["boolean"]["ns"],
        "hot": ref["single"]["ns"] / r["hot"]["ns"],
        "batch": r["batch"]["per_s"] / ref["batch"]["per_s"],
    }
    for key in ("group_compatible", "group_random"):
        if r[key] and ref[key]:
            out[key] = ref[key]["ns"] / r[key]["ns"]
    if r["all_allowed"] and ref["group_compatible"]:
        out["all_allowed"] = ref["group_compatible"]["ns"] / r["all_allowed"]["ns"]
    return out


# -- output -------------------------------------------------------------------------------
def fmt_time(ns: float) -> str:
    """A duration in the unit that reads best."""
    if ns >= 1e9:
        return f"{ns / 1e9:,.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:,.2f} µs"
    return f"{ns:,.0f} ns"


def fmt_rate(per_s: float) -> str:
    """A rate in k/s or M/s."""
    if per_s >= 1e6:
        return f"{per_s / 1e6:,.1f} M/s"
    if per_s >= 1e3:
        return f"{per_s / 1e3:,.1f} k/s"
    return f"{per_s:,.1f} /s"


def fmt_x(x: float | None) -> str:
    """A speedup."""
    if x is None:
        return "-"
    return f"×{x:,.0f}" if x >= 10 else f"×{x:,.1f}"


def table_rows(r: Json) -> list[tuple[str, str, str, str, str]]:
    """(figure, infobarrier, reference, speedup, note) rows of one configuration."""
    ref, sp, mem = r["reference"], r["speedup"], r["memory"]

    def ex(flag: bool) -> str:
        return " (extrap.)" if flag else ""

    rows: list[tuple[str, str, str, str, str]] = [
        (
            "apply: compile_epoch",
            fmt_time(r["compile"]["seconds"] * 1e9),
            fmt_time(ref["apply"]["seconds"] * 1e9) + ex(ref["apply"]["extrapolated"]),
            fmt_x(sp["apply"]),
            f"CPU {r['compile']['cpu_seconds']:.2f} s; ref: segments_of × N, sample "
            f"{ref['apply']['sample_users']} users",
        ),
        (
            "epoch numpy arrays / user",
            f"{mem['array_bytes_per_user']:,.1f} B",
            "-",
            "-",
            f"per-user arrays {mem['per_user_array_bytes_per_user']:.1f} B + profile "
            f"tables {mem['profile_table_bytes'] / 1e6:,.2f} MB",
        ),
        (
            "epoch Python objects / user",
            f"{mem['python']['total_bytes_per_user']:,.1f} B",
            "-",
            "-",
            "getsizeof: UPN index (+folded keys), upns/user_ids tuples, profiles; "
            f"+{mem['python']['shared_strings_bytes_per_user']:.0f} B/user of strings "
            "shared with the Directory",
        ),
        (
            "epoch hot-path tables / user",
            f"{mem.get('hot_table_bytes_per_user', 0.0):,.1f} B",
            "-",
            "-",
            "getsizeof: "
            + ", ".join(f"{k} {v / 1e6:,.2f} MB" for k, v in mem.get("hot_tables", {}).items()),
        ),
        (
            "single decision, first pass",
            fmt_time(r["single"]["first_ns"]),
            fmt_time(ref["single"]["ns"]) + ex(ref["single"]["extrapolated"]),
            fmt_x(sp["single_first"]),
            f"compatibility(), {r['single']['calls']:,} random pairs, explanation cache "
            "empty at start",
        ),
        (
            "single decision, warm",
            fmt_time(r["single"]["warm_ns"]),
            fmt_time(ref["single"]["ns"]) + ex(ref["single"]["extrapolated"]),
            fmt_x(sp["single_warm"]),
            f"same pairs again; ref sample {ref['single']['sample_pairs']} pairs",
        ),
        (
            "single decisions/s, warm",
            fmt_rate(r["single"]["warm_per_s"]),
            fmt_rate(ref["single"]["per_s"]) + ex(ref["single"]["extrapolated"]),
            fmt_x(sp["single_warm"]),
            "",
        ),
        (
            "boolean path",
            f"{fmt_time(r['boolean']['ns'])} = {fmt_rate(r['boolean']['per_s'])}",
            fmt_time(ref["single"]["ns"]) + ex(ref["single"]["extrapolated"]),
            fmt_x(sp["boolean"]),
            "usable[u] and usable[v] and compat[profile[u], profile[v]]",
        ),
        (
            "Epoch.allowed (hot path)",
            f"{fmt_time(r['hot']['ns'])} = {fmt_rate(r['hot']['per_s'])}",
            fmt_time(ref["single"]["ns"]) + ex(ref["single"]["extrapolated"]),
            fmt_x(sp["hot"]),
            "the engine's boolean path: plain-Python keys/rows tables",
        ),
        (
            "batch compatible_many",
            fmt_rate(r["batch"]["per_s"]),
            fmt_rate(ref["batch"]["per_s"]) + " (extrap.)",
            fmt_x(sp["batch"]),
            f"{r['batch']['pairs']:,} random pairs, median of runs; ref: per-pair rate",
        ),
    ]
    if r.get("all_allowed") and ref["group_compatible"]:
        rows.append(
            (
                "Epoch.all_allowed, 20 compatible",
                fmt_time(r["all_allowed"]["ns"]),
                fmt_time(ref["group_compatible"]["ns"])
                + ex(ref["group_compatible"]["extrapolated"]),
                fmt_x(sp.get("all_allowed")),
                "boolean group check (each pair of profiles once), same groups",
            )
        )
    for key, label, note in (
        ("group_compatible", "group chat of 20, compatible", "all 190 pairs checked"),
        ("group_random", "group chat of 20, random", "stops at the first refusal"),
    ):
        if r[key] is None or ref[key] is None:
            rows.append((label, "-", "-", "-", "no 20 mutually compatible users"))
            continue
        rows.append(
            (
                label,
                fmt_time(r[key]["ns"]),
                fmt_time(ref[key]["ns"]) + ex(ref[key]["extrapolated"]),
                fmt_x(sp.get(key)),
                f"decide(GROUP_CHAT); {note}; allowed {r[key]['allowed_share']:.0%}; "
                f"ref sample {ref[key]['sample_groups']} groups",
            )
        )
    return rows


def print_table(r: Json) -> None:
    """One plain-text table per configuration."""
    t, e, a = r["tenant"], r["epoch"], r["agreement"]
    title = f"{r['size']:,} users · {r['segments']:,} segments · {r['mode']}  (seed {r['seed']})"
    if r.get("overlays"):
        title += f"  [{r['overlays']} overlays]"
    print()
    print("=" * len(title))
    print(title)
    print("=" * len(title))
    print(
        f"generated in {r['generation_s']:.2f} s (not part of apply): {t['groups']:,} groups, "
        f"{t['group_memberships']:,} memberships, {t['policies']} Active policies "
        f"({t['block_policies']} block, {t['allow_policies']} allow), "
        f"{t['unsegmented_share']:.1%} unsegmented"
    )
    print(
        f"epoch: {e['profiles']:,} profiles ({e['multi_segment_profiles']:,} multi-segment), "
        f"{e['conflicts']:,} users in IBPolicyConflict; agreement with reference_model on "
        f"{a['pairs']} pairs: OK ({a['allowed']} allowed); peak RSS {r['peak_rss_mb']:,.0f} MB; "
        f"load average {r['loadavg_1min_after']:.2f}"
    )
    header = ("figure", "infobarrier", "reference", "speedup", "note")
    rows = [header, *table_rows(r)]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    print()
    for k, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) if c == 0 else row[c].rjust(widths[c]) for c in range(4)]
        print("  ".join(cells) + "  " + row[4])
        if k == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    sys.stdout.flush()


def targets(results: list[Json]) -> list[Json]:
    """The issue's targets next to the measured figures (largest size measured)."""
    if not results:
        return []
    largest = max(r["size"] for r in results)
    at = [r for r in results if r["size"] == largest]
    worst_apply = max(at, key=lambda r: r["compile"]["seconds"])
    worst_batch = min(results, key=lambda r: r["batch"]["per_s"])

    def where(r: Json) -> str:
        return f"{r['size']:,} users, {r['segments']} segments, {r['mode']}"

    return [
        {
            "target": f"{largest:,} users applied in under {APPLY_TARGET_S:.0f} s"
            + ("" if largest >= 1_000_000 else " (target is for 1,000,000 users)"),
            "measured": f"{worst_apply['compile']['seconds']:.2f} s wall, "
            f"{worst_apply['compile']['cpu_seconds']:.2f} s CPU (worst: {where(worst_apply)})",
            "met": largest >= 1_000_000 and worst_apply["compile"]["seconds"] < APPLY_TARGET_S,
            "applicable": largest >= 1_000_000,
        },
        {
            "target": "batch decisions well above 1M/s",
            "measured": f"{fmt_rate(worst_batch['batch']['per_s'])} (worst: {where(worst_batch)})",
            "met": worst_batch["batch"]["per_s"] > BATCH_TARGET_PER_S,
            "applicable": True,
        },
    ]


def markdown(results: list[Json]) -> str:
    """A Markdown summary for the README: apply and memory, then decisions."""
    nan = float("nan")
    apply_lines = [
        "| users | segments | mode | profiles | apply: wall (CPU) | reference apply "
        "| speedup | numpy arrays B/user | hot tables B/user | Python objects B/user "
        "| load |",
        "|" + "---|" * 11,
    ]
    decision_lines = [
        "| users | segments | mode | single, first pass | single, warm | reference single "
        "| boolean path | Epoch.allowed | batch | group of 20 (190 pairs) "
        "| Epoch.all_allowed 20 | reference group of 20 |",
        "|" + "---|" * 12,
    ]
    for r in results:
        ref, mem = r["reference"], r["memory"]
        group, ref_group, fast = (
            r["group_compatible"],
            ref["group_compatible"],
            r.get("all_allowed"),
        )
        head = f"| {r['size']:,} | {r['segments']} | {r['mode']} "
        apply_lines.append(
            head + f"| {r['epoch']['profiles']:,} "
            f"| {fmt_time(r['compile']['seconds'] * 1e9)} "
            f"({fmt_time(r['compile']['cpu_seconds'] * 1e9)}) "
            f"| {fmt_time(ref['apply']['seconds'] * 1e9)}* "
            f"| {fmt_x(r['speedup']['apply'])} "
            f"| {mem['array_bytes_per_user']:.1f} "
            f"| {mem.get('hot_table_bytes_per_user', nan):.1f} "
            f"| {mem['python']['total_bytes_per_user']:.0f} "
            f"| {r.get('loadavg_1min_after', nan):.1f} |"
        )
        decision_lines.append(
            head + f"| {fmt_time(r['single']['first_ns'])} "
            f"| {fmt_time(r['single']['warm_ns'])} ({fmt_rate(r['single']['warm_per_s'])}) "
            f"| {fmt_time(ref['single']['ns'])}* "
            f"| {fmt_time(r['boolean']['ns'])} "
            f"| {fmt_time(r['hot']['ns']) if 'hot' in r else '-'} "
            f"| {fmt_rate(r['batch']['per_s'])} "
            f"| {fmt_time(group['ns']) if group else '-'} "
            f"| {fmt_time(fast['ns']) if fast else '-'} "
            f"| {fmt_time(ref_group['ns']) + '*' if ref_group else '-'} |"
        )
    return "\n".join([*apply_lines, "", *decision_lines])


def write_results(path: Path, payload: Json) -> None:
    """Write JSON atomically (``*.tmp`` then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def parse_ints(text: str) -> list[int]:
    """``10000,100000`` (``_`` allowed) as a list of positive ints."""
    values = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_modes(text: str) -> list[Mode]:
    """``single,multi``."""
    try:
        return [MODES[x.strip().lower()] for x in text.split(",") if x.strip()]
    except KeyError as exc:
        raise argparse.ArgumentTypeError(f"unknown mode {exc}: use single, multi") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.run``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", type=parse_ints, default=[10_000, 100_000])
    parser.add_argument("--segments", type=parse_ints, default=[50, 500])
    parser.add_argument("--modes", type=parse_modes, default=list(MODES.values()))
    parser.add_argument("--seed", type=int, default=TenantSpec(1, 1).seed)
    parser.add_argument("--quick", action="store_true", help="smaller samples (smoke run)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown summary")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="print the Markdown summary of a results file and exit (no benchmark)",
    )
    parser.add_argument(
        "--overlays",
        choices=("correlated", "random"),
        default="correlated",
        help="MultiSegment overlays: tied to the home unit (default) or random (stress case)",
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        print(markdown(json.loads(args.report.read_text())["results"]))
        return 0
    settings = Settings.quick() if args.quick else Settings()
    if max(args.segments) > 5000:
        parser.error("a tenant has at most 5,000 segments")
    if min(args.sizes) < 2 * GROUP_SIZE:
        parser.error(f"sizes must be at least {2 * GROUP_SIZE}")

    info = machine()
    started = datetime.now(UTC)
    print(
        f"infobarrier benchmarks: sizes {args.sizes}, segments {args.segments}, modes "
        f"{[m.value for m in args.modes]}, seed {args.seed}{' (quick)' if args.quick else ''}"
    )
    results: list[Json] = []
    wall = time.perf_counter()
    try:
        for size in args.sizes:
            for segments in args.segments:
                for mode in args.modes:
                    correlated = args.overlays == "correlated"
                    results.append(run_one(size, segments, mode, args.seed, settings, correlated))
                    print_table(results[-1])
                    gc.collect()
    except Disagreement as exc:
        print(f"\nDISAGREEMENT with the reference model, run aborted:\n  {exc}", file=sys.stderr)
        return 1
    goals = targets(results)
    payload: Json = {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": time.perf_counter() - wall,
        "args": {
            "sizes": args.sizes,
            "segments": args.segments,
            "modes": [m.value for m in args.modes],
            "seed": args.seed,
            "quick": args.quick,
            "overlays": args.overlays,
        },
        "settings": {k: getattr(settings, k) for k in Settings.__slots__},
        "machine": info,
        "targets": goals,
        "results": results,
    }
    write_results(args.output, payload)
    print("\nTargets (issue):")
    for goal in goals:
        state = "met" if goal["met"] else ("MISSED" if goal["applicable"] else "n/a")
        print(f"  {goal['target']}: {goal['measured']} -> {state}")
    if args.markdown:
        print("\n" + markdown(results))
    print(
        f"\nmachine: nproc {info['nproc']}, CPU {info['cpu_model']}, {info['memory_gb']} GB, "
        f"{info['python']}, numpy {info['numpy']}, {info['platform']}; load average at start "
        f"{info['loadavg_at_start'][0]:.2f}, at end {os.getloadavg()[0]:.2f}"
    )
    print(f"wall time {payload['wall_s']:.0f} s; results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
