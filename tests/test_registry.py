"""The model registry: registering builders, looking them up, create_model's record and its
one-line errors."""

from __future__ import annotations

import json

import pytest
from torch import nn

from cgalib import registry
from cgalib.registry import (
    BuilderArgumentError,
    build_config,
    build_name,
    create_model,
    get_model_builder,
    list_models,
    register_model,
)
from cgalib.utils.keypoint_set import KeypointSet


@pytest.fixture
def scratch(monkeypatch):
    """An empty registry for the test (the library's builders are restored after it)."""
    monkeypatch.setattr(registry, "_BUILDERS", {})


def test_a_registered_builder_is_listed_found_and_built_with_overrides(scratch):
    @register_model
    def toy_linear(width: int = 3, bias: bool = True) -> nn.Module:
        return nn.Linear(2, width, bias=bias)

    @register_model
    def toy_conv() -> nn.Module:
        return nn.Conv2d(1, 1, 1)

    assert list_models() == ["toy_conv", "toy_linear"] and list_models("*lin*") == ["toy_linear"]
    assert get_model_builder("toy_linear") is toy_linear
    model = create_model("toy_linear", width=5, bias=False)
    assert model.out_features == 5 and model.bias is None and model.training
    assert build_config(model) == {"name": "toy_linear", "kwargs": {"width": 5, "bias": False}}
    assert build_name(model) == "toy_linear"


def test_registering_the_same_builder_again_is_allowed_another_of_that_name_is_not(scratch):
    def toy() -> nn.Module:
        return nn.Identity()

    assert register_model(toy) is toy and register_model(toy) is toy

    def other() -> nn.Module:
        return nn.Identity()

    other.__name__ = "toy"
    with pytest.raises(ValueError, match="a model named 'toy' is already registered"):
        register_model(other)


def test_unknown_names_list_the_registered_ones(scratch):
    register_model(lambda: nn.Identity())  # registered as "<lambda>"
    with pytest.raises(KeyError, match=r"unknown model 'nope'; registered models: <lambda>"):
        create_model("nope")


def test_an_unknown_keyword_is_one_line_naming_it():
    with pytest.raises(BuilderArgumentError) as err:
        create_model("tnet_d1w64", widht=3)
    assert isinstance(err.value, ValueError)
    assert str(err.value) == (
        "tnet_d1w64 takes no argument 'widht'; see its builder's docstring, "
        "help(cgalib.registry.get_model_builder('tnet_d1w64'))"
    )


def test_other_type_errors_of_a_builder_are_not_hidden(scratch):
    @register_model
    def toy_broken() -> nn.Module:
        raise TypeError("something else went wrong")

    with pytest.raises(TypeError, match="something else went wrong"):
        create_model("toy_broken")


def test_values_with_to_dict_are_recorded_as_json(scratch):
    @register_model
    def toy_set(keypoint_set=None) -> nn.Module:
        return nn.Identity()

    hand = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    config = build_config(create_model("toy_set", keypoint_set=hand))
    assert config["kwargs"]["keypoint_set"] == hand.to_dict()
    json.dumps(config)


def test_a_model_composed_by_hand_has_no_record():
    linear = nn.Linear(2, 2)
    assert build_config(linear) is None and build_name(linear) == "Linear"


def test_every_library_builder_is_registered_on_import():
    names = list_models()
    assert names == sorted(names)
    for prefix in ("tnet_", "cganet_", "topdown_"):
        assert any(n.startswith(prefix) for n in names), prefix
