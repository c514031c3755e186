"""The engine's try-on sheet: avatars made by this engine, each wearing five sample garments.

    python -m tools.engine_tryon_sheet [--out docs/engine-tryon-sheet.png]

Rows are avatars of the contact sheet's faces (the astronaut as an athletic and a curvy build,
Grace Hopper as a slender one); the first column is the model image as sent, then one column
per garment, its product photo on top. Every tile is a tryon-v1.6 output with category "auto".
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from offline_engine.avatar.renderer import render_avatar
from offline_engine.tryon.renderer import render_tryon
from tools import garment_samples as samples
from tools.engine_contact_sheet import _font, sample_faces, write_sheet

TILE = (200, 300)  # a 2:3 output, shrunk
PRODUCT_HEIGHT = 150
GAP = 8
HEADER = 30
BACKGROUND = (250, 250, 250)
AVATARS = ((0, "athletic build", 11), (0, "curvy figure", 28), (1, "slender frame", 17))


def sample_garments() -> list[tuple[str, Image.Image]]:
    return [
        ("t-shirt, stripes", samples.tshirt((200, 40, 50), stripes=(240, 232, 210))),
        ("hoodie", samples.hoodie()),
        ("blouse", samples.blouse()),
        ("dress", samples.dress()),
        ("jacket", samples.jacket()),
    ]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def tryon_sheet(seed: int = 42) -> Image.Image:
    faces = sample_faces()
    garments = [(name, image, _png(image)) for name, image in sample_garments()]
    columns = 1 + len(garments)
    width = GAP + columns * (TILE[0] + GAP)
    top = HEADER + PRODUCT_HEIGHT + GAP
    height = top + len(AVATARS) * (TILE[1] + GAP) + GAP
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(15)
    draw.text((GAP + 4, 8), "model image", fill=(40, 40, 40), font=font)
    for j, (name, image, _) in enumerate(garments):
        x = GAP + (j + 1) * (TILE[0] + GAP)
        draw.text((x + 4, 8), name, fill=(40, 40, 40), font=font)
        product = image.convert("RGB")
        product.thumbnail((TILE[0], PRODUCT_HEIGHT))
        sheet.paste(product, (x + (TILE[0] - product.width) // 2, HEADER))
    for i, (face, prompt, avatar_seed) in enumerate(AVATARS):
        y = top + i * (TILE[1] + GAP)
        avatar = Image.fromarray(render_avatar(faces[face][1], "2:3", avatar_seed, prompt).rgb)
        model = _png(avatar)
        sheet.paste(avatar.resize(TILE, Image.Resampling.LANCZOS), (GAP, y))
        for j, (_, _, garment) in enumerate(garments):
            rgb, _ = render_tryon(model, garment, "auto", seed)
            tile = Image.fromarray(rgb).resize(TILE, Image.Resampling.LANCZOS)
            sheet.paste(tile, (GAP + (j + 1) * (TILE[0] + GAP), y))
    return sheet


def main(argv: list[str] | None = None) -> None:
    write_sheet(tryon_sheet, __doc__, "docs/engine-tryon-sheet.png", 42, argv)


if __name__ == "__main__":
    main()
