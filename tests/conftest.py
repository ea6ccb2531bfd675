"""Shared fixtures: devices to test on, a seeded RNG, a small model trained by the CLI."""

from __future__ import annotations

import pytest
import torch

from cgalib.cli import main

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A synthetic set (8 train, 3 val images, 128 px) and a ``cganet_tnet_d1w16`` trained on
    it for one epoch, both made by the command line: the folder holding ``data/`` and
    ``run/model.pt`` (the CLI tests and ``evaluate_coco``'s share it)."""
    root = tmp_path_factory.mktemp("cli")
    assert (
        main(["synth", "--out", str(root / "data"), "--train", "8", "--val", "3", "--size", "128"])
        == 0
    )
    run = root / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "cganet_tnet_d1w16",
                "--data",
                str(root / "data"),
                "--out",
                str(run),
                "--epochs",
                "1",
                "--batch",
                "4",
                "--input-size",
                "128",
                "--device",
                "cpu",
                "--workers",
                "0",
                "--model-kwargs",
                '{"input_size": 128}',
            ]
        )
        == 0
    )
    return root
