"""Keypoint sets that cannot be used as they are: flip maps, sigmas, skeletons, categories,
and a checkpoint of one set meeting data of another (cgalib.utils.keypoint_set, CocoKeypoints,
engine.train, cgalib.eval, cgalib eval, the drawings)."""

from __future__ import annotations

import json
import warnings

import matplotlib
import pytest
import torch

from cgalib import create_model, save_model
from cgalib.cli import main
from cgalib.data import (
    BODY14_CATEGORY,
    AnnotationError,
    CocoKeypoints,
    KeypointSet,
    PoseAugmentation,
    TopDownAugmentation,
    make_synthetic_coco,
)
from cgalib.engine.trainer import train
from cgalib.eval import coco_keypoint_ap
from cgalib.utils.keypoint_set import KeypointSetWarning
from cgalib.viz import draw_people

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def body14(tmp_path):
    """A 2-image body14 synthetic set at 64 px: ``(root, annotation file, its dict)``."""
    paths = make_synthetic_coco(tmp_path / "data", 2, 2, size=64, min_height=16, keypoints="body14")
    return paths["root"], paths["train_ann"], json.loads(paths["train_ann"].read_text())


def _rewrite(ann, data, **category):
    """Write ``data`` with its category's keys replaced (``None`` removes one)."""
    data["categories"][0].update(category)
    data["categories"][0] = {k: v for k, v in data["categories"][0].items() if v is not None}
    ann.write_text(json.dumps(data))


def _refused(root, tmp_path, error=AnnotationError, **kwargs) -> str:
    """Train; expect ``error`` before the first step and no run folder; its one-line message."""
    with pytest.raises(error) as err:
        train("cganet_tnet_d1w16", root, tmp_path / "run", input_size=64, device="cpu",
              epochs=1, batch_size=2, num_workers=0, **kwargs)  # fmt: skip
    assert not (tmp_path / "run").exists()
    message = str(err.value)
    assert "\n" not in message
    return message


def test_names_that_cannot_be_paired_for_the_flip(body14, tmp_path):
    """A custom set whose "left_wrist" is renamed "left_paw", so neither it nor
    "right_wrist" has a mirror partner by name.

    Training stops before the first step with one line naming the file and category, listing
    'left_paw' (no right partner) and 'right_wrist' (no left partner), and saying to pass
    flip_index=[...] or add "flip_pairs" to the category; with that "flip_pairs" the same
    file loads."""
    root, ann, data = body14
    names = [n.replace("left_wrist", "left_paw") for n in data["categories"][0]["keypoints"]]
    _rewrite(ann, data, keypoints=names, upper_body=None, lower_body=None)
    message = _refused(root, tmp_path)
    assert message.startswith(f"{ann}: category 'person': the flip map cannot be derived")
    assert "'left_paw' (no right partner), 'right_wrist' (no left partner)" in message
    assert "flip_index=[...]" in message and '"flip_pairs"' in message
    _rewrite(ann, data, flip_pairs=[["left_paw", "right_wrist"]])
    flipped = CocoKeypoints(root / "train", ann).keypoint_set.flip_index
    assert flipped[names.index("left_paw")] == names.index("right_wrist")


def test_a_flip_map_that_swaps_the_wrong_keypoints(body14, tmp_path):
    """The category gives a "flip_index" that leaves left_wrist in place instead of swapping
    it with right_wrist.

    Loading fails with one line naming the file, the category, the keypoint, where the map
    sends it and its mirror by name, so left and right are never swapped wrongly at every
    flip."""
    root, ann, data = body14
    flip = list(KeypointSet.from_category(BODY14_CATEGORY).flip_index)
    flip[4], flip[5] = 4, 5  # left_wrist, right_wrist stay
    _rewrite(ann, data, flip_index=flip)
    assert "flip_index maps 'left_wrist' to 'left_wrist', but its mirror is 'right_wrist'" in (
        _refused(root, tmp_path)
    )


def test_wrong_number_of_sigmas(body14, tmp_path):
    """The category's "sigmas" list has 13 values for its 14 keypoints.

    Training and evaluation both refuse the file with one line naming it, the category and
    "13 values for 14 keypoints", saying to give one OKS sigma per keypoint in the names'
    order."""
    root, ann, data = body14
    _rewrite(ann, data, sigmas=BODY14_CATEGORY["sigmas"][:13])
    message = _refused(root, tmp_path)
    assert message.startswith(f"{ann}: category 'person': sigmas: 13 values for 14 keypoints")
    with pytest.raises(AnnotationError, match="sigmas: 13 values for 14 keypoints; give one"):
        coco_keypoint_ap(ann, [])


def test_skeleton_out_of_range(body14):
    """The category's skeleton has a limb [14, 15] for 14 keypoints (1-based, 15 is past the
    end).

    The file loads: the skeleton only draws, so it is dropped with one KeypointSetWarning
    naming the file, the category, the limb's position and values in the file's own 1-based
    numbers and the range 1..14; the set keeps its 14 keypoints and people are drawn
    without limbs."""
    root, ann, data = body14
    _rewrite(ann, data, skeleton=[*BODY14_CATEGORY["skeleton"], [14, 15]])
    with pytest.warns(KeypointSetWarning) as caught:
        found = CocoKeypoints(root / "train", ann).keypoint_set
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"{ann}: category 'person': skeleton limb 15 of 15, [14, 15], is ")
    assert "out of range 1..14 for the 14 keypoints" in message
    assert found.skeleton == () and len(found) == 14


def test_crowdpose_file_with_coco_skeleton(body14):
    """A CrowdPose annotation file: 14 keypoints, and beside them COCO's 17-keypoint
    skeleton (19 limbs, the first [16, 14]), as CrowdPose publishes it.

    The file loads with one KeypointSetWarning naming the file, the first limb past the end
    ([16, 14]) and how many more (2), and saying the skeleton seems written for another keypoint
    set; the whole skeleton is dropped (its other limbs would join the wrong joints), the
    flip map and sigmas are the file's."""
    root, ann, data = body14
    coco_skeleton = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13],
                     [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3],
                     [2, 4], [3, 5], [4, 6], [5, 7]]  # fmt: skip
    _rewrite(ann, data, skeleton=coco_skeleton)
    with pytest.warns(KeypointSetWarning) as caught:
        found = CocoKeypoints(root / "train", ann).keypoint_set
    (message,) = [str(w.message) for w in caught]
    assert "skeleton limb 1 of 19, [16, 14] and 2 more, are out of range 1..14" in message
    assert "it seems written for another keypoint set" in message
    assert found.skeleton == () and found.flip_index == KeypointSet.from_category(
        BODY14_CATEGORY
    ).flip_index


def test_skeleton_written_zero_based(body14):
    """The category's skeleton uses 0-based indices ([0, 1], ...), as some tools write.

    The file loads with one KeypointSetWarning saying COCO skeletons are 1-based and this
    one looks 0-based, add 1 to every index; the skeleton is dropped, instead of silently
    drawing every limb one joint off."""
    root, ann, data = body14
    zero_based = [[a - 1, b - 1] for a, b in BODY14_CATEGORY["skeleton"]]
    _rewrite(ann, data, skeleton=zero_based)
    with pytest.warns(KeypointSetWarning, match="this one looks 0-based, add 1 to every index"):
        assert CocoKeypoints(root / "train", ann).keypoint_set.skeleton == ()


def test_numbered_keypoint_names(body14):
    """A set whose keypoints are named only by number (kpt-0 .. kpt-13), as face landmark
    sets are (300W, WFLW, COFW), without a flip map.

    The file loads with one KeypointSetWarning naming the file, the category and the
    keypoints (kpt-0 to kpt-13), saying a flip leaves them in place and how to give the map
    (flip_index, flip_pairs, or the data set's metainfo); given "flip_index" in the
    category, it loads without a warning and with that map."""
    root, ann, data = body14
    names = [f"kpt-{i}" for i in range(14)]
    _rewrite(ann, data, keypoints=names, upper_body=None, lower_body=None)
    with pytest.warns(KeypointSetWarning) as caught:
        found = CocoKeypoints(root / "train", ann).keypoint_set
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(
        f"{ann}: category 'person': the names do not tell the mirror of these keypoints, so "
        "a flip leaves them in place: kpt-0 to kpt-13 (14 numbered points"
    )
    assert "flip_index=[...]" in message and "cgalib.utils.dataset_info" in message
    assert found.flip_index == tuple(range(14))
    flip = [1, 0, *range(2, 14)]
    _rewrite(ann, data, flip_index=flip)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CocoKeypoints(root / "train", ann).keypoint_set.flip_index == tuple(flip)


def test_custom_set_without_sigmas(body14):
    """A custom 14-keypoint set whose category gives no OKS sigmas.

    Keypoint AP is scored with the default sigma 0.07 for every keypoint and a
    KeypointSetWarning says the AP is not comparable to published numbers and how to give
    sigmas."""
    _, ann, data = body14
    _rewrite(ann, data, sigmas=None)
    with pytest.warns(KeypointSetWarning, match="using 0.07 for each, so keypoint AP is not"):
        coco_keypoint_ap(ann, [])


def test_checkpoint_of_another_keypoint_set(capsys, tmp_path):
    """`cgalib eval` with a checkpoint trained on the 14-joint set and a COCO 17-keypoint
    validation split.

    It stops before predicting with one line `cgalib: error: checkpoint <path> predicts 14
    keypoints of 'person' (left_shoulder, ...), but <file> has 17 keypoints (nose, ...)`, exit
    status 1, and no results file."""
    ckpt = tmp_path / "model.pt"
    model = create_model("cganet_tnet_d1w16", input_size=64, keypoint_set=BODY14_CATEGORY)
    save_model(model, ckpt)
    paths = make_synthetic_coco(tmp_path / "coco", 0, 1, size=64, min_height=16)
    code = main(["eval", "--checkpoint", str(ckpt), "--data", str(paths["root"])])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 1 and not (tmp_path / "results_val.json").exists()
    assert line.startswith(f"cgalib: error: checkpoint {ckpt} predicts 14 keypoints of 'person' ")
    assert f"but {paths['val_ann']} has 17 keypoints (nose, left_eye, right_eye, ...)" in line


def test_model_arguments_for_another_keypoint_set(body14, tmp_path):
    """Training on the 14-joint set with model arguments that build a 17-keypoint model
    (num_keypoints=17, an argument of older versions, or keypoint_set=None).

    Training stops before the first step with one line: the builder takes no
    num_keypoints (the keypoint set carries K); for keypoint_set=None, naming the model,
    its 17 keypoints, the file and its 14 keypoints, and saying to leave keypoint_set out."""
    root, ann, _ = body14
    message = _refused(root, tmp_path, ValueError, model_kwargs={"num_keypoints": 17})
    assert message.startswith("cganet_tnet_d1w16 takes no argument 'num_keypoints'")
    message = _refused(root, tmp_path, ValueError, model_kwargs={"keypoint_set": None})
    assert message.startswith("cganet_tnet_d1w16 is built for 17 keypoints of 'person' (nose")
    assert f"but {ann} has 14 keypoints of 'person' (left_shoulder" in message


def test_coco_flip_for_another_set():
    """PoseAugmentation built with its default (COCO's 17-keypoint) flip map, given targets
    of a 14-keypoint set.

    It raises a ValueError naming the target and the two keypoint counts and saying to pass
    the data set's flip map, instead of swapping the wrong keypoints."""
    target = {"boxes": torch.tensor([[2.0, 2.0, 20.0, 20.0]]), "keypoints": torch.zeros(1, 14, 3)}
    with pytest.raises(ValueError) as err:
        PoseAugmentation(32)(torch.zeros(1, 3, 32, 32), [target])
    assert str(err.value) == (
        "target 0 has keypoints (1, 14, 3), but this PoseAugmentation flips 17 keypoints; "
        "pass the data set's flip map (PoseAugmentation(flip_index=dataset.keypoint_set."
        "flip_index))"
    )


def test_drawing_people_of_another_set():
    """draw_people with its default (COCO) skeleton given people of a 14-keypoint set.

    It raises a ValueError naming the person and both keypoint counts and saying to pass the
    keypoint set, before anything is drawn."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    person = {"keypoints": [5.0, 5.0, 1.0] * 14, "bbox": [0, 0, 9, 9]}
    with pytest.raises(ValueError, match=r"person 0: 14 keypoints, but 17 names; pass the"):
        draw_people(ax, torch.zeros(3, 8, 8, dtype=torch.uint8), [person])
    assert not ax.images
    plt.close(fig)


def test_animal_categories_without_a_person(body14, tmp_path):
    """An animal data set: its categories are "cat" and "dog" (sharing one keypoint list),
    none is "person".

    Loading without a choice fails naming the categories and saying to choose them
    (categories=[...]; --categories on the command line); with categories=["cat", "dog"]
    (or "*") both load as one class."""
    root, ann, data = body14
    dog = {**data["categories"][0], "id": 2, "name": "dog"}
    data["annotations"][0]["category_id"] = 2
    data["categories"].append(dog)
    _rewrite(ann, data, name="cat")
    message = _refused(root, tmp_path)
    assert "has no categories named 'person' (categories: ['cat', 'dog'])" in message
    assert "choose the keypoint categories to read (categories=[...]; --categories" in message
    ds = CocoKeypoints(root / "train", ann, categories=["cat", "dog"])
    assert ds.report.kept == len(data["annotations"])


def test_categories_with_different_keypoint_lists(body14, tmp_path):
    """Two categories chosen together ("*") whose "keypoints" lists differ.

    Loading fails with one line naming both categories and saying the categories read
    together must share one 'keypoints' list."""
    root, ann, data = body14
    hand = {"id": 2, "name": "hand", "keypoints": ["wrist", "thumb"]}
    data["categories"].append(hand)
    ann.write_text(json.dumps(data))
    message = _refused(root, tmp_path, categories="*")
    assert message == (
        f"{ann}: categories 'person' and 'hand' name different keypoints; the categories read "
        "together must share one 'keypoints' list (choose the categories of one keypoint set)"
    )


def test_half_body_crops_for_a_set_without_upper_body(body14, tmp_path):
    """Top-down training with half-body crops (half_body_prob=0.3) on a 14-keypoint set whose
    category names no "upper_body".

    Training stops before the first step with one line naming the file and its 14 keypoints
    and saying to add an "upper_body" list to the category or pass upper_body=[...], instead
    of cutting half bodies from COCO's upper-body indices."""
    root, ann, data = body14
    _rewrite(ann, data, upper_body=None, lower_body=None)
    with pytest.raises(ValueError) as err:
        train("topdown_tnet_d1w16", root, tmp_path / "run", input_size=(64, 32), device="cpu",
              epochs=1, batch_size=2, num_workers=0, augment_kwargs={"half_body_prob": 0.3})  # fmt: skip
    assert not (tmp_path / "run").exists()
    message = str(err.value)
    assert message.startswith(f"half-body crops need the upper-body keypoints of {ann}'s 14 ")
    assert 'add an "upper_body" list of names to its category' in message
    assert "\n" not in message


def test_coco_flip_for_another_set_in_top_down_crops():
    """TopDownAugmentation built with its default (COCO's 17-keypoint) flip map, given one
    person of a 14-keypoint set.

    It raises a ValueError naming both keypoint counts and saying to pass the data set's flip
    map, before any crop is cut."""
    target = {"boxes": torch.tensor([[2.0, 2.0, 20.0, 30.0]]), "keypoints": torch.zeros(1, 14, 3)}
    with pytest.raises(ValueError) as err:
        TopDownAugmentation((64, 48), seed=0)(torch.zeros(1, 3, 32, 32), [target])
    assert str(err.value) == (
        "targets have 14 keypoints, but this TopDownAugmentation flips 17; pass the data set's "
        "flip map (TopDownAugmentation(flip_index=dataset.keypoint_set.flip_index))"
    )
