"""moved_names: a module __getattr__ that forwards names that moved, with a warning."""

from __future__ import annotations

import math
import warnings

import pytest

from cgalib.utils.deprecation import moved_names


def test_a_moved_name_is_served_from_its_new_home_with_a_warning():
    getattr_ = moved_names("pkg.old", {"sqrt": "math", "pi": "math"})
    with pytest.warns(DeprecationWarning, match=r"^pkg\.old\.sqrt moved: import it from math$"):
        assert getattr_("sqrt") is math.sqrt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert getattr_("pi") == math.pi and getattr_("pi") == math.pi
    assert len(caught) == 2  # one warning per access


def test_other_names_raise_the_usual_attribute_error():
    getattr_ = moved_names("pkg.old", {"sqrt": "math"})
    with pytest.raises(AttributeError, match=r"module 'pkg\.old' has no attribute 'cos'"):
        getattr_("cos")


def test_the_engine_forwards_the_progress_bar_to_utils():
    import cgalib.engine
    from cgalib.utils.progress import ProgressBar

    with pytest.warns(DeprecationWarning, match="cgalib.engine.ProgressBar moved: import it from "
                                                "cgalib.utils.progress"):  # fmt: skip
        assert cgalib.engine.ProgressBar is ProgressBar
    with pytest.raises(AttributeError):
        cgalib.engine.NoSuchName  # noqa: B018
