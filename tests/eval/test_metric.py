import json
import os
import socket
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from cgalib.eval import BOX_METRICS, KEYPOINT_METRICS, CocoKeypointAP, coco_ap, coco_keypoint_ap

from helpers import TOY_IMAGE_IDS, noisy_coco_results


def _by_image(results, image_ids):
    return [r for r in results if r["image_id"] in image_ids]


def _feed(metric, results, image_ids, batch=2):
    """Update ``metric`` with the images in batches, each batch's results with them."""
    for start in range(0, len(image_ids), batch):
        ids = list(image_ids[start : start + batch])
        metric.update(_by_image(results, ids), image_ids=ids)


def _reference(path, results, image_ids=None):
    expected = coco_keypoint_ap(path, results, image_ids)
    box = coco_ap(path, results, "bbox", image_ids)
    return {**expected, **{f"box_{k}": v for k, v in box.items()}}


@pytest.mark.parametrize("batch", [1, 4])
def test_batches_give_exactly_coco_keypoint_ap(coco_gt, batch):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(0), sigma=4.0, false_positives=4)
    results = [r for r in results if r["image_id"] != 21]  # an image without detections
    metric = CocoKeypointAP(path, iou_types=("keypoints", "bbox"))
    _feed(metric, results, TOY_IMAGE_IDS, batch)
    stats = metric.compute()
    assert list(stats) == [*KEYPOINT_METRICS, *(f"box_{k}" for k in BOX_METRICS)]
    assert stats == _reference(path, results)  # exact: float64 states round-trip
    assert 0 < stats["AP"] < 1 and 0 < stats["box_AP"] < 1


def test_keypoints_only_and_results_without_boxes(coco_gt):
    path, anns = coco_gt
    # without a bbox pycocotools takes each person's area from its keypoints' extent
    results = noisy_coco_results(anns, np.random.default_rng(1), sigma=3.0, with_bbox=False)
    metric = CocoKeypointAP(str(path))
    _feed(metric, results, TOY_IMAGE_IDS)
    assert metric.compute() == coco_keypoint_ap(path, results)
    with pytest.raises(ValueError, match=r"result 0 \(image 3\) has no 'bbox'"):
        CocoKeypointAP(path, iou_types=("bbox",)).update(results)


def test_some_images_give_the_ap_of_those_images_and_reset_starts_over(coco_gt):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(2), sigma=4.0, false_positives=2)
    metric = CocoKeypointAP(path, iou_types=("keypoints", "bbox"))
    some = [13, 3, 34]
    _feed(metric, results, some)
    part = metric.compute()
    assert part == _reference(path, _by_image(results, some), image_ids=sorted(some))
    assert part != _reference(path, results)
    metric.reset()
    metric.update(results)  # image ids taken from the results: all but empty image 34
    named = sorted({r["image_id"] for r in results})
    assert metric.compute() == _reference(path, results, image_ids=named)


def test_no_results_score_zero(coco_gt):
    path, _ = coco_gt
    metric = CocoKeypointAP(path)
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert metric.compute() == dict.fromkeys(KEYPOINT_METRICS, 0.0)
    metric = CocoKeypointAP(path, iou_types=("bbox",))
    metric.update([], image_ids=[3, 5])
    assert metric.compute() == dict.fromkeys((f"box_{k}" for k in BOX_METRICS), 0.0)


def test_an_image_updated_twice_is_an_error(coco_gt):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(3), sigma=1.0)
    metric = CocoKeypointAP(path)
    metric.update(_by_image(results, [3, 5]), image_ids=[3, 5])
    metric.update(_by_image(results, [5]), image_ids=[5])
    with pytest.raises(ValueError, match=r"images \[5\] were passed to update\(\) more than once"):
        metric.compute()


def test_bad_inputs_name_the_culprit(coco_gt):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(4), sigma=1.0)
    metric = CocoKeypointAP(path)
    with pytest.raises(ValueError, match=r"images missing from the ground truth: \[7, 99\]"):
        metric.update([], image_ids=[3, 99, 7])
    with pytest.raises(ValueError, match=r"results for images \[3\] that image_ids does not"):
        metric.update(_by_image(results, [3]), image_ids=[5])
    short = {**results[0], "keypoints": results[0]["keypoints"][:48]}
    with pytest.raises(ValueError, match=r"result 1 \(image 3\) has 48 keypoint values, expect"):
        metric.update([results[0], short])
    with pytest.raises(ValueError, match=r"result 0 \(image 3\) has no 'score'"):
        metric.update([{k: v for k, v in results[0].items() if k != "score"}])
    with pytest.raises(ValueError, match="iou_types must be distinct names"):
        CocoKeypointAP(path, iou_types=("segm",))
    no_names = {
        "images": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9]}],
        "categories": [{"id": 1, "name": "person"}],
    }
    with pytest.raises(ValueError, match="category 'person' names no keypoints"):
        CocoKeypointAP(no_names)
    assert CocoKeypointAP(no_names, iou_types=("bbox",)).coco_gt.report.kept == 1
    assert "iou_types=('keypoints',), images=6" in repr(metric)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, gt_path, results, out):
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    report = {}
    # each rank half of the images, as a DistributedSampler without padding deals them
    split = CocoKeypointAP(gt_path, iou_types=("keypoints", "bbox"))
    _feed(split, results, TOY_IMAGE_IDS[rank::world])
    report["split"] = split.compute()
    # every image on rank 0, none on rank 1
    lonely = CocoKeypointAP(gt_path)
    if rank == 0:
        _feed(lonely, results, TOY_IMAGE_IDS)
    report["lonely"] = lonely.compute()
    # DistributedSampler padding: 5 images on 2 ranks, rank 1 repeats image 3
    padded = CocoKeypointAP(gt_path)
    _feed(padded, results, (TOY_IMAGE_IDS[:5] + TOY_IMAGE_IDS[:1])[rank::world])
    try:
        padded.compute()
    except ValueError as err:
        report["padded"] = str(err)
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(report, f)
    dist.barrier()  # neither rank tears gloo down while the other still uses it
    dist.destroy_process_group()


def test_two_gloo_ranks_with_half_the_images_each_get_the_whole_ap(coco_gt, tmp_path):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(5), sigma=4.0, false_positives=4)
    args = (2, _free_port(), str(path), results, str(tmp_path))
    mp.spawn(_ddp_worker, args=args, nprocs=2, join=True)
    expected = _reference(path, results)
    for rank in (0, 1):
        # JSON writes and reads Python floats exactly
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert report["split"] == expected
        assert report["lonely"] == coco_keypoint_ap(path, results)
        assert report["padded"].startswith("images [3] were passed to update() more than once")
