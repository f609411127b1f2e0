"""The overview's licensing findings (§2), counted over arrays and written out when read,
equal the user-by-user pass they replace, whole and by page."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory, UserKind
from infobarrier.core.epoch import Epoch
from infobarrier.core.licenses import EXCHANGE, INFORMATION_BARRIERS, REMOTE_ASSIST, LicenseBook
from infobarrier.demo import abc
from infobarrier.service.findings import Findings, people

DIRECTORY = abc.build_directory()
EPOCH = compile_epoch(DIRECTORY, abc.build_config())
BOOK = abc.build_licenses(DIRECTORY)


def reference(epoch: Epoch, directory: Directory, licenses: LicenseBook) -> list[dict[str, str]]:
    """The pass over every user that the overview made before."""
    found: list[dict[str, str]] = []
    for i, uid in enumerate(epoch.user_ids):
        user = directory.user(uid)
        plans = licenses.plans_of(user.id)
        if epoch.profiles[epoch.profile(i)]:
            for plan in (INFORMATION_BARRIERS, EXCHANGE):
                if plan not in plans:
                    message = f"{user.upn} is segmented but has no {plan} service plan"
                    found.append({"upn": user.upn, "plan": plan, "message": message})
        if user.kind is UserKind.SERVICE_ACCOUNT and REMOTE_ASSIST not in plans:
            message = f"service account {user.upn} has no {REMOTE_ASSIST} license"
            found.append({"upn": user.upn, "plan": REMOTE_ASSIST, "message": message})
    return found


@given(
    unlicensed=st.sets(st.sampled_from(sorted(BOOK.assignments))),
    start=st.integers(min_value=-3, max_value=40),
    stop=st.integers(min_value=-3, max_value=40),
)
@settings(max_examples=80, deadline=None)
def test_findings_equal_the_pass_over_every_user(
    unlicensed: set[str], start: int, stop: int
) -> None:
    book = replace(
        BOOK, assignments={u: p for u, p in BOOK.assignments.items() if u not in unlicensed}
    )
    segmented = np.array([bool(p) for p in EPOCH.profiles], dtype=np.bool_)[EPOCH.profile_array()]
    found = Findings(EPOCH, segmented, people(EPOCH, DIRECTORY).service, book)
    expected = reference(EPOCH, DIRECTORY, book)
    assert len(found) == len(expected)
    assert list(found) == expected
    assert found[start:stop] == expected[start:stop]
    if expected:
        assert found[-1] == expected[-1]
        assert found[start % len(expected)] == expected[start % len(expected)]


def test_people_counts_come_from_the_directory_once_per_epoch() -> None:
    facts = people(EPOCH, DIRECTORY)
    users = list(DIRECTORY.users())
    assert int(facts.service.sum()) == sum(u.kind is UserKind.SERVICE_ACCOUNT for u in users)
    assert int(facts.enabled.sum()) == sum(u.account_enabled for u in users)
    assert people(EPOCH, Directory()) is facts  # kept with the epoch
