"""Shared helpers of every layer: image input, devices, atomic files, progress bars,
precisions, keypoint sets (and the metainfo files of published ones) and the COCO
constants, model size, checks of numbers read from JSON, stable orderings, the blocks
that scripts write into pages, stage timings, output folders and stop signals. Nothing
here imports another cgalib package."""

from cgalib.utils.complexity import count_macs, count_parameters
from cgalib.utils.dataset_info import keypoint_set_from_dataset_info, read_dataset_info
from cgalib.utils.device import resolve_device
from cgalib.utils.doc_blocks import (
    block_content,
    block_markers,
    check_block,
    page_with_block,
    replace_block,
    write_block,
)
from cgalib.utils.files import atomic_open
from cgalib.utils.image import (
    ImageInput,
    check_image_path,
    frame_count,
    read_frames,
    read_image,
    resize_image,
    to_float_image,
    to_rgb_tensor,
)
from cgalib.utils.keypoint_set import (
    DEFAULT_OKS_SIGMA,
    KeypointSet,
    KeypointSetError,
    KeypointSetWarning,
)
from cgalib.utils.machine import (
    cpu_bf16,
    cpu_cores,
    cpu_name,
    data_workers,
    machine_description,
)
from cgalib.utils.numbers import is_integer, is_number, number_rows
from cgalib.utils.ordering import stable_topk
from cgalib.utils.outputs import (
    OutputError,
    RunLock,
    check_not_an_input,
    check_writable,
    is_inside,
)
from cgalib.utils.precision import PRECISIONS, Precision, autocast, precision_dtype
from cgalib.utils.profiling import StageTimes, stage, stage_seconds
from cgalib.utils.progress import ProgressBar, progress
from cgalib.utils.signals import (
    STOP_SIGNALS,
    Interrupted,
    StopRequest,
    die_with_parent,
    interrupt_on_signals,
    stop_requests,
)

__all__ = [
    "cpu_bf16",
    "cpu_cores",
    "cpu_name",
    "data_workers",
    "machine_description",
    "DEFAULT_OKS_SIGMA",
    "PRECISIONS",
    "STOP_SIGNALS",
    "ImageInput",
    "Interrupted",
    "KeypointSet",
    "KeypointSetError",
    "KeypointSetWarning",
    "OutputError",
    "Precision",
    "ProgressBar",
    "RunLock",
    "StageTimes",
    "StopRequest",
    "atomic_open",
    "autocast",
    "block_content",
    "block_markers",
    "check_block",
    "check_image_path",
    "check_not_an_input",
    "check_writable",
    "count_macs",
    "count_parameters",
    "die_with_parent",
    "frame_count",
    "interrupt_on_signals",
    "is_inside",
    "is_integer",
    "is_number",
    "keypoint_set_from_dataset_info",
    "number_rows",
    "page_with_block",
    "stable_topk",
    "precision_dtype",
    "progress",
    "read_dataset_info",
    "read_frames",
    "read_image",
    "replace_block",
    "resize_image",
    "resolve_device",
    "stage",
    "stage_seconds",
    "stop_requests",
    "to_float_image",
    "to_rgb_tensor",
    "write_block",
]
