"""Person boxes for top-down models: a COCO detection-results file, or the ground truth."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO

from cgalib.data import (
    Detections,
    DetectionsError,
    DetectionsWarning,
    ground_truth_boxes,
    load_detections,
)
from cgalib.eval import load_coco
from cgalib.utils.coco_meta import KEYPOINT_NAMES


def _write(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_detections_per_image_sorted_other_categories_skipped(tmp_path):
    path = _write(tmp_path / "d.json", [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 20], "score": 0.2},
        {"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 3, "bbox": [5, 5, 10, 10], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.01},
    ])  # fmt: skip
    with pytest.warns(DetectionsWarning, match="another category than 1: 1, e.g. entry 2"):
        dets = load_detections(path, [1, 2, 3])
    assert set(dets) == {1, 2, 3}
    torch.testing.assert_close(
        dets[1], torch.tensor([[5.0, 5.0, 15.0, 15.0, 0.8], [0.0, 0.0, 10.0, 20.0, 0.2]])
    )
    assert dets[3].shape == (0, 5)
    with pytest.warns(DetectionsWarning):
        assert load_detections(path, [1, 2, 3], min_score=0.1)[2].shape == (0, 5)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "entry 1 has no 'image_id'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, "entry 1 has no 'score'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}, r"bbox \[0, 0, 1\]"),
        (
            {"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 1},
            "width, height >= 0",
        ),
        ({"image_id": 1, "category_id": 1, "bbox": "box", "score": 1}, "bbox 'box'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "high"}, "score 'high'"),
        ({"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "image_id 'a'"),
        ([1, 2, 3], "entry 1 is a list, not an object"),
    ],
)
def test_a_malformed_entry_is_named(tmp_path, entry, message):
    good = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}
    path = _write(tmp_path / "d.json", [good, entry])
    with pytest.raises(ValueError, match=message) as err:
        load_detections(path, [1])
    assert str(path) in str(err.value) and "entry 1" in str(err.value)


def test_an_unknown_image_is_named(tmp_path):
    path = _write(tmp_path / "d.json", [
        {"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])  # fmt: skip
    with pytest.raises(
        ValueError, match="entry 0 names image 999, which is not in the ground truth"
    ):
        load_detections(path, [1, 2])


def test_files_that_are_not_detection_lists(tmp_path):
    with pytest.raises(FileNotFoundError, match="detections file not found"):
        load_detections(tmp_path / "missing.json", [1])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_detections(tmp_path / "bad.json", [1])
    with pytest.raises(ValueError, match="must hold a JSON list"):
        load_detections(_write(tmp_path / "dict.json", {"annotations": []}), [1])


def test_ground_truth_boxes_are_the_labelled_people(tmp_path):
    gt = load_coco({
        "images": [{"id": 1}, {"id": 2}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "iscrowd": 0,
             "keypoints": [1, 1, 2] + [0] * 48, "area": 1},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 0,
             "keypoints": [0] * 51, "area": 1},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1,
             "keypoints": [1, 1, 2] + [0] * 48, "area": 1},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}],
    })  # fmt: skip
    boxes = ground_truth_boxes(gt)
    torch.testing.assert_close(boxes[1], torch.tensor([[10.0, 20.0, 40.0, 60.0, 1.0]]))
    assert boxes[2].shape == (0, 5)
    assert len(ground_truth_boxes(gt, min_keypoints=0)[1]) == 2


# ------------------------------------------------------------------ the detections contract


def _ground_truth():
    """Three images with file names and sizes (a ``COCO`` index, as evaluation passes it)."""
    return load_coco({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
                   {"id": 2, "file_name": "sub/b.png", "width": 50, "height": 50},
                   {"id": 3, "file_name": "c.jpg", "width": 64, "height": 64}],
        "annotations": [],
        "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}],
    }, require_annotations=False)  # fmt: skip


def _entry(image_id=1, category_id=1, bbox=(1, 2, 10, 20), score=0.5):
    return {"image_id": image_id, "category_id": category_id, "bbox": list(bbox), "score": score}


def test_a_clean_file_is_read_without_a_word(tmp_path):
    path = _write(tmp_path / "d.json", [_entry(), _entry(2, score=0.7)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dets = load_detections(path, _ground_truth())
    assert isinstance(dets, Detections) and isinstance(dets, dict)
    report = dets.report
    assert (report.entries, report.kept, report.images, report.images_with_boxes) == (2, 2, 3, 2)
    assert not (report.converted or report.dropped or report.noted or report.needs_warning)
    assert str(report) == f"{path}: 2 detections, 2 kept for 2 of 3 images"


def test_image_ids_given_as_file_names_and_ids_as_decimals(tmp_path):
    path = _write(tmp_path / "d.json", [_entry("a.jpg"), _entry("b.png"), _entry("c"),
                                        _entry(1.0, 1.0, score=0.2), _entry("2", score=0.2)])  # fmt: skip
    with pytest.warns(DetectionsWarning) as caught:
        dets = load_detections(path, _ground_truth())
    assert [len(dets[i]) for i in (1, 2, 3)] == [2, 2, 1]
    assert dets.report.converted == {
        "image_id given as the image's file name": (3, "entry 0 has image_id 'a.jpg'"),
        "ids written as text or decimals": (3, "entry 3 has image_id 1.0"),
    }
    assert str(dets.report) in str(caught[0].message)


def test_min_score_drops_are_counted_but_not_warned(tmp_path):
    path = _write(tmp_path / "d.json", [_entry(score=0.05), _entry(score=0.6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dets = load_detections(path, [1], min_score=0.1)
    assert dets.report.dropped == {"score below min_score 0.1": (1, "entry 0 scores 0.05")}
    with pytest.raises(DetectionsError, match="nothing is left .*score below min_score 0.9: 2"):
        load_detections(path, [1], min_score=0.9)


def test_a_few_boxes_past_the_image_edge_are_kept_and_noted(tmp_path):
    inside = [_entry(3, bbox=(1, 1, 30, 30)) for _ in range(3)]
    inside = [{**e, "score": 0.1 * (i + 1)} for i, e in enumerate(inside)]
    path = _write(tmp_path / "d.json", [*inside, _entry(2, bbox=(30, 30, 40, 40))])
    with pytest.warns(DetectionsWarning, match="kept but noted: box past the image edge: 1, "
                      r"e.g. entry 3 has bbox \[30, 30, 40, 40\] in image 2, 50 x 50"):  # fmt: skip
        dets = load_detections(path, _ground_truth())
    assert dets.report.kept == 4


def test_category_zero_is_kept_when_the_ground_truth_has_it(tmp_path):
    path = _write(tmp_path / "d.json", [_entry(category_id=0)])
    gt = COCO()
    gt.dataset = {"images": [{"id": 1}], "annotations": [],
                  "categories": [{"id": 0, "name": "bg"}, {"id": 1, "name": "person"}]}  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    with pytest.raises(DetectionsError, match="nothing is left"):  # category 0 is not a person
        load_detections(path, gt)
    assert len(load_detections(path, [1], category_id=0)[1]) == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ({"image_id": True}, "image_id True, expected an integer id"),
        ({"image_id": "z.jpg"}, "image_id 'z.jpg', expected an integer id or the file name"),
        ({"category_id": "person"}, "category_id 'person', expected an integer id"),
        ({"category_id": None}, "category_id None"),
        ({"score": 10**400}, "expected a finite number"),
        ({"bbox": [0, 0, "wide", 1]}, "bbox \\[0, 0, 'wide', 1\\]"),
        ({"score": "inf"}, "score 'inf'"),
    ],
)
def test_values_that_are_no_ids_or_numbers_are_refused(tmp_path, value, message):
    path = _write(tmp_path / "d.json", [{**_entry(), **value}])
    with pytest.raises(DetectionsError, match=message) as err:
        load_detections(path, _ground_truth())
    assert "entry 0" in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------- property: a defect is an error or a counted note

_IMAGES = st.sampled_from([1, 2, 3, 1, 2, 99, "1", "a.jpg", 2.0])
_CATEGORIES = st.sampled_from([1, 1, 1, 1, "1", 1.0, 2, 7])
_SCORES = st.one_of(st.floats(0, 1), st.just("0.25"))
_BOXES = ["inside"] * 6 + ["edge", "text"]
# defects that refuse the file: drawn in one file of four
_FATAL_CATEGORIES = st.sampled_from([0, "x", None])
_FATAL_SCORES = st.sampled_from([-2.0, -0.1, 1.5, 42.0, float("nan"), "high"])
_FATAL_BOXES = ["negative", "short", "nan"]


@st.composite
def _boxes(draw, kinds):
    kind = draw(st.sampled_from(kinds))
    x, y = draw(st.integers(0, 20)), draw(st.integers(0, 20))
    w, h = draw(st.integers(0, 25)), draw(st.integers(0, 25))
    return {
        "inside": [x, y, w, h],
        "edge": [x, y, w + 300, h],
        "negative": [x, y, -w - 1, h],
        "short": [x, y, w],
        "text": [str(x), y, w, h],
        "nan": [x, float("nan"), w, h],
    }[kind]


@st.composite
def _entries(draw):
    """A detections file with random defects: ids as text, decimals or file names, unknown
    images, other categories, boxes as text or past the edge, repeated entries; in one file of
    four also defects that refuse it (category 0 among others, bad scores and boxes, missing
    fields), and sometimes every category 0."""
    fatal = draw(st.integers(0, 3)) == 0
    categories = st.one_of(_CATEGORIES, _FATAL_CATEGORIES) if fatal else _CATEGORIES
    scores = st.one_of(_SCORES, _FATAL_SCORES) if fatal else _SCORES
    boxes = _boxes(_BOXES + _FATAL_BOXES if fatal else _BOXES)
    zero_based = draw(st.integers(0, 5)) == 0
    entries = []
    for _ in range(draw(st.integers(0 if fatal else 1, 8))):
        entry = {"image_id": draw(_IMAGES), "category_id": 0 if zero_based else draw(categories),
                 "bbox": draw(boxes), "score": draw(scores)}  # fmt: skip
        if fatal and draw(st.integers(0, 7)) == 0:
            del entry[draw(st.sampled_from(sorted(entry)))]
        entries.append(entry)
    if entries and draw(st.booleans()):
        entries.append(dict(draw(st.sampled_from(entries))))  # a repeated entry
    return entries


def _clean(entry) -> bool:
    """An entry that needs no conversion, drop or note: integer ids of a known image and the
    person category, 4 plain numbers inside the image, a probability."""
    box = entry.get("bbox")
    return (
        entry.get("image_id") in (1, 2, 3) and type(entry.get("image_id")) is int
        and entry.get("category_id") == 1 and type(entry.get("category_id")) is int
        and isinstance(box, list) and len(box) == 4
        and all(type(v) in (int, float) and v == v for v in box)
        and box[2] >= 0 and box[3] >= 0 and box[0] + box[2] <= 50 and box[1] + box[3] <= 50
        and type(entry.get("score")) in (int, float) and 0 <= entry["score"] <= 1
    )  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(entries=_entries())
def test_every_defect_is_an_error_or_a_counted_note(tmp_path_factory, entries):
    path = _write(tmp_path_factory.mktemp("dets") / "d.json", entries)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dets = load_detections(path, _ground_truth())
        except DetectionsError as err:  # never another exception
            message = str(err)
            assert "\n" not in message and str(path) in message
            return
    report = dets.report
    assert report.entries == len(entries)
    assert report.kept == sum(len(t) for t in dets.values())
    assert report.kept + report.num_dropped == len(entries)  # every entry is accounted for
    assert all(((t[:, 4] >= 0) & (t[:, 4] <= 1)).all() for t in dets.values())
    unknown = sum(1 for e in entries if e["image_id"] == 99)
    assert report.dropped.get("unknown image", (0, ""))[0] == unknown
    texts = sum(isinstance(e[k], (str, float)) and k != "image_id" or
                (k == "image_id" and isinstance(e[k], (str, float)))
                for e in entries for k in ("image_id", "category_id"))  # fmt: skip
    converted_ids = sum(
        report.converted.get(name, (0, ""))[0]
        for name in ("ids written as text or decimals", "image_id given as the image's file name")
    )
    assert converted_ids == texts
    defects = [e for e in entries if not _clean(e)] or len(entries) != len(
        {json.dumps(e, sort_keys=True) for e in entries}
    )
    warned = [str(w.message) for w in caught if issubclass(w.category, DetectionsWarning)]
    if defects:  # never a silent change
        assert report.needs_warning and warned == [str(report)]
    else:
        assert not warned


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["image_id", "category_id", "bbox", "score", "x"]), inner, max_size=5),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(content=_JSON)
def test_any_json_is_read_or_refused_with_a_value_error(tmp_path_factory, content):
    path = _write(tmp_path_factory.mktemp("dets") / "d.json", content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetectionsWarning)
        try:
            load_detections(path, _ground_truth())
        except ValueError as err:
            assert "\n" not in str(err)
