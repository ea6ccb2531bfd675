import pytest
import torch

from cgalib import TNet, create_model, list_models, tnet_d1w64
from cgalib.layers import GuidedFusionModule

from helpers import requires_cuda

BUILDERS = ["tnet_d1w64", "tnet_d3w64", "tnet_d3w96"]


def test_builders_are_registered():
    assert set(BUILDERS) <= set(list_models("tnet_*"))


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("size", [(512, 512), (384, 288)])
def test_pyramid_shapes(name, size):
    net = create_model(name).eval()
    with torch.no_grad():
        feats = net(torch.rand(1, 3, *size))
    assert net.strides == (4, 8, 16, 32)
    assert len(feats) == 4
    for f, c, s in zip(feats, net.out_channels, net.strides):
        assert f.shape == (1, c, size[0] // s, size[1] // s)
        assert torch.isfinite(f).all()


def test_d1w64_channels_follow_the_documented_widths():
    net = tnet_d1w64()
    # w = (64, 128, 256, 256); O_i = w_{i+1}/4 + w_i for i < 3, O_3 = w_3
    assert net.out_channels == (32 + 64, 64 + 128, 64 + 256, 256)
    assert net.feature_info[0] == {"level": 0, "num_chs": 96, "reduction": 4}


def test_depth_means_number_of_trapezoid_stages():
    assert len(create_model("tnet_d3w64").stages) == 3
    assert len(tnet_d1w64().stages) == 1


@pytest.mark.parametrize("size", [(500, 512), (512, 300)])
def test_size_not_multiple_of_32_is_a_clear_error(size):
    with pytest.raises(ValueError, match="multiples of 32"):
        TNet(depth=1, width=8)(torch.rand(1, 3, *size))


def test_wrong_channels_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        TNet(depth=1, width=8)(torch.rand(1, 1, 64, 64))


def test_every_parameter_receives_a_gradient():
    net = TNet(depth=2, width=8, num_blocks=1, stem_blocks=1)
    with torch.no_grad():  # undo the zero init of residual gammas and GFM's f (they block grads)
        for p in net.parameters():
            if not p.any():
                p.normal_(0, 0.1)
    feats = net(torch.rand(2, 3, 64, 64))
    sum(f.square().mean() for f in feats).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing


def test_each_fused_output_is_guided_by_the_next_coarser_level():
    net = TNet(depth=1, width=8, num_blocks=1, stem_blocks=1).eval()
    seen = []
    for m in net.modules():
        if isinstance(m, GuidedFusionModule):
            m.register_forward_hook(lambda m, args, out: seen.append((args[0].shape, out.shape)))
    net(torch.rand(1, 3, 64, 64))
    # guides are L1, L2, L3 (strides 8, 16, 32), guiding outputs at strides 4, 8, 16
    assert [g[-1] for g, _ in seen] == [8, 4, 2]
    assert [o[-1] for _, o in seen] == [16, 8, 4]


def test_torch_jit_trace_matches_eager():
    net = TNet(depth=1, width=8, num_blocks=1, stem_blocks=1).eval()
    x = torch.rand(1, 3, 64, 96)
    traced = torch.jit.trace(net, x)
    for a, b in zip(traced(x), net(x)):
        torch.testing.assert_close(a, b)


@requires_cuda
def test_cpu_cuda_parity():
    net = TNet(depth=1, width=16).eval()
    x = torch.rand(2, 3, 128, 96)
    with torch.no_grad():
        cpu = net(x)
        gpu = net.cuda()(x.cuda())
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-3, atol=1e-4)
