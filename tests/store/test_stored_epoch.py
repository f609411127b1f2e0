"""The stored epoch (``store/compiled.py``) on every backend: an apply writes it, a reader
loads it and patches the changes since, and one that is missing, stale or corrupt is
rebuilt from the directory (and logged), never used."""

from __future__ import annotations

import itertools
import logging

import pytest
from sqlalchemy import update

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import Services, build
from infobarrier.store import compiled
from infobarrier.store.schema import EpochFormRow

ACTOR = "test"
TENANT = "t"
PEOPLE = {
    "a@x.example": "Sales",
    "b@x.example": "Research",
    "c@x.example": "Sales",
    "d@x.example": "",
    "e@x.example": "Legal",
}


@pytest.fixture
def applied(store_url: str) -> str:
    """A tenant with segments and an Active block policy, applied once."""
    services = build(store_url)
    services.tenants.create(TENANT, Mode.SINGLE_SEGMENT, ACTOR)
    services.directory.put_users(
        TENANT,
        [
            make_user(upn, Department=dept) if dept else make_user(upn)
            for upn, dept in PEOPLE.items()
        ],
        ACTOR,
    )
    for name in ("Sales", "Research", "Legal"):
        services.barriers.new_segment(TENANT, name, f"Department -eq '{name}'", ACTOR)
    services.barriers.new_policy(
        TENANT, "S-R", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.barriers.new_policy(
        TENANT, "L", "Legal", ACTOR, allowed=["Legal"], state=PolicyState.ACTIVE
    )
    services.applications.apply(TENANT, ACTOR)
    services.store.dispose()
    return store_url


def _reader(url: str) -> Services:
    """A new process's services: nothing cached."""
    return build(url)


def _answers(services: Services) -> dict[tuple[str, str], bool]:
    """Every ordered pair's bare verdict, by the epoch in force."""
    epoch = services.decisions.current(TENANT).epoch
    upns = sorted(epoch.upns)
    return {(a, b): bool(epoch.allowed_upn(a, b)) for a, b in itertools.product(upns, upns)}


def _reference(services: Services) -> dict[tuple[str, str], bool]:
    """The same verdicts from an epoch compiled from the whole directory, now."""
    with services.store.transaction(write=False) as transaction:
        repos = transaction.scope(transaction.tenants.get(TENANT))
        stored = repos.applications.current_epoch()
        assert stored is not None
        epoch = compile_epoch(repos.directory.load(), stored[1])
    upns = sorted(epoch.upns)
    return {(a, b): bool(epoch.allowed_upn(a, b)) for a, b in itertools.product(upns, upns)}


def _form(services: Services) -> compiled.StoredForm | None:
    with services.store.transaction(write=False) as transaction:
        return transaction.scope(transaction.tenants.get(TENANT)).applications.compiled()


def _tamper(services: Services, **values: object) -> None:
    with services.store.transaction() as transaction:
        transaction.session.execute(update(EpochFormRow).values(**values))


def _rebuilds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]


def test_apply_stores_the_compiled_form_and_a_reader_uses_it(
    applied: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="infobarrier.epochs")
    reader = _reader(applied)
    form = _form(reader)
    assert form is not None
    with reader.store.transaction(write=False) as transaction:
        tenant = transaction.tenants.get(TENANT)
        assert (form.epoch_id, form.version) == (1, tenant.version)
    assert form.format == compiled.FORMAT
    assert form.digest == compiled.digest(form.data)
    assert _answers(reader) == _reference(reader)
    assert not _rebuilds(caplog)
    assert not reader.decisions.current(TENANT).held_directory  # no directory read
    reader.store.dispose()


def test_changes_since_the_stored_form_are_patched_in(
    applied: str, caplog: pytest.LogCaptureFixture
) -> None:
    writer = _reader(applied)
    writer.directory.update_user(TENANT, "b@x.example", ACTOR, Department="Sales")
    writer.directory.update_user(TENANT, "d@x.example", ACTOR, account_enabled=False)
    writer.store.dispose()
    caplog.set_level(logging.INFO, logger="infobarrier.epochs")
    reader = _reader(applied)
    answers = _answers(reader)
    assert answers == _reference(reader)
    assert answers[("a@x.example", "b@x.example")]  # b moved to Sales
    assert not _rebuilds(caplog)
    reader.store.dispose()


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"format": compiled.FORMAT + 1}, "format"),
        ({"source": "0" * 64}, "another configuration"),
        ({"digest": "0" * 64}, "digest mismatch"),
        ({"epoch_id": None}, "no stored compiled form"),
    ],
    ids=["format", "source", "digest", "missing"],
)
def test_a_stale_or_corrupt_form_is_rebuilt_not_used(
    applied: str, caplog: pytest.LogCaptureFixture, values: dict[str, object], why: str
) -> None:
    setup = _reader(applied)
    if values.get("epoch_id", 0) is None:
        with setup.store.transaction() as transaction:
            transaction.session.query(EpochFormRow).delete()
    else:
        _tamper(setup, **values)
    setup.store.dispose()
    caplog.set_level(logging.INFO, logger="infobarrier.epochs")
    reader = _reader(applied)
    assert _answers(reader) == _reference(reader)
    assert any(why in m for m in _rebuilds(caplog)), caplog.text
    reader.decisions.epochs.wait()  # the rebuilt form is stored for the next reader
    form = _form(reader)
    assert form is not None
    with reader.store.transaction(write=False) as transaction:
        config = transaction.scope(transaction.tenants.get(TENANT)).applications.current_epoch()
    assert config is not None
    compiled.decode(form, config[1])  # valid again
    reader.store.dispose()
    caplog.clear()
    again = _reader(applied)
    assert _answers(again) == _reference(again)
    assert not _rebuilds(caplog)
    again.store.dispose()


def test_corrupt_data_with_a_matching_digest_is_rebuilt(
    applied: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A blob whose digest was recomputed over garbage still has to decode consistently."""
    setup = _reader(applied)
    form = _form(setup)
    assert form is not None
    middle = len(form.data) // 2
    broken = form.data[:middle] + bytes(64) + form.data[middle + 64 :]
    _tamper(setup, data=broken, digest=compiled.digest(broken))
    setup.store.dispose()
    caplog.set_level(logging.INFO, logger="infobarrier.epochs")
    reader = _reader(applied)
    assert _answers(reader) == _reference(reader)
    assert _rebuilds(caplog)
    reader.decisions.epochs.wait()
    reader.store.dispose()


def test_users_added_since_the_form_rebuild_and_store_anew(
    applied: str, caplog: pytest.LogCaptureFixture
) -> None:
    writer = _reader(applied)
    writer.directory.put_users(TENANT, [make_user("f@x.example", Department="Research")], ACTOR)
    writer.store.dispose()
    caplog.set_level(logging.INFO, logger="infobarrier.epochs")
    reader = _reader(applied)
    answers = _answers(reader)
    assert answers == _reference(reader)
    assert not answers[("a@x.example", "f@x.example")]
    assert _rebuilds(caplog)
    reader.decisions.epochs.wait()
    form = _form(reader)
    assert form is not None
    with reader.store.transaction(write=False) as transaction:
        assert form.version == transaction.tenants.get(TENANT).version
    reader.store.dispose()


def test_the_matrix_without_reasons_matches_the_explained_one(applied: str) -> None:
    """``matrix`` as CSV or a table reads only the epoch's profile table; JSON explains."""
    reader = _reader(applied)
    names, rows, counts = reader.decisions.matrix_verdicts(TENANT)
    explained_names, grid, explained_counts = reader.decisions.matrix(TENANT)
    assert (names, counts) == (explained_names, explained_counts)
    assert rows == ["".join("1" if c.allowed else "0" for c in row) for row in grid]
    assert "0" in "".join(rows)  # the block policy shows
    assert not reader.decisions.current(TENANT).held_directory
    reader.store.dispose()


def test_stored_arrays_are_read_in_place_exactly_as_numpy_loads_them(applied: str) -> None:
    """``compiled._arrays`` (views of the blob) against ``np.load`` of the same blob; a
    compressed archive, or one with a bad CRC, is refused."""
    import io

    import numpy as np

    reader = _reader(applied)
    form = _form(reader)
    assert form is not None
    views = compiled._arrays(form.data)
    with np.load(io.BytesIO(form.data), allow_pickle=False) as archive:
        assert sorted(views) == sorted(archive.files)
        for name in archive.files:
            loaded = archive[name]
            assert views[name].dtype == loaded.dtype
            assert views[name].shape == loaded.shape
            assert np.array_equal(views[name], loaded)
            assert not views[name].flags.writeable  # a view of the stored bytes
    squeezed = io.BytesIO()
    np.savez_compressed(squeezed, **views)
    with pytest.raises(compiled.StaleForm, match=r"not a stored \.npy"):
        compiled._arrays(squeezed.getvalue())
    flipped = bytearray(form.data)
    flipped[len(flipped) // 3] ^= 0xFF
    with pytest.raises(compiled.StaleForm):
        compiled._arrays(bytes(flipped))
    reader.store.dispose()


def test_a_realized_stored_epoch_answers_as_the_packed_one(applied: str) -> None:
    """What ``serve`` does once (``Epoch.realized``): plain dicts for the UPN maps, the
    object ids left packed, every answer and explanation unchanged."""
    from infobarrier.core.packed import PackedStrings

    reader = _reader(applied)
    epoch = reader.decisions.current(TENANT).epoch
    assert isinstance(epoch.user_ids, PackedStrings)
    plain = epoch.realized()
    assert isinstance(plain.upn_index, dict)
    assert isinstance(plain.upn_keys, dict)
    assert plain.user_ids is epoch.user_ids
    assert list(plain.upns) == list(epoch.upns)
    for a, b in itertools.product(PEOPLE, PEOPLE):
        assert plain.allowed_upn(a, b) == epoch.allowed_upn(a, b)
        assert plain.index_of(a) == epoch.index_of(a)
    assert plain.realized() is plain
    reader.store.dispose()
