import pytest
import torch

from cgalib import GFM, GuidedFusionModule


def test_alias():
    assert GFM is GuidedFusionModule


def test_output_is_fg_times_x_plus_x_checked_by_hooking_fg():
    gfm = GuidedFusionModule(12, 6)
    torch.nn.init.normal_(gfm.f.weight)  # non-trivial F_g
    captured = {}
    gfm.f.register_forward_hook(lambda m, i, o: captured.setdefault("F_g", o))
    guide, x = torch.randn(2, 12, 4, 3), torch.randn(2, 6, 8, 6)
    out = gfm(guide, x)
    fg = captured["F_g"]
    assert fg.shape == (2, 6, 1, 1)
    torch.testing.assert_close(out, fg * x + x)
    assert not torch.allclose(out, x)


def test_fg_follows_equations_one_and_two_by_hand():
    gfm = GuidedFusionModule(3, 2)
    with torch.no_grad():
        gfm.mix.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 2, 0], [0, 0, -1]]).view(3, 3, 1, 1))
        gfm.mix.bias.zero_()
        gfm.f.weight.copy_(torch.tensor([[1.0, 1, 1], [0, 0, 2]]).view(2, 3, 1, 1))
        gfm.f.bias.copy_(torch.tensor([0.0, -1.0]))
    guide = torch.zeros(1, 3, 2, 2)
    guide[0, 0] = torch.tensor([[1.0, 3.0], [0.0, 0.0]])  # mean 1
    guide[0, 1] = 0.5  # mean 0.5
    guide[0, 2] = -2.0  # mean -2
    d = torch.tensor([1.0, 0.5, -2.0])  # eq. 1
    s = torch.sigmoid(torch.tensor([1.0 * d[0], 2.0 * d[1], -1.0 * d[2]]))
    fg = torch.tensor([s.sum(), 2 * s[2] - 1.0])
    x = torch.randn(1, 2, 3, 3)
    expected = fg.view(1, 2, 1, 1) * x + x  # eq. 2
    torch.testing.assert_close(gfm(guide, x), expected)


def test_guide_may_differ_in_channels_and_resolution():
    gfm = GuidedFusionModule(64, 24)
    assert gfm(torch.rand(3, 64, 2, 2), torch.rand(3, 24, 32, 16)).shape == (3, 24, 32, 16)


def test_channel_mismatch_is_a_clear_error():
    gfm = GuidedFusionModule(8, 4)
    with pytest.raises(ValueError, match="channels"):
        gfm(torch.rand(1, 8, 2, 2), torch.rand(1, 5, 4, 4))
    with pytest.raises(ValueError, match="same B"):
        gfm(torch.rand(2, 8, 2, 2), torch.rand(1, 4, 4, 4))
