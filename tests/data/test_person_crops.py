"""PersonCrops and collate_person_crops: the labelled people of a set, one item each, and
their batches (TopDownAugmentation, which crops them, is tested in test_crop_augment.py)."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib.data import (
    AnnotationWarning,
    CocoKeypoints,
    PersonCrops,
    collate_person_crops,
    make_synthetic_coco,
)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("people")
    return make_synthetic_coco(root, num_train=4, num_val=0, size=96, min_height=40)


def test_people_are_the_labelled_non_crowd_annotations(synthetic):
    coco = CocoKeypoints(synthetic["train_images"], synthetic["train_ann"])
    people = PersonCrops(coco)
    anns = json.loads(synthetic["train_ann"].read_text())["annotations"]
    expected = {a["id"] for a in anns if not a.get("iscrowd") and a["num_keypoints"] > 0}
    assert {ann_id for _, ann_id in people.people} == expected
    many = {a["id"] for a in anns if not a.get("iscrowd") and a["num_keypoints"] >= 15}
    assert {ann_id for _, ann_id in PersonCrops(coco, min_keypoints=15).people} == many
    image, target = people[0]
    ann = next(a for a in anns if a["id"] == int(target["ann_ids"][0]))
    kps = torch.tensor(ann["keypoints"], dtype=torch.float32).reshape(17, 3)
    kps[kps[:, 2] == 0] = 0
    torch.testing.assert_close(target["keypoints"][0], kps)
    x, y, w, h = ann["bbox"]
    torch.testing.assert_close(target["boxes"][0], torch.tensor([x, y, x + w, y + h]).clamp(0, 96))
    assert image.dtype == torch.uint8 and int(target["image_id"]) == ann["image_id"]


def test_letterboxed_sets_are_refused(synthetic):
    with pytest.raises(ValueError, match="without input_size"):
        PersonCrops(CocoKeypoints(synthetic["train_images"], synthetic["train_ann"], input_size=64))


def test_collate_pads_right_and_bottom_without_moving_pixels():
    a = torch.randint(1, 255, (3, 20, 30), dtype=torch.uint8)
    b = torch.randint(1, 255, (3, 40, 10), dtype=torch.uint8)
    images, targets = collate_person_crops([(a, {"k": 1}), (b, {"k": 2})])
    assert images.shape == (2, 3, 40, 30) and [t["k"] for t in targets] == [1, 2]
    assert torch.equal(images[0, :, :20, :30], a) and images[0, :, 20:].sum() == 0
    assert torch.equal(images[1, :, :40, :10], b) and images[1, :, :, 10:].sum() == 0


def test_people_follow_the_report_and_the_labelled_rule(synthetic, tmp_path):
    """A person repeated under another id is listed once; points at (0, 0) marked labelled
    do not count as labelled (a person with only those is not a top-down person)."""
    data = json.loads(synthetic["train_ann"].read_text())
    anns = data["annotations"]
    twin = {**anns[0], "id": 10_000}
    only_origin = next(a for a in anns[1:] if a["image_id"] != anns[0]["image_id"])
    only_origin["keypoints"] = [0, 0, 2] * 17
    data["annotations"].append(twin)
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(data))
    with pytest.warns(AnnotationWarning, match="17 keypoints at \\(0, 0\\)"):
        people = PersonCrops(CocoKeypoints(synthetic["train_images"], ann))
    ids = [ann_id for _, ann_id in people.people]
    assert 10_000 not in ids and anns[0]["id"] in ids and only_origin["id"] not in ids
    assert len(ids) == len(set(ids))
    for index in range(len(people)):  # every listed person is one CocoKeypoints returns
        assert people[index][1]["ann_ids"].numel() == 1
