"""The Predictor: every input kind, results in the original pixels, batching, errors, the
fast paths (torch.compile, CUDA graphs), and models that need boxes (crops of given or
detected boxes, OKS-NMS with the keypoint set's sigmas)."""

import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib import Predictor, create_model, load_model
from cgalib.codecs import letterbox_batch, person_crop_boxes
from cgalib.data import synthetic_sample
from cgalib.postprocess import keypoint_oks

from helpers import BODY14, StandInModel, requires_cuda
from top_down_helpers import OracleTopDown, crop_queue


@pytest.fixture(scope="module")
def predictor():
    torch.manual_seed(0)
    return Predictor(
        create_model("cganet_tnet_d1w16"), device="cpu", score_threshold=0, input_size=128
    )


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


def test_without_an_input_size_each_picture_is_fed_near_its_own_size():
    """The default feeds a picture at its longer side, between the training side and twice
    it (``InputRule.side_for_picture``); a given ``input_size`` is used for every picture,
    and a model that needs boxes keeps its crop."""
    model = _FixedModel(side=128)
    picked = Predictor(model, device="cpu")
    small, mid, large = (np.zeros(s, np.uint8) for s in ((32, 64, 3), (96, 192, 3), (400, 800, 3)))
    (person,) = picked.predict(small)
    assert model.seen == (1, 3, 64, 128)  # enlarged to the training side
    assert person["bbox"] == pytest.approx([5.0, 10.0, 20.0, 20.0])
    picked.predict(mid)
    assert model.seen == (1, 3, 96, 192)  # its own size, no resize
    (person,) = picked.predict(large)
    assert model.seen == (1, 3, 128, 256)  # shrunk to twice the training side
    assert person["bbox"] == pytest.approx([31.25, 62.5, 125.0, 125.0])  # scale 256/800 undone
    assert [picked.input_size_for(*i.shape[:2]) for i in (small, mid, large)] == [
        (128, 128), (192, 192), (256, 256)
    ]  # fmt: skip
    fixed = Predictor(model, device="cpu", input_size=128)
    fixed.predict(mid)
    assert model.seen == (1, 3, 64, 128) and fixed.input_size_for(96, 192) == (128, 128)
    # pictures of different sides in one call: each on its own input, as alone
    together = picked.predict([small, large, mid])
    alone = [picked.predict(i) for i in (small, large, mid)]
    assert [p[0]["bbox"] for p in together] == [p[0]["bbox"] for p in alone]
    top_down = Predictor(OracleTopDown([]), device="cpu")
    assert top_down.input_size_for(400, 800) == (256, 192)


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


# ------------------------------------------------------------------ models that need boxes
# boxes -> crops -> the model -> keypoints back in the image
CROP = (256, 192)


def _people(seed=0, n=3, size=(200, 300)):
    g = torch.Generator().manual_seed(seed)
    h, w = size
    xy = torch.rand(n, 2, generator=g) * torch.tensor([w - 80.0, h - 120.0])
    wh = torch.rand(n, 2, generator=g) * 40 + torch.tensor([30.0, 60.0])
    boxes = torch.cat([xy, xy + wh, torch.rand(n, 1, generator=g)], 1)
    kps = torch.rand(n, 17, 2, generator=g) * wh[:, None] + xy[:, None]
    return boxes, torch.cat([kps, torch.full((n, 17, 1), 2.0)], -1)


def test_keypoints_come_back_in_image_pixels_with_box_times_keypoint_scores():
    boxes, kps = _people()
    oracle = OracleTopDown(crop_queue({0: boxes}, {0: kps}, CROP))
    people = Predictor(oracle, device="cpu", score_threshold=0).predict(
        torch.zeros(3, 200, 300, dtype=torch.uint8), boxes=boxes
    )
    assert len(people) == 3
    assert [p["score"] for p in people] == sorted((p["score"] for p in people), reverse=True)
    for p in people:
        i = int(torch.isclose(boxes[:, 4], torch.tensor(p["box_score"])).nonzero()[0])
        got = torch.tensor(p["keypoints"]).reshape(17, 3)
        torch.testing.assert_close(got[:, :2], kps[i, :, :2], atol=1e-3, rtol=0)
        assert p["score"] == pytest.approx(p["box_score"] * got[:, 2].mean().item())
        x1, y1, x2, y2 = boxes[i, :4].tolist()
        assert p["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1])


def test_boxes_at_the_border_map_back_and_clip_to_the_image():
    """A person cut by the image's corner: its crop reaches outside, keypoints come back."""
    boxes = torch.tensor([[0.0, 0.0, 40.0, 90.0, 1.0], [250.0, 120.0, 300.0, 200.0, 1.0]])
    kps = torch.zeros(2, 17, 3)
    kps[..., 2] = 2
    kps[0, :, 0], kps[0, :, 1] = torch.linspace(0, 39, 17), torch.linspace(0, 89, 17)
    kps[1, :, 0], kps[1, :, 1] = torch.linspace(250, 299, 17), torch.linspace(120, 199, 17)
    queue = crop_queue({0: boxes}, {0: kps}, CROP)
    assert all((q[:, 2] > 0).all() for q in queue)  # still inside the padded crops
    people = Predictor(OracleTopDown(queue), device="cpu", score_threshold=0).predict(
        torch.zeros(3, 200, 300, dtype=torch.uint8), boxes=boxes
    )
    got = {round(p["bbox"][0]): torch.tensor(p["keypoints"]).reshape(17, 3) for p in people}
    torch.testing.assert_close(got[0][:, :2], kps[0, :, :2], atol=1e-3, rtol=0)
    torch.testing.assert_close(got[250][:, :2], kps[1, :, :2], atol=1e-3, rtol=0)
    # a keypoint predicted outside the image is clipped to its last pixel
    outside = [q.clone() for q in queue]
    outside[1][:, 0] = 191.0  # the crop's right edge lies beyond the image
    people = Predictor(OracleTopDown(outside), device="cpu", score_threshold=0).predict(
        torch.zeros(3, 200, 300, dtype=torch.uint8), boxes=boxes
    )
    right = next(p for p in people if p["bbox"][0] > 200)
    assert max(right["keypoints"][0::3]) == pytest.approx(299.0)


def test_oks_nms_drops_a_repeated_pose():
    boxes, kps = _people(n=1)
    twice = torch.cat([boxes, boxes * torch.tensor([1, 1, 1, 1, 0.5])])
    queue = crop_queue({0: twice}, {0: kps.expand(2, -1, -1)}, CROP)
    image = torch.zeros(3, 200, 300, dtype=torch.uint8)
    assert (
        len(Predictor(OracleTopDown(queue), device="cpu", score_threshold=0).predict(image, boxes=twice)) == 2
    )
    nms = Predictor(OracleTopDown(queue), device="cpu", score_threshold=0, oks_nms_threshold=0.9)
    (kept,) = nms.predict(image, boxes=twice)
    assert kept["box_score"] == pytest.approx(boxes[0, 4].item())  # the higher-scored one


def test_a_detector_supplies_the_boxes():
    torch.manual_seed(0)
    detector = create_model("cganet_tnet_d1w16", input_size=128, max_detections=4).eval()
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    images = [torch.randint(0, 255, (3, 96, 128), dtype=torch.uint8) for _ in range(2)]
    expected = Predictor(detector, device="cpu", score_threshold=0, input_size=128).predict(images)
    got = Predictor(model, detector=detector, device="cpu", score_threshold=0).predict(images)
    assert [len(p) for p in got] == [len(p) for p in expected] == [4, 4]
    for mine, theirs in zip(got, expected):
        assert sorted(p["box_score"] for p in mine) == pytest.approx(
            sorted(p["box_score"] for p in theirs)
        )
        assert all(len(p["keypoints"]) == 51 for p in mine)


def test_images_without_boxes_and_thresholds():
    boxes, kps = _people()
    oracle = OracleTopDown(
        crop_queue({0: boxes[boxes[:, 4] >= 0.5]}, {0: kps[boxes[:, 4] >= 0.5]}, CROP)
    )
    predictor = Predictor(oracle, device="cpu", box_score_threshold=0.5)
    image = torch.zeros(3, 200, 300, dtype=torch.uint8)
    out = predictor.predict([image, image], boxes=[boxes, torch.zeros(0, 4)])
    assert len(out[0]) == int((boxes[:, 4] >= 0.5).sum()) and out[1] == []


def test_bad_inputs_are_clear():
    model = OracleTopDown([])
    image = torch.zeros(3, 50, 50, dtype=torch.uint8)
    with pytest.raises(ValueError, match="needs person boxes"):
        Predictor(model, device="cpu").predict(image)
    with pytest.raises(ValueError, match=r"boxes of image 1 must be \(N, 4\)"):
        Predictor(model, device="cpu").predict([image, image], boxes=[[], [[1.0, 2.0]]])
    with pytest.raises(ValueError, match="non-finite"):
        Predictor(model, device="cpu").predict(image, boxes=[[0, 0, float("nan"), 5]])
    with pytest.raises(ValueError, match="2 box tensors for 1 images"):
        Predictor(model, device="cpu").predict([image], boxes=[[], []])
    cganet = create_model("cganet_tnet_d1w16", input_size=128)
    with pytest.raises(ValueError, match="finds the people in whole images itself; leave out "
                                         "boxes"):  # fmt: skip
        Predictor(cganet, device="cpu").predict(image, boxes=[[0, 0, 5, 5]])
    with pytest.raises(ValueError, match="leave out detector"):
        Predictor(cganet, detector=cganet, device="cpu")
    with pytest.raises(ValueError, match="TopDownPose needs person boxes itself"):
        Predictor(model, detector=create_model("topdown_tnet_d1w16"), device="cpu")
    with pytest.raises(TypeError, match="detector needs a pose model"):
        Predictor(model, detector=torch.nn.Linear(2, 2), device="cpu")
    with pytest.raises(ValueError, match=r"input_size 100x100"):
        Predictor(model, input_size=100, device="cpu")


def test_oks_nms_uses_the_sets_sigmas():
    """Two copies of one 14-joint pose: OKS-NMS (with the set's 14 sigmas, not COCO's 17)
    keeps the better one."""
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    predictor = Predictor(net, device="cpu", score_threshold=0, oks_nms_threshold=0.5)
    assert predictor.keypoint_set == BODY14
    box = [[4.0, 4.0, 36.0, 60.0, 0.9], [4.0, 4.0, 36.0, 60.0, 0.8]]
    people = predictor.predict(torch.zeros(3, 64, 48, dtype=torch.uint8), boxes=box)
    assert len(people) == 1 and len(people[0]["keypoints"]) == 3 * 14
    assert people[0]["box_score"] == pytest.approx(0.9)


# ------------------------------------------------------------------- the caller's model
def test_every_submodule_gets_its_mode_back_even_after_an_error():
    model = create_model("cganet_tnet_d1w16", input_size=64).train()
    frozen = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)).eval()
    predictor = Predictor(model, device="cpu")
    assert model.training  # building the Predictor changes nothing
    predictor.predict(np.zeros((16, 16, 3), np.uint8))
    assert model.training and not frozen.training
    with pytest.raises(ValueError):
        predictor.predict(np.zeros((0, 0, 3), np.uint8))
    assert model.training and not frozen.training
    model.eval()
    predictor.predict(np.zeros((16, 16, 3), np.uint8))
    assert not model.training


def test_weights_other_than_float32_are_refused_in_one_line():
    model = create_model("cganet_tnet_d1w16", input_size=64)
    with pytest.raises(ValueError, match=r"are torch\.float64 .*pass model\.float\(\)"):
        Predictor(model.double(), device="cpu")
    predictor = Predictor(model.float(), device="cpu")
    model.half()  # after the Predictor was built: refused at predict
    with pytest.raises(ValueError, match=r"are torch\.float16 \(model\.half\(\)\?\)"):
        predictor.predict(np.zeros((16, 16, 3), np.uint8))


def test_a_large_picture_shrinks_in_uint8_and_maps_back_with_its_own_scale(monkeypatch):
    import cgalib.inference.predictor as predictor_module

    image = np.random.default_rng(0).integers(0, 255, (64, 128, 3), np.uint8)
    model = _FixedModel()
    float_path = Predictor(model, device="cpu", input_size=32).predict(image)
    monkeypatch.setattr(predictor_module, "LARGE_IMAGE_PIXELS", 100)
    uint8_path = Predictor(model, device="cpu", input_size=32).predict(image)
    assert model.seen == (1, 3, 32, 32)  # the same letterboxed input size
    assert uint8_path[0]["bbox"] == pytest.approx(float_path[0]["bbox"])
    assert uint8_path[0]["keypoints"] == pytest.approx(float_path[0]["keypoints"])
    # the content lands where it should: a bright block found at its own place
    image[:] = 20
    image[40:48, 96:104] = 255
    (person,) = Predictor(_Brightest(), device="cpu", input_size=32).predict(image)
    assert 96 <= person["keypoints"][0] < 104 and 40 <= person["keypoints"][1] < 48


class _Brightest(StandInModel):
    def person(self, image):
        y, x = divmod(int(image.sum(0).flatten().argmax()), image.shape[-1])
        return [x, y, x + 1.0, y + 1.0], 1.0, torch.tensor([[float(x), float(y), 1.0]] * 17)


def test_what_a_person_sees_is_thresholded_by_default(predictor, tmp_path):
    """By default a Predictor keeps people scored DISPLAY_SCORE_THRESHOLD (0.3) or more, the
    ones of ``score_threshold=0`` above it, in the same order; the detector of a top-down
    model gets the same threshold."""
    from cgalib import load_model
    from cgalib.data import make_synthetic_coco
    from cgalib.viz import DISPLAY_SCORE_THRESHOLD

    assert DISPLAY_SCORE_THRESHOLD == 0.3
    paths = make_synthetic_coco(tmp_path, num_train=0, num_val=1, size=192, seed=2, min_height=48)
    image = next(paths["val_images"].iterdir())
    shipped = load_model("cganet_tnet_d1w16.synthetic")
    every = Predictor(shipped, device="cpu", score_threshold=0).predict(image)
    shown = Predictor(shipped, device="cpu").predict(image)
    expected = [p for p in every if p["score"] >= 0.3]
    assert 0 < len(expected) < len(every)  # the test sees both sides of the threshold
    assert [p["score"] for p in shown] == [p["score"] for p in expected]
    top_down = Predictor(create_model("topdown_tnet_d1w16"), detector=shipped, device="cpu")
    assert top_down.detector.score_threshold == 0.3


def test_oks_nms_scales_by_the_box_or_the_crop_region():
    """Two poses 6 px apart in boxes 40 x 100: their OKS with the box area (4000 px) is
    lower than with the padded, aspect-fixed crop region's (93.75 x 125 px, mmpose's
    bbox_scale); a threshold between the two keeps both with ``"box"``, one with ``"crop"``."""
    box = torch.tensor([[100.0, 50.0, 140.0, 150.0, 0.9], [106.0, 50.0, 146.0, 150.0, 0.8]])
    kps = torch.rand(1, 17, 2, generator=torch.Generator().manual_seed(0)) * torch.tensor(
        [40.0, 100.0]
    ) + torch.tensor([100.0, 50.0])
    kps = torch.cat([kps, torch.full((1, 17, 1), 2.0)], -1).expand(2, -1, -1).clone()
    kps[1, :, 0] += 6.0
    region = person_crop_boxes(box[:1, :4], CROP)[0]
    crop_area = ((region[2] - region[0]) * (region[3] - region[1])).item()
    assert crop_area == pytest.approx(93.75 * 125)
    oks = [keypoint_oks(kps, torch.full((2,), a))[0, 1].item() for a in (4000.0, crop_area)]
    threshold = sum(oks) / 2
    image = torch.zeros(3, 200, 300, dtype=torch.uint8)
    kept = {}
    for area in ("box", "crop"):
        oracle = OracleTopDown(crop_queue({0: box}, {0: kps}, CROP))
        predictor = Predictor(oracle, device="cpu", oks_nms_threshold=threshold, oks_area=area)
        kept[area] = len(predictor.predict(image, boxes=box))
    assert kept == {"box": 2, "crop": 1}


def test_the_person_score_rule_and_oks_area_are_checked():
    boxes, kps = _people(n=1)
    kps[0, :10, 2] = 0.0  # 10 unlabelled keypoints: the oracle scores them 0
    oracle = OracleTopDown(crop_queue({0: boxes}, {0: kps}, CROP) * 2)
    image = torch.zeros(3, 200, 300, dtype=torch.uint8)
    (every,) = Predictor(oracle, device="cpu", score_threshold=0).predict(image, boxes=boxes)
    (above,) = Predictor(oracle, device="cpu", score_threshold=0, keypoint_score_threshold=0.2).predict(
        image, boxes=boxes
    )
    assert every["score"] == pytest.approx(boxes[0, 4].item() * 7 / 17)
    assert above["score"] == pytest.approx(boxes[0, 4].item())  # the 7 labelled, each 1
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match="keypoint_score_threshold"):
            Predictor(oracle, device="cpu", keypoint_score_threshold=bad)
    with pytest.raises(ValueError, match="oks_area must be one of"):
        Predictor(oracle, device="cpu", oks_area="mask")
    cganet = create_model("cganet_tnet_d1w16", input_size=128)
    with pytest.raises(ValueError, match="cuts none: use oks_area='box'"):
        Predictor(cganet, device="cpu", oks_area="crop")


def test_weights_that_know_synthetic_people_only_warn_once_where_shown(tmp_path):
    """The shipped weights know cgalib's synthetic people only: a Predictor says so, evaluation
    (a score, not a picture) does not; a model built or trained elsewhere is quiet."""
    from cgalib.data import find_split, make_synthetic_coco
    from cgalib.eval import evaluate_coco
    from cgalib.inference import SyntheticWeightsWarning
    from cgalib.models import load_model, trained_on

    shipped = load_model("cganet_tnet_d1w16.synthetic")
    assert trained_on(shipped) == "cgalib synthetic crowd set"
    with pytest.warns(SyntheticWeightsWarning, match=r"cganet_tnet_d1w16 weights.*synthetic "
                      r"people only.*cgalib train on COCO"):  # fmt: skip
        Predictor(shipped, device="cpu")
    make_synthetic_coco(tmp_path, 0, 2, size=128, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntheticWeightsWarning)
        evaluate_coco(shipped, *find_split(tmp_path, "val"), device="cpu", progress=False)
        Predictor(create_model("cganet_tnet_d1w16", input_size=128), device="cpu")
    assert trained_on(create_model("cganet_tnet_d1w16", input_size=128)) is None
