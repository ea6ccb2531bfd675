"""Lists of numbers read from JSON, checked in one vectorised pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["is_integer", "is_number", "number_rows"]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), ``bool`` excluded.

    Examples:
        >>> is_integer(3), is_integer(3.0), is_integer(True), is_integer("3")
        (True, False, False, False)
    """
    if type(value) is int:  # the common case first: validators call this per annotation
        return True
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or numpy), ``bool`` excluded.

    Examples:
        >>> is_number(3), is_number(float("nan")), is_number(None), is_number("3")
        (True, True, False, False)
    """
    if type(value) is float or type(value) is int:
        return True
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def number_rows(rows: Sequence[Sequence[Any]], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``width`` values as a float64 matrix, and which rows are not all finite numbers.

    One ``np.array`` call converts lists of Python numbers (150,000 rows of 51 in about a
    quarter of a second); rows with anything else (``None``, strings, nested lists) take a
    slower path where each such value becomes NaN. Numeric strings are not numbers here.

    Args:
        rows: the rows, each of length ``width`` (the caller checks the lengths).
        width: the number of values per row.

    Returns:
        ``(values, bad)``: values `(N, width)` float64, NaN where a value is not a number,
        and bad `(N,)` bool, true for rows with a NaN, an infinity or a non-number.

    Examples:
        >>> values, bad = number_rows([[1, 2.5], [float("nan"), 0], ["3", 4]], 2)
        >>> values.shape, bad.tolist()
        ((3, 2), [False, True, True])
    """
    if not len(rows):
        return np.zeros((0, width)), np.zeros(0, dtype=bool)
    try:
        array = np.array(rows)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is None or array.dtype.kind not in "iuf" or array.shape != (len(rows), width):
        array = np.array(
            [[float(v) if is_number(v) else np.nan for v in row] for row in rows], np.float64
        )
    values = array.astype(np.float64, copy=False)
    return values, ~np.isfinite(values).all(axis=1)
