import os

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib import Predictor, create_model, load_model
from cgalib.codecs import letterbox_batch
from cgalib.data import synthetic_sample

from helpers import StandInModel, requires_cuda


@pytest.fixture(scope="module")
def predictor():
    torch.manual_seed(0)
    return Predictor(create_model("cganet_tnet_d1w16"), device="cpu", input_size=128)


def _check_people(people, size):
    h, w = size
    assert len(people) == 20
    scores = [p["score"] for p in people]
    assert scores == sorted(scores, reverse=True)
    for p in people:
        assert set(p) == {"category_id", "bbox", "keypoints", "score", "box_score", "extended_box"}
        assert len(p["keypoints"]) == 51 and len(p["bbox"]) == 4
        assert 0 <= p["score"] <= 1 and 0 <= p["box_score"] <= 1
        kps = np.asarray(p["keypoints"]).reshape(17, 3)
        assert (kps[:, 0] >= 0).all() and (kps[:, 0] <= w - 1).all()
        assert (kps[:, 1] >= 0).all() and (kps[:, 1] <= h - 1).all()
        assert ((kps[:, 2] >= 0) & (kps[:, 2] <= 1)).all()
        x, y, bw, bh = p["bbox"]
        assert x >= 0 and y >= 0 and bw >= 0 and bh >= 0 and x + bw <= w and y + bh <= h


def test_path_input_returns_the_documented_structure(predictor, tmp_path):
    path = tmp_path / "img.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 160, 3), np.uint8)).save(path)
    _check_people(predictor.predict(str(path)), (90, 160))


def test_every_input_kind_and_lists(predictor):
    rgb = np.random.default_rng(1).integers(0, 255, (64, 48, 3), np.uint8)
    inputs = [
        rgb,
        Image.fromarray(rgb).convert("L"),
        Image.fromarray(rgb).convert("RGBA"),
        torch.from_numpy(rgb).permute(2, 0, 1),
        torch.from_numpy(rgb).permute(2, 0, 1).float() / 255,
    ]
    results = predictor.predict(inputs)
    assert len(results) == len(inputs)
    for people in results:
        _check_people(people, (64, 48))
    # the same pixels in different containers give the same answer
    assert results[0][0]["keypoints"] == pytest.approx(results[3][0]["keypoints"], abs=1e-3)


class _FixedModel(StandInModel):
    """Finds one person at known input pixels, whatever the image."""

    def predict_batch(self, images):
        self.seen = tuple(images.shape)
        return super().predict_batch(images)

    def person(self, image):
        return [10.0, 20.0, 50.0, 60.0], 0.8, torch.tensor([[30.0, 40.0, 0.5]] * 17)


def test_results_map_back_to_original_pixels():
    model = _FixedModel()
    people = Predictor(model, device="cpu", input_size=128).predict(np.zeros((32, 64, 3), np.uint8))
    assert model.seen == (1, 3, 64, 128)  # letterboxed: longer side 128, padded to 32s
    (person,) = people
    assert person["bbox"] == pytest.approx([5.0, 10.0, 20.0, 20.0])  # scale 2 undone
    # keypoints are pixel indices: (30 + 0.5) / 2 - 0.5
    assert person["keypoints"][:3] == pytest.approx([14.75, 19.75, 0.5])
    assert person["score"] == pytest.approx(0.8 * 0.5) and person["box_score"] == pytest.approx(0.8)


def test_results_do_not_depend_on_the_batch():
    """Images of mixed sizes give the same people batched together as one by one: each runs
    on its own letterboxed canvas, never padded to a larger neighbour's (the shipped model:
    a trained model's peaks move when its input is padded further)."""
    model = load_model("cganet_tnet_d1w16.synthetic")
    scene = np.asarray(synthetic_sample(seed=3, index=0, split="val", size=192)[0].convert("RGB"))
    images = [scene, scene[:, :120], scene[:100], scene[30:150, 10:170], scene[:64, :64]]
    batched = Predictor(model, device="cpu", batch_size=5).predict(images)
    alone = [Predictor(model, device="cpu", batch_size=1).predict(image) for image in images]
    for together, single in zip(batched, alone):
        _assert_same_people(together, single, atol=1e-4)
    # padding an image to its largest neighbour's canvas would change its people
    wide = torch.from_numpy(np.ascontiguousarray(images[2])).permute(2, 0, 1)  # canvas 128x192
    padded, _ = letterbox_batch([wide, torch.from_numpy(scene).permute(2, 0, 1)], 192)
    own, _ = letterbox_batch([wide], 192)
    with torch.no_grad():
        a = model.predict_batch(padded[:1])["keypoints"]
        b = model.predict_batch(own)["keypoints"]
    assert padded.shape[-2:] != own.shape[-2:]
    assert (a - b).abs().max() > 0.1


def test_errors(predictor, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        predictor.predict(str(tmp_path / "nope.jpg"))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="broken.png"):
        predictor.predict(tmp_path / "broken.png")
    with pytest.raises(ValueError, match="precision"):
        Predictor(predictor.model, precision="int8")
    with pytest.raises(ValueError, match="multiple of 32"):
        Predictor(predictor.model, input_size=100)


def test_score_threshold_filters(predictor):
    strict = Predictor(predictor.model, device="cpu", input_size=128, score_threshold=1.0)
    assert strict.predict(np.zeros((32, 32, 3), np.uint8)) == []


# --------------------------------------------------------------------------- fast paths
def _square_image(side=64, seed=2):
    return np.random.default_rng(seed).integers(0, 255, (side, side, 3), np.uint8)


def _assert_same_people(fast, eager, atol):
    assert len(fast) == len(eager)
    for p, q in zip(fast, eager):
        assert p["keypoints"] == pytest.approx(q["keypoints"], abs=atol)
        assert p["bbox"] == pytest.approx(q["bbox"], abs=atol)
        assert p["score"] == pytest.approx(q["score"], abs=atol)


def test_compile_is_lazy_and_matches_eager(monkeypatch):
    """compile=True goes through torch.compile; the aot_eager backend keeps this test fast
    (dynamo traces the whole model; inductor's C++ build takes about a minute on 2 cores,
    see the opt-in test below)."""
    calls = []
    real_compile = torch.compile

    def compile_aot_eager(model, **kwargs):
        calls.append(kwargs)
        return real_compile(model, backend="aot_eager", **kwargs)

    monkeypatch.setattr(torch, "compile", compile_aot_eager)
    model = create_model("cganet_tnet_d1w16")
    eager = Predictor(model, device="cpu", input_size=64)
    fast = Predictor(model, device="cpu", input_size=64, compile=True)
    assert calls == []  # nothing compiled before the first batch
    for img in (_square_image(64), _square_image(64, 3)[:, :32]):  # a second shape too
        _assert_same_people(fast.predict(img), eager.predict(img), atol=1e-3)
    assert len(calls) == 1


_SLOW = pytest.mark.skipif(
    not os.environ.get("CGALIB_SLOW_TESTS"),
    reason="inductor compiles for about a minute on 2 CPU cores; set CGALIB_SLOW_TESTS=1",
)


@pytest.mark.parametrize(
    ("device", "side", "atol"),
    [
        pytest.param("cpu", 96, 1e-3, marks=_SLOW),
        pytest.param("cuda", 128, 1e-2, marks=requires_cuda),
    ],
)
def test_compile_inductor_matches_eager(device, side, atol):
    model = create_model("cganet_tnet_d1w16")
    img = _square_image(side)
    eager = Predictor(model, device=device, input_size=side).predict(img)
    fast = Predictor(model, device=device, input_size=side, compile=True).predict(img)
    _assert_same_people(fast, eager, atol=atol)


def test_fast_path_arguments_are_checked(predictor):
    with pytest.raises(ValueError, match="compile must be"):
        Predictor(predictor.model, device="cpu", compile="max-autotune")
    with pytest.raises(ValueError, match="cuda_graphs' needs a CUDA device"):
        Predictor(predictor.model, device="cpu", compile="cuda_graphs")


@requires_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_graphs_match_eager_on_cuda(precision):
    model = create_model("cganet_tnet_d1w16")
    img = _square_image(128)  # square: eager and the static path see the same tensor
    kwargs = dict(device="cuda", input_size=128, precision=precision, batch_size=1)
    eager = Predictor(model, **kwargs)
    fast = Predictor(model, compile="cuda_graphs", **kwargs)
    atol = 1e-3 if precision == "fp32" else 0.5  # bf16: half a pixel, scores to 0.5 (loose)
    for _ in range(2):  # capture, then replay
        _assert_same_people(fast.predict(img), eager.predict(img), atol=atol)
    # a smaller, rectangular image is padded into the captured shape
    assert len(fast.predict(_square_image(64)[:, :40])) == 20


@requires_cuda
def test_cuda_graphs_pad_a_partial_batch():
    model = create_model("cganet_tnet_d1w16")
    fast = Predictor(model, device="cuda", input_size=64, batch_size=4, compile="cuda_graphs")
    results = fast.predict([_square_image(64, s) for s in range(5)])  # 4 + a padded 1
    eager = Predictor(model, device="cuda", input_size=64, batch_size=4)
    for got, want in zip(results, eager.predict([_square_image(64, s) for s in range(5)])):
        _assert_same_people(got, want, atol=1e-3)


@requires_cuda
def test_cganet_eval_forward_never_synchronises():
    """What the CUDA-graph path relies on: no host synchronisation in CGANet's eval forward."""
    model = create_model("cganet_tnet_d1w16").cuda().eval()
    x = torch.rand(1, 3, 128, 128, device="cuda")
    with torch.inference_mode():
        model(x)  # warm-up (lazy initialisation may synchronise)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            model(x)
        finally:
            torch.cuda.set_sync_debug_mode("default")
