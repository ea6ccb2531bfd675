"""create_variant: the weights copied into a new model built with other settings, checked."""

from __future__ import annotations

import pytest
import torch

from cgalib import create_model, create_variant
from cgalib.codecs import RoiHeatmapDecoder, decode_roi_heatmaps
from cgalib.postprocess import CGANET_KEYPOINT_DECODING, NoExtension

from helpers import TinyBackbone, compose_cganet


def test_create_variant_copies_the_weights_into_a_checked_new_model():
    torch.manual_seed(0)
    base = create_model("cganet_tnet_d1w16", input_size=128).eval()
    variant = create_variant(base, box_extension="none", flip_test=True)
    assert variant is not base and variant.flip_test and not base.flip_test
    assert isinstance(variant.postprocess.box_extension, NoExtension)
    assert variant.build_config["kwargs"]["box_extension"] == "none"
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        _, dense_a = base.forward_dense(x)
        _, dense_b = variant.forward_dense(x)
    for key in dense_a:
        assert torch.equal(dense_a[key], dense_b[key])
    with pytest.raises(ValueError, match="box_extension must be dichotomy, fixed or none"):
        create_variant(base, box_extension="huge")
    with pytest.raises(ValueError, match="does not fit"):
        create_variant(base, head_channels=16)  # changes the dense heads' shapes
    with pytest.raises(ValueError, match="records no builder"):
        create_variant(compose_cganet(TinyBackbone()))


def test_a_cganet_decoded_another_way_is_a_variant():
    torch.manual_seed(0)
    base = create_model("cganet_tnet_d1w16", input_size=128).eval()
    dark = {"blur_kernel": 3, "stencil": 2}
    variant = create_variant(base, keypoint_decoder=dark).eval()
    assert variant.postprocess.keypoint_decoder.blur_kernel == 3
    assert variant.postprocess.keypoint_decoder.stencil == 2
    assert base.postprocess.keypoint_decoder.to_dict() == dict(CGANET_KEYPOINT_DECODING)
    assert base.postprocess.keypoint_decoder.blur_kernel == 3  # CGANet's measured default
    # the keys a variant leaves out keep CGANet's defaults, not the codec's
    stencil = create_variant(base, keypoint_decoder={"stencil": 2}).postprocess.keypoint_decoder
    assert stencil.to_dict() == {**CGANET_KEYPOINT_DECODING, "stencil": 2}
    assert RoiHeatmapDecoder().blur_kernel == 0
    logits = torch.randn(2, 17, 16, 12)
    rois = torch.tensor([[[0.0, 0.0, 48.0, 64.0], [4.0, 4.0, 40.0, 90.0]]])
    torch.testing.assert_close(
        variant.postprocess.decode_keypoints(logits, rois),
        decode_roi_heatmaps(logits, rois[0], **dark).view(1, 2, 17, 3),
    )
    with pytest.raises(TypeError, match="keypoint_decoder"):
        create_variant(base, keypoint_decoder="dark")
