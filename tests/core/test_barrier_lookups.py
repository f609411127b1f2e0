"""A configuration's lookups by name, id and segment (an index built on first use) find
what a scan of its segments and policies in order finds (semantics §3, §4)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.barriers import BarrierConfig, ListKind, Policy, Segment
from infobarrier.core.directory import fold
from infobarrier.core.filters.parser import parse_filter

NAMES = st.sampled_from(["Sales", "SALES", "sales ", "Research", "ß", "SS", "s1", "p1", "x"])
EXPR = parse_filter("Department -eq 'X'")


def scan_segment(config: BarrierConfig, name: str) -> Segment | None:
    key = fold(name.strip())
    return next((s for s in config.segments if fold(s.name) == key or s.id == name), None)


def scan_policy(config: BarrierConfig, name: str) -> Policy | None:
    key = fold(name.strip())
    return next((p for p in config.policies if fold(p.name) == key or p.id == name), None)


def scan_policy_of(config: BarrierConfig, segment: str) -> Policy | None:
    return next((p for p in config.policies if fold(p.segment) == fold(segment)), None)


@st.composite
def configs(draw: st.DrawFn) -> BarrierConfig:
    segments = tuple(
        Segment(id=draw(NAMES), name=draw(NAMES), filter="Department -eq 'X'", expr=EXPR)
        for _ in range(draw(st.integers(0, 6)))
    )
    policies = tuple(
        Policy(
            id=draw(NAMES), name=draw(NAMES), segment=draw(NAMES), kind=ListKind.BLOCK, segments=()
        )
        for _ in range(draw(st.integers(0, 6)))
    )
    return BarrierConfig(segments=segments, policies=policies)


@settings(max_examples=300, deadline=None)
@given(config=configs(), asked=st.lists(NAMES, min_size=1, max_size=5))
def test_lookups_find_what_a_scan_in_order_finds(config: BarrierConfig, asked: list[str]) -> None:
    for name in asked:
        assert config.find_segment(name) is scan_segment(config, name)
        assert config.find_policy(name) is scan_policy(config, name)
        assert config.policy_of(name) is scan_policy_of(config, name)


def test_a_changed_config_does_not_keep_the_old_index() -> None:
    sales = Segment(id="s1", name="Sales", filter="Department -eq 'X'", expr=EXPR)
    config = BarrierConfig(segments=(sales,))
    assert config.find_segment("sales") is sales
    renamed = replace(sales, name="Research")
    changed = replace(config, segments=(renamed,))
    assert changed.find_segment("sales") is None
    assert changed.find_segment("research") is renamed
    assert config.find_segment("sales") is sales
    assert changed == BarrierConfig(segments=(renamed,))  # the index takes no part in ==
