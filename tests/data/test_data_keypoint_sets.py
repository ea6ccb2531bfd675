"""Keypoint sets in the data path: the body14 synthetic set, CocoKeypoints' set and
categories, flip augmentation with the set's flip map."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cgalib.data import (
    BODY14_CATEGORY,
    KEYPOINT_NAMES,
    AnnotationError,
    CocoKeypoints,
    KeypointSet,
    PoseAugmentation,
    make_synthetic_coco,
    synthetic_sample,
)

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)


def test_body14_annotates_the_same_people_with_other_joints():
    image17, anns17 = synthetic_sample(seed=2, index=5, size=128)
    image14, anns14 = synthetic_sample(seed=2, index=5, size=128, keypoints="body14")
    assert np.array_equal(np.asarray(image17), np.asarray(image14)) and len(anns14) == len(anns17)
    for a17, a14 in zip(anns17, anns14):
        assert {k: v for k, v in a17.items() if "keypoints" not in k} == {
            k: v for k, v in a14.items() if "keypoints" not in k
        }
        k17 = np.reshape(a17["keypoints"], (17, 3))
        k14 = np.reshape(a14["keypoints"], (14, 3))
        for i, name in enumerate(BODY14.names[:12]):  # the body joints are COCO's
            assert k14[i].tolist() == k17[KEYPOINT_NAMES.index(name)].tolist()
        neck, shoulders = k14[BODY14.names.index("neck")], k17[[5, 6]]
        if neck[2] and shoulders[:, 2].all():  # the neck lies between the shoulders
            assert np.allclose(neck[:2], shoulders[:, :2].mean(0), atol=0.02)
    with pytest.raises(ValueError, match="keypoints must be one of \\['body14', 'coco17'\\]"):
        synthetic_sample(keypoints="coco18")


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


def test_flip_augmentation_swaps_the_sets_left_and_right_joints():
    """A flip without rotation, scaling or shift: keypoint ``k`` of the output is the mirror
    of keypoint ``flip_index[k]`` of the input, so every left joint lands on its right
    partner's slot; the neck and the head top stay in theirs."""
    size = 64
    xy = torch.stack([torch.arange(14.0) * 3 + 5, torch.arange(14.0) + 20], 1)
    keypoints = torch.cat([xy, torch.full((14, 1), 2.0)], 1)[None]
    target = {"boxes": torch.tensor([[4.0, 18.0, 50.0, 36.0]]), "keypoints": keypoints}
    aug = PoseAugmentation(size, scale=(1.0, 1.0), rotation=0.0, translation=0.0,
                           flip_prob=1.0, flip_index=BODY14.flip_index, seed=0)  # fmt: skip
    _, (out,) = aug(torch.zeros(1, 3, size, size, dtype=torch.uint8), [target])
    got = out["keypoints"][0]
    index = {n: i for i, n in enumerate(BODY14.names)}
    for name, i in index.items():
        partner = name.replace("left", "@").replace("right", "left").replace("@", "right")
        src = keypoints[0, index[partner]]
        assert got[i].tolist() == [size - 1 - src[0].item(), src[1].item(), 2.0], name
    assert index["neck"] == BODY14.flip_index[index["neck"]]


def test_augmentation_refuses_keypoints_of_another_set():
    target = {"boxes": torch.tensor([[4.0, 4.0, 20.0, 20.0]]), "keypoints": torch.zeros(1, 14, 3)}
    with pytest.raises(ValueError, match="flips 17 keypoints; pass the data set's flip map"):
        PoseAugmentation(32)(torch.zeros(1, 3, 32, 32), [target])
    with pytest.raises(ValueError, match=r"flip_index is not a permutation of 0\.\.1"):
        PoseAugmentation(32, flip_index=(0, 0))


def _animals(tmp_path, dog_keypoints=("nose", "left_paw", "right_paw")):
    """Two images, a cat and two dogs sharing one keypoint list (``(root, ann_file)``)."""
    from PIL import Image

    for i in (1, 2):
        Image.new("RGB", (40, 30)).save(tmp_path / f"{i}.jpg")
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
