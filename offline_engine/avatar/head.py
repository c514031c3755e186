"""The real head and hair, cut from the selfie and placed on the canvas.

The head is kept pixel for pixel: inside the cut-out the canvas receives the selfie's own pixels,
only scaled (and turned upright when the head is tilted by more than a few degrees), with no
colour change, no grain and no blur. What this module decides is the alpha around them:

- the person mask from the segmenter, sharpened along the photo's own edges by a guided filter
  (the mask is soft at 256 pixels; hair edges follow the image instead);
- a cut at the jaw line: the head, hair and ears are kept down to the face outline's lower arc
  (rounded, carried sideways at the jaw corners), feathered over a few pixels; nothing of the
  selfie's neck, collar or scarf stays, the drawn neck, reaching up behind the jaw, takes over;
- long hair kept past the jaw: hair-coloured pixels (a colour histogram of the hair against
  the skin, the background and what is under the chin) connected to the hair beside the face
  through locks (not thin strands), never in front of the neck, down to the shoulders;
- where the photo cuts the head off (a tight selfie), a rounded crown like a skull's of made
  hair: the colour of the hair at the cut, softly shaded and finely grained, with no streaks
  and no repeated bands, faded into the photo's hair over a band inside its edge (no seam);
- only what is joined to the face: nothing floats beside the head;
- colour decontamination at the edge: half-transparent hair pixels carry the old background's
  colour; it is taken out so no halo of the old room shows on the studio backdrop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import blur, bounding_box, downscale, smoothstep, warp_region
from ..vision.person_segmentation import INPUT_SIZE as SEGMENT_SIZE
from .analysis import FRAME_HALF_WIDTH, FRAME_SIDE, Analysis, Landmarks

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Placement:
    """How the selfie maps into the canvas.

    Unrotated heads (``angle == 0``): canvas[y0:y0+h, x0:x0+w] is
    ``cv2.resize(selfie[crop], (w, h), INTER_AREA or INTER_CUBIC)``, exactly.
    """

    angle: float
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in the working image (unrotated only)
    origin: tuple[int, int]  # the patch's top-left in the canvas
    size: tuple[int, int]  # the patch's (w, h)
    scale: float  # canvas pixels per selfie pixel
    patch_to_image: np.ndarray  # 2x3 affine: patch pixels to working-image pixels


@dataclass
class HeadLayer:
    rgb: np.ndarray  # float32 patch, the selfie's pixels (decontaminated only at the edge)
    alpha: np.ndarray  # float32 0..1
    placement: Placement
    jaw_skin: np.ndarray | None  # the lower face's lit skin: the colour the drawn neck continues
    grain: float  # noise sigma of the placed face, 0..255 units
    crown_y: float  # canvas y of the top of the hair


def _interp(scale: float) -> int:
    return cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC


def place(a: Analysis, unit: float, anchor: tuple[float, float]) -> tuple[np.ndarray, Placement]:
    """The head's patch of the selfie at ``unit`` canvas pixels per face width.

    ``anchor`` is the canvas point for the frame's origin (the middle of the face).
    """
    f = a.frame
    scale = unit / f.face_px
    side = FRAME_SIDE * unit
    ox = anchor[0] - FRAME_HALF_WIDTH * unit
    oy = anchor[1] + f.top * unit
    if f.angle == 0.0:
        # Integer crop, plain resize: the face's pixels are exactly a scaled copy of the selfie.
        sx0 = math.floor(f.anchor[0] + (ox - anchor[0]) / scale)
        sy0 = math.floor(f.anchor[1] + (oy - anchor[1]) / scale)
        sx1 = math.ceil(sx0 + side / scale)
        sy1 = math.ceil(sy0 + side / scale)
        w, h = round((sx1 - sx0) * scale), round((sy1 - sy0) * scale)
        x0 = round(anchor[0] + (sx0 - f.anchor[0]) * scale)
        y0 = round(anchor[1] + (sy0 - f.anchor[1]) * scale)
        ih, iw = a.rgb.shape[:2]
        pads = (max(0, -sy0), max(0, sy1 - ih), max(0, -sx0), max(0, sx1 - iw))
        crop = a.rgb[max(0, sy0) : min(ih, sy1), max(0, sx0) : min(iw, sx1)]
        if any(pads):  # the edge repeated; cut_out fills it with made hair instead
            crop = cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE)
        patch = cv2.resize(crop, (w, h), interpolation=_interp(scale))
        kx, ky = (sx1 - sx0) / w, (sy1 - sy0) / h
        m = np.array([[kx, 0.0, sx0 + 0.5 * kx - 0.5], [0.0, ky, sy0 + 0.5 * ky - 0.5]])
        placement = Placement(0.0, (sx0, sy0, sx1, sy1), (x0, y0), (w, h), scale, m)
        return patch, placement
    n = round(side)
    x0, y0 = round(ox), round(oy)
    # Patch pixel (px, py) is canvas (x0 + px, y0 + py); frame coordinates from there.
    r = f.rotation() * f.face_px / unit
    m = np.hstack([r, (f.anchor + r @ np.array([x0 - anchor[0], y0 - anchor[1]]))[:, None]])
    patch = warp_region(
        a.rgb, m, (n, n), border=cv2.BORDER_REPLICATE, interpolation=cv2.INTER_CUBIC
    )
    return patch, Placement(f.angle, (0, 0, 0, 0), (x0, y0), (n, n), scale, m)


def _frame_sampler(a: Analysis, placement: Placement) -> np.ndarray:
    """2x3 affine from patch pixels to the segmentation frame's pixels."""
    to_image = np.vstack([a.frame.frame_to_image(SEGMENT_SIZE), [0, 0, 1]])
    patch_to_image = np.vstack([placement.patch_to_image, [0, 0, 1]])
    return (np.linalg.inv(to_image) @ patch_to_image)[:2]


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (grey guide): ``src`` smoothed, but with ``guide``'s edges."""
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(src)
    cov = box(guide * src) - mean_i * mean_p
    var = box(guide * guide) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def _grain(rgb: np.ndarray, a: Analysis, placement: Placement, unit: float) -> float:
    """The photo's noise as it shows in the placed face (what the drawn body must match)."""
    g = a.geometry
    inv = cv2.invertAffineTransform(placement.patch_to_image)
    centre = inv[:, :2] @ ((g.right_cheek + g.left_cheek) / 2) + inv[:, 2]
    r = max(4, round(unit * 0.22))
    x, y = round(centre[0]), round(centre[1])
    h, w = rgb.shape[:2]
    region = rgb[max(0, y - r) : min(h, y + r), max(0, x - r) : min(w, x + r)]
    if region.size < 64:
        return 1.5
    gray = region.astype(np.float32) @ LUMA
    residual = gray - cv2.GaussianBlur(gray, (0, 0), 1.2)
    sigma = float(np.median(np.abs(residual - np.median(residual))) * 1.4826)
    return max(0.6, min(6.0, sigma * 1.25))  # the residual holds ~80% of white noise


def neck_top_u(a: Analysis) -> float:
    """Where the neck meets the head, across (face widths): under the middle of the jaw.

    The midpoint of the two jaw corners, not the chin or the face's box: a turned head swings
    its chin towards the nose while the neck stays under the skull, so it is moved a little
    further towards the back of the head the more the face is turned.
    """
    lm = a.landmarks
    return float((lm.right_jaw[0] + lm.left_jaw[0]) / 2 - 0.12 * a.geometry.turn)


def cut_out(a: Analysis, unit: float, anchor: tuple[float, float], neck_half: float) -> HeadLayer:
    """The head layer: the selfie's pixels and the alpha that cuts head and hair out.

    ``neck_half`` is the drawn neck's half width in face widths: hair below the jaw is kept
    only beside it, never in front of it (what is there is the selfie's neck or collar).
    """
    patch, placement = place(a, unit, anchor)
    h, w = patch.shape[:2]
    x0, y0 = placement.origin
    lm = a.landmarks
    valid = _valid_mask(a, placement, (w, h))
    # Person probability on the patch grid (a constant 0 outside the frame).
    person = cv2.warpAffine(
        a.person,
        _frame_sampler(a, placement),
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    beyond_photo = valid.min() < 0.999
    if beyond_photo:
        photo_w = _into_photo(valid, unit)
        patch, from_edge, box = _fill_beyond_photo(
            patch, valid > 0.5, photo_w, a, person, anchor, (x0, y0), unit
        )
        # The photo's edge only grazes the patch's border: nothing is made, carried or cut.
        beyond_photo = box is not None
    rgbf = patch.astype(np.float32)
    guide = (rgbf @ LUMA) / 255.0
    radius = max(2, round(unit * 0.035))
    refined = np.clip(guided_filter(guide, person, radius, 2e-3), 0.0, 1.0)
    alpha = smoothstep(0.18, 0.82, refined)
    if beyond_photo:
        # The segmenter rarely calls the filled-in hair a person: carry the head's own alpha
        # from just inside the photo's edge outwards (the crown's cap below rounds it off).
        carried = cv2.remap(alpha, *from_edge, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha[box] = np.maximum(alpha[box], carried)
    # Decontaminate against the segmenter's edge only: the cuts below are ours, not the photo's.
    rgbf = _decontaminate(rgbf, alpha, unit)

    # What to keep is decided on a half-size grid (it is smooth) and applied to the fine alpha.
    grid = _HalfGrid.of(rgbf, person, (x0, y0), anchor, unit)
    keep = _keep(grid, a, neck_half)
    alpha *= cv2.resize(keep, (w, h), interpolation=cv2.INTER_LINEAR)

    # Where the frame leaves the photo: keep only a rounded crown over the filled-in pixels.
    # Only the box where the made hair shows is worked on: elsewhere the crown changes nothing.
    if beyond_photo:
        rows_b, cols_b = box
        us = (np.arange(w, dtype=np.float32) + x0 - anchor[0]) / unit
        vs = (np.arange(h, dtype=np.float32) + y0 - anchor[1]) / unit
        ub, vb = us[None, cols_b], vs[rows_b, None]
        eye_v = float(lm.eye_mid[1])
        # As wide as the hair the photo shows at the temples (the carried alpha of a crop cut
        # at the sides spans the whole patch, so it is not counted), within a skull's reach of
        # the face.
        face_half = float(np.abs(lm.oval[:, 0]).max())
        seen = _head_half_width(alpha, valid, vs, eye_v - 0.35)
        half_w = float(np.clip(seen, face_half + 0.1, face_half + 0.45))
        cu, cv = 0.0, eye_v + 0.05
        ry = max(0.4, cv - (eye_v - 1.05))
        d = np.hypot((ub - cu) / half_w, (vb - cv) / ry)
        # Where the photo's top edge cuts through the hair, the crown above it is a dome of
        # made hair as wide as the hair at the cut, rounded off like a skull's top: solid, not
        # the alpha carried up from the cut (whose gaps, at a hat's badge or a parting, would
        # draw transparent streaks), and no step where the photo's hair meets it.
        middle = valid[:, int(np.clip(np.searchsorted(us, 0.0), 0, w - 1))] > 0.5
        dome = np.zeros_like(d)
        rim_d = d
        if middle.any() and not middle[0]:
            r_cut = int(np.argmax(middle))
            v_cut = float(vs[r_cut])
            below_cut = min(h - 1, r_cut + max(1, round(0.06 * unit)))
            centre = np.abs(us) < 0.3
            if float((alpha[below_cut, centre] * valid[below_cut, centre]).mean()) > 0.5:
                # Each side as far out as the hair reaches at the cut, so the dome's sides
                # carry on the hair's (no step where the photo's hair is wider than the dome).
                row = alpha[below_cut] * valid[below_cut]
                left, right = _hair_extent(row, us, face_half)
                at_cut = np.where(ub < 0, left, right)
                v_top = min(eye_v - 1.1, v_cut - 0.35)
                round_top = np.hypot(ub / at_cut, (vb - v_cut) / (v_cut - v_top))
                above = vb < v_cut
                d = np.where(above, round_top, d)
                # Just below the cut the dome goes on straight down, under the blend band
                # below (only there: the photo may end at the sides or the bottom as well).
                across = np.abs(ub) / at_cut
                near_cut = vb < v_cut + 0.15
                rim_d = np.where(above, round_top, np.where(near_cut, across, d))
                dome = 1.0 - smoothstep(0.96, 1.04, rim_d)
                dome = dome * (1.0 - smoothstep(v_cut + 0.1, v_cut + 0.15, vb))
        cap = 1.0 - smoothstep(0.96, 1.04, d)
        # Made and real hair overlap in a band inside the photo (as the colours do): a switch
        # at the edge drew a line where the segmenter's alpha sags along the photo's border.
        w_in = photo_w[box]
        alpha_in = alpha[box]
        alpha[box] = alpha_in * w_in + np.maximum(alpha_in * cap, dome) * (1.0 - w_in)
        # The made hair is a volume: a little darker towards its rim, as the crown turns away.
        rim = 0.2 * smoothstep(0.45, 1.0, rim_d) * (1.0 - w_in)
        rgbf[box] = rgbf[box] * cv2.cvtColor((1.0 - rim).astype(np.float32), cv2.COLOR_GRAY2RGB)

    alpha = _joined_to_face(alpha, (anchor[0] - x0, anchor[1] - y0))
    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    crown_y = y0 + (float(rows[0]) if rows.size else 0.0)
    grain = _grain(patch, a, placement, unit)
    jaw_skin = _jaw_skin(grid, a)
    return HeadLayer(rgbf, alpha.astype(np.float32), placement, jaw_skin, grain, crown_y)


@dataclass
class _HalfGrid:
    """The patch at half size with the frame coordinates of its pixels (face widths)."""

    rgb: np.ndarray
    person: np.ndarray
    us: np.ndarray  # per column
    vs: np.ndarray  # per row
    unit: float  # half-grid pixels per face width
    origin: np.ndarray  # frame (0, 0) in half-grid pixels

    @classmethod
    def of(cls, rgbf, person, origin, anchor, unit) -> _HalfGrid:
        h, w = rgbf.shape[0] // 2, rgbf.shape[1] // 2
        half = cv2.resize(rgbf, (w, h), interpolation=cv2.INTER_AREA)
        half_person = cv2.resize(person, (w, h), interpolation=cv2.INTER_AREA)
        # Half-grid pixel centre (i + 0.5) covers patch pixels 2i, 2i+1: patch centre 2i + 1.
        us = ((2 * np.arange(w, dtype=np.float32) + 0.5) + origin[0] - anchor[0]) / unit
        vs = ((2 * np.arange(h, dtype=np.float32) + 0.5) + origin[1] - anchor[1]) / unit
        o = np.array([(anchor[0] - origin[0] - 0.5) / 2, (anchor[1] - origin[1] - 0.5) / 2])
        return cls(half, half_person, us, vs, unit / 2, o)

    def pixels(self, uv: np.ndarray) -> np.ndarray:
        """Frame coordinates to half-grid pixel coordinates."""
        return np.asarray(uv) * self.unit + self.origin

    def polygon(self, uv: np.ndarray) -> np.ndarray:
        """A filled polygon given in frame coordinates, as 0/1 floats on the grid."""
        mask = np.zeros(self.rgb.shape[:2], np.uint8)
        pts = np.round(self.pixels(uv) * 4).astype(np.int32)  # 2 fractional bits
        cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_AA, shift=2)
        return mask.astype(np.float32)


def _joined_to_face(alpha: np.ndarray, face: tuple[float, float]) -> np.ndarray:
    """Only what is joined to the face: a patch of hair colour or a piece of a collar beside
    the head, cut loose by the jaw line or the hair test, would float beside it on the backdrop.
    """
    solid = (alpha > 0.2).astype(np.uint8)
    count, labels = cv2.connectedComponents(solid, connectivity=8)
    if count < 3:
        return alpha
    h, w = alpha.shape
    x, y = min(w - 1, max(0, round(face[0]))), min(h - 1, max(0, round(face[1])))
    label = labels[y, x]
    if label == 0:  # the face's middle is always opaque; if not, the largest part is the head
        label = 1 + int(np.argmax(np.bincount(labels[labels > 0].ravel())[1:]))
    # Grown by a few pixels: the kept part's own soft edge (under the threshold) stays.
    joined = cv2.dilate((labels == label).astype(np.uint8), np.ones((5, 5), np.uint8))
    return alpha * joined


def _keep(g: _HalfGrid, a: Analysis, neck_half: float) -> np.ndarray:
    """0..1 on the half grid: what of the person mask belongs to the head and its hair."""
    lm = a.landmarks
    eye_v, chin_v = float(lm.eye_mid[1]), float(lm.chin[1])
    vs = g.vs[:, None]
    # Distance outside the face outline, in face widths (0 inside).
    inside_oval = (g.polygon(lm.oval) > 0).astype(np.uint8)
    outside = cv2.distanceTransform(1 - inside_oval, cv2.DIST_L2, 3) / g.unit
    skin = _skin_like(g.rgb, a.skin, g.unit)
    neck_u = neck_top_u(a)
    hair = _hair_like(g, lm, skin, outside, neck_u)
    # Above the jaw line: the head. Below the eyes only what is near the face stays (ears, hair
    # framing it), not a collar or the shoulders the segmenter also calls "person"; and it must
    # look like hair or skin (not a headset or a jacket's edge).
    margin = 0.32 - 0.2 * smoothstep(eye_v, chin_v, vs)
    near_face = 1.0 - smoothstep(margin - 0.05, margin, outside)
    below_eyes = smoothstep(eye_v + 0.05, eye_v + 0.4, vs)
    # Skin beside the face is an ear, which stands out little; further out it is a wall or an
    # arm of the skin's colour.
    by_ear = 1.0 - smoothstep(0.12, 0.18, outside)
    looks_right = np.maximum(np.maximum(hair, skin * by_ear), inside_oval.astype(np.float32))
    head = np.maximum(1.0 - below_eyes, near_face * looks_right) * _above_jaw(g, lm)
    # Beside the lower face nothing thinner than an ear stays: a collar's or a suit ring's edge
    # of the hair's colour reaching up to the jaw corner would stick out as a thin line.
    k = max(3, round(g.unit * 0.08)) | 1
    solid = ((head > 0.2) & (g.person > 0.2)).astype(np.uint8)
    opened = cv2.morphologyEx(
        solid, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    thin = (solid > opened) & (vs > eye_v) & (outside > 0.02)
    head = np.where(thin, 0.0, head).astype(np.float32)
    # Hair that falls from beside the face down past the jaw (long hair), beside the neck only.
    hanging = _hanging_hair(g, lm, hair, outside, neck_u, neck_half, a.geometry.turn)
    return np.maximum(head, hanging)


def _above_jaw(g: _HalfGrid, lm: Landmarks) -> np.ndarray:
    """1 above the jaw line, 0 below it, with a soft edge just under the jaw.

    The jaw line is the face outline's lower arc from one jaw corner round the chin to the other,
    carried on sideways at each corner's height: the ears and the hair beside the face stay, and
    nothing under the jaw does (the selfie's neck, collar or scarf), whatever the head's turn.
    """
    # Left jaw corner, chin, right jaw corner (the mesh's outline order); rounded, since the
    # mesh's few points under the chin draw a straight cut there.
    arc = _rounded(lm.oval[12:25], 3)
    far = FRAME_SIDE * 2
    top = float(lm.eye_mid[1]) - far
    left_end, right_end = arc[0], arc[-1]
    if left_end[0] < right_end[0]:  # keep the outline's order whichever way the mesh runs
        left_end, right_end = right_end, left_end
        arc = arc[::-1]
    outline = np.vstack(
        [
            [[far, top], [far, left_end[1]]],
            arc,
            [[-far, right_end[1]], [-far, top]],
        ]
    )
    zone = g.polygon(outline)
    # Feathered across the line over a few pixels, centred a little outside it (the face
    # itself stays whole): the drawn neck, which reaches up behind the jaw, shows through the
    # last of it, so no cut line is seen.
    sigma = max(0.8, g.unit * 0.012)
    k = 2 * round(2.5 * sigma) + 1
    grown = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.GaussianBlur(grown, (0, 0), sigma)


def _rounded(points: np.ndarray, times: int) -> np.ndarray:
    """An open polyline's corners cut (Chaikin) ``times`` times, its two ends kept."""
    p = np.asarray(points, np.float64)
    for _ in range(times):
        q = 0.75 * p[:-1] + 0.25 * p[1:]
        r = 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.vstack([p[:1], np.stack([q, r], axis=1).reshape(-1, 2), p[-1:]])
    return p


def _hair_like(
    g: _HalfGrid, lm: Landmarks, skin: np.ndarray, outside: np.ndarray, neck_u: float
) -> np.ndarray:
    """How likely each pixel is hair, from its colour (0..1, smoothed).

    A colour histogram of the hair (above the forehead and beside the temples: person pixels
    that are not skin) against one of everything that is surely not hair: the face's skin, the
    background, and what is under the chin in the middle (the neck and the top's collar, whose
    cloth usually also covers the shoulders). A pixel is hair where the hair's colours are more
    common than the others'. Ones when no hair is seen (a bald head, a tight crop): then nothing
    is cut for not looking like hair.
    """
    person, us, vs = g.person, g.us[None, :], g.vs[:, None]
    forehead_v, eye_v = float(lm.forehead[1]), float(lm.eye_mid[1])
    chin_v = float(lm.chin[1])
    crown = (vs > forehead_v - 0.3) & (vs < forehead_v - 0.06) & (np.abs(us) < 0.3)
    temples = (vs > forehead_v) & (vs < eye_v + 0.15) & (outside > 0.04) & (outside < 0.2)
    sure = (person > 0.8) & (skin < 0.3)
    hair_sample = (crown | temples) & sure
    if hair_sample.sum() < 40:
        return np.ones(person.shape, np.float32)
    under_chin = (vs > chin_v + 0.2) & (np.abs(us - neck_u) < 0.3) & (person > 0.5)
    face = outside <= 0.0
    other = (face & (vs > eye_v + 0.1)) | (person < 0.1) | under_chin
    q = _colour_bins(g.rgb)
    p_hair = _histogram(q, hair_sample)
    p_other = _histogram(q, other)
    ratio = p_hair / (p_hair + p_other + 1e-4)
    like = smoothstep(0.45, 0.7, ratio[q])
    return cv2.GaussianBlur(like.astype(np.float32), (0, 0), max(1.0, g.unit * 0.02))


BINS = 16  # per channel: 4096 colour bins


def _colour_bins(rgbf: np.ndarray) -> np.ndarray:
    q = np.clip(rgbf * (BINS / 256.0), 0, BINS - 1).astype(np.int32)
    return (q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]


def _histogram(q: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Normalised, slightly smoothed colour histogram of the pixels ``where`` is true."""
    counts = np.bincount(q[where], minlength=BINS**3).astype(np.float32).reshape(BINS, BINS, BINS)
    for axis in range(3):  # a neighbouring bin is a similar colour: [1 2 1] / 4 along each axis
        c = np.moveaxis(counts, axis, 0)
        padded = np.concatenate([c[:1] * 0, c, c[:1] * 0])
        counts = np.moveaxis(0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:], 0, axis)
    return (counts / max(float(counts.sum()), 1.0)).reshape(-1)


def _hanging_hair(
    g: _HalfGrid,
    lm: Landmarks,
    hair: np.ndarray,
    outside: np.ndarray,
    neck_u: float,
    neck_half: float,
    turn: float,
) -> np.ndarray:
    """Hair that falls from beside the face to below the jaw: long hair, over the shoulders.

    The hair-coloured person pixels connected to the hair beside the temples and cheeks, with
    the middle columns under the chin taken out first: in front of the neck there is never
    hanging hair, only the selfie's neck or collar, so a top of the hair's colour cannot join
    on through it. Below the jaw corners only locks at least 0.12 face widths wide carry the
    connection: a thin bridge of hair colour (a dark collar's edge touching the hair by the ear)
    does not. Connection, not columns, follows hair that falls diagonally, as it does from a
    tilted head turned upright.
    """
    eye_v, chin_v = float(lm.eye_mid[1]), float(lm.chin[1])
    vs, us = g.vs[:, None], g.us[None, :]
    is_hair = ((hair > 0.5) & (g.person > 0.5)).astype(np.uint8)
    # Close small gaps (a highlight, a ribbon, a strand's shadow) before following it down.
    k = max(3, round(g.unit * 0.05)) | 1
    is_hair = cv2.morphologyEx(is_hair, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    # A turned head shows more of its neck on the far side of the chin, behind the jaw.
    back = -np.sign(turn) * (us - neck_u)
    reach = neck_half * 0.9 + np.where(back > 0, 0.45 * abs(turn), 0.0)
    in_front_of_neck = (vs > chin_v - 0.25) & (np.abs(us - neck_u) < reach)
    is_hair[in_front_of_neck | (vs > chin_v + 1.3)] = 0
    # Below the jaw corners hair hangs in locks at least a tenth of a face wide: a thinner
    # bridge of hair colour (a dark collar's or a suit ring's edge touching the hair by the
    # ear) is opened away, so what lies under it does not join on as "long hair".
    jaw_v = float(min(lm.right_jaw[1], lm.left_jaw[1]))
    lock = max(3, round(g.unit * 0.12)) | 1
    opened = cv2.morphologyEx(
        is_hair, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (lock, lock))
    )
    is_hair = np.where(vs > jaw_v - 0.1, opened, is_hair).astype(np.uint8)
    # Seeds: hair beside the temples and cheeks (not at the jaw, where a collar may touch it).
    beside_face = (vs > eye_v - 0.3) & (vs < eye_v + 0.25) & (outside > 0.0) & (outside < 0.3)
    count, labels = cv2.connectedComponents(is_hair, connectivity=4)
    if count < 2:
        return np.zeros(hair.shape, np.float32)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[beside_face & (is_hair > 0)])] = True
    seeded[0] = False
    out = seeded[labels].astype(np.float32)
    out *= 1.0 - smoothstep(chin_v + 0.55, chin_v + 1.0, vs)  # the frame ends below the tips
    out *= 1.0 - smoothstep(
        0.9, 1.1, np.abs(us - neck_u)
    )  # hair falls onto the shoulders, not past them
    return cv2.GaussianBlur(out, (0, 0), max(0.8, g.unit * 0.02))


def _jaw_skin(g: _HalfGrid, a: Analysis) -> np.ndarray | None:
    """The skin colour of the lower face on its lit side: what the drawn neck continues."""
    lm = a.landmarks
    inside = g.polygon(lm.oval) > 0.99
    mouth_v = float(lm.chin[1]) * 0.6 + float(lm.eye_mid[1]) * 0.4
    lower = inside & (g.vs[:, None] > mouth_v) & (g.vs[:, None] < float(lm.chin[1]) - 0.05)
    lit = g.us[None, :] * (1 if a.light >= 0 else -1) > 0.05
    region = g.rgb[lower & lit]
    if len(region) < 30:
        return None
    skin = a.skin / max(float(a.skin.sum()), 1.0)
    chroma = region / np.maximum(region.sum(axis=1, keepdims=True), 1.0)
    close = region[np.abs(chroma - skin).sum(axis=1) < 0.07]  # not lips, stubble or shadow
    if len(close) < 30:
        return None
    luma = close @ LUMA
    return np.median(close[luma >= np.percentile(luma, 33)], axis=0)


def _fill_beyond_photo(patch, valid, photo_w, a, person, anchor, origin, unit):
    """Fill where the frame leaves the photo with made hair of the hair's own colour.

    Neither repeating the edge row (streaks) nor mirroring the hair at the cut to and fro
    (stacked bands) reads as hair. The fill is the colour of the hair at the cut (person pixels
    near the photo's edge that are not skin, above the eyes) with the hair's own spread as a
    soft, low-frequency shading and a fine, isotropic grain, the same in every direction so no
    row or column repeats; it fades in from the photo's own pixels at the cut. Worked out at
    half size: the fill is soft anyway.

    ``photo_w`` is ``_into_photo``'s band. Returns the filled patch, the box (row and column
    slices) outside which nothing of the photo is changed or carried (None: nothing is), and
    the maps (x, y) from each of the box's pixels to a point just inside the photo's edge
    nearest to it, for carrying the alpha out.
    """
    h, w = valid.shape
    hw, hh = w // 2, h // 2
    half = cv2.resize(patch, (hw, hh), interpolation=cv2.INTER_AREA).astype(np.float32)
    inside = np.ascontiguousarray(valid[: hh * 2 : 2, : hw * 2 : 2]).astype(np.uint8)
    if inside.all() or not inside.any():
        box = bounding_box(photo_w < 1.0)
        return patch, None if box is None else _identity(box), box
    dist, labels = cv2.distanceTransformWithLabels(
        inside ^ 1, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(inside == 0)
    sources = np.argwhere(inside)  # label k is the k-th pixel inside the photo in scan order
    nearest = sources[labels[ys, xs] - 1].astype(np.float32)
    t = np.maximum(dist[ys, xs], 1e-3)
    map_x, map_y = np.meshgrid(np.arange(hw, dtype=np.float32), np.arange(hh, dtype=np.float32))
    edge_x, edge_y = map_x.copy(), map_y.copy()
    inward = 0.03 * unit  # half-grid pixels: 0.06 face widths inside the edge
    edge_y[ys, xs] = nearest[:, 0] - (ys - nearest[:, 0]) / t * inward
    edge_x[ys, xs] = nearest[:, 1] - (xs - nearest[:, 1]) / t * inward
    at_cut = cv2.remap(half, edge_x, edge_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Along the cut the edge's colour is smoothed, or single pixels would draw short streaks.
    at_cut = blur(at_cut, max(1.0, 0.08 * unit))
    # Just inside the edge the segmenter's mask sags too (it sees the border): carry it there.
    d_in, labels_in = cv2.distanceTransformWithLabels(
        inside, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    bys, bxs = np.nonzero(inside & (d_in < inward))
    edges = np.argwhere(inside == 0)[labels_in[bys, bxs] - 1].astype(np.float32)
    tb = np.maximum(d_in[bys, bxs], 1e-3)
    edge_y[bys, bxs] = edges[:, 0] + (bys - edges[:, 0]) / tb * inward
    edge_x[bys, bxs] = edges[:, 1] + (bxs - edges[:, 1]) / tb * inward

    base, shade, hue = _made_hair(half, inside, d_in, a, person, anchor, origin, unit)
    # The colour turns from the hair's at the cut to the hair's median over 0.2 face widths
    # (no dark or light band along the cut); the grain is whole from the photo's edge.
    # The grain is already whole at the photo's edge, under the blend band below: a smooth
    # stripe of the cut's colour along the edge read as a line between made and real hair.
    turn = smoothstep(0.0, 0.1 * unit, dist)
    fade = smoothstep(-0.05 * unit, 0.0, dist - d_in)
    # Channel by channel: numpy broadcasts over a last axis of three slowly.
    cut = cv2.split(at_cut)
    filled = cv2.merge(
        [
            np.clip(cut[k] * (1.0 - turn) + base[k] * turn + shade * hue[k] * fade, 0, 255)
            for k in range(3)
        ]
    )
    up = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    carried = (inside == 0) | (d_in < inward)
    carried = cv2.resize(carried.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    # Outside this box the photo's pixels and alpha stay as they are: only it is worked on.
    box = bounding_box(carried | (photo_w < 1.0))
    from_edge = tuple(
        np.where(
            carried[box],
            cv2.resize(m * 2 + 0.5, (w, h), interpolation=cv2.INTER_LINEAR)[box],
            full,
        )
        for m, full in zip((edge_x, edge_y), _identity(box), strict=True)
    )
    # The made hair reaches a band into the photo and fades into it there: switching from one
    # to the other at the edge drew a seam (the photo's last rows are often paler or darker).
    w_in = cv2.cvtColor(photo_w[box], cv2.COLOR_GRAY2RGB)
    blended = patch[box].astype(np.float32) * w_in + up[box] * (1.0 - w_in)
    filled_patch = patch.copy()
    filled_patch[box] = np.clip(blended + 0.5, 0, 255).astype(patch.dtype)
    return filled_patch, from_edge, box


def _identity(box: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """The maps (x, y) that sample each pixel of ``box`` at itself."""
    rows, cols = box
    xs = np.arange(cols.start, cols.stop, dtype=np.float32)
    ys = np.arange(rows.start, rows.stop, dtype=np.float32)
    return np.meshgrid(xs, ys)


def _into_photo(valid: np.ndarray, unit: float) -> np.ndarray:
    """0 at the photo's edge to 1 a band (0.1 face widths) inside it: where the made hair
    fades into the photo's."""
    inside = (valid > 0.5).astype(np.uint8)
    band = 0.1 * unit
    out = np.ones(inside.shape, np.float32)
    # Only near the pixels outside the photo is anything under 1: the distances are taken in
    # their box grown by the band (and a margin for the chamfer's error), the same there as
    # over the whole patch.
    near = bounding_box(inside == 0, grow=math.ceil(band * 1.1) + 2)
    if near is None:
        return out
    d_photo = cv2.distanceTransform(inside[near], cv2.DIST_L2, 5)
    out[near] = smoothstep(0.0, band, d_photo)
    return out


def _hair_extent(row: np.ndarray, us: np.ndarray, face_half: float) -> tuple[float, float]:
    """How far the hair reaches left and right of the face's middle on one row of alpha (face
    widths, both positive), within a skull's reach of the face."""
    cols = np.flatnonzero(row > 0.5)
    left = -float(us[cols[0]]) if cols.size else face_half
    right = float(us[cols[-1]]) if cols.size else face_half
    return tuple(float(np.clip(x, face_half, face_half + 0.5)) for x in (left, right))


def _made_hair(half, inside, d_in, a, person, anchor, origin, unit):
    """Hair of the colour seen at the photo's cut, on the half grid: the hair pixels' median
    colour, and a shading (added, in levels) from their own spread at two scales (broad locks,
    fine grain), the same in every direction: no pattern. Returns the colour (RGB), the shading
    (the half grid's shape) and the hue (RGB per level of shading)."""
    hh, hw = inside.shape
    # The colour is sampled on a quarter grid: a median needs no detail.
    qw, qh = max(1, hw // 2), max(1, hh // 2)
    quarter = cv2.resize(half, (qw, qh), interpolation=cv2.INTER_AREA)
    small_person = cv2.resize(person, (qw, qh), interpolation=cv2.INTER_AREA)
    skin = _skin_like(quarter, a.skin, unit / 4)
    vs = ((4 * np.arange(qh, dtype=np.float32) + 1.5) + origin[1] - anchor[1]) / unit
    above_eyes = (vs < float(a.landmarks.eye_mid[1]))[:, None]
    near_cut = (inside[1::2, 1::2] > 0)[:qh, :qw] & (d_in[1::2, 1::2] < 0.12 * unit)[:qh, :qw]
    sample = quarter[near_cut & above_eyes & (small_person > 0.5) & (skin < 0.3)]
    if len(sample) < 8:  # no hair at the cut (a crop through the forehead): a dark brown
        sample = np.array([a.skin * 0.3], np.float32)
    base = np.median(sample, axis=0).astype(np.float32)
    spread = float(np.clip(np.std(sample @ LUMA), 3.0, 18.0))
    rng = np.random.default_rng(7)  # the same photo makes the same hair

    def field(shape: tuple[int, int], sigma: float) -> np.ndarray:
        noise = rng.standard_normal(shape, dtype=np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), sigma)
        noise = cv2.resize(noise, (hw, hh), interpolation=cv2.INTER_LINEAR)
        return noise / max(float(noise.std()), 1e-6)

    # Broad locks from noise at an eighth of the grid (smooth anyway), grain at full grid.
    locks = field((max(2, hh // 8), max(2, hw // 8)), max(0.5, 0.1 * unit / 8))
    shade = 0.6 * spread * locks + 0.6 * spread * field((hh, hw), 0.7)
    # In the hair's own hue: levels of brightness times its colour over its brightness.
    level = max(float(base @ LUMA), 1.0)
    return base, shade, base / level


def _skin_like(rgbf: np.ndarray, skin: np.ndarray, unit: float) -> np.ndarray:
    """How much each pixel looks like the cheeks' skin (hue and brightness), smoothed."""
    # Channel by channel: numpy's sums and broadcasts over a last axis of three are slow.
    r, g, b = cv2.split(rgbf)
    total = np.maximum(r + g + b, 1.0)
    ref = skin / max(float(skin.sum()), 1.0)
    hue = np.abs(r / total - ref[0]) + np.abs(g / total - ref[1]) + np.abs(b / total - ref[2])
    level = (rgbf @ LUMA) / max(float(skin @ LUMA), 1.0)
    like = (1.0 - smoothstep(0.05, 0.11, hue)) * smoothstep(0.3, 0.55, level)
    like = like * (1.0 - smoothstep(1.5, 1.9, level))
    return cv2.GaussianBlur(like.astype(np.float32), (0, 0), max(1.0, unit * 0.035))


def _valid_mask(a: Analysis, placement: Placement, size: tuple[int, int]) -> np.ndarray:
    # Sample a small copy: the border region only needs to be right to a pixel or two.
    ih, iw = a.rgb.shape[:2]
    k = min(1.0, 256 / max(ih, iw))
    small = np.ones((max(1, round(ih * k)), max(1, round(iw * k))), np.float32)
    m = placement.patch_to_image * k
    valid = cv2.warpAffine(
        small, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0.0
    )
    return smoothstep(0.5, 1.0, valid)


def _head_half_width(alpha: np.ndarray, valid: np.ndarray, vs: np.ndarray, v: float) -> float:
    """Half the head's width (face widths) at frame height ``v``, from the alpha inside the
    photo."""
    row = int(np.clip(np.searchsorted(vs, v), 0, len(vs) - 1))
    cols = np.flatnonzero(alpha[row] * valid[row] > 0.5)
    if cols.size < 2:
        return 0.62
    span = (cols[-1] - cols[0]) * float(vs[1] - vs[0])  # pixels to face widths
    return max(0.5, min(1.2, span / 2))


def _decontaminate(rgbf: np.ndarray, alpha: np.ndarray, unit: float) -> np.ndarray:
    """Take the old background's colour out of half-transparent edge pixels.

    An edge pixel is I = a F + (1 - a) B. B, the background nearby, is estimated by averaging
    the pixels the mask calls background; F = (I - (1 - a) B) / a. Fully opaque pixels (the face,
    the hair's body) are left exactly as they were.
    """
    edge = (alpha > 0.01) & (alpha < 0.99)
    rows = np.flatnonzero(edge.any(axis=1))
    if rows.size == 0:
        return rgbf
    cols = np.flatnonzero(edge.any(axis=0))
    # Work only around the edge, with a margin for the blurs' reach.
    sigma = max(2.0, unit * 0.08)
    pad = int(3 * sigma)
    r0, r1 = max(0, rows[0] - pad), min(alpha.shape[0], rows[-1] + 1 + pad)
    c0, c1 = max(0, cols[0] - pad), min(alpha.shape[1], cols[-1] + 1 + pad)
    ys, xs, unmixed = _unmix(rgbf[r0:r1, c0:c1], alpha[r0:r1, c0:c1], edge[r0:r1, c0:c1], sigma)
    out = rgbf.copy()
    out[ys + r0, xs + c0] = unmixed
    return out


def _unmix(rgbf: np.ndarray, alpha: np.ndarray, edge: np.ndarray, sigma: float):
    """The edge pixels (rows, columns) and their colours with the background taken out.

    The background's and the foreground's colours near each edge pixel are alpha-weighted
    averages under ``imaging.blur``'s Gaussian, worked out at its quarter size and read only at
    the edge pixels (a few percent of the region; upsampling it whole cost more than the rest).
    """
    h, w = alpha.shape
    small = (max(1, w // 4), max(1, h // 4))
    spread = max(0.5, sigma / 4)
    # A fourth channel of ones: one product holds both a weighted colour and its weight.
    with_ones = cv2.cvtColor(rgbf, cv2.COLOR_RGB2RGBA)
    back = 1.0 - alpha
    weighted_back = cv2.multiply(with_ones, cv2.merge([back, back, back, back]))
    blurred_back = cv2.GaussianBlur(downscale(weighted_back, small), (0, 0), spread)
    blurred_all = cv2.GaussianBlur(downscale(with_ones, small), (0, 0), spread)
    # The foreground's weighted colour is the rest (every step is linear).
    blurred = np.concatenate([blurred_back, blurred_all - blurred_back], axis=2)
    ys, xs = np.nonzero(edge)
    near = _bilinear_at(
        blurred, (xs + 0.5) * (small[0] / w) - 0.5, (ys + 0.5) * (small[1] / h) - 0.5
    )
    bg = near[:, 0:3] / np.maximum(near[:, 3:4], 1e-3)
    fg = near[:, 4:7] / np.maximum(near[:, 7:8], 1e-3)
    a = np.maximum(alpha[ys, xs], 0.05)[:, None]
    pixels = rgbf[ys, xs]
    pure = np.clip((pixels - (1.0 - a) * bg) / a, 0.0, 255.0)
    # Faint pixels carry little of the foreground: lean on the nearby foreground colour there.
    trust = smoothstep(0.05, 0.5, a)
    return ys, xs, pure * trust + fg * (1.0 - trust)


def _bilinear_at(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``image`` (h, w, channels) read at the points (x, y) between its pixel centres as
    ``cv2.resize`` with ``INTER_LINEAR`` reads it (the edge pixels repeated outside)."""
    h, w = image.shape[:2]
    x, y = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    tx = (x - x0).astype(np.float32)[:, None]
    ty = (y - y0).astype(np.float32)[:, None]
    top = image[y0, x0] * (1.0 - tx) + image[y0, x1] * tx
    bottom = image[y1, x0] * (1.0 - tx) + image[y1, x1] * tx
    return top * (1.0 - ty) + bottom * ty
