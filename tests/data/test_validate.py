"""The annotation validator: its report against a per-annotation reference, its errors
(property tests over random sets and random corruptions), and the report's uses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cgalib.data import (
    DROP_REASONS,
    FAR_FROM_KEYPOINTS,
    FEW_KEYPOINTS,
    NO_BOX,
    OFF_IMAGE,
    ORIGIN_POINTS,
    PAST_EDGE,
    REPEATED,
    SUSPECT_REASONS,
    ZERO_AREA,
    AnnotationError,
    AnnotationReport,
    AnnotationWarning,
    check_coco,
    check_image_files,
    coco_dataset,
    labelled_mask,
    read_coco_json,
    synthetic_summary,
    validate_coco,
    warn_report,
)
from cgalib.data.images import ImageFileError

PERSON = {"id": 1, "name": "person", "keypoints": ["a", "b", "c"]}  # K = 3
DOG = {"id": 2, "name": "dog"}


def _person() -> dict:
    return {**PERSON, "keypoints": list(PERSON["keypoints"])}


@st.composite
def _coco_sets(draw):
    """A valid person-keypoint set (K = 3) with every kind of person the validator drops.

    Boxes are drawn on a coarse grid (so zero widths and boxes past the image border are
    frequent), and may be missing; keypoints are missing, all unlabelled or partly
    labelled, sometimes at (0, 0) or all moved off their box; some annotations are crowd
    regions, dogs or repeats of an earlier person. Images may lack their size.
    """
    n_images = draw(st.integers(1, 4))
    images = []
    for i in range(n_images):
        image = {"id": draw(st.integers(-5, 5)) * 10 + i, "file_name": f"{i}.jpg"}
        if draw(st.booleans()):
            image.update(width=draw(st.integers(1, 40)), height=draw(st.integers(1, 40)))
        images.append(image)
    ids = draw(st.lists(st.integers(-3, 10**6), max_size=12, unique=True))
    anns = []
    shift = draw(st.sampled_from([0, 0, 100]))  # 100: keypoints far from every box
    for ann_id in ids:
        if anns and draw(st.integers(0, 5)) == 0:  # a repeat of an earlier annotation
            anns.append({**draw(st.sampled_from(anns)), "id": ann_id})
            continue
        ann = {
            "id": ann_id,
            "image_id": draw(st.sampled_from(images))["id"],
            "category_id": draw(st.sampled_from([1, 1, 1, 2])),
        }
        if draw(st.integers(0, 5)):
            grid = st.integers(-10, 50)
            ann["bbox"] = [
                draw(grid),
                draw(grid),
                draw(st.integers(0, 30)),
                draw(st.integers(0, 30)),
            ]
        elif draw(st.booleans()):
            ann["bbox"] = draw(st.sampled_from([None, []]))
        if draw(st.booleans()):
            ann["keypoints"] = [
                v
                for _ in range(3)
                for v in (
                    draw(st.one_of(st.just(0.0), st.floats(-50, 50))) + shift,
                    draw(st.one_of(st.just(0.0), st.floats(-50, 50))),  # (0, 0): unlabelled
                    draw(st.sampled_from([0, 1, 2])),
                )
            ]
        if "bbox" in ann and ann["bbox"] and draw(st.integers(0, 4)) == 0:
            ann["iscrowd"] = 1
        anns.append(ann)
    return {"images": images, "annotations": anns, "categories": [_person(), dict(DOG)]}


def _reference(data, min_keypoints):
    """The drop reason of each person, one annotation at a time, in plain Python; the
    suspect box of each kept person (``("suspect", id)``), the people with keypoints at
    (0, 0) marked labelled (``("origin", id)``: their count), and ``"refused"`` when most
    kept boxes are suspect."""
    sizes = {i["id"]: (i.get("width"), i.get("height")) for i in data["images"]}
    reasons = {}
    seen = set()
    for a in data["annotations"]:
        if a["category_id"] != 1 or a.get("iscrowd"):
            continue
        points = a.get("keypoints") or []
        triples = [tuple(points[j : j + 3]) for j in range(0, len(points), 3)]
        labelled = [(x, y) for x, y, v in triples if v > 0 and not (x == 0 and y == 0)]
        visible = [(x, y) for x, y, v in triples if v == 2 and not (x == 0 and y == 0)]
        judged = visible or labelled  # what a box is judged against
        origin = sum(1 for x, y, v in triples if v > 0 and x == 0 and y == 0)
        if origin:
            reasons[("origin", a["id"])] = origin
        effective = tuple(
            value if v > 0 and not (x == 0 and y == 0) else 0.0
            for x, y, v in triples
            for value in (x, y, v)
        )
        box = a.get("bbox")
        width, height = sizes[a["image_id"]]
        width, height = width or math.inf, height or math.inf  # unknown: only x, y >= 0 clip
        if box:
            person = (a["image_id"], tuple(box), effective if any(effective) else ())
            repeat = person in seen
            seen.add(person)
        if not box:
            reasons[a["id"]] = NO_BOX
        elif box[2] == 0 or box[3] == 0:
            reasons[a["id"]] = ZERO_AREA
        elif min(box[0] + box[2], width) <= max(box[0], 0) or min(box[1] + box[3], height) <= max(
            box[1], 0
        ):
            reasons[a["id"]] = OFF_IMAGE
        elif repeat:
            reasons[a["id"]] = REPEATED
        elif len(labelled) < min_keypoints:
            reasons[a["id"]] = FEW_KEYPOINTS
        else:
            reasons[a["id"]] = None  # kept
            reasons[("labelled", a["id"])] = len(labelled) > 0
            reasons[("suspect", a["id"])] = _reference_suspect(box, width, height, judged)
    kept = [k for k in reasons if isinstance(k, tuple) and k[0] == "suspect"]
    suspect = [k for k in kept if reasons[k] is not None]
    if len(suspect) >= 3 and 2 * len(suspect) > len(kept):
        reasons["refused"] = True
    return reasons


def _reference_suspect(box, width, height, labelled):
    """The suspect-box reason of one kept person, or None."""
    x, y, w, h = box
    tol_x = 1 + 0.01 * (0 if width == math.inf else width)
    tol_y = 1 + 0.01 * (0 if height == math.inf else height)
    if x < -tol_x or y < -tol_y or x + w > width + tol_x or y + h > height + tol_y:
        return PAST_EDGE
    mx, my = 0.25 * w + 2, 0.25 * h + 2
    outside = sum(
        1 for px, py in labelled if px < x - mx or px > x + w + mx or py < y - my or py > y + h + my
    )
    if len(labelled) >= 2 and 2 * outside > len(labelled):
        return FAR_FROM_KEYPOINTS
    if len(labelled) >= 8:
        right, below = max(px for px, _ in labelled), max(py for _, py in labelled)
        if x + w - right > 0.5 * w and y + h - below > 0.5 * h:
            return FAR_FROM_KEYPOINTS
    return None


@settings(max_examples=120, deadline=None)
@given(data=_coco_sets(), min_keypoints=st.integers(0, 3))
def test_report_matches_a_per_annotation_reference(data, min_keypoints):
    reference = _reference(data, min_keypoints)
    if reference.get("refused"):
        with pytest.raises(AnnotationError, match=r"^set.json: \d+ of the \d+ kept people have"):
            check_coco(data, "set.json", min_keypoints=min_keypoints)
        return
    report = check_coco(data, "set.json", min_keypoints=min_keypoints)
    people = [k for k in reference if not isinstance(k, tuple)]
    expected = {
        reason: tuple(i for i in people if reference[i] == reason)
        for reason in DROP_REASONS
        if any(reference[i] == reason for i in people)
    }
    assert report.dropped == expected
    assert report.people == len(people) == report.kept + report.num_dropped
    kept = [i for i in people if reference[i] is None]
    assert report.kept == len(kept)
    assert report.labelled == sum(reference[("labelled", i)] for i in kept)
    assert report.crowd == sum(
        a["category_id"] == 1 and a.get("iscrowd", 0) for a in data["annotations"]
    )
    assert report.other == sum(a["category_id"] == 2 for a in data["annotations"])
    with_people = {a["image_id"] for a in data["annotations"] if a["id"] in kept}
    assert report.images_with_people == len(with_people)
    assert report.images == len(data["images"]) and report.num_keypoints == 3
    suspect = {
        reason: tuple(i for i in kept if reference[("suspect", i)] == reason)
        for reason in SUSPECT_REASONS
        if any(reference[("suspect", i)] == reason for i in kept)
    }
    assert report.suspect == suspect
    origin = {k[1]: n for k, n in reference.items() if isinstance(k, tuple) and k[0] == "origin"}
    assert report.converted == ({ORIGIN_POINTS: tuple(origin)} if origin else {})
    assert report.converted_points == sum(origin.values())
    assert len(report.warnings()) == bool(origin) + len(suspect)


_CORRUPTIONS = {
    "short keypoints": lambda a, d, rng: a.update(keypoints=a["keypoints"][: rng.integers(1, 9)]),
    "long keypoints": lambda a, d, rng: a.update(
        keypoints=a["keypoints"] + [0] * rng.integers(1, 4)
    ),
    "nan keypoint": lambda a, d, rng: a["keypoints"].__setitem__(rng.integers(9), math.nan),
    "inf keypoint": lambda a, d, rng: a["keypoints"].__setitem__(rng.integers(9), -math.inf),
    "string keypoint": lambda a, d, rng: a["keypoints"].__setitem__(rng.integers(9), "7"),
    "null keypoint": lambda a, d, rng: a["keypoints"].__setitem__(rng.integers(9), None),
    "keypoints not a list": lambda a, d, rng: a.update(keypoints="x, y, v"),
    "orphan": lambda a, d, rng: a.update(image_id=10**9),
    "unknown category": lambda a, d, rng: a.update(category_id=99),
    "bbox of 3": lambda a, d, rng: a.update(bbox=a["bbox"][:3]),
    "nan bbox": lambda a, d, rng: a["bbox"].__setitem__(rng.integers(4), math.nan),
    "negative width": lambda a, d, rng: a["bbox"].__setitem__(2, -1),
    "bad iscrowd": lambda a, d, rng: a.update(iscrowd=2),
    "negative area": lambda a, d, rng: a.update(area=-3),
    "duplicate id": lambda a, d, rng: d["annotations"].append(dict(a)),
}


def _valid_set(rng, n):
    images = [{"id": i, "width": 50, "height": 50} for i in range(3)]
    anns = [
        {  # people apart (one person twice is dropped as a repeat)
            "id": int(i),
            "image_id": int(rng.integers(3)),
            "category_id": 1,
            "bbox": [5.0 + j, 5.0, 20.0, 30.0],
            "keypoints": [10.0 + j, 10.0, 2] * 3,
        }
        for j, i in enumerate(rng.permutation(1000)[:n])
    ]
    return {"images": images, "annotations": anns, "categories": [_person()]}


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 20),
    corruption=st.sampled_from(sorted(_CORRUPTIONS)),
)
def test_any_corrupted_annotation_is_one_error_naming_file_and_id(seed, n, corruption):
    rng = np.random.default_rng(seed)
    data = _valid_set(rng, n)
    check_coco(data, "set.json")  # valid before
    victim = data["annotations"][rng.integers(n)]
    _CORRUPTIONS[corruption](victim, data, rng)
    with pytest.raises(AnnotationError) as err:
        check_coco(data, "set.json")
    message = str(err.value)
    assert message.startswith(f"set.json: annotation {victim['id']} "), message
    assert "\n" not in message and "; " in message  # one line, with what to do


def test_keypoint_length_message_names_the_expected_count():
    data = _valid_set(np.random.default_rng(0), 3)
    data["annotations"][1]["keypoints"] = [1.0] * 8
    ann_id = data["annotations"][1]["id"]
    with pytest.raises(
        AnnotationError,
        match=rf"annotation {ann_id} has 8 keypoint values, expected 9 \(x, y, v for each of the 3 keypoints",
    ):
        check_coco(data, "set.json")


def test_many_bad_annotations_are_counted_in_one_error():
    data = _valid_set(np.random.default_rng(0), 5)
    for a in data["annotations"]:
        a["keypoints"][0] = math.nan
    with pytest.raises(AnnotationError, match=r"\(and 4 more annotations\) has a keypoint"):
        check_coco(data, "set.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("categories"), r"has no 'categories' list"),
        (lambda d: d.update(images={}), r"has no 'images' list"),
        (lambda d: d.update(images=[]), r"empty 'images' list"),
        (lambda d: d["images"].append({"id": 0}), r"image id 0 is listed twice"),
        (lambda d: d["images"].append({"id": "7"}), r"image at index 3 has id '7'"),
        (lambda d: d["images"][1].update(width=0), r"image 1 has width 0"),
        (lambda d: d["images"][1].update(file_name=3), r"image 1 has file_name 3"),
        (lambda d: d["categories"].append(dict(PERSON, id=5)), r"has 2 categories named 'person'"),
        (lambda d: d["categories"].append(dict(DOG, id=1)), r"category id 1 is listed twice"),
        (lambda d: d["categories"][0].update(name="Person"), r"no categories named 'person'"),
        (lambda d: d["categories"][0].update(keypoints="abc"), r"'person' has keypoints 'abc'"),
        (lambda d: d["annotations"].append(7), r"annotation at index 3 is a int"),
        (lambda d: d["annotations"][0].update(id=1.0), r"annotation at index 0 has id 1.0"),
        (
            lambda d: d["annotations"][0].update(iscrowd=1, bbox=None),
            r"crowd region without a bbox",
        ),
    ],
)
def test_structural_problems(change, message):
    data = _valid_set(np.random.default_rng(1), 3)
    change(data)
    with pytest.raises(AnnotationError, match=message):
        check_coco(data, "set.json")


def test_keypoints_need_the_category_names():
    data = _valid_set(np.random.default_rng(1), 2)
    del data["categories"][0]["keypoints"]
    with pytest.raises(
        AnnotationError, match="has keypoints, but category 'person' has no 'keypoints' name list"
    ):
        check_coco(data)
    for a in data["annotations"]:
        del a["keypoints"]
    report = check_coco(data)  # an instances-style file: boxes only
    assert report.num_keypoints == 0 and report.kept == 2 and report.labelled == 0


def test_image_info_files_need_no_annotations():
    data = _valid_set(np.random.default_rng(1), 2)
    del data["annotations"]
    with pytest.raises(AnnotationError, match="no 'annotations' list"):
        check_coco(data)
    assert check_coco(data, require_annotations=False).people == 0


def test_ids_of_zero_and_below_are_accepted():
    data = _valid_set(np.random.default_rng(2), 3)
    for new, a in zip((0, -1, 5), data["annotations"]):
        a["id"] = new
    assert check_coco(data).kept == 3


def test_report_text_and_training_check():
    report = AnnotationReport(
        "t.json", 1, 17, images=4, images_with_people=2, people=10, labelled=6, crowd=1,
        other=2, dropped={ZERO_AREA: (4, 9), FEW_KEYPOINTS: (3,)}, min_keypoints=2,
    )  # fmt: skip
    assert str(report) == (
        "t.json: 4 images (2 with people), 10 people: 7 kept (6 with labelled keypoints), 3 "
        "dropped (zero-area box: 2, e.g. annotation 4; fewer than 2 labelled keypoints: 1, e.g. "
        "annotation 3); 1 crowd regions; 2 annotations of other categories than 'person' (id 1), "
        "not read"
    )
    assert report.dropped_ids == {3, 4, 9}
    warning = report.check_for_training()
    assert warning.startswith("t.json: 3 of 10 people (30%) are dropped (zero-area box: 2")
    assert report.check_for_training(max_dropped=0.5) is None
    empty = AnnotationReport("t.json", 1, 17, 4, 0, 0, 0, 0, other=8)
    with pytest.raises(
        AnnotationError, match="nothing to train on: t.json: .* 8 annotations of other categories"
    ):
        empty.check_for_training()


def test_reading_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        read_coco_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(AnnotationError, match=r"bad.json is not valid JSON: .*line 2 column"):
        read_coco_json(bad)
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(AnnotationError, match="not valid JSON"):
        read_coco_json(bad)
    good = tmp_path / "good.json"
    data = _valid_set(np.random.default_rng(3), 4)
    data["annotations"][0]["keypoints"][2] = math.nan
    good.write_text(json.dumps(data))  # Python writes NaN, and reads it back
    with pytest.raises(
        AnnotationError, match=r"good.json: annotation \d+ has a keypoint that is not a finite"
    ):
        validate_coco(good)
    data["annotations"][0]["keypoints"][2] = 2
    good.write_text(json.dumps(data))
    coco, report = validate_coco(good)
    assert report.source == str(good) and len(coco.anns) == 4
    assert validate_coco(coco)[0] is coco and validate_coco(data)[1].kept == 4


def test_every_reader_goes_through_read_coco_json(tmp_path):
    missing, listed, empty = tmp_path / "nope.json", tmp_path / "list.json", tmp_path / "e.json"
    listed.write_text("[1, 2]")
    empty.write_text("")
    for read in (read_coco_json, coco_dataset, validate_coco, synthetic_summary):
        with pytest.raises(FileNotFoundError, match=r"^annotation file not found: .*nope.json$"):
            read(missing)
        with pytest.raises(
            AnnotationError, match=r"list.json must hold a JSON object .* got a list"
        ):
            read(listed)
        with pytest.raises(AnnotationError, match=r"e.json is not valid JSON: .*line 1 column 1"):
            read(empty)
    data = _valid_set(np.random.default_rng(3), 2)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    assert coco_dataset(good) == (data, str(good))
    assert coco_dataset(data) == (data, "the dataset dict")
    coco = validate_coco(data)[0]
    assert coco_dataset(coco) == (data, "the COCO object's dataset")


def test_image_files_are_checked_up_front(tmp_path):
    Image.new("RGB", (4, 3)).save(tmp_path / "a.jpg")
    report = check_image_files(tmp_path, [{"id": 1, "file_name": "a.jpg"}], "s.json")
    assert report.images == 1 and report.repeated == ()
    (tmp_path / "e.jpg").write_bytes(b"")  # an empty file is not an image: refused up front
    with pytest.raises(ImageFileError, match=r"1 of 1 images .*/e.jpg is not an image .*\(id 5\)"):
        check_image_files(tmp_path, [{"id": 5, "file_name": "e.jpg"}], "s.json")
    images = [
        {"id": 1, "file_name": "a.jpg"},
        {"id": 2, "file_name": "b.jpg"},
        {"id": 3, "file_name": "c.jpg"},
    ]
    with pytest.raises(
        FileNotFoundError, match=r"2 of 3 images listed in s.json are missing .*b.jpg \(image 2\)"
    ):
        check_image_files(tmp_path, images, "s.json")
    with pytest.raises(AnnotationError, match="image 4 has no file_name"):
        check_image_files(tmp_path, [{"id": 4}], "s.json")


def _people_set(boxes, points=None, size=(100, 100)):
    """One image of ``size`` (W, H) and a person per box (K = 3 keypoints each, by default
    at the box's centre, upper third and lower third)."""
    anns = []
    for i, (x, y, w, h) in enumerate(boxes, 1):
        kps = points[i - 1] if points is not None else [
            x + w / 2, y + h / 2, 2, x + w / 2, y + h / 3, 2, x + w / 3, y + 2 * h / 3, 2
        ]  # fmt: skip
        anns.append(
            {"id": i, "image_id": 1, "category_id": 1, "bbox": [x, y, w, h], "keypoints": kps}
        )
    image = {"id": 1, "file_name": "a.jpg", "width": size[0], "height": size[1]}
    return {"images": [image], "annotations": anns, "categories": [_person()]}


@pytest.mark.parametrize(
    ("boxes", "points", "cause"),
    [
        (  # corners written as width and height: the boxes reach past the edge
            [[40, 50, 60, 90], [60, 20, 80, 60], [55, 55, 75, 95]],
            [
                [45, 60, 2, 55, 70, 2, 50, 85, 2],
                [65, 30, 2, 75, 40, 2, 70, 55, 2],
                [60, 60, 2, 70, 80, 2, 65, 90, 2],
            ],
            "bbox looks like [x1, y1, x2, y2]; COCO's bbox is [x, y, width, height]",
        ),
        (  # centres given as the top-left corner
            [[50, 50, 20, 40], [20, 30, 10, 20], [80, 70, 20, 30]],
            [
                [41, 31, 2, 44, 36, 2, 55, 65, 2],
                [16, 21, 2, 17, 22, 2, 22, 35, 2],
                [71, 56, 2, 72, 58, 2, 85, 80, 2],
            ],
            "bbox looks like [center x, center y, width, height]",
        ),
        (  # fractions of the image
            [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.2, 0.2], [0.6, 0.1, 0.1, 0.3]],
            [
                [15, 30, 2, 20, 40, 2, 30, 50, 2],
                [55, 55, 2, 60, 60, 2, 65, 65, 2],
                [62, 15, 2, 65, 20, 2, 66, 30, 2],
            ],
            "bbox looks normalised to 0..1",
        ),
        (  # keypoints as fractions of the image, boxes in pixels
            [[10, 20, 30, 40], [50, 50, 20, 20], [60, 10, 10, 30]],
            [
                [0.15, 0.3, 2, 0.2, 0.4, 2, 0.3, 0.5, 2],
                [0.55, 0.55, 2, 0.6, 0.6, 2, 0.65, 0.6, 2],
                [0.62, 0.15, 2, 0.65, 0.2, 2, 0.66, 0.3, 2],
            ],
            "keypoints look normalised to 0..1",
        ),
        (  # boxes of other people: no reading fits
            [[10, 10, 10, 10], [70, 70, 10, 10], [10, 70, 10, 10]],
            [
                [75, 75, 2, 78, 72, 2, 72, 78, 2],
                [15, 75, 2, 12, 72, 2, 18, 78, 2],
                [15, 15, 2, 12, 12, 2, 18, 18, 2],
            ],
            "check that bbox is [x, y, width, height] and the keypoints x, y, in pixels",
        ),
    ],
)
def test_a_file_where_most_boxes_are_suspect_names_the_likely_cause(boxes, points, cause):
    with pytest.raises(AnnotationError) as err:
        check_coco(_people_set(boxes, points), "set.json")
    message = str(err.value)
    assert message.startswith("set.json: 3 of the 3 kept people have a suspect box (")
    assert "e.g. annotation 1 bbox [" in message and "on image 1 (100x100)" in message
    assert cause in message and "\n" not in message


def test_a_few_suspect_boxes_are_kept_and_counted():
    boxes = [[10, 10, 30, 40], [50, 10, 30, 40], [10, 50, 30, 40], [60, 60, 50, 30]]
    data = _people_set(boxes)
    data["annotations"][2]["keypoints"] = [90, 90, 2, 95, 95, 2, 20, 60, 1]  # 2 visible, out
    report = check_coco(data, "set.json")
    assert report.suspect == {PAST_EDGE: (4,), FAR_FROM_KEYPOINTS: (3,)} and report.kept == 4
    assert report.describe_suspect() == (
        "box past the image edge: 1, e.g. annotation 4; box far from its keypoints: 1, e.g. "
        "annotation 3"
    )
    assert str(report).endswith(f"; suspect boxes kept ({report.describe_suspect()})")
    assert [line.split(";")[0] for line in report.warnings()] == [
        "set.json: 1 of 4 kept people have a box past the image edge, e.g. annotation 4",
        "set.json: 1 of 4 kept people have a box far from their keypoints (most labelled "
        "keypoints outside it), e.g. annotation 3",
    ]
    with pytest.warns(AnnotationWarning) as caught:
        warn_report(report)
    assert [str(w.message) for w in caught] == list(report.warnings())
    data["annotations"][3]["bbox"] = [60, 60, 40.5, 30]  # past the edge by less than 1 px + 1%
    assert check_coco(data).suspect == {FAR_FROM_KEYPOINTS: (3,)}


def test_occluded_keypoints_may_lie_outside_the_box():
    """A box covers the visible person: with visible keypoints inside, occluded ones
    outside do not make it suspect; a person whose tool writes v=1 for all is judged on
    all."""
    data = _people_set([[10, 10, 20, 20]], [[15, 15, 2, 80, 80, 1, 85, 85, 1]])
    assert check_coco(data).suspect == {}
    data["annotations"][0]["keypoints"] = [15, 15, 1, 80, 80, 1, 85, 85, 1]
    assert check_coco(data).suspect == {FAR_FROM_KEYPOINTS: (1,)}


def test_points_at_the_origin_are_unlabelled_and_counted():
    data = _people_set([[10, 10, 30, 40], [50, 10, 30, 40]])
    data["annotations"][0]["keypoints"][3:6] = [0, 0, 2]
    data["annotations"][1]["keypoints"] = [0, 0, 1, 0, 0, 2, 0.0, 0.0, 2]
    data["annotations"].append({**data["annotations"][1], "id": 9, "iscrowd": 1})  # not read
    report = check_coco(data, "set.json", min_keypoints=1)
    assert report.converted == {ORIGIN_POINTS: (1, 2)} and report.converted_points == 4
    assert report.dropped == {FEW_KEYPOINTS: (2,)} and report.labelled == 1
    assert report.notes == (
        "4 keypoints at (0, 0) marked labelled (v > 0), in 2 annotations (e.g. annotation 1), "
        "are read as unlabelled (v=0)",
    )
    assert report.warnings()[0].startswith(f"set.json: {report.notes[0]}, as CVAT and Label")
    assert labelled_mask(np.array([[0, 0, 2], [0, 5, 2], [4, 0, 1], [0, 0, 0]])).tolist() == [
        False, True, True, False
    ]  # fmt: skip


def test_a_person_repeated_under_another_id_is_dropped():
    data = _people_set([[10, 10, 30, 40], [50, 10, 30, 40]])
    anns = data["annotations"]
    anns.append({**anns[0], "id": 7})  # the same person
    anns.append({**anns[1], "id": 8, "keypoints": [*anns[1]["keypoints"][:8], 1]})  # v differs
    anns.append({**anns[0], "id": 9, "category_id": 2})  # another category: not a repeat
    data["categories"].append(dict(DOG))
    data["images"].append({"id": 2, "file_name": "b.jpg"})
    anns.append({**anns[0], "id": 10, "image_id": 2})  # another image: not a repeat
    report = check_coco(data, "set.json")
    assert report.dropped == {REPEATED: (7,)} and report.kept == 4
    assert "repeats another annotation: 1, e.g. annotation 7" in str(report)


def test_two_images_with_one_file_name_are_refused():
    data = _valid_set(np.random.default_rng(0), 2)
    for image, name in zip(data["images"], ["a.jpg", "./a.jpg", "b/../b.jpg"]):
        image["file_name"] = name
    check_coco({**data, "images": data["images"][::2], "annotations": []})  # a.jpg, b.jpg
    with pytest.raises(
        AnnotationError,
        match=r"^s.json: images 0 and 1 both have file_name './a.jpg'; the same picture under "
        r"two ids trains each copy's people as the other's background",
    ):
        check_coco(data, "s.json")
    data["images"][2]["file_name"] = "a.jpg"
    with pytest.raises(AnnotationError, match=r"\(and 1 more repeated file names\)"):
        check_coco(data, "s.json")
