"""The synthetic crowd set: COCO-loadable, deterministic, internally consistent, crowded;
its 14-joint variant; person masks that match the painted silhouettes."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from cgalib.data import (
    KEYPOINT_NAMES,
    make_synthetic_coco,
    synthetic,
    synthetic_sample,
    synthetic_summary,
)

from helpers import BODY14

SIZE = 192
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    return make_synthetic_coco(tmp_path_factory.mktemp("synth"), 40, 6, seed=0, size=SIZE)


def _load(path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def test_layout_and_pycocotools_loads(synth):
    for split, n in (("train", 40), ("val", 6)):
        coco = _load(synth[f"{split}_ann"])
        assert len(coco.getImgIds()) == n
        assert coco.loadCats(1)[0]["name"] == "person"
        files = sorted(p.name for p in synth[f"{split}_images"].iterdir())
        assert files == sorted(img["file_name"] for img in coco.dataset["images"])


def test_same_seed_is_byte_identical_other_seed_differs(synth, tmp_path):
    again = make_synthetic_coco(tmp_path / "a", 40, 0, seed=0, size=SIZE, workers=2)
    assert again["train_ann"].read_bytes() == synth["train_ann"].read_bytes()
    other = make_synthetic_coco(tmp_path / "b", 6, 0, seed=1, size=SIZE)
    first = make_synthetic_coco(tmp_path / "c", 6, 0, seed=0, size=SIZE)
    assert other["train_ann"].read_bytes() != first["train_ann"].read_bytes()


def test_annotations_are_consistent(synth):
    coco = _load(synth["train_ann"])
    ids = [a["id"] for a in coco.dataset["annotations"]]
    assert len(ids) == len(set(ids)) and ids
    for ann in coco.dataset["annotations"]:
        img = coco.imgs[ann["image_id"]]
        w, h = img["width"], img["height"]
        x, y, bw, bh = ann["bbox"]
        assert 0 <= x and 0 <= y and bw > 0 and bh > 0 and x + bw <= w and y + bh <= h
        assert ann["iscrowd"] == 0 and ann["category_id"] == 1 and ann["area"] >= 64
        kps = np.asarray(ann["keypoints"], dtype=float).reshape(17, 3)
        labelled = kps[:, 2] > 0
        assert ann["num_keypoints"] == labelled.sum()
        assert set(kps[:, 2].tolist()) <= {0.0, 1.0, 2.0}
        assert (kps[~labelled, :2] == 0).all()
        assert (kps[labelled, :2] >= -0.5).all()
        assert (kps[labelled, 0] < w - 0.5).all() and (kps[labelled, 1] < h - 0.5).all()
        mask = mask_utils.decode(ann["segmentation"])
        assert mask.shape == (h, w) and mask.sum() == ann["area"]
        ys, xs = np.nonzero(mask)
        box = [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
        np.testing.assert_allclose(box, ann["bbox"], atol=1)


def test_crowd_statistics(synth):
    stats = synthetic_summary(synth["train_ann"])
    assert stats["images"] == 40
    assert stats["images_3plus"] >= 0.3
    assert stats["overlap_images"] >= 0.2
    assert stats["cut_people"] > 0.03
    assert stats["occluded_keypoints"] > 0.02
    assert stats["height_p05"] < 40 and stats["height_p95"] > 0.5 * SIZE
    coco = _load(synth["train_ann"])
    v = np.concatenate([np.asarray(a["keypoints"][2::3]) for a in coco.dataset["annotations"]])
    assert (v == 0).any() and (v == 1).any() and (v == 2).any()


def test_sample_matches_files_and_errors(synth, tmp_path):
    _, anns = synthetic_sample(seed=0, index=0, split="train", size=SIZE)
    coco = _load(synth["train_ann"])
    on_disk = coco.imgToAnns[1]
    assert [a["keypoints"] for a in anns] == [a["keypoints"] for a in on_disk]
    with pytest.raises(ValueError, match="split"):
        synthetic_sample(split="test")
    with pytest.raises(ValueError, match="size"):
        make_synthetic_coco(tmp_path, 1, 1, size=8)


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


# The person masks against the pixels each person really paints. Each image is rendered
# again without one person (same random stream, the person's drawing left out): the
# pixels that change are that person's visible silhouette in the picture, found
# independently of the generator's owner map. Its RLE must match them (IoU > 0.9),
# occluded people included.


def _render(monkeypatch, index: int, hidden: int | None = None):
    layout = synthetic._layout

    def hide(*args, **kwargs):
        people = layout(*args, **kwargs)
        if hidden is not None and hidden < len(people):
            people[hidden] = {**people[hidden], "prims": []}
        return people

    with monkeypatch.context() as m:
        m.setattr(synthetic, "_layout", hide)
        image, anns = synthetic.synthetic_sample(3, index, size=128, min_height=32)
    return np.asarray(image).astype(int), anns


def painted_silhouette_ious(monkeypatch, images: int = 6) -> list[tuple[float, bool]]:
    """``(IoU, occluded)`` of every annotated person of the first ``images`` images."""
    out = []
    for index in range(images):
        pixels, anns = _render(monkeypatch, index)
        masks = [mask_utils.decode(a["segmentation"]).astype(bool) for a in anns]
        for hidden in range(8):
            other, _ = _render(monkeypatch, index, hidden)
            changed = np.abs(pixels - other).sum(-1) > 0
            overlaps = [int((mk & changed).sum()) for mk in masks]
            if not changed.any() or not masks or max(overlaps) == 0:
                assert changed.sum() < 64  # only people below min_area have no annotation
                continue
            best = int(np.argmax(overlaps))
            iou = float((masks[best] & changed).sum() / (masks[best] | changed).sum())
            out.append((iou, 1 in anns[best]["keypoints"][2::3]))
    return out


def test_masks_match_the_painted_silhouettes(monkeypatch):
    ious = painted_silhouette_ious(monkeypatch)
    occluded = [iou for iou, hidden in ious if hidden]
    assert len(ious) >= 10 and occluded, "the images must hold occluded people"
    assert min(iou for iou, _ in ious) > 0.9
