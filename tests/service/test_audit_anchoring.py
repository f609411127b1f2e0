"""The audit log cannot be cut short or rewritten unnoticed; a malformed row is reported.

Each attack below is done as a database rewriter would: straight SQL on the audit table,
with everything the database holds, but not the key file kept beside it.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from infobarrier.core.audit import GENESIS, StoredEntry, entry_hash, parse_entry
from infobarrier.core.barriers import Mode
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services, build

TENANT = "acme"


@pytest.fixture
def acme(services: Services) -> Services:
    services.tenants.create(TENANT, Mode.SINGLE_SEGMENT, "test")
    for n in range(20):
        services.barriers.new_segment(TENANT, f"S{n}", f"Department -eq 'd{n}'", "test")
    return services


def sql(services: Services, statement: str, **params: Any) -> None:
    with services.store.engine.begin() as connection:
        connection.execute(text(statement), params)


def count(services: Services) -> int:
    return len(services.audit.entries(TENANT))


def test_an_untouched_log_verifies(acme: Services) -> None:
    assert acme.audit.verify(TENANT) == (21, None)


@pytest.mark.parametrize("cut", [1, 10, 21])
def test_cutting_the_log_short_is_detected(acme: Services, cut: int) -> None:
    sql(acme, "DELETE FROM audit WHERE seq > :keep", keep=21 - cut)
    checked, broken = acme.audit.verify(TENANT)
    assert checked == 21 - cut
    assert broken is not None
    assert broken[0] == 21 - cut + 1
    assert "cut short" in broken[1]


def _rewrite_unkeyed(services: Services, keep: int) -> None:
    """Rewrite the whole chain as an attacker without the key would: plain SHA-256."""
    with services.store.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT seq, at, actor, kind, detail FROM audit ORDER BY seq")
        ).all()
        connection.execute(text("DELETE FROM audit WHERE seq > :keep"), {"keep": keep})
        prev = GENESIS
        for seq, at, actor, kind, detail in rows[:keep]:
            parsed = parse_entry(StoredEntry(seq, at, actor, kind, detail, prev, ""))
            assert not isinstance(parsed, str)
            changed = {**parsed.detail, "note": "rewritten"}
            digest = entry_hash(seq, parsed.at, actor, kind, changed, prev)
            connection.execute(
                text("UPDATE audit SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"d": json.dumps(changed), "p": prev, "h": digest, "s": seq},
            )
            prev = digest


@pytest.mark.parametrize("keep", [21, 5])
def test_a_recomputed_chain_is_detected(acme: Services, keep: int) -> None:
    _rewrite_unkeyed(acme, keep)
    _checked, broken = acme.audit.verify(TENANT)
    assert broken == (1, "its content does not match its hash")


def test_a_forged_or_missing_checkpoint_is_reported(acme: Services) -> None:
    heads = acme.store.audit_anchor.heads_file
    assert heads is not None
    data = json.loads(heads.read_text())
    [scope] = [s for s in data if s.endswith(f"tenant={acme.tenants.get(TENANT).id}")]
    data[scope]["count"] = 5  # an attacker hiding the last entries
    heads.write_text(json.dumps(data))
    broken = acme.audit.verify(TENANT)[1]
    assert broken is not None
    assert "signature does not match" in broken[1]
    heads.write_text("{}")
    broken = acme.audit.verify(TENANT)[1]
    assert broken is not None
    assert "no signed checkpoint" in broken[1]


def test_the_key_is_a_0600_file_beside_the_database(acme: Services, db_url: str) -> None:
    database = Path(db_url.removeprefix("sqlite:///"))
    key = database.with_name(database.name + ".audit-key")
    assert acme.store.audit_anchor.key_file == key.resolve()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in database.read_bytes().decode("latin-1")
    assert stat.S_IMODE(Path(f"{key}.heads.json").stat().st_mode) == 0o600


def test_the_key_file_setting_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    chosen = tmp_path / "secrets" / "audit.key"
    monkeypatch.setenv("INFOBARRIER_AUDIT_KEY_FILE", str(chosen))
    services = build(db_url)
    try:
        services.tenants.create(TENANT, Mode.SINGLE_SEGMENT, "test")
        assert chosen.exists()
        assert stat.S_IMODE(chosen.stat().st_mode) == 0o600
        assert services.audit.verify(TENANT) == (1, None)
    finally:
        services.store.dispose()


def test_a_log_written_before_anchoring_is_adopted(acme: Services, db_url: str) -> None:
    """Upgrading: old unkeyed entries are anchored as found; later entries are keyed."""
    _rewrite_unkeyed(acme, 21)  # what an older version wrote
    anchor = acme.store.audit_anchor
    assert anchor.key_file is not None
    assert anchor.heads_file is not None
    anchor.key_file.unlink()
    anchor.heads_file.unlink()
    acme.store.dispose()
    upgraded = build(db_url)
    try:
        assert upgraded.audit.verify(TENANT) == (21, None)
        upgraded.barriers.new_segment(TENANT, "Later", "Department -eq 'x'", "test")
        assert upgraded.audit.verify(TENANT) == (22, None)
        sql(upgraded, "DELETE FROM audit WHERE seq = 22")
        assert upgraded.audit.verify(TENANT)[1] is not None
    finally:
        upgraded.store.dispose()


# -- malformed rows: reported, never a traceback or a 500 ----------------------------------
MALFORMED = [
    ("UPDATE audit SET at = 'yesterday' WHERE seq = 3", "timestamp"),
    ("UPDATE audit SET detail = '{not json' WHERE seq = 3", "not valid JSON"),
]


@pytest.fixture
def http(acme: Services) -> Iterator[tuple[TestClient, dict[str, str]]]:
    _record, plain = acme.tokens.create(TENANT, Role.ADMIN, "test")
    with TestClient(create_app(acme)) as client:
        yield client, {"Authorization": f"Bearer {plain}"}


@pytest.mark.parametrize(("statement", "why"), MALFORMED)
def test_a_malformed_row_is_broken_at_its_entry(
    acme: Services, http: tuple[TestClient, dict[str, str]], statement: str, why: str
) -> None:
    client, headers = http
    sql(acme, statement)
    _checked, broken = acme.audit.verify(TENANT)
    assert broken is not None
    assert broken[0] == 3
    assert why in broken[1]
    response = client.get(f"/v1/tenants/{TENANT}/audit/verify", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["intact"], body["first_broken"]) == (False, 3)
    listed = client.get(f"/v1/tenants/{TENANT}/audit", headers=headers)
    assert listed.status_code < 500
    assert "entry 3 is malformed" in listed.text


@pytest.mark.parametrize(("statement", "why"), MALFORMED)
def test_cli_audit_verify_reports_a_malformed_row(
    cli: Any, db_url: str, statement: str, why: str
) -> None:
    cli.ok("tenants", "create", TENANT)
    cli.ok("segments", "new", "A", "--filter", "Department -eq 'a'", tenant=TENANT)
    cli.ok("segments", "new", "B", "--filter", "Department -eq 'b'", tenant=TENANT)
    services = build(db_url)
    try:
        sql(services, statement)
    finally:
        services.store.dispose()
    result = cli("audit", "verify", tenant=TENANT)
    assert result.code == 1
    assert "BROKEN at entry 3" in result.err
    assert why in result.err
    assert "Traceback" not in result.err + result.out
