"""Small utilities shared by the CLI, benchmarks and docs."""

from cgalib.utils.complexity import count_macs, count_parameters

__all__ = ["count_macs", "count_parameters"]
