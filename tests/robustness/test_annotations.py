"""Bad annotation files and the image files they list: one contract, checked once before
the first training step or prediction, one clear error or a counted warning, the same for
training, top-down training and evaluation (cgalib.data.validate_coco, check_image_files,
CocoKeypoints, PersonCrops, engine.train, eval.load_coco, eval.evaluate_coco)."""

from __future__ import annotations

import copy
import json
import shutil
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cgalib.data import (
    AnnotationError,
    AnnotationWarning,
    CocoKeypoints,
    PersonCrops,
    make_synthetic_coco,
)
from cgalib.data.images import ImageWarning
from cgalib.engine import trainer
from cgalib.engine.trainer import train
from cgalib.eval import coco_keypoint_ap, evaluate_coco, load_coco
from robustness.io_helpers import BrightestPixel

from helpers import StandInModel, noisy_coco_results, write_toy_coco_keypoints

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


# --------------------------------------------------------------------------------------------
# One contract for training, top-down training and evaluation: the same error, or the same
# counted warnings, from each path.


class _MustNotRun(StandInModel):
    """A model that fails the test if anything is predicted with it."""

    def predict_batch(self, *args, **kwargs):
        raise AssertionError("a prediction ran before the input was checked")


_OURS = (AnnotationWarning, ImageWarning)


def _outcome(call):
    """``("refused", type name, message)`` or ``("warned", the contract's warning lines)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except (ValueError, FileNotFoundError) as err:
            return ("refused", type(err).__name__, str(err))
    lines = [str(w.message) for w in caught if issubclass(w.category, _OURS)]
    # evaluation also says which people it leaves out (training prints them in its report)
    return ("warned", sorted(line for line in lines if "left out of the evaluation" not in line))


def _every_path(images, ann):
    """The outcome of training (CocoKeypoints), top-down training (PersonCrops) and
    evaluation (evaluate_coco: when training refuses, with a model that fails the test if
    it predicts anything); asserts they agree and returns it."""
    training = _outcome(lambda: CocoKeypoints(images, ann))
    top_down = _outcome(lambda: PersonCrops(CocoKeypoints(images, ann)))
    model = _MustNotRun(side=64) if training[0] == "refused" else BrightestPixel()
    evaluation = _outcome(lambda: evaluate_coco(model, images, ann, progress=False))
    assert training == top_down == evaluation, (training, top_down, evaluation)
    if training[0] == "refused":
        assert "\n" not in training[2]
    return training


def _refused_by_every_path(images, ann):
    """The one-line ``ValueError`` (an AnnotationError or ImageFileError) of every path."""
    outcome = _every_path(images, ann)
    assert outcome[:2] in (("refused", "AnnotationError"), ("refused", "ImageFileError")), outcome
    return outcome[2]


def _points_at_origin(data):
    """Write every unlabelled keypoint as (0, 0, 2), as CVAT and Label Studio export them;
    the count of such points."""
    n = 0
    for a in data["annotations"]:
        k = a["keypoints"]
        for j in range(0, len(k), 3):
            if k[j + 2] == 0:
                k[j : j + 3] = [0, 0, 2]
                n += 1
    return n


def test_unlabelled_points_exported_at_the_origin_train_as_unlabelled(data_root, tmp_path):
    """An annotation tool exported every unlabelled keypoint as (0, 0, 2): at the image's
    top-left corner, marked visible (CVAT and Label Studio do).

    Training reads them as unlabelled (v=0): the targets are those of the clean file, the
    report counts the converted points with an example annotation id, and one warning says
    so; top-down training and evaluation give the same warning."""
    root, ann, data = data_root
    clean = CocoKeypoints(root / "train", ann)
    n = _points_at_origin(data)
    _write(ann, data)
    outcome = _every_path(root / "train", ann)
    assert outcome[0] == "warned" and len(outcome[1]) == 1
    assert f"{n} keypoints at (0, 0) marked labelled (v > 0)" in outcome[1][0]
    assert "are read as unlabelled (v=0)" in outcome[1][0]
    with pytest.warns(AnnotationWarning):
        ds = CocoKeypoints(root / "train", ann)
    assert ds.report.converted_points == n and ds.report.labelled == clean.report.labelled
    assert any("read as unlabelled" in note for note in ds.report.notes)
    for i in range(len(ds)):
        assert ds[i][1]["keypoints"].equal(clean[i][1]["keypoints"])


def test_unlabelled_points_at_the_origin_score_as_on_the_clean_file(tmp_path):
    """A ground truth whose unlabelled keypoints were exported as (0, 0, 2): pycocotools
    scores the same predictions (3 pixels off, the unlabelled points on the body) 0.40
    instead of 0.71 on it.

    Evaluation reads those points as unlabelled, as training does: the same predictions
    score exactly what they score on the clean file, with one warning giving the count and
    an example annotation id, and a note in the report; the file is unchanged."""
    clean_path, dirty_path = tmp_path / "clean.json", tmp_path / "dirty.json"
    anns = write_toy_coco_keypoints(clean_path)
    data = json.loads(clean_path.read_text())
    n = _points_at_origin(data)
    dirty_path.write_text(json.dumps(data))
    before = dirty_path.read_bytes()
    results = noisy_coco_results(anns, np.random.default_rng(0), sigma=3.0)
    for result, a in zip(results, anns):  # a model puts the unlabelled points on the body
        points = np.asarray(result["keypoints"]).reshape(17, 3)
        x, y, w, h = a["bbox"]
        points[np.asarray(a["keypoints"][2::3]) == 0, :2] = [x + w / 2, y + h / 2]
        result["keypoints"] = points.flatten().tolist()
    clean_ap = coco_keypoint_ap(clean_path, results)["AP"]
    assert clean_ap == pytest.approx(0.715, abs=1e-3)
    with pytest.warns(AnnotationWarning, match=rf"{n} keypoints at \(0, 0\) marked labelled"):
        dirty_ap = coco_keypoint_ap(dirty_path, results)["AP"]
    assert dirty_ap == clean_ap
    assert any("(0, 0)" in note for note in load_coco(dirty_path).report.notes)
    assert dirty_path.read_bytes() == before


def _cut(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_truncated_training_jpeg(data_root, tmp_path):
    """One training JPEG was cut to half its bytes by an interrupted copy.

    Training, top-down training and evaluation refuse the set before the first step or
    prediction (never a DataLoader-worker traceback mid-epoch), with one line naming the
    file, its image id, "truncated", and the count of bad images; train writes no run
    folder."""
    root, _, _ = data_root
    _cut(root / "train" / "000002.jpg")
    message = _refused_by_every_path(
        root / "train", root / "annotations" / "person_keypoints_train.json"
    )
    assert "1 of 4 images listed in" in message and "cannot be used (truncated: 1)" in message
    assert (
        "000002.jpg is truncated (it does not decode: image file is truncated" in message
        and "(id 3)" in message
    )
    assert _refused(root, tmp_path, ValueError) == message


def test_a_training_image_whose_size_differs_from_its_annotation(data_root, tmp_path):
    """One training image was replaced by a 32 x 32 copy while its annotation says 64 x 64.

    Every path refuses the set before the first step or prediction with one line naming
    the file, both sizes and what to do."""
    root, _, _ = data_root
    path = root / "train" / "000001.jpg"
    Image.open(path).resize((32, 32)).save(path)
    message = _refused_by_every_path(
        root / "train", root / "annotations" / "person_keypoints_train.json"
    )
    assert "(size differs from the annotation: 1)" in message
    assert (
        "000001.jpg is 32x32 as displayed (EXIF orientation applied) but its annotation says 64x64"
        in message
    )
    assert message.endswith(
        "annotate the pictures as displayed, or use the images the annotation was made on"
    )


def test_a_folder_of_resized_copies(data_root, tmp_path):
    """The image folder holds half-size copies of every image (a "small" download), the
    annotation the original sizes.

    Every path refuses it up front naming the first file, the count, and the likely cause:
    all are 0.5 times their annotated size, a resized copy."""
    root, ann, _ = data_root
    for path in sorted((root / "train").glob("*.jpg")):
        Image.open(path).resize((32, 32)).save(path)
    message = _refused_by_every_path(root / "train", ann)
    assert "4 of 4 images" in message
    assert "(all 4 are 0.5 times their annotated size: a resized copy of the images?" in message


def test_an_html_page_saved_as_a_jpeg(data_root, tmp_path):
    """A download script saved the server's "403 Forbidden" HTML page as 000003.jpg.

    Every path refuses the set up front naming the file and saying it holds an HTML page,
    a failed download, instead of "cannot identify image file" mid-epoch."""
    root, ann, _ = data_root
    (root / "train" / "000003.jpg").write_text("<html><body>403 Forbidden</body></html>")
    message = _refused_by_every_path(root / "train", ann)
    assert "(not an image PIL can open: 1)" in message
    assert "000003.jpg is not an image PIL can open (it holds an HTML or XML page" in message


def test_two_images_listing_one_file(data_root, tmp_path):
    """Two image entries (ids 1 and 2) give the same file_name, so one picture has two
    image ids, each with part of its people.

    Every path refuses the file with one line naming both ids and the file name, saying
    each copy's people would be the other's background, and to merge the annotations."""
    root, ann, data = data_root
    data["images"][1]["file_name"] = data["images"][0]["file_name"]
    _write(ann, data)
    message = _refused_by_every_path(root / "train", ann)
    assert message.startswith(f"{ann}: images 1 and 2 both have file_name '000000.jpg'")
    assert "merge their annotations under one image id" in message


def test_the_same_picture_under_two_names(data_root, tmp_path):
    """The image folder holds one picture twice under two names (000001.jpg copied over
    000000.jpg's bytes), each with its own image id and annotations.

    Every path warns once with the count and the pair of files (the people of each copy
    are trained as the other's background) and goes on; compared cheaply, by size and the
    last 4 KiB, then the full bytes."""
    root, ann, _ = data_root
    shutil.copy(root / "train" / "000000.jpg", root / "train" / "000001.jpg")
    outcome = _every_path(root / "train", ann)
    assert outcome[0] == "warned" and len(outcome[1]) == 1
    assert (
        "1 of 4 images repeat the bytes of another image under another name, e.g. "
        in (outcome[1][0])
    )
    assert "000001.jpg (image 2) is 000000.jpg (image 1)" in outcome[1][0]


def _boxes_as_xyxy(data):
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        a["bbox"] = [x, y, x + w, y + h]


@pytest.fixture
def big_people(tmp_path):
    """A 6-image synthetic set at 128 px with people of 40 px and more: ``(images, ann,
    its dict)``."""
    paths = make_synthetic_coco(tmp_path / "big", num_train=6, num_val=0, size=128, min_height=40)
    return paths["train_images"], paths["train_ann"], json.loads(paths["train_ann"].read_text())


def test_boxes_written_as_xyxy(big_people, tmp_path):
    """A converter wrote every bbox as [x1, y1, x2, y2] (most then reach past the image
    edge, their area several times too large).

    Every path refuses the file with one line counting the suspect boxes, naming one, and
    the likely cause: "bbox looks like [x1, y1, x2, y2]; COCO's bbox is [x, y, width,
    height]"."""
    images, ann, data = big_people
    _boxes_as_xyxy(data)
    _write(ann, data)
    message = _refused_by_every_path(images, ann)
    assert "kept people have a suspect box (box past the image edge: " in message
    assert message.endswith(
        "bbox looks like [x1, y1, x2, y2]; COCO's bbox is [x, y, width, height] (width = x2 "
        "- x1, height = y2 - y1)"
    )


def test_a_few_boxes_past_the_image_edge(big_people, tmp_path):
    """Two people's boxes reach 30 pixels past the right edge of their image.

    Every path keeps them and warns once, counting them with an example annotation id
    (training clips the boxes to the image)."""
    images, ann, data = big_people
    for a in data["annotations"][:2]:
        a["bbox"][2] = 128 - a["bbox"][0] + 30
    _write(ann, data)
    outcome = _every_path(images, ann)
    assert outcome == (
        "warned",
        [
            f"{ann}: 2 of {len(data['annotations'])} kept people have a box past the image "
            "edge, e.g. annotation 1; kept (training clips the box to the image); check that "
            "bbox is [x, y, width, height] in pixels of the picture as displayed"
        ],
    )


def test_a_box_far_from_its_keypoints(big_people, tmp_path):
    """One person's box was moved onto another part of the image (its keypoints are all
    outside it).

    Every path keeps it and warns once: "1 of N kept people have a box far from their
    keypoints", with the annotation id."""
    images, ann, data = big_people
    a = data["annotations"][0]
    kps = np.asarray(a["keypoints"]).reshape(-1, 3)
    seen = kps[kps[:, 2] > 0]
    x = 0.0 if seen[:, 0].min() > 64 else 128 - 16.0
    a["bbox"] = [x, 0.0, 16.0, 16.0]
    _write(ann, data)
    outcome = _every_path(images, ann)
    assert outcome[0] == "warned" and len(outcome[1]) == 1
    assert "1 of " in outcome[1][0] and "have a box far from their keypoints" in outcome[1][0]
    assert f"e.g. annotation {a['id']}" in outcome[1][0]


def test_keypoints_normalised_to_0_1(big_people, tmp_path):
    """A YOLO-pose style export wrote the keypoints as fractions of the image size (0..1),
    the boxes in pixels.

    Every path refuses the file: most boxes are far from their keypoints, and the likely
    cause is named: "keypoints look normalised to 0..1"."""
    images, ann, data = big_people
    for a in data["annotations"]:
        k = a["keypoints"]
        for j in range(0, len(k), 3):
            if k[j + 2]:
                k[j], k[j + 1] = k[j] / 128, k[j + 1] / 128
    _write(ann, data)
    message = _refused_by_every_path(images, ann)
    assert "(box far from its keypoints: " in message
    assert message.endswith(
        "keypoints look normalised to 0..1; COCO keypoints are x, y in pixels (multiply by "
        "the image width and height)"
    )


def test_the_same_person_annotated_twice(data_root, tmp_path):
    """The annotation file holds one person twice under two ids (a file merged with a copy
    of itself, a shape exported twice); pycocotools scores perfect predictions below 1.0
    since the copy is a person never found.

    The copy is dropped and counted ("repeats another annotation: 1, e.g. annotation N"),
    in training as in evaluation, where perfect predictions score AP 1.0."""
    root, ann, data = data_root
    twin = copy.deepcopy(data["annotations"][0])
    twin["id"] = 1000
    data["annotations"].append(twin)
    _write(ann, data)
    ds = CocoKeypoints(root / "train", ann)
    assert ds.report.dropped == {"repeats another annotation": (1000,)}
    assert "repeats another annotation: 1, e.g. annotation 1000" in str(ds.report)
    assert 1000 not in {int(i) for j in range(len(ds)) for i in ds[j][1]["ann_ids"]}
    assert load_coco(ann).report.dropped == ds.report.dropped
    perfect = noisy_coco_results(
        [a for a in data["annotations"] if a["id"] != 1000], np.random.default_rng(0), 0.0
    )
    with pytest.warns(AnnotationWarning, match="repeats another annotation: 1"):
        assert coco_keypoint_ap(ann, perfect)["AP"] == 1.0


def test_file_names_that_repeat_the_image_folder(data_root, tmp_path):
    """Every file_name starts with "train/", the image folder's own name, so
    train/train/000000.jpg is looked for.

    Every path refuses the set up front counting the missing files, naming the first, and
    saying the names already start with the folder's name: give its parent as the image
    folder, or remove the prefix."""
    root, ann, data = data_root
    for image in data["images"]:
        image["file_name"] = "train/" + image["file_name"]
    _write(ann, data)
    outcome = _every_path(root / "train", ann)
    assert outcome[:2] == ("refused", "FileNotFoundError")
    assert "4 of 4 images listed in" in outcome[2]
    assert outcome[2].endswith(
        f"the file names already start with the image folder's name 'train/': give its "
        f"parent {root} as the image folder, or remove the prefix"
    )


def test_windows_paths_in_file_names(data_root, tmp_path):
    """An export made on Windows gives file names as "images\\\\000000.jpg".

    Every path refuses the set up front counting the missing files and saying the names
    hold '\\\\' (Windows paths): write them with '/'."""
    root, ann, data = data_root
    (root / "train" / "images").mkdir()
    for image in data["images"]:
        shutil.move(root / "train" / image["file_name"], root / "train" / "images")
        image["file_name"] = "images\\" + image["file_name"]
    _write(ann, data)
    outcome = _every_path(root / "train", ann)
    assert outcome[:2] == ("refused", "FileNotFoundError")
    assert (
        "the file names hold '\\' (Windows paths, e.g. 'images\\\\000000.jpg'): write them "
        in (outcome[2])
    )


def test_skeleton_limb_joining_a_keypoint_to_itself(data_root, tmp_path):
    """The category's skeleton ends with a limb [2, 2] (1-based, as COCO skeletons are).

    The skeleton only draws: the data set loads with one KeypointSetWarning quoting the
    file's own numbers ("limb 20, [2, 2], joins keypoint 2 ('left_eye') to itself"; not the
    0-based "limb 19 (1, 1)") and that limb is dropped from the drawings."""
    from cgalib.utils import KeypointSetWarning

    root, ann, data = data_root
    data["categories"][0]["skeleton"].append([2, 2])
    _write(ann, data)
    with pytest.warns(KeypointSetWarning) as caught:
        ds = CocoKeypoints(root / "train", ann)
    (message,) = [str(w.message) for w in caught if w.category is KeypointSetWarning]
    assert message.startswith(f"{ann}: category 'person': skeleton of 20 limbs")
    assert "limb 20, [2, 2], joins keypoint 2 ('left_eye') to itself" in message
    assert len(ds.keypoint_set.skeleton) == 19 and (1, 1) not in ds.keypoint_set.skeleton


# --------------------------------------------------------------------------------------------
# Property: random defects, the same counted warning or the same error on every path.

_REFUSED = {  # defect -> what the one line says
    "xyxy boxes": "bbox looks like [x1, y1, x2, y2]",
    "repeated file name": "both have file_name",
    "size differs": "size differs from the annotation",
    "truncated file": "truncated",
}
_WARNED = {  # defect -> what its warning says
    "points at the origin": "keypoints at (0, 0) marked labelled",
    "box past the edge": "have a box past the image edge",
    "box far from its keypoints": "have a box far from their keypoints",
    "same bytes twice": "repeat the bytes of another image",
}


def _defective_set(folder, n_images, defects, rng):
    """A COCO keypoint set of ``n_images`` (3 or more) 96 x 96 JPEGs with two people
    each, and the given defects; ``(images folder, annotation file)``."""
    from cgalib.utils.coco_meta import KEYPOINT_NAMES

    images_dir = folder / "images"
    images_dir.mkdir()
    images, anns = [], []
    for i in range(1, n_images + 1):
        name = f"{i:04d}.jpg"
        pixels = rng.integers(0, 255, (96, 96, 3), np.uint8)
        Image.fromarray(pixels).save(images_dir / name)
        images.append({"id": i, "file_name": name, "width": 96, "height": 96})
        for _ in range(2):
            w, h = (int(v) for v in rng.integers(16, 28, 2))
            x, y = (int(v) for v in rng.integers(max(w, h) + 1, 96 - max(w, h) - 1, 2))
            points = np.zeros((17, 3))
            labelled = rng.permutation(17)[:12]
            points[labelled, 0] = rng.uniform(x + 1, x + w - 1, 12)
            points[labelled, 1] = rng.uniform(y + 1, y + h - 1, 12)
            points[labelled, 2] = 2
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "bbox": [x, y, w, h], "area": w * h, "keypoints": points})  # fmt: skip
    if "points at the origin" in defects:
        for a in anns:
            a["keypoints"][a["keypoints"][:, 2] == 0] = [0, 0, 2]
    if "box past the edge" in defects:
        anns[0]["bbox"][2] = 96 - anns[0]["bbox"][0] + 20
    if "box far from its keypoints" in defects:
        a = anns[1]
        a["keypoints"][a["keypoints"][:, 2] > 0, 0] += (-1 if a["bbox"][0] > 48 else 1) * 40
    if "xyxy boxes" in defects:
        for a in anns:
            x, y, w, h = a["bbox"]
            a["bbox"] = [x, y, x + w, y + h]
    files = [images_dir / image["file_name"] for image in images]  # as written
    if "repeated file name" in defects:
        images[1]["file_name"] = images[0]["file_name"]
    if "size differs" in defects:
        Image.open(files[0]).resize((48, 48)).save(files[0])
    if "truncated file" in defects:
        _cut(files[-1])
    if "same bytes twice" in defects:  # files[1]: not the truncated file
        shutil.copy(files[0], files[1])
    for a in anns:
        a["keypoints"] = a["keypoints"].flatten().tolist()
    categories = [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}]
    ann = folder / "ann.json"
    _write(ann, {"images": images, "annotations": anns, "categories": categories})
    return images_dir, ann


@settings(max_examples=20, deadline=None)
@given(
    n_images=st.integers(3, 4),
    defects=st.sets(st.sampled_from(sorted({**_REFUSED, **_WARNED})), max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_defects_get_the_same_error_or_warning_on_every_path(n_images, defects, seed):
    """COCO keypoint sets with random defects, several at once: boxes written as [x1, y1,
    x2, y2], unlabelled points exported as (0, 0, 2), two images with one file name, a box
    past the image edge, a box far from its keypoints, an image file of another size than
    its annotation, a truncated file, one picture under two names.

    Training, top-down training and evaluation give the same outcome: the same one-line
    error when a defect refuses the set (naming that defect when it is the only one), else
    the same counted warning for each defect present and none for a clean set; never a
    silent change."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        images, ann = _defective_set(Path(d), n_images, defects, np.random.default_rng(seed))
        outcome = _every_path(images, ann)
    refusing = [d for d in defects if d in _REFUSED]
    if refusing:
        assert outcome[0] == "refused", (defects, outcome)
        if len(refusing) == 1:
            assert _REFUSED[refusing[0]] in outcome[2], (defects, outcome)
        return
    assert outcome[0] == "warned", (defects, outcome)
    lines = outcome[1]
    assert len(lines) == len(defects), (defects, lines)
    for defect in defects:
        assert sum(_WARNED[defect] in line for line in lines) == 1, (defect, lines)
