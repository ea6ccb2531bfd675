"""Test helpers importable from every test module (``tests/`` is on ``pythonpath``)."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch import nn
from torch.utils.data import Dataset

from cgalib import (
    CGANet,
    CGANetCriterion,
    CGANetPostprocess,
    DenseHeads,
    FeatureInfo,
    ROIGuider,
    create_model,
)
from cgalib.data import BODY14_CATEGORY
from cgalib.data.synthetic import synthetic_sample
from cgalib.models import InputRule, PoseModel
from cgalib.postprocess import AmbiguityAlleviation, DichotomyExtendArea
from cgalib.utils.coco_meta import KEYPOINT_NAMES
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.video import VideoWriter


def load_script(path: Path):
    """A script of the repository (``docs/scripts/``, ``benchmarks/``) loaded as a module by
    its path (they are not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)
"""The 14-joint keypoint set of the synthetic data (``keypoints="body14"``)."""

PUBLISHED_SETS: dict = json.loads(
    (Path(__file__).parent / "utils" / "published_keypoint_sets.json").read_text()
)
"""The keypoint sets mmpose publishes (``configs/_base_/datasets/*.py``): ``{"source":
{repository, commit, ...}, "sets": {file stem: {file, dataset_name, keypoints,
swap_pairs, one_sided_swaps}}}``, written by ``tests/utils/make_published_sets.py``."""


def published_flip_index(published: dict) -> tuple[int, ...]:
    """The flip map a published set's swap pairs give (a one-sided swap is left out)."""
    index = {name: i for i, name in enumerate(published["keypoints"])}
    flip = list(range(len(index)))
    for a, b in published["swap_pairs"]:
        flip[index[a]], flip[index[b]] = index[b], index[a]
    return tuple(flip)


class StandInModel(PoseModel):
    """A stand-in bottom-up pose model (COCO's keypoints, letterbox side ``side``): one
    person per image, the one ``person(image)`` gives in input pixels."""

    def __init__(self, side: int = 512) -> None:
        super().__init__(None, InputRule.square_side(side))

    def prediction_names(self) -> tuple[str, ...]:
        return ("boxes", "scores", "keypoints")

    def person(self, image: torch.Tensor) -> tuple[list[float], float, torch.Tensor]:
        """``(box xyxy, score, keypoints (17, 3))`` of the one person of ``image``."""
        raise NotImplementedError

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        boxes, scores, keypoints = zip(*(self.person(image) for image in images))
        return {
            "boxes": torch.tensor(boxes, dtype=torch.float32)[:, None],
            "scores": torch.tensor(scores, dtype=torch.float32)[:, None],
            "keypoints": torch.stack([k.float() for k in keypoints])[:, None],
        }


TOY_IMAGE_IDS = (3, 5, 8, 13, 21, 34)
"""Non-consecutive ids; image 34 has nobody in it."""


def write_toy_coco_keypoints(path: Path) -> list[dict]:
    """Write a COCO keypoint ground truth, two or three people per image; its annotations."""
    rng = np.random.default_rng(0)
    images, anns = [], []
    for img_id in TOY_IMAGE_IDS:
        images.append({"id": img_id, "file_name": f"{img_id}.jpg", "width": 320, "height": 320})
        for _ in range(0 if img_id == 34 else int(rng.integers(2, 4))):
            x, y = rng.uniform(10, 150, 2)
            w, h = rng.uniform(30, 160, 2)  # medium and large people
            kps = np.stack(
                [rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17), np.full(17, 2)], 1
            )
            kps[rng.random(17) < 0.2] = 0  # some keypoints not labelled
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "num_keypoints": int((kps[:, 2] > 0).sum()),
                    "keypoints": kps.flatten().tolist(),
                }
            )
    data = {
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES), "skeleton": []}
        ],
    }
    path.write_text(json.dumps(data))
    return anns


def noisy_coco_results(anns, rng, sigma, with_bbox=True, false_positives=0):
    """One result per person, keypoints and box moved by ``sigma`` pixels, plus strays."""
    results = []
    for a in anns:
        kps = np.asarray(a["keypoints"], dtype=float).reshape(17, 3)
        kps[:, :2] += rng.normal(0, sigma, (17, 2))
        kps[:, 2] = 1.0
        r = {
            "image_id": a["image_id"],
            "category_id": 1,
            "keypoints": kps.flatten().tolist(),
            "score": float(rng.uniform(0.2, 1)),
        }
        if with_bbox:
            r["bbox"] = (np.asarray(a["bbox"]) + rng.normal(0, sigma, 4)).tolist()
        results.append(r)
    for img_id in rng.choice(TOY_IMAGE_IDS, false_positives):
        x, y = rng.uniform(0, 250, 2)
        kps = np.stack([rng.uniform(x, x + 60, 17), rng.uniform(y, y + 60, 17), np.ones(17)], 1)
        r = {
            "image_id": int(img_id),
            "category_id": 1,
            "keypoints": kps.flatten().tolist(),
            "score": float(rng.uniform(0, 0.5)),
        }
        if with_bbox:
            r["bbox"] = [x, y, 60.0, 60.0]
        results.append(r)
    return results


class FakeClock:
    """A clock that advances ``tick`` seconds each time it is read."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class RegressionPairs(Dataset):
    """Images whose mean is a linear function of a hidden target, to fit with a tiny model."""

    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, 8, 8, generator=g)
        self.y = self.x.mean((1, 2, 3)) * 3 - 1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], {"y": self.y[i : i + 1]}


def collate_pairs(batch):
    """Stack the images of :class:`RegressionPairs` items; keep their targets as a list."""
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]


def keypoint_set_ground_truth(category: dict, seed: int = 0) -> dict:
    """Five images of two or three people with the ``K`` keypoints of ``category``, some
    unlabelled: a ground truth of another keypoint set than COCO's."""
    K = len(category["keypoints"])
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for image_id in range(1, 6):
        images.append({"id": image_id, "width": 300, "height": 300})
        for _ in range(int(rng.integers(2, 4))):
            x, y = rng.uniform(10, 140, 2)
            w, h = rng.uniform(40, 150, 2)
            kps = np.stack([rng.uniform(x, x + w, K), rng.uniform(y, y + h, K), np.full(K, 2)], 1)
            kps[rng.random(K) < 0.2] = 0
            anns.append({"id": len(anns) + 1, "image_id": image_id,
                         "category_id": category["id"], "iscrowd": 0, "bbox": [x, y, w, h],
                         "area": w * h, "num_keypoints": int((kps[:, 2] > 0).sum()),
                         "keypoints": kps.flatten().tolist()})  # fmt: skip
    return {"images": images, "annotations": anns, "categories": [category]}


def keypoint_set_results(data: dict, seed: int = 1) -> list[dict]:
    """One result per person of :func:`keypoint_set_ground_truth`, keypoints moved by 4 px."""
    rng = np.random.default_rng(seed)
    out = []
    for a in data["annotations"]:
        K = len(a["keypoints"]) // 3
        kps = np.asarray(a["keypoints"], dtype=float).reshape(K, 3)
        kps[:, :2] += rng.normal(0, 4.0, (K, 2))
        kps[:, 2] = 1.0
        out.append({"image_id": a["image_id"], "category_id": a["category_id"],
                    "keypoints": kps.flatten().tolist(), "bbox": a["bbox"],
                    "score": float(rng.uniform(0.2, 1))})  # fmt: skip
    return out


def cocoeval_keypoint_stats(data: dict, results: list[dict], sigmas) -> list[float]:
    """pycocotools' keypoint stats with ``sigmas``, without cgalib."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(data)
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


ONNX_SIZE = 128
"""Input side of :func:`distinct_cganet` and :func:`synthetic_images` (the ONNX tests)."""

#: Sharpening of the untrained output layers (see `distinct_cganet`).
SHARPEN = 10.0


def distinct_cganet(**kwargs) -> nn.Module:
    """A seeded, untrained small CGANet whose peaks are far apart compared with rounding.

    At initialisation every heatmap logit sits near the focal prior (-2.19) with a spread
    of a few hundredths, so that the top-k centers and the keypoint argmaxes are decided
    by differences of about 1e-6, the size of float32 rounding. Scaling the last layer of
    the center, size and keypoint heads spreads the logits (and the boxes, about 28 px),
    so that only a wrong graph can change which peak wins (``tests/export/test_onnx.py``
    checks that no near ties are left).
    """
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=ONNX_SIZE, max_detections=5, **kwargs)
    with torch.no_grad():
        for layer in (model.dense_heads.center.heatmap[-1], model.dense_heads.center.wh[-1]):
            layer.weight.mul_(SHARPEN)
        model.dense_heads.center.wh[-1].bias.fill_(6.0)  # heatmap cells: 24 px boxes on average
        model.keypoint_head.heads[-1].predict[-1].weight.mul_(SHARPEN)
    return model.eval()


def synthetic_images(*indices: int) -> torch.Tensor:
    """Synthetic crowd images `(len(indices), 3, ONNX_SIZE, ONNX_SIZE)` in 0..1."""
    images = [
        np.array(synthetic_sample(seed=0, index=i, split="val", size=ONNX_SIZE)[0].convert("RGB"))
        for i in indices
    ]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


def run_onnx(path, images: torch.Tensor) -> list[np.ndarray]:
    """The outputs of an exported model on ``images``, by onnxruntime on the CPU."""
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    return session.run(None, {"images": images.numpy()})


class TinyBackbone(nn.Module):
    """Not TNet: three strided convolutions that only expose ``feature_info``."""

    def __init__(self, timm_style: bool = False) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(3, 8, 3, stride=4, padding=1),
                nn.Conv2d(8, 12, 3, stride=2, padding=1),
                nn.Conv2d(12, 16, 3, stride=2, padding=1),
            ]
        )
        levels = [(8, 4), (12, 8), (16, 16)]
        if timm_style:  # what timm models hold: a list of dicts
            self.feature_info = [{"num_chs": c, "reduction": s} for c, s in levels]
        else:
            self.feature_info = FeatureInfo([c for c, _ in levels], [s for _, s in levels])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for conv in self.convs:
            x = torch.relu(conv(x))
            out.append(x)
        return out


def compose_cganet(backbone: nn.Module, extension=None) -> CGANet:
    """A small CGANet (input 128 px, 5 detections) composed by hand around ``backbone``, its
    heads sized from the backbone's ``feature_info``; no builder recorded."""
    info = FeatureInfo.of(backbone)
    extension = extension if extension is not None else DichotomyExtendArea()
    head = ROIGuider(info.channels(), info.reduction(), input_size=128, channels=(8, 16, 32),
                     head_channels=8)  # fmt: skip
    return CGANet(
        backbone,
        DenseHeads(info.channels(0), 8),
        head,
        CGANetPostprocess(extension, AmbiguityAlleviation(), max_detections=5),
        CGANetCriterion(extension),
        input_size=128,
    )


def people_with_masks(size: int = 128) -> list[dict]:
    """The targets of one image of ``size`` px: two people with boxes, masks and unlabelled
    keypoints."""
    f = size // 64  # the layout of a 128 px image, at 64 or 128 px
    masks = torch.zeros(2, size, size, dtype=torch.bool)
    masks[0, 10 * f : 50 * f, 10 * f : 25 * f] = True
    masks[1, 15 * f : 45 * f, 30 * f : 55 * f] = True
    return [
        {
            "boxes": torch.tensor([[10.0, 10.0, 25.0, 50.0], [30.0, 15.0, 55.0, 45.0]]) * f,
            "keypoints": torch.zeros(2, 17, 3),
            "masks": masks,
        }
    ]


def video_frames(n, h=48, w=64):
    """Frames that differ (a bright column moving right), so decoding order is checkable."""
    out = []
    for i in range(n):
        a = np.full((h, w, 3), 40, np.uint8)
        a[:, 4 * i % w : 4 * i % w + 4] = 230
        out.append(a)
    return out


def write_video(path, frames, fps=25.0, times=None, codec=None):
    """Write ``frames`` (``(H, W, 3)`` ``uint8``) with ``VideoWriter`` (needs PyAV); ``path``."""
    with VideoWriter(path, fps, frames[0].shape[1], frames[0].shape[0], codec=codec) as out:
        for i, f in enumerate(frames):
            out.write(f, None if times is None else times[i])
    return path
