"""Deprecated: the training targets now live in [`cgalib.codecs`][cgalib.codecs], beside their decoders.

``from cgalib.targets import build_targets`` still works, with a ``DeprecationWarning``
naming the new import.
"""

from cgalib.utils.deprecation import moved_names

__all__: list[str] = []

__getattr__ = moved_names(
    "cgalib.targets",
    {
        name: "cgalib.codecs"
        for name in (
            "build_targets",
            "center_line_heatmaps",
            "center_radius",
            "center_targets",
            "decode_roi_heatmaps",
            "draw_gaussian",
            "image_to_roi_heatmap",
            "roi_heatmap_to_image",
            "roi_keypoint_targets",
        )
    },
)
