"""One settings object (``service.settings``): read from ``INFOBARRIER_*``, documented in
docs/settings.md, wired into the parts that use it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from infobarrier.cli.main import run
from infobarrier.core import decisions
from infobarrier.core.errors import InvalidInput
from infobarrier.service.settings import Settings, load
from infobarrier.service.wiring import build
from live_server import make_tokens, start_server, stop_server

DOC = Path(__file__).parents[2] / "docs" / "settings.md"


def test_the_table_lists_every_setting_with_its_default() -> None:
    rows = re.findall(r"^\| `INFOBARRIER_([A-Z_]+)` \| `([^`]*)` \|", DOC.read_text(), re.M)
    described = Settings.described()
    assert [name.lower() for name, _ in rows] == [name for name, _, _ in described]
    defaults = {name: default for name, default, _ in described}
    for name, default in rows:
        assert str(defaults[name.lower()]) == default, name


def test_variables_set_the_settings_and_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOBARRIER_MAX_CHECKS", "7")
    monkeypatch.setenv("INFOBARRIER_DB", "sqlite:///from-env.db")
    assert load().max_checks == 7
    assert load().db == "sqlite:///from-env.db"
    assert load(db="sqlite:///option.db").db == "sqlite:///option.db"
    assert load(db=None).db == "sqlite:///from-env.db"


def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("INFOBARRIER_PORT", "0")
    with pytest.raises(InvalidInput, match="INFOBARRIER_PORT"):
        load()
    monkeypatch.setenv("INFOBARRIER_PORT", "8000")
    monkeypatch.setenv("INFOBARRIER_PATCH_LIMIT", "many")
    code = run(["--db", f"sqlite:///{tmp_path / 'x.db'}", "tenants", "list"])
    assert code == 2
    assert "INFOBARRIER_PATCH_LIMIT" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()  # nothing ran


def test_wiring_hands_each_setting_to_its_part(tmp_path: Path) -> None:
    settings = Settings(
        db=f"sqlite:///{tmp_path / 'w.db'}",
        patch_limit=3,
        overlay_limit=4,
        token_trust_seconds=0.25,
        changes_kept=5,
        whatif_list_limit=6,
        explanations_kept=77,
        feed_poll_seconds=0.3,
    )
    services = build(settings=settings)
    try:
        assert services.settings is settings
        assert (services.decisions.epochs.patch_limit, services.decisions.epochs.overlay_limit) == (
            3,
            4,
        )
        assert services.tokens.trust_seconds == 0.25
        assert services.store.changes_kept == 5
        assert services.applications.list_limit == 6
        assert services.feed.poll_seconds == 0.3
        assert decisions.EXPLANATIONS.limit == 77
    finally:
        services.store.dispose()
        build(settings=Settings(db=settings.db)).store.dispose()  # the defaults back


def test_a_server_takes_its_batch_limit_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path / 'limit.db'}"
    services = build(db_url)
    tokens = make_tokens(services, ["abc"])
    services.store.dispose()
    monkeypatch.setenv("INFOBARRIER_MAX_CHECKS", "2")
    process, base = start_server(db_url, tmp_path / "server.log")
    try:
        headers = {"Authorization": f"Bearer {tokens[('abc', 'enforcer')]}"}
        check: dict[str, Any] = {"action": "chat", "from": "a@x.example", "to": ["b@x.example"]}
        url = f"{base}/v1/tenants/abc/decisions"
        two = httpx.post(url, json={"checks": [check] * 2}, headers=headers, timeout=30)
        assert two.status_code == 200, two.text
        three = httpx.post(url, json={"checks": [check] * 3}, headers=headers, timeout=30)
        assert three.status_code == 413, three.text
        assert three.json()["code"] == "too_many_checks"
    finally:
        stop_server(process)


def test_a_server_takes_its_body_limit_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path / 'body.db'}"
    services = build(db_url)
    tokens = make_tokens(services, ["abc"])
    services.store.dispose()
    monkeypatch.setenv("INFOBARRIER_BODY_LIMIT_DEFAULT", "64")
    process, base = start_server(db_url, tmp_path / "server.log")
    try:
        headers = {"Authorization": f"Bearer {tokens[('abc', 'admin')]}"}
        body = {"name": "G" * 100, "filter": "Department -eq 'X'"}
        big = httpx.post(f"{base}/v1/tenants/abc/segments", json=body, headers=headers, timeout=30)
        assert big.status_code == 413, big.text
        assert big.json()["code"] == "too_large"
    finally:
        stop_server(process)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("INFOBARRIER_PORT", "65536", "less than or equal to 65535"),
        ("INFOBARRIER_WORKERS", "0", "greater than or equal to 1"),
        ("INFOBARRIER_FEED_POLL_SECONDS", "0", "greater than 0"),
        ("INFOBARRIER_TOKEN_TRUST_SECONDS", "soon", "expected float"),
        ("INFOBARRIER_MAX_CHECKS", "1.5", "expected int"),
    ],
)
def test_each_bound_and_type_is_checked(variable: str, value: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=f"{variable}: .*{words}"):
        load({variable: value})


def test_values_are_converted_to_their_types_and_unknown_variables_ignored() -> None:
    settings = load(
        {
            "INFOBARRIER_PORT": " 8123 ",
            "INFOBARRIER_TOKEN_TRUST_SECONDS": "3",
            "INFOBARRIER_DB": "sqlite:///x.db",
            "INFOBARRIER_NO_SUCH_THING": "1",
        }
    )
    assert (settings.port, settings.token_trust_seconds, settings.db) == (
        8123,
        3.0,
        "sqlite:///x.db",
    )
    assert isinstance(settings.token_trust_seconds, float)
    assert load({}) == Settings()


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(InvalidInput, match="INFOBARRIER_MAX_PAIRS"):
        Settings(max_pairs=0)
