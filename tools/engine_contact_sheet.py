"""The engine's contact sheet: sample faces as athletic, curvy and slender, in every aspect ratio.

    python -m tools.engine_contact_sheet [--out docs/engine-contact-sheet.png]

Faces: scikit-image's astronaut (Eileen Collins, NASA, public domain; scikit-image is a dev
dependency), Grace Hopper's Navy portrait (public domain, in ``samples/``), and a made hard
case: the astronaut re-shot as a 12-megapixel phone selfie, mirrored, tilted by 12 degrees and
cropped tight through the top of her hair. Each face is shown beside its renders.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from offline_engine.avatar.renderer import BASE_SIZES, render_avatar

SAMPLES = Path(__file__).parent / "samples"
BUILDS = ("athletic build", "curvy figure", "slender frame")
TILE_HEIGHT = 300
GAP = 8
BACKGROUND = (250, 250, 250)


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def phone_selfie(face: Image.Image) -> Image.Image:
    """A made hard case: mirrored, tilted, tight at the top, 4000x3000 like a phone's photo."""
    turned = face.transpose(Image.Transpose.FLIP_LEFT_RIGHT).rotate(
        12, resample=Image.Resampling.BICUBIC, fillcolor=(120, 118, 112)
    )
    w, h = turned.size
    tight = turned.crop((int(0.12 * w), int(0.14 * h), int(0.88 * w), int(0.71 * h)))
    return tight.resize((4000, 3000), Image.Resampling.BICUBIC)


def sample_faces() -> list[tuple[str, bytes]]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    return [
        ("astronaut (skimage)", _jpeg(astronaut)),
        ("Grace Hopper (samples/)", (SAMPLES / "grace_hopper.jpg").read_bytes()),
        ("made: 12 MP, tilted 12°, tight crop", _jpeg(phone_selfie(astronaut), 88)),
    ]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow built without FreeType
        return ImageFont.load_default()


def contact_sheet(seed: int = 11) -> Image.Image:
    faces = sample_faces()
    widths = [round(TILE_HEIGHT * w / h) for w, h in BASE_SIZES.values()]
    source_w = 220
    label_w = 120
    sheet_w = source_w + label_w + sum(widths) + GAP * (len(widths) + 2)
    header = 40
    block = len(BUILDS) * (TILE_HEIGHT + GAP) + GAP
    sheet = Image.new("RGB", (sheet_w, header + len(faces) * block), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    small, big = _font(15), _font(20)
    x = GAP + source_w + label_w + GAP
    for ratio, w in zip(BASE_SIZES, widths, strict=True):
        draw.text((x + 4, 10), ratio, fill=(40, 40, 40), font=big)
        x += w + GAP
    for i, (name, data) in enumerate(faces):
        top = header + i * block
        source = Image.open(io.BytesIO(data)).convert("RGB")
        source.thumbnail((source_w, TILE_HEIGHT))
        sheet.paste(source, (GAP, top + GAP))
        draw.text((GAP, top + GAP + source.height + 6), name, fill=(40, 40, 40), font=small)
        for j, prompt in enumerate(BUILDS):
            y = top + GAP + j * (TILE_HEIGHT + GAP)
            draw.text((GAP + source_w + 10, y + TILE_HEIGHT // 2 - 8), prompt.split()[0],
                      fill=(40, 40, 40), font=big)  # fmt: skip
            x = GAP + source_w + label_w + GAP
            for ratio, w in zip(BASE_SIZES, widths, strict=True):
                avatar = render_avatar(data, ratio, seed + j, prompt)
                tile = Image.fromarray(avatar.rgb).resize(
                    (w, TILE_HEIGHT), Image.Resampling.LANCZOS
                )
                sheet.paste(tile, (x, y))
                x += w + GAP
    return sheet


def main(argv: list[str] | None = None) -> None:
    write_sheet(contact_sheet, __doc__, "docs/engine-contact-sheet.png", 11, argv)


def write_sheet(build, doc: str, out: str, seed: int, argv: list[str] | None) -> None:
    """The command line of a sheet module: ``build(seed)`` saved as a PNG at ``--out``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", default=out)
    parser.add_argument("--seed", type=int, default=seed)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sheet = build(args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out} ({sheet.width}x{sheet.height}) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
