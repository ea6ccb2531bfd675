"""Variants of a registered model: the same weights, other builder arguments."""

from __future__ import annotations

from typing import Any

from torch import nn

from cgalib.models.checkpoint import load_state
from cgalib.registry import build_config, create_model

__all__ = ["create_variant"]


def create_variant(model: nn.Module, **overrides: Any) -> nn.Module:
    """Rebuild a registered model with other builder arguments and copy its weights.

    This is how an ablation or evaluation switch is applied to a trained model: the
    variant goes through the builder and the constructors, so every setting is checked
    in one place, and nothing is patched on the original. Builder arguments that only
    change post-processing or training (``box_extension``, ``extend_ratio``,
    ``ambiguity_alleviation``, ``flip_test``, ``loss_weights``...) keep the weights'
    shapes; one that changes them fails with the list of mismatches.

    Args:
        model: a model made by [`create_model()`][cgalib.create_model] (or loaded by
            [`load_model()`][cgalib.load_model]), which records its builder and arguments.
        **overrides: builder arguments replacing the recorded ones.

    Returns:
        A new model with a copy of ``model``'s weights, on its device and in its
        training mode; its ``build_config`` records the new arguments, so it saves and
        loads like any model.

    Raises:
        ValueError: if ``model`` records no builder, or the overrides change the
            architecture.

    Examples:
        >>> from cgalib import create_model
        >>> base = create_model("cganet_tnet_d1w16", input_size=128)
        >>> fixed = create_variant(base, box_extension="fixed")
        >>> type(fixed.postprocess.box_extension).__name__, fixed is base
        ('FixedExtendArea', False)
    """
    config = build_config(model)
    if not config:
        raise ValueError(
            f"create_variant rebuilds models made by create_model, and this "
            f"{type(model).__name__} records no builder; compose the variant from its parts "
            "instead (e.g. CGANet(model.backbone, model.dense_heads, model.keypoint_head, "
            "other_postprocess))"
        )
    variant = create_model(config["name"], **{**config["kwargs"], **overrides})
    load_state(variant, model.state_dict(), f"the weights of {config['name']}", config["name"])
    tensors = [*model.parameters(), *model.buffers()]
    if tensors:
        variant.to(tensors[0].device)
    return variant.train(model.training)
