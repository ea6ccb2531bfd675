"""The results file of a video: per frame its index, time and tracked people (PoseTrack style).

```text
{
  "format": "cgalib-video-v1",
  "video": {"file": "clip.mp4", "width": 320, "height": 240, "fps": 25.0,
            "num_frames": 75, "duration": 3.0, "codec": "h264",
            "rotation": 0, "mirrored": false},
  "annotated_video": "clip.mp4.poses.mp4", "annotated_codec": "libx264",
  "settings": {"every": 1, "max_frames": null, "input_size": [192, 192],
               "tracker": "PoseTracker(...)", "smoother": "PoseSmoother(...)"},
  "complete": true, "error": null,
  "frames": [
    {"index": 0, "time": 0.0, "people": [
      {"track_id": 0, "bbox": [x, y, w, h], "keypoints": [x1, y1, s1, ...],
       "scores": [s1, ...], "score": 0.83, "keypoints_raw": [...], "bbox_raw": [...],
       ...}]},
    ...]
}
```

``video.width`` and ``video.height`` are the displayed size: ``rotation`` (degrees
clockwise) and ``mirrored`` say how the stored frames were turned to be displayed (a
portrait phone video: 90), and every coordinate is in displayed pixels. A frame whose
size differs from the first's (a stream whose resolution changes midway) carries its own
``width`` and ``height``, its coordinates in its own pixels.
``settings.input_size`` is the model's input ``[H, W]`` (the letterbox side twice, or the
crop of a model that needs boxes). ``index`` is the frame's position in the video (frames skipped by ``every`` count),
``time`` its timestamp in seconds, ``scores`` the keypoint scores (PoseTrack's field; the
same numbers as the third of each ``keypoints`` triple). With smoothing on, ``keypoints``
and ``bbox`` are smoothed and ``keypoints_raw``/``bbox_raw`` are the model's. A run that
stopped early (a damaged file, an interrupt) writes ``"complete": false`` and the
``error``, with every frame processed before it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cgalib.utils.files import atomic_open

__all__ = ["RESULTS_FORMAT", "frame_record", "load_video_results", "save_video_results"]

RESULTS_FORMAT = "cgalib-video-v1"
"""The ``format`` field of a video results file."""


def frame_record(index: int, time: float, people: list[dict]) -> dict:
    """One entry of ``frames``: the people get PoseTrack's per-keypoint ``scores``.

    Args:
        index: the frame's position in the video.
        time: its timestamp in seconds.
        people: its tracked person dicts.

    Examples:
        >>> frame_record(3, 0.12, [{"track_id": 0, "keypoints": [1.0, 2.0, 0.5]}])
        {'index': 3, 'time': 0.12, 'people': [{'track_id': 0, 'keypoints': [1.0, 2.0, 0.5], 'scores': [0.5]}]}
    """
    return {
        "index": int(index),
        "time": float(time),
        "people": [{**p, "scores": list(p["keypoints"][2::3])} for p in people],
    }


def save_video_results(path: str | os.PathLike, results: dict) -> Path:
    """Write a results dict as JSON, atomically (a temporary file renamed over ``path``).

    Args:
        path: the JSON file; its folder is created.
        results: the dict (see the module docstring).

    Returns:
        ``path``.
    """
    path = Path(path)
    with atomic_open(path) as f:
        json.dump(results, f)
    return path


def load_video_results(path: str | os.PathLike) -> dict:
    """Read a results file written by [`predict_video()`][cgalib.video.predict_video].

    Args:
        path: the JSON file.

    Returns:
        The results dict (see the module docstring).

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: if it is not JSON or not a video results file, naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video results not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not JSON ({err}); is it a video results file?") from None
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path} is not a video results file (format {found!r}, expected "
                         f"{RESULTS_FORMAT!r})")  # fmt: skip
    return data
