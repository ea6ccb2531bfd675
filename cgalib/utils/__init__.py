"""Small utilities shared by the CLI, benchmarks and docs."""

from cgalib.utils.complexity import count_macs, count_parameters
from cgalib.utils.image import ImageInput, read_image, to_rgb_tensor

__all__ = ["ImageInput", "count_macs", "count_parameters", "read_image", "to_rgb_tensor"]
