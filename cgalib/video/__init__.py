"""Video: decode and encode with PyAV, track people across frames, smooth their keypoints.

The parts work on their own: [`PoseTracker`][PoseTracker] and [`PoseSmoother`][PoseSmoother] take any
per-frame lists of COCO-style person dicts (``bbox`` xywh, flat ``keypoints``,
``score``), with or without the [`Predictor`][cgalib.Predictor]; [`predict_video()`][predict_video] joins
them for a video file. [`keypoint_jitter()`][keypoint_jitter], [`tracking_scores()`][tracking_scores] and
[`smoothing_lag()`][smoothing_lag] measure the outcome, on real clips or on [`synthetic_clip()`][synthetic_clip].

Reading and writing video needs PyAV and tracking needs SciPy: ``pip install
cgalib[video]``. Both are imported on first use, so this package imports without them.
"""

from cgalib.video.metrics import TrackingScores, keypoint_jitter, smoothing_lag, tracking_scores
from cgalib.video.pipeline import output_paths, predict_video
from cgalib.video.reader import VideoFrame, VideoInfo, VideoReader, VideoReadError
from cgalib.video.render import TRACK_COLORS, draw_tracks
from cgalib.video.results import (
    RESULTS_FORMAT,
    frame_record,
    load_video_results,
    save_video_results,
)
from cgalib.video.similarity import box_iou_matrix, oks_matrix
from cgalib.video.smoothing import OneEuroFilter, PoseSmoother, smooth_poses
from cgalib.video.synthetic_clip import SyntheticClip, synthetic_clip
from cgalib.video.tracking import PoseTracker, track_poses
from cgalib.video.writer import VIDEO_CODECS, VideoWriter, best_video_codec

__all__ = [
    "RESULTS_FORMAT",
    "TRACK_COLORS",
    "VIDEO_CODECS",
    "OneEuroFilter",
    "PoseSmoother",
    "PoseTracker",
    "SyntheticClip",
    "TrackingScores",
    "VideoFrame",
    "VideoInfo",
    "VideoReadError",
    "VideoReader",
    "VideoWriter",
    "best_video_codec",
    "box_iou_matrix",
    "draw_tracks",
    "frame_record",
    "keypoint_jitter",
    "load_video_results",
    "oks_matrix",
    "output_paths",
    "predict_video",
    "save_video_results",
    "smooth_poses",
    "smoothing_lag",
    "synthetic_clip",
    "track_poses",
    "tracking_scores",
]
