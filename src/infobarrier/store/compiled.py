"""The stored form of a compiled epoch: what decisions read, in one blob next to its row.

An epoch is stored as an uncompressed ``.npz`` archive (a zip of ``.npy`` arrays, numpy's
own documented format): per user its profile, ``AccountEnabled``, hidden and usable flags;
per profile its segments and conflict flag; the profile compatibility table; the segment
relation; the users' object ids and UPNs as newline-separated UTF-8 with offsets; and the
users' order by folded UPN, for lookups by binary search (``core.packed``). Loading it is one
read of the blob, and its arrays are views of that blob (``_arrays``): no Python object per
user, no directory, no compile (docs/decisions.md, "The stored epoch").

The blob is checked before it is trusted: the row carries the format version, the
SHA-256 of the blob and a fingerprint of the configuration it was compiled from; a
mismatch in any of them, or a blob that does not decode into consistent arrays, is
:class:`StaleForm` and the reader recompiles (``service.epochs``).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.epoch import Epoch, keys_by_upn
from infobarrier.core.packed import KeysByUpn, PackedStrings, UpnIndex
from infobarrier.store import codec

#: The layout version; a stored form of any other version is rebuilt.
FORMAT = 1


class StaleForm(Exception):
    """A stored form that must not be used (why, in the message)."""


@dataclass(frozen=True, slots=True)
class StoredForm:
    """A stored compiled epoch as its row holds it.

    ``version`` is the tenant version whose directory the arrays reflect: a reader patches
    the changes recorded after it (``tenant_changes``).
    """

    epoch_id: int
    version: int
    format: int
    source: str
    digest: str
    data: bytes


def fingerprint(config: BarrierConfig) -> str:
    """SHA-256 of the configuration's stored JSON: which segments and policies the arrays
    were compiled from."""
    text = json.dumps(codec.config_to_json(config.active()), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def digest(data: bytes) -> str:
    """SHA-256 of a blob, hex."""
    return hashlib.sha256(data).hexdigest()


def _packed(strings: Any) -> PackedStrings:
    return strings if isinstance(strings, PackedStrings) else PackedStrings.pack(strings)


def _folded_in_order(index: Any, n: int) -> list[str] | None:
    """The folded UPNs by user, when ``index`` is a compiled epoch's dict (folded UPN ->
    user, inserted in user order): no user's UPN is folded twice."""
    if not isinstance(index, dict) or len(index) != n:
        return None
    if not np.array_equal(np.fromiter(index.values(), dtype=np.int64, count=n), np.arange(n)):
        return None
    return list(index)


def encode(epoch: Epoch) -> bytes:
    """The blob of an epoch (its overlay folded in)."""
    profile_of = epoch.profile_array()
    usable = epoch.usable_array()
    enabled, hidden = epoch.enabled, epoch.hidden
    if epoch.overlay:
        enabled, hidden = enabled.copy(), hidden.copy()
        for i, state in epoch.overlay.items():
            enabled[i] = state.enabled
            hidden[i] = state.hidden
    ids, upns = _packed(epoch.user_ids), _packed(epoch.upns)
    index = epoch.upn_index
    if not isinstance(index, UpnIndex) or index.upns is not epoch.upns:
        index = UpnIndex.build(upns, _folded_in_order(index, len(epoch)))
    lengths = np.array([len(p) for p in epoch.profiles], dtype=np.int64)
    profile_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=profile_offsets[1:])
    flat = np.fromiter((s for p in epoch.profiles for s in p), dtype=np.int32)
    arrays: dict[str, npt.NDArray[Any]] = {
        "meta": np.array([FORMAT, len(epoch), len(epoch.profiles)], dtype=np.int64),
        "profile_of": np.ascontiguousarray(profile_of, dtype=np.int32),
        "enabled": np.ascontiguousarray(enabled, dtype=np.bool_),
        "hidden": np.ascontiguousarray(hidden, dtype=np.bool_),
        "usable": np.ascontiguousarray(usable, dtype=np.bool_),
        "conflict": np.ascontiguousarray(epoch.conflict, dtype=np.bool_),
        "compat": np.ascontiguousarray(epoch.compat, dtype=np.bool_),
        "permits": np.ascontiguousarray(epoch.permits, dtype=np.bool_),
        "open": np.ascontiguousarray(epoch.open, dtype=np.bool_),
        "profile_flat": flat,
        "profile_offsets": profile_offsets,
        "ids": np.frombuffer(ids.data, dtype=np.uint8),
        "id_offsets": ids.offsets,
        "upns": np.frombuffer(upns.data, dtype=np.uint8),
        "upn_offsets": upns.offsets,
        "upn_order": index.order,
    }
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def decode(form: StoredForm, config: BarrierConfig) -> Epoch:
    """The epoch of a stored form, after checking it; :class:`StaleForm` when it must not
    be used."""
    if form.format != FORMAT:
        raise StaleForm(f"format {form.format}, this version reads {FORMAT}")
    config = config.active()
    if form.source != fingerprint(config):
        raise StaleForm("compiled from another configuration than the epoch's")
    if digest(form.data) != form.digest:
        raise StaleForm("digest mismatch (the blob is corrupt)")
    try:
        return _epoch(_arrays(form.data), config)
    except StaleForm:
        raise
    except Exception as exc:  # any malformed archive: never trusted
        raise StaleForm(f"undecodable ({type(exc).__name__}: {exc})") from None


#: A zip member's local header: its fixed part, and where the name's and the extra
#: field's lengths sit in it (the zip format's "local file header").
_LOCAL_HEADER = 30
_LOCAL_LENGTHS = struct.Struct("<HH")
_LOCAL_LENGTHS_AT = 26


def _arrays(data: bytes) -> dict[str, npt.NDArray[Any]]:
    """The arrays of an uncompressed ``.npz`` blob as read-only views of ``data``.

    ``np.load`` copies each member out of the zip and copies it again into an array: at
    a million users a second 107 MB and about 0.1 s. Here the zip's directory gives each
    member's offset, numpy's own header reader its dtype and shape, and ``np.frombuffer``
    the array in place. Each member's CRC-32 is still checked (over the blob, no copy), so
    a blob whose digest was recomputed over garbage is refused as before. Anything but
    plain stored ``.npy`` members is refused too (:class:`StaleForm`).
    """
    arrays: dict[str, npt.NDArray[Any]] = {}
    view = memoryview(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    for info in members:
        if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
            raise StaleForm(f"member {info.filename!r} is not a stored .npy array")
        at = info.header_offset
        name_length, extra_length = _LOCAL_LENGTHS.unpack_from(data, at + _LOCAL_LENGTHS_AT)
        start = at + _LOCAL_HEADER + name_length + extra_length
        if zlib.crc32(view[start : start + info.file_size]) != info.CRC:
            raise StaleForm(f"member {info.filename!r} fails its CRC-32")
        head = io.BytesIO(data[start : start + min(info.file_size, 65_536)])
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
        else:
            raise StaleForm(f"member {info.filename!r} has .npy version {version}")
        if fortran or dtype.hasobject:
            raise StaleForm(f"member {info.filename!r} is not a plain C-ordered array")
        count = int(np.prod(shape, dtype=np.int64))
        offset = start + head.tell()
        if offset + count * dtype.itemsize > start + info.file_size:
            raise StaleForm(f"member {info.filename!r} is shorter than its header says")
        flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
        arrays[info.filename.removesuffix(".npy")] = flat.reshape(shape)
    return arrays


def _epoch(a: dict[str, npt.NDArray[Any]], config: BarrierConfig) -> Epoch:
    fmt, n, p_count = (int(x) for x in a["meta"])
    s_count = len(config.segments)
    shapes = {
        "profile_of": (n,),
        "enabled": (n,),
        "hidden": (n,),
        "usable": (n,),
        "conflict": (p_count,),
        "compat": (p_count, p_count),
        "permits": (s_count, s_count),
        "open": (s_count,),
        "profile_offsets": (p_count + 1,),
        "id_offsets": (n + 1,),
        "upn_offsets": (n + 1,),
        "upn_order": (n,),
    }
    if fmt != FORMAT or p_count < s_count + 1:
        raise StaleForm("inconsistent header")
    for name, shape in shapes.items():
        if a[name].shape != shape:
            raise StaleForm(f"{name} has shape {a[name].shape}, expected {shape}")
    profile_of = a["profile_of"]
    if n and (int(profile_of.min()) < 0 or int(profile_of.max()) >= p_count):
        raise StaleForm("profile numbers out of range")
    bounds = a["profile_offsets"].tolist()
    flat = a["profile_flat"].tolist()
    profiles = tuple(tuple(flat[bounds[k] : bounds[k + 1]]) for k in range(p_count))
    if bounds[-1] != len(flat) or any(s < 0 or s >= s_count for s in flat):
        raise StaleForm("profiles out of range")
    ids = PackedStrings(a["ids"].tobytes(), a["id_offsets"])
    upns = PackedStrings(a["upns"].tobytes(), a["upn_offsets"])
    if int(ids.offsets[-1]) != len(ids.data) or int(upns.offsets[-1]) != len(upns.data):
        raise StaleForm("string offsets out of range")
    usable = a["usable"]
    keys = array("i")
    keys.frombytes(np.where(usable, profile_of, -1).astype(np.int32).tobytes())
    table = np.ascontiguousarray(a["compat"], dtype=np.bool_).tobytes()
    compat = np.frombuffer(table, dtype=np.bool_).reshape(p_count, p_count)
    order = a["upn_order"]
    if n and (int(order.min()) < 0 or int(order.max()) >= n):
        raise StaleForm("UPN order out of range")
    index = UpnIndex(order, upns)
    upn_keys = KeysByUpn(
        index, keys.__getitem__, lambda: keys_by_upn(index.as_dict(), keys, p_count)
    )
    return Epoch(
        config=config,
        user_ids=ids,
        upns=upns,
        upn_index=index,
        upn_keys=upn_keys,
        enabled=a["enabled"],
        hidden=a["hidden"],
        profile_of=profile_of,
        profiles=profiles,
        conflict=a["conflict"],
        compat=compat,
        permits=a["permits"],
        open=a["open"],
        usable=usable,
        keys=keys,
        table=table,
        names=tuple(s.name for s in config.segments),
        policies=config.segment_policies(),
    )
