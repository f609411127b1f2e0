"""The directory read as columns (``DirectoryRepository.read_columns``, what ``apply``
compiles) gives the epoch that compiling the directory loaded as objects gives, on every
backend, for filters over every kind of attribute (semantics §3, §5)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infobarrier.core.barriers import BarrierConfig, Mode
from infobarrier.core.columns import attributes_of, groups_compared
from infobarrier.core.compiler import compile_epoch, compile_read
from infobarrier.core.directory import UserType, make_user
from infobarrier.core.epoch import Epoch
from infobarrier.service.wiring import build

ACTOR = "test"
TENANT = "t"

#: Filters over single-valued, first-class, multi-valued and group attributes.
FILTERS = {
    "Sales": "Department -eq 'sales'",
    "NotSales": "Department -ne 'Sales' -and Department -ne ''",
    "Ext": "ExtensionAttribute1 -like 'x*'",
    "Upn": "UserPrincipalName -like '*@b.example'",
    "Mail": "Mail -eq 'A.Mail@x.example'",
    "Proxy": "ProxyAddresses -like 'smtp:alias*'",
    "NoProxy": "ProxyAddresses -eq ''",
    "GroupName": "MemberOf -eq 'traders'",
    "GroupMail": "MemberOf -eq 'desk@x.example'",
    "NotTraders": "MemberOf -ne 'traders' -and MemberOf -like 'd*'",
    "NoGroup": "MemberOf -eq ''",
    "Either": "Company -eq 'Contoso' -or -not (Co -eq 'FR')",
}


#: User ids: generated (GUIDs), of one length (memberships matched as fixed-width byte
#: strings) and of several lengths (matched row by row).
ID_SCHEMES = {
    "generated": lambda k: None,
    "one-length": lambda k: f"user-{k:03d}",
    "mixed-length": lambda k: "u" * (k + 1),
}


@pytest.fixture(params=list(ID_SCHEMES))
def url(store_url: str, request: pytest.FixtureRequest) -> str:
    """A tenant whose users vary in every column ``read_columns`` reads."""
    services = build(store_url)
    services.tenants.create(TENANT, Mode.LEGACY, ACTOR)
    scheme = ID_SCHEMES[request.param]
    services.directory.put_users(
        TENANT,
        [
            dataclasses.replace(user, id=scheme(k) or user.id)
            for k, user in enumerate(
                [
                    make_user(
                        "Zed@A.example",
                        mail="a.mail@x.example",
                        Department="Sales",
                        Company="Contoso",
                        proxy_addresses=["SMTP:alias1@x.example", "smtp:other@x.example"],
                    ),
                    make_user("amy@b.example", Department="Research", ExtensionAttribute1="x1"),
                    make_user(
                        "guest@b.example",
                        user_type=UserType.GUEST,
                        Department="SALES",
                        Co="FR",
                    ),
                    make_user(
                        "shown-guest@a.example",
                        user_type=UserType.GUEST,
                        hidden_from_address_lists=False,
                        Company="Contoso",
                    ),
                    make_user("off@a.example", account_enabled=False, ExtensionAttribute1="X9"),
                    make_user("hidden@a.example", hidden_from_address_lists=True, Co="FR"),
                    make_user("plain@c.example"),
                ]
            )
        ],
        ACTOR,
    )
    services.directory.put_group(
        TENANT, "Traders", ACTOR, members=["amy@b.example", "plain@c.example"]
    )
    services.directory.put_group(
        TENANT, "Desk", ACTOR, mail="desk@x.example", members=["off@a.example"]
    )
    services.directory.put_group(TENANT, "Empty", ACTOR)
    services.store.dispose()
    return store_url


def _config(names: list[str]) -> BarrierConfig:
    config = BarrierConfig(mode=Mode.LEGACY)
    for name in names:
        config = config.new_segment(name, FILTERS[name])
    return config


def _same(a: Epoch, b: Epoch) -> None:
    assert tuple(a.user_ids) == tuple(b.user_ids)
    assert tuple(a.upns) == tuple(b.upns)
    assert a.profiles == b.profiles
    for field in ("profile_of", "enabled", "hidden", "usable", "conflict", "compat"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.keys == b.keys
    assert a.table == b.table
    assert dict(a.upn_index) == dict(b.upn_index)
    assert dict(a.upn_keys) == dict(b.upn_keys)


@pytest.mark.parametrize("names", [[n] for n in FILTERS] + [list(FILTERS), []])
def test_columns_compile_to_the_epoch_of_the_loaded_directory(url: str, names: list[str]) -> None:
    config = _config(names)
    services = build(url)
    try:
        with services.store.transaction(write=False) as transaction:
            repos = transaction.scope(transaction.tenants.get(TENANT))
            expected = compile_epoch(repos.directory.load(), config)
            exprs = [s.expr for s in config.segments]
            read = repos.directory.read_columns(attributes_of(exprs), groups_compared(exprs))
        _same(compile_read(read, config), expected)
        # Each single filter segments someone, so the comparison is not of empty epochs.
        if len(names) == 1:
            assert any(expected.profiles[p] for p in expected.profile_of.tolist()), names
    finally:
        services.store.dispose()


def test_a_column_not_read_is_an_error_not_an_empty_match(url: str) -> None:
    """Compiling a filter over an attribute that was not read fails instead of segmenting
    nobody (``apply`` reads what both the new and the applied definitions compare)."""
    services = build(url)
    try:
        with services.store.transaction(write=False) as transaction:
            repos = transaction.scope(transaction.tenants.get(TENANT))
            read = repos.directory.read_columns({"Company"})
        with pytest.raises(RuntimeError, match="Department"):
            compile_read(read, _config(["Sales"]))
    finally:
        services.store.dispose()
