"""Whether a HEIC's coded pictures are whole, read from its container without decoding them.

libheif decodes a HEIC only at full size, which takes most of a second for a 12 MP photo, so the
upload request does not decode one (``received_selfies`` does that later). What the request can
check cheaply: libheif's own parse of the container on open refuses a file cut short, and this
module follows every coded picture's HEVC units (each a length, then the unit) and asks that
they chain exactly to the end of the picture's data, with sound unit headers and none of the
byte runs an encoder always escapes. A file cut short or zero-filled fails, and so do random
bytes over a unit boundary. Random bytes inside one unit's payload pass, but libde265 conceals
those when decoding (a full decode paints them, it raises no error), so it would not catch them
either.
"""

import struct

_HEVC_ITEM_TYPES = {b"hvc1", b"hvt1"}  # a picture or a grid tile; a grid itself holds no units
_NAL_LENGTH_BYTES = 4  # hvcC's lengthSizeMinusOne + 1; every encoder we know writes 4
# An encoder escapes these runs inside every unit (emulation prevention), so finding one means the
# bytes were not written by an encoder: zero-filled or overwritten data.
_NEVER_IN_A_UNIT = (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02")


class BrokenContainer(ValueError):
    """The HEIF boxes do not describe the file (a box or an extent runs past the end)."""


def coded_pictures_end_cleanly(data):
    """True if every HEVC picture item's units chain exactly to the end of its data."""
    try:
        pictures = list(_hevc_item_extents(data))
    except (BrokenContainer, struct.error, IndexError):
        return False
    if not pictures:
        return False
    return all(
        _units_chain(b"".join(data[start:end] for start, end in extents)) for extents in pictures
    )


def _boxes(data, start, end):
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:  # to the end of the enclosing box
            size = end - position
        if size < header or position + size > end:
            raise BrokenContainer(f"box {kind!r} runs past its container")
        yield kind, position + header, position + size
        position += size


def _child(data, start, end, kind):
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


def _hevc_item_extents(data):
    """For each HEVC item stored in the file itself: its extents as (start, end) offsets."""
    meta = _child(data, 0, len(data), b"meta")
    if meta is None:
        raise BrokenContainer("no meta box")
    start, end = meta[0] + 4, meta[1]  # a FullBox: version and flags first
    iinf, iloc = _child(data, start, end, b"iinf"), _child(data, start, end, b"iloc")
    if iinf is None or iloc is None:
        raise BrokenContainer("no item information or locations")
    types = _item_types(data, *iinf)
    for item_id, extents in _item_locations(data, *iloc):
        if types.get(item_id) in _HEVC_ITEM_TYPES:
            yield extents


def _item_types(data, start, end):
    version = data[start]
    position = start + 4 + (2 if version == 0 else 4)  # after the entry count
    types = {}
    for kind, box_start, _ in _boxes(data, position, end):
        if kind != b"infe" or data[box_start] < 2:  # versions 0 and 1 carry no item type
            continue
        if data[box_start] == 2:
            item_id, _, item_type = struct.unpack_from(">HH4s", data, box_start + 4)
        else:
            item_id, _, item_type = struct.unpack_from(">IH4s", data, box_start + 4)
        types[item_id] = item_type
    return types


def _item_locations(data, start, end):
    version = data[start]
    position = start + 4
    offset_size, length_size = data[position] >> 4, data[position] & 15
    base_offset_size, index_size = data[position + 1] >> 4, data[position + 1] & 15
    position += 2
    count, position = _uint(data, position, 2 if version < 2 else 4)
    for _ in range(count):
        item_id, position = _uint(data, position, 2 if version < 2 else 4)
        method = 0
        if version in (1, 2):
            method, position = _uint(data, position, 2)
            method &= 15
        position += 2  # data_reference_index
        base, position = _uint(data, position, base_offset_size)
        extent_count, position = _uint(data, position, 2)
        extents = []
        for _ in range(extent_count):
            if version in (1, 2) and index_size:
                position += index_size
            offset, position = _uint(data, position, offset_size)
            length, position = _uint(data, position, length_size)
            first = base + offset
            last = len(data) if length == 0 else first + length
            if method == 0 and last > len(data):
                raise BrokenContainer(f"item {item_id} runs past the end of the file")
            extents.append((first, last))
        if position > end:
            raise BrokenContainer("the item locations run past their box")
        if method == 0:  # 1 and 2 point into an idat box or another item: not coded pictures
            yield item_id, extents


def _uint(data, position, size):
    return int.from_bytes(data[position : position + size], "big"), position + size


def _units_chain(stream):
    """HEVC units, each a 4-byte length and a unit with a sound 2-byte header, up to the end."""
    position, pictures = 0, 0
    while position < len(stream):
        length = int.from_bytes(stream[position : position + _NAL_LENGTH_BYTES], "big")
        position += _NAL_LENGTH_BYTES
        if length < 2 or position + length > len(stream):
            return False
        first, second = stream[position], stream[position + 1]
        unit_type = (first >> 1) & 63
        if first & 128 or second & 7 == 0:  # forbidden_zero_bit set, or temporal id + 1 == 0
            return False
        if 22 <= unit_type <= 31 or 41 <= unit_type <= 47:  # reserved unit types
            return False
        if any(stream.find(run, position, position + length) >= 0 for run in _NEVER_IN_A_UNIT):
            return False
        pictures += unit_type < 32  # a slice of the picture itself
        position += length
    return pictures > 0
