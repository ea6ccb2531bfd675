"""A synthetic moving-crowd clip with known identities and keypoints, generated offline.

People of the synthetic crowd set ([`cgalib.data.synthetic`][cgalib.data.synthetic], drawn by its own
functions) move along smooth paths over a static textured background: two walk towards
each other and cross (the nearer one hides the other), one walks out of the picture and
comes back ``gap_frames`` frames later, one approaches the camera (growing), and any
further people wander. Everyone bobs slightly, as walking people do. Per frame the
ground truth is COCO-style: the visible silhouette's box and area, keypoints with flags
(2 visible, 1 hidden by someone nearer, 0 outside the frame or not labelled) and the
identity as ``track_id``. The same seed gives the same clip.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cgalib.data.synthetic import _background, _draw, _person, _translate

__all__ = ["SyntheticClip", "synthetic_clip"]

_FEET = 0.48  # the feet lie about 0.48 heights below the pelvis (the local origin)


@dataclass(frozen=True)
class SyntheticClip:
    """Frames, their times and the ground truth of a synthetic clip.

    Attributes:
        frames: per frame, RGB ``uint8`` `(H, W, 3)`.
        times: per frame, its time in seconds (``index / fps``).
        people: per frame, the ground-truth people (``track_id``, ``bbox`` xywh of the
            visible silhouette, ``area`` its pixels, ``keypoints`` ``[x, y, v] * 17``).
        fps: frames per second.
        out_frames: frames (indices) in which the leaving person is wholly outside.
    """

    frames: list[np.ndarray]
    times: list[float]
    people: list[list[dict]]
    fps: float
    out_frames: tuple[int, ...]

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        h, w = self.frames[0].shape[:2]
        return w, h

    def write(self, path: str | os.PathLike, codec: str | None = None) -> Path:
        """Encode the clip to a video file (H.264 MP4 by default; needs PyAV).

        Args:
            path: the output file.
            codec: an encoder name (default [`best_video_codec()`][cgalib.video.best_video_codec]).

        Returns:
            ``path``.
        """
        from cgalib.video.writer import VideoWriter

        w, h = self.size
        with VideoWriter(path, self.fps, w, h, codec=codec) as out:
            for frame, t in zip(self.frames, self.times):
                out.write(frame, t)
        return Path(path)


def _ease(u: np.ndarray) -> np.ndarray:
    """Smoothstep: 0 -> 1 with zero speed at both ends (no jerk at the start and end)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _paths(rng: np.random.Generator, n: int, people: list[dict], width: int, height: int,
           fps: float, gap_frames: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Per person: x of the pelvis, y of the feet and the scale, per frame."""
    num_people = len(people)
    t = np.arange(n) / fps
    u = np.arange(n) / max(n - 1, 1)
    out = []
    for role in range(num_people):
        if role == 0:  # walks right, crossing person 1
            x = width * (0.18 + 0.64 * _ease(u)) + rng.uniform(-3, 3)
            feet, scale = np.full(n, 0.8 * height), np.full(n, 1.0)
        elif role == 1:  # walks left, nearer to the camera: hides person 0 as they cross
            x = width * (0.82 - 0.64 * _ease(u)) + rng.uniform(-3, 3)
            feet, scale = np.full(n, 0.9 * height), np.full(n, 1.08)
        elif role == 2:  # walks out on the right and comes back gap_frames later
            x = None
            feet, scale = np.full(n, 0.74 * height), np.full(n, 0.85)
        elif role == 3:  # approaches the camera on the left, away from the crossing
            x = width * (0.08 + 0.06 * u) + rng.uniform(-3, 3)
            feet, scale = height * (0.62 + 0.34 * _ease(u)), 0.7 + 0.45 * _ease(u)
        else:  # wanders
            x = width * (rng.uniform(0.2, 0.8) + 0.12 * np.sin(2 * np.pi * (u + rng.random())))
            feet, scale = np.full(n, rng.uniform(0.7, 0.95) * height), np.full(n, 0.9)
        out.append((x, feet, scale))
    if num_people > 2:
        x0, _, x1, _ = people[2]["extent"]
        scale = out[2][2][0]  # pelvis to the leftmost pixel, the person's width:
        out[2] = (_leave_and_return(n, width - x0 * scale, (x1 - x0) * scale, gap_frames),
                  *out[2][1:])  # fmt: skip
    # walking bob: the body rises and falls twice a stride, ~1.8 Hz, 1% of the height
    phase = rng.uniform(0, 2 * np.pi, num_people)
    return [(x, feet + 0.01 * height * np.sin(2 * np.pi * 1.8 * t + p), s)
            for (x, feet, s), p in zip(out, phase)]  # fmt: skip


def _leave_and_return(n: int, out_x: float, person_width: float, gap_frames: int) -> np.ndarray:
    """Pelvis ``x(t)``: standing near the right border, a quick smooth trip out past
    ``out_x`` (where the person is wholly outside) and back, outside in exactly
    ``gap_frames`` frames. The trip is a cos² bump over the middle third of the clip
    (at least ``gap_frames + 8`` frames); it peaks at the middle frame for an odd gap and
    half a frame later for an even one, so the frames outside are symmetric."""
    middle = (n - 1) // 2 + 0.5 * (gap_frames % 2 == 0)
    half = max(n / 6, gap_frames / 2 + 4)
    d = np.clip((np.arange(n) - middle) / half, -1, 1)
    bump = np.cos(np.pi / 2 * d) ** 2  # 0 -> 1 (middle) -> 0, at rest at both ends
    start = out_x - 2.5 * person_width
    lo, hi = 0.0, 50.0 * person_width
    for _ in range(60):  # the smallest amplitude with gap_frames frames outside
        mid = (lo + hi) / 2
        if ((start + mid * bump) > out_x).sum() >= gap_frames:
            hi = mid
        else:
            lo = mid
    return start + hi * bump


def synthetic_clip(
    seed: int = 0,
    num_frames: int = 75,
    width: int = 320,
    height: int = 240,
    fps: float = 25.0,
    num_people: int = 4,
    gap_frames: int = 3,
    person_height: float = 0.42,
    noise: float = 2.0,
) -> SyntheticClip:
    """Render a synthetic moving-crowd clip with ground truth (see the module docstring).

    Args:
        seed: the seed; the same seed gives the same clip.
        num_frames: frames.
        width: frame width in pixels.
        height: frame height in pixels.
        fps: frames per second.
        num_people: people (1 to 8); 2+ cross, 3+ includes the one leaving, 4+ the one
            approaching.
        gap_frames: frames the leaving person spends wholly outside the picture.
        person_height: a person's height as a fraction of the frame height (before the
            per-person scale: 0.7 to 1.15).
        noise: standard deviation of per-frame sensor noise, in 0..255 levels.

    Returns:
        A [`SyntheticClip`][SyntheticClip].

    Raises:
        ValueError: for sizes, counts or a gap the clip cannot hold.

    Examples:
        >>> clip = synthetic_clip(num_frames=4, width=96, height=64, num_people=2)
        >>> clip.size, len(clip.frames), sorted(p["track_id"] for p in clip.people[0])
        ((96, 64), 4, [0, 1])
    """
    if num_frames < 1 or width < 32 or height < 32:
        raise ValueError(
            f"synthetic_clip needs num_frames >= 1 and a size of at least 32x32, got "
            f"{num_frames} frames of {width}x{height}"
        )
    if not 1 <= num_people <= 8:
        raise ValueError(f"num_people must be within 1..8, got {num_people}")
    if num_people > 2 and not 0 <= gap_frames <= num_frames // 3:
        raise ValueError(
            f"gap_frames must be within 0..num_frames // 3 = {num_frames // 3}, got {gap_frames}"
        )
    rng = np.random.default_rng([seed, 2])  # 0 and 1 are the still sets' train and val
    size = max(width, height)
    background = np.asarray(_background(rng, size))[:height, :width]
    base_height = person_height * height
    people = [_person(rng, base_height) for _ in range(num_people)]
    paths = _paths(rng, num_frames, people, width, height, fps, gap_frames)
    frames, truth, out_frames = [], [], []
    for f in range(num_frames):
        placed = []
        for pid, (person, (x, feet, scale)) in enumerate(zip(people, paths)):
            s = float(scale[f])
            offset = np.array([x[f], feet[f] - _FEET * base_height * s])
            placed.append((pid, _translate(person, offset, s)))
        if num_people > 2 and placed[2][1]["extent"][0] >= width:
            out_frames.append(f)
        placed.sort(key=lambda q: q[1]["extent"][3])  # back to front, by the lowest point
        image = Image.fromarray(background)
        owner = Image.new("L", (width, height), 0)
        draw, draw_owner = ImageDraw.Draw(image), ImageDraw.Draw(owner)
        for rank, (_, p) in enumerate(placed):
            _draw(draw, p["prims"])
            _draw(draw_owner, p["prims"], fill=rank + 1)
        pixels = np.asarray(image, dtype=np.float64)
        grain = np.random.default_rng([seed, 3, f]).normal(0, noise, pixels.shape)
        frames.append(np.clip(pixels + grain, 0, 255).round().astype(np.uint8))
        truth.append(_ground_truth(placed, np.asarray(owner), width, height))
    return SyntheticClip(frames, [f / fps for f in range(num_frames)], truth, fps,
                         tuple(out_frames))  # fmt: skip


def _ground_truth(placed: list[tuple[int, dict]], owner: np.ndarray, width: int,
                  height: int, min_area: int = 64) -> list[dict]:  # fmt: skip
    """COCO-style people of one frame, as the still set annotates them, with ``track_id``."""
    out = []
    for rank, (pid, p) in enumerate(placed):
        visible = owner == rank + 1
        area = int(visible.sum())
        if area < min_area:
            continue
        rows, cols = np.flatnonzero(visible.any(1)), np.flatnonzero(visible.any(0))
        keypoints: list[float] = []
        for (x, y), labelled in zip(p["keypoints"], p["labelled"]):
            px, py = math.floor(x + 0.5), math.floor(y + 0.5)
            if not labelled or not (0 <= px < width and 0 <= py < height):
                keypoints += [0.0, 0.0, 0]
                continue
            keypoints += [float(x), float(y), 1 if owner[py, px] > rank + 1 else 2]
        out.append({
            "track_id": pid,
            "bbox": [float(cols[0]), float(rows[0]), float(cols[-1] + 1 - cols[0]),
                     float(rows[-1] + 1 - rows[0])],
            "area": float(area),
            "keypoints": keypoints,
            "category_id": 1,
        })  # fmt: skip
    return sorted(out, key=lambda q: q["track_id"])
