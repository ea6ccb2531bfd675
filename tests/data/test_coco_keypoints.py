"""CocoKeypoints over a tiny hand-written COCO file; collate, find_split and clear errors;
masks, the keypoint set of the file, categories read together or apart."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib.data import (
    PERSON_CATEGORY,
    AnnotationError,
    CocoKeypoints,
    collate,
    collate_letterboxed,
    find_split,
    make_synthetic_coco,
)

from helpers import BODY14

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _kps(points: dict[int, tuple[float, float, int]]) -> list[float]:
    flat = [0.0] * 51
    for k, (x, y, v) in points.items():
        flat[3 * k : 3 * k + 3] = [x, y, v]
    return flat


@pytest.fixture()
def tiny_coco(tmp_path):
    (tmp_path / "train").mkdir()
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(tmp_path / "train" / "rgb.png")
    Image.fromarray(np.full((30, 20), 90, np.uint8)).save(tmp_path / "train" / "gray.png")
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "train" / "empty.png")
    data = {
        "images": [
            {"id": 1, "file_name": "rgb.png", "width": 60, "height": 40},
            {"id": 2, "file_name": "gray.png", "width": 20, "height": 30},
            {"id": 3, "file_name": "empty.png", "width": 10, "height": 10},
        ],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [5, 6, 20, 30],
                "area": 600,
                "num_keypoints": 2,
                "segmentation": [[5, 6, 25, 6, 25, 36, 5, 36]],
                "keypoints": _kps({0: (10, 8, 2), 5: (12, 20, 1), 9: (99, 99, 0)}),
            },
            {
                "id": 11,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [40, 0, 10, 10],
                "area": 100,
                "num_keypoints": 0,
                "segmentation": [[40, 0, 50, 0, 50, 10, 40, 10]],
                "keypoints": _kps({}),
            },
            {
                "id": 12,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 1,
                "bbox": [30, 20, 10, 10],
                "area": 100,
                "num_keypoints": 0,
                "segmentation": {
                    "size": [40, 60],
                    "counts": [30 * 40 + 20] + [10, 30] * 9 + [10, 810],
                },
                "keypoints": _kps({}),
            },
            {
                "id": 13,
                "image_id": 2,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [2, 3, 0, 10],
                "area": 0,
                "num_keypoints": 0,
                "segmentation": [],
                "keypoints": _kps({}),
            },
            {
                "id": 14,
                "image_id": 2,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [2, 3, 10, 20],
                "area": 200,
                "num_keypoints": 1,
                "keypoints": _kps({16: (5, 20, 2)}),
            },
        ],  # fmt: skip
        "categories": [PERSON_CATEGORY],
    }
    (tmp_path / "annotations").mkdir()
    ann = tmp_path / "annotations" / "person_keypoints_train.json"
    ann.write_text(json.dumps(data))
    return tmp_path, ann


def test_loads_people_crowd_and_grayscale(tiny_coco):
    root, ann = tiny_coco
    ds = CocoKeypoints(root / "train", ann, with_masks=True)
    assert len(ds) == 3
    image, t = ds[0]
    assert image.shape == (3, 40, 60) and image.dtype == torch.uint8
    assert t["boxes"].tolist() == [[5, 6, 25, 36], [40, 0, 50, 10]]
    assert t["keypoints"].shape == (2, 17, 3) and t["keypoints"].dtype == torch.float32
    assert t["keypoints"][0, 0].tolist() == [10, 8, 2] and t["keypoints"][0, 9].tolist() == [
        0,
        0,
        0,
    ]
    assert t["keypoints"][1, :, 2].sum() == 0  # kept for detection with num_keypoints == 0
    assert t["ann_ids"].tolist() == [10, 11] and int(t["image_id"]) == 1
    assert t["crowd_boxes"].tolist() == [[30, 20, 40, 30]]
    assert t["ignore_mask"].shape == (40, 60) and t["ignore_mask"].sum() > 0
    assert t["ignore_mask"][:, :30].sum() == 0
    assert t["masks"].shape == (2, 40, 60) and t["masks"][1].sum() > 0
    gray, t2 = ds[1]
    assert gray.shape == (3, 30, 20) and (gray == 90).all()
    # the empty box is dropped; 14 has no segmentation: a mask loader drops it with a count
    # (a box-filled mask would be a wrong label), a keypoint loader keeps it
    assert t2["ann_ids"].tolist() == [] and t2["masks"].shape == (0, 30, 20)
    assert ds.report.dropped["no segmentation"] == (14,)
    assert CocoKeypoints(root / "train", ann)[1][1]["ann_ids"].tolist() == [14]
    _, t3 = ds[2]
    assert t3["boxes"].shape == (0, 4) and t3["keypoints"].shape == (0, 17, 3)
    assert len(CocoKeypoints(root / "train", ann, keep_empty=False)) == 2
    assert len(CocoKeypoints(root / "train", ann, keep_empty=False, min_keypoints=1)) == 2


def test_letterboxed_items_collate(tiny_coco):
    root, ann = tiny_coco
    ds = CocoKeypoints(root / "train", ann, input_size=32, with_masks=True)
    images, targets = collate_letterboxed([ds[0], ds[1], ds[2]])
    assert images.shape == (3, 3, 32, 32) and images.dtype == torch.uint8
    t = targets[0]
    scale = 32 / 60
    torch.testing.assert_close(t["boxes"][0], torch.tensor([5, 6, 25, 36]) * scale)
    torch.testing.assert_close(
        t["keypoints"][0, 0, :2], (torch.tensor([10.0, 8.0]) + 0.5) * scale - 0.5
    )
    assert t["masks"].shape == (2, 32, 32) and t["ignore_mask"].shape == (32, 32)
    assert t["orig_size"].tolist() == [40, 60] and t["size"].tolist() == [32, 32]
    plain = CocoKeypoints(root / "train", ann)
    imgs, tgts = collate([plain[0], plain[1]])
    assert [tuple(i.shape) for i in imgs] == [(3, 40, 60), (3, 30, 20)] and len(tgts) == 2
    with pytest.raises(ValueError, match="one size"):
        collate_letterboxed([plain[0], plain[1]])


def test_find_split(tiny_coco, tmp_path):
    root, ann = tiny_coco
    assert find_split(root, "train") == (root / "train", ann)
    (root / "val2017").mkdir()
    (root / "annotations" / "person_keypoints_val2017.json").write_text("{}")
    assert find_split(root, "val")[0] == root / "val2017"
    with pytest.raises(FileNotFoundError, match="person_keypoints_test"):
        (root / "test").mkdir()
        find_split(root, "test")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json {", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"images": [], "categories": []}', "'annotations'"),
        ('{"images": [], "annotations": [], "categories": []}', "empty 'images'"),
        (
            '{"images": [{"id": 1}], "annotations": [], "categories": [{"id": 1, "name": "dog"}]}',
            "no categories named 'person'",
        ),
    ],
)
def test_malformed_annotations_raise_naming_the_file(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        CocoKeypoints(tmp_path, bad)
    assert "bad.json" in str(err.value)


def test_missing_files_raise(tiny_coco, tmp_path):
    root, ann = tiny_coco
    with pytest.raises(FileNotFoundError, match="nope.json"):
        CocoKeypoints(root / "train", root / "nope.json")
    with pytest.raises(FileNotFoundError, match="image folder"):
        CocoKeypoints(root / "missing", ann)
    (root / "train" / "rgb.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"1 of 3 images .* cannot be used .*rgb.png"):
        CocoKeypoints(root / "train", ann)  # up front, not in the middle of an epoch
    (root / "train" / "gray.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of 3 images .* are missing .*gray.png"):
        CocoKeypoints(root / "train", ann)  # up front, not in the middle of an epoch


def test_loader_masks_are_the_annotations(tmp_path):
    paths = make_synthetic_coco(tmp_path, num_train=2, num_val=0, size=64, min_height=16)
    ds = CocoKeypoints(paths["train_images"], paths["train_ann"], with_masks=True)
    boxed = CocoKeypoints(paths["train_images"], paths["train_ann"], with_masks=True, input_size=32)
    for i in range(len(ds)):
        _, t = ds[i]
        for ann_id, m in zip(t["ann_ids"].tolist(), t["masks"]):
            expected = ds.coco.annToMask(ds.coco.anns[ann_id]).astype(bool)
            assert torch.equal(m, torch.from_numpy(expected))
        _, small = boxed[i]
        assert small["masks"].shape[1:] == (32, 32) and small["masks"].dtype == torch.bool


@pytest.fixture(scope="module")
def body14_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("body14")
    return make_synthetic_coco(root, 3, 0, seed=1, size=64, min_height=16, keypoints="body14")


def test_coco_keypoints_reads_the_set_of_the_file(body14_split):
    ds = CocoKeypoints(body14_split["train_images"], body14_split["train_ann"])
    assert ds.keypoint_set == BODY14 and ds.num_keypoints == 14
    _, target = ds[0]
    assert target["keypoints"].shape[1:] == (14, 3) and "labels" not in target
    info = json.loads(body14_split["train_ann"].read_text())["info"]
    assert info["keypoints"] == "body14"


def _animals(tmp_path, dog_keypoints=("nose", "left_paw", "right_paw")):
    """Two images, a cat and two dogs sharing one keypoint list (``(root, ann_file)``)."""
    from PIL import Image

    for i in (1, 2):
        Image.new("RGB", (40, 30), (i, i, i)).save(tmp_path / f"{i}.jpg")  # two pictures
    names = ["nose", "left_paw", "right_paw"]
    anns = [
        {"id": i, "image_id": image, "category_id": cat, "bbox": [2, 2, 20, 20],
         "keypoints": [5, 5, 2, 8, 9, 2, 12, 9, 1]}
        for i, (image, cat) in enumerate([(1, 7), (1, 9), (2, 9)], 1)
    ]  # fmt: skip
    data = {
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 40, "height": 30} for i in (1, 2)],
        "annotations": anns,
        "categories": [
            {"id": 7, "name": "cat", "keypoints": names, "sigmas": [0.05] * 3},
            {"id": 9, "name": "dog", "keypoints": list(dog_keypoints), "sigmas": [0.05] * 3},
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(data))
    return tmp_path, tmp_path / "ann.json"


def test_categories_sharing_a_keypoint_list_load_as_one_class_or_apart(tmp_path):
    root, ann = _animals(tmp_path)
    with pytest.raises(AnnotationError, match="no categories named 'person' .*categories="):
        CocoKeypoints(root, ann)
    together = CocoKeypoints(root, ann, categories=["cat", "dog"])
    assert together.category_ids == (7, 9) and together.keypoint_set.categories == ("cat", "dog")
    assert [len(together[i][1]["boxes"]) for i in range(2)] == [2, 1]
    assert str(together.report).endswith("3 people: 3 kept (3 with labelled keypoints)")
    apart = CocoKeypoints(root, ann, categories="*", separate_categories=True)
    assert apart[0][1]["labels"].tolist() == [0, 1] and apart[1][1]["labels"].tolist() == [1]
    dogs = CocoKeypoints(root, ann, categories=[9])
    assert [len(dogs[i][1]["boxes"]) for i in range(2)] == [1, 1]
    assert "1 annotations of other categories than 'dog' (id 9)" in str(dogs.report)


def test_categories_with_different_keypoints_are_refused_together(tmp_path):
    root, ann = _animals(tmp_path, dog_keypoints=("nose", "tail", "left_paw"))
    with pytest.raises(AnnotationError, match="categories 'cat' and 'dog' name different"):
        CocoKeypoints(root, ann, categories="*")
    with pytest.raises(AnnotationError, match="has no category name 'cow'"):
        CocoKeypoints(root, ann, categories=["cow"])
