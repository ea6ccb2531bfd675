"""The command line: every sub-command (models, summary, synth, train, eval, predict, export)
on tiny synthetic sets, for bottom-up and top-down models and a custom keypoint set."""

import json
import warnings

import matplotlib
import pytest

from cgalib import cli, create_model, list_models, list_pretrained, load_model, save_model
from cgalib.cli import main
from cgalib.data import CocoKeypoints, make_synthetic_coco
from cgalib.eval import KEYPOINT_METRICS
from cgalib.viz import save_prediction_grid

from helpers import BODY14, distinct_cganet, run_onnx, synthetic_images

matplotlib.use("Agg")


def test_models_lists_registered_builders(capsys):
    assert main(["models", "tnet_*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# architectures") and len(lines) == 4
    assert lines[1:] == ["tnet_d1w64", "tnet_d3w64", "tnet_d3w96"]


def test_models_lists_the_shipped_weights_beside_the_architectures(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    architectures, shipped = out.split("# shipped weights")
    assert set(list_models()) == {
        line for line in architectures.splitlines() if not line.startswith("#")
    }
    names = [line.split()[0] for line in shipped.splitlines()[1:]]
    assert names == list_pretrained() and "cganet_tnet_d1w16.synthetic" in names
    assert main(["models", "*.synthetic"]) == 0
    assert "# architectures" not in capsys.readouterr().out


def test_checkpoint_flags_say_what_they_take():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in ("eval", "predict", "export"):
        (flag,) = [a for a in sub.choices[command]._actions if a.dest == "checkpoint"]
        assert "cgalib models" in flag.help and "cgalib train" in flag.help


def test_workers_default_to_what_the_machine_has(monkeypatch):
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--data", "d", "--out", "o"])
    assert args.workers is None  # resolved when the command runs
    seen = {}
    monkeypatch.setattr("cgalib.engine.train", lambda *a, **kw: seen.update(kw) or "m.pt")
    monkeypatch.setattr(cli, "data_workers", lambda: 3)
    assert main(["train", "--data", "d", "--out", "o"]) == 0
    assert seen["num_workers"] == 3
    assert main(["train", "--data", "d", "--out", "o", "--workers", "0"]) == 0
    assert seen["num_workers"] == 0


def test_a_repeated_warning_prints_once(monkeypatch, capsys):
    def handler(pattern):  # as torch does: one message from two places
        warnings.warn("this DataLoader will create 4 worker processes", stacklevel=1)
        warnings.warn("this DataLoader will create 4 worker processes", stacklevel=1)
        warnings.warn("another warning", stacklevel=1)
        return 0

    monkeypatch.setitem(cli._COMMANDS, "models", (cli._add_models, handler))
    assert main(["models"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "cgalib: warning: this DataLoader will create 4 worker processes",
        "cgalib: warning: another warning",
    ]


def test_summary_reports_pyramid(capsys):
    assert main(["summary", "tnet_d1w64", "--height", "64", "--width", "96"]) == 0
    out = capsys.readouterr().out
    assert "7.29M parameters" in out
    assert "| L3 | 32 | (1, 256, 2, 3) |" in out


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit):
        main(["nope"])


def test_the_precision_choices_are_the_library_precisions():
    import argparse

    from cgalib.cli import build_parser
    from cgalib.utils.precision import PRECISIONS

    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for name in ("eval", "predict"):
        (flag,) = [a for a in commands.choices[name]._actions if "--precision" in a.option_strings]
        assert tuple(flag.choices) == PRECISIONS


# ------------------- synth, train, eval, predict on a tiny set (the `tiny` fixture of conftest.py)
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
                "--threshold",
                "0",  # an untrained model: every candidate
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.png"))) == 3
    assert json.loads((out / "results.json").read_text())


# -------------------------------------------- a top-down model: eval on three box sources, predict
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
            str(runs["detector"]), "--out", str(out), "--device", "cpu",
            "--threshold", "0"]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results and all(
        r["file_name"] == image.name and len(r["keypoints"]) == 51 for r in results
    )
    assert len(list(out.glob("*.png"))) == 1


# -------------------------------- a custom keypoint set end to end: the checkpoint carries the set
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
    args = ["predict", *inputs, "--checkpoint", ckpt, "--out", str(out), "--threshold", "0"]
    assert main(args) == 0
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


@pytest.fixture(scope="module")
def body14_top_down(tmp_path_factory):
    root = tmp_path_factory.mktemp("body14_top_down")
    paths = make_synthetic_coco(root / "data", 4, 2, size=96, min_height=40, keypoints="body14")
    args = ["train", "--model", "topdown_tnet_d1w16", "--data", str(paths["root"]), "--out",
            str(root / "run"), "--epochs", "1", "--batch", "4", "--input-size", "64x32",
            "--device", "cpu", "--workers", "0"]  # fmt: skip
    assert main(args) == 0
    return root, paths


def test_a_14_joint_top_down_model_trains_and_evaluates_without_flags(body14_top_down, capsys):
    root, paths = body14_top_down
    model = load_model(root / "run" / "model.pt")
    assert model.needs_boxes and model.keypoint_set == BODY14
    out = root / "results.json"
    args = ["eval", "--checkpoint", str(root / "run" / "model.pt"), "--data",
            str(paths["root"]), "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "val keypoints, boxes from the ground truth" in capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results and all(len(r["keypoints"]) == 3 * 14 for r in results)


def test_a_coco_top_down_checkpoint_on_body14_data_is_refused(body14_top_down, capsys):
    root, paths = body14_top_down
    ckpt = root / "coco.pt"
    save_model(create_model("topdown_tnet_d1w16", input_size=(64, 32)), ckpt)
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(paths["root"]), "--device", "cpu",
            "--out", str(root / "coco.json")]  # fmt: skip
    assert main(args) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"cgalib: error: checkpoint {ckpt} predicts 17 keypoints of 'person'")
    assert f"but {paths['val_ann']} has 14 keypoints (left_shoulder" in line
    assert not (root / "coco.json").exists()


# ------------------------------------------------------------------------------------------ export
@pytest.mark.parametrize("dense_only", [False, True])
def test_cli_exports_a_checkpoint(tmp_path, capsys, dense_only):
    pytest.importorskip("onnxruntime")
    checkpoint = tmp_path / "model.pt"
    save_model(distinct_cganet(), checkpoint)
    args = ["export", "--checkpoint", str(checkpoint), "--format", "onnx", "--input-size", "96"]
    assert main(args + (["--dense-only"] if dense_only else [])) == 0
    out = capsys.readouterr().out
    path = tmp_path / ("model_dense.onnx" if dense_only else "model.onnx")
    assert f"onnx: {path}" in out
    if dense_only:
        assert "heatmap: (1, 1, 24, 24)" in out and "line_y: (1, 1, 24, 24)" in out
    else:
        assert "boxes: (1, 5, 4)" in out and "keypoints: (1, 5, 17, 3)" in out
    images = synthetic_images(4)[..., :96, :96].contiguous()
    got = run_onnx(path, images)
    assert got[0].shape == ((1, 1, 24, 24) if dense_only else (1, 5, 4))


def test_cli_writes_where_asked_without_flip_test(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    checkpoint = tmp_path / "model.pt"
    save_model(distinct_cganet(flip_test=True), checkpoint)
    out = tmp_path / "exported" / "net.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "note: flip test is not exported" in printed
    assert out.is_file() and f"onnx: {out} (end to end, input images (1, 3, 128, 128)" in printed


# ------------------------------------------------------------------ signals and interruptions
def _raising(monkeypatch, error):
    """Make ``cgalib models`` raise ``error``."""
    from cgalib import cli

    def handler(pattern):
        raise error

    monkeypatch.setitem(cli._COMMANDS, "models", (cli._add_models, handler))


def test_a_stop_by_a_signal_ends_with_its_status_and_one_line(monkeypatch, capsys):
    from cgalib.utils.signals import Interrupted

    _raising(monkeypatch, Interrupted(15, "stopped by SIGTERM after step 3: last.pt saved"))
    assert main(["models"]) == 143
    assert capsys.readouterr().err == "cgalib: stopped by SIGTERM after step 3: last.pt saved\n"
    monkeypatch.setenv("CGALIB_TRACEBACK", "1")
    assert main(["models"]) == 143  # with the trace, the same status
    assert "Traceback" in capsys.readouterr().err


def test_a_plain_keyboard_interrupt_is_130(monkeypatch, capsys):
    _raising(monkeypatch, KeyboardInterrupt())
    assert main(["models"]) == 130
    assert capsys.readouterr().err == "cgalib: interrupted\n"


def test_a_signal_during_a_command_without_safe_points_stops_it_at_once(monkeypatch, capsys):
    import os
    import signal

    from cgalib import cli

    def handler(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("not reached: the signal raises at once")

    monkeypatch.setitem(cli._COMMANDS, "export", (cli._add_export, handler))
    before = signal.getsignal(signal.SIGTERM)
    assert main(["export", "--checkpoint", "m.pt"]) == 143
    assert capsys.readouterr().err == "cgalib: export stopped by SIGTERM; nothing was written\n"
    assert signal.getsignal(signal.SIGTERM) is before
