"""TopDownPose trains with the library's loop: PersonCrops, collate_person_crops and
TopDownAugmentation are the dataset, collate function and augment module of train_model."""

from __future__ import annotations

import csv

import torch

from cgalib import create_model, load_model
from cgalib.data import (
    CocoKeypoints,
    PersonCrops,
    TopDownAugmentation,
    collate_person_crops,
    make_synthetic_coco,
)
from cgalib.engine import train_model
from cgalib.utils.coco_meta import FLIP_INDEX


def test_train_model_runs_a_few_top_down_steps_and_saves_a_loadable_model(tmp_path):
    paths = make_synthetic_coco(tmp_path / "data", num_train=6, num_val=0, size=96, min_height=40)
    people = PersonCrops(CocoKeypoints(paths["train_images"], paths["train_ann"]))
    torch.manual_seed(0)
    model = create_model(
        "topdown_tnet_d1w16",
        input_size=[64, 64],
        backbone_kwargs={"num_blocks": 1, "stem_blocks": 1},
    )
    augment = TopDownAugmentation(
        crop_size=model.input_rule.size, flip_index=FLIP_INDEX, flip_prob=0.5, seed=0
    )
    out = train_model(
        model, people, collate_person_crops, tmp_path / "run", epochs=2, batch_size=4,
        augment=augment, optimizer="adamw", lr=1e-3, warmup_steps=0, num_workers=0,
    )  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert int(rows[-1]["step"]) == 2 * (len(people) // 4) and float(rows[-1]["km"]) > 0
    loaded = load_model(out)
    assert loaded.input_rule.size == (64, 64) and loaded.keypoint_set.flip_index == FLIP_INDEX
    with torch.no_grad():
        assert loaded(torch.rand(2, 3, 64, 64)).shape == (2, 17, 3)
