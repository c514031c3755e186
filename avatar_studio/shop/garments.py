"""Product pictures of the catalogue's garments, drawn with Pillow: flat-lay shots on a
transparent background, the kind of garment image FASHN's try-on takes.

Shapes are polygons in a unit square (x right, y down) drawn at twice the output size and scaled
down, which smooths their edges. The same garment always gives the same bytes.
"""

import functools
import io
import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

WIDTH, HEIGHT = 600, 750
_SCALE = 2

# Outlines, as (x, y) in 0..1 of the canvas. Each cut lists the body with its sleeves.
_SHORT_SLEEVE_BODY = [
    (0.40, 0.10), (0.27, 0.14), (0.09, 0.32), (0.19, 0.41), (0.29, 0.33),
    (0.29, 0.92), (0.71, 0.92), (0.71, 0.33), (0.81, 0.41), (0.91, 0.32),
    (0.73, 0.14), (0.60, 0.10),
]  # fmt: skip
_LONG_SLEEVE_BODY = [
    (0.40, 0.10), (0.26, 0.14), (0.16, 0.32), (0.07, 0.86), (0.19, 0.88),
    (0.28, 0.42), (0.29, 0.92), (0.71, 0.92), (0.72, 0.42), (0.81, 0.88),
    (0.93, 0.86), (0.84, 0.32), (0.74, 0.14), (0.60, 0.10),
]  # fmt: skip
_DRESS = [
    (0.40, 0.08), (0.33, 0.10), (0.30, 0.20), (0.34, 0.42), (0.16, 0.96),
    (0.84, 0.96), (0.66, 0.42), (0.70, 0.20), (0.67, 0.10), (0.60, 0.08),
]  # fmt: skip
# Bottoms, laid flat from the waistband down. The trousers' legs part below the crotch, which is
# how a try-on tells trousers from a skirt in a photo.
_TROUSERS = [
    (0.30, 0.04), (0.70, 0.04), (0.73, 0.30), (0.75, 0.96), (0.535, 0.96),
    (0.50, 0.40), (0.465, 0.96), (0.25, 0.96), (0.27, 0.30),
]  # fmt: skip
_SKIRT = [
    (0.33, 0.10), (0.67, 0.10), (0.69, 0.20), (0.86, 0.84), (0.68, 0.875),
    (0.50, 0.885), (0.32, 0.875), (0.14, 0.84), (0.31, 0.20),
]  # fmt: skip
_OUTLINES = {
    "tee": _SHORT_SLEEVE_BODY,
    "dress": _DRESS,
    "trousers": _TROUSERS,
    "skirt": _SKIRT,
}  # any other cut has long sleeves
_BOTTOMS = ("trousers", "skirt")


def garment_png(garment):
    """The garment's product picture as PNG bytes (RGBA, transparent background)."""
    return _draw(garment.cut, garment.colour, garment.pattern, garment.accent)


@functools.lru_cache(maxsize=32)
def _draw(cut, colour, pattern, accent):
    size = (WIDTH * _SCALE, HEIGHT * _SCALE)
    outline = _OUTLINES.get(cut, _LONG_SLEEVE_BODY)
    mask = _polygon_mask(size, outline)
    _cut_neckline(mask, cut)

    fabric = Image.new("RGB", size, colour)
    _apply_pattern(fabric, pattern, accent, cut)
    details = Image.new("RGBA", size, (0, 0, 0, 0))
    _draw_details(ImageDraw.Draw(details), size, cut, colour, accent)
    fabric.paste(details, (0, 0), details)
    fabric = _shade(fabric, mask)

    garment = fabric.convert("RGBA")
    garment.putalpha(mask)
    garment = garment.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    garment.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _points(size, outline):
    width, height = size
    return [(x * width, y * height) for x, y in outline]


def _polygon_mask(size, outline):
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(_points(size, outline), fill=255)
    return mask


def _cut_neckline(mask, cut):
    """Scoop the neck opening out of the top edge (bottoms have none)."""
    width, height = mask.size
    draw = ImageDraw.Draw(mask)
    if cut in _BOTTOMS:
        return
    if cut in ("shirt", "blazer"):
        # A V opening down the front.
        depth = 0.30 if cut == "blazer" else 0.19
        draw.polygon(_points(mask.size, [(0.40, 0.0), (0.60, 0.0), (0.5, depth)]), fill=0)
    elif cut == "dress":
        draw.ellipse(_box(mask.size, 0.40, 0.02, 0.60, 0.16), fill=0)
    else:
        draw.ellipse(_box(mask.size, 0.39, 0.03, 0.61, 0.17), fill=0)


def _box(size, x0, y0, x1, y1):
    width, height = size
    return [x0 * width, y0 * height, x1 * width, y1 * height]


def _apply_pattern(fabric, pattern, accent, cut):
    draw = ImageDraw.Draw(fabric)
    width, height = fabric.size
    if pattern == "stripes":
        stripe, gap = int(height * 0.018), int(height * 0.045)
        for top in range(int(height * 0.2), height, stripe + gap):
            draw.rectangle([0, top, width, top + stripe], fill=accent)
    elif pattern == "dots":
        radius, step = width * 0.012, width * 0.07
        for row, y in enumerate(_frange(height * 0.04, height, step)):
            offset = step / 2 if row % 2 else 0
            for x in _frange(offset, width, step):
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=accent)
    elif pattern == "logo":
        # A rising sun on the chest: a half disc over three bars.
        cx, cy, r = width * 0.5, height * 0.34, width * 0.075
        draw.pieslice([cx - r, cy - r, cx + r, cy + r], 180, 360, fill=accent)
        for i in range(3):
            top = cy + r * (0.25 + 0.32 * i)
            half = r * (1.0 - 0.2 * i)
            draw.rectangle([cx - half, top, cx + half, top + r * 0.14], fill=accent)


def _frange(start, stop, step):
    value = start
    while value < stop:
        yield value
        value += step


def _draw_details(draw, size, cut, colour, accent):
    """Seams, ribbing, pockets, buttons: darker or accent lines over the fabric."""
    width, height = size
    seam = (*_darker(colour, 0.72), 255)
    line = max(2, int(width * 0.004))

    def points(outline):
        return _points(size, outline)

    if cut in ("tee", "longsleeve", "sweater", "hoodie"):
        draw.arc(_box(size, 0.385, 0.025, 0.615, 0.185), 0, 180, fill=seam, width=line * 3)
    if cut in ("sweater", "hoodie", "longsleeve"):
        # Ribbed cuffs and hem.
        for y in (0.885, 0.90):
            draw.line(points([(0.29, y), (0.71, y)]), fill=seam, width=line)
        for cuff in ([(0.075, 0.83), (0.19, 0.845)], [(0.925, 0.83), (0.81, 0.845)]):
            draw.line(points(cuff), fill=seam, width=line)
    if cut == "sweater":
        for x in _frange(0.30, 0.71, 0.02):
            draw.line(points([(x, 0.885), (x, 0.92)]), fill=seam, width=max(1, line // 2))
    if cut == "hoodie":
        hood = (*_darker(colour, 0.8), 255)
        draw.chord(_box(size, 0.33, -0.02, 0.67, 0.20), 0, 180, fill=hood)
        draw.chord(_box(size, 0.40, 0.03, 0.60, 0.16), 0, 180, fill=seam)
        draw.rounded_rectangle(
            _box(size, 0.36, 0.62, 0.64, 0.80), radius=width * 0.03, outline=seam, width=line * 2
        )
        cord = (*accent, 255)
        draw.line(points([(0.46, 0.16), (0.455, 0.34)]), fill=cord, width=line * 2)
        draw.line(points([(0.54, 0.16), (0.545, 0.34)]), fill=cord, width=line * 2)
    if cut == "shirt":
        collar = (*_lighter(colour, 1.08), 255)
        draw.polygon(
            points([(0.40, 0.10), (0.5, 0.19), (0.44, 0.24), (0.33, 0.14)]),
            fill=collar,
            outline=seam,
        )
        draw.polygon(
            points([(0.60, 0.10), (0.5, 0.19), (0.56, 0.24), (0.67, 0.14)]),
            fill=collar,
            outline=seam,
        )
        draw.line(points([(0.5, 0.19), (0.5, 0.92)]), fill=seam, width=line)
        for y in _frange(0.27, 0.9, 0.11):
            _button(draw, size, 0.515, y, accent, seam)
        draw.rectangle(_box(size, 0.56, 0.30, 0.65, 0.40), outline=seam, width=line)
    if cut == "blazer":
        lining = (*accent, 255)
        draw.polygon(points([(0.40, 0.0), (0.5, 0.30), (0.60, 0.0)]), fill=lining)
        lapel = (*_darker(colour, 0.85), 255)
        draw.polygon(
            points([(0.40, 0.10), (0.31, 0.16), (0.38, 0.26), (0.34, 0.29), (0.5, 0.48)]),
            fill=lapel,
            outline=seam,
        )
        draw.polygon(
            points([(0.60, 0.10), (0.69, 0.16), (0.62, 0.26), (0.66, 0.29), (0.5, 0.48)]),
            fill=lapel,
            outline=seam,
        )
        draw.line(points([(0.5, 0.48), (0.5, 0.92)]), fill=seam, width=line)
        for y in (0.56, 0.68):
            _button(draw, size, 0.52, y, _darker(colour, 0.5), seam)
        draw.line(points([(0.33, 0.70), (0.44, 0.70)]), fill=seam, width=line * 2)
        draw.line(points([(0.56, 0.70), (0.67, 0.70)]), fill=seam, width=line * 2)
    if cut == "dress":
        sash = (*_darker(colour, 0.8), 255)
        draw.polygon(points([(0.335, 0.40), (0.665, 0.40), (0.66, 0.44), (0.34, 0.44)]), fill=sash)
        draw.polygon(points([(0.52, 0.42), (0.58, 0.58), (0.55, 0.59), (0.50, 0.44)]), fill=sash)
        for x in (0.36, 0.44, 0.56, 0.64):
            draw.line(
                points([(0.5 + (x - 0.5) * 0.6, 0.45), (x + (x - 0.5) * 0.8, 0.95)]),
                fill=(*_darker(colour, 0.85), 255),
                width=line,
            )
    if cut in _BOTTOMS:
        _draw_bottoms_details(draw, size, cut, colour, accent, seam, line)


def _draw_bottoms_details(draw, size, cut, colour, accent, seam, line):
    """The waistband, and for trousers the fly, pockets and pressed creases; for a skirt its
    pleats and a side zip."""

    def points(outline):
        return _points(size, outline)

    band = (*_darker(colour, 0.86), 255)
    if cut == "trousers":
        draw.polygon(points([(0.30, 0.04), (0.70, 0.04), (0.705, 0.09), (0.295, 0.09)]), fill=band)
        for x in (0.34, 0.45, 0.55, 0.66):  # belt loops
            draw.line(points([(x, 0.035), (x, 0.10)]), fill=seam, width=line * 2)
        _button(draw, size, 0.5, 0.065, accent, seam)
        # The fly, stitched in a J down from the waistband.
        draw.line(points([(0.5, 0.09), (0.5, 0.36)]), fill=seam, width=line)
        draw.line(points([(0.545, 0.09), (0.545, 0.30), (0.5, 0.36)]), fill=seam, width=line)
        for pocket in ([(0.31, 0.10), (0.37, 0.22)], [(0.69, 0.10), (0.63, 0.22)]):
            draw.line(points(pocket), fill=seam, width=line * 2)
        for crease in ([(0.36, 0.30), (0.355, 0.95)], [(0.64, 0.30), (0.645, 0.95)]):
            draw.line(points(crease), fill=(*_darker(colour, 0.9), 255), width=line)
        for hem in ([(0.25, 0.935), (0.465, 0.935)], [(0.535, 0.935), (0.75, 0.935)]):
            draw.line(points(hem), fill=seam, width=line)
    else:
        draw.polygon(points([(0.33, 0.10), (0.67, 0.10), (0.675, 0.15), (0.325, 0.15)]), fill=band)
        _button(draw, size, 0.64, 0.125, accent, seam)
        draw.line(points([(0.672, 0.15), (0.69, 0.32)]), fill=seam, width=line)  # the zip
        for x in (0.38, 0.44, 0.50, 0.56, 0.62):
            hem_x = 0.5 + (x - 0.5) * 2.4
            draw.line(points([(x, 0.15), (hem_x, 0.87)]), fill=seam, width=line)
        draw.line(points([(0.15, 0.82), (0.50, 0.855), (0.85, 0.82)]), fill=seam, width=line)


def _button(draw, size, x, y, fill, outline):
    width, height = size
    r = width * 0.011
    cx, cy = x * width, y * height
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*fill, 255), outline=outline)


def _shade(fabric, mask):
    """Soft light from the upper left and a darker rim, so the cloth reads as cloth."""
    width, height = fabric.size
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    light = 255 - 56 * (0.4 * x + 0.6 * y)  # 100 % top left to about 78 % bottom right
    light = Image.fromarray(light.astype(np.uint8), "L")
    rim = mask.filter(ImageFilter.GaussianBlur(width * 0.02))
    rim = rim.point(lambda v: 200 + int(55 * min(1.0, v / 200)))
    shading = ImageChops.multiply(light, rim)
    folds = _folds(fabric.size)
    shading = ImageChops.multiply(shading, folds)
    return ImageChops.multiply(fabric, Image.merge("RGB", [shading] * 3))


def _folds(size):
    """A few gentle vertical creases."""
    width, height = size
    folds = Image.new("L", (width, 1), 255)
    for x in range(width):
        wave = math.sin(x / width * math.pi * 7.0) * math.sin(x / width * math.pi * 2.3)
        folds.putpixel((x, 0), 245 + int(10 * wave))
    return folds.resize(size)


def _darker(colour, factor):
    return tuple(int(c * factor) for c in colour)


def _lighter(colour, factor):
    return tuple(min(255, int(c * factor + 12)) for c in colour)
