"""The data, train, eval and predict sub-commands on a tiny synthetic set."""

import json

import pytest

from cgalib import load_model
from cgalib.cli import main
from cgalib.eval import KEYPOINT_METRICS, coco_ap, coco_keypoint_ap, evaluate_coco, predict_coco


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
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


def test_synth_and_train_write_their_files(tiny):
    ann = json.loads((tiny / "data" / "annotations" / "person_keypoints_val.json").read_text())
    assert len(ann["images"]) == 3
    assert (tiny / "run" / "model.pt").is_file()
    assert (tiny / "run" / "metrics.csv").read_text().startswith("epoch,step,lr,loss")


def test_eval_prints_a_pycocotools_table(tiny, capsys):
    assert (
        main(
            [
                "eval",
                "--checkpoint",
                str(tiny / "run" / "model.pt"),
                "--data",
                str(tiny / "data"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| val keypoints | AP | AP50 |" in out
    assert "| val person boxes | AP | AP50 | AP75 | APs |" in out
    results = json.loads((tiny / "run" / "results_val.json").read_text())
    assert {r["image_id"] for r in results} <= {1, 2, 3}


def test_evaluate_coco_scores_its_results_as_pycocotools_does(tiny):
    ann = tiny / "data" / "annotations" / "person_keypoints_val.json"
    model = load_model(tiny / "run" / "model.pt")
    kwargs = {"input_size": 128, "device": "cpu", "batch_size": 2, "progress": False}
    metrics, results = evaluate_coco(model, tiny / "data" / "val", ann, box_ap=True, **kwargs)
    assert results == predict_coco(model, tiny / "data" / "val", ann, **kwargs)
    boxes = {f"box_{k}": v for k, v in coco_ap(ann, results, "bbox").items()}
    assert metrics == {**coco_keypoint_ap(ann, results), **boxes}
    assert list(evaluate_coco(model, tiny / "data" / "val", ann, **kwargs)[0]) == list(
        KEYPOINT_METRICS
    )
    with pytest.raises(TypeError, match="batch"):
        evaluate_coco(model, tiny / "data" / "val", ann, batch=2)


def test_predict_renders_a_folder(tiny, capsys):
    out = tiny / "pred"
    assert (
        main(
            [
                "predict",
                str(tiny / "data" / "val"),
                "--checkpoint",
                str(tiny / "run" / "model.pt"),
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.png"))) == 3
    assert json.loads((out / "results.json").read_text())
