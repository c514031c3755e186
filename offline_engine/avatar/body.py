"""The body's shape: from the prompt (or the face) to a build, and from a build to a silhouette.

A ``Build`` holds the body's widths in face widths (the face, cheekbone to cheekbone, is the
unit the whole figure is measured in, so head and shoulders keep natural proportions): an
average adult has shoulders 2.8 face widths across, a neck about 0.6 of one.
``build_from_prompt`` starts from that average and adds what the prompt's words say ("athletic
build", "curvy figure", "slender frame", "broad shoulders", "petite", "plus-size", "pregnant",
...), scaled by "very" or "slightly" and skipped after "not"; unknown words change nothing, and
a prompt with no body words at all takes a gentle hint from the face instead.

``Figure`` turns a build into the vertical landmarks and the outline of each part (neck, torso,
arms, hands, legs) in canvas pixels, and ``tube`` rasterises a part row by row: its coverage
(anti-aliased from the exact distance to its edge) and ``u``, the position across the part from
-1 to 1 that the shading treats as a cylinder.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, fields, replace

import numpy as np

# --- builds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """Half widths in face widths, and a few form factors.

    The neutral values are an average adult's, measured front on against the face's width
    (about 13.5 cm cheekbone to cheekbone): about 40 cm across the deltoids, 35 across the
    hips, a 9 cm upper arm, an 8 cm neck. A thinner "average" reads as a shop mannequin.
    """

    shoulder: float = 1.46  # half the width across the deltoids
    chest: float = 1.08  # half the torso at the armpits
    waist: float = 0.94
    hip: float = 1.18
    neck: float = 0.29
    arm: float = 0.30  # upper-arm half width
    bust: float = 0.2  # 0 flat .. 1 full: shading and a little width
    belly: float = 0.0  # 0 .. 1 (pregnant)
    length: float = 1.0  # torso and arm length factor (tall, petite)


NEUTRAL = Build()

# What each word does, as additions to the neutral build. Phrases are matched before words.
# Each build word moves the parts a photo would show it by: an athletic build is a V (broad
# shoulders and chest, a narrow waist, thick arms and neck), a curvy one an hourglass (hips and
# bust, a waist no wider), a slender one narrower everywhere, thinner arms and neck; plus-size
# is wider everywhere, most at the waist; petite is narrow-shouldered and short in the torso.
VOCABULARY: dict[str, dict[str, float]] = {
    "athletic": {"shoulder": 0.26, "chest": 0.14, "waist": -0.06, "hip": -0.06, "neck": 0.06,
                 "arm": 0.08},
    "muscular": {"shoulder": 0.30, "chest": 0.18, "waist": 0.0, "neck": 0.09, "arm": 0.13},
    "bodybuilder": {"shoulder": 0.40, "chest": 0.26, "waist": 0.02, "neck": 0.13, "arm": 0.18},
    "toned": {"shoulder": 0.08, "chest": 0.04, "waist": -0.05, "arm": 0.02},
    "fit": {"shoulder": 0.08, "chest": 0.04, "waist": -0.05, "arm": 0.02},
    "sporty": {"shoulder": 0.12, "chest": 0.06, "waist": -0.05, "arm": 0.04},
    "broad": {"shoulder": 0.24, "chest": 0.08, "neck": 0.03},
    "broad shoulders": {"shoulder": 0.32, "chest": 0.09, "neck": 0.03, "arm": 0.02},
    "broad shouldered": {"shoulder": 0.32, "chest": 0.09, "neck": 0.03, "arm": 0.02},
    "wide shoulders": {"shoulder": 0.32, "chest": 0.09, "neck": 0.03, "arm": 0.02},
    "narrow shoulders": {"shoulder": -0.20, "chest": -0.05},
    "v shape": {"shoulder": 0.22, "waist": -0.08},
    "curvy": {"shoulder": -0.03, "chest": 0.10, "waist": -0.02, "hip": 0.40, "bust": 0.8,
              "arm": 0.04},
    "curvaceous": {"shoulder": -0.02, "chest": 0.08, "waist": -0.01, "hip": 0.34, "bust": 0.7},
    "hourglass": {"chest": 0.08, "waist": -0.08, "hip": 0.30, "bust": 0.7},
    "voluptuous": {"chest": 0.14, "waist": 0.06, "hip": 0.36, "bust": 0.85, "arm": 0.06},
    "pear": {"shoulder": -0.10, "hip": 0.34},
    "pear shaped": {"shoulder": -0.10, "hip": 0.34},
    "wide hips": {"hip": 0.30},
    "full figured": {"chest": 0.22, "waist": 0.30, "hip": 0.36, "bust": 0.7, "arm": 0.09},
    "slender": {"shoulder": -0.16, "chest": -0.15, "waist": -0.16, "hip": -0.15, "neck": -0.05,
                "arm": -0.07},
    "slim": {"shoulder": -0.12, "chest": -0.12, "waist": -0.14, "hip": -0.12, "neck": -0.03,
             "arm": -0.05},
    "thin": {"shoulder": -0.15, "chest": -0.15, "waist": -0.17, "hip": -0.15, "neck": -0.04,
             "arm": -0.07},
    "skinny": {"shoulder": -0.17, "chest": -0.17, "waist": -0.19, "hip": -0.17, "neck": -0.05,
               "arm": -0.08},
    "lean": {"shoulder": -0.05, "chest": -0.07, "waist": -0.12, "hip": -0.09, "arm": -0.03},
    "lanky": {"shoulder": -0.08, "chest": -0.12, "waist": -0.14, "hip": -0.12, "arm": -0.06,
              "length": 0.06},
    "petite": {"shoulder": -0.20, "chest": -0.13, "waist": -0.11, "hip": -0.10, "neck": -0.04,
               "arm": -0.05, "length": -0.09},
    "plus size": {"shoulder": 0.16, "chest": 0.36, "waist": 0.58, "hip": 0.52, "neck": 0.10,
                  "arm": 0.17, "bust": 0.6, "belly": 0.45},
    "plus": {"shoulder": 0.16, "chest": 0.36, "waist": 0.58, "hip": 0.52, "neck": 0.10,
             "arm": 0.17, "bust": 0.6, "belly": 0.45},
    "overweight": {"shoulder": 0.14, "chest": 0.34, "waist": 0.58, "hip": 0.48, "neck": 0.10,
                   "arm": 0.15, "bust": 0.5, "belly": 0.5},
    "heavy": {"shoulder": 0.12, "chest": 0.28, "waist": 0.48, "hip": 0.42, "neck": 0.08,
              "arm": 0.13, "bust": 0.4, "belly": 0.35},
    "heavyset": {"shoulder": 0.14, "chest": 0.28, "waist": 0.48, "hip": 0.40, "neck": 0.09,
                 "arm": 0.13, "belly": 0.35},
    "chubby": {"chest": 0.20, "waist": 0.36, "hip": 0.32, "neck": 0.06, "arm": 0.10,
               "bust": 0.35, "belly": 0.3},
    "fat": {"shoulder": 0.14, "chest": 0.34, "waist": 0.58, "hip": 0.48, "neck": 0.10,
            "arm": 0.15, "bust": 0.5, "belly": 0.5},
    "large": {"shoulder": 0.12, "chest": 0.22, "waist": 0.32, "hip": 0.30, "neck": 0.06,
              "arm": 0.09},
    "big": {"shoulder": 0.12, "chest": 0.22, "waist": 0.32, "hip": 0.30, "neck": 0.06,
            "arm": 0.09},
    "stocky": {"shoulder": 0.14, "chest": 0.18, "waist": 0.24, "hip": 0.10, "neck": 0.09,
               "arm": 0.08, "length": -0.05},
    "pregnant": {"chest": 0.06, "waist": 0.34, "hip": 0.06, "bust": 0.5, "belly": 1.0},
    "maternity": {"chest": 0.06, "waist": 0.34, "hip": 0.06, "bust": 0.5, "belly": 1.0},
    "tall": {"length": 0.08, "shoulder": 0.02},
    "short": {"length": -0.07},
    "woman": {"shoulder": -0.08, "chest": -0.03, "waist": -0.03, "hip": 0.07, "neck": -0.04,
              "arm": -0.02, "bust": 0.45},
    "female": {"shoulder": -0.08, "chest": -0.03, "waist": -0.03, "hip": 0.07, "neck": -0.04,
               "arm": -0.02, "bust": 0.45},
    "feminine": {"shoulder": -0.08, "waist": -0.03, "hip": 0.08, "neck": -0.04, "bust": 0.45},
    "man": {"shoulder": 0.09, "chest": 0.05, "hip": -0.07, "neck": 0.06, "arm": 0.03,
            "bust": -0.2},
    "male": {"shoulder": 0.09, "chest": 0.05, "hip": -0.07, "neck": 0.06, "arm": 0.03,
             "bust": -0.2},
    "masculine": {"shoulder": 0.10, "chest": 0.05, "hip": -0.07, "neck": 0.06, "arm": 0.03,
                  "bust": -0.2},
    "average": {},
    "medium": {},
    "regular": {},
}  # fmt: skip
# Other spellings people use for the same words.
SYNONYMS = {
    "athlete": "athletic", "athletically": "athletic", "muscled": "muscular",
    "muscly": "muscular", "buff": "muscular", "ripped": "muscular", "curvier": "curvy",
    "curves": "curvy", "slimmer": "slim", "slight": "slender", "thinner": "thin",
    "plussize": "plus size", "plus sized": "plus size", "fuller": "full figured",
    "full figure": "full figured", "broader": "broad", "taller": "tall", "shorter": "short",
    "women": "woman", "men": "man", "girl": "woman", "boy": "man", "lady": "woman",
    "guy": "man", "expecting": "pregnant", "chunky": "chubby", "obese": "fat",
    "stout": "stocky", "heavier": "heavy", "bigger": "big", "wiry": "lean",
}  # fmt: skip
STRONGER = {"very", "extremely", "really", "super", "quite", "highly", "strongly", "so"}
WEAKER = {"slightly", "somewhat", "mildly", "little", "bit", "fairly", "kinda", "moderately"}
NEGATIONS = {"not", "no", "non", "without", "never"}

LIMITS = {  # no prompt can make an impossible body
    "shoulder": (1.1, 2.0), "chest": (0.8, 1.7), "waist": (0.66, 1.75), "hip": (0.85, 1.85),
    "neck": (0.24, 0.40), "arm": (0.2, 0.55), "bust": (0.0, 1.0), "belly": (0.0, 1.0),
    "length": (0.86, 1.12),
}  # fmt: skip


def prompt_terms(prompt: str) -> list[tuple[str, float]]:
    """The body words of a prompt, each with its strength (1, 1.5 after "very", ...)."""
    text = re.sub(r"[^a-z ]+", " ", prompt.lower().replace("-", " "))
    words = text.split()
    phrases = sorted(
        [*VOCABULARY, *SYNONYMS], key=lambda p: len(p.split()), reverse=True
    )  # longest first, so "broad shoulders" wins over "broad"
    found = []
    i = 0
    while i < len(words):
        for phrase in phrases:
            parts = phrase.split()
            if words[i : i + len(parts)] == parts:
                before = words[max(0, i - 3) : i]
                if not any(w in NEGATIONS for w in before[-2:]):
                    strength = 1.0
                    if any(w in STRONGER for w in before):
                        strength = 1.5
                    elif any(w in WEAKER for w in before):
                        strength = 0.5
                    found.append((SYNONYMS.get(phrase, phrase), strength))
                i += len(parts)
                break
        else:
            i += 1
    return found


def _apply(build: Build, changes: dict[str, float], strength: float) -> Build:
    values = {f.name: getattr(build, f.name) for f in fields(Build)}
    for name, delta in changes.items():
        values[name] += delta * strength
    return Build(**values)


def _clamped(build: Build) -> Build:
    return Build(
        **{
            f.name: min(max(getattr(build, f.name), LIMITS[f.name][0]), LIMITS[f.name][1])
            for f in fields(Build)
        }
    )


def build_from_prompt(
    prompt: str, face_hint: float = 0.0, rng: random.Random | None = None
) -> Build:
    """The build a prompt describes; with no body words, a gentle one inferred from the face.

    ``face_hint`` runs from -1 (a narrow face: towards slender) to 1 (a broad one: towards
    heavy-set); it moves the build at most about half as far as the words would. ``rng`` adds a
    small seeded variation (one or two percent), so two seeds of one prompt are not identical
    twins.
    """
    build = NEUTRAL
    terms = prompt_terms(prompt)
    for word, strength in terms:
        build = _apply(build, VOCABULARY[word], strength)
    if not any(VOCABULARY[word] for word, _ in terms):
        if face_hint < 0:
            build = _apply(build, VOCABULARY["slender"], -face_hint * 0.5)
        elif face_hint > 0:
            build = _apply(build, VOCABULARY["heavy"], face_hint * 0.45)
    # The arms hang beside the chest, not inside it: across the deltoids a body is at least its
    # chest and most of two upper arms wide (a heavy build's shoulders follow its chest out).
    build = replace(build, shoulder=max(build.shoulder, build.chest + 0.85 * build.arm))
    if rng is not None:
        j = 1.0 + rng.uniform(-0.015, 0.015)
        build = replace(
            build,
            shoulder=build.shoulder * j,
            chest=build.chest * j,
            waist=build.waist * (1.0 + rng.uniform(-0.02, 0.02)),
            hip=build.hip * j,
        )
    return _clamped(build)


def body_shape(prompt: str, rng: random.Random | None = None) -> Build:
    return build_from_prompt(prompt, 0.0, rng)


# --- the figure in canvas pixels -----------------------------------------------------------------


def ease(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return (1.0 - np.cos(math.pi * t)) / 2.0


def profile(keys: list[tuple[float, float]], ys: np.ndarray) -> np.ndarray:
    """Values at ``ys`` along (y, value) keys, y ascending, eased so curves have no corners."""
    ky = np.array([k[0] for k in keys], np.float64)
    kv = np.array([k[1] for k in keys], np.float64)
    i = np.clip(np.searchsorted(ky, ys, side="right") - 1, 0, len(keys) - 2)
    t = (ys - ky[i]) / np.maximum(ky[i + 1] - ky[i], 1e-9)
    return kv[i] + (kv[i + 1] - kv[i]) * ease(t)


@dataclass(frozen=True)
class Figure:
    """Where the body's parts are, in canvas pixels (x from the left, y down).

    ``cx`` is the body's middle, ``unit`` one face width in pixels, ``notch`` the y of the
    base of the neck at the front; everything else is measured from those in face widths.
    """

    build: Build
    cx: float
    unit: float
    chin: float
    notch: float
    neck_top_x: float  # the neck's middle under the jaw (a turned head moves it aside)

    def y(self, v: float) -> float:
        """y of a height given in face widths below the notch, scaled by the build's length."""
        return self.notch + v * self.unit * (self.build.length if v > 0 else 1.0)

    # vertical landmarks, face widths below the notch
    ACROMION = 0.06
    SHOULDER_JOINT = 0.34
    ARMPIT = 0.95
    BUST = 1.38
    UNDERBUST = 1.78
    WAIST = 2.65
    BELT = 3.25
    HIP = 3.9
    CROTCH = 4.6
    UPPER_ARM = 2.15
    FOREARM = 1.85
    HAND = 1.32

    def torso_half(self, ys: np.ndarray) -> np.ndarray:
        """Half width of the torso at each row; above the armpits it includes the deltoids."""
        b, u = self.build, self.unit
        bulge = 0.08 * b.bust
        keys = [
            (self.y(-0.6), b.shoulder),
            (self.y(self.SHOULDER_JOINT + 0.4), b.shoulder - 0.01),
            (self.y(self.ARMPIT), b.chest + 0.03),
            (self.y(self.BUST), b.chest + bulge),
            (self.y(self.UNDERBUST), (b.chest * 0.6 + b.waist * 0.4)),
            (self.y(self.WAIST), b.waist),
            (self.y(self.BELT), (b.waist + b.hip) / 2 + 0.03),
            (self.y(self.HIP), b.hip),
            (self.y(self.CROTCH), b.hip - 0.02),
            (self.y(9.0), b.hip - 0.05),
        ]
        half = profile(keys, ys)
        if b.belly > 0:  # a pregnant or heavy belly rounds out the waist on both sides
            t = (ys - self.y(2.95)) / (1.05 * u * b.length)
            half = half + b.belly * 0.16 * np.clip(1 - t * t, 0, 1) ** 1.5
        return half * u

    def shoulder_line(self, xs: np.ndarray) -> np.ndarray:
        """y of the top of the shoulders at each x: down from the neck, over the deltoid."""
        b, u = self.build, self.unit
        ax = np.abs(xs - self.cx) / u
        neck_x = b.neck + 0.02
        round_x = b.shoulder - 1.1 * b.arm  # where the deltoid starts to round over
        t = np.clip((ax - neck_x) / max(round_x - neck_x, 1e-6), 0.0, 1.0)
        drop = 1.0 - (1.0 - t) ** 2.2  # steep off the neck, flattening over the shoulder
        top = -0.30 + (self.ACROMION + 0.30) * drop
        # A quarter ellipse from the top of the deltoid down to its widest point.
        s = np.clip((ax - round_x) / max(b.shoulder - round_x, 1e-6), 0.0, 1.0)
        top = top + (self.SHOULDER_JOINT - self.ACROMION) * (1.0 - np.sqrt(1.0 - s * s))
        top = np.where(ax < neck_x, -0.30, top)
        return self.notch + top * u

    def arm_axis(self, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shoulder joint, elbow and wrist (x, y) of one arm; side -1 is the image's left.

        The arms hang a few degrees out from the body, as a try-on model stands, so the waist
        shows between arm and torso; wide hips push the forearms out further.
        """
        b, u = self.build, self.unit
        joint = np.array([self.cx + side * (b.shoulder - b.arm) * u, self.y(self.SHOULDER_JOINT)])
        elbow_y = joint[1] + self.UPPER_ARM * u * b.length
        wrist_y = elbow_y + self.FOREARM * u * b.length
        elbow_clear = float(self.torso_half(np.array([elbow_y]))[0]) / u + b.arm * 0.8 + 0.13
        wrist_clear = float(self.torso_half(np.array([wrist_y]))[0]) / u + b.arm * 0.55 + 0.1
        elbow_off = max((b.shoulder - b.arm) + 0.05, elbow_clear)
        wrist_off = max(elbow_off + 0.04, wrist_clear)
        elbow = np.array([self.cx + side * elbow_off * u, elbow_y])
        wrist = np.array([self.cx + side * wrist_off * u, wrist_y])
        return joint, elbow, wrist


# --- rasterising a part --------------------------------------------------------------------------


@dataclass
class Part:
    """A rasterised part inside its bounding box: coverage 0..1 and the cylinder coordinate."""

    rows: slice
    cols: slice
    coverage: np.ndarray
    u: np.ndarray  # -1 at the part's left edge .. 1 at its right edge
    v: np.ndarray  # 0 at the part's top .. 1 at its bottom (for lengthwise effects)


def tube(
    y0: float,
    centre: np.ndarray,
    half: np.ndarray,
    shape: tuple[int, int],
    *,
    top: np.ndarray | None = None,
    cap_top: bool = False,
    cap_bottom: bool = False,
) -> Part | None:
    """Rasterise a part described row by row.

    ``centre`` and ``half`` give the middle and the half width at ``y0``, ``y0 + 1``, ... (one
    value per pixel row). ``top``, when given, is a per-column
    y above which nothing is drawn (the shoulder line). ``cap_top`` and ``cap_bottom`` round
    the ends with half circles. Coverage is the exact pixel overlap of a straight edge, so
    edges are anti-aliased without supersampling.
    """
    height, width = shape
    n = len(centre)
    r0, r1 = max(0, math.floor(y0)), min(height, math.ceil(y0 + n))
    if r0 >= r1:
        return None
    extent = float(np.max(half)) + 2
    c0 = max(0, math.floor(float(np.min(centre)) - extent))
    c1 = min(width, math.ceil(float(np.max(centre)) + extent))
    if c0 >= c1:
        return None
    rows = np.arange(r0, r1, dtype=np.float64) + 0.5
    idx = np.clip(rows - y0, 0, n - 1)
    i0 = np.floor(idx).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = idx - i0
    cx = (centre[i0] * (1 - f) + centre[i1] * f)[:, None]
    hw = np.maximum((half[i0] * (1 - f) + half[i1] * f)[:, None], 1e-3)
    slope = np.gradient(centre)[i0][:, None] if n > 1 else 0.0
    xs = np.arange(c0, c1, dtype=np.float64)[None, :] + 0.5
    dx = xs - cx
    # Distance to a side edge, corrected for the edge's slant (half width and centre changing).
    hslope = np.gradient(half)[i0][:, None] if n > 1 else 0.0
    dist = (hw - np.abs(dx)) / np.sqrt(1.0 + (np.abs(hslope) + np.abs(slope)) ** 2)
    yrow = rows[:, None]
    if cap_top:
        r = float(half[0])
        centre_y = y0 + r
        d = r - np.hypot(xs - centre[0], yrow - centre_y)
        dist = np.where(yrow < centre_y, d, dist)
    else:
        dist = np.minimum(dist, yrow - y0)
    if cap_bottom:
        r = float(half[-1])
        centre_y = y0 + n - r
        d = r - np.hypot(xs - centre[-1], yrow - centre_y)
        dist = np.where(yrow > centre_y, d, dist)
    else:
        dist = np.minimum(dist, y0 + n - yrow)
    if top is not None:
        t = top[c0:c1][None, :]
        tslope = np.gradient(top)[c0:c1][None, :]
        dist = np.minimum(dist, (yrow - t) / np.sqrt(1.0 + tslope * tslope))
    coverage = np.clip(dist + 0.5, 0.0, 1.0).astype(np.float32)
    u = np.clip(dx / hw, -1.0, 1.0).astype(np.float32)
    v = np.broadcast_to(((yrow - y0) / max(n, 1)).astype(np.float32), coverage.shape)
    return Part(slice(r0, r1), slice(c0, c1), coverage, u, np.ascontiguousarray(v))


@dataclass
class BodyMasks:
    """Full-canvas coverage of the main parts (for measurements and tests)."""

    top: np.ndarray
    trousers: np.ndarray
    arms: np.ndarray
    skin: np.ndarray
