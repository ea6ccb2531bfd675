"""A synthetic crowd set in COCO person-keypoint format, generated in seconds, no download.

Cartoon people are drawn with PIL on textured backgrounds and annotated with one of two
keypoint sets ([`SYNTHETIC_KEYPOINTS`][SYNTHETIC_KEYPOINTS]): COCO's 17 keypoints (``"coco17"``, the
default) or ``"body14"``, a non-COCO skeleton of 14 joints (COCO's body without the face
points, plus the neck and the top of the head), so the path of a custom keypoint set has
an embedded default. The people are drawn on textured backgrounds, in crowds that show the problems CGANet targets: people of very different
scales, overlapping people whose boxes are ambiguous (IoU > 0.3), people cut by the image
border (keypoints outside the image unlabelled) and occluders splitting silhouettes, so
that boxes of the visible silhouette exclude occluded keypoints (*defective boxes*).

Left and right are learnable, also for people facing away: the person's left limbs are
drawn in a darker shade of the clothing, the right limbs in a lighter one; the left eye is
blue, the right eye green, and the left ear wears a yellow earring.

Every image draws its randomness from ``np.random.default_rng([seed, split_id, index])``
(``split_id`` 0 for ``train``, 1 for ``val``), so the same seed gives byte-identical
annotation files, whatever ``workers`` is.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageChops, ImageDraw
from pycocotools import mask as mask_utils

from cgalib.data.validate import read_coco_json
from cgalib.utils.coco_meta import KEYPOINT_NAMES, OKS_SIGMAS, PERSON_CATEGORY

__all__ = [
    "BODY14_CATEGORY",
    "POSES",
    "SYNTHETIC_AUGMENT",
    "SYNTHETIC_DESCRIPTION",
    "SYNTHETIC_KEYPOINTS",
    "make_synthetic_coco",
    "synthetic_sample",
    "synthetic_summary",
]

POSES: tuple[str, ...] = ("stand", "walk", "arms_raised", "wave", "bend", "sit", "squat")
"""The pose families of the 2D kinematic model."""
_POSE_WEIGHTS = np.array([0.22, 0.2, 0.12, 0.12, 0.12, 0.12, 0.1])
_SPLIT_IDS = {"train": 0, "val": 1}
_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
_EXTRA_NAMES = ("neck", "head_top")
"""Points the drawn people have beyond COCO's 17: the base of the neck (between the
shoulders) and the top of the head."""
_OCCLUDER_ID = 255

_BODY14_NAMES = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "head_top", "neck",
)  # fmt: skip
BODY14_CATEGORY: dict = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": list(_BODY14_NAMES),
    "skeleton": [
        [13, 14], [14, 1], [14, 2], [1, 3], [3, 5], [2, 4], [4, 6], [1, 7], [2, 8], [7, 8],
        [7, 9], [9, 11], [8, 10], [10, 12],
    ],
    "sigmas": [OKS_SIGMAS[_K[n]] for n in _BODY14_NAMES[:12]] + [0.079, 0.079],
    "upper_body": list(_BODY14_NAMES[:6]) + ["head_top", "neck"],
    "lower_body": list(_BODY14_NAMES[6:12]),
}  # fmt: skip
"""The person category of the ``"body14"`` synthetic set: 14 joints in CrowdPose's order
(the 12 body joints of COCO, then ``head_top`` and ``neck``), a 1-based skeleton of 14
limbs, and cgalib's optional keys (read by
[`from_category()`][cgalib.utils.keypoint_set.KeypointSet.from_category], ignored by pycocotools):
``sigmas`` (COCO's for the body joints, CrowdPose's 0.079 for the head top and the neck)
and the ``upper_body``/``lower_body`` halves."""

SYNTHETIC_KEYPOINTS: dict[str, dict] = {"coco17": PERSON_CATEGORY, "body14": BODY14_CATEGORY}
"""The keypoint sets the synthetic set can be annotated with, by name: the person
category each writes."""

SYNTHETIC_AUGMENT: dict[str, float] = {"flip_prob": 0.0}
"""[`PoseAugmentation`][cgalib.data.PoseAugmentation] overrides for training on this set: no horizontal
flip. A mirror image with swapped labels contradicts the left/right colour code (darker left
limbs, blue left eye, left earring), and the set shows people facing both ways.
"""

_SKIN = np.array(
    [[255, 222, 189], [241, 194, 125], [224, 172, 105], [198, 134, 66], [141, 85, 36], [92, 58, 30]]
)
_HAIR = np.array(
    [[25, 20, 20], [70, 45, 25], [130, 85, 40], [205, 170, 95], [160, 160, 160], [175, 65, 25]]
)
_LEFT_EYE = (20, 90, 255)  # the person's left eye: blue
_RIGHT_EYE = (0, 200, 60)  # the person's right eye: green
_EARRING = (255, 230, 0)  # only on the left ear
_NOSE = (150, 40, 40)


# ----------------------------------------------------------------------------- geometry
def _rot(v: np.ndarray, a: float) -> np.ndarray:
    """Rotate image-space vectors (x right, y down) by ``a`` radians (clockwise on screen)."""
    c, s = math.cos(a), math.sin(a)
    return np.stack([v[..., 0] * c - v[..., 1] * s, v[..., 0] * s + v[..., 1] * c], -1)


def _down(a: float) -> np.ndarray:
    """Unit vector of a limb at absolute angle ``a`` (0 points down, +pi/2 points to +x)."""
    return np.array([math.sin(a), math.cos(a)])


def _capsule(p1, p2, w1: float, w2: float) -> list[tuple]:
    """A tapered limb: a quad plus round caps, as drawing primitives."""
    p1, p2 = np.asarray(p1, float), np.asarray(p2, float)
    d = p2 - p1
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
    quad = [p1 + n * w1 / 2, p2 + n * w2 / 2, p2 - n * w2 / 2, p1 - n * w1 / 2]
    return [("poly", quad), ("disc", p1, w1 / 2), ("disc", p2, w2 / 2)]


def _ellipse_poly(center, rx: float, ry: float, angle: float, n: int = 20) -> list:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = _rot(np.stack([rx * np.cos(t), ry * np.sin(t)], -1), angle) + np.asarray(center)
    return list(pts)


def _shade(color, factor: float) -> tuple[int, int, int]:
    """Darker (factor < 1) or blended towards white (factor > 1)."""
    c = np.asarray(color, float)
    c = c * factor if factor <= 1 else c + (255 - c) * (factor - 1)
    return tuple(int(v) for v in np.clip(c, 0, 255))


# ----------------------------------------------------------------------------- a person
def _pose_angles(rng: np.random.Generator, pose: str, side: int) -> tuple[dict[str, float], float]:
    """Absolute limb angles (radians; 0 = down, pi/2 = towards +x), torso and head tilts.

    ``side`` is the image-x direction of the person's left (+1 facing the camera). Also
    returns the heading (+1/-1 image-x direction of a walking/sitting/bending person's
    toes, 0 for frontal poses).
    """
    sl, sr = side, -side  # outward direction of each side
    d = float(rng.choice([-1.0, 1.0]))  # the direction the person turns/moves
    u = rng.uniform
    a: dict[str, float] = {"torso": u(-6, 6), "head": u(-15, 15)}
    arm_out = u(5, 25, 2)
    a |= {"l_up": sl * arm_out[0], "r_up": sr * arm_out[1]}
    a |= {"l_fore": a["l_up"] + u(-30, 30), "r_fore": a["r_up"] + u(-30, 30)}
    leg_out = u(2, 12, 2)
    a |= {"l_thigh": sl * leg_out[0], "r_thigh": sr * leg_out[1]}
    a |= {"l_shin": a["l_thigh"] + u(-6, 6), "r_shin": a["r_thigh"] + u(-6, 6)}
    if pose == "walk":
        w = u(15, 35)
        a |= {"l_thigh": w * d, "r_thigh": -w * d}
        a |= {"l_shin": a["l_thigh"] - d * u(0, 30), "r_shin": a["r_thigh"] - d * u(0, 30)}
        a |= {"l_up": -d * u(10, 35), "r_up": d * u(10, 35)}
        a |= {"l_fore": a["l_up"] + d * u(0, 45), "r_fore": a["r_up"] + d * u(0, 45)}
    elif pose == "arms_raised":
        up = u(100, 175, 2)
        a |= {"l_up": sl * up[0], "r_up": sr * up[1]}
        a |= {"l_fore": a["l_up"] + sl * u(-45, 40), "r_fore": a["r_up"] + sr * u(-45, 40)}
    elif pose == "wave":
        k = "l" if rng.random() < 0.5 else "r"
        s = sl if k == "l" else sr
        a[f"{k}_up"] = s * u(70, 160)
        a[f"{k}_fore"] = s * u(140, 190)
    elif pose == "bend":
        a["torso"] = d * u(35, 80)
        a["head"] = -d * u(0, 25)
        a |= {"l_up": u(-20, 20), "r_up": u(-20, 20)}
        a |= {"l_fore": a["l_up"] + u(-20, 20), "r_fore": a["r_up"] + u(-20, 20)}
    elif pose == "sit":
        a["torso"] = -d * u(0, 12)
        th = d * u(70, 100)
        a |= {"l_thigh": th + u(-8, 8), "r_thigh": th + u(-8, 8)}
        a |= {"l_shin": u(-12, 12), "r_shin": u(-12, 12)}
        a |= {"l_fore": a["l_up"] + d * u(40, 90), "r_fore": a["r_up"] + d * u(40, 90)}
    elif pose == "squat":
        th = u(45, 85, 2)
        a |= {"l_thigh": sl * th[0], "r_thigh": sr * th[1]}
        a |= {"l_shin": -sl * u(-5, 25), "r_shin": -sr * u(-5, 25)}
        a |= {"l_up": sl * u(20, 60), "r_up": sr * u(20, 60)}
        a |= {"l_fore": a["l_up"] - sl * u(30, 90), "r_fore": a["r_up"] - sr * u(30, 90)}
    jitter = rng.normal(0, 5, len(a))
    heading = d if pose in ("walk", "sit", "bend") else 0.0
    return {k: math.radians(v + j) for (k, v), j in zip(a.items(), jitter)}, heading


@dataclass
class _Body:
    """The geometry of one person in local coordinates (pelvis at the origin, image axes)."""

    height: float
    side: int  # the image-x direction of the person's left (+1 facing the camera)
    front: bool  # facing the camera
    heading: float  # the image-x direction of the toes (0 for frontal poses)
    angles: dict[str, float]  # absolute limb angles, see _pose_angles
    keypoints: np.ndarray  # (17, 2), in COCO's order
    up: np.ndarray  # the torso's axis, pelvis to neck
    across: np.ndarray  # perpendicular to it, towards image +x for an upright person
    neck_base: np.ndarray
    head: np.ndarray  # the centre of the head
    head_angle: float
    r_head: float
    rx: float  # the head's half width
    ry: float  # the head's half height
    t_arm: float  # limb thicknesses
    t_leg: float

    def on_head(self, x: float, y: float) -> np.ndarray:
        """A point given in the head's frame (x right, y down), in local coordinates."""
        return self.head + _rot(np.array([x, y]), self.head_angle)


class _Look(NamedTuple):
    """The colours of one person."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    pants: tuple[int, int, int]
    shoes: tuple[int, int, int]
    pattern: str  # of the shirt: "plain", "stripes" or "dots"
    pattern_color: tuple[int, int, int]
    short_sleeves: bool


_SIDE_SHADE = {"left": 0.62, "right": 1.4}
"""How the limbs of each side are shaded: the left darker, the right lighter."""


def _person(rng: np.random.Generator, height: float) -> dict:
    """A person in local coordinates (pelvis at the origin), as primitives and keypoints.

    Returns a dict with ``keypoints`` `(17, 2)`, ``labelled`` `(17,)` bool (face points of
    people facing away are not annotated), ``extra`` `(2, 2)` (the points of
    [`_EXTRA_NAMES`][_EXTRA_NAMES], always annotated), ``prims`` (drawing primitives with colours)
    and ``extent`` (x0, y0, x1, y1) around all primitives.
    """
    front = rng.random() < 0.6
    side = 1 if front else -1
    pose = str(rng.choice(POSES, p=_POSE_WEIGHTS))
    angles, heading = _pose_angles(rng, pose, side)
    body = _body(rng, height, pose, angles, side, front, heading)
    _place_face(rng, body)
    labelled = np.ones(17, bool)
    if not front:
        labelled[[_K["nose"], _K["left_eye"], _K["right_eye"]]] = False
    look = _look(rng)
    # drawn back to front; the arms last, in front of the torso
    prims = [*_legs(body, look), *_torso(rng, body, look), *_head(body, look), *_arms(body, look)]
    # the neck and the head top: no random draw, so the COCO output is unchanged
    extra = np.stack([body.neck_base, body.on_head(0.0, -body.ry)])
    return {
        "keypoints": body.keypoints,
        "labelled": labelled,
        "extra": extra,
        "prims": prims,
        "extent": _extent(body.keypoints, prims),
    }


def _body(
    rng: np.random.Generator,
    height: float,
    pose: str,
    angles: dict[str, float],
    side: int,
    front: bool,
    heading: float,
) -> _Body:
    """The body's proportions (drawn at random), its 12 body keypoints and its head; the
    face keypoints are placed by `_place_face()`."""
    a = angles
    prop = height * rng.uniform(0.92, 1.08, 12)
    r_head, neck, torso = 0.072 * prop[0], 0.035 * prop[1], 0.30 * prop[2]
    upper, fore, thigh, shin = 0.165 * prop[3], 0.15 * prop[4], 0.235 * prop[5], 0.235 * prop[6]
    turn = rng.uniform(0.35, 1.0) if pose in ("walk", "sit", "bend") else rng.uniform(0.75, 1.0)
    sh_w, hip_w = 0.105 * prop[7] * turn, 0.07 * prop[8] * turn
    t_arm, t_leg = 0.05 * prop[9], 0.068 * prop[10]

    up = _rot(np.array([0.0, -1.0]), a["torso"])
    across = _rot(np.array([1.0, 0.0]), a["torso"])
    pelvis = np.zeros(2)
    neck_base = pelvis + torso * up
    kp = np.zeros((17, 2))
    kp[_K["left_shoulder"]] = neck_base + side * sh_w * across
    kp[_K["right_shoulder"]] = neck_base - side * sh_w * across
    kp[_K["left_hip"]] = pelvis + side * hip_w * across
    kp[_K["right_hip"]] = pelvis - side * hip_w * across
    for s in ("left", "right"):
        k = s[0]
        kp[_K[f"{s}_elbow"]] = kp[_K[f"{s}_shoulder"]] + upper * _down(a[f"{k}_up"])
        kp[_K[f"{s}_wrist"]] = kp[_K[f"{s}_elbow"]] + fore * _down(a[f"{k}_fore"])
        kp[_K[f"{s}_knee"]] = kp[_K[f"{s}_hip"]] + thigh * _down(a[f"{k}_thigh"])
        kp[_K[f"{s}_ankle"]] = kp[_K[f"{s}_knee"]] + shin * _down(a[f"{k}_shin"])
    head_angle = a["torso"] + a["head"]
    head = neck_base + (neck + r_head) * _rot(np.array([0.0, -1.0]), head_angle)
    return _Body(
        height=height,
        side=side,
        front=front,
        heading=heading,
        angles=a,
        keypoints=kp,
        up=up,
        across=across,
        neck_base=neck_base,
        head=head,
        head_angle=head_angle,
        r_head=r_head,
        rx=0.82 * r_head,
        ry=r_head,
        t_arm=t_arm,
        t_leg=t_leg,
    )


def _place_face(rng: np.random.Generator, body: _Body) -> None:
    """Place the nose, eyes and ears on the head (in ``body.keypoints``), turned by a random
    yaw."""
    kp, side, rx, ry = body.keypoints, body.side, body.rx, body.ry
    yaw = rng.uniform(-0.25, 0.25) * rx
    kp[_K["nose"]] = body.on_head(1.2 * yaw, 0.25 * ry)
    kp[_K["left_eye"]] = body.on_head(side * 0.4 * rx + yaw, -0.08 * ry)
    kp[_K["right_eye"]] = body.on_head(-side * 0.4 * rx + yaw, -0.08 * ry)
    kp[_K["left_ear"]] = body.on_head(side * 0.95 * rx, 0.05 * ry)
    kp[_K["right_ear"]] = body.on_head(-side * 0.95 * rx, 0.05 * ry)


def _look(rng: np.random.Generator) -> _Look:
    """Random colours of skin, hair and clothes, and the shirt's pattern."""
    skin = tuple(int(c) for c in _SKIN[rng.integers(len(_SKIN))])
    hair = tuple(int(c) for c in _HAIR[rng.integers(len(_HAIR))])
    shirt = tuple(int(c) for c in rng.integers(20, 236, 3))
    pants = tuple(int(c) for c in rng.integers(20, 236, 3))
    shoes = tuple(int(c) for c in rng.integers(0, 90, 3))
    pattern = str(rng.choice(["plain", "stripes", "dots"], p=[0.5, 0.3, 0.2]))
    pattern_color = tuple(int(c) for c in rng.integers(0, 256, 3))
    short_sleeves = bool(rng.random() < 0.35)
    return _Look(skin, hair, shirt, pants, shoes, pattern, pattern_color, short_sleeves)


def _paint(shapes: list[tuple], color, silhouette: bool = True) -> list[tuple]:
    """Drawing primitives: the shapes in ``color``, part of the silhouette (the person's
    mask and visible area) or not (details drawn over it)."""
    return [(*s, color, silhouette) for s in shapes]


def _legs(body: _Body, look: _Look) -> list[tuple]:
    """Thighs, shins and feet, left then right."""
    kp, t_leg, heading = body.keypoints, body.t_leg, body.heading
    prims: list[tuple] = []
    for s in ("left", "right"):
        hip, knee, ankle = (kp[_K[f"{s}_{j}"]] for j in ("hip", "knee", "ankle"))
        col = _shade(look.pants, _SIDE_SHADE[s])
        prims += _paint(_capsule(hip, knee, t_leg * 1.1, t_leg * 0.9), col)
        prims += _paint(_capsule(knee, ankle, t_leg * 0.9, t_leg * 0.7), col)
        outward = body.side if s == "left" else -body.side
        toe = np.array([heading if heading else 0.7 * outward, 0.45 if heading else 0.7])
        foot = ankle + 0.055 * body.height * (_down(body.angles[f"{s[0]}_shin"]) * 0.3 + toe)
        shoe = _shade(look.shoes, _SIDE_SHADE[s])
        prims += _paint(_capsule(ankle, foot, t_leg * 0.75, t_leg * 0.6), shoe)
    return prims


def _torso(rng: np.random.Generator, body: _Body, look: _Look) -> list[tuple]:
    """The shirt, the waist of the pants and the shirt's pattern (stripes and dots drawn at
    random)."""
    kp, side = body.keypoints, body.side
    n = body.across * 0.5 * body.t_arm
    quad = [
        kp[_K["left_shoulder"]] + side * n,
        kp[_K["right_shoulder"]] - side * n,
        kp[_K["right_hip"]] - side * n * 0.8,
        kp[_K["left_hip"]] + side * n * 0.8,
    ]
    prims = _paint([("poly", quad)], look.shirt)
    left, right = kp[_K["left_hip"]] + side * n, kp[_K["right_hip"]] - side * n
    waist = body.up * body.t_leg * 0.6
    prims += _paint([("poly", [left, right, right + waist, left + waist])], look.pants)
    if look.pattern == "stripes":
        for f in np.linspace(0.12, 0.88, int(rng.integers(3, 7))):
            p = quad[0] + (quad[3] - quad[0]) * f
            q = quad[1] + (quad[2] - quad[1]) * f
            prims.append(("line", p, q, max(1.0, 0.012 * body.height), look.pattern_color, False))
    elif look.pattern == "dots":
        for f, g in rng.uniform(0.15, 0.85, (int(rng.integers(3, 9)), 2)):
            p = (quad[0] + (quad[3] - quad[0]) * f) * (1 - g) + (
                quad[1] + (quad[2] - quad[1]) * f
            ) * g
            prims.append(("disc", p, max(0.6, 0.012 * body.height), look.pattern_color, False))
    return prims


def _head(body: _Body, look: _Look) -> list[tuple]:
    """The neck, the ears, the head (a face or the back of the hair) and the earring."""
    kp, r_head, ry = body.keypoints, body.r_head, body.ry
    prims = _paint(_capsule(body.neck_base, body.head, r_head * 0.6, r_head * 0.6), look.skin)
    head_poly = _ellipse_poly(body.head, body.rx, ry, body.head_angle)
    ear_r = 0.24 * r_head
    for s in ("left", "right"):
        ear = kp[_K[f"{s}_ear"]]
        prims += _paint([("disc", ear, ear_r)], _shade(look.skin, 0.8 if s == "left" else 1.0))
    if body.front:
        prims += _paint([("poly", head_poly)], look.skin)
        cap = _ellipse_poly(body.on_head(0, -0.55 * ry), body.rx * 0.95, ry * 0.5, body.head_angle)
        prims += _paint([("poly", cap)], look.hair)
        eye_r = max(0.7, 0.15 * r_head)
        prims.append(("disc", kp[_K["left_eye"]], eye_r, _LEFT_EYE, False))
        prims.append(("disc", kp[_K["right_eye"]], eye_r, _RIGHT_EYE, False))
        prims.append(("disc", kp[_K["nose"]], max(0.6, 0.1 * r_head), _NOSE, False))
    else:
        prims += _paint([("poly", head_poly)], look.hair)
    prims.append(("disc", kp[_K["left_ear"]] + _rot(np.array([0, ear_r * 0.7]), body.head_angle),
                  max(0.6, 0.1 * r_head), _EARRING, False))  # fmt: skip
    return prims


def _arms(body: _Body, look: _Look) -> list[tuple]:
    """Upper arms, forearms (bare with short sleeves) and hands, left then right."""
    kp, t_arm = body.keypoints, body.t_arm
    prims: list[tuple] = []
    for s in ("left", "right"):
        sh, el, wr = (kp[_K[f"{s}_{j}"]] for j in ("shoulder", "elbow", "wrist"))
        col = _shade(look.shirt, _SIDE_SHADE[s])
        bare = _shade(look.skin, _SIDE_SHADE[s] ** 0.3)
        prims += _paint(_capsule(sh, el, t_arm * 1.1, t_arm * 0.9), col)
        prims += _paint(
            _capsule(el, wr, t_arm * 0.9, t_arm * 0.75), bare if look.short_sleeves else col
        )
        hand = wr + 0.035 * body.height * _down(body.angles[f"{s[0]}_fore"])
        prims += _paint(_capsule(wr, hand, t_arm * 0.8, t_arm * 0.9), bare)
    return prims


def _extent(keypoints: np.ndarray, prims: Sequence[tuple]) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` around the keypoints and every polygon and disc."""
    pts = [keypoints]
    for p in prims:
        if p[0] == "poly":
            pts.append(np.asarray(p[1]))
        elif p[0] == "disc":
            pts.append(np.asarray(p[1])[None] + np.array([[-p[2], -p[2]], [p[2], p[2]]]))
    allp = np.concatenate(pts)
    return (*allp.min(0), *allp.max(0))


def _translate(person: dict, offset: np.ndarray, scale: float = 1.0) -> dict:
    """The person scaled by ``scale`` about its local origin (the pelvis), then moved by
    ``offset`` (``scale`` 1 changes nothing, so the still images stay byte-identical)."""

    def at(q: np.ndarray) -> np.ndarray:
        return q * scale + offset

    def move(p: tuple) -> tuple:
        if p[0] == "poly":
            return ("poly", [at(q) for q in p[1]], *p[2:])
        if p[0] == "disc":
            return ("disc", at(p[1]), p[2] * scale, *p[3:])
        return ("line", at(p[1]), at(p[2]), p[3] * scale, *p[4:])

    x0, y0, x1, y1 = person["extent"]
    return {
        "keypoints": at(person["keypoints"]),
        "labelled": person["labelled"],
        "extra": at(person["extra"]),
        "prims": [move(p) for p in person["prims"]],
        "extent": (*at(np.array([x0, y0])), *at(np.array([x1, y1]))),
    }


def _draw(draw: ImageDraw.ImageDraw, prims: Sequence[tuple], fill: int | None = None) -> None:
    """Draw primitives in their colours, or only the silhouette ones in ``fill``."""
    for p in prims:
        if fill is not None and not p[-1]:
            continue
        color = fill if fill is not None else p[-2]
        if p[0] == "poly":
            draw.polygon([(float(x), float(y)) for x, y in p[1]], fill=color)
        elif p[0] == "disc":
            (x, y), r = p[1], p[2]
            draw.ellipse([x - r, y - r, x + r, y + r], fill=color)
        else:
            draw.line([tuple(p[1]), tuple(p[2])], fill=color, width=max(1, round(p[3])))


# ----------------------------------------------------------------------------- a scene
@functools.lru_cache(maxsize=8)
def _gradient(size: int, vertical: bool) -> Image.Image:
    grad = Image.linear_gradient("L").resize((size, size), Image.BILINEAR)
    return grad if vertical else grad.transpose(Image.Transpose.ROTATE_90)


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    """Two-colour gradient, low-frequency colour blotches, grain and random shapes."""
    c0, c1 = (tuple(int(v) for v in c) for c in rng.integers(0, 256, (2, 3)))
    img = Image.composite(
        Image.new("RGB", (size, size), c1),
        Image.new("RGB", (size, size), c0),
        _gradient(size, bool(rng.random() < 0.5)),
    )
    blotch = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
    img = Image.blend(img, blotch.resize((size, size), Image.BILINEAR), 0.25)
    grain = int(rng.integers(2, 13))
    half = (size + 1) // 2
    noise = Image.fromarray(rng.integers(0, 2 * grain + 1, (half, half), dtype=np.uint8))
    noise = noise.resize((size, size), Image.NEAREST).convert("RGB")
    img = ImageChops.add(img, noise, offset=-grain)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 14))):
        kind = rng.integers(5)
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.2:  # skin-coloured hard negatives: loose "limbs" and "heads"
            color = tuple(int(c) for c in _SKIN[rng.integers(len(_SKIN))])
        x, y = rng.uniform(-0.1, 1.1, 2) * size
        s = rng.uniform(0.02, 0.3) * size
        if kind == 0:
            draw.rectangle([x, y, x + s * rng.uniform(0.3, 2), y + s * rng.uniform(0.3, 2)], color)
        elif kind == 1:
            draw.ellipse([x, y, x + s, y + s * rng.uniform(0.5, 1.5)], color)
        elif kind == 2:
            pts = np.array([x, y]) + rng.uniform(-s, s, (int(rng.integers(3, 7)), 2))
            draw.polygon([tuple(p) for p in pts], color)
        elif kind == 3:
            q = np.array([x, y]) + rng.uniform(-s, s, 2)
            draw.line([(x, y), tuple(q)], color, width=max(1, int(s * rng.uniform(0.05, 0.25))))
        else:  # a grid/stripe texture patch
            for i in range(int(rng.integers(2, 8))):
                draw.line([(x, y + i * s / 6), (x + s, y + i * s / 6)], color, width=2)
    return img


def _layout(rng: np.random.Generator, size: int, max_people: int, min_height: float,
            overlap: float, cut: float, empty: float) -> list[dict]:  # fmt: skip
    """Sample and place people; returns them ordered back to front (by their lowest point)."""
    if rng.random() < empty:
        return []
    max_height = 0.95 * size
    h0 = math.exp(rng.uniform(math.log(min_height), math.log(max_height)))
    n_cap = int(np.clip(2.5 * size / h0, 1, max_people))
    n = int(rng.integers(1, n_cap + 1))
    people: list[dict] = []
    for _ in range(n):
        h = float(np.clip(h0 * rng.uniform(0.75, 1.25), min_height, max_height))
        p = _person(rng, h)
        x0, y0, x1, y1 = p["extent"]
        w, hh = x1 - x0, y1 - y0
        r = rng.random()
        if people and r < overlap:
            q = people[int(rng.integers(len(people)))]
            qx0, qy0, qx1, qy1 = q["extent"]
            cx = (qx0 + qx1) / 2 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.45) * (qx1 - qx0)
            cy = (qy0 + qy1) / 2 + rng.uniform(-0.15, 0.15) * (qy1 - qy0)
        elif r < overlap + cut:
            border = rng.choice(4, p=[0.35, 0.35, 0.2, 0.1])  # left, right, bottom, top
            inside = rng.uniform(0.3, 0.85)  # fraction of the person inside the image
            along = rng.uniform(0, 1)
            cx, cy = along * size, along * size
            if border == 0:
                cx = -w / 2 + inside * w
            elif border == 1:
                cx = size + w / 2 - inside * w
            elif border == 2:
                cy = size + hh / 2 - inside * hh
            else:
                cy = -hh / 2 + inside * hh
            if border >= 2:
                cx = rng.uniform(0, size)
            else:
                cy = rng.uniform(min(hh / 2, size / 2), max(size - hh / 2, size / 2))
        else:
            cx = rng.uniform(min(w / 2, size / 2), max(size - w / 2, size / 2))
            cy = rng.uniform(min(hh / 2, size / 2), max(size - hh / 2, size / 2))
        people.append(_translate(p, np.array([cx - (x0 + x1) / 2, cy - (y0 + y1) / 2])))
    return sorted(people, key=lambda q: q["extent"][3])


def _occluders(rng: np.random.Generator, people: list[dict], size: int) -> list[tuple]:
    prims: list[tuple] = []
    for _ in range(int(rng.integers(1, 3))):
        q = people[int(rng.integers(len(people)))]
        x0, y0, x1, y1 = q["extent"]
        h = y1 - y0
        c = q["keypoints"][int(rng.integers(17))]
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(3)
        if kind == 0:  # a box (a sign, a table)
            w, hh = rng.uniform(0.2, 0.6) * h, rng.uniform(0.12, 0.45) * h
        elif kind == 1:  # a pole
            w, hh = rng.uniform(0.04, 0.12) * h, rng.uniform(0.6, 1.5) * h
        else:  # a bush
            w, hh = rng.uniform(0.2, 0.5) * h, rng.uniform(0.2, 0.4) * h
        box = [c[0] - w / 2, c[1] - hh / 2, c[0] + w / 2, c[1] + hh / 2]
        corners = [np.array(p, float) for p in
                   ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))]  # fmt: skip
        if kind == 2:
            bush = _ellipse_poly(c, w / 2, hh / 2, rng.uniform(0, np.pi))
            prims.append(("poly", bush, color, True))
        else:
            prims.append(("poly", corners, color, True))
            if rng.random() < 0.5:
                stripe = tuple(int(v) for v in rng.integers(0, 256, 3))
                for f in np.linspace(0.2, 0.8, 3):
                    p = corners[0] + (corners[3] - corners[0]) * f
                    prims.append(("line", p, p + (corners[1] - corners[0]), max(1.0, hh / 12),
                                  stripe, False))  # fmt: skip
    return prims


def _render(rng: np.random.Generator, size: int, max_people: int = 8, min_height: float = 24,
            overlap: float = 0.35, cut: float = 0.15, occluders: float = 0.5, empty: float = 0.03,
            min_area: int = 64, names: Sequence[str] = KEYPOINT_NAMES,
            ) -> tuple[Image.Image, list[dict]]:  # fmt: skip
    every = {name: i for i, name in enumerate(KEYPOINT_NAMES + _EXTRA_NAMES)}
    pick = [every[name] for name in names]
    image = _background(rng, size)
    people = _layout(rng, size, max_people, min_height, overlap, cut, empty)
    owner = Image.new("L", (size, size), 0)  # which object is on top at each pixel
    draw, draw_owner = ImageDraw.Draw(image), ImageDraw.Draw(owner)
    for i, p in enumerate(people):
        _draw(draw, p["prims"])
        _draw(draw_owner, p["prims"], fill=i + 1)
    if people and rng.random() < occluders:
        prims = _occluders(rng, people, size)
        _draw(draw, prims)
        _draw(draw_owner, prims, fill=_OCCLUDER_ID)
    owner_np = np.asarray(owner)
    anns = []
    for i, p in enumerate(people):
        visible = owner_np == i + 1
        area = int(visible.sum())
        if area < min_area:
            continue
        rows, cols = np.flatnonzero(visible.any(1)), np.flatnonzero(visible.any(0))
        x0, y0, x1, y1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
        rle = mask_utils.encode(np.asfortranarray(visible.astype(np.uint8)))
        keypoints: list = []
        points = np.concatenate([p["keypoints"], p["extra"]])[pick]
        labelled = np.concatenate([p["labelled"], np.ones(len(_EXTRA_NAMES), bool)])[pick]
        for (x, y), lab in zip(points, labelled):
            px, py = int(math.floor(x + 0.5)), int(math.floor(y + 0.5))
            if not lab or not (0 <= px < size and 0 <= py < size):
                keypoints += [0, 0, 0]
                continue
            v = 1 if owner_np[py, px] > i + 1 else 2  # covered by something drawn later
            keypoints += [round(float(x), 2), round(float(y), 2), v]
        anns.append({
            "area": float(area),
            "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
            "category_id": 1,
            "iscrowd": 0,
            "keypoints": keypoints,
            "num_keypoints": sum(1 for v in keypoints[2::3] if v > 0),
            "segmentation": {"size": [size, size], "counts": rle["counts"].decode("ascii")},
        })  # fmt: skip
    return image, anns


# ----------------------------------------------------------------------------- public API
def synthetic_sample(
    seed: int = 0,
    index: int = 0,
    split: str = "train",
    size: int = 384,
    keypoints: str = "coco17",
    **params: float,
) -> tuple[Image.Image, list[dict]]:
    """Render one synthetic image in memory, exactly as [`make_synthetic_coco()`][make_synthetic_coco] writes it.

    Args:
        seed: the data-set seed.
        index: the image index within the split.
        split: ``"train"`` or ``"val"``.
        size: image height and width in pixels.
        keypoints: the keypoint set, a key of [`SYNTHETIC_KEYPOINTS`][SYNTHETIC_KEYPOINTS] (``"coco17"`` or
            ``"body14"``); the image does not depend on it.
        **params: the scene parameters of [`make_synthetic_coco()`][make_synthetic_coco] (``max_people``,
            ``min_height``, ``overlap``, ``cut``, ``occluders``, ``empty``, ``min_area``).

    Returns:
        The RGB PIL image (before JPEG compression) and its COCO annotations (without
        ``id`` and ``image_id``).

    Raises:
        ValueError: for an unknown ``split`` or ``keypoints``.

    Examples:
        >>> image, anns = synthetic_sample(seed=0, index=3, size=128)
        >>> image.size, all(len(a["keypoints"]) == 51 for a in anns)
        ((128, 128), True)
        >>> _, body = synthetic_sample(seed=0, index=3, size=128, keypoints="body14")
        >>> len(body) == len(anns), all(len(a["keypoints"]) == 42 for a in body)
        (True, True)
    """
    if split not in _SPLIT_IDS:
        raise ValueError(f"split must be one of {sorted(_SPLIT_IDS)}, got {split!r}")
    names = _keypoint_names(keypoints)
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], index])
    return _render(rng, size, names=names, **params)


def _keypoint_names(keypoints: str) -> list[str]:
    """The keypoint names of a synthetic keypoint set, or a ``ValueError`` naming the sets."""
    if keypoints not in SYNTHETIC_KEYPOINTS:
        raise ValueError(
            f"keypoints must be one of {sorted(SYNTHETIC_KEYPOINTS)}, got {keypoints!r}"
        )
    return SYNTHETIC_KEYPOINTS[keypoints]["keypoints"]


def _write_one(job: tuple) -> list[dict]:
    seed, split, index, size, path, quality, keypoints, params = job
    image, anns = synthetic_sample(seed, index, split, size, keypoints, **params)
    image.save(path, format="JPEG", quality=quality)
    return anns


SYNTHETIC_DESCRIPTION = "cgalib synthetic crowd set"
"""``info.description`` of the files [`make_synthetic_coco()`][make_synthetic_coco] writes;
a model trained on them records it (see [`cgalib.models.trained_on()`][cgalib.models.trained_on])."""


def _written_by_synth(ann_path: Path) -> bool:
    """Whether an annotation file is one that ``make_synthetic_coco`` wrote."""
    try:
        info = json.loads(ann_path.read_text()).get("info") or {}
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(info, dict) and info.get("description") == SYNTHETIC_DESCRIPTION


def _check_not_someone_elses(root: Path) -> None:
    """Refuse to write the synthetic set over files it did not write (a user's data set)."""
    for split in ("train", "val"):
        ann = root / "annotations" / f"person_keypoints_{split}.json"
        if ann.exists() and not _written_by_synth(ann):
            foreign = ann
        elif not ann.exists() and (root / split / "000000.jpg").exists():
            foreign = root / split / "000000.jpg"
        else:
            continue
        raise FileExistsError(
            f"{root} already holds {foreign}, which the synthetic set did not write; give an "
            "empty or new folder (nothing was written)"
        )


def make_synthetic_coco(
    out_dir: str | os.PathLike,
    num_train: int,
    num_val: int,
    seed: int = 0,
    size: int = 384,
    max_people: int = 8,
    min_height: float = 24,
    overlap: float = 0.35,
    cut: float = 0.15,
    occluders: float = 0.5,
    empty: float = 0.03,
    min_area: int = 64,
    jpeg_quality: int = 90,
    workers: int = 1,
    progress: bool = False,
    keypoints: str = "coco17",
) -> dict[str, Path]:
    """Write the synthetic crowd set in COCO layout.

    Layout: ``out_dir/train/000000.jpg...``, ``out_dir/val/...`` and
    ``out_dir/annotations/person_keypoints_{train,val}.json`` (image ids start at 1 and
    file names are the zero-padded index). Annotations follow COCO: ``bbox`` is the tight
    xywh box of the *visible* silhouette, ``area`` its pixel count, ``segmentation`` its
    RLE; keypoints outside the image are ``(0, 0, 0)``, keypoints covered by a person or
    an occluder drawn in front are ``v=1``, others ``v=2``; the face points of people
    facing away are unlabelled. People whose visible area is below ``min_area`` are not
    annotated (like COCO's unannotated tiny people); people cut by the border with no
    keypoint inside the image are kept with ``num_keypoints=0`` (usable for detection).
    All annotations have ``iscrowd=0``. With ``keypoints="body14"`` the person category is
    [`BODY14_CATEGORY`][BODY14_CATEGORY] (14 joints; the neck and the head top are annotated for people
    facing either way) and the images are the same as with ``"coco17"``.

    Args:
        out_dir: the data root (created).
        num_train: number of training images.
        num_val: number of validation images.
        seed: the seed; the same seed gives byte-identical annotation files.
        size: image height and width.
        max_people: most people in one image.
        min_height: the smallest person height in pixels (the largest is 95% of ``size``).
        overlap: probability that a person is placed next to another one (box IoU
            typically > 0.3).
        cut: probability that a person is placed across the image border.
        occluders: probability that an image gets one or two occluders over its people.
        empty: probability of an image without people.
        min_area: smallest visible area (pixels) of an annotated person.
        jpeg_quality: JPEG quality of the images.
        workers: processes rendering in parallel (the output does not depend on it).
        progress: show a text progress bar on stderr (nothing is printed otherwise).
        keypoints: the keypoint set, a key of [`SYNTHETIC_KEYPOINTS`][SYNTHETIC_KEYPOINTS]: ``"coco17"``
            (COCO's person keypoints; the files are those written before keypoint sets
            existed) or ``"body14"`` (recorded in the files' ``info``).

    Returns:
        ``{"root", "train_images", "val_images", "train_ann", "val_ann"}`` paths.

    Raises:
        ValueError: for negative image counts, a size below 32, ``overlap + cut`` outside
            ``[0, 1]`` or an unknown ``keypoints``.
        FileExistsError: when ``out_dir`` holds files that this function did not write
            where it would write its own (an annotation file of another data set, images in
            ``train/`` or ``val/`` without the synthetic set's annotation file): nothing is
            written. A synthetic set written before is replaced.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=2, num_val=1, size=96)
        ...     sorted(p.name for p in paths["train_images"].iterdir())
        ['000000.jpg', '000001.jpg']
    """
    if num_train < 0 or num_val < 0:
        raise ValueError(f"image counts must be >= 0, got train={num_train}, val={num_val}")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    if not 0 <= overlap + cut <= 1:
        raise ValueError(f"overlap + cut must be within [0, 1], got {overlap} + {cut}")
    _keypoint_names(keypoints)  # checks the name
    root = Path(out_dir)
    _check_not_someone_elses(root)
    params = dict(max_people=max_people, min_height=min(min_height, 0.9 * size), overlap=overlap,
                  cut=cut, occluders=occluders, empty=empty, min_area=min_area)  # fmt: skip
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"root": root}
    bar = None
    if progress:
        from cgalib.utils.progress import ProgressBar

        bar = ProgressBar(num_train + num_val, "synth", unit="img")
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        for split, count in (("train", num_train), ("val", num_val)):
            img_dir = root / split
            img_dir.mkdir(parents=True, exist_ok=True)
            jobs = [(seed, split, i, size, img_dir / f"{i:06d}.jpg", jpeg_quality, keypoints,
                     params) for i in range(count)]  # fmt: skip
            results = pool.map(_write_one, jobs, chunksize=8) if pool else map(_write_one, jobs)
            images, annotations = [], []
            for i, anns in enumerate(results):
                images.append({"id": i + 1, "file_name": f"{i:06d}.jpg", "width": size,
                               "height": size})  # fmt: skip
                for ann in anns:
                    annotations.append({**ann, "id": len(annotations) + 1, "image_id": i + 1})
                if bar is not None:
                    bar.update(1)
            info = {
                "description": SYNTHETIC_DESCRIPTION,
                "version": "1",
                "seed": seed,
                "split": split,
                "size": size,
                "params": params,
            }
            if keypoints != "coco17":  # COCO's files stay as they were
                info["keypoints"] = keypoints
            dataset = {
                "info": info,
                "licenses": [],
                "images": images,
                "annotations": annotations,
                "categories": [SYNTHETIC_KEYPOINTS[keypoints]],
            }
            ann_path = root / "annotations" / f"person_keypoints_{split}.json"
            ann_path.write_text(json.dumps(dataset, sort_keys=True, separators=(",", ":")))
            paths[f"{split}_images"], paths[f"{split}_ann"] = img_dir, ann_path
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()
    return paths


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xywh boxes."""
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1[:, None], bx1) - np.maximum(a[:, None, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay1[:, None], by1) - np.maximum(a[:, None, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-9)


def synthetic_summary(ann_file: str | os.PathLike, iou: float = 0.3) -> dict[str, float]:
    """Crowd statistics of a COCO person-keypoint file (the synthetic set or real COCO).

    Args:
        ann_file: a ``person_keypoints_*.json`` file.
        iou: the box IoU above which two people count as overlapping.

    Returns:
        A dict: ``images``, ``people`` (non-crowd person annotations),
        ``people_per_image``, ``images_3plus`` (fraction of images with 3+ people),
        ``empty_images`` (fraction without people), ``overlap_images`` (fraction of images
        with a pair of boxes of IoU > ``iou``), ``overlap_people`` (fraction of people in
        such a pair), ``cut_people`` (fraction whose box touches the image border),
        ``occluded_keypoints`` (fraction of labelled keypoints with ``v=1``),
        ``keypoints_per_person`` (mean ``num_keypoints``) and the box height percentiles
        ``height_p05``, ``height_p50``, ``height_p95`` (pixels).

    Raises:
        FileNotFoundError: if the file does not exist.
        AnnotationError: (a ``ValueError``) if it is not JSON or not a JSON object (the file
            is read by [`read_coco_json()`][cgalib.data.read_coco_json]).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=4, num_val=0, size=128)
        ...     stats = synthetic_summary(paths["train_ann"])
        >>> stats["images"], stats["people"] > 0
        (4, True)
    """
    data = read_coco_json(ann_file)
    sizes = {img["id"]: (img["width"], img["height"]) for img in data["images"]}
    by_image: dict[int, list[dict]] = {i: [] for i in sizes}
    for a in data["annotations"]:
        if not a.get("iscrowd", 0) and a.get("category_id", 1) == 1:
            by_image.setdefault(a["image_id"], []).append(a)
    people = [a for anns in by_image.values() for a in anns]
    n_img = max(len(by_image), 1)
    overlap_imgs, overlap_people, cut = 0, 0, 0
    for image_id, anns in by_image.items():
        if not anns:
            continue
        boxes = np.array([a["bbox"] for a in anns], dtype=np.float64)
        w, h = sizes.get(image_id, (np.inf, np.inf))
        cut += int(np.sum((boxes[:, 0] <= 0) | (boxes[:, 1] <= 0)
                          | (boxes[:, 0] + boxes[:, 2] >= w) | (boxes[:, 1] + boxes[:, 3] >= h)))  # fmt: skip
        ious = _box_iou(boxes, boxes)
        np.fill_diagonal(ious, 0)
        involved = (ious > iou).any(1)
        overlap_imgs += int(involved.any())
        overlap_people += int(involved.sum())
    vis = np.array([v for a in people for v in a["keypoints"][2::3]], dtype=np.int64)
    heights = np.array([a["bbox"][3] for a in people]) if people else np.zeros(1)
    n_people = max(len(people), 1)
    return {
        "images": len(by_image),
        "people": len(people),
        "people_per_image": len(people) / n_img,
        "images_3plus": sum(len(a) >= 3 for a in by_image.values()) / n_img,
        "empty_images": sum(not a for a in by_image.values()) / n_img,
        "overlap_images": overlap_imgs / n_img,
        "overlap_people": overlap_people / n_people,
        "cut_people": cut / n_people,
        "occluded_keypoints": float((vis == 1).sum() / max((vis > 0).sum(), 1)),
        "keypoints_per_person": float(np.mean([a["num_keypoints"] for a in people]))
        if people
        else 0.0,
        "height_p05": float(np.percentile(heights, 5)),
        "height_p50": float(np.percentile(heights, 50)),
        "height_p95": float(np.percentile(heights, 95)),
    }
