"""The data fingerprint: the same data (in any order) gives no change; every edit of an
image entry, a person or the categories is named, with its count and first image."""

from __future__ import annotations

import copy
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.engine.fingerprint import DataFingerprint


def _coco(images: int = 4, people: int = 2, seed: int = 0) -> dict:
    rng = random.Random(seed)
    coco = {"images": [], "annotations": []}
    for i in range(1, images + 1):
        coco["images"].append({"id": i, "file_name": f"{i:06d}.jpg", "height": 64, "width": 80})
        for _ in range(people):
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": i, "category_id": 1,
                "iscrowd": 0, "bbox": [rng.uniform(0, 40), rng.uniform(0, 30), 10.5, 20.0],
                "keypoints": [rng.randint(0, 60) if k % 3 < 2 else 2 for k in range(51)],
            })  # fmt: skip
    return coco


def test_the_same_data_in_another_order_is_the_same():
    coco = _coco()
    kept = DataFingerprint.of_coco(coco, [1]).state_dict()
    shuffled = copy.deepcopy(coco)
    random.Random(1).shuffle(shuffled["annotations"])
    shuffled["images"].reverse()
    assert DataFingerprint.of_coco(shuffled, [1]).changes(kept) == []


def test_the_state_dict_is_tensors_and_ids():
    kept = DataFingerprint.of_coco(_coco(), [1]).state_dict()
    assert kept["image_ids"].tolist() == [1, 2, 3, 4] and kept["categories"] == [1]
    assert all(kept[k].dtype == torch.int64 and kept[k].shape == (4,) for k in ("images", "people"))


def test_images_listed_or_no_longer():
    coco = _coco()
    kept = DataFingerprint.of_coco(coco).state_dict()
    coco["images"][0]["id"] = 9
    for a in coco["annotations"]:
        a["image_id"] = 9 if a["image_id"] == 1 else a["image_id"]
    assert DataFingerprint.of_coco(coco).changes(kept) == [
        "the image ids (1 no longer listed, first: id 1 and 1 new, first: id 9, 000001.jpg)"
    ]


def test_categories_trained_on():
    coco = _coco()
    kept = DataFingerprint.of_coco(coco, [1]).state_dict()
    assert DataFingerprint.of_coco(coco, [1, 2]).changes(kept) == [
        "the categories trained on ([1] before, [1, 2] now)"
    ]


def test_people_of_other_categories_do_not_count():
    coco = _coco()
    kept = DataFingerprint.of_coco(coco, [1]).state_dict()
    coco["annotations"].append({"id": 99, "image_id": 2, "category_id": 5, "bbox": [0, 0, 1, 1]})
    assert DataFingerprint.of_coco(coco, [1]).changes(kept) == []


def test_values_that_are_not_numbers_still_count():
    coco = _coco()
    coco["annotations"][0]["keypoints"] = None
    coco["annotations"][1]["bbox"] = ["1", 2, 3, 4]
    kept = DataFingerprint.of_coco(coco).state_dict()
    coco["annotations"][1]["bbox"] = ["2", 2, 3, 4]
    (change,) = DataFingerprint.of_coco(coco).changes(kept)
    assert change.startswith("the people (ids, boxes or keypoints) of 1 image (first: id 1,")


_EDITS = ["keypoint", "visibility", "box", "annotation id", "crowd", "category", "drop person",
          "add person", "file name", "height"]  # fmt: skip


def _edit(coco: dict, edit: str, index: int, amount: float) -> tuple[int, str]:
    """Apply ``edit`` to one annotation (or image) chosen by ``index``; the image id it touches
    and the kind of change it is."""
    ann = coco["annotations"][index % len(coco["annotations"])]
    image = coco["images"][index % len(coco["images"])]
    people = "the people (ids, boxes or keypoints)"
    if edit == "keypoint":
        ann["keypoints"][(index % 17) * 3] += amount
    elif edit == "visibility":
        k = (index % 17) * 3 + 2
        ann["keypoints"][k] = 1 if ann["keypoints"][k] == 2 else 2
    elif edit == "box":
        ann["bbox"][index % 4] += amount
    elif edit == "annotation id":
        ann["id"] += 1000
    elif edit == "crowd":
        ann["iscrowd"] = 1
    elif edit == "category":
        ann["category_id"] = 2  # no longer a trained person
    elif edit == "drop person":
        coco["annotations"].remove(ann)
    elif edit == "add person":
        coco["annotations"].append({**copy.deepcopy(ann), "id": 10_000})
    elif edit == "file name":
        image["file_name"] = "other.jpg"
        return image["id"], "the file name or size"
    elif edit == "height":
        image["height"] += 1
        return image["id"], "the file name or size"
    return ann["image_id"], people


@settings(max_examples=200, deadline=None)
@given(
    edit=st.sampled_from(_EDITS),
    index=st.integers(0, 1000),
    amount=st.sampled_from([1, 0.5, -3, 1e-3, 100]),
    seed=st.integers(0, 5),
)
def test_every_edit_is_named_never_silent(edit, index, amount, seed):
    """Property: any one edit of the data gives exactly one change, naming its kind, one
    image and that image's id; the same data gives none."""
    coco = _coco(images=3, people=2, seed=seed)
    kept = DataFingerprint.of_coco(coco, [1]).state_dict()
    assert DataFingerprint.of_coco(copy.deepcopy(coco), [1]).changes(kept) == []
    image_id, kind = _edit(coco, edit, index, amount)
    (change,) = DataFingerprint.of_coco(coco, [1]).changes(kept)
    name = f"{image_id:06d}.jpg" if edit != "file name" else "other.jpg"
    assert change == f"{kind} of 1 image (first: id {image_id}, {name})"


@pytest.mark.parametrize("n", [1, 3])
def test_counts_and_the_first_image(n):
    coco = _coco(images=5)
    kept = DataFingerprint.of_coco(coco).state_dict()
    for image in coco["images"][-n:]:
        image["width"] = 81
    (change,) = DataFingerprint.of_coco(coco).changes(kept)
    plural = "image" if n == 1 else "images"
    assert change == f"the file name or size of {n} {plural} (first: id {6 - n}, 00000{6 - n}.jpg)"
