"""Box extensions as modules (DichotomyExtendArea, FixedExtendArea, NoExtension) and
fixed_extend_area; the bisection itself, dichotomy_extend_area, is tested with its codec in
``tests/codecs/test_center_line.py``."""

import pytest
import torch

from cgalib.postprocess import (
    DichotomyExtendArea,
    FixedExtendArea,
    dichotomy_extend_area,
    fixed_extend_area,
)


def test_function_and_modules_agree():
    boxes, m_x, m_y = torch.rand(2, 5, 4) * 10, torch.rand(2, 16, 16), torch.rand(2, 16, 16)
    boxes[..., 2:] += boxes[..., :2]
    torch.testing.assert_close(
        DichotomyExtendArea(0.2, 0.3, 6)(boxes, m_x, m_y),
        dichotomy_extend_area(boxes, m_x, m_y, 0.2, 0.3, 6),
    )
    torch.testing.assert_close(FixedExtendArea(0.2)(boxes), fixed_extend_area(boxes, 0.2))
    assert "max_iters=10" in repr(DichotomyExtendArea())


def test_fixed_extend_by_hand():
    boxes = torch.tensor([[[10.0, 20.0, 30.0, 60.0]], [[0.0, 0.0, 4.0, 2.0]]])
    out = fixed_extend_area(boxes, 0.5)  # sides move by 0.5 * (w, h) / 2
    torch.testing.assert_close(
        out, torch.tensor([[[5.0, 10.0, 35.0, 70.0]], [[-1.0, -0.5, 5.0, 2.5]]])
    )


def test_errors():
    m = torch.rand(16, 16)
    with pytest.raises(ValueError, match=r"\(\.\.\., N, 4\)"):
        dichotomy_extend_area(torch.zeros(4), m, m)
    with pytest.raises(ValueError, match="same shape"):
        dichotomy_extend_area(torch.zeros(3, 4), m, torch.rand(16, 15))
    with pytest.raises(ValueError, match="leading dims"):
        dichotomy_extend_area(torch.zeros(2, 3, 4), m, m)
    with pytest.raises(ValueError, match="ratio"):
        dichotomy_extend_area(torch.zeros(3, 4), m, m, ratio=-0.1)
    with pytest.raises(ValueError, match="ratio"):
        fixed_extend_area(torch.zeros(3, 4), ratio=-0.1)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        fixed_extend_area(torch.zeros(3, 5), 0.1)
