"""The command line: bad flag values, library errors as one line, predict on bad folders."""

import json

import pytest
import torch

from cgalib import create_model, save_model
from cgalib.cli import main
from robustness.io_helpers import write_image, write_truncated_jpeg


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("cganet_tnet_d1w16", input_size=64), path)
    return path


def _usage_error(capsys, argv) -> str:
    """The one error line argparse prints for ``argv`` (it exits with status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    return line


def _run(capsys, argv) -> tuple[int, list[str], list[str]]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_eval_batch_zero(capsys):
    """`cgalib eval --batch 0`.

    argparse stops with one line naming the flag: `argument --batch: must be at least 1,
    got 0` (exit status 2)."""
    line = _usage_error(capsys, ["eval", "--checkpoint", "m.pt", "--data", "d", "--batch", "0"])
    assert line == "cgalib eval: error: argument --batch: must be at least 1, got 0"


def test_model_kwargs_not_json(capsys):
    """`cgalib train --model-kwargs '{bad'`.

    argparse stops with one line naming --model-kwargs and the JSON error, before any
    training starts."""
    line = _usage_error(capsys, ["train", "--data", "d", "--out", "o", "--model-kwargs", "{bad"])
    assert line.startswith("cgalib train: error: argument --model-kwargs: not valid JSON")


def test_model_kwargs_not_an_object(capsys):
    """`cgalib train --model-kwargs '[1, 2]'` (JSON, but not an object).

    argparse stops with one line naming --model-kwargs and showing an object example."""
    line = _usage_error(capsys, ["train", "--data", "d", "--out", "o", "--model-kwargs", "[1, 2]"])
    assert "argument --model-kwargs: must be a JSON object such as" in line


@pytest.mark.parametrize("value", ["0", "-64"])
def test_predict_input_size_zero(capsys, value):
    """`cgalib predict --input-size 0` (formerly ignored silently, falling back to the
    model's size).

    argparse stops with one line naming --input-size and its minimum, 1."""
    line = _usage_error(
        capsys, ["predict", "x.jpg", "--checkpoint", "m.pt", "--out", "o", "--input-size", value]
    )
    assert line == f"cgalib predict: error: argument --input-size: must be at least 1, got {value}"


def test_input_size_not_a_multiple_of_32(capsys, checkpoint, tmp_path):
    """`cgalib eval --input-size 500` for a model whose input sides are multiples of 32.

    The model's input rule refuses it before anything runs: one line naming --input-size
    and suggesting 512x512; exit status 1, nothing written."""
    argv = ["eval", "--checkpoint", checkpoint, "--data", tmp_path, "--input-size", "500",
            "--out", tmp_path / "r.json"]  # fmt: skip
    code, _, err = _run(capsys, argv)
    assert code == 1 and err == [
        "cgalib: error: --input-size 500x500: every side must be a positive multiple of 32 "
        "(e.g. 512x512)"
    ]
    assert not (tmp_path / "r.json").exists()


def test_summary_height_zero(capsys):
    """`cgalib summary tnet_d1w64 --height 0`.

    argparse stops with one line naming --height and its minimum, 1."""
    line = _usage_error(capsys, ["summary", "tnet_d1w64", "--height", "0"])
    assert line == "cgalib summary: error: argument --height: must be at least 1, got 0"


def test_export_size_and_batch(capsys, checkpoint):
    """`cgalib export --input-size 100`, `--input-size 256x192` or `--batch 0`.

    The model's input rule refuses a side that is not a multiple of 32, and a non-square
    size for a model sized by one side (one line, exit status 1); argparse refuses batch 0."""
    base = ["export", "--checkpoint", checkpoint]
    code, _, err = _run(capsys, base + ["--input-size", "100"])
    assert code == 1 and err == [
        "cgalib: error: --input-size 100x100: every side must be a positive multiple of 32 "
        "(e.g. 128x128)"
    ]
    code, _, err = _run(capsys, base + ["--input-size", "256x192"])
    assert code == 1 and err[0].startswith(
        "cgalib: error: --input-size 256x192: this model takes one side"
    )
    assert "argument --batch: must be at least 1" in _usage_error(
        capsys, ["export", "--checkpoint", "m.pt", "--batch", "0"]
    )


@pytest.mark.parametrize("value", ["50", "-0.1", "nan"])
def test_predict_threshold_out_of_range(capsys, value):
    """`cgalib predict --threshold 50` (a percentage), a negative value or nan.

    argparse stops with one line saying --threshold must be in [0, 1]."""
    line = _usage_error(
        capsys, ["predict", "x.jpg", "--checkpoint", "m", "--out", "o", "--threshold", value]
    )
    assert f"argument --threshold: must be in [0, 1], got {value}" in line


@pytest.mark.parametrize("value", ["0", "-0.001", "inf"])
def test_train_learning_rate_not_positive(capsys, value):
    """`cgalib train --lr 0` (or negative, or inf).

    argparse stops with one line saying --lr must be a positive finite number."""
    line = _usage_error(capsys, ["train", "--data", "d", "--out", "o", "--lr", value])
    assert f"argument --lr: must be a finite number > 0, got {value}" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
@pytest.mark.parametrize("command", ["eval", "predict", "train"])
def test_device_cuda_without_cuda(capsys, command):
    """`--device cuda` on a machine without CUDA, in eval, predict or train.

    argparse stops with the same one line in every command, naming --device and saying to
    use 'cpu' (formerly an AssertionError from inside PyTorch in eval and predict)."""
    argv = {
        "eval": ["eval", "--checkpoint", "m", "--data", "d"],
        "predict": ["predict", "x.jpg", "--checkpoint", "m", "--out", "o"],
        "train": ["train", "--data", "d", "--out", "o"],
    }[command]
    line = _usage_error(capsys, argv + ["--device", "cuda"])
    assert line.endswith(
        "argument --device: device 'cuda' needs CUDA, but "
        "torch.cuda.is_available() is False here (no GPU, or a CPU-only "
        "PyTorch build); use 'cpu'"
    )


def test_unknown_device_name(capsys):
    """`cgalib predict --device gpu` (not a PyTorch device name).

    argparse stops with one line naming --device and the names it accepts."""
    line = _usage_error(
        capsys, ["predict", "x", "--checkpoint", "m", "--out", "o", "--device", "gpu"]
    )
    assert line.endswith(
        "argument --device: unknown device 'gpu'; use 'cpu', 'cuda', 'cuda:N' or 'mps'"
    )


def test_library_error_is_one_line(capsys, tmp_path):
    """`cgalib predict` with a checkpoint path that does not exist.

    It prints one line, `cgalib: error: checkpoint not found: <path>`, no traceback, and
    exits with status 1."""
    code, out, err = _run(
        capsys, ["predict", "x.jpg", "--checkpoint", tmp_path / "no.pt", "--out", tmp_path]
    )
    assert code == 1 and err == [f"cgalib: error: checkpoint not found: {tmp_path / 'no.pt'}"]


def test_unknown_model_is_one_line(capsys):
    """`cgalib summary` with a model name that is not registered.

    It prints one line, `cgalib: error: unknown model '...'; registered models: ...`
    (without KeyError's quotes), and exits with status 1."""
    code, _, err = _run(capsys, ["summary", "tnet_nope"])
    assert code == 1 and len(err) == 1
    assert err[0].startswith("cgalib: error: unknown model 'tnet_nope'; registered models: ")


def test_traceback_flag_shows_the_full_error(tmp_path):
    """`cgalib --traceback predict` with a missing checkpoint.

    The error propagates with its full Python trace (here: the FileNotFoundError itself),
    for bug reports."""
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        main(["--traceback", "predict", "x", "--checkpoint", str(tmp_path / "no.pt"), "--out", "o"])


def test_eval_out_is_a_folder(capsys, tmp_path):
    """`cgalib eval --out <an existing folder>`.

    It stops before loading the model or evaluating, with one line saying --out is a folder
    and to give the results file (exit status 1), so no evaluation is thrown away."""
    code, _, err = _run(
        capsys, ["eval", "--checkpoint", tmp_path / "no.pt", "--data", tmp_path, "--out", tmp_path]
    )
    assert code == 1 and err == [
        f"cgalib: error: --out {tmp_path} is a folder; give the results file to write"
    ]


def test_predict_folder_with_a_truncated_jpeg(capsys, tmp_path, checkpoint):
    """`cgalib predict photos/` where one of the JPEGs is truncated.

    One line `cgalib: warning: skipped 2.jpg: cannot read image ...` and a closing count
    go to stderr; the other images are predicted, results.json is written and the exit
    status is 0."""
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "1.jpg", seed=1)
    write_truncated_jpeg(photos / "2.jpg")
    write_image(photos / "3.jpg", seed=3)
    out = tmp_path / "out"
    code, stdout, err = _run(
        capsys, ["predict", photos, "--checkpoint", checkpoint, "--out", out, "--threshold", "0"]
    )
    assert code == 0
    warning_lines = [x for x in err if x.startswith("cgalib: warning:")]
    assert len(warning_lines) == 1 and warning_lines[0].startswith(
        "cgalib: warning: skipped 2.jpg: cannot read image"
    )
    assert "skipped 1 input(s), see the warnings above" in err
    assert stdout == [
        f"results: {out / 'results.json'} (2 pictures, 40 people scored 0 or more; --threshold 0 "
        "keeps every candidate)"
    ]
    assert {r["file_name"] for r in json.loads((out / "results.json").read_text())} == {
        "1.jpg",
        "3.jpg",
    }
    assert sorted(p.name for p in out.glob("*.png")) == ["1.jpg.png", "3.jpg.png"]


def test_predict_nothing_readable(capsys, tmp_path, checkpoint):
    """`cgalib predict` where no input can be read (a truncated JPEG and a missing file).

    A warning line for each, then `cgalib: error: none of the inputs could be read (2
    skipped: ...)`; exit status 1 and no results.json."""
    write_truncated_jpeg(tmp_path / "cut.jpg")
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        [
            "predict",
            tmp_path / "cut.jpg",
            tmp_path / "gone.jpg",
            "--checkpoint",
            checkpoint,
            "--out",
            out,
        ],
    )
    assert code == 1
    assert [x.split(":")[1] for x in err if x.startswith("cgalib:")] == [
        " warning",
        " warning",
        " error",
    ]
    assert "none of the inputs could be read (2 skipped" in err[-1]
    assert not (out / "results.json").exists()


def test_predict_strict(capsys, tmp_path, checkpoint):
    """`cgalib predict photos/ --strict` where the second of three images is truncated.

    It stops there with one error line naming the file and saying the picture before it is
    saved; exit status 1, and results.json holds that first picture."""
    write_image(tmp_path / "1.jpg")
    write_truncated_jpeg(tmp_path / "2.jpg")
    write_image(tmp_path / "3.jpg")
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        ["predict", tmp_path, "--checkpoint", checkpoint, "--out", out, "--strict", "--threshold", "0"],
    )
    assert code == 1 and len([x for x in err if x.startswith("cgalib:")]) == 1
    assert "2.jpg" in err[-1] and "strict: stopped; the 1 picture(s) before it are in" in err[-1]
    assert {r["file_name"] for r in json.loads((out / "results.json").read_text())} == {"1.jpg"}


def test_predict_same_name_in_two_folders(capsys, tmp_path, checkpoint):
    """`cgalib predict a/photo.jpg b/photo.jpg`.

    Two drawings (out/a/photo.jpg.png, out/b/photo.jpg.png) and results for both names,
    instead of the second overwriting the first."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "photo.jpg", seed=len(folder))
    out = tmp_path / "out"
    code, _, _ = _run(
        capsys,
        [
            "predict",
            tmp_path / "a" / "photo.jpg",
            tmp_path / "b" / "photo.jpg",
            "--checkpoint",
            checkpoint,
            "--out",
            out,
            "--threshold",
            "0",
        ],
    )
    assert code == 0
    names = {r["file_name"] for r in json.loads((out / "results.json").read_text())}
    assert names == {"a/photo.jpg", "b/photo.jpg"}
    assert (out / "a" / "photo.jpg.png").is_file() and (out / "b" / "photo.jpg.png").is_file()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    pytest.importorskip("av")
    pytest.importorskip("scipy")
    from cgalib.video import synthetic_clip

    path = tmp_path_factory.mktemp("clip") / "walk.mp4"
    return synthetic_clip(num_frames=6, width=64, height=48, num_people=1).write(path)


def test_predict_a_video_and_an_image_together(capsys, tmp_path, checkpoint, clip):
    """`cgalib predict walk.mp4 photo.jpg`: a video beside a picture.

    The picture goes to results.json and its drawing; the video is tracked and smoothed
    into walk.mp4.poses.json (every frame, with its timestamp) and walk.mp4.poses.mp4."""
    write_image(tmp_path / "photo.jpg", seed=1)
    out = tmp_path / "out"
    argv = ["predict", clip, tmp_path / "photo.jpg", "--checkpoint", checkpoint, "--out", out]
    code, stdout, _ = _run(capsys, [*argv, "--device", "cpu", "--max-frames", "4"])
    assert code == 0
    assert stdout[0].startswith(f"results: {out / 'results.json'} (1 pictures")
    assert stdout[1] == f"video results: {out / 'walk.mp4.poses.json'}"
    data = json.loads((out / "walk.mp4.poses.json").read_text())
    assert [f["index"] for f in data["frames"]] == [0, 1, 2, 3]
    assert data["frames"][1]["time"] == pytest.approx(1 / 25)
    assert (out / "walk.mp4.poses.mp4").is_file() and (out / "photo.jpg.png").is_file()


def test_predict_a_truncated_video(capsys, tmp_path, checkpoint, clip):
    """`cgalib predict cut.mp4 photo.jpg` where the video file is cut in the middle.

    One warning names the video and the damage; the picture is still predicted and the exit
    status is 0 (with `--strict`, the error stops the run)."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    write_image(tmp_path / "photo.jpg", seed=1)
    argv = ["predict", cut, tmp_path / "photo.jpg", "--checkpoint", checkpoint]
    code, _, err = _run(capsys, [*argv, "--out", tmp_path / "out", "--device", "cpu"])
    assert code == 0
    warning = [x for x in err if x.startswith("cgalib: warning: skipped")]
    assert len(warning) == 1 and str(cut) in warning[0]
    assert (tmp_path / "out" / "results.json").is_file()
    code, _, err = _run(capsys, [*argv, "--out", tmp_path / "strict", "--strict"])
    assert code == 1 and str(cut) in err[-1]


@pytest.fixture(scope="module")
def top_down_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt_td") / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("topdown_tnet_d1w16", input_size=(64, 64)), path)
    return path


def test_train_input_size_with_three_sides(capsys):
    """`cgalib train --input-size 256x192x3`.

    argparse stops with one line: a side or HxW such as 256x192 was expected."""
    line = _usage_error(capsys, ["train", "--data", "d", "--out", "o", "--input-size", "256x192x3"])
    assert line.endswith("expected a side or HxW such as 256x192, got '256x192x3'")


def test_train_input_size_not_a_multiple_of_32(capsys, tmp_path):
    """`cgalib train --model topdown_tnet_d1w16 --input-size 256x190`.

    The model's input rule refuses it when the model is built, before the first step: one
    line naming the size and the nearest valid one (256x192); exit status 1, no run written."""
    from cgalib.data import make_synthetic_coco

    paths = make_synthetic_coco(tmp_path / "data", num_train=1, num_val=0, size=64)
    argv = ["train", "--model", "topdown_tnet_d1w16", "--data", paths["root"], "--out",
            tmp_path / "run", "--input-size", "256x190", "--device", "cpu"]  # fmt: skip
    code, _, err = _run(capsys, argv)
    assert code == 1 and err[-1] == (
        "cgalib: error: input size 256x190: every side must be a positive multiple of 32 "
        "(e.g. 256x192)"
    )
    assert not (tmp_path / "run" / "model.pt").exists()


def test_boxes_for_a_multi_person_checkpoint(capsys, checkpoint, tmp_path):
    """`cgalib eval --boxes gt` with a CGANet checkpoint, which finds the people itself.

    One line: `--boxes is for top-down checkpoints`, naming the checkpoint; exit status 1,
    nothing written."""
    argv = ["eval", "--checkpoint", checkpoint, "--data", tmp_path, "--boxes", "gt",
            "--out", tmp_path / "r.json"]  # fmt: skip
    code, _, err = _run(capsys, argv)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"cgalib: error: --boxes is for top-down checkpoints; {checkpoint}")
    assert not (tmp_path / "r.json").exists()


def test_detector_for_a_multi_person_checkpoint(capsys, checkpoint, tmp_path):
    """`cgalib predict --detector other.pt` with a CGANet checkpoint.

    One line: `--detector is for top-down checkpoints`, naming the checkpoint; exit status
    1, no output folder."""
    argv = ["predict", tmp_path, "--checkpoint", checkpoint, "--detector", checkpoint,
            "--out", tmp_path / "out"]  # fmt: skip
    code, _, err = _run(capsys, argv)
    assert code == 1 and err == [
        f"cgalib: error: --detector is for top-down checkpoints; {checkpoint} holds a "
        "multi-person model that finds the people itself: leave out --detector"
    ]
    assert not (tmp_path / "out").exists()


def test_top_down_predict_without_a_detector(capsys, top_down_checkpoint, tmp_path):
    """`cgalib predict photos/ --checkpoint topdown.pt` without `--detector`.

    One line: the checkpoint holds a top-down model that needs person boxes, give
    `--detector` with a CGANet checkpoint; exit status 1, no output folder."""
    argv = ["predict", tmp_path, "--checkpoint", top_down_checkpoint, "--out", tmp_path / "o"]
    code, _, err = _run(capsys, argv)
    assert code == 1 and len(err) == 1
    assert "holds a top-down model, which needs person boxes: give --detector" in err[0]
    assert not (tmp_path / "o").exists()


def test_top_down_detector_that_is_not_a_cganet(capsys, top_down_checkpoint, tmp_path):
    """`cgalib predict --checkpoint topdown.pt --detector topdown.pt` (a top-down model as the detector).

    One line naming the detector checkpoint and saying it needs a model that finds people
    on its own (a CGANet); exit status 1."""
    argv = ["predict", tmp_path, "--checkpoint", top_down_checkpoint,
            "--detector", top_down_checkpoint, "--out", tmp_path / "o"]  # fmt: skip
    code, _, err = _run(capsys, argv)
    assert code == 1 and err == [
        f"cgalib: error: --detector {top_down_checkpoint} holds a top-down model, which needs "
        "person boxes itself; give the checkpoint of a model that finds people on its own "
        "(e.g. a CGANet)"
    ]


def test_predict_with_weights_that_know_synthetic_people_only(capsys, tmp_path):
    """`cgalib predict photo.jpg --checkpoint cganet_tnet_d1w16.synthetic`: the shipped weights, trained on cgalib's synthetic people, on a user's picture; their skeletons on photos are scrambled and nothing used to say why.

    One warning line says the weights know synthetic people only and where weights for photos come from; the picture is still predicted."""
    write_image(tmp_path / "photo.jpg", seed=4)
    code, stdout, err = _run(capsys, ["predict", tmp_path / "photo.jpg", "--checkpoint",
                                      "cganet_tnet_d1w16.synthetic", "--out", tmp_path / "out"])  # fmt: skip
    assert code == 0 and stdout[0].startswith("results: ")
    assert [line for line in err if line.startswith("cgalib: warning:")] == [
        "cgalib: warning: cganet_tnet_d1w16.synthetic was trained on cgalib's synthetic people "
        "only: on photos its poses are unreliable (weights for photos come from cgalib train on "
        "COCO)"
    ]
