"""Bad training annotation files: checked once before the first step, one clear error or a
report of the people dropped (cgalib.data.validate_coco, CocoKeypoints, engine.train)."""

from __future__ import annotations

import json

import pytest

from cgalib.data import AnnotationError, CocoKeypoints
from cgalib.engine import trainer
from cgalib.engine.trainer import train

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def data_root(tmp_path):
    """A 4-image synthetic training set at 64 px: ``(root, annotation file, its dict)``."""
    from cgalib.data import make_synthetic_coco

    paths = make_synthetic_coco(tmp_path / "data", num_train=4, num_val=0, size=64, min_height=16)
    ann = paths["train_ann"]
    return paths["root"], ann, json.loads(ann.read_text())


def _write(ann, data):
    ann.write_text(json.dumps(data))


def _train(root, out, **kw):
    return train(
        "cganet_tnet_d1w16",
        root,
        out,
        model_kwargs={"input_size": 64},
        input_size=64,
        device="cpu",
        epochs=1,
        batch_size=2,
        num_workers=0,
        **kw,
    )


def _refused(root, tmp_path, error=AnnotationError):
    """Train, expect ``error`` before the first step (no run folder); its message."""
    with pytest.raises(error) as err:
        _train(root, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    message = str(err.value)
    assert "\n" not in message
    return message


def test_every_person_in_another_category(data_root, tmp_path):
    """Every annotation has a category id other than the person category's.

    Training stops before the first step with one line, "nothing to train on", giving the
    counts and the number of annotations of other categories; no run folder is written."""
    root, ann, data = data_root
    data["categories"].append({"id": 2, "name": "dog"})
    for a in data["annotations"]:
        a["category_id"] = 2
    _write(ann, data)
    message = _refused(root, tmp_path)
    assert message.startswith(f"nothing to train on: {ann}: 4 images (0 with people), 0 people")
    assert (
        f"{len(data['annotations'])} annotations of other categories than 'person' (id 1)"
        in message
    )


def test_every_box_has_zero_area(data_root, tmp_path):
    """Every person box has a width of 0.

    Training stops before the first step: "nothing to train on", with "zero-area box: N"
    and the first such annotation id."""
    root, ann, data = data_root
    for a in data["annotations"]:
        a["bbox"][2] = 0
    _write(ann, data)
    n = len(data["annotations"])
    assert f"{n} dropped (zero-area box: {n}, e.g. annotation 1)" in _refused(root, tmp_path)


def test_every_box_outside_its_image(data_root, tmp_path):
    """Every person box lies to the right of its 64-pixel-wide image.

    Training stops before the first step: "nothing to train on", with "box outside the
    image: N"."""
    root, ann, data = data_root
    for a in data["annotations"]:
        a["bbox"][0] = 70
    _write(ann, data)
    assert f"box outside the image: {len(data['annotations'])}" in _refused(root, tmp_path)


def test_every_box_missing(data_root, tmp_path):
    """No person annotation has a bbox.

    Training stops before the first step: "nothing to train on", with "no box: N"."""
    root, ann, data = data_root
    for a in data["annotations"]:
        del a["bbox"]
    _write(ann, data)
    assert f"no box: {len(data['annotations'])}" in _refused(root, tmp_path)


def test_a_large_share_dropped(data_root, tmp_path, capsys, monkeypatch):
    """Five of the twelve people have zero-area boxes.

    Training prints the report (images, people kept and dropped by reason) on stdout, one
    "warning:" line on stderr naming the share and the reason, and trains on the others."""
    root, ann, data = data_root
    for a in data["annotations"][:5]:
        a["bbox"][3] = 0
    _write(ann, data)
    n = len(data["annotations"])
    given = {}

    def train_model(model, dataset, *args, **kwargs):  # the loop itself is not under test
        given["dataset"] = dataset
        return tmp_path / "run" / "model.pt"

    monkeypatch.setattr(trainer, "train_model", train_model)
    assert _train(root, tmp_path / "run") == tmp_path / "run" / "model.pt"
    assert given["dataset"].report.kept == n - 5
    out, err = capsys.readouterr()
    assert f"{n} people: {n - 5} kept" in out and "5 dropped (zero-area box: 5" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {ann}: 5 of {n} people ({5 / n:.0%}) are dropped (zero-area box: 5, e.g. "
        "annotation 1); training goes on with the others"
    ]


def test_keypoint_list_of_50_numbers(data_root, tmp_path):
    """One keypoint list holds 50 numbers for the 17-keypoint person category.

    Training stops before the first step (not mid-epoch in a reshape) with one line naming
    the file, the annotation id and the expected 51 values."""
    root, ann, data = data_root
    data["annotations"][2]["keypoints"].pop()
    _write(ann, data)
    message = _refused(root, tmp_path)
    assert message.startswith(f"{ann}: annotation 3 has 50 keypoint values, expected 51")


def test_nan_in_a_keypoint_list(data_root, tmp_path):
    """A keypoint coordinate is NaN (Python's json writes and reads the literal).

    Loading fails with one line naming the file and the annotation id: "has a keypoint
    that is not a finite number"."""
    root, ann, data = data_root
    data["annotations"][1]["keypoints"][4] = float("nan")
    _write(ann, data)
    assert "NaN" in ann.read_text()
    assert _refused(root, tmp_path).startswith(
        f"{ann}: annotation 2 has a keypoint that is not a finite number"
    )


def test_keypoint_values_written_as_strings(data_root, tmp_path):
    """A tool wrote the keypoint coordinates as strings ("12.5").

    Loading fails naming the file and the annotation id (a string is not a number, even a
    numeric one); nothing is converted silently."""
    root, ann, data = data_root
    data["annotations"][0]["keypoints"] = [str(v) for v in data["annotations"][0]["keypoints"]]
    _write(ann, data)
    assert "annotation 1 has a keypoint that is not a finite number" in _refused(root, tmp_path)


def test_duplicate_annotation_ids(data_root, tmp_path):
    """Two annotations share the id 1.

    Loading fails naming the id and both positions in the list ("is listed twice (at index
    0 and 5)") and says to give every annotation its own id."""
    root, ann, data = data_root
    data["annotations"][5]["id"] = 1
    _write(ann, data)
    message = _refused(root, tmp_path)
    assert (
        "annotation 1 is listed twice (at index 0 and 5); give every annotation its own id"
        in message
    )


def test_annotation_of_a_missing_image(data_root, tmp_path):
    """An annotation's image_id is not the id of any image (an orphan).

    Loading fails naming the annotation id and the image_id that is not in 'images'."""
    root, ann, data = data_root
    data["annotations"][0]["image_id"] = 77
    _write(ann, data)
    assert "annotation 1 has image_id 77, which is not in 'images'" in _refused(root, tmp_path)


def test_annotation_of_an_unknown_category(data_root, tmp_path):
    """An annotation's category_id is not the id of any category.

    Loading fails naming the annotation id, its category_id and the ids that exist."""
    root, ann, data = data_root
    data["annotations"][0]["category_id"] = 9
    _write(ann, data)
    assert "annotation 1 has category_id 9, which is not in 'categories' (ids [1])" in _refused(
        root, tmp_path
    )


def test_bbox_of_three_numbers(data_root, tmp_path):
    """A person bbox holds three numbers.

    Loading fails naming the annotation id and the bbox, and says COCO boxes are [x, y,
    width, height]."""
    root, ann, data = data_root
    data["annotations"][0]["bbox"] = data["annotations"][0]["bbox"][:3]
    _write(ann, data)
    assert "COCO boxes are [x, y, width, height]" in _refused(root, tmp_path)


def test_bbox_of_negative_width(data_root, tmp_path):
    """A box has a negative width (a converter subtracted swapped corners).

    Loading fails naming the annotation id: "has a bbox of negative width or height",
    COCO boxes are [x, y, width, height]."""
    root, ann, data = data_root
    data["annotations"][0]["bbox"] = [40, 10, -20, 40]
    _write(ann, data)
    assert "annotation 1 has a bbox of negative width or height" in _refused(root, tmp_path)


def test_crowd_region_without_a_box(data_root, tmp_path):
    """A crowd region (iscrowd=1) has no bbox.

    Loading fails naming the annotation id and asks for its [x, y, width, height]."""
    root, ann, data = data_root
    data["annotations"][0].update(iscrowd=1)
    del data["annotations"][0]["bbox"]
    _write(ann, data)
    assert "annotation 1 is a crowd region without a bbox" in _refused(root, tmp_path)


def test_duplicate_image_ids(data_root, tmp_path):
    """Two images share an id.

    Loading fails with "image id 1 is listed twice" and says to give every image its own
    id."""
    root, ann, data = data_root
    data["images"][1]["id"] = 1
    _write(ann, data)
    assert "image id 1 is listed twice" in _refused(root, tmp_path)


def test_truncated_annotation_file(data_root, tmp_path):
    """The annotation file was cut off while copying.

    Loading fails with one line naming the file, "is not valid JSON", and the line and
    column where it breaks."""
    root, ann, _ = data_root
    ann.write_text(ann.read_text()[:500])
    message = _refused(root, tmp_path)
    assert (
        message.startswith(f"annotation file {ann} is not valid JSON")
        and "line 1 column" in message
    )


def test_file_without_a_person_category(data_root, tmp_path):
    """The only category is named "people".

    Loading fails naming the file and the categories it has, and says to name exactly one
    category 'person'."""
    root, ann, data = data_root
    data["categories"][0]["name"] = "people"
    _write(ann, data)
    assert "has no categories named 'person' (categories: ['people'])" in _refused(root, tmp_path)


def test_person_category_without_keypoint_names(data_root, tmp_path):
    """The person category has no 'keypoints' name list, so K is unknown.

    Loading fails naming the annotation whose keypoints cannot be checked and says to add
    the keypoint names to the category."""
    root, ann, data = data_root
    del data["categories"][0]["keypoints"]
    _write(ann, data)
    assert "category 'person' has no 'keypoints' name list" in _refused(root, tmp_path)


def test_an_image_file_missing(data_root, tmp_path):
    """One of the listed images is missing from the image folder.

    Training stops before the first step (not mid-epoch) with a FileNotFoundError giving
    the count of missing images, the first path and its image id."""
    root, _, _ = data_root
    (root / "train" / "000002.jpg").unlink()
    message = _refused(root, tmp_path, FileNotFoundError)
    assert "1 of 4 images listed in" in message and "000002.jpg (image 3)" in message


def test_annotation_ids_starting_at_zero(data_root):
    """Annotation ids are numbered from 0, as some converters write them.

    Accepted as they are: the loader keeps every person and reports the ids, 0 included,
    in each target's ann_ids (only evaluation renumbers, see test_evaluation)."""
    root, ann, data = data_root
    for a in data["annotations"]:
        a["id"] -= 1
    _write(ann, data)
    ds = CocoKeypoints(root / "train", ann)
    assert ds.report.kept == len(data["annotations"])
    ids = sorted(int(i) for index in range(len(ds)) for i in ds[index][1]["ann_ids"])
    assert ids == sorted(a["id"] for a in data["annotations"]) and ids[0] == 0


def test_people_with_too_few_keypoints(data_root):
    """The loader is asked for people with at least 15 labelled keypoints.

    People with fewer are dropped and counted under "fewer than 15 labelled keypoints";
    the dataset's targets hold exactly the people the report keeps."""
    root, ann, data = data_root
    ds = CocoKeypoints(root / "train", ann, min_keypoints=15)
    few = [a["id"] for a in data["annotations"] if a["num_keypoints"] < 15]
    assert few and ds.report.dropped == {"too few labelled keypoints": tuple(few)}
    assert "fewer than 15 labelled keypoints" in str(ds.report)
    kept = {int(i) for index in range(len(ds)) for i in ds[index][1]["ann_ids"]}
    assert kept == {a["id"] for a in data["annotations"]} - set(few)
