"""Bad segmentations and mask set-ups: checked once, up front, by the mask loader
(cgalib.data.check_segmentations), the criterion, the builders and mask evaluation."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import create_model
from cgalib.data import AnnotationError, CocoKeypoints
from cgalib.eval import evaluate_coco

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def data_root(tmp_path):
    """A 3-image synthetic set at 64 px: ``(images, annotation file, its dict)``."""
    from cgalib.data import make_synthetic_coco

    paths = make_synthetic_coco(tmp_path / "data", num_train=3, num_val=0, size=64, min_height=16)
    ann = paths["train_ann"]
    return paths["train_images"], ann, json.loads(ann.read_text())


def _set_segmentation(ann_file, data, segmentation, index=0):
    data["annotations"][index]["segmentation"] = segmentation
    if segmentation is ...:
        del data["annotations"][index]["segmentation"]
    ann_file.write_text(json.dumps(data))
    return data["annotations"][index]["id"]


def _refused(images, ann_file) -> str:
    with pytest.raises(AnnotationError) as err:
        CocoKeypoints(images, ann_file, with_masks=True)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_polygon_of_two_points(data_root):
    """A person's segmentation polygon has only 2 points (4 numbers).

    Loading with masks fails with one line naming the file and the annotation id, "a
    polygon needs at least 3 points"."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, [[1, 1, 20, 20]])
    message = _refused(images, ann)
    assert str(ann) in message and f"annotation {ann_id} " in message
    assert "2 points" in message and "at least 3 points" in message


def test_polygon_with_odd_coordinate_count(data_root):
    """A segmentation polygon holds an odd number of coordinates.

    Loading with masks fails with one line naming the annotation id and saying the numbers
    must be x, y pairs."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, [[1, 1, 20, 1, 20, 20, 5]])
    message = _refused(images, ann)
    assert f"annotation {ann_id} " in message and "odd" in message


def test_polygon_with_a_non_number(data_root):
    """A segmentation polygon holds a string (or NaN) among its coordinates.

    Loading with masks fails with one line naming the annotation id: "not a list of finite
    numbers"."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, [[1, 1, 20, "x", 20, 20]])
    message = _refused(images, ann)
    assert f"annotation {ann_id} " in message and "finite numbers" in message


def test_rle_of_the_wrong_size(data_root):
    """A person's RLE segmentation has a size other than its image's.

    Loading with masks fails with one line naming the annotation id, the RLE's size and
    the image's size."""
    images, ann, data = data_root
    rle = dict(data["annotations"][0]["segmentation"], size=[32, 64])
    ann_id = _set_segmentation(ann, data, rle)
    message = _refused(images, ann)
    assert f"annotation {ann_id} " in message and "[32, 64]" in message and "[64, 64]" in message


def test_uncompressed_rle_whose_counts_do_not_cover_the_image(data_root):
    """An uncompressed RLE whose run lengths do not add up to height x width.

    Loading with masks fails with one line naming the annotation id, the sum and the
    expected height * width."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, {"size": [64, 64], "counts": [100, 50, 10]})
    message = _refused(images, ann)
    assert f"annotation {ann_id} " in message and "160" in message and "4096" in message


def test_empty_segmentation(data_root):
    """A person's segmentation is an empty list.

    A mask loader drops the person and counts it in its report ("no segmentation: 1, e.g.
    annotation N"); the other people load with their masks."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, [])
    ds = CocoKeypoints(images, ann, with_masks=True)
    assert ds.report.dropped["no segmentation"] == (ann_id,)
    assert f"no segmentation: 1, e.g. annotation {ann_id}" in str(ds.report)
    image_id = data["annotations"][0]["image_id"]
    _, target = ds[ds.ids.index(image_id)]
    assert ann_id not in target["ann_ids"].tolist()
    assert target["masks"].shape[0] == len(target["boxes"]) and target["masks"].any((1, 2)).all()


def test_missing_segmentation(data_root):
    """A person annotation has no segmentation field at all.

    A mask loader drops the person with a count (reason "no segmentation"), as a person
    without a box is dropped."""
    images, ann, data = data_root
    ann_id = _set_segmentation(ann, data, ...)
    ds = CocoKeypoints(images, ann, with_masks=True)
    assert ds.report.dropped["no segmentation"] == (ann_id,)
    assert ds.report.kept == ds.report.people - 1


def test_keypoint_loader_ignores_bad_segmentations(data_root):
    """A malformed person segmentation in a set used for keypoint training only.

    A loader without masks never reads person segmentations: it loads, nobody is dropped
    for it, and keypoint training is not slowed by mask checks."""
    images, ann, data = data_root
    _set_segmentation(ann, data, [[1, 1, 20, 20]])
    ds = CocoKeypoints(images, ann)
    assert "no segmentation" not in ds.report.dropped
    assert "masks" not in ds[0][1]


def test_mask_model_trained_on_targets_without_masks():
    """A segmentation model is trained on targets without "masks" (a loader made without
    with_masks=True).

    The forward pass fails with one line saying to load the data with
    CocoKeypoints(..., with_masks=True)."""
    model = create_model("cganet_tnet_d1w16_seg", input_size=64).train()
    targets = [{"boxes": torch.tensor([[4.0, 4.0, 40.0, 60.0]]), "keypoints": torch.zeros(1, 17, 3)}]
    with pytest.raises(ValueError, match=r"with_masks=True") as err:
        model(torch.rand(1, 3, 64, 64), targets)
    assert "\n" not in str(err.value)


def test_unknown_output_name():
    """A builder is asked for outputs=("mask",) (singular).

    Building fails with one line naming the outputs it accepts, 'keypoints' and 'masks'."""
    with pytest.raises(ValueError, match=r"'keypoints', 'masks' or both.*\('mask',\)"):
        create_model("cganet_tnet_d1w16", outputs=("mask",))


def test_mask_ap_on_ground_truth_without_segmentations(data_root):
    """Mask AP is asked of a ground truth whose people have no segmentation.

    Evaluation stops before the first prediction with one line naming the file and the
    first annotation without a segmentation."""
    images, ann, data = data_root
    for a in data["annotations"]:
        a.pop("segmentation")
    ann.write_text(json.dumps(data))
    model = create_model("cganet_tnet_d1w16_seg", input_size=64)
    with pytest.raises(AnnotationError, match="has no segmentation; mask AP needs one") as err:
        evaluate_coco(model, images, ann, input_size=64, device="cpu", progress=False)
    assert str(ann) in str(err.value)


def test_video_with_a_segmentation_only_model(tmp_path):
    """A video is given to a model that predicts masks but no keypoints.

    predict_video stops before reading or writing anything, with one line saying that
    tracking follows keypoints and to predict the frames as pictures or use a model with
    keypoints."""
    from cgalib.video import predict_video

    model = create_model("cganet_tnet_d1w16_seg", input_size=64)
    with pytest.raises(ValueError, match="tracks people by their keypoints") as err:
        predict_video(model, tmp_path / "clip.mp4", tmp_path / "out", progress=False)
    assert "\n" not in str(err.value) and not (tmp_path / "out").exists()


def test_end_to_end_onnx_export_of_a_segmentation_model(tmp_path):
    """A segmentation model is exported to ONNX end to end.

    Export stops before tracing with one line saying the masks are not in the graph and to
    export end_to_end=False for the dense outputs."""
    from cgalib.export import export_onnx

    model = create_model("cganet_tnet_d1w16_seg", input_size=64)
    with pytest.raises(ValueError, match="end_to_end=False"):
        export_onnx(model, tmp_path / "m.onnx", input_size=64)
    assert not (tmp_path / "m.onnx").exists()
