"""The example scripts run end to end on tiny inputs."""

import json
import runpy
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from cgalib import create_model, load_model, save_model
from cgalib.data import make_synthetic_coco
from cgalib.data.synthetic import synthetic_sample

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, argv: list[str], monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", [name, *argv])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def test_predict_folder(tmp_path, monkeypatch, capsys):
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (48, 40), (200, 30, 30)).save(images / "a.png")
    Image.new("RGB", (32, 56), (30, 200, 30)).save(images / "b.jpg")
    (images / "notes.txt").write_text("not an image")
    checkpoint = tmp_path / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("cganet_tnet_d1w16"), checkpoint)
    out = tmp_path / "people.json"
    argv = [str(images), "--checkpoint", str(checkpoint), "--out", str(out)]
    run_example("predict_folder.py", [*argv, "--input-size", "64", "--device", "cpu",
                                      "--threshold", "0"], monkeypatch)  # fmt: skip
    result = json.loads(out.read_text())
    assert result["input_size"] == [64, 64]
    assert [(i["file_name"], i["height"], i["width"]) for i in result["images"]] == [
        ("a.png", 40, 48),
        ("b.jpg", 56, 32),
    ]
    for image in result["images"]:
        assert image["people"], "threshold 0 keeps every detection"
        for person in image["people"]:
            assert len(person["keypoints"]) == 51 and len(person["bbox"]) == 4
            assert 0.0 <= person["score"] <= 1.0
    assert "a.png:" in capsys.readouterr().out


def test_predict_folder_rejects_an_empty_folder(tmp_path, monkeypatch):
    with pytest.raises(SystemExit):
        run_example("predict_folder.py", [str(tmp_path), "--checkpoint", "x.pt"], monkeypatch)


def test_custom_detector(monkeypatch, capsys):
    run_example("custom_detector.py", ["--width", "8", "--size", "128"], monkeypatch)
    out = capsys.readouterr().out
    assert "keypoint head:" in out
    assert "'keypoints': (20, 17, 3)" in out
    assert "training on" in out and "'km':" in out


@pytest.mark.parametrize("bad", [["--width", "7"], ["--size", "100"]])
def test_custom_detector_rejects_bad_sizes(bad, monkeypatch):
    with pytest.raises(SystemExit):
        run_example("custom_detector.py", bad, monkeypatch)


def test_train_coco_format(tmp_path, monkeypatch, capsys):
    data = make_synthetic_coco(tmp_path / "data", 8, 2, size=128)
    run = tmp_path / "run"
    argv = [
        "--images", str(data["train_images"]), "--ann", str(data["train_ann"]),
        "--val-images", str(data["val_images"]), "--val-ann", str(data["val_ann"]),
        "--out", str(run), "--input-size", "128", "--batch", "4", "--epochs", "1",
        "--device", "cpu", "--workers", "0", "--optimizer", "adamw", "--lr", "1e-3",
        "--model-kwargs", '{"input_size": 128}',
    ]  # fmt: skip
    run_example("train_coco_format.py", argv, monkeypatch)
    out = capsys.readouterr().out
    assert (run / "model.pt").is_file() and (run / "last.pt").is_file()
    assert len((run / "metrics.csv").read_text().splitlines()) >= 2  # header + the last step
    assert "| val keypoints | AP |" in out
    model = load_model(run / "model.pt")
    assert model.build_config == {"name": "cganet_tnet_d1w16", "kwargs": {"input_size": 128}}


def test_train_coco_format_needs_both_val_arguments(tmp_path, monkeypatch):
    argv = ["--images", str(tmp_path), "--ann", "a.json", "--out", str(tmp_path),
            "--val-images", str(tmp_path)]  # fmt: skip
    with pytest.raises(SystemExit):
        run_example("train_coco_format.py", argv, monkeypatch)


def test_export_onnx(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    # a structured image: on a flat one, tied scores may be ordered differently by the runtimes
    image, _ = synthetic_sample(seed=0, index=1, split="val", size=160)
    image.crop((0, 32, 160, 128)).save(tmp_path / "wide.png")
    checkpoint = tmp_path / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("cganet_tnet_d1w16", input_size=128), checkpoint)
    out = tmp_path / "model.onnx"
    argv = ["--checkpoint", str(checkpoint), "--image", str(tmp_path / "wide.png"),
            "--out", str(out), "--threshold", "0"]  # fmt: skip
    run_example("export_onnx.py", argv, monkeypatch)
    printed = capsys.readouterr().out
    assert out.is_file() and "input 1x3x128x128" in printed
    assert "keypoints: (1, 20, 17, 3), max |onnxruntime - pytorch| = " in printed
    diffs = {
        line.split(":")[0]: float(line.rsplit("= ", 1)[1])
        for line in printed.splitlines()
        if "max |" in line
    }
    # sorted scores agree whatever the order of near-tied detections of an untrained model
    # (tests/export/test_onnx.py compares every output on a model without near-ties)
    assert list(diffs) == ["boxes", "extended_boxes", "scores", "keypoints"]
    assert diffs["scores"] < 1e-5
    assert "20 people scoring >= 0.0:" in printed


@pytest.mark.parametrize("bad", [["--input-size", "100"], ["--checkpoint"]])
def test_export_onnx_rejects_bad_arguments(bad, monkeypatch):
    with pytest.raises(SystemExit):
        run_example("export_onnx.py", bad, monkeypatch)
