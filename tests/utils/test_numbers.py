import math

import numpy as np
import pytest

from cgalib.utils.numbers import is_integer, is_number, number_rows


def test_integers_and_numbers_exclude_bools_and_strings():
    assert is_integer(np.int64(3)) and not is_integer(True) and not is_integer(2.0)
    assert is_number(np.float32(1.5)) and not is_number(False) and not is_number("1.5")


@pytest.mark.parametrize(
    ("rows", "bad"),
    [
        ([[1, 2], [3, 4.5]], [False, False]),
        ([[1, math.inf], [3, 4]], [True, False]),
        ([[1, 2], [None, 4]], [False, True]),
        ([[1, 2], ["3", 4]], [False, True]),  # numeric strings are not numbers
        ([[[1], 2], [3, 4]], [True, False]),
        ([[10**30, 2]], [False]),  # too big for int64, still a finite number
    ],
)
def test_number_rows_flags_rows_that_are_not_all_finite_numbers(rows, bad):
    values, flagged = number_rows(rows, 2)
    assert values.shape == (len(rows), 2) and values.dtype == np.float64
    assert flagged.tolist() == bad


def test_no_rows():
    values, flagged = number_rows([], 51)
    assert values.shape == (0, 51) and flagged.shape == (0,)
