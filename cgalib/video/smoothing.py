"""Steady keypoints: the One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) per track.

The One-Euro filter is an exponential smoother whose cutoff frequency rises with speed:
still keypoints are smoothed hard (no jitter), fast ones lightly (little lag). With
``dt`` the time since the last sample:

```text
alpha(f) = 1 / (1 + 1 / (2 pi f dt))         the smoothing factor of cutoff f (Hz)
dx_hat   = alpha(d_cutoff) (x - x_hat_prev) / dt + (1 - alpha(d_cutoff)) dx_hat_prev
cutoff   = min_cutoff + beta |dx_hat| / speed_scale
x_hat    = alpha(cutoff) x + (1 - alpha(cutoff)) x_hat_prev
```

``dt`` comes from the frame times, not from a fixed rate, so skipped frames and
variable-frame-rate video are filtered correctly. [`PoseSmoother`][PoseSmoother] runs one filter
per track over its keypoints and box, measures speed in person heights per second (so
the same ``beta`` suits small and large people), and lets low-score keypoints pass
through unfiltered without updating the filter: an occluded or missed keypoint does not
drag the smoothed position, and the filter resumes from its last confident state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from cgalib.video._people import people_arrays

__all__ = ["OneEuroFilter", "PoseSmoother", "smooth_poses"]


def _alpha(cutoff: np.ndarray | float, dt: np.ndarray) -> np.ndarray:
    """The smoothing factor of a first-order low-pass at ``cutoff`` Hz for steps of ``dt`` s."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff) * dt))


class OneEuroFilter:
    """The One-Euro filter over an array of independent signals sampled together.

    Args:
        min_cutoff: cutoff frequency (Hz) at rest. Lower: steadier still points, more lag.
        beta: how fast the cutoff rises with speed (Hz per unit of speed, speed being the
            derivative divided by ``speed_scale``). Higher: less lag on fast motion.
        d_cutoff: cutoff frequency (Hz) of the derivative's own low-pass (1 Hz, as in the
            paper).

    The first sample of each element passes through and initialises it.

    Examples:
        >>> f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
        >>> [round(float(f(np.array([x]), t)[0]), 3) for t, x in enumerate([0.0, 1.0, 1.0])]
        [0.0, 0.863, 0.981]
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(
                f"OneEuroFilter needs min_cutoff > 0, d_cutoff > 0 and beta >= 0; got "
                f"min_cutoff={min_cutoff}, d_cutoff={d_cutoff}, beta={beta}"
            )
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None  # the filtered value
        self._dx: np.ndarray | None = None  # the filtered derivative
        self._t: np.ndarray | None = None  # each element's last update time
        self._seen: np.ndarray | None = None
        self._last_time: float | None = None

    def __call__(
        self,
        x: np.ndarray,
        time: float,
        update: np.ndarray | None = None,
        speed_scale: float | np.ndarray = 1.0,
    ) -> np.ndarray:
        """Filter one sample.

        Args:
            x: the sample, any shape (the same at every call).
            time: its time in seconds, after the previous call's.
            update: bool, like ``x``: where ``False`` the input passes through unchanged and
                the element's state (value, derivative, time) is left as it was.
            speed_scale: the derivative is divided by it before it raises the cutoff
                (e.g. the person's height, for speeds in heights per second).

        Returns:
            The filtered sample, like ``x``.

        Raises:
            ValueError: for another shape than before, or a time not after the last one.
        """
        x = np.asarray(x, dtype=float)
        upd = np.ones(x.shape, bool) if update is None else np.asarray(update, bool)
        if self._x is None:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            self._t, self._seen = np.zeros_like(x), np.zeros(x.shape, bool)
        if x.shape != self._x.shape or upd.shape != x.shape:
            raise ValueError(
                f"OneEuroFilter was started on shape {self._x.shape}; got x {x.shape}, "
                f"update {upd.shape}"
            )
        if self._last_time is not None and time <= self._last_time:
            raise ValueError(f"times must increase: {time} after {self._last_time}")
        self._last_time = float(time)
        out = x.copy()
        first = upd & ~self._seen
        step = upd & self._seen
        self._x[first], self._dx[first], self._t[first] = x[first], 0.0, time
        self._seen |= first
        if step.any():
            dt = time - self._t[step]
            scale = np.broadcast_to(np.asarray(speed_scale, float), x.shape)[step]
            dx = (x[step] - self._x[step]) / dt
            a_d = _alpha(self.d_cutoff, dt)
            self._dx[step] = a_d * dx + (1 - a_d) * self._dx[step]
            cutoff = self.min_cutoff + self.beta * np.abs(self._dx[step]) / np.maximum(scale, 1e-9)
            a = _alpha(cutoff, dt)
            self._x[step] = a * x[step] + (1 - a) * self._x[step]
            self._t[step] = time
            out[step] = self._x[step]
        return out

    def __repr__(self) -> str:
        return (
            f"OneEuroFilter(min_cutoff={self.min_cutoff}, beta={self.beta}, "
            f"d_cutoff={self.d_cutoff})"
        )


class PoseSmoother:
    """One-Euro filters per track over keypoints and boxes: one [`update()`][update] per frame.

    Args:
        min_cutoff: cutoff (Hz) at rest; see [`OneEuroFilter`][OneEuroFilter].
        beta: cutoff rise in Hz per person height per second of keypoint speed.
        d_cutoff: cutoff (Hz) of the speed estimate.
        keypoint_threshold: keypoints with a lower score pass through unfiltered and leave
            their filter as it was (they do not drag it).
        smooth_boxes: filter the ``bbox`` too.

    Each output person is a copy with the filtered ``keypoints`` (scores unchanged) and
    ``bbox``, and the unfiltered ones kept as ``keypoints_raw`` and ``bbox_raw``. A person
    that already has ``keypoints_raw``/``bbox_raw`` (a smoothed result read back) is
    smoothed from those, so results can be re-smoothed with other settings.

    Examples:
        >>> smoother = PoseSmoother()
        >>> p = {"track_id": 0, "bbox": [0, 0, 10, 20], "keypoints": [5.0, 5.0, 1.0] * 17}
        >>> out = smoother.update([p], time=0.0)
        >>> out[0]["keypoints"][:3], "keypoints_raw" in out[0]
        ([5.0, 5.0, 1.0], True)
    """

    def __init__(
        self,
        min_cutoff: float = 1.0,
        beta: float = 1.0,
        d_cutoff: float = 1.0,
        keypoint_threshold: float = 0.2,
        smooth_boxes: bool = True,
    ) -> None:
        OneEuroFilter(min_cutoff, beta, d_cutoff)  # validates the numbers
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.keypoint_threshold = keypoint_threshold
        self.smooth_boxes = smooth_boxes
        self._filters: dict[int, OneEuroFilter] = {}
        self._frame = 0

    @property
    def frames_seen(self) -> int:
        """Frames given to [`update()`][update] so far (0 for a fresh one)."""
        return self._frame

    def update(self, people: Sequence[dict], time: float) -> list[dict]:
        """Smooth one frame's tracked people.

        Args:
            people: person dicts with a ``track_id`` (from [`PoseTracker`][PoseTracker]).
            time: the frame's time in seconds.

        Returns:
            Copies of the people, smoothed (see the class docstring).

        Raises:
            ValueError: for a person without ``track_id``, a malformed person, a track whose
                keypoint count changed, or a time not after the previous frame's.
        """
        where = f"frame {self._frame}"
        out = []
        for i, person in enumerate(people):
            if "track_id" not in person:
                raise ValueError(
                    f"{where}, person {i}: no 'track_id'; track the people first "
                    "(cgalib.video.PoseTracker)"
                )
            raw = {
                "keypoints": person.get("keypoints_raw", person.get("keypoints", ())),
                "bbox": person.get("bbox_raw", person.get("bbox", ())),
            }
            k = len(raw["keypoints"]) // 3
            kps, boxes, _ = people_arrays([raw], max(k, 1), f"{where}, track {person['track_id']}")
            kps, box = kps[0], boxes[0]
            flt = self._filters.setdefault(
                person["track_id"], OneEuroFilter(self.min_cutoff, self.beta, self.d_cutoff)
            )
            x = np.concatenate([kps[:, :2].reshape(-1), box])
            upd = np.concatenate([np.repeat(kps[:, 2] >= self.keypoint_threshold, 2),
                                  np.full(4, self.smooth_boxes)])  # fmt: skip
            try:
                y = flt(x, time, upd, speed_scale=max(box[3], 1.0))
            except ValueError as err:
                raise ValueError(f"{where}, track {person['track_id']}: {err}") from None
            smoothed = kps.copy()
            smoothed[:, :2] = y[: 2 * k].reshape(k, 2)
            out.append({
                **person,
                "keypoints": smoothed.reshape(-1).tolist(),
                "bbox": y[2 * k :].tolist(),
                "keypoints_raw": list(raw["keypoints"]),
                "bbox_raw": list(raw["bbox"]),
            })  # fmt: skip
        self._frame += 1
        return out

    def __repr__(self) -> str:
        return (
            f"PoseSmoother(min_cutoff={self.min_cutoff}, beta={self.beta}, "
            f"d_cutoff={self.d_cutoff}, keypoint_threshold={self.keypoint_threshold})"
        )


def smooth_poses(
    frames: Sequence[Sequence[dict]], times: Sequence[float], **kwargs: Any
) -> list[list[dict]]:
    """Smooth tracked people over a whole sequence: [`PoseSmoother`][PoseSmoother] frame by frame.

    Args:
        frames: per frame, its tracked person dicts (with ``track_id``).
        times: per frame, its time in seconds (increasing).
        **kwargs: [`PoseSmoother`][PoseSmoother] arguments (``min_cutoff``, ``beta``, ...).

    Returns:
        Per frame, the smoothed copies.

    Raises:
        ValueError: when ``times`` and ``frames`` differ in length, or as
            [`PoseSmoother.update()`][PoseSmoother.update].
    """
    if len(times) != len(frames):
        raise ValueError(f"times has {len(times)} entries for {len(frames)} frames")
    smoother = PoseSmoother(**kwargs)
    return [smoother.update(people, t) for people, t in zip(frames, times)]
