"""Robustness of the detections-file contract: COCO detection results given as person boxes
(``evaluate_coco(boxes="dets.json")``, ``cgalib eval --boxes dets.json``), read by
``load_detections``, which keeps, converts or drops each entry and counts it, or refuses the
file in one line."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from cgalib import create_model, save_model
from cgalib.cli import main
from cgalib.data import load_detections, make_synthetic_coco
from cgalib.eval import evaluate_coco, load_coco

from top_down_helpers import OracleTopDown, crop_queue, write_toy_set


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def _detections(tmp_path, entries, name="detections.json"):
    path = tmp_path / name
    path.write_text(json.dumps(entries))
    return path


def _person(image_id=1, bbox=(10, 20, 30, 60), score=0.9, category_id=1):
    return {"image_id": image_id, "category_id": category_id, "bbox": list(bbox), "score": score}


def _load_warning(path, image_ids) -> tuple[dict, str]:
    """Load a detections file that must warn once; the table and the warning's one line."""
    with pytest.warns(UserWarning) as caught:
        table = load_detections(path, image_ids)
    (message,) = [str(w.message) for w in caught]
    assert "\n" not in message and str(path) in message
    return table, message


def _oracle_on_first_person(anns):
    """An oracle top-down model that answers the box of the split's first person, and that box
    as a detection (xywh)."""
    first = anns[0]
    x, y, w, h = first["bbox"]
    box = torch.tensor([[x, y, x + w, y + h, 1.0]])
    kps = torch.tensor(first["keypoints"], dtype=torch.float64).reshape(1, 17, 3)
    return OracleTopDown(crop_queue({0: box}, {0: kps}, (256, 192))), first


# ------------------------------------------------ files that cannot be read as detections


def test_detections_file_is_not_json(tmp_path):
    """The detections file is truncated and no longer valid JSON.

    Loading fails with one line naming the file and the JSON error."""
    path = tmp_path / "detections.json"
    path.write_text('[{"image_id": 1, "category')
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    assert f"detections file {path} is not valid JSON" in _one_line(err)


def test_detections_file_is_an_annotation_file(tmp_path):
    """An annotation file (a JSON object with images and annotations) is given as the detections file.

    Loading fails with one line naming the file and saying it must hold a JSON list of
    detections with the fields they need."""
    path = _detections(tmp_path, {"images": [], "annotations": []})
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    assert "must hold a JSON list of detections" in _one_line(err)


def test_empty_detections_file(tmp_path):
    """The detections file is an empty list, `[]` (a detector run that found nothing, or whose output was never written).

    Loading refuses it with one line naming the file and saying it holds no detections,
    instead of an AP table of 0.000 printed as if measured."""
    path = _detections(tmp_path, [])
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert str(path) in message and "holds no detections" in message


def test_missing_boxes_file(tmp_path):
    """evaluate_coco gets boxes="dets.json" for a top-down model, a file that does not exist.

    It fails with FileNotFoundError naming the path and the accepted box sources ('gt', a
    detections .json, a detector checkpoint)."""
    images, ann_file, _ = write_toy_set(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        evaluate_coco(OracleTopDown([]), images, ann_file, boxes="dets.json", progress=False)
    assert "'dets.json': no such file; use 'gt'" in _one_line(err)


# --------------------------------------------------------- entries that are refused by name


def test_detection_without_a_score(tmp_path):
    """A detections file has an entry without a "score".

    Loading fails with one line naming the file, the entry number and the missing field,
    and listing the fields every entry needs."""
    path = _detections(tmp_path, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}])
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert "entry 0 has no 'score'" in message and "bbox [x, y, width, height]" in message


def test_detection_with_a_three_number_bbox(tmp_path):
    """A detections file has an entry whose bbox is [10, 20, 30] instead of four numbers.

    Loading fails with one line naming the file, the entry, its image and the bad bbox,
    and saying a bbox is [x, y, width, height]."""
    path = _detections(tmp_path, [{"image_id": 1, "category_id": 1, "bbox": [10, 20, 30],
                                   "score": 0.5}])  # fmt: skip
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert "entry 0 (image 1) has bbox [10, 20, 30]" in message


def test_detection_with_a_nan_score(tmp_path):
    """A detections file has an entry whose score is NaN.

    Loading fails with one line naming the file, the entry, its image and the score,
    instead of ranking the person with an undefined score."""
    path = tmp_path / "detections.json"
    path.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": NaN}]')
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    assert "entry 0 (image 1) has score nan" in _one_line(err)


# ------------------------------------------------------------------------- category ids


def test_detector_counting_categories_from_zero(tmp_path):
    """A person detector writes category_id 0 for every box (it counts classes from 0), while the ground truth's person category is 1.

    The boxes are read as people, not dropped: a one-line warning counts the entries whose
    category_id 0 was read as 1 (a detector counting from 0), and evaluation scores them."""
    images, ann_file, anns = write_toy_set(tmp_path)
    oracle, first = _oracle_on_first_person(anns)
    path = _detections(tmp_path, [_person(first["image_id"], first["bbox"], 1.0, 0)])
    with pytest.warns(UserWarning, match="category_id 0 read as 1") as caught:
        metrics, results = evaluate_coco(oracle, images, ann_file, boxes=path, device="cpu",
                                         progress=False)  # fmt: skip
    assert any(str(path) in str(w.message) for w in caught)
    assert len(results) == 1 and metrics["AR"] > 0


def test_category_id_written_as_text(tmp_path):
    """A detections file writes category_id as the string "1" (a tool that writes every value as text).

    The ids are read as the integer 1 and the boxes kept; a one-line warning counts the
    entries converted, with an example."""
    path = _detections(tmp_path, [_person(category_id="1"), _person(2, category_id="1")])
    table, message = _load_warning(path, [1, 2])
    assert len(table[1]) == 1 and len(table[2]) == 1
    assert "ids written as text or decimals: 2, e.g. entry 0 has category_id '1'" in message


def test_zero_based_file_of_every_class(tmp_path):
    """A multi-class detector's file numbers its classes from 0 (0 person, 1 bicycle, 2 car, ...), while the ground truth's person category is 1.

    Loading refuses it with one line: the file counts categories from 0, so its
    category_id 1 is not the person category; it names the counts and says to keep the
    person detections with category_id 1. No bicycle is taken for a person."""
    path = _detections(tmp_path, [_person(category_id=0), _person(category_id=1),
                                  _person(category_id=2)])  # fmt: skip
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert str(path) in message and "counts categories from 0" in message
    assert "category_id 1" in message


def test_detections_of_another_category_only(tmp_path):
    """The detections file holds only boxes of category 3 (a car detector's output, or the wrong file).

    Loading refuses it with one line naming the file, the entries dropped by reason (another
    category than 1, with an example) and that nothing is left."""
    path = _detections(tmp_path, [_person(category_id=3), _person(category_id=3)])
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert str(path) in message and "nothing is left" in message
    assert "another category than 1: 2, e.g. entry 0 has category_id 3" in message


def test_multi_class_detections_file(tmp_path):
    """A detector's file holds every class it found: people and 80-class COCO objects mixed.

    The people are kept; the others are dropped and counted in a one-line warning
    (another category than 1: how many, with an example entry)."""
    path = _detections(tmp_path, [_person(), _person(category_id=3), _person(category_id=62)])
    table, message = _load_warning(path, [1])
    assert len(table[1]) == 1
    assert "1 kept" in message and "another category than 1: 2, e.g. entry 1" in message


# ------------------------------------------------------------------------------- scores


def test_logit_scores(tmp_path):
    """A detections file whose scores are logits (negative numbers among them), not probabilities.

    Loading refuses it with one line: the scores seen (their range, how many are negative,
    an example entry) and how to convert logits, 1 / (1 + exp(-score)); never an AP
    computed from boxes ranked by a score that the predictor multiplies."""
    path = _detections(tmp_path, [_person(score=-2.5), _person(score=1.7), _person(score=0.3)])
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert str(path) in message and "outside [0, 1]" in message
    assert "from -2.5 to 1.7" in message and "1 / (1 + exp(-score))" in message


def test_percentage_scores(tmp_path):
    """A detections file whose scores are percentages, 0 to 100.

    Loading refuses it with one line: the scores seen (up to 97), how many are above 1,
    and to divide them by 100."""
    path = _detections(tmp_path, [_person(score=97), _person(score=55.5), _person(score=0.5)])
    with pytest.raises(ValueError) as err:
        load_detections(path, [1])
    message = _one_line(err)
    assert "from 0.5 to 97" in message and "divide them by 100" in message


# ------------------------------------------------------------------------------- images


def test_detection_of_an_unknown_image(tmp_path):
    """A detections file has one entry, for image 999, which the annotation file does not have.

    Loading fails with one line naming the file, the entry number and image 999, and
    suggesting detections of another split."""
    path = _detections(tmp_path, [{"image_id": 999, "category_id": 1, "bbox": [0, 0, 5, 5],
                                   "score": 0.5}])  # fmt: skip
    with pytest.raises(ValueError) as err:
        load_detections(path, [1, 2])
    message = _one_line(err)
    assert str(path) in message and "entry 0" in message and "image 999" in message
    assert "another split" in message


def test_detections_of_a_larger_split(tmp_path):
    """The detections cover the whole val2017 set while the annotation file is a subset of it.

    The boxes of the images in the annotation file are kept; the others are dropped and
    counted in a one-line warning, with an example entry and its image."""
    path = _detections(tmp_path, [_person(1), _person(2), _person(77), _person(78)])
    table, message = _load_warning(path, [1, 2, 3])
    assert [len(table[i]) for i in (1, 2, 3)] == [1, 1, 0]
    assert "unknown image: 2, e.g. entry 2 names image 77" in message


def test_image_without_any_box(tmp_path):
    """The detections file has no box for some images of the split.

    Those images get no people, still count in the evaluation (their ground-truth
    people are misses), and the others are scored as usual."""
    images, ann_file, anns = write_toy_set(tmp_path)
    oracle, first = _oracle_on_first_person(anns)
    path = _detections(tmp_path, [_person(first["image_id"], first["bbox"], 1.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to report: no warning
        metrics, results = evaluate_coco(oracle, images, ann_file, boxes=path, device="cpu",
                                         progress=False)  # fmt: skip
    assert len(results) == 1 and 0 < metrics["AR"] < 0.5  # one person of many found


# ------------------------------------------------------------------------- the command line


def test_eval_command_shows_what_it_converted(tmp_path, capsys):
    """`cgalib eval --boxes dets.json` with a detections file whose category ids count from 0.

    The command prints one `cgalib: warning:` line counting the converted entries before the
    AP table, and exits 0 with the boxes used."""
    paths = make_synthetic_coco(tmp_path / "data", num_train=0, num_val=2, size=64,
                                min_height=30)  # fmt: skip
    gt = load_coco(paths["val_ann"])
    dets = [_person(a["image_id"], a["bbox"], 0.8, 0) for a in gt.dataset["annotations"]]
    path = _detections(tmp_path, dets)
    checkpoint = tmp_path / "topdown.pt"
    save_model(create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1},
                            input_size=[64, 64]), checkpoint)  # fmt: skip
    code = main(["eval", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "data"),
                 "--boxes", str(path), "--device", "cpu", "--out", str(tmp_path / "r.json")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    (line,) = [x for x in captured.err.splitlines() if x.startswith("cgalib: warning:")]
    assert str(path) in line and "category_id 0 read as 1" in line
    assert f": {len(dets)}, e.g. entry 0" in line
    assert len(json.loads((tmp_path / "r.json").read_text())) == len(dets)


# ------------------------------------------------------------- new hostile cases of this file


def test_boxes_written_as_corners(tmp_path):
    """A detector's boxes written as [x1, y1, x2, y2] instead of COCO's [x, y, width, height].

    Most boxes then reach past the image's edge: loading refuses the file with one line
    counting them, naming an example, and saying how to convert (width = x2 - x1)."""
    images, ann_file, anns = write_toy_set(tmp_path)
    gt = load_coco(ann_file)
    corners = []
    for a in anns:
        x, y, w, h = a["bbox"]
        corners.append(_person(a["image_id"], [x, y, x + w, y + h]))
    path = _detections(tmp_path, corners)
    with pytest.raises(ValueError) as err:
        load_detections(path, gt)
    message = _one_line(err)
    assert str(path) in message and "past the image edge" in message
    assert "[x1, y1, x2, y2]" in message and "width = x2 - x1" in message


def test_detections_gathered_twice(tmp_path):
    """Detections gathered from several GPUs hold some images twice (a distributed sampler pads the last batch with repeated images).

    The repeated entries are dropped and counted in a one-line warning (duplicate, with
    the entry it repeats), so no person is predicted twice."""
    entries = [_person(1), _person(2, score=0.5), _person(1)]
    path = _detections(tmp_path, entries)
    table, message = _load_warning(path, [1, 2])
    assert len(table[1]) == 1 and len(table[2]) == 1
    assert "duplicate: 1, e.g. entry 2 repeats entry 0" in message


def test_box_numbers_written_as_text(tmp_path):
    """A detections file writes its bbox values and scores as strings ("10.5", "0.9"), as some exporters do.

    The numbers are read and the boxes kept, and a one-line warning counts the entries
    converted (never a silent conversion); a string that is not a number is refused by name."""
    path = _detections(tmp_path, [_person(bbox=["10.5", "20", "30", "60"], score="0.9")])
    table, message = _load_warning(path, [1])
    torch.testing.assert_close(table[1], torch.tensor([[10.5, 20.0, 40.5, 80.0, 0.9]]))
    assert "bbox or score written as text: 1, e.g. entry 0" in message
