"""Fuzzing what identity providers and admins send: every input is answered or refused
with a clear error, never a crash (an exception outside ``InfobarrierError``) or a 5xx.

Bounded: a fixed number of examples per target, no deadline, the seed of the run
(``fuzz_seed.SEED``, printed in pytest's header) so that a failure can be repeated.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from fuzz_seed import SEED
from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.directory import Directory, make_user
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.filters import matches, parse_filter
from infobarrier.core.filters.evaluate import glob_match
from infobarrier.formats import entra_csv
from infobarrier.formats.powershell import parse_script, run_script
from infobarrier.http.app import create_app
from infobarrier.service.wiring import Services
from live_server import make_tokens

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# -- text made of the pieces each grammar cares about -----------------------------------------

_FILTER_PIECES = st.sampled_from(
    [
        "Department",
        "MemberOf",
        "ProxyAddresses",
        "Co",
        "-eq",
        "-ne",
        "-like",
        "-notlike",
        "-and",
        "-or",
        "-not",
        "(",
        ")",
        "'",
        '"',
        "''",
        "*",
        " ",
        "'Sales'",
        "'*a*b*'",
        "\x00",
        "\n",
        "\u200b",
        "é",
        "ǅ",
        "-",
        "ExtensionAttribute1",
    ]
)
FILTER_TEXT = st.lists(st.one_of(_FILTER_PIECES, st.text(max_size=3)), max_size=40).map(" ".join)

_PS_PIECES = st.sampled_from(
    [
        "New-OrganizationSegment",
        "Set-OrganizationSegment",
        "New-InformationBarrierPolicy",
        "Set-InformationBarrierPolicy",
        "Remove-OrganizationSegment",
        "Set-PolicyConfig",
        "Start-InformationBarrierPoliciesApplication",
        "-Name",
        "-UserGroupFilter",
        "-AssignedSegment",
        "-SegmentsAllowed",
        "-SegmentsBlocked",
        "-State",
        "Active",
        "-InformationBarrierMode",
        "MultiSegment",
        "$true",
        "$false",
        "$x",
        "`",
        "'",
        '"',
        "@'",
        "'@",
        "@(",
        ")",
        ",",
        ";",
        "|",
        "#",
        "<#",
        "#>",
        "\n",
        "\r\n",
        "A",
        "B",
        "'Department -eq ''A'''",
        "{",
        "}",
        "-Identity",
        "\u2018",
        "\u2019",
        "\x00",
    ]
)
SCRIPT = st.lists(st.one_of(_PS_PIECES, st.text(max_size=4)), max_size=40).map(" ".join)

_CSV_CELLS = st.one_of(
    st.sampled_from(
        [
            "a@t.example",
            "b@t.example",
            "@",
            "a@",
            "Sales",
            "True",
            "false",
            "",
            '"',
            '""',
            "=cmd",
            "x\ny",
            "\x00",
            "\u200b",
            "G1",
            "GUEST",
            "Member",
            "id",
            ";",
        ]
    ),
    st.text(max_size=6),
)
_CSV_HEADERS = st.sampled_from(
    [
        "userPrincipalName",
        "displayName",
        "department",
        "accountEnabled",
        "userType",
        "id",
        "companyName",
        "MemberOf",
        "proxyAddresses",
        "mail",
        "unknown",
        "groupDisplayName",
        "groupMail",
        "memberUserPrincipalName",
    ]
)


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    headers = draw(st.lists(_CSV_HEADERS, min_size=1, max_size=5))
    rows = draw(st.lists(st.lists(_CSV_CELLS, min_size=0, max_size=6), max_size=6))
    lines = [",".join(headers)] + [",".join(r) for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


# -- the filter parser and matcher -------------------------------------------------------------


@seed(SEED)
@FUZZ
@given(FILTER_TEXT)
def test_any_filter_text_parses_or_is_a_filter_error(text: str) -> None:
    try:
        expr = parse_filter(text)
    except InfobarrierError:
        return
    # What parses evaluates, on any values, without error.
    assert matches(expr, lambda _attribute: ["Sales", "a*b", ""][: len(text) % 3]) in (True, False)


@seed(SEED)
@FUZZ
@given(st.text(alphabet="ab*", max_size=30), st.text(alphabet="ab", max_size=300))
def test_glob_match_decides_any_pattern_and_value(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) in (True, False)


# -- the PowerShell importer and CSV import -----------------------------------------------------


@seed(SEED)
@FUZZ
@given(SCRIPT)
def test_any_script_runs_or_is_refused(text: str) -> None:
    with contextlib.suppress(InfobarrierError):
        run_script(BarrierConfig(), parse_script(text))


@seed(SEED)
@FUZZ
@given(csv_text())
def test_any_users_or_groups_csv_imports_or_is_refused(text: str) -> None:
    directory = Directory([make_user("a@t.example", department="Sales")])
    with contextlib.suppress(InfobarrierError):
        entra_csv.merge_users(directory, entra_csv.parse_users_csv(text))
    with contextlib.suppress(InfobarrierError):
        entra_csv.merge_groups(directory, entra_csv.parse_groups_csv(text))


# -- SCIM filters and PATCH paths, through the app ---------------------------------------------

SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"

_SCIM_FILTER_PIECES = st.sampled_from(
    [
        "userName",
        "externalId",
        "emails",
        "[",
        "]",
        "type",
        "value",
        "eq",
        "ne",
        "co",
        "sw",
        "pr",
        "gt",
        "and",
        "or",
        "not",
        "(",
        ")",
        '"',
        '"a@t.example"',
        ".",
        "meta.lastModified",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        " ",
        "\\",
        "\x00",
    ]
)
SCIM_FILTER = st.lists(st.one_of(_SCIM_FILTER_PIECES, st.text(max_size=3)), max_size=20).map(
    " ".join
)
_PATH_PIECES = st.sampled_from(
    [
        "userName",
        "emails",
        '[type eq "work"]',
        ".value",
        "name.givenName",
        "active",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "members",
        '[value eq "x"]',
        "displayName",
        ":",
        ".",
        "[",
        "]",
        "title",
        "addresses",
    ]
)
PATCH_PATH = st.lists(_PATH_PIECES, max_size=4).map("".join)


@pytest.fixture(scope="module")
def scim_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str]]:
    from infobarrier.service.wiring import build

    services: Services = build(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'scim.db'}")
    tokens = make_tokens(services, ["t"])
    with TestClient(create_app(services), raise_server_exceptions=False) as http:
        headers = {"Authorization": f"Bearer {tokens[('t', 'provisioner')]}"}
        created = http.post(
            "/scim/v2/t/Users",
            json={"schemas": [CORE_USER], "userName": "a@t.example"},
            headers={**headers, "Content-Type": SCIM_JSON},
        )
        assert created.status_code == 201, created.text
        yield http, tokens[("t", "provisioner")], created.json()["id"]
    services.store.dispose()


@seed(SEED)
@settings(FUZZ, max_examples=25)
@given(SCIM_FILTER, st.sampled_from(["Users", "Groups"]))
def test_any_scim_filter_is_answered_without_a_server_error(
    scim_app: tuple[TestClient, str, str], text: str, resource: str
) -> None:
    http, token, _ = scim_app
    response = http.get(
        f"/scim/v2/t/{resource}",
        params={"filter": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500, (text, response.text)


@seed(SEED)
@settings(FUZZ, max_examples=25)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"op": st.sampled_from(["add", "replace", "remove", "Replace", "move", ""])},
            optional={"path": PATCH_PATH, "value": JSON},
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_scim_patch_is_answered_without_a_server_error(
    scim_app: tuple[TestClient, str, str], operations: list[dict[str, Any]]
) -> None:
    http, token, user_id = scim_app
    response = http.patch(
        f"/scim/v2/t/Users/{user_id}",
        content=json.dumps({"schemas": [PATCH_OP], "Operations": operations}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON},
    )
    assert response.status_code < 500, (operations, response.text)
