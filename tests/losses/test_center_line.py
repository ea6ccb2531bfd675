import pytest
import torch

from cgalib.losses import CenterLineLoss, center_line_loss


def test_by_hand():
    pred = torch.tensor([0.3, 0.05, 0.8, 0.6], dtype=torch.float64)
    gt = torch.tensor([0.0, 0.09, 1.0, 0.1], dtype=torch.float64)  # 0.1 counts as line
    terms = [
        0.3 * (0.3 - 0.0) ** 2,  # gt < thre: weight pred
        0.05 * (0.05 - 0.09) ** 2,
        (1 - 0.8) * (0.8 - 1.0) ** 2,  # gt >= thre: weight 1 - pred
        (1 - 0.6) * (0.6 - 0.1) ** 2,
    ]
    assert center_line_loss(pred, gt).item() == pytest.approx(sum(terms) / 2)


def test_alpha_and_thre_by_hand():
    pred = torch.tensor([0.5, 0.4], dtype=torch.float64)
    gt = torch.tensor([0.2, 0.6], dtype=torch.float64)
    # thre 0.3: pixel 0 is off the line, pixel 1 on it; N = 1
    expected = 0.5**2 * 0.3**2 + 0.6**2 * 0.2**2
    assert center_line_loss(pred, gt, thre=0.3, alpha=2).item() == pytest.approx(expected)
    # no line pixel at all: divided by 1
    none = center_line_loss(pred, gt, thre=0.9).item()
    assert none == pytest.approx(0.5 * 0.3**2 + 0.4 * 0.2**2)


def test_logits_flag_applies_sigmoid():
    logits = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    gt = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(
        center_line_loss(logits, gt, logits=True), center_line_loss(logits.sigmoid(), gt)
    )


def test_function_and_module_agree():
    pred, gt = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    for kw in ({}, {"thre": 0.3, "alpha": 2.0}, {"logits": True}):
        torch.testing.assert_close(CenterLineLoss(**kw)(pred, gt), center_line_loss(pred, gt, **kw))
    assert "thre=0.1" in repr(CenterLineLoss())


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_finite_loss_and_gradient_at_zero_and_one(alpha):
    pred = torch.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    gt = torch.tensor([0.0, 0.0, 1.0, 1.0])
    loss = center_line_loss(pred, gt, alpha=alpha)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert pred.grad[1] > 0 and pred.grad[2] < 0  # the wrong pixels still learn


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        center_line_loss(torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 5))
