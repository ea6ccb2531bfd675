"""Give each person a ``track_id`` that persists across frames.

People of consecutive frames are matched on a blend of keypoint similarity (OKS, with the
keypoint set's sigmas) and box IoU, by an optimal assignment among the pairs at least
``min_similarity`` alike (``scipy.optimize.linear_sum_assignment``: the most matches, then
the most total similarity). A track's pose is carried forward at its
recent velocity before it is compared; a track that finds no match is kept for
``patience`` frames, so a person hidden or out of the picture for up to that many frames
keeps the id (it is compared both where it was last seen and where its velocity would
take it). An unmatched person starts a new track; ids are never reused.

Works on any per-frame results: lists of COCO-style person dicts with ``bbox`` (xywh),
``keypoints`` (flat ``[x, y, s] * K``) and ``score``, as `cgalib.Predictor.predict()`
returns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cgalib.utils.coco_meta import OKS_SIGMAS
from cgalib.video._assignment import min_cost_matching
from cgalib.video._people import check_sigmas, people_arrays
from cgalib.video.similarity import box_iou_matrix, oks_matrix

__all__ = ["PoseTracker", "track_poses"]


@dataclass
class _Track:
    """A track's last matched pose and its velocity (per unit of time)."""

    track_id: int
    keypoints: np.ndarray  # (K, 3)
    box: np.ndarray  # (4,) xywh
    time: float
    velocity: np.ndarray  # (4,) of the box xywh, per unit of time
    missed: int = 0

    def predicted(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints and box carried to ``time`` at the box's velocity."""
        dt = time - self.time
        box = self.box + self.velocity * dt
        kps = self.keypoints.copy()
        kps[:, 0] += (self.velocity[0] + self.velocity[2] / 2) * dt
        kps[:, 1] += (self.velocity[1] + self.velocity[3] / 2) * dt
        return kps, box


class PoseTracker:
    """Online multi-person tracker: one [`update()`][update] per frame.

    Args:
        sigmas: `(K,)` OKS falloff constants of the keypoint set (COCO's by default); their
            number sets ``K``.
        patience: frames a track survives unmatched; a person missing for up to this many
            frames keeps the id, one missing longer gets a new one.
        min_similarity: the least similarity of a match; a person less similar to every
            track starts a new one.
        oks_weight: the similarity is ``oks_weight * OKS + (1 - oks_weight) * IoU``.
        min_score: people with a lower ``score`` are dropped from the output (and never
            start a track). The [`Predictor`][cgalib.Predictor] returns its top candidates,
            most of them near score 0; 0.1 keeps the people and drops those.
        keypoint_threshold: keypoints with a lower score do not count in the OKS.
        momentum: weight of the old velocity when a match updates it (0: the last step only).

    OKS uses the track's box area as the scale ``s^2``.

    Examples:
        >>> person = {"bbox": [10, 10, 20, 40], "score": 0.9,
        ...           "keypoints": [15.0, 20.0, 0.9] * 17}
        >>> tracker = PoseTracker()
        >>> tracker.update([person])[0]["track_id"], tracker.update([person])[0]["track_id"]
        (0, 0)
    """

    def __init__(
        self,
        sigmas: Sequence[float] = OKS_SIGMAS,
        patience: int = 10,
        min_similarity: float = 0.2,
        oks_weight: float = 0.5,
        min_score: float = 0.1,
        keypoint_threshold: float = 0.2,
        momentum: float = 0.5,
    ) -> None:
        self.sigmas = check_sigmas(sigmas)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0 (frames), got {patience!r}")
        if not 0 <= oks_weight <= 1:
            raise ValueError(f"oks_weight must be within [0, 1], got {oks_weight}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be within [0, 1), got {momentum}")
        self.patience = patience
        self.min_similarity = min_similarity
        self.oks_weight = oks_weight
        self.min_score = min_score
        self.keypoint_threshold = keypoint_threshold
        self.momentum = momentum
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frame = 0
        self._last_time: float | None = None

    @property
    def num_keypoints(self) -> int:
        """``K``, the number of sigmas."""
        return self.sigmas.size

    @property
    def frames_seen(self) -> int:
        """Frames given to [`update()`][update] so far (0 for a fresh one)."""
        return self._frame

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks alive now (matched, or missing for at most ``patience`` frames)."""
        return [t.track_id for t in self._tracks]

    def _similarity(self, tracks: Sequence[_Track], kps: np.ndarray, boxes: np.ndarray,
                    time: float) -> np.ndarray:  # fmt: skip
        """`(T, N)` similarity of tracks with this frame's people (best of the predicted and
        last seen pose for tracks that missed frames)."""
        if not tracks or len(kps) == 0:
            return np.zeros((len(tracks), len(kps)))
        sims = []
        poses = [t.predicted(time) for t in tracks]
        for use_last in (False, True):
            t_kps = np.stack([t.keypoints if use_last else p[0] for t, p in zip(tracks, poses)])
            t_box = np.stack([t.box if use_last else p[1] for t, p in zip(tracks, poses)])
            areas = np.maximum(t_box[:, 2] * t_box[:, 3], 1.0)
            oks = oks_matrix(
                t_kps, kps, areas, self.sigmas,
                t_kps[..., 2] >= self.keypoint_threshold, kps[..., 2] >= self.keypoint_threshold,
            )  # fmt: skip
            iou = box_iou_matrix(t_box, boxes)
            sims.append(self.oks_weight * oks + (1 - self.oks_weight) * iou)
        missed = np.array([t.missed > 0 for t in tracks])[:, None]
        return np.where(missed, np.maximum(sims[0], sims[1]), sims[0])

    def update(self, people: Sequence[dict], time: float | None = None) -> list[dict]:
        """Match one frame's people to the tracks; return them with a ``track_id``.

        Args:
            people: the frame's person dicts (``bbox`` xywh, flat ``keypoints``, ``score``).
            time: the frame's time (seconds); ``None`` counts frames. Velocities use it,
                so frames skipped by ``every`` or a variable frame rate are handled.

        Returns:
            Copies of the people with ``score >= min_score``, in their input order, each
            with an int ``track_id``.

        Raises:
            ValueError: for a malformed person (naming the frame and the person) or a time
                not after the previous frame's.
        """
        where = f"frame {self._frame}"
        time = float(self._frame if time is None else time)
        if self._last_time is not None and time <= self._last_time:
            raise ValueError(
                f"{where}: time {time} is not after the previous frame's {self._last_time}"
            )
        kps, boxes, scores = people_arrays(people, self.num_keypoints, where)
        keep = np.flatnonzero(scores >= self.min_score)
        kps, boxes = kps[keep], boxes[keep]
        ids = np.full(len(keep), -1)
        sim = self._similarity(self._tracks, kps, boxes, time)
        if sim.size:
            gated = np.where(sim >= self.min_similarity, -sim, np.nan)
            for r, c in zip(*min_cost_matching(gated, "tracking")):
                self._match(self._tracks[r], kps[c], boxes[c], time)
                ids[c] = self._tracks[r].track_id
        matched = set(ids[ids >= 0].tolist())
        for track in self._tracks:
            if track.track_id not in matched:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.patience]
        for c in np.flatnonzero(ids < 0):
            self._tracks.append(_Track(self._next_id, kps[c], boxes[c], time, np.zeros(4)))
            ids[c] = self._next_id
            self._next_id += 1
        self._frame += 1
        self._last_time = time
        return [{**people[i], "track_id": int(t)} for i, t in zip(keep.tolist(), ids.tolist())]

    def _match(self, track: _Track, kps: np.ndarray, box: np.ndarray, time: float) -> None:
        step = (box - track.box) / (time - track.time)
        fresh = track.missed == 0 and track.velocity.any()
        track.velocity = (
            self.momentum * track.velocity + (1 - self.momentum) * step if fresh else step
        )
        track.keypoints, track.box, track.time, track.missed = kps, box, time, 0

    def __repr__(self) -> str:
        return (
            f"PoseTracker(K={self.num_keypoints}, patience={self.patience}, "
            f"min_similarity={self.min_similarity}, oks_weight={self.oks_weight}, "
            f"min_score={self.min_score}, keypoint_threshold={self.keypoint_threshold}, "
            f"momentum={self.momentum})"
        )


def track_poses(
    frames: Sequence[Sequence[dict]], times: Sequence[float] | None = None, **kwargs: Any
) -> list[list[dict]]:
    """Track people over a whole sequence: [`PoseTracker`][PoseTracker] applied frame by frame.

    Args:
        frames: per frame, its person dicts (as `cgalib.Predictor.predict()` returns).
        times: per frame, its time in seconds (``None``: frame numbers).
        **kwargs: [`PoseTracker`][PoseTracker] arguments (``sigmas``, ``patience``, ...).

    Returns:
        Per frame, copies of its people with a ``track_id``.

    Raises:
        ValueError: when ``times`` and ``frames`` differ in length, or for a malformed person.

    Examples:
        >>> p = {"bbox": [0, 0, 10, 20], "keypoints": [5.0, 5.0, 1.0] * 17, "score": 1.0}
        >>> [[q["track_id"] for q in f] for f in track_poses([[p], [p], []])]
        [[0], [0], []]
    """
    if times is not None and len(times) != len(frames):
        raise ValueError(f"times has {len(times)} entries for {len(frames)} frames")
    tracker = PoseTracker(**kwargs)
    return [
        tracker.update(people, None if times is None else times[i])
        for i, people in enumerate(frames)
    ]
