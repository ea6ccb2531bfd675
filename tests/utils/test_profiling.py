"""cgalib.utils.profiling: the stages a model labels, timed by torch.profiler, add up."""

import contextlib
import time

import pytest
import torch
from torch.profiler import profile

from cgalib.models import create_variant
from cgalib.registry import create_model
from cgalib.utils import stage, stage_seconds

CGANET_STAGES = ["dense", "detect", "keypoint_head", "decode_keypoints"]


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return create_model("cganet_tnet_d1w16", input_size=64).eval()


def _profiled(model, images, calls=3):
    """The stage times of ``calls`` warm calls (the first profile sets the profiler up).

    Timing checks hold for the least disturbed of them: on a shared machine any one call
    may be preempted in a gap between two stages."""
    with torch.inference_mode():
        model.predict_batch(images)
        stage_seconds(model.predict_batch, images)
        return [stage_seconds(model.predict_batch, images) for _ in range(calls)]


def test_the_stages_of_a_small_model_add_up_to_the_call(small):
    profiles = _profiled(small, torch.rand(2, 3, 64, 64))
    for times in profiles:
        assert list(times.stages) == CGANET_STAGES and times.clock == "host"
        assert all(seconds > 0 for seconds in times.stages.values())
        labelled = sum(times.stages.values())
        assert labelled <= times.total
        assert times.unlabelled == pytest.approx(times.total - labelled)
    # almost all of the call is in a stage
    assert min(t.unlabelled / t.total for t in profiles) <= 0.1


def test_a_flip_test_variant_shows_the_flip_pass(small):
    flipped = create_variant(small, flip_test=True).eval()
    profiles = _profiled(flipped, torch.rand(1, 3, 64, 64))
    for times in profiles:
        assert list(times.stages) == [
            "dense", "flip", "detect", "keypoint_head", "decode_keypoints"
        ]  # fmt: skip
    # the mirrored dense pass and keypoint head: about as long as the straight ones
    assert any(
        t.stages["flip"] > 0.3 * (t.stages["dense"] + t.stages["keypoint_head"]) for t in profiles
    )
    assert min(t.unlabelled / t.total for t in profiles) <= 0.1


def test_a_segmentation_model_shows_its_mask_head():
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16_seg", input_size=64).eval()
    (times,) = _profiled(model, torch.rand(1, 3, 64, 64), calls=1)
    assert list(times.stages) == ["dense", "detect", "mask_head"]


def test_a_stage_inside_another_counts_once_and_repeats_add_up():
    def work():
        with stage("outer"):
            time.sleep(0.01)
            with stage("inner"):
                time.sleep(0.2)
        for _ in range(2):
            with stage("again"):
                time.sleep(0.01)

    times = stage_seconds(work)
    assert list(times.stages) == ["outer", "inner", "again"]
    assert times.stages["inner"] >= 0.2 and times.stages["again"] >= 0.02
    # the outer stage counts its own 10 ms, not the inner stage's 200 ms as well
    assert 0.01 <= times.stages["outer"] < 0.1
    assert sum(times.stages.values()) <= times.total


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:DeprecationWarning")
def test_labels_cost_nothing_outside_a_profiler_and_vanish_from_traced_graphs(small):
    assert isinstance(stage("dense"), contextlib.nullcontext)

    def fn(x):
        with stage("double"):
            return x * 2

    with profile():  # even while a profiler records, a trace holds no label
        traced = torch.jit.trace(fn, torch.rand(2))
    assert "profiler::" not in str(traced.graph)


def test_a_bad_clock_is_refused():
    with pytest.raises(ValueError, match="clock must be 'host' or 'device'"):
        stage_seconds(lambda: None, clock="wall")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_the_device_clock_needs_cuda():
    with pytest.raises(ValueError, match="no CUDA device"):
        stage_seconds(lambda: None, clock="device")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_device_clock_counts_the_kernels_of_each_stage(small):
    model = create_variant(small, flip_test=True).cuda().eval()
    images = torch.rand(2, 3, 64, 64, device="cuda")
    with torch.inference_mode():
        model.predict_batch(images)
        stage_seconds(model.predict_batch, images, clock="device")
        times = stage_seconds(model.predict_batch, images, clock="device")
    assert list(times.stages) == ["dense", "flip", "detect", "keypoint_head", "decode_keypoints"]
    assert all(seconds > 0 for seconds in times.stages.values())
    assert sum(times.stages.values()) <= times.total * (1 + 1e-6)
