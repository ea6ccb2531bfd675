"""The top-down model through the command line: train, eval on three box sources, predict."""

import json

import pytest

from cgalib import load_model
from cgalib.cli import main
from cgalib.eval import KEYPOINT_METRICS


def _train(data, run, model, size, *extra):
    args = ["train", "--model", model, "--data", str(data), "--out", str(run), "--epochs", "1",
            "--batch", "4", "--input-size", size, "--device", "cpu", "--workers", "0", *extra]  # fmt: skip
    assert main(args) == 0
    return run / "model.pt"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_top_down")
    data = root / "data"
    assert main(["synth", "--out", str(data), "--train", "6", "--val", "3", "--size", "128"]) == 0
    top_down = _train(data, root / "td", "topdown_tnet_d1w16", "96x64")
    detector = _train(data, root / "det", "cganet_tnet_d1w16", "128")
    return {"root": root, "data": data, "top_down": top_down, "detector": detector}


def test_train_builds_the_top_down_model_at_the_given_crop_size(runs):
    model = load_model(runs["top_down"])
    assert model.needs_boxes and model.input_rule.size == (96, 64)
    rows = (runs["top_down"].parent / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step,lr,loss") and len(rows) > 1


def _eval(runs, capsys, *extra) -> tuple[str, list[dict]]:
    out = runs["root"] / f"results_{len(extra)}.json"
    args = ["eval", "--checkpoint", str(runs["top_down"]), "--data", str(runs["data"]),
            "--device", "cpu", "--out", str(out), *extra]  # fmt: skip
    assert main(args) == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def test_eval_on_ground_truth_boxes_by_default(runs, capsys):
    printed, results = _eval(runs, capsys)
    assert "val keypoints, boxes from the ground truth" in printed
    assert "person boxes" not in printed  # the boxes are given, not predicted
    assert all(name in printed for name in KEYPOINT_METRICS)
    gt = json.loads((runs["data"] / "annotations" / "person_keypoints_val.json").read_text())
    people = [a for a in gt["annotations"] if a["num_keypoints"] > 0]
    assert len(results) == len(people)  # one pose per labelled person's box
    assert all(0.0 <= r["score"] <= 1.0 and len(r["keypoints"]) == 51 for r in results)


def test_eval_on_a_detections_file_and_on_a_detector_checkpoint(runs, capsys):
    gt = json.loads((runs["data"] / "annotations" / "person_keypoints_val.json").read_text())
    detections = [
        {"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.5}
        for a in gt["annotations"][:2]
    ]
    path = runs["root"] / "detections.json"
    path.write_text(json.dumps(detections))
    printed, results = _eval(runs, capsys, "--boxes", str(path))
    assert f"boxes from {path}" in printed
    assert len(results) == 2 and all(r["score"] <= 0.5 for r in results)  # box score x kpt score
    printed, results = _eval(runs, capsys, "--boxes", str(runs["detector"]), "--batch", "2")
    assert f"boxes from {runs['detector']}" in printed


def test_predict_with_a_detector_draws_and_writes_results(runs, capsys):
    image = next((runs["data"] / "val").iterdir())
    out = runs["root"] / "pred"
    args = ["predict", str(image), "--checkpoint", str(runs["top_down"]), "--detector",
            str(runs["detector"]), "--out", str(out), "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results and all(
        r["file_name"] == image.name and len(r["keypoints"]) == 51 for r in results
    )
    assert len(list(out.glob("*.png"))) == 1
