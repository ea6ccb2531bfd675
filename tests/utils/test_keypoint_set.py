"""KeypointSet: flip maps derived from names, the sigma rule, skeletons, checkpoint dicts."""

from __future__ import annotations

import json
import warnings

import pytest

from cgalib.data import BODY14_CATEGORY
from cgalib.utils import coco_meta
from cgalib.utils.coco_meta import FLIP_INDEX, KEYPOINT_NAMES
from cgalib.utils.keypoint_set import (
    DEFAULT_OKS_SIGMA,
    KeypointSet,
    KeypointSetError,
    KeypointSetWarning,
    flip_index_from_names,
    keypoint_side,
    oks_sigmas,
)

COCO_FLIP = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
"""COCO's flip permutation as it was written out before keypoint sets existed."""


def _pairs(keypoint_set: KeypointSet) -> dict[str, str]:
    return {n: keypoint_set.names[j] for n, j in zip(keypoint_set.names, keypoint_set.flip_index)}


def test_coco_flip_map_is_derived_from_the_names():
    assert flip_index_from_names(coco_meta.KEYPOINT_NAMES) == COCO_FLIP
    coco = KeypointSet.coco()
    assert coco.flip_index == coco_meta.FLIP_INDEX == COCO_FLIP
    assert coco.sigmas == coco_meta.OKS_SIGMAS and coco.sigma_source == "coco"
    assert [(a + 1, b + 1) for a, b in coco.skeleton] == list(coco_meta.SKELETON)
    assert KeypointSet.from_category(coco_meta.PERSON_CATEGORY) == coco
    assert coco.upper_body == tuple(range(11)) and coco.lower_body == tuple(range(11, 17))


def test_body14_flip_map_swaps_each_side_and_keeps_the_centre():
    body = KeypointSet.from_category(BODY14_CATEGORY)
    pairs = _pairs(body)
    assert len(body) == 14 and body.sigma_source == "given"
    for name in body.names:
        side, words = keypoint_side(name)
        if side == "center":
            assert pairs[name] == name
        else:
            other = "right" if side == "left" else "left"
            assert pairs[name] == f"{other}_{'_'.join(words)}"
    assert pairs["neck"] == "neck" and pairs["head_top"] == "head_top"
    assert body.skeleton[0] == (12, 13)  # [13, 14] in the file: head_top - neck


def test_a_set_mixing_naming_styles():
    names = ["Nose", "L_Eye", "R_Eye", "ear-left", "ear right", "LEFT.WRIST", "right_wrist",
             "front_left_paw", "front-right-paw", "tail", "l_", "r"]  # fmt: skip
    pairs = _pairs(KeypointSet(tuple(names), sigmas=(0.05,) * len(names)))
    assert pairs == {
        "Nose": "Nose",
        "L_Eye": "R_Eye",
        "R_Eye": "L_Eye",
        "ear-left": "ear right",
        "ear right": "ear-left",
        "LEFT.WRIST": "right_wrist",
        "right_wrist": "LEFT.WRIST",
        "front_left_paw": "front-right-paw",
        "front-right-paw": "front_left_paw",
        "tail": "tail",
        "l_": "l_",  # a side letter alone is no side
        "r": "r",
    }


def test_keypoint_side_reads_one_side_word():
    assert keypoint_side("left_right_hand") == ("center", ("left", "right", "hand"))
    assert keypoint_side("Left") == ("center", ("left",))
    assert keypoint_side("r_hip") == ("right", ("hip",))
    assert keypoint_side("hip_r") == ("right", ("hip",))  # l/r lead or trail


def test_unpairable_names_are_listed_with_how_to_pass_a_map():
    names = ("nose", "left_paw", "right_hand", "left_eye", "right_eye", "l_ear", "left_ear")
    with pytest.raises(KeypointSetError) as err:
        flip_index_from_names(names, "a.json: category 'dog'")
    message = str(err.value)
    assert message.startswith("a.json: category 'dog': the flip map cannot be derived")
    assert "'left_paw' (no right partner)" in message
    assert "'right_hand' (no left partner)" in message
    assert "'l_ear' (also left: 'left_ear')" in message
    assert "eye" not in message  # the eyes pair
    assert "flip_index=[...]" in message and '"flip_pairs"' in message


def test_a_given_flip_map_is_checked():
    names = ("nose", "left_wrist", "right_wrist", "tail_a", "tail_b")
    good = KeypointSet(names, flip_index=(0, 2, 1, 4, 3), sigmas=(0.1,) * 5)
    assert good.flip_index == (0, 2, 1, 4, 3)  # pairs the names do not show are allowed
    bad = {
        (0, 2, 2, 3, 4): "not a permutation",
        (0, 2, 3, 1, 4): "not its own inverse",
        (0, 1, 2, 3, 4): "maps 'left_wrist' to 'left_wrist', but its mirror is 'right_wrist'",
        (0, 2, 1): "must be a list of 5 integers",
    }
    for flip, problem in bad.items():
        with pytest.raises(KeypointSetError, match=problem):
            KeypointSet(names, flip_index=flip, sigmas=(0.1,) * 5)


def test_flip_pairs_in_the_category():
    category = {"name": "hand", "keypoints": ["wrist", "thumb_a", "thumb_b"],
                "flip_pairs": [["thumb_a", "thumb_b"]], "sigmas": [0.1] * 3}  # fmt: skip
    assert KeypointSet.from_category(category).flip_index == (0, 2, 1)
    category["flip_pairs"] = [["thumb_a", "thumb_c"]]
    with pytest.raises(KeypointSetError, match="names 'thumb_c', which is not a keypoint"):
        KeypointSet.from_category(category)
    # an explicit argument wins over the category
    assert KeypointSet.from_category(category, flip_index=[0, 1, 2]).flip_index == (0, 1, 2)


def test_a_one_based_skeleton_is_converted_and_range_checked():
    category = {"name": "x", "keypoints": ["a", "b", "c"], "sigmas": [0.1] * 3,
                "skeleton": [[1, 2], [2, 3]]}  # fmt: skip
    assert KeypointSet.from_category(category).skeleton == ((0, 1), (1, 2))
    with pytest.raises(KeypointSetError, match="0-based keypoint indices in 0..2"):
        KeypointSet(("a", "b", "c"), skeleton=((0, 3),), sigmas=(0.1,) * 3)  # code: strict


def test_a_skeleton_that_cannot_be_the_sets_is_dropped_with_a_warning():
    category = {"name": "x", "keypoints": ["a", "b", "c"], "sigmas": [0.1] * 3,
                "skeleton": [[1, 2], [3, 4]], "limb_colors": ["red", "blue"]}  # fmt: skip
    with pytest.warns(KeypointSetWarning) as caught:
        found = KeypointSet.from_category(category, source="a.json")
    (message,) = [str(w.message) for w in caught]
    assert message.startswith("a.json: skeleton limb 2 of 2, [3, 4], is out of range 1..3")
    assert "written for another keypoint set" in message and "drawn without limbs" in message
    assert found.skeleton == () and found.limb_colors is None
    category["skeleton"] = [[0, 1], [1, 2]]
    with pytest.warns(KeypointSetWarning, match="this one looks 0-based, add 1 to every index"):
        assert KeypointSet.from_category(category).skeleton == ()


def test_bad_limbs_are_dropped_alone_with_their_colours():
    category = {"name": "x", "keypoints": ["a", "b", "c"], "sigmas": [0.1] * 3,
                "skeleton": [[1, 2], [2, 2], "x", [2, 3]],
                "limb_colors": ["red", "green", "grey", "blue"]}  # fmt: skip
    with pytest.warns(KeypointSetWarning) as caught:
        found = KeypointSet.from_category(category, source="a.json")
    (message,) = [str(w.message) for w in caught]
    assert "limb 2, [2, 2], joins keypoint 2 ('b') to itself" in message
    assert "limb 3 is 'x', not a pair of keypoint indices" in message
    assert found.skeleton == ((0, 1), (1, 2)) and found.limb_colors == ("red", "blue")


def test_colours_that_do_not_fit_are_dropped_with_a_warning():
    category = {"name": "x", "keypoints": ["a", "b"], "sigmas": [0.1] * 2,
                "skeleton": [[1, 2]], "colors": ["red"], "limb_colors": ["red", "blue"]}  # fmt: skip
    with pytest.warns(KeypointSetWarning) as caught:
        found = KeypointSet.from_category(category, source="a.json")
    assert [str(w.message).split(";")[0] for w in caught] == [
        "a.json: colors must list 2 colour names, one per keypoint, got ['red']",
        "a.json: limb_colors must list 1 colour names, one per limb, got ['red', 'blue']",
    ]
    assert found.colors is None and found.limb_colors is None and found.skeleton == ((0, 1),)


def test_numbered_names_without_a_table_warn_and_a_given_map_silences_them():
    names = ["nose", "kpt-1", "kpt-2", "kpt-3"]
    with pytest.warns(KeypointSetWarning) as caught:
        found = KeypointSet(tuple(names), sigmas=(0.1,) * 4, source="faces.json")
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(
        "faces.json: the names do not tell the mirror of these keypoints, so a flip leaves "
        "them in place: kpt-1 to kpt-3 (3 numbered points of a layout without a mirror table)"
    )
    assert found.flip_index == (0, 1, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = KeypointSet(tuple(names), flip_index=(0, 3, 2, 1), sigmas=(0.1,) * 4)
        paired = KeypointSet.from_category(
            {"keypoints": names, "flip_pairs": [["kpt-1", "kpt-3"]], "sigmas": [0.1] * 4}
        )
    assert given.flip_index == paired.flip_index == (0, 3, 2, 1)


def test_the_68_point_face_inside_a_body_set_is_mirrored_by_the_table():
    names = (*KEYPOINT_NAMES, *(f"face-{i}" for i in range(68)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = KeypointSet(names, sigmas=(0.05,) * len(names))
    flip = found.flip_index
    assert flip[:17] == FLIP_INDEX
    assert names[flip[names.index("face-0")]] == "face-16"
    assert names[flip[names.index("face-36")]] == "face-45"  # the eyes' outer corners
    assert names[flip[names.index("face-30")]] == "face-30"  # the nose tip
    # a given map is not held to the table: the names say no side
    assert KeypointSet(names, flip_index=(*FLIP_INDEX, *range(17, 85)), sigmas=found.sigmas)


def test_the_sigma_rule():
    names = ("a", "b")
    assert oks_sigmas(coco_meta.KEYPOINT_NAMES) == (coco_meta.OKS_SIGMAS, "coco")
    assert oks_sigmas(names, [0.1, 0.2]) == ((0.1, 0.2), "given")
    assert oks_sigmas(names) == ((DEFAULT_OKS_SIGMA,) * 2, "default")
    with pytest.warns(KeypointSetWarning, match="not comparable to published numbers"):
        default = KeypointSet(names)
    assert default.sigmas == (DEFAULT_OKS_SIGMA,) * 2 and default.sigma_source == "default"
    with pytest.raises(KeypointSetError, match="3 values for 2 keypoints"):
        KeypointSet(names, sigmas=(0.1, 0.1, 0.1))
    with pytest.raises(KeypointSetError, match="must be K positive numbers"):
        KeypointSet(names, sigmas=(0.1, -1.0))


def test_to_dict_round_trips_through_json():
    category = {**BODY14_CATEGORY, "colors": ["red"] * 14, "limb_colors": ["blue"] * 14}
    body = KeypointSet.from_category(category)
    data = json.loads(json.dumps(body.to_dict()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stored sigmas: no default-sigma warning
        again = KeypointSet.from_dict(data)
    assert again == body and again.colors == ("red",) * 14
    assert data["skeleton"] == BODY14_CATEGORY["skeleton"]  # 1-based, as in COCO files
    with pytest.warns(KeypointSetWarning):
        plain = KeypointSet(("x_left", "x_right"))
    assert KeypointSet.from_dict(json.loads(json.dumps(plain.to_dict()))) == plain


def test_bad_names_and_body_halves():
    with pytest.raises(KeypointSetError, match="keypoint names repeat \\('a'\\)"):
        KeypointSet(("a", "a"), sigmas=(0.1, 0.1))
    with pytest.raises(KeypointSetError, match="non-empty list of non-empty strings"):
        KeypointSet((), sigmas=())
    with pytest.raises(KeypointSetError, match="in both upper_body and lower_body"):
        KeypointSet(("a", "b"), sigmas=(0.1, 0.1), upper_body=(0, 1), lower_body=(1,))
    with pytest.raises(KeypointSetError, match="must list 2 colour names"):
        KeypointSet(("a", "b"), sigmas=(0.1, 0.1), colors=("red",))


def test_flip_index_is_a_left_right_involution():
    for k, j in enumerate(FLIP_INDEX):
        assert FLIP_INDEX[j] == k
        assert KEYPOINT_NAMES[j] == KEYPOINT_NAMES[k].replace("left", "L").replace(
            "right", "left"
        ).replace("L", "right")
