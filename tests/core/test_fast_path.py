"""The bare-boolean hot path agrees with the explained verdicts (§6), on random tenants."""

from __future__ import annotations

import itertools

from core_builders import allow, tenant, upn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_properties import UserSpec, build_directory, configs, user_specs

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatibility
from infobarrier.core.directory import fold


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(user_specs, min_size=1, max_size=8),
    config=configs(),
    groups=st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=6), max_size=5),
)
def test_allowed_and_all_allowed_agree_with_compatibility(
    specs: list[UserSpec], config: BarrierConfig, groups: list[list[int]]
) -> None:
    epoch = compile_epoch(build_directory(specs), config)
    n = len(specs)
    for u, v in itertools.product(range(n), repeat=2):
        assert epoch.allowed(u, v) is compatibility(epoch, u, v).allowed
        assert epoch.allowed_upn(epoch.upns[u].upper(), epoch.upns[v]) is epoch.allowed(u, v)
        assert epoch.allowed_upn(f" {epoch.upns[v]}", epoch.upns[u]) is epoch.allowed(v, u)
        stored = fold(epoch.upns[u]), fold(epoch.upns[v])  # both as stored: the short path
        assert epoch.allowed_upn(*stored) is epoch.allowed(u, v)
    for group in groups:
        members = [g % n for g in group]
        expected = all(
            compatibility(epoch, a, b).allowed for a, b in itertools.combinations(members, 2)
        )
        assert epoch.all_allowed(members) is expected


def test_unknown_upn_is_never_a_yes() -> None:
    epoch = compile_epoch(build_directory([]), BarrierConfig())
    assert epoch.allowed_upn("nobody@x.example", "nobody@x.example") is None


def test_a_user_is_compatible_with_themself_by_upn_whatever_their_state() -> None:
    """Disabled, or in a segment whose allow list does not name it (§6)."""
    t = tenant(
        {"ann": {"department": "Sales"}, "bob": {"department": "Sales", "enabled": False}},
        segments={"Sales": "Department -eq 'Sales'", "Other": "Company -eq 'x'"},
        policies={"Sales": allow("Other")},
    )
    sales = t.epoch.key(t.ix("ann"))
    assert sales >= 0
    assert not t.epoch.compat[sales, sales]  # the table alone would say no
    assert t.epoch.allowed_upn("ANN@contoso.com", upn("ann")) is True
    assert t.epoch.allowed_upn(upn("bob"), " Bob@Contoso.com") is True
    assert t.epoch.allowed_upn(upn("ann"), upn("bob")) is False
