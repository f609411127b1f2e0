"""One validation for every interface (``core.limits``; docs/security.md, "Limits").

The same bad UPN, name, attribute value or filter is sent through the HTTP API, SCIM,
a users or groups CSV import, a PowerShell import and the CLI. Each must refuse it with
the core's own message (or, for an over-long field of an HTTP JSON body, the schema's
422 naming the same limit) and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.directory import fold, make_user
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import (
    MAX_ATTRIBUTE_VALUE,
    MAX_FILTER,
    MAX_NAME,
    MAX_UPN,
    check_name,
    check_upn,
    identity_key,
)
from infobarrier.http.app import create_app
from infobarrier.service.wiring import Services
from live_server import make_tokens

TENANT = "t"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

BAD_UPNS = [
    "a@",
    "@b",
    "@",
    "nobody",
    "x" * (MAX_UPN - 1) + "@b.c",
    "a\x00b@t.example",
    "a\nb@t.example",
    "a\u200bb@t.example",  # zero-width space
    "a\u202eb@t.example",  # right-to-left override
    "a b@t.example",
]
BAD_NAMES = [
    "two\nlines",
    "nul\x00",
    "zero\u200bwidth",
    "bidi\u202ename",
    "x" * (MAX_NAME + 1),
]


def core_message(check: Any, *args: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        check(*args)
    return caught.value.message


@dataclass
class Doors:
    """Every interface over one database: the app in-process and the CLI."""

    services: Services
    http: TestClient
    tokens: dict[tuple[str, str], str]
    cli: Any  # conftest's Cli
    tmp: Path

    def api(self, method: str, path: str, body: Any, role: str = "admin") -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[(TENANT, role)]}"}
        return self.http.request(method, f"/v1/tenants/{TENANT}{path}", json=body, headers=headers)

    def scim(self, method: str, path: str, body: Any) -> Any:
        headers = {
            "Authorization": f"Bearer {self.tokens[(TENANT, 'provisioner')]}",
            "Content-Type": "application/scim+json",
        }
        return self.http.request(method, f"/scim/v2/{TENANT}{path}", json=body, headers=headers)

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def state(self) -> tuple[object, ...]:
        """Everything an accepted input would change."""
        directory = self.services.directory.directory(TENANT)
        return (
            sorted(
                (u.upn, u.display_name, tuple(sorted(u.attributes.items())))
                for u in directory.users()
            ),
            sorted((g.display_name, g.mail, len(g.members)) for g in directory.groups()),
            sorted((s.name, s.filter) for s in self.services.barriers.config(TENANT).segments),
        )


@pytest.fixture
def doors(services: Services, cli: Any, tmp_path: Path) -> Iterator[Doors]:
    tokens = make_tokens(services, [TENANT])
    cli.tenant = TENANT
    services.directory.create_user(TENANT, make_user("sponsor@t.example", department="HR"), "test")
    services.barriers.new_segment(TENANT, "HR", "Department -eq 'HR'", "test")
    with TestClient(create_app(services)) as http:
        yield Doors(services, http, tokens, cli, tmp_path)


def refused_http(response: Any, message: str, limit: int | None = None) -> None:
    assert response.status_code in (400, 422), response.text
    text = response.text
    if response.status_code == 422:
        assert limit is not None, text
        assert str(limit) in text, text
    elif "NUL characters" in text:  # http.guard refuses NUL before the body is parsed
        assert "\\u0000" in message or "\\x00" in message or "NUL" in message, text
    else:
        assert message.replace("\\", "\\\\").replace('"', '\\"') in text or message in text, text


def nul(detail: str) -> bool:
    """http.guard's refusal of NUL, which comes before the body is parsed."""
    return detail.startswith("NUL characters (U+0000) are not accepted")


def refused_cli(result: Any, message: str) -> None:
    assert result.code == 2, (result.out, result.err)
    assert " ".join(message.split()) in " ".join(result.err.split()), result.err


@pytest.mark.parametrize("bad", BAD_UPNS, ids=repr)
def test_a_bad_upn_is_refused_the_same_way_everywhere(doors: Doors, bad: str) -> None:
    message = core_message(check_upn, bad)
    before = doors.state()
    refused_http(doors.api("POST", "/users", {"upn": bad}), message, MAX_UPN)
    if bad != "nobody":  # SCIM takes login names too: "nobody" gets nobody@t.invalid
        scim = doors.scim("POST", "/Users", {"schemas": [CORE_USER], "userName": bad})
        assert scim.status_code == 400, scim.text
        # userName is a UPN when it is an address (the core's message), else the UPN
        # derived from it is refused, naming the rule that gave it (docs/scim.md).
        detail = scim.json()["detail"]
        assert message in detail or "which is not name@domain" in detail or nul(detail), detail
    csv = doors.file("users.csv", f'userPrincipalName,department\n"{bad}",Sales\n')
    refused_cli(doors.cli("users", "import", csv), message)
    refused_cli(
        doors.cli(
            "service-accounts", "create", bad, "--vendor", "V", "--sponsor", "sponsor@t.example"
        ),
        message,
    )
    assert doors.state() == before


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
def test_a_bad_segment_or_group_name_is_refused_everywhere(doors: Doors, bad: str) -> None:
    message = core_message(BarrierConfig().new_segment, bad, "Co -eq 'x'")
    before = doors.state()
    refused_http(
        doors.api("POST", "/segments", {"name": bad, "filter": "Co -eq 'x'"}), message, MAX_NAME
    )
    quoted = bad.replace("'", "''")
    script = doors.file(
        "s.ps1", f"New-OrganizationSegment -Name '{quoted}' -UserGroupFilter \"Co -eq 'x'\"\n"
    )
    refused_cli(doors.cli("powershell", "import", script), message)
    refused_cli(doors.cli("segments", "new", bad, "--filter", "Co -eq 'x'"), message)
    if len(bad) <= MAX_NAME:  # group names may be longer (256): only the characters matter
        group_message = core_message(check_name, "group", bad, 256)
        refused_http(doors.api("POST", "/groups", {"display_name": bad}), group_message)
        scim = doors.scim("POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": bad})
        assert scim.status_code == 400, scim.text
        assert group_message in scim.json()["detail"] or nul(scim.json()["detail"]), scim.text
        csv = doors.file("groups.csv", f'groupDisplayName\n"{bad}"\n')
        refused_cli(doors.cli("groups", "import", csv), group_message)
    assert doors.state() == before


def test_an_attribute_value_over_the_limit_is_refused_everywhere(doors: Doors) -> None:
    long = "d" * (MAX_ATTRIBUTE_VALUE + 1)
    message = (
        f"the value of Department is too long: {len(long)} characters, "
        f"at most {MAX_ATTRIBUTE_VALUE}"
    )
    before = doors.state()
    body = {"upn": "new@t.example", "attributes": {"Department": long}}
    refused_http(doors.api("POST", "/users", body), message, MAX_ATTRIBUTE_VALUE)
    patch = doors.api("PATCH", "/users/sponsor@t.example", {"attributes": {"Department": long}})
    refused_http(patch, message, MAX_ATTRIBUTE_VALUE)
    scim = doors.scim(
        "POST",
        "/Users",
        {
            "schemas": [CORE_USER, ENTERPRISE],
            "userName": "new@t.example",
            ENTERPRISE: {"department": long},
        },
    )
    assert scim.status_code == 400, scim.text
    assert message in scim.json()["detail"], scim.text
    csv = doors.file("users.csv", f"userPrincipalName,department\nnew@t.example,{long}\n")
    refused_cli(doors.cli("users", "import", csv), message)
    refused_cli(doors.cli("users", "set", "sponsor@t.example", f"Department={long}"), message)
    assert doors.state() == before
    # Exactly at the limit is accepted.
    at_limit = doors.api(
        "POST", "/users", {"upn": "new@t.example", "attributes": {"Department": long[1:]}}
    )
    assert at_limit.status_code == 201, at_limit.text


def test_a_filter_over_the_limit_is_refused_everywhere(doors: Doors) -> None:
    text = "Department -eq '" + "x" * MAX_FILTER + "'"
    message = f"the filter is {len(text)} characters long, at most {MAX_FILTER}"
    before = doors.state()
    refused_http(
        doors.api("POST", "/segments", {"name": "Big", "filter": text}), message, MAX_FILTER
    )
    quoted = text.replace("'", "''")
    script = doors.file("s.ps1", f"New-OrganizationSegment -Name Big -UserGroupFilter '{quoted}'\n")
    refused_cli(doors.cli("powershell", "import", script), message)
    refused_cli(doors.cli("segments", "new", "Big", "--filter", text), message)
    refused_cli(doors.cli("segments", "set", "HR", "--filter", text), message)
    assert doors.state() == before


def test_unicode_spellings_of_one_upn_or_name_are_one(doors: Doors) -> None:
    """NFC and NFD, and full-width look-alikes, are the same identifier (NFKC + case fold)."""
    nfc, nfd = "jos\u00e9@t.example", "jose\u0301@t.example"
    wide = "\uff2a\uff2f\uff33\u00c9@t.example"  # full-width JOS + É
    assert fold(nfc) == fold(nfd) == fold(wide) == identity_key("JOSÉ@T.EXAMPLE")
    assert doors.api("POST", "/users", {"upn": nfc}).status_code == 201
    for twin in (nfd, wide):
        assert doors.api("POST", "/users", {"upn": twin}).status_code == 409
        scim = doors.scim("POST", "/Users", {"schemas": [CORE_USER], "userName": twin})
        assert scim.status_code == 409, scim.text
    assert (
        doors.api(
            "POST", "/segments", {"name": "R\u00e9search", "filter": "Co -eq 'x'"}
        ).status_code
        == 201
    )
    twin_segment = doors.api(
        "POST", "/segments", {"name": "Re\u0301search", "filter": "Co -eq 'y'"}
    )
    assert twin_segment.status_code == 400, twin_segment.text
    assert doors.api("GET", f"/users/{nfd}", None).json()["upn"] == nfc
