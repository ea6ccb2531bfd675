"""A segmentation model through the whole pipeline: train (masks loaded because the model
asks), predict (RLE in image pixels), evaluate (mask AP and box AP)."""

from __future__ import annotations

import json

import pytest
from pycocotools import mask as mask_utils

from cgalib.cli import main
from cgalib.data import make_synthetic_coco
from cgalib.engine.trainer import train
from cgalib.eval import evaluate_coco
from cgalib.inference import Predictor, predict_media
from cgalib.models import load_model

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_train_predict_and_evaluate_a_segmentation_model(tmp_path, capsys):
    paths = make_synthetic_coco(tmp_path / "data", num_train=2, num_val=0, size=64, min_height=16)
    checkpoint = train(
        "cganet_tnet_d1w16_seg",
        paths["root"],
        tmp_path / "run",
        model_kwargs={"input_size": 64},
        input_size=64,
        device="cpu",
        epochs=1,
        batch_size=2,
        num_workers=0,
    )
    assert "mask" in (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]
    model = load_model(checkpoint)
    assert model.outputs == ("masks",)
    image = paths["train_images"] / "000000.jpg"
    people = Predictor(model, device="cpu", input_size=96).predict(image)
    assert people and all("keypoints" not in p for p in people)
    rle = people[0]["segmentation"]
    assert rle["size"] == [64, 64] and mask_utils.decode(rle).shape == (64, 64)
    metrics, results = evaluate_coco(
        model, paths["train_images"], paths["train_ann"], input_size=64, device="cpu",
        progress=False,
    )  # fmt: skip
    assert {"mask_AP", "mask_AP50", "box_AP"} <= set(metrics) and "AP" not in metrics
    assert 0 <= metrics["mask_AP"] <= 1 and all("segmentation" in r for r in results)
    # what `cgalib predict` runs: results with RLE and a drawing with masks and boxes
    report = predict_media(model, [image], tmp_path / "pred", input_size=64, device="cpu",
                           score_threshold=0.0)  # fmt: skip
    assert report.images == 1 and any((tmp_path / "pred").rglob("*.png"))
    written = json.loads(report.results.read_text())
    assert written and all("segmentation" in p for p in written)
    # `cgalib eval` prints the tables the model's outputs give
    capsys.readouterr()
    args = ["eval", "--checkpoint", str(checkpoint), "--data", str(paths["root"]), "--split",
            "train", "--input-size", "64", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| train person masks | AP |" in printed and "| train person boxes |" in printed
    assert "train keypoints" not in printed
