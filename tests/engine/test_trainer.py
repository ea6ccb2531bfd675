"""The training loop: train_model on a tiny regression (checkpoints, exact resumes, time
budgets, two gloo processes, workers), and train(), the whole pipeline from a data folder."""

import json
import os
import signal
import socket
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from pycocotools import mask as mask_utils
from torch import nn

from cgalib.cli import main
from cgalib.data import make_synthetic_coco
from cgalib.engine import DistributedContext, NonFiniteLossError, train_model
from cgalib.engine.trainer import train
from cgalib.eval import evaluate_coco
from cgalib.inference import Predictor, predict_media
from cgalib.models import load_model
from cgalib.utils.signals import Interrupted

from helpers import FakeClock, RegressionPairs, collate_pairs


class _Regressor(nn.Module):
    def __init__(self, nan_at_call=None, interrupt_at_call=None, signal_at_call=None):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(192, 8), nn.ReLU(), nn.Linear(8, 1))
        self.nan_at_call, self.interrupt_at_call, self.calls = nan_at_call, interrupt_at_call, 0
        self.signal_at_call = signal_at_call  # {call: signal(s)} sent to this process mid-step

    def forward(self, images, targets):
        self.calls += 1
        if self.calls == self.interrupt_at_call:
            raise KeyboardInterrupt
        sent = (self.signal_at_call or {}).get(self.calls, ())
        for signum in sent if isinstance(sent, tuple) else (sent,):
            os.kill(os.getpid(), signum)
        y = torch.cat([t["y"] for t in targets])
        err = (self.net(images)[:, 0] - y).square().mean()
        noise = torch.rand(()) * 1e-3  # consumes the RNG, so resume must restore it
        if self.nan_at_call == self.calls:
            return {"fit": err, "bad": err * float("nan")}
        return {"fit": err + noise, "other": err * 0.5}


def _fit(out, epochs, resume=False, model_kwargs=None, **kw):
    torch.manual_seed(0)
    model = _Regressor(**(model_kwargs or {}))
    path = train_model(
        model,
        RegressionPairs(),
        collate_pairs,
        out,
        epochs=epochs,
        batch_size=4,
        lr=0.05,
        warmup_steps=2,
        num_workers=0,
        resume=resume,
        log_every=1,
        context=DistributedContext(),
        **kw,
    )
    return model, path


def test_writes_checkpoints_metrics_and_learns(tmp_path):
    model, path = _fit(tmp_path, epochs=6)
    assert path == tmp_path / "model.pt" and path.is_file() and (tmp_path / "last.pt").is_file()
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0] == "epoch,step,lr,loss,fit,other,images_per_s"
    assert len(rows) == 1 + 6 * 4
    first, last = float(rows[1].split(",")[3]), float(rows[-1].split(",")[3])
    assert last < first
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_resume_continues_exactly(tmp_path):
    straight, _ = _fit(tmp_path / "a", epochs=4)
    with pytest.raises(KeyboardInterrupt):  # interrupted during the third epoch
        _fit(tmp_path / "b", epochs=4, model_kwargs={"interrupt_at_call": 10})
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=False)["epoch"] == 2
    resumed, _ = _fit(tmp_path / "b", epochs=4, resume=True)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    state = torch.load(tmp_path / "b" / "last.pt", weights_only=False)
    assert state["step"] == 16 and state["epoch"] == 4


def test_a_cosine_decay_resumes_exactly_and_ends_near_zero(tmp_path):
    straight, _ = _fit(tmp_path / "a", epochs=4, lr_decay="cosine")
    with pytest.raises(KeyboardInterrupt):  # interrupted during the third epoch
        _fit(tmp_path / "b", epochs=4, lr_decay="cosine", model_kwargs={"interrupt_at_call": 10})
    resumed, _ = _fit(tmp_path / "b", epochs=4, resume=True, lr_decay="cosine")
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    rates = [float(row.split(",")[2]) for row in _rows(tmp_path / "a" / "metrics.csv")[1:]]
    # each row holds the rate after its step, the next step's: (1 + cos(pi * step / 16)) / 2
    assert rates[2] == pytest.approx(0.05 * (1 + np.cos(np.pi * 3 / 16)) / 2)
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)
    assert _rows(tmp_path / "b" / "metrics.csv") == _rows(tmp_path / "a" / "metrics.csv")


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="last.pt"):
        _fit(tmp_path, epochs=1, resume=True)


def test_non_finite_loss_names_the_step_and_term(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"step 3: bad=nan; no checkpoint was written yet"):
        _fit(tmp_path, epochs=1, model_kwargs={"nan_at_call": 3})


def test_time_limit_stops_with_a_checkpoint(tmp_path):
    _fit(tmp_path, epochs=50, time_limit=0.0)
    state = torch.load(tmp_path / "last.pt", weights_only=False)
    assert state["step"] == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_signal_finishes_the_step_saves_and_resumes_exactly(tmp_path):
    straight, _ = _fit(tmp_path / "a", epochs=4)
    with pytest.raises(Interrupted) as err:  # SIGTERM in the middle of step 6 (epoch 2)
        _fit(tmp_path / "b", epochs=4, model_kwargs={"signal_at_call": {6: signal.SIGTERM}})
    assert err.value.exit_status == 143
    run = tmp_path / "b"
    assert str(err.value) == (
        f"stopped by SIGTERM after step 6: {run / 'last.pt'} and model.pt saved; resume=True "
        "(--resume) continues the run"
    )
    assert torch.load(run / "last.pt", weights_only=False)["step"] == 6
    assert torch.load(run / "model.pt", weights_only=False)["extra"]["step"] == 6
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 6
    resumed, _ = _fit(run, epochs=4, resume=True)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


@pytest.mark.usefixtures("default_stop_signals")
def test_a_second_signal_stops_at_once_and_names_the_kept_checkpoint(tmp_path):
    twice = {6: (signal.SIGINT, signal.SIGINT)}  # both in the middle of step 6
    with pytest.raises(Interrupted) as err:
        _fit(tmp_path, epochs=4, model_kwargs={"signal_at_call": twice})
    assert err.value.exit_status == 130
    assert str(err.value) == (
        f"stopped at once by a second SIGINT; the last checkpoint, {tmp_path / 'last.pt'} at "
        "step 4, is kept"
    )  # step 6 never finished; the checkpoint of epoch 1 is as it was
    assert torch.load(tmp_path / "last.pt", weights_only=False)["step"] == 4


def test_the_loop_leaves_the_signal_handlers_as_it_found_them(tmp_path):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    _fit(tmp_path, epochs=1)
    assert {s: signal.getsignal(s) for s in before} == before


def _ddp_worker(rank, world, port, out):
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    import torch.distributed as dist

    from cgalib.engine import init_distributed

    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
    model = _Regressor()
    train_model(
        model,
        RegressionPairs(),
        collate_pairs,
        out,
        epochs=2,
        batch_size=2,
        lr=0.05,
        warmup_steps=1,
        num_workers=0,
        context=ctx,
    )
    torch.save(model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    dist.barrier()  # neither rank tears gloo down while the other still uses it
    dist.destroy_process_group()


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt")
    b = torch.load(tmp_path / "rank1.pt")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert (tmp_path / "model.pt").is_file()  # rank 0 wrote the checkpoint
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    # 16 images / (2 ranks x 2) = 4 steps per epoch; rank 0 logs each epoch's last step
    assert len(rows) == 3 and rows[1].startswith("1,4,") and rows[2].startswith("2,8,")


def _ddp_signal_worker(rank, world, port, out):
    """As `_ddp_worker`, but rank 0 alone receives SIGTERM in the middle of step 3."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))  # fmt: skip
    import torch.distributed as dist

    from cgalib.engine import init_distributed

    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    signals = {3: signal.SIGTERM} if rank == 0 else None
    try:
        train_model(_Regressor(signal_at_call=signals), RegressionPairs(), collate_pairs, out,
                    epochs=2, batch_size=2, lr=0.05, warmup_steps=1, num_workers=0, context=ctx)  # fmt: skip
        result = {"status": 0}
    except Interrupted as err:
        result = {"status": err.exit_status, "message": str(err)}
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()


def test_under_torchrun_every_rank_stops_with_rank_0_s_signal(tmp_path):
    """Rank 0's stop request is every rank's: both stop after step 3 with status 143, and
    neither waits for the other in a collective call."""
    procs = mp.start_processes(_ddp_signal_worker, args=(2, _free_port(), str(tmp_path)),
                               nprocs=2, join=False, start_method="spawn")  # fmt: skip
    deadline = time.monotonic() + 120
    while not procs.join(timeout=1):
        if time.monotonic() > deadline:
            for p in procs.processes:
                p.kill()
            pytest.fail("a rank hung after rank 0's signal")
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["status"] for r in results] == [143, 143]
    assert results[0]["message"] == results[1]["message"]
    assert results[0]["message"].startswith("stopped by SIGTERM after step 3: ")
    assert torch.load(tmp_path / "last.pt", weights_only=False)["step"] == 3


def test_adamw_option_and_bad_optimizer(tmp_path):
    model, _ = _fit(tmp_path / "adam", epochs=2, optimizer="adamw")
    state = torch.load(tmp_path / "adam" / "last.pt", weights_only=False)
    assert "exp_avg" in next(iter(state["optimizer"]["state"].values()))
    with pytest.raises(ValueError, match="optimizer"):
        _fit(tmp_path / "bad", epochs=1, optimizer="lbfgs")


class _ConvRegressor(nn.Module):
    """Records the memory format of its inputs; a conv layer so the format matters."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 1)
        self.seen_channels_last = []

    def forward(self, images, targets):
        self.seen_channels_last.append(images.is_contiguous(memory_format=torch.channels_last))
        y = torch.cat([t["y"] for t in targets])
        pred = self.head(self.conv(images).mean((2, 3)))[:, 0]
        return {"fit": (pred - y).square().mean()}


@pytest.mark.parametrize("channels_last", [False, True])
def test_channels_last_changes_layout_not_results(tmp_path, channels_last):
    def fit(flag, out):
        torch.manual_seed(0)
        model = _ConvRegressor()
        train_model(
            model,
            RegressionPairs(),
            collate_pairs,
            out,
            epochs=2,
            batch_size=4,
            lr=0.05,
            warmup_steps=2,
            num_workers=0,
            context=DistributedContext(),
            channels_last=flag,
        )
        return model

    model = fit(channels_last, tmp_path / "a")
    assert model.seen_channels_last == [channels_last] * 8
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last) == channels_last
    reference = fit(False, tmp_path / "b")
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def _rows(path):
    lines = path.read_text().splitlines()
    return [",".join(line.split(",")[:-1]) for line in lines]  # without images_per_s


def test_mid_epoch_checkpoint_resumes_exactly(tmp_path):
    straight, _ = _fit(tmp_path / "a", epochs=3, checkpoint_every=3)
    with pytest.raises(KeyboardInterrupt):  # during step 8, the last of epoch 2
        _fit(tmp_path / "b", epochs=3, checkpoint_every=3, model_kwargs={"interrupt_at_call": 8})
    state = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert (state["step"], state["epoch"]) == (6, 1)  # two batches into epoch 2
    assert _rows(tmp_path / "b" / "metrics.csv")[-1].startswith("2,7,")  # logged past it
    resumed, _ = _fit(tmp_path / "b", epochs=3, checkpoint_every=3, resume=True)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert _rows(tmp_path / "b" / "metrics.csv") == _rows(tmp_path / "a" / "metrics.csv")


class _NoisyPairs(RegressionPairs):
    """Random noise added when an item is read, as a data set with its own augmentation."""

    def __getitem__(self, i):
        image, target = super().__getitem__(i)
        return (image * 0.9 + torch.rand(image.shape) * 0.1), target  # stays in 0..1


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    def fit(workers, out):
        torch.manual_seed(0)
        model = _Regressor()
        train_model(model, _NoisyPairs(), collate_pairs, out, epochs=2, batch_size=4, lr=0.05,
                    warmup_steps=2, num_workers=workers, context=DistributedContext())  # fmt: skip
        return model

    a, b = fit(0, tmp_path / "a"), fit(2, tmp_path / "b")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


def test_bad_arguments_are_refused_before_anything_is_written(tmp_path):
    cases = {
        "batch_size": (0, "batch_size must be at least 1, got 0"),
        "lr": (float("nan"), "lr must be a positive number, got nan"),
        "checkpoint_every": (0, "checkpoint_every must be at least 1, got 0"),
        "num_workers": (-1, "num_workers must be 0 or more, got -1"),
        "amp": ("fp8", "amp must be None, 'bf16' or 'fp16', got 'fp8'"),
    }
    for name, (value, message) in cases.items():
        kwargs = {"epochs": 1, "batch_size": 4, "num_workers": 0, name: value}
        with pytest.raises(ValueError) as err:
            train_model(_Regressor(), RegressionPairs(), collate_pairs, tmp_path / name, **kwargs)
        assert str(err.value) == message
        assert not (tmp_path / name).exists()


def test_checkpoints_are_weights_only_and_hashed(tmp_path):
    from cgalib.models import load_checkpoint
    from cgalib.models.checkpoint import TRAIN_STATE_FORMAT

    _fit(tmp_path, epochs=1)
    state = load_checkpoint(tmp_path / "last.pt", TRAIN_STATE_FORMAT)
    assert state["digest"].startswith("sha256:") and len(state["rng"]) == 1
    assert state["settings"]["batch_size"] == 4 and state["settings"]["input_size"] == [8, 8]


def _budget_rows(path):
    rows = (path / "metrics.csv").read_text().splitlines()
    head = rows[0].split(",")
    return [dict(zip(head, r.split(","))) for r in rows[1:]]


def test_time_budget_follows_the_time_used_and_stops_when_spent(tmp_path):
    from cgalib.engine import TimeBudget
    from cgalib.models import load_checkpoint
    from cgalib.models.checkpoint import TRAIN_STATE_FORMAT

    budget = TimeBudget(20.0, clock=FakeClock(0.25))  # about a quarter second per step
    _fit(tmp_path, epochs=None, time_budget=budget)
    rows = _budget_rows(tmp_path)
    lrs = [float(r["lr"]) for r in rows]
    # the rate logged after each step (the 2 warm-up steps are over at the first row)
    assert set(round(x, 6) for x in lrs) == {0.05, 0.005, 0.0005}  # all three phases
    assert lrs == sorted(lrs, reverse=True)
    first_drop = [round(x, 6) for x in lrs].index(0.005)
    assert first_drop / len(lrs) == pytest.approx(70 / 95, abs=0.03)
    state = load_checkpoint(tmp_path / "last.pt", TRAIN_STATE_FORMAT)
    assert 19.0 <= state["spent"] <= 21.0 and state["step"] == len(rows) > 4 * 4
    assert (tmp_path / "model.pt").is_file()


def test_time_budget_resume_continues_from_the_time_spent(tmp_path, capsys):
    from cgalib.engine import TimeBudget

    _fit(tmp_path, epochs=None, time_budget=TimeBudget(10.0, clock=FakeClock(0.25)))
    first = len(_budget_rows(tmp_path))
    _fit(tmp_path, epochs=None, time_budget=TimeBudget(20.0, clock=FakeClock(0.25)), resume=True)
    assert "time_budget 10.0 -> 20.0" in capsys.readouterr().out
    rows = _budget_rows(tmp_path)
    resumed = [float(r["lr"]) for r in rows[first:]]
    assert resumed[0] == pytest.approx(0.05)  # half the new budget used: before the drops
    assert round(resumed[-1], 6) == 0.0005 and len(rows) == pytest.approx(2 * first, abs=4)


def test_time_budget_with_an_epoch_cap_stops_at_the_cap(tmp_path):
    from cgalib.engine import TimeBudget

    _fit(tmp_path, epochs=2, time_budget=TimeBudget(1000.0, clock=FakeClock(0.25)))
    assert len(_budget_rows(tmp_path)) == 2 * 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": None}, r"^give epochs \(--epochs\) or a time budget \(--time-budget\)$"),
        ({"epochs": 1, "time_budget": 5.0, "time_limit": 5.0}, r"^give time_budget or time_limit"),
        ({"epochs": None, "time_budget": -1.0}, r"^time_budget must be a positive number"),
    ],
)
def test_time_budget_arguments_are_checked_first(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _fit(tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_worker_batches_carry_target_arrays_that_come_back_as_the_same_tensors():
    import pickle

    from cgalib.engine.step import _to_device
    from cgalib.engine.trainer import _TargetsAsArrays

    target = {
        "boxes": torch.tensor([[1.0, 2.0, 3.0, 4.0]]),
        "keypoints": torch.rand(1, 17, 3),
        "image_id": torch.tensor(7),
        "ignore_mask": torch.zeros(4, 4, dtype=torch.bool),
        "name": "a.jpg",
    }
    images = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    sent = _TargetsAsArrays(lambda batch: (images, [target]))(None)
    assert all(isinstance(v, np.ndarray) for k, v in sent[1][0].items() if k != "name")
    received = _to_device(pickle.loads(pickle.dumps(sent))[1], torch.device("cpu"))[0]
    assert received["name"] == "a.jpg"
    for key in ("boxes", "keypoints", "image_id", "ignore_mask"):
        assert received[key].dtype == target[key].dtype
        assert received[key].shape == target[key].shape
        assert torch.equal(received[key], target[key])


# ------------------------ train(): a segmentation model through train, predict and evaluate
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_train_predict_and_evaluate_a_segmentation_model(tmp_path, capsys):
    """A segmentation model through the whole pipeline: train (masks loaded because the model
    asks), predict (RLE in image pixels), evaluate (mask AP and box AP)."""
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
    from cgalib.data import SYNTHETIC_DESCRIPTION
    from cgalib.models import trained_on

    assert trained_on(checkpoint) == SYNTHETIC_DESCRIPTION  # model.pt says what it knows
    model = load_model(checkpoint)
    assert model.outputs == ("masks",)
    image = paths["train_images"] / "000000.jpg"
    people = Predictor(model, device="cpu", input_size=96, score_threshold=0).predict(image)
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
