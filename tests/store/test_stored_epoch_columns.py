"""A stored epoch (packed UPNs, the UPN index searched until it builds its dict) answers
a batch given as columns as ``answer_parts`` does (``core.answer_columns``): the form
``serve`` and ``check --batch`` read, in small batches and in one past the point where
the index builds its dict, as stored and patched, with UPNs stored in lower and in mixed
case."""

from __future__ import annotations

import itertools

import pytest

from core.test_answers import PLAIN, _upn, build_epoch
from infobarrier.core.answer_columns import answer_columns
from infobarrier.core.answers import Wrapping, answer_parts
from infobarrier.core.contract import Check
from infobarrier.core.directory import make_user
from infobarrier.core.epoch import Epoch
from infobarrier.core.packed import LOOKUPS_BEFORE_DICT, PackedStrings, UpnIndex
from infobarrier.core.patch import patch_epoch
from infobarrier.store import compiled

#: A caller's object around each answer (an error as a plain string).
WRAPPING = Wrapping('{"ok":true,"why":', '{"ok":false,"why":', "}", lambda text: f'"{text}"')


def stored(epoch: Epoch) -> Epoch:
    """The epoch as a reader of its stored form gets it."""
    data = compiled.encode(epoch)
    form = compiled.StoredForm(
        1, 1, compiled.FORMAT, compiled.fingerprint(epoch.config), compiled.digest(data), data
    )
    found = compiled.decode(form, epoch.config)
    assert isinstance(found.upns, PackedStrings)
    assert isinstance(found.upn_index, UpnIndex)
    return found


def columns(names: list[str], size: int) -> tuple[list[str], list[str]]:
    """``size`` pairs over every spelling of the people (and somebody unknown)."""
    spellings = [s for n in names for s in (_upn(n), _upn(n).upper(), f" {_upn(n)}")]
    spellings.append("nobody@contoso.com")
    pairs = list(itertools.islice(itertools.cycle(itertools.product(spellings, repeat=2)), size))
    return [a for a, _ in pairs], [b for _, b in pairs]


@pytest.mark.parametrize("case", ["lower", "title"])
@pytest.mark.parametrize("patched", [False, True])
@pytest.mark.parametrize("size", [40, LOOKUPS_BEFORE_DICT + 100])
def test_a_stored_epoch_answers_columns_as_answer_parts(
    case: str, patched: bool, size: int
) -> None:
    names = [n if case == "lower" else n.title() for n in PLAIN]
    epoch = stored(build_epoch({n: PLAIN[n.lower()] for n in names}))
    if patched:  # the first person disabled, the second moved to Research
        first, second = (epoch.index_of(_upn(n)) for n in names[:2])
        assert first is not None
        assert second is not None
        changes = [
            (make_user(epoch.upns[first], id=epoch.user_ids[first], account_enabled=False), []),
            (make_user(epoch.upns[second], id=epoch.user_ids[second], department="Research"), []),
        ]
        found = patch_epoch(epoch, changes)
        assert found is not None
        epoch = found
    senders, recipients = columns(names, size)
    checks: list[Check] = [
        {"action": "chat", "from": a, "to": [b]} for a, b in zip(senders, recipients, strict=True)
    ]
    for wrapping in (None, WRAPPING):
        want = ",".join(
            answer_parts(epoch, checks, people_search_restriction=True, wrapping=wrapping)
        )
        got = answer_columns(
            epoch, "chat", senders, recipients, people_search_restriction=True, wrapping=wrapping
        )
        assert got == want
