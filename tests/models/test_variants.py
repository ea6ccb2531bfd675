"""create_variant: the weights copied into a new model built with other settings, checked."""

from __future__ import annotations

import pytest
import torch

from cgalib import create_model, create_variant
from cgalib.postprocess import NoExtension

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
