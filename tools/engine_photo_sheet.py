"""The engine's photo sheet: every photo of ``tools.photo_samples`` as three builds, or its refusal.

    python -m tools.engine_photo_sheet [--out docs/engine-photo-sheet.png]

Each row is one sample photo (real photos that ship inside packages, and variations of them:
tilts, crops, light, grey, a 112 px face, a made three-quarter view, a group), then a 2:3
avatar for each build in ``BUILDS``; a photo the engine refuses shows the error's name and
message instead, and a row whose outcome is not the one ``photo_samples`` expects is marked.
"""

from __future__ import annotations

import textwrap

from PIL import Image, ImageDraw

from offline_engine.avatar.renderer import BASE_SIZES, render_avatar
from offline_engine.errors import RuntimeFailure

from .engine_contact_sheet import _font, write_sheet
from .photo_samples import SAMPLES

BUILDS = ("athletic build", "curvy figure", "plus-size")
ASPECT_RATIO = "2:3"
TILE_HEIGHT = 300
SOURCE_WIDTH = 240
GAP = 8
COLUMNS = 2  # samples side by side, so the sheet stays readable on one screen
BACKGROUND = (250, 250, 250)
INK = (40, 40, 40)
WRONG = (190, 30, 30)


def _row(sample, seed: int) -> Image.Image:
    """One sample: its photo and name, then its avatars or its refusal."""
    w, h = BASE_SIZES[ASPECT_RATIO]
    tile_w = round(TILE_HEIGHT * w / h)
    width = SOURCE_WIDTH + len(BUILDS) * (tile_w + GAP) + GAP
    row = Image.new("RGB", (width, TILE_HEIGHT + 2 * GAP), BACKGROUND)
    draw = ImageDraw.Draw(row)
    small, big = _font(14), _font(17)
    data = sample.jpeg()
    photo = sample.make()
    photo.thumbnail((SOURCE_WIDTH - GAP, TILE_HEIGHT - 50))
    row.paste(photo, (GAP, GAP))
    label = textwrap.fill(sample.name, 28)
    draw.multiline_text((GAP, GAP + photo.height + 4), label, fill=INK, font=small)
    x = SOURCE_WIDTH
    try:
        for j, prompt in enumerate(BUILDS):
            avatar = render_avatar(data, ASPECT_RATIO, seed + j, prompt)
            tile = Image.fromarray(avatar.rgb).resize((tile_w, TILE_HEIGHT), Image.LANCZOS)
            row.paste(tile, (x, GAP))
            draw.text((x + 4, GAP + 4), prompt.split()[0], fill=INK, font=small)
            x += tile_w + GAP
        outcome = None
    except RuntimeFailure as refusal:
        outcome = refusal.name
        text = f"refused: {refusal.name}\n\n" + textwrap.fill(refusal.message, 52)
        draw.multiline_text((x + 10, GAP + 20), text, fill=INK, font=big)
    if outcome != sample.refusal:
        expected = sample.refusal or "an avatar"
        draw.text((GAP, TILE_HEIGHT - 10), f"EXPECTED {expected}", fill=WRONG, font=big)
    return row


def photo_sheet(seed: int = 11) -> Image.Image:
    rows = [_row(sample, seed) for sample in SAMPLES]
    row_w, row_h = rows[0].size
    lines = -(-len(rows) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * (row_w + GAP), lines * row_h), BACKGROUND)
    for i, row in enumerate(rows):
        sheet.paste(row, ((i % COLUMNS) * (row_w + GAP), (i // COLUMNS) * row_h))
    return sheet


def main(argv: list[str] | None = None) -> None:
    write_sheet(photo_sheet, __doc__, "docs/engine-photo-sheet.png", 11, argv)


if __name__ == "__main__":
    main()
