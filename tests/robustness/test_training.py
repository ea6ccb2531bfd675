"""Training runs that are interrupted, resumed, reused, misconfigured or that diverge.

The SIGKILL case runs the real ``cgalib train`` command with two loader workers in
subprocesses; the other cases call the command in-process on the same tiny synthetic set,
or ``train_model`` with a tiny regression model where the case is about the loop itself.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import cgalib
from cgalib.cli import main
from cgalib.data import make_synthetic_coco
from cgalib.engine import (
    DistributedContext,
    DivergenceError,
    DivergenceGuard,
    NonFiniteLossError,
    train_model,
)
from cgalib.models import CheckpointError, load_checkpoint
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT

from helpers import RegressionPairs, collate_pairs

REPO = Path(cgalib.__file__).resolve().parent.parent
STEPS_PER_EPOCH = 4  # 8 images, batch 2
MODEL_KWARGS = {
    "input_size": 64,
    "max_train_rois": 4,
    "backbone_kwargs": {"num_blocks": 0, "stem_blocks": 0},
}


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on a shared 2-core machine two threads can be 30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _library_errors(monkeypatch):
    """Let the library's exceptions through `main` so that tests can check their type and text.

    Without `CGALIB_TRACEBACK`, `main` prints the same text as one `cgalib: error:` line
    (tests/robustness/test_cli.py checks that printing)."""
    monkeypatch.setenv("CGALIB_TRACEBACK", "1")


def _argparse_error(capsys, args: list[str]) -> str:
    """Run `main(args)`, expect argparse's exit status 2, return its message without the prefix."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("cgalib train: error: ")
    return last.removeprefix("cgalib train: error: ")


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--model", "cganet_tnet_d1w16",
        "--data", str(data),
        "--out", str(out),
        "--epochs", "2",
        "--batch", "2",
        "--input-size", "64",
        "--device", "cpu",
        "--workers", "2",
        "--log-every", "1",
        "--checkpoint-every", "2",
        "--model-kwargs", json.dumps(MODEL_KWARGS),
        *extra,
    ]  # fmt: skip


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "cgalib.cli", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def _logged_steps(path: Path) -> int:
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text().splitlines()[1:] if line)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "images_per_s"} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def sigkill_runs(tmp_path_factory):
    """An uninterrupted run, and a run killed mid-epoch 2 and resumed, both with 2 workers."""
    root = tmp_path_factory.mktemp("sigkill")
    data = root / "data"
    make_synthetic_coco(data, 2 * STEPS_PER_EPOCH, 0, size=64, min_height=24)
    straight = _cli(*_train_args(data, root / "straight"))
    killed_dir = root / "killed"
    killed = _cli(*_train_args(data, killed_dir))
    # the row of step 7 is logged after the checkpoint of step 6: kill in epoch 2 (steps 5-8)
    deadline = time.monotonic() + 120
    while _logged_steps(killed_dir / "metrics.csv") < 7 and killed.poll() is None:
        assert time.monotonic() < deadline, "the run to kill made no progress"
        time.sleep(0.02)
    assert killed.poll() is None, "the run finished before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    killed_at = int(load_checkpoint(killed_dir / "last.pt", TRAIN_STATE_FORMAT)["step"])
    logged_before = _logged_steps(killed_dir / "metrics.csv")
    _finish(straight)
    resumed_output = _finish(_cli(*_train_args(data, killed_dir, "--resume")))
    return {
        "root": root,
        "data": data,
        "straight": root / "straight",
        "resumed": killed_dir,
        "killed_at": killed_at,
        "logged_before": logged_before,
        "output": resumed_output,
    }


def test_sigkill_mid_epoch_with_workers_resumes_bit_identical(sigkill_runs):
    """`cgalib train --workers 2` killed with SIGKILL in the middle of epoch 2, then run again with `--resume`.

    The run continues from the mid-epoch checkpoint (written every `--checkpoint-every` steps, atomically) and ends with a `model.pt` bit-identical to an uninterrupted run's."""
    assert sigkill_runs["killed_at"] == 6  # the mid-epoch checkpoint of epoch 2
    a = load_checkpoint(sigkill_runs["straight"] / "model.pt")["state_dict"]
    b = load_checkpoint(sigkill_runs["resumed"] / "model.pt")["state_dict"]
    assert list(a) == list(b)
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_sigkill_resume_logs_each_step_once(sigkill_runs):
    """`metrics.csv` of a killed run holds steps past its last checkpoint when the run is resumed.

    The resumed run first cuts the log back to the checkpoint's step (an atomic rewrite), so every step appears once, with the same values as in an uninterrupted run."""
    assert sigkill_runs["logged_before"] > sigkill_runs["killed_at"]  # rows past the checkpoint
    straight = _rows(sigkill_runs["straight"] / "metrics.csv")
    resumed = _rows(sigkill_runs["resumed"] / "metrics.csv")
    assert [r["step"] for r in resumed] == [str(s) for s in range(1, 9)]
    assert resumed == straight


def _copy_run(sigkill_runs, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(sigkill_runs["straight"], run)
    return run


def test_resume_with_another_model_is_one_line(sigkill_runs, tmp_path):
    """`--resume` with a different `--model` than the run was trained with.

    Training stops before loading any weights with one line naming both models and saying to resume with the run's own settings or use another folder; the run folder is untouched."""
    run = _copy_run(sigkill_runs, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    args = _train_args(sigkill_runs["data"], run, "--resume")
    args[args.index("cganet_tnet_d1w16")] = "cganet_tnet_d1w64"
    with pytest.raises(ValueError) as err:
        main(args)
    message = str(err.value)
    assert "\n" not in message
    assert "model=cganet_tnet_d1w64(" in message and "(the run used cganet_tnet_d1w16(" in message
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_resume_with_another_batch_size_is_refused(sigkill_runs, tmp_path):
    """`--resume` with a different `--batch` (which changes the steps per epoch and the schedule).

    Training stops with one line: `batch_size=4 (the run used 2)`, and what to do."""
    run = _copy_run(sigkill_runs, tmp_path)
    args = _train_args(sigkill_runs["data"], run, "--resume")
    args[args.index("--batch") + 1] = "4"
    with pytest.raises(ValueError, match=r"batch_size=4 \(the run used 2\)") as err:
        main(args)
    assert "\n" not in str(err.value)


def test_input_size_that_disagrees_with_model_kwargs_is_refused(sigkill_runs, tmp_path):
    """`--input-size 96` while `--model-kwargs` gives the model `input_size` 64 (here on a `--resume`).

    Training stops before anything is built or loaded with one line naming both sizes; the run folder is untouched."""
    run = _copy_run(sigkill_runs, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    args = _train_args(sigkill_runs["data"], run, "--resume", "--epochs", "3")
    args[args.index("--input-size") + 1] = "96"
    with pytest.raises(
        ValueError, match=r"^input_size=96 disagrees with model_kwargs' input_size=64"
    ):
        main(args)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_resume_with_another_input_size_is_refused(sigkill_runs, tmp_path):
    """`--resume` with another `--input-size` (and the same in `--model-kwargs`), which changes the model's ROI sizes.

    Training stops before loading any weights with one line naming the new and the run's model settings (`input_size=128` against 64)."""
    run = _copy_run(sigkill_runs, tmp_path)
    args = _train_args(sigkill_runs["data"], run, "--resume", "--epochs", "3")
    args[args.index("--input-size") + 1] = "128"
    args[args.index("--model-kwargs") + 1] = json.dumps({**MODEL_KWARGS, "input_size": 128})
    with pytest.raises(ValueError, match=r"cannot resume .* with other settings") as err:
        main(args)
    message = str(err.value)
    assert (
        "input_size=128" in message and "(the run used " in message and "input_size=64" in message
    )
    state = load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)
    assert state["step"] == 2 * STEPS_PER_EPOCH


def test_resume_with_more_epochs_and_another_lr_says_what_happens(sigkill_runs, tmp_path, capsys):
    """`--resume` of a finished run with `--epochs 3` and another `--lr`.

    Training continues from step 8 to 12, after a note listing `lr 0.01 -> 0.001, epochs 2 -> 3` and saying the run is no longer identical to an uninterrupted one."""
    run = _copy_run(sigkill_runs, tmp_path)
    args = _train_args(sigkill_runs["data"], run, "--resume", "--epochs", "3", "--lr", "1e-3")
    assert main([*args, "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "lr 0.01 -> 0.001, epochs 2 -> 3" in out and "no longer identical" in out
    assert load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"] == 3 * STEPS_PER_EPOCH
    rows = _rows(run / "metrics.csv")
    assert [r["step"] for r in rows] == [str(s) for s in range(1, 13)]
    # after step 9 of 12 the new schedule has passed its first drop: 0.001 x 0.1
    assert float(rows[8]["lr"]) == pytest.approx(1e-4)


def test_resume_of_a_finished_run_trains_nothing(sigkill_runs, tmp_path, capsys):
    """`--resume` of a run that already finished all its epochs.

    Nothing is trained or rewritten; a line says the run is complete and `model.pt` is reported."""
    run = _copy_run(sigkill_runs, tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    assert main(_train_args(sigkill_runs["data"], run, "--resume")) == 0
    out = capsys.readouterr().out
    assert "is already complete (step 8 of 8); nothing to train" in out
    assert f"model: {run / 'model.pt'}" in out
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before


def test_resume_with_fewer_epochs_than_done_is_refused(sigkill_runs, tmp_path):
    """`--resume` with `--epochs 1` of a run that has already trained 2 epochs.

    Training stops with one line: the checkpoint is at step 8, past the 1 epoch asked for; resume with `--epochs 2` or more."""
    run = _copy_run(sigkill_runs, tmp_path)
    args = _train_args(sigkill_runs["data"], run, "--resume", "--epochs", "1")
    with pytest.raises(ValueError, match=r"at step 8, past the 1 epochs.*--epochs 2\) or more"):
        main(args)


def test_reusing_a_run_folder_without_resume_is_refused(sigkill_runs, tmp_path):
    """`cgalib train --out` a folder that already holds a run, without `--resume`.

    Training refuses with one line naming the folder and its `last.pt`, `model.pt`, and saying to pass `--resume` or use another folder; nothing in it changes, so two runs are never mixed."""
    run = _copy_run(sigkill_runs, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(
        FileExistsError, match=r"already holds a training run \(last.pt, model.pt\)"
    ):
        main(_train_args(sigkill_runs["data"], run))
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_epochs_zero_is_refused_and_writes_nothing(sigkill_runs, tmp_path, capsys):
    """`cgalib train --epochs 0`, which used to report a `model.pt` it never wrote.

    Training stops before building anything with one line, `epochs must be at least 1, got 0`, and creates no run folder."""
    out = tmp_path / "ep0"
    args = _train_args(sigkill_runs["data"], out)
    args[args.index("--epochs") + 1] = "0"
    assert _argparse_error(capsys, args) == "argument --epochs: must be at least 1, got 0"
    assert not out.exists()


def test_batch_larger_than_the_data_set_is_one_line(sigkill_runs, tmp_path):
    """`cgalib train --batch 16` on a data set of 8 images.

    Training stops with one line: the data set has 8 images, fewer than one batch of 16; lower `--batch` or add images."""
    args = _train_args(sigkill_runs["data"], tmp_path / "run")
    args[args.index("--batch") + 1] = "16"
    with pytest.raises(ValueError, match=r"has 8 images, fewer than one batch of 16; lower"):
        main(args)


def test_model_kwargs_that_are_not_json_are_one_line(sigkill_runs, tmp_path, capsys):
    """`cgalib train --model-kwargs "{input_size: 64}"` (unquoted keys, not JSON).

    Training stops before building anything with one line quoting the flag's value, the JSON error and an example of a valid object."""
    args = _train_args(sigkill_runs["data"], tmp_path / "run")
    args[args.index("--model-kwargs") + 1] = "{input_size: 64}"
    line = _argparse_error(capsys, args)
    assert line.startswith("argument --model-kwargs: not valid JSON (Expecting property name")
    assert "'{input_size: 64}'" in line and "such as '{\"input_size\": 256}'" in line
    assert not (tmp_path / "run").exists()


def test_resume_without_a_checkpoint_is_one_line(sigkill_runs, tmp_path):
    """`cgalib train --resume` into a folder with no `last.pt`.

    Training stops with one line naming the missing `last.pt` and saying to train without `--resume`."""
    with pytest.raises(FileNotFoundError, match=r"no checkpoint .*last.pt .*without resume"):
        main(_train_args(sigkill_runs["data"], tmp_path / "new", "--resume"))


def test_resume_from_a_damaged_last_pt_is_one_line(sigkill_runs, tmp_path):
    """`cgalib train --resume` whose `last.pt` was cut short (a full disk, a bad copy).

    Training stops with one `CheckpointError` line: the file is a damaged or truncated PyTorch file, a cgalib training state was expected."""
    run = _copy_run(sigkill_runs, tmp_path)
    data = (run / "last.pt").read_bytes()
    (run / "last.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"last.pt is a damaged or truncated PyTorch file"):
        main(_train_args(sigkill_runs["data"], run, "--resume"))


def test_resume_from_a_model_pt_renamed_last_pt_is_one_line(sigkill_runs, tmp_path):
    """`cgalib train --resume` whose `last.pt` is in fact a copy of `model.pt` (weights only).

    Training stops with one line: the file is a model checkpoint, not a training state."""
    run = _copy_run(sigkill_runs, tmp_path)
    shutil.copy(run / "model.pt", run / "last.pt")
    with pytest.raises(CheckpointError, match=r"is a model checkpoint \(a model.pt\), not a"):
        main(_train_args(sigkill_runs["data"], run, "--resume"))


# ---------------------------------------------------------------- the loop, with a tiny model
class _Regressor(nn.Module):
    def __init__(self, explode_after=None, stop_at_call=None):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(192, 8), nn.ReLU(), nn.Linear(8, 1))
        self.explode_after, self.stop_at_call, self.calls = explode_after, stop_at_call, 0

    def forward(self, images, targets):
        self.calls += 1
        if self.calls == self.stop_at_call:
            raise KeyboardInterrupt
        y = torch.cat([t["y"] for t in targets])
        err = (self.net(images)[:, 0] - y).square().mean() + torch.rand(()) * 1e-3
        if self.explode_after is not None and self.calls > self.explode_after:
            err = err * 1e18
        return {"fit": err}


def _fit(out, model_class=None, model_kwargs=None, **kw):
    torch.manual_seed(0)  # the same initial weights in every run
    model = (model_class or _Regressor)(**(model_kwargs or {}))
    kw = {"epochs": 4, "batch_size": 4, "lr": 0.05, "warmup_steps": 2, **kw}
    train_model(model, RegressionPairs(), collate_pairs, out, num_workers=0, context=DistributedContext(), **kw)
    return model


def test_lr_1e4_diverges_with_a_clear_message(tmp_path):
    """`--lr 1e4`, whose loss climbs to 1e21 but stays finite, so the run used to end with rc 0.

    The divergence guard stops it after 50 steps above 10x the running median with `DivergenceError` naming the steps and saying that no checkpoint was written yet (every periodic save during the excursion was postponed)."""
    with pytest.raises(DivergenceError) as err:
        _fit(tmp_path, lr=1e4, epochs=20)
    message = str(err.value)
    assert message.startswith("training diverged at step 51:") and "since step 2" in message
    assert (
        "no checkpoint was written yet; lower the learning rate (--lr) and start again" in message
    )
    assert not (tmp_path / "last.pt").exists() and not (tmp_path / "model.pt").exists()


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    """A loss that jumps from 0.1 to 1e17 after two good epochs and stays there.

    Training stops with `DivergenceError` once the guard's patience is spent; `last.pt` and `model.pt` are those of step 8, the last step before the divergence, and the message names them."""
    guard = DivergenceGuard(patience=6)
    with pytest.raises(DivergenceError, match=r"last.pt at step 8, is kept; lower the learning"):
        _fit(tmp_path, model_kwargs={"explode_after": 8}, divergence_guard=guard)
    assert load_checkpoint(tmp_path / "last.pt", TRAIN_STATE_FORMAT)["step"] == 8
    assert load_checkpoint(tmp_path / "model.pt")["extra"]["step"] == 8


def test_non_finite_loss_names_the_kept_checkpoint(tmp_path):
    """A loss term that becomes NaN in the middle of epoch 2.

    Training stops at once with `NonFiniteLossError` naming the step, the term and the checkpoint kept (end of epoch 1)."""

    class _NaN(_Regressor):
        def forward(self, images, targets):
            losses = super().forward(images, targets)
            return {**losses, "bad": losses["fit"] * (float("nan") if self.calls == 6 else 0)}

    with pytest.raises(
        NonFiniteLossError, match=r"step 6: bad=nan; the last checkpoint, .*step 4,"
    ):
        _fit(tmp_path, _NaN)


def test_time_limit_mid_epoch_resumes_exactly(tmp_path):
    """A run stopped by its time limit in the middle of an epoch, then resumed.

    The checkpoint records the step inside the epoch (it used to claim the whole epoch was done and skip its rest); the resumed run ends bit-identical to an uninterrupted one."""
    straight = _fit(tmp_path / "a")
    _fit(tmp_path / "b", time_limit=0.0)  # stops after the first step
    assert load_checkpoint(tmp_path / "b" / "last.pt", TRAIN_STATE_FORMAT)["step"] == 1
    resumed = _fit(tmp_path / "b", resume=True)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_log_without_checkpoint_is_kept_aside(tmp_path, capsys):
    """A run folder holding only the `metrics.csv` of a run that stopped before its first checkpoint, trained into again.

    The old log is renamed `metrics.1.csv` (nothing is lost, nothing mixed), a note says so, and the new run starts a new `metrics.csv`."""
    with pytest.raises(DivergenceError):
        _fit(tmp_path, lr=1e4, epochs=20)
    old = (tmp_path / "metrics.csv").read_text()
    _fit(tmp_path, epochs=1)
    assert "was renamed metrics.1.csv" in capsys.readouterr().out
    assert (tmp_path / "metrics.1.csv").read_text() == old
    assert _logged_steps(tmp_path / "metrics.csv") == 1  # the new run's one epoch-end row


def _changed_data(sigkill_runs, tmp_path, edit) -> Path:
    """A copy of the run's data whose annotation file ``edit(annotations)`` changed."""
    data = tmp_path / "data"
    shutil.copytree(sigkill_runs["data"], data)
    ann_file = data / "annotations" / "person_keypoints_train.json"
    annotations = json.loads(ann_file.read_text())
    edit(annotations)
    ann_file.write_text(json.dumps(annotations))
    return data


def test_resume_after_the_data_changed(sigkill_runs, tmp_path):
    """`--resume` after the annotation file was edited (a keypoint moved), with the same number of images, so the data set size check saw nothing.

    Training stops before any step with one line naming what changed (the people of 1 image, the first by id and file name) and saying to resume with the run's data or start a new run."""
    run = _copy_run(sigkill_runs, tmp_path)

    def move_a_keypoint(annotations):
        annotations["annotations"][0]["keypoints"][0] += 5

    data = _changed_data(sigkill_runs, tmp_path, move_a_keypoint)
    image = json.loads((data / "annotations" / "person_keypoints_train.json").read_text())
    first = image["annotations"][0]["image_id"]
    name = next(i["file_name"] for i in image["images"] if i["id"] == first)
    args = _train_args(data, run, "--resume", "--epochs", "3")
    with pytest.raises(ValueError) as err:
        main(args)
    assert str(err.value) == (
        f"cannot resume {run / 'last.pt'}: its training data changed since the run started: "
        f"the people (ids, boxes or keypoints) of 1 image (first: id {first}, {name}); resume "
        "with the run's data or start a new run in another folder"
    )
    assert load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"] == 2 * STEPS_PER_EPOCH


def test_resume_after_an_image_was_swapped(sigkill_runs, tmp_path):
    """`--resume` after two images' file names were swapped in the annotation file (a relabelled or re-exported set), same count.

    Training stops before any step with one line naming the 2 images whose file name or size changed."""
    run = _copy_run(sigkill_runs, tmp_path)

    def swap(annotations):
        a, b = annotations["images"][:2]
        a["file_name"], b["file_name"] = b["file_name"], a["file_name"]

    data = _changed_data(sigkill_runs, tmp_path, swap)
    with pytest.raises(ValueError, match=r"data changed .*: the file name or size of 2 images "):
        main(_train_args(data, run, "--resume", "--epochs", "3"))


def test_resume_after_the_file_was_only_reformatted(sigkill_runs, tmp_path, capsys):
    """`--resume` after the annotation file was rewritten without a change to its data (indented, its annotations in another order).

    The data is the same, so the run continues."""
    run = _copy_run(sigkill_runs, tmp_path)

    def reorder(annotations):
        annotations["annotations"].reverse()
        annotations["images"].reverse()

    data = _changed_data(sigkill_runs, tmp_path, reorder)
    assert main([*_train_args(data, run, "--resume", "--epochs", "3"), "--workers", "0"]) == 0
    assert load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"] == 3 * STEPS_PER_EPOCH


def test_resume_of_a_last_pt_without_a_data_fingerprint(sigkill_runs, tmp_path, capsys):
    """`--resume` of a `last.pt` written by an earlier cgalib, which kept no fingerprint of its data.

    The run continues, after a note saying that whether the data changed could not be checked."""
    from cgalib.models.checkpoint import save_checkpoint

    run = _copy_run(sigkill_runs, tmp_path)
    state = load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)
    del state["data"]
    content = {k: v for k, v in state.items() if k not in ("format", "digest")}
    save_checkpoint(content, run / "last.pt", TRAIN_STATE_FORMAT)
    args = [*_train_args(sigkill_runs["data"], run, "--resume", "--epochs", "3"), "--workers", "0"]
    assert main(args) == 0
    assert (
        f"note: {run / 'last.pt'} holds no fingerprint of its training data (written by an "
        "earlier cgalib); whether the data changed since could not be checked"
    ) in capsys.readouterr().out
