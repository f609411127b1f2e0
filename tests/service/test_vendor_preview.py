"""A vendor's preview (§12) answers what compiling both sides over the changed directory does.

The preview evaluates again only the users the proposal touches (its accounts, its groups'
members, the accounts it disables) against the epoch in force; the reference here compiles
the applied definitions and the proposal's over the whole directory, as the preview did
before.
"""

from __future__ import annotations

import pytest

from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import make_user
from infobarrier.core.onboarding import AccountRequest, carry_out
from infobarrier.core.whatif import diff
from infobarrier.demo import abc
from infobarrier.service.vendors import VendorRequest
from infobarrier.service.wiring import Services

ACTOR = "test"
ONBOARD = VendorRequest(
    "V4",
    [AccountRequest("v4-ra1@abc.example", "V4 RA 1"), AccountRequest("v4-ra2@abc.example")],
    ["se4a@abc.example"],
)


@pytest.mark.parametrize(
    "request_",
    [ONBOARD, VendorRequest("V1", offboard=True), VendorRequest("V2", [], [], offboard=True)],
    ids=["onboard", "offboard V1", "offboard V2"],
)
def test_the_preview_equals_compiling_both_sides(
    services: Services, request_: VendorRequest
) -> None:
    abc.load(services, ACTOR)
    services.directory.create_user("abc", make_user("se4a@abc.example"), ACTOR)
    proposal, preview = services.vendors.preview("abc", request_)
    assert preview is not None, proposal.errors
    directory = services.directory.directory("abc")
    applied = services.decisions.current("abc").epoch.config
    config, book = services.barriers.config("abc"), services.directory.licenses("abc")
    outcome = carry_out(proposal, config, directory, book)
    after = compile_epoch(directory, outcome.config)
    expected = diff(compile_epoch(directory, applied), after)
    assert preview.whatif == expected
    # Offboarding leaves the removed segments empty on both sides: nothing to list.
    assert expected.is_empty is request_.offboard
    assert preview.total_recipients == len(after)
