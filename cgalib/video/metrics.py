"""How steady and how consistent tracked poses are: jitter, identity switches, smoothing lag.

All functions take per-frame lists of person dicts with a ``track_id`` (predictions from
[`PoseTracker`][cgalib.video.PoseTracker], or ground truth whose ``track_id`` is the identity),
frames being consecutive processed frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cgalib.utils.coco_meta import OKS_SIGMAS
from cgalib.video._deps import require
from cgalib.video._people import check_sigmas, people_arrays
from cgalib.video.similarity import oks_matrix

__all__ = ["TrackingScores", "keypoint_jitter", "smoothing_lag", "tracking_scores"]


def _tracks(
    frames: Sequence[Sequence[dict]], what: str
) -> dict[int, dict[int, tuple[np.ndarray, float]]]:
    """``{track_id: {frame: (keypoints (K, 3), box height)}}``."""
    out: dict[int, dict[int, tuple[np.ndarray, float]]] = {}
    for f, people in enumerate(frames):
        for i, person in enumerate(people):
            if "track_id" not in person:
                raise ValueError(f"{what}frame {f}, person {i}: no 'track_id'")
            k = len(person.get("keypoints", ())) // 3
            kps, boxes, _ = people_arrays([person], max(k, 1), f"{what}frame {f}")
            track = out.setdefault(int(person["track_id"]), {})
            if f in track:
                raise ValueError(f"{what}frame {f}: track_id {person['track_id']} appears twice")
            track[f] = (kps[0], float(boxes[0, 3]))
    return out


def keypoint_jitter(frames: Sequence[Sequence[dict]], min_score: float = 0.0) -> float:
    """Mean keypoint acceleration, in person heights per frame², over all tracks.

    For each track, keypoint and three consecutive frames in which the track appears and
    the keypoint has a score (or visibility) ``> 0`` and ``>= min_score``:
    ``|x[t+1] - 2 x[t] + x[t-1]| / h[t]``, with ``h`` the height of the track's ``bbox``.
    A still person predicted with noise of standard deviation ``sigma`` pixels per
    coordinate scores about ``3.07 sigma / h`` (``sqrt(6 pi / 2) sigma / h``); a smooth ground-truth path scores near 0.

    Args:
        frames: per frame, person dicts with ``track_id``, ``keypoints`` and ``bbox``.
        min_score: keypoints below it are left out (0.5 for ground truth flags 0/1/2
            keeps labelled keypoints; 0 keeps every predicted keypoint).

    Returns:
        The mean over every (track, frame, keypoint) sample.

    Raises:
        ValueError: when no track has a keypoint in three consecutive frames, or for a
            person without ``track_id``.

    Examples:
        >>> p = lambda x: {"track_id": 0, "bbox": [0, 0, 10, 10], "keypoints": [x, 0.0, 1.0]}
        >>> keypoint_jitter([[p(0.0)], [p(1.0)], [p(3.0)]])
        0.1
    """
    accel = []
    for track in _tracks(frames, "").values():
        for t in sorted(track):
            if t - 1 not in track or t + 1 not in track:
                continue
            (a, _), (b, h), (c, _) = track[t - 1], track[t], track[t + 1]
            if h <= 0:
                continue
            s = np.stack([a[:, 2], b[:, 2], c[:, 2]])
            ok = ((s > 0) & (s >= min_score)).all(0)
            acc = np.linalg.norm(c[ok, :2] - 2 * b[ok, :2] + a[ok, :2], axis=-1) / h
            accel.append(acc)
    values = np.concatenate(accel) if accel else np.zeros(0)
    if values.size == 0:
        raise ValueError(
            "keypoint_jitter needs a track with a keypoint in three consecutive frames; none "
            f"found (min_score={min_score})"
        )
    return float(values.mean())


@dataclass(frozen=True)
class TrackingScores:
    """Tracking quality against ground-truth identities (CLEAR MOT and identity scores).

    Attributes:
        num_gt: ground-truth people summed over frames.
        num_predictions: predicted people summed over frames.
        matches: predictions matched to a ground-truth person (OKS >= ``min_oks``).
        misses: ground-truth people left unmatched (false negatives).
        false_positives: predictions left unmatched.
        id_switches: times a ground-truth identity is matched to another ``track_id`` than
            at its previous match.
        mota: ``1 - (misses + false_positives + id_switches) / num_gt``.
        idp: identity precision, ``IDTP / num_predictions``: the fraction of predictions
            whose track is the one assigned (one to one, over the whole clip) to the
            identity they match.
        idr: identity recall, ``IDTP / num_gt``.
        idf1: ``2 IDTP / (num_gt + num_predictions)``.
    """

    num_gt: int
    num_predictions: int
    matches: int
    misses: int
    false_positives: int
    id_switches: int
    mota: float
    idp: float
    idr: float
    idf1: float


def tracking_scores(
    predictions: Sequence[Sequence[dict]],
    ground_truth: Sequence[Sequence[dict]],
    sigmas: Sequence[float] = OKS_SIGMAS,
    min_oks: float = 0.5,
) -> TrackingScores:
    """Count identity switches and score identity precision against ground truth.

    In each frame, predictions are matched one to one to the ground-truth people by an
    optimal assignment on OKS (ground-truth keypoints with flag ``> 0`` count; the scale
    is the person's ``area``, or its box area without one); pairs below ``min_oks`` stay
    unmatched. The identity scores (IDP, IDR, IDF1; Ristani et al. 2016) then assign
    tracks to identities one to one over the clip so as to keep the most matches.

    Args:
        predictions: per frame, predicted people with ``track_id``, ``keypoints``,
            ``bbox``.
        ground_truth: per frame, true people with ``track_id`` (the identity),
            ``keypoints`` (``[x, y, v] * K``), ``bbox`` and optionally ``area``.
        sigmas: `(K,)` OKS constants of the keypoint set.
        min_oks: the least OKS of a match.

    Returns:
        A [`TrackingScores`][TrackingScores].

    Raises:
        ValueError: when the two sequences differ in length, or for a malformed person.
    """
    if len(predictions) != len(ground_truth):
        raise ValueError(
            f"predictions have {len(predictions)} frames, the ground truth {len(ground_truth)}"
        )
    sig = check_sigmas(sigmas)
    lsa = require("scipy.optimize", "tracking_scores").linear_sum_assignment
    last: dict[int, int] = {}  # identity -> the track it was last matched to
    pairs: dict[tuple[int, int], int] = {}
    n_gt = n_pred = n_match = switches = 0
    for f, (pred, gt) in enumerate(zip(predictions, ground_truth)):
        pk, _, _ = people_arrays(pred, sig.size, f"predictions frame {f}")
        gk, gb, _ = people_arrays(gt, sig.size, f"ground truth frame {f}")
        n_gt, n_pred = n_gt + len(gt), n_pred + len(pred)
        if not len(gt) or not len(pred):
            continue
        areas = np.array([p.get("area", b[2] * b[3]) for p, b in zip(gt, gb)], float)
        oks = oks_matrix(gk, pk, areas, sig, gk[..., 2] > 0)
        rows, cols = lsa(-oks)
        for r, c in zip(rows, cols):
            if oks[r, c] < min_oks:
                continue
            identity, track = int(gt[r]["track_id"]), int(pred[c]["track_id"])
            n_match += 1
            switches += int(identity in last and last[identity] != track)
            last[identity] = track
            pairs[identity, track] = pairs.get((identity, track), 0) + 1
    idtp = 0
    if pairs:
        ids = sorted({i for i, _ in pairs})
        tracks = sorted({t for _, t in pairs})
        counts = np.zeros((len(ids), len(tracks)))
        for (i, t), n in pairs.items():
            counts[ids.index(i), tracks.index(t)] = n
        rows, cols = lsa(-counts)
        idtp = int(counts[rows, cols].sum())
    misses, fps = n_gt - n_match, n_pred - n_match
    return TrackingScores(
        num_gt=n_gt,
        num_predictions=n_pred,
        matches=n_match,
        misses=misses,
        false_positives=fps,
        id_switches=switches,
        mota=1.0 - (misses + fps + switches) / n_gt if n_gt else float("nan"),
        idp=idtp / n_pred if n_pred else float("nan"),
        idr=idtp / n_gt if n_gt else float("nan"),
        idf1=2 * idtp / (n_gt + n_pred) if n_gt + n_pred else float("nan"),
    )


def smoothing_lag(
    smoothed: Sequence[Sequence[dict]],
    reference: Sequence[Sequence[dict]],
    max_lag: float = 10.0,
    resolution: float = 0.1,
    min_score: float = 0.0,
) -> float:
    """How many frames the smoothed keypoints trail the reference ones.

    The lag is the shift ``s`` (in frames, linear interpolation between frames) that
    minimises the mean distance between ``smoothed[t]`` and ``reference[t - s]`` over every
    track present in both (same ``track_id``) and keypoint scored ``>= min_score`` in
    both. The reference is usually the unsmoothed input or the true path.

    Args:
        smoothed: per frame, smoothed people with ``track_id``.
        reference: per frame, the reference people with the same ``track_id``.
        max_lag: the largest shift searched, in frames.
        resolution: the step of the search, in frames.
        min_score: keypoints below it in either sequence are left out.

    Returns:
        The lag in frames (0 for no lag; the search covers ``[0, max_lag]``).

    Raises:
        ValueError: when the sequences differ in length, or no track runs for more than
            ``max_lag + 1`` consecutive frames in both.
    """
    if len(smoothed) != len(reference):
        raise ValueError(f"smoothed has {len(smoothed)} frames, reference {len(reference)}")
    sm, ref = _tracks(smoothed, "smoothed "), _tracks(reference, "reference ")
    span = int(np.ceil(max_lag)) + 1
    segments = []  # (smoothed (T, K, 3), reference (T, K, 3)) over consecutive frames
    for tid in sm.keys() & ref.keys():
        frames = sorted(sm[tid].keys() & ref[tid].keys())
        runs = np.split(frames, np.flatnonzero(np.diff(frames) != 1) + 1) if frames else []
        for run in runs:
            if len(run) > span:
                segments.append((np.stack([sm[tid][f][0] for f in run]),
                                 np.stack([ref[tid][f][0] for f in run])))  # fmt: skip
    if not segments:
        raise ValueError(
            f"smoothing_lag needs a track present in both sequences for more than {span} "
            "consecutive frames; none found"
        )
    shifts = np.arange(0.0, max_lag + resolution / 2, resolution)
    errors = np.zeros(len(shifts))
    for j, s in enumerate(shifts):
        total, count = 0.0, 0
        for a, b in segments:
            t = np.arange(span, len(a))
            i0 = np.floor(t - s).astype(int)
            w = ((t - s) - i0)[:, None, None]
            shifted = (1 - w) * b[i0] + w * b[np.minimum(i0 + 1, len(b) - 1)]
            ok = (a[t, :, 2] >= min_score) & (b[i0, :, 2] >= min_score)
            d = np.linalg.norm(a[t, :, :2] - shifted[..., :2], axis=-1)
            total, count = total + d[ok].sum(), count + ok.sum()
        errors[j] = total / max(count, 1)
    return float(shifts[int(np.argmin(errors))])
