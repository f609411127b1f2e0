"""A vendor's onboarding and offboarding proposals (semantics §12), over the seed's tenant."""

from __future__ import annotations

import pytest

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory, make_user
from infobarrier.core.epoch import Epoch
from infobarrier.core.licenses import LicenseBook
from infobarrier.core.onboarding import (
    AccountRequest,
    carry_out,
    propose_offboarding,
    propose_onboarding,
)
from infobarrier.demo import abc


def _tenant() -> tuple[Directory, BarrierConfig, LicenseBook]:
    directory = abc.build_directory()
    directory.put_user(make_user("se4a@abc.example", display_name="SE 4A"))
    return directory, abc.build_config(), abc.build_licenses(directory)


def _allowed(epoch: Epoch, a: str, b: str) -> bool:
    found = epoch.allowed_upn(f"{a}@abc.example", f"{b}@abc.example")
    assert found is not None
    return found


ACCOUNTS = [AccountRequest("v4-ra1@abc.example", "V4 RA 1"), AccountRequest("v4-ra2@abc.example")]
ACCOUNT_SEGMENTS = frozenset(f"{v}_RemoteAssistUser" for v in abc.VENDORS)


def test_onboarding_reaches_only_its_engineer_and_offboarding_closes_it() -> None:
    directory, config, book = _tenant()
    proposal = propose_onboarding(
        config, directory, book, "V4", ACCOUNTS, ["se4a@abc.example"],
        account_segments=ACCOUNT_SEGMENTS,
    )  # fmt: skip
    assert proposal.ok, proposal.errors
    assert [a.upn for a in proposal.accounts_to_create] == [a.upn for a in ACCOUNTS]
    changed = {p.name for p in proposal.policies_changed}
    assert changed == {"ABC_Staff-allow", *(f"{v}_SupportEngineer-allow" for v in abc.VENDORS)}
    assert ("v4-ra1@abc.example", "MICROSOFT_REMOTE_ASSIST") in proposal.assign
    assert proposal.seats["MICROSOFT_REMOTE_ASSIST"] == 8  # 6 bought, all used, 2 more
    out = carry_out(proposal, config, directory, book)
    epoch = compile_epoch(directory, out.config)
    assert _allowed(epoch, "v4-ra1", "se4a")
    assert _allowed(epoch, "v4-ra1", "v4-ra2")
    for other in ("se1a", "alex", "v1-ra1"):
        assert not _allowed(epoch, "v4-ra1", other)
    assert _allowed(epoch, "se4a", "alex")  # made mutual: staff's list names V4's engineers
    assert not _allowed(epoch, "se4a", "v1-ra1")

    off = propose_offboarding(out.config, directory, out.book, "V4")
    assert off.ok
    assert set(off.disable) == {a.upn for a in ACCOUNTS}
    gone = carry_out(off, out.config, directory, out.book)
    assert gone.config.find_segment("V4_SupportEngineer") is None
    assert all("V4_SupportEngineer" not in p.segments for p in gone.config.policies)
    assert not gone.book.assignments.get(directory.by_upn("v4-ra1@abc.example").id)
    epoch = compile_epoch(directory, gone.config)
    assert not _allowed(epoch, "v4-ra1", "alex")  # disabled: unsegmented would reach everyone


@pytest.mark.parametrize(
    ("vendor", "accounts", "engineers", "field"),
    [
        ("", ACCOUNTS, ["se4a@abc.example"], "vendor"),
        ("V1", ACCOUNTS, ["se4a@abc.example"], "vendor"),  # its segments exist
        ("V4", [AccountRequest("alex@abc.example")], ["se4a@abc.example"], "accounts.0"),
        ("V4", [AccountRequest("not a upn")], ["se4a@abc.example"], "accounts.0"),
        ("V4", ACCOUNTS, ["v1-ra1@abc.example"], "engineers.0"),
        ("V4", ACCOUNTS, ["nobody@abc.example"], "engineers.0"),
        ("V4", [], ["se4a@abc.example"], "accounts"),
    ],
)
def test_errors_name_their_field(
    vendor: str, accounts: list[AccountRequest], engineers: list[str], field: str
) -> None:
    directory, config, book = _tenant()
    proposal = propose_onboarding(config, directory, book, vendor, accounts, engineers)
    assert not proposal.ok
    assert field in {e.field for e in proposal.errors}
    with pytest.raises(ValueError):
        carry_out(proposal, config, directory, book)


def test_an_engineer_already_segmented_is_warned_about() -> None:
    directory, config, book = _tenant()
    proposal = propose_onboarding(
        config, directory, book, "V4", ACCOUNTS, ["se1a@abc.example"],
        segments_of={"se1a@abc.example": ["V1_SupportEngineer"]},
    )  # fmt: skip
    assert proposal.ok
    assert any("IBPolicyConflict" in w for w in proposal.warnings)


def test_offboarding_an_unknown_vendor_is_an_error() -> None:
    directory, config, book = _tenant()
    assert not propose_offboarding(config, directory, book, "V9").ok
