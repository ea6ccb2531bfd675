"""How steady and how consistent tracked poses are: jitter, CLEAR-MOT and IDF1, smoothing lag.

All functions take per-frame lists of person dicts with a ``track_id`` (predictions from
[`PoseTracker`][cgalib.video.PoseTracker], or ground truth whose ``track_id`` is the identity),
frames being consecutive processed frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cgalib.utils.coco_meta import OKS_SIGMAS
from cgalib.video._assignment import min_cost_matching
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
    """Tracking quality against ground-truth identities: CLEAR-MOT and identity scores.

    The conventions are py-motmetrics' (a differential test holds them equal): CLEAR-MOT of
    Bernardin and Stiefelhagen (2008) and the identity scores of Ristani et al. (2016), on
    the distance ``1 - OKS`` gated at ``1 - min_oks``.

    Attributes:
        num_gt: ground-truth people summed over frames (motmetrics' ``num_objects``).
        num_predictions: predicted people summed over frames.
        matches: ground-truth people matched to a prediction, identity switches included
            (motmetrics' ``num_detections``; its ``num_matches`` leaves the switches out).
        misses: ground-truth people left unmatched (false negatives).
        false_positives: predictions left unmatched.
        id_switches: matches of an identity to another ``track_id`` than at its latest
            earlier match.
        fragmentations: times a matched identity goes unmatched while still in the ground
            truth, counted between its first and its last match.
        mota: ``1 - (misses + false_positives + id_switches) / num_gt``.
        motp: the mean distance ``1 - OKS`` of the matches (lower is better; NaN without a
            match).
        idp: identity precision, ``IDTP / num_predictions``. ``IDTP`` is the number of frames
            in which a ground-truth person and a prediction are within the gate, summed over
            the one-to-one pairing of identities with tracks (over the whole clip) that makes
            it largest.
        idr: identity recall, ``IDTP / num_gt``.
        idf1: ``2 IDTP / (num_gt + num_predictions)``.
    """

    num_gt: int
    num_predictions: int
    matches: int
    misses: int
    false_positives: int
    id_switches: int
    fragmentations: int
    mota: float
    motp: float
    idp: float
    idr: float
    idf1: float


def _ratio(num: float, den: float) -> float:
    """``num / den``, with py-motmetrics' ``0 / 0 = nan`` and ``x / 0 = inf``."""
    if den:
        return num / den
    return float("inf") if num else float("nan")


def _ids(people: Sequence[dict], what: str) -> np.ndarray:
    """The frame's ``track_id`` values, `(N,)` int; a missing or repeated one is an error."""
    for i, person in enumerate(people):
        if "track_id" not in person:
            raise ValueError(f"{what}, person {i}: no 'track_id'")
    ids = [int(person["track_id"]) for person in people]
    for t in ids:
        if ids.count(t) > 1:
            raise ValueError(f"{what}: track_id {t} appears twice")
    return np.asarray(ids, dtype=int).reshape(-1)


def _clear_mot(
    frames: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> TrackingScores:
    """CLEAR-MOT and identity scores of per-frame ``(gt ids (N,), track ids (M,),
    distances (N, M))``, distances NaN beyond the gate."""
    latest: dict[int, int] = {}  # identity -> the track of its latest match
    within: dict[tuple[int, int], int] = {}  # (identity, track) -> frames within the gate
    matched: dict[int, list[bool]] = {}  # identity -> matched or not, per frame it is in
    n_gt = n_pred = n_match = switches = 0
    total_distance = 0.0
    for gt_ids, track_ids, dist in frames:
        n_gt, n_pred = n_gt + len(gt_ids), n_pred + len(track_ids)
        for i, j in zip(*np.nonzero(np.isfinite(dist))):
            key = (int(gt_ids[i]), int(track_ids[j]))
            within[key] = within.get(key, 0) + 1
        pairs: list[tuple[int, int]] = []
        if dist.size:
            free_gt = np.ones(len(gt_ids), bool)
            free_tr = np.ones(len(track_ids), bool)
            column = {int(t): j for j, t in enumerate(track_ids)}
            for i, identity in enumerate(gt_ids.tolist()):  # 1. keep the latest matches
                j = column.get(latest[identity]) if identity in latest else None
                if j is not None and free_tr[j] and np.isfinite(dist[i, j]):
                    free_gt[i] = free_tr[j] = False
                    pairs.append((i, j))
            rest = dist.copy()  # 2. assign the others: most pairs, then least distance
            rest[~free_gt] = np.nan
            rest[:, ~free_tr] = np.nan
            for i, j in zip(*min_cost_matching(rest, "tracking_scores")):
                identity, track = int(gt_ids[i]), int(track_ids[j])
                switches += int(identity in latest and latest[identity] != track)
                latest[identity] = track
                pairs.append((int(i), int(j)))
        hit = np.zeros(len(gt_ids), bool)
        for i, j in pairs:
            hit[i] = True
            total_distance += float(dist[i, j])
        n_match += len(pairs)
        for identity, h in zip(gt_ids.tolist(), hit.tolist()):
            matched.setdefault(identity, []).append(h)
    fragmentations = 0
    for states in matched.values():
        on = np.flatnonzero(states)
        if on.size:
            span = np.asarray(states[on[0] : on[-1] + 1])
            fragmentations += int((span[:-1] & ~span[1:]).sum())
    idtp = 0
    if within:
        ids = sorted({i for i, _ in within})
        tracks = sorted({t for _, t in within})
        counts = np.zeros((len(ids), len(tracks)))
        for (i, t), n in within.items():
            counts[ids.index(i), tracks.index(t)] = n
        rows, cols = min_cost_matching(-counts, "tracking_scores")
        idtp = int(counts[rows, cols].sum())
    misses, fps = n_gt - n_match, n_pred - n_match
    return TrackingScores(
        num_gt=n_gt,
        num_predictions=n_pred,
        matches=n_match,
        misses=misses,
        false_positives=fps,
        id_switches=switches,
        fragmentations=fragmentations,
        mota=1.0 - _ratio(misses + fps + switches, n_gt),
        motp=_ratio(total_distance, n_match),
        idp=_ratio(idtp, n_pred),
        idr=_ratio(idtp, n_gt),
        idf1=_ratio(2 * idtp, n_gt + n_pred),
    )


def tracking_scores(
    predictions: Sequence[Sequence[dict]],
    ground_truth: Sequence[Sequence[dict]],
    sigmas: Sequence[float] = OKS_SIGMAS,
    min_oks: float = 0.5,
) -> TrackingScores:
    """CLEAR-MOT (MOTA, MOTP, identity switches) and IDF1 of tracked poses, as py-motmetrics.

    The distance of a ground-truth person and a prediction is ``1 - OKS`` (ground-truth
    keypoints with flag ``> 0`` count; the scale is the person's ``area``, or its box area
    without one), and a pair farther than ``1 - min_oks`` (OKS below ``min_oks``) can never
    be matched. Each frame, following CLEAR-MOT (Bernardin and Stiefelhagen 2008):

    1. a ground-truth person keeps the track of its latest match (in any earlier frame)
       when that track is in the frame and within the gate, even if another pairing
       would be closer;
    2. the others are matched by a minimum-cost assignment among the pairs within the
       gate: the most pairs, then the least total distance (the gate comes before the
       assignment, so a close pair never pushes a person out of the matching);
    3. a match of an identity to another track than at its latest match is an identity
       switch; ground-truth people left over are misses, predictions left over false
       positives.

    The identity scores (IDP, IDR, IDF1; Ristani et al. 2016) pair identities with tracks
    one to one over the whole clip so as to cover the most frames in which the two are
    within the gate, whether or not that frame matched them. These are py-motmetrics'
    conventions (``MOTAccumulator`` fed ``1 - OKS`` with NaN beyond the gate, its SciPy
    solver); the test suite checks every score against it.

    Args:
        predictions: per frame, predicted people with ``track_id``, ``keypoints``,
            ``bbox``.
        ground_truth: per frame, true people with ``track_id`` (the identity),
            ``keypoints`` (``[x, y, v] * K``), ``bbox`` and optionally ``area``.
        sigmas: `(K,)` OKS constants of the keypoint set.
        min_oks: the least OKS of a match, in ``[0, 1]``.

    Returns:
        A [`TrackingScores`][TrackingScores]. As in py-motmetrics a ratio over zero is
        NaN for ``0 / 0`` and infinite otherwise (MOTA is ``-inf`` for false positives in
        a clip without ground truth).

    Raises:
        ValueError: when the two sequences differ in length, ``min_oks`` is outside
            ``[0, 1]``, or for a malformed person, one without ``track_id``, or a
            ``track_id`` twice in a frame.

    Examples:
        >>> p = lambda t, x: {"track_id": t, "bbox": [x, 0, 10, 10], "keypoints": [x, 0.0, 2]}
        >>> truth = [[p(0, 0.0)], [p(0, 1.0)], [p(0, 2.0)]]
        >>> s = tracking_scores([[p(7, 0.0)], [p(7, 1.0)], []], truth, sigmas=[0.5])
        >>> s.matches, s.misses, s.id_switches, round(s.mota, 3), round(s.idf1, 3)
        (2, 1, 0, 0.667, 0.8)
    """
    if len(predictions) != len(ground_truth):
        raise ValueError(
            f"predictions have {len(predictions)} frames, the ground truth {len(ground_truth)}"
        )
    if not 0.0 <= min_oks <= 1.0:
        raise ValueError(f"min_oks must be within [0, 1], got {min_oks}")
    sig = check_sigmas(sigmas)
    max_distance = 1.0 - min_oks
    frames = []
    for f, (pred, gt) in enumerate(zip(predictions, ground_truth)):
        pk, _, _ = people_arrays(pred, sig.size, f"predictions frame {f}")
        gk, gb, _ = people_arrays(gt, sig.size, f"ground truth frame {f}")
        gt_ids = _ids(gt, f"ground truth frame {f}")
        track_ids = _ids(pred, f"predictions frame {f}")
        areas = np.array([p.get("area", b[2] * b[3]) for p, b in zip(gt, gb)], float)
        dist = 1.0 - oks_matrix(gk, pk, areas, sig, gk[..., 2] > 0)
        dist[dist > max_distance] = np.nan
        frames.append((gt_ids, track_ids, dist))
    return _clear_mot(frames)


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
