"""A custom keypoint set end to end on the command line: synth body14, train, eval, predict,
export; the checkpoint carries the set, so no command needs a flag for it."""

from __future__ import annotations

import json

import matplotlib
import pytest

from cgalib import load_model
from cgalib.cli import main
from cgalib.data import BODY14_CATEGORY, CocoKeypoints, KeypointSet
from cgalib.viz import save_prediction_grid

matplotlib.use("Agg")

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)


@pytest.fixture(scope="module")
def body14_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("body14_cli")
    data = root / "data"
    synth = ["synth", "--out", str(data), "--train", "4", "--val", "2", "--size", "64"]
    assert main([*synth, "--keypoints", "body14"]) == 0
    train = ["train", "--model", "cganet_tnet_d1w16", "--data", str(data), "--out",
             str(root / "run"), "--epochs", "1", "--batch", "2", "--input-size", "64",
             "--device", "cpu", "--workers", "0", "--model-kwargs", '{"input_size": 64}']  # fmt: skip
    assert main(train) == 0
    return root


def test_a_14_joint_set_trains_and_its_checkpoint_keeps_the_set(body14_run):
    model = load_model(body14_run / "run" / "model.pt")
    assert model.keypoint_set == BODY14 and model.num_keypoints == 14
    rows = (body14_run / "run" / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step") and rows[-1].split(",")[1] == "2"  # two steps


def test_it_evaluates_predicts_and_draws_without_flags(body14_run, capsys, tmp_path):
    ckpt = str(body14_run / "run" / "model.pt")
    data = str(body14_run / "data")
    assert main(["eval", "--checkpoint", ckpt, "--data", data, "--device", "cpu"]) == 0
    assert "| val keypoints | AP |" in capsys.readouterr().out
    results = json.loads((body14_run / "run" / "results_val.json").read_text())
    assert results and all(len(r["keypoints"]) == 3 * 14 for r in results)
    out = tmp_path / "pred"
    inputs = [str(body14_run / "data" / "val")]
    assert main(["predict", *inputs, "--checkpoint", ckpt, "--out", str(out), "--device", "cpu"]) == 0
    assert len(list(out.glob("*.png"))) == 2
    ds = CocoKeypoints(body14_run / "data" / "val", body14_run / "data" / "annotations" /
                       "person_keypoints_val.json")  # fmt: skip
    gt = [ds.coco.loadAnns(ds.coco.getAnnIds(imgIds=i)) for i in ds.ids]
    predicted = json.loads((out / "results.json").read_text())
    grid = tmp_path / "grid.png"
    save_prediction_grid(grid, [ds[i][0] for i in range(2)], [predicted[:3], []], gt,
                         keypoint_set=ds.keypoint_set)  # fmt: skip
    assert grid.stat().st_size > 0
    with pytest.raises(ValueError, match="14 keypoints, but 17 names"):
        save_prediction_grid(tmp_path / "coco.png", [ds[0][0]], [predicted[:1]])


def test_it_exports_14_keypoints_without_flags(body14_run, capsys):
    pytest.importorskip("onnxruntime")
    ckpt = body14_run / "run" / "model.pt"
    assert main(["export", "--checkpoint", str(ckpt), "--input-size", "64"]) == 0
    out = capsys.readouterr().out
    assert f"onnx: {body14_run / 'run' / 'model.onnx'}" in out
    assert "keypoints: (1, 20, 14, 3)" in out
