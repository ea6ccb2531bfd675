import pytest
import torch

from cgalib.postprocess import AmbiguityAlleviation, alleviate_ambiguity


def test_by_hand():
    heat = torch.tensor([0.8, 0.8, 0.5, 0.0], dtype=torch.float64)
    m_x = torch.tensor([1.0, 0.2, 0.9, 1.0], dtype=torch.float64)
    m_y = torch.tensor([1.0, 0.8, 0.4, 1.0], dtype=torch.float64)
    out = alleviate_ambiguity(heat, m_x, m_y, alpha=2.0, beta=0.5)
    expected = [0.64, 0.64 * (0.16**0.5), 0.25 * (0.36**0.5), 0.0]
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))
    default = alleviate_ambiguity(heat, m_x, m_y)  # alpha 1, beta 0.5
    torch.testing.assert_close(default[1], torch.tensor(0.8 * 0.4, dtype=torch.float64))


def test_exponent_zero_ignores_the_lines_and_output_stays_in_unit_interval():
    heat, m_x, m_y = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(alleviate_ambiguity(heat, m_x, m_y, 1.0, 0.0), heat)
    out = alleviate_ambiguity(heat, m_x, m_y)
    assert out.min() >= 0 and out.max() <= 1 and (out <= heat + 1e-7).all()


def test_damps_an_off_line_duplicate_more_than_the_true_center():
    heat = torch.tensor([0.9, 0.9])  # two equal peaks of one person
    m_x = torch.tensor([0.95, 0.95])
    m_y = torch.tensor([0.98, 0.1])  # the second is off the vertical line
    out = alleviate_ambiguity(heat, m_x, m_y)
    assert out[0] > 0.8 and out[1] < 0.3


def test_function_and_module_agree():
    args = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(
        AmbiguityAlleviation(2.0, 0.3)(*args), alleviate_ambiguity(*args, 2.0, 0.3)
    )
    assert "beta=0.5" in repr(AmbiguityAlleviation())


def test_errors():
    with pytest.raises(ValueError, match="same shape"):
        alleviate_ambiguity(torch.rand(1, 1, 4, 4), torch.rand(1, 4, 4), torch.rand(1, 4, 4))
    with pytest.raises(ValueError, match="non-negative"):
        alleviate_ambiguity(torch.rand(4), torch.rand(4), torch.rand(4), beta=-1)
