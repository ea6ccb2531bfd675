import pytest
import torch

from cgalib.losses import RegL1Loss, reg_l1_loss


def _inputs():
    pred = torch.zeros(2, 2, 3, 4)
    pred[0, :, 1, 2] = torch.tensor([3.0, 5.0])  # index 6
    pred[0, :, 0, 0] = torch.tensor([1.0, 1.0])  # index 0
    pred[1, :, 2, 3] = torch.tensor([-2.0, 0.5])  # index 11
    index = torch.tensor([[6, 0, 0], [11, 0, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    target = torch.tensor(
        [
            [[4.0, 4.0], [1.5, 0.0], [float("nan"), 9.0]],  # masked-off slot holds NaN
            [[-1.0, 0.5], [7.0, 7.0], [0.0, 0.0]],
        ]
    )
    return pred, index, mask, target


def test_by_hand():
    pred, index, mask, target = _inputs()
    l1 = (1 + 1) + (0.5 + 1) + (1 + 0)  # |3-4|+|5-4|, |1-1.5|+|1-0|, |-2+1|+|0.5-0.5|
    expected = l1 / (3 * 2 + 1e-4)  # 3 masked slots x 2 channels
    assert reg_l1_loss(pred, index, mask, target).item() == pytest.approx(expected)


def test_matches_centernet_reg_l1_loss():
    pred = torch.randn(2, 2, 8, 8)
    index = torch.randint(0, 64, (2, 10))
    mask = torch.rand(2, 10) > 0.4
    target = torch.randn(2, 10, 2)
    # CenterNet: gather, expand the mask to the channels, summed L1 / (mask.sum() + 1e-4)
    feat = pred.permute(0, 2, 3, 1).reshape(2, 64, 2)
    gathered = feat.gather(1, index[..., None].expand(2, 10, 2))
    m = mask[..., None].expand_as(gathered).float()
    expected = torch.nn.functional.l1_loss(gathered * m, target * m, reduction="sum") / (
        m.sum() + 1e-4
    )
    torch.testing.assert_close(reg_l1_loss(pred, index, mask, target), expected)
    torch.testing.assert_close(reg_l1_loss(pred, index, mask.float(), target), expected)


def test_empty_mask_gives_zero_and_finite_gradient():
    pred = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = reg_l1_loss(
        pred, torch.zeros(1, 5, dtype=torch.long), torch.zeros(1, 5), torch.ones(1, 5, 2)
    )
    loss.backward()
    assert loss.item() == 0 and pred.grad.abs().sum() == 0


def test_gradient_reaches_only_the_masked_centers():
    pred, index, mask, target = _inputs()
    pred.requires_grad_(True)
    reg_l1_loss(pred, index, mask, target).backward()
    touched = pred.grad.abs().sum(1).flatten(1).ne(0)
    assert touched[0].nonzero().flatten().tolist() == [0, 6]
    assert touched[1].nonzero().flatten().tolist() == [11]
    assert torch.isfinite(pred.grad).all()


def test_function_and_module_agree():
    pred, index, mask, target = _inputs()
    torch.testing.assert_close(
        RegL1Loss()(pred, index, mask, target), reg_l1_loss(pred, index, mask, target)
    )


def test_shape_errors():
    pred, index, mask, target = _inputs()
    with pytest.raises(ValueError, match="pred"):
        reg_l1_loss(pred[0], index, mask, target)
    with pytest.raises(ValueError, match="index and mask"):
        reg_l1_loss(pred, index, mask[:, :2], target)
    with pytest.raises(ValueError, match="target"):
        reg_l1_loss(pred, index, mask, target[..., :1])
