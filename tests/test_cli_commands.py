"""The data, train, eval and predict sub-commands on a tiny synthetic set."""

import json

import pytest

from cgalib.cli import main


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
    results = json.loads((tiny / "run" / "results_val.json").read_text())
    assert {r["image_id"] for r in results} <= {1, 2, 3}


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
