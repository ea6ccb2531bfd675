"""The Predictor with a model that needs boxes: boxes -> crops -> the model -> keypoints back
in the image."""

from __future__ import annotations

import pytest
import torch

from cgalib import Predictor, create_model

from top_down_helpers import OracleTopDown, crop_queue

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
    people = Predictor(oracle, device="cpu").predict(
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
    people = Predictor(OracleTopDown(queue), device="cpu").predict(
        torch.zeros(3, 200, 300, dtype=torch.uint8), boxes=boxes
    )
    got = {round(p["bbox"][0]): torch.tensor(p["keypoints"]).reshape(17, 3) for p in people}
    torch.testing.assert_close(got[0][:, :2], kps[0, :, :2], atol=1e-3, rtol=0)
    torch.testing.assert_close(got[250][:, :2], kps[1, :, :2], atol=1e-3, rtol=0)
    # a keypoint predicted outside the image is clipped to its last pixel
    outside = [q.clone() for q in queue]
    outside[1][:, 0] = 191.0  # the crop's right edge lies beyond the image
    people = Predictor(OracleTopDown(outside), device="cpu").predict(
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
        len(Predictor(OracleTopDown(queue), device="cpu").predict(image, boxes=twice)) == 2
    )
    nms = Predictor(OracleTopDown(queue), device="cpu", oks_nms_threshold=0.9)
    (kept,) = nms.predict(image, boxes=twice)
    assert kept["box_score"] == pytest.approx(boxes[0, 4].item())  # the higher-scored one


def test_a_detector_supplies_the_boxes():
    torch.manual_seed(0)
    detector = create_model("cganet_tnet_d1w16", input_size=128, max_detections=4).eval()
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    images = [torch.randint(0, 255, (3, 96, 128), dtype=torch.uint8) for _ in range(2)]
    expected = Predictor(detector, device="cpu", input_size=128).predict(images)
    got = Predictor(model, detector=detector, device="cpu").predict(images)
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
