"""Product photos of garments drawn with Pillow, as the demo store draws them: try-on samples.

Flat colours on white (or on a transparent background), with the details a shop's drawings
have: stripes, a logo, buttons, a collar, a hood, pockets. Shapes are laid out on a 600 x 700
canvas (dresses and trousers are taller), the way a flat-lay product shot frames them. The
try-on sheet, the benchmark and the engine's tests dress avatars in these.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

WHITE = (255, 255, 255)


def _darker(colour, k=0.7):
    return tuple(int(c * k) for c in colour)


def _lighter(colour, k=0.35):
    return tuple(int(c + (255 - c) * k) for c in colour)


def _canvas(size, transparent):
    mode, fill = ("RGBA", (0, 0, 0, 0)) if transparent else ("RGB", WHITE)
    return Image.new(mode, size, fill)


def _with_pattern(image, shape_mask, pattern):
    """Paint ``pattern`` (an RGBA layer) onto ``image`` only inside ``shape_mask``."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    layer.paste(pattern, (0, 0), shape_mask)
    base = image.convert("RGBA")
    base.alpha_composite(layer)
    return base if image.mode == "RGBA" else base.convert("RGB")


def tshirt(colour=(200, 40, 50), *, stripes=None, logo=None, transparent=False) -> Image.Image:
    """A short-sleeved crew-neck t-shirt; ``stripes`` a colour for horizontal stripes,
    ``logo`` a colour for a round chest logo."""
    image = _canvas((600, 640), transparent)
    shape = [
        (235, 40), (150, 70), (40, 190), (100, 250), (165, 205), (170, 610),
        (430, 610), (435, 205), (500, 250), (560, 190), (450, 70), (365, 40),
    ]  # fmt: skip
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).polygon(shape, fill=255)
    ImageDraw.Draw(image).polygon(shape, fill=colour)
    if stripes is not None:
        pattern = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(pattern)
        for y in range(120, 610, 56):
            draw.rectangle((0, y, 600, y + 22), fill=(*stripes, 255))
        image = _with_pattern(image, mask, pattern)
    draw = ImageDraw.Draw(image)
    # The neck opening shows the inside of the back, a shade darker, ringed by a rib.
    draw.chord((235, 10, 365, 100), 0, 180, fill=_darker(colour, 0.55))
    draw.arc((235, 10, 365, 100), 0, 180, fill=_darker(colour, 0.8), width=8)
    draw.line([(165, 205), (150, 70)], fill=_darker(colour, 0.85), width=3)
    draw.line([(435, 205), (450, 70)], fill=_darker(colour, 0.85), width=3)
    if logo is not None:
        draw.ellipse((330, 150, 400, 220), fill=logo)
    return image


def hoodie(colour=(40, 90, 60), *, transparent=False) -> Image.Image:
    """A long-sleeved hoodie with its hood behind the neck, a pocket and drawstrings."""
    image = _canvas((600, 700), transparent)
    draw = ImageDraw.Draw(image)
    draw.ellipse((210, 10, 390, 150), fill=_darker(colour, 0.8))  # the hood behind
    shape = [
        (225, 70), (140, 95), (60, 420), (55, 640), (120, 650), (150, 430), (170, 260),
        (165, 670), (435, 670), (430, 260), (450, 430), (480, 650), (545, 640), (540, 420),
        (460, 95), (375, 70),
    ]  # fmt: skip
    draw.polygon(shape, fill=colour)
    draw.chord((225, 40, 375, 150), 0, 180, fill=_darker(colour, 0.6))
    draw.rectangle((165, 630, 435, 670), fill=_darker(colour, 0.88))  # waistband
    draw.polygon([(215, 440), (385, 440), (410, 560), (190, 560)], outline=_darker(colour), width=4)
    for x in (280, 320):
        draw.line([(x, 140), (x + (x - 300) // 4, 260)], fill=WHITE, width=5)
    return image


def blouse(colour=(245, 225, 120), *, transparent=False) -> Image.Image:
    """A long-sleeved button-front blouse with a pointed collar."""
    image = _canvas((600, 680), transparent)
    draw = ImageDraw.Draw(image)
    shape = [
        (240, 40), (150, 70), (75, 380), (70, 560), (130, 570), (150, 390), (175, 230),
        (175, 640), (425, 640), (425, 230), (450, 390), (470, 570), (530, 560), (525, 380),
        (450, 70), (360, 40),
    ]  # fmt: skip
    draw.polygon(shape, fill=colour)
    draw.chord((240, 10, 360, 110), 0, 180, fill=_darker(colour, 0.6))
    collar = _lighter(colour, 0.5)
    draw.polygon(
        [(240, 40), (300, 110), (255, 140), (215, 55)], fill=collar, outline=_darker(colour)
    )
    draw.polygon(
        [(360, 40), (300, 110), (345, 140), (385, 55)], fill=collar, outline=_darker(colour)
    )
    draw.line([(300, 110), (300, 640)], fill=_darker(colour, 0.85), width=3)
    for y in range(160, 620, 80):
        draw.ellipse((292, y, 308, y + 16), fill=(250, 250, 250), outline=_darker(colour, 0.6))
    return image


def dress(colour=(60, 70, 170), *, transparent=False) -> Image.Image:
    """A sleeveless A-line dress with straps and a belt, twice as tall as it is wide."""
    image = _canvas((600, 1000), transparent)
    draw = ImageDraw.Draw(image)
    shape = [
        (215, 30), (250, 30), (300, 110), (350, 30), (385, 30), (405, 200), (390, 380),
        (520, 960), (80, 960), (210, 380), (195, 200),
    ]  # fmt: skip
    draw.polygon(shape, fill=colour)
    draw.rectangle((205, 360, 395, 395), fill=_darker(colour, 0.6))  # belt
    for x in range(150, 460, 60):  # skirt folds, drawn as darker lines from the belt
        draw.line([(300 + (x - 300) // 4, 400), (x, 950)], fill=_darker(colour, 0.85), width=4)
    return image


def jacket(colour=(70, 60, 55), *, transparent=False) -> Image.Image:
    """A long-sleeved jacket with lapels, buttons and pockets."""
    image = _canvas((600, 700), transparent)
    draw = ImageDraw.Draw(image)
    shape = [
        (235, 40), (140, 75), (70, 400), (65, 600), (130, 610), (155, 410), (170, 250),
        (165, 660), (435, 660), (430, 250), (445, 410), (470, 610), (535, 600), (530, 400),
        (460, 75), (365, 40),
    ]  # fmt: skip
    draw.polygon(shape, fill=colour)
    draw.polygon([(235, 40), (300, 330), (365, 40)], fill=(235, 235, 240))  # shirt under it
    lapel = _darker(colour, 0.8)
    draw.polygon([(235, 40), (300, 330), (250, 200), (200, 110)], fill=lapel)
    draw.polygon([(365, 40), (300, 330), (350, 200), (400, 110)], fill=lapel)
    for y in (400, 490, 580):
        draw.ellipse((290, y, 310, y + 20), fill=_darker(colour, 0.5))
    for x in (190, 340):
        draw.line([(x, 520), (x + 70, 520)], fill=_darker(colour, 0.6), width=4)
    return image


def skirt(colour=(120, 40, 70), *, transparent=False) -> Image.Image:
    """A flared midi skirt: a waistband, then wider all the way to the hem."""
    image = _canvas((600, 700), transparent)
    draw = ImageDraw.Draw(image)
    shape = [(200, 40), (400, 40), (404, 100), (540, 640), (60, 640), (196, 100)]
    draw.polygon(shape, fill=colour)
    draw.rectangle((200, 40, 400, 90), fill=_darker(colour, 0.8))  # waistband
    return image


def trousers(colour=(50, 60, 90), *, transparent=False) -> Image.Image:
    """Straight-leg trousers: a waistband and two legs."""
    image = _canvas((500, 1000), transparent)
    draw = ImageDraw.Draw(image)
    shape = [(110, 30), (390, 30), (420, 970), (270, 970), (250, 330), (230, 970), (80, 970)]
    draw.polygon(shape, fill=colour)
    draw.rectangle((110, 30, 390, 70), fill=_darker(colour, 0.8))
    return image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
