"""Detections and to_people: the one score rule, sorting, thresholds, OKS-NMS and the fields
of a person."""

from __future__ import annotations

import pytest
import torch

from cgalib.inference.people import Detections, to_people


def _found(**kw) -> Detections:
    boxes = torch.tensor([[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 9.0, 9.0], [1.0, 2.0, 3.0, 4.0]])
    box_scores = torch.tensor([0.5, 0.9, 0.8])
    kps = torch.zeros(3, 2, 3)
    kps[..., 2] = torch.tensor([[0.6, 1.0], [1.0, 1.0], [0.1, 0.1]])
    return Detections(boxes, box_scores, kps, **kw)


def test_score_is_box_score_times_mean_keypoint_probability():
    torch.testing.assert_close(_found().scores(), torch.tensor([0.4, 0.9, 0.08]))
    no_keypoints = Detections(torch.zeros(2, 4), torch.tensor([0.3, 0.7]))
    torch.testing.assert_close(no_keypoints.scores(), torch.tensor([0.3, 0.7]))


def test_people_are_sorted_by_score_with_coco_fields():
    people = to_people(_found())
    assert [p["score"] for p in people] == pytest.approx([0.9, 0.4, 0.08])
    assert [p["box_score"] for p in people] == pytest.approx([0.9, 0.5, 0.8])
    first = people[0]
    assert set(first) == {"category_id", "bbox", "keypoints", "score", "box_score"}
    assert first["category_id"] == 1 and first["bbox"] == [5.0, 5.0, 4.0, 4.0]  # xywh
    assert first["keypoints"] == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]


def test_both_thresholds_drop_people():
    assert len(to_people(_found(), score_threshold=0.1)) == 2
    kept = to_people(_found(), box_score_threshold=0.6)
    assert [p["box_score"] for p in kept] == pytest.approx([0.9, 0.8])
    assert to_people(_found(), score_threshold=0.5, box_score_threshold=0.95) == []


def test_extended_boxes_and_segmentations_travel_with_their_person():
    rles = [{"size": [4, 4], "counts": str(i)} for i in range(3)]
    extended = torch.arange(12.0).reshape(3, 4)
    people = to_people(_found(extended_boxes=extended, segmentations=rles))
    assert [p["segmentation"]["counts"] for p in people] == ["1", "0", "2"]
    assert people[0]["extended_box"] == [4.0, 5.0, 6.0, 7.0]


def test_a_model_without_keypoints_gives_people_without_keypoints():
    found = Detections(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([0.6]))
    (person,) = to_people(found, oks_nms_threshold=0.5, sigmas=[0.1])
    assert "keypoints" not in person and person["score"] == pytest.approx(0.6)


def test_oks_nms_drops_a_repeated_pose_and_needs_the_sigmas():
    kps = torch.tensor([[[4.0, 4.0, 1.0]], [[4.5, 4.0, 0.9]], [[40.0, 40.0, 1.0]]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [30.0, 30.0, 50.0, 50.0]])
    found = Detections(boxes, torch.tensor([1.0, 1.0, 0.5]), kps)
    people = to_people(found, oks_nms_threshold=0.5, sigmas=[0.1])
    assert [p["keypoints"][0] for p in people] == [4.0, 40.0]
    assert len(to_people(found)) == 3  # no threshold, no suppression
    with pytest.raises(ValueError, match=r"OKS-NMS needs the OKS sigmas of the keypoint set"):
        to_people(found, oks_nms_threshold=0.5)


def test_empty_detections():
    empty = Detections.empty(17)
    assert empty.keypoints.shape == (0, 17, 3) and empty.boxes.shape == (0, 4)
    assert Detections.empty(0).keypoints is None
    assert to_people(empty, oks_nms_threshold=0.5, sigmas=[0.1] * 17) == []


def test_the_keypoint_score_threshold_averages_the_keypoints_above_it():
    # mmpose's rule: box score times the mean of the keypoint scores above 0.2, 0 if none
    torch.testing.assert_close(_found().scores(0.2), torch.tensor([0.4, 0.9, 0.0]))
    torch.testing.assert_close(_found().scores(0.7), torch.tensor([0.5, 0.9, 0.0]))
    people = to_people(_found(), keypoint_score_threshold=0.7)
    assert [p["score"] for p in people] == pytest.approx([0.9, 0.5, 0.0])


def test_equal_scores_keep_the_detection_order():
    # 20 people, all scored 0.5: an unstable sort reorders them (torch's does from 17 on)
    n = 20
    boxes = torch.arange(float(n))[:, None] + torch.tensor([0.0, 0.0, 10.0, 10.0])
    kps = torch.zeros(n, 1, 3)
    kps[:, 0, 0] = torch.arange(float(n)) * 100  # far apart: OKS-NMS drops nobody
    kps[:, 0, 2] = 1.0
    found = Detections(boxes, torch.full((n,), 0.5), kps)
    for kwargs in ({}, {"oks_nms_threshold": 0.9, "sigmas": [0.1]}):
        people = to_people(found, **kwargs)
        assert [p["bbox"][0] for p in people] == [float(i) for i in range(n)]


def test_oks_nms_area_is_the_box_or_the_crop_region():
    # two poses 3 px apart: with the box area (100) their OKS is below the threshold, with
    # the crop region's (400) above it, so only the crop area drops the second
    kps = torch.tensor([[[5.0, 5.0, 1.0]], [[8.0, 5.0, 1.0]]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [3.0, 0.0, 13.0, 10.0]])
    regions = torch.tensor([[-5.0, -5.0, 15.0, 15.0], [-2.0, -5.0, 18.0, 15.0]])
    found = Detections(boxes, torch.tensor([0.9, 0.8]), kps, crop_regions=regions)
    torch.testing.assert_close(found.oks_areas("box"), torch.tensor([100.0, 100.0]))
    torch.testing.assert_close(found.oks_areas("crop"), torch.tensor([400.0, 400.0]))
    nms = {"oks_nms_threshold": 0.5, "sigmas": [0.1]}
    assert len(to_people(found, oks_area="box", **nms)) == 2  # exp(-9 / 8) = 0.32
    assert len(to_people(found, oks_area="crop", **nms)) == 1  # exp(-9 / 32) = 0.75
    with pytest.raises(ValueError, match="crop regions"):
        to_people(Detections(boxes, torch.tensor([0.9, 0.8]), kps), oks_area="crop", **nms)
    with pytest.raises(ValueError, match="oks_area"):
        found.oks_areas("mask")
