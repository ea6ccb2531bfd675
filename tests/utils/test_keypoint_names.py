"""Keypoint names: side words in every style, numbered layouts, and the flip maps derived
from names compared with every keypoint set mmpose publishes."""

from __future__ import annotations

import re
import warnings

import pytest

from cgalib.utils.keypoint_names import (
    FACE68_MIRROR_PAIRS,
    keypoint_side,
    keypoint_words,
    layout_mirror_pairs,
    mentions_side,
    numbered_name,
)
from cgalib.utils.keypoint_set import KeypointSetWarning, flip_index_from_names

from helpers import PUBLISHED_SETS, published_flip_index

SETS = PUBLISHED_SETS["sets"]

NOT_PAIRED_BY_NAMES = {"aflw", "cofw", "deepfashion2", "lapa", "ubody3d", "wflw"}
"""Published sets whose mirrors the names do not tell and no table of cgalib gives: numbered
layouts other than the 68-point face (AFLW 19, COFW 29, WFLW 98, LaPa 106, UBody-3D's 72
``Face_N``, DeepFashion2's ``*_kptN``). Their maps come from the metainfo or a flip_index."""

PUBLISHED_IDENTITY_OF_A_KNOWN_LAYOUT = {"300wlp": "300w"}
"""Published sets whose swap entries are all empty although their names are a layout
cgalib knows: mmpose's 300W-LP (the 68-point face of 300W, ``kpt-0`` .. ``kpt-67``) has no
``swap``, so its published map is the identity; cgalib mirrors it as 300W's."""


def _face68_from_published(key: str, offset: int = 0) -> set[frozenset[int]]:
    published = SETS[key]
    index = {n: i - offset for i, n in enumerate(published["keypoints"])}
    return {frozenset((index[a], index[b])) for a, b in published["swap_pairs"]
            if 0 <= index[a] < 68 and 0 <= index[b] < 68}  # fmt: skip


def test_face68_table_is_the_published_300w_layout():
    table = {frozenset(pair) for pair in FACE68_MIRROR_PAIRS}
    assert len(table) == len(FACE68_MIRROR_PAIRS) == 29
    assert len({i for pair in FACE68_MIRROR_PAIRS for i in pair}) == 58  # disjoint pairs
    centre = set(range(68)) - {i for pair in FACE68_MIRROR_PAIRS for i in pair}
    assert centre == {8, 27, 28, 29, 30, 33, 51, 57, 62, 66}  # the midline, as documented
    assert table == _face68_from_published("300w")
    assert table == _face68_from_published("300vw")
    assert table == _face68_from_published("coco_wholebody_face")
    start = SETS["coco_wholebody"]["keypoints"].index("face-0")
    assert table == _face68_from_published("coco_wholebody", offset=start)


@pytest.mark.parametrize("key", sorted(SETS))
def test_flip_map_from_names_agrees_with_the_published_set_or_warns(key):
    """The map from names alone is the published one; where it is not, it only leaves in
    place keypoints the published map swaps, and one warning names every one of them."""
    published = SETS[key]
    names = published["keypoints"]
    expected = published_flip_index(published)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        derived = flip_index_from_names(names, key)
    said = [str(w.message) for w in caught if issubclass(w.category, KeypointSetWarning)]
    if key in PUBLISHED_IDENTITY_OF_A_KNOWN_LAYOUT:
        same = SETS[PUBLISHED_IDENTITY_OF_A_KNOWN_LAYOUT[key]]
        assert expected == tuple(range(len(names))) and names == same["keypoints"]
        assert derived == published_flip_index(same) and not said
        return
    if key not in NOT_PAIRED_BY_NAMES:
        assert derived == expected and not said
        return
    wrong = [k for k in range(len(names)) if derived[k] != expected[k]]
    assert wrong and all(derived[k] == k for k in wrong)  # kept in place, never mis-swapped
    (message,) = said
    assert message.startswith(f"{key}: the names do not tell the mirror of these keypoints")
    assert "flip_index=[...]" in message and "cgalib.utils.dataset_info" in message
    for k in wrong:
        assert _named(names[k], message), (names[k], message)


def _named(name: str, message: str) -> bool:
    """Whether ``message`` names ``name`` itself or in a run ``stemA to stemB``."""
    if re.search(rf"(^|[\s(']){re.escape(name)}([\s,;)']|$)", message):
        return True
    group, number = numbered_name(name)
    runs = re.findall(rf"{re.escape(group)}(\d+) to {re.escape(group)}(\d+)", message)
    return any(int(a) <= number <= int(b) for a, b in runs)


def test_published_sets_fixture_records_its_source():
    source = PUBLISHED_SETS["source"]
    assert source["repository"] == "https://github.com/open-mmlab/mmpose"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert len(SETS) == 55 and {"coco", "crowdpose", "mpii", "ap10k", "300w"} <= set(SETS)
    agree = [k for k in SETS if _flip_quietly(SETS[k]["keypoints"])
             == published_flip_index(SETS[k])]  # fmt: skip
    assert len(agree) == 48  # the 55 less NOT_PAIRED_BY_NAMES and 300wlp


def _flip_quietly(names):
    """The flip map from names, its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KeypointSetWarning)
        return flip_index_from_names(names)


@pytest.mark.parametrize(
    ("name", "side", "words"),
    [
        ("left_wrist", "left", ("wrist",)),
        ("wrist_left", "left", ("wrist",)),
        ("L_Wrist", "left", ("wrist",)),
        ("hip_r", "right", ("hip",)),  # a side letter as a suffix
        ("front-left-paw", "left", ("front", "paw")),
        ("LShoulder", "left", ("shoulder",)),  # OpenPose
        ("REye", "right", ("eye",)),
        ("leftShoulder", "left", ("shoulder",)),  # MediaPipe-style camelCase
        ("eyeL", "left", ("eye",)),  # fly, locust
        ("forelegR1", "right", ("foreleg", "1")),  # zebra, fly, locust
        ("Eye_Left", "left", ("eye",)),  # Animal Kingdom
        ("LEFT.WRIST", "left", ("wrist",)),
        ("nose", "center", ("nose",)),
        ("Left", "center", ("left",)),  # a side word alone is no side
        ("l_", "center", ("l",)),
        ("L1", "center", ("l", "1")),  # the lumbar vertebra: only a number beside the letter
        ("left_right_hand", "center", ("left", "right", "hand")),  # two sides: none
        ("Nearknee", "center", ("nearknee",)),  # near/far is not left/right
        ("thumb1", "center", ("thumb", "1")),
    ],
)
def test_side_words_in_every_style(name, side, words):
    assert keypoint_side(name) == (side, words)


def test_mixed_styles_pair_with_each_other():
    names = ["nose", "LShoulder", "right_shoulder", "eyeL", "Eye_Right", "hip_r", "leftHip"]
    assert flip_index_from_names(names) == (0, 2, 1, 4, 3, 6, 5)


def test_words_split_at_separators_camel_case_and_digits():
    assert keypoint_words("L_EarBase") == ("l", "ear", "base")
    assert keypoint_words("anttipL") == ("anttip", "l")
    assert keypoint_words("Mouth Back-Left") == ("mouth", "back", "left")
    assert keypoint_words("sss_kpt12") == ("sss", "kpt", "12")


def test_numbered_names():
    assert numbered_name("kpt-0") == ("kpt-", 0)
    assert numbered_name("Face_72") == ("Face_", 72)
    assert numbered_name("lss_kpt33") == ("lss_kpt", 33)
    assert numbered_name("17") == ("", 17)
    for name in ("thumb1", "forelegL1", "abdomen2", "nose", "kpt"):
        assert numbered_name(name) is None


def test_face68_from_the_table_numbered_from_one_and_inside_a_larger_set():
    one_based = ["neck"] + [f"lm_{i}" for i in range(1, 69)]
    pairs, unknown = layout_mirror_pairs(one_based)
    assert not unknown and len(pairs) == 29
    assert (1, 17) in pairs and (37, 46) in pairs  # lm_1 <-> lm_17, lm_37 <-> lm_46
    flip = flip_index_from_names(one_based)
    assert flip[0] == 0 and flip[9] == 9  # the neck and the chin (lm_9) stay


def test_a_numbered_group_that_is_not_a_known_layout():
    gap = [f"kpt-{i}" for i in range(68) if i != 40] + ["kpt-68"]  # 68 names, not 0..67
    assert layout_mirror_pairs(gap) == ([], {"kpt-": list(range(68))})
    with pytest.warns(KeypointSetWarning, match=r"kpt-0 to kpt-39, kpt-41 to kpt-68 \(68 numbered"):
        assert flip_index_from_names(gap) == tuple(range(68))
    # a group with one keypoint in the given pairs is the caller's: no table, no warning
    assert layout_mirror_pairs(gap, exclude=[0]) == ([], {})


def test_names_that_mention_a_side_cgalib_cannot_read_are_named():
    assert mentions_side("lefteye") and mentions_side("left_right_hand")
    assert not mentions_side("left_eye") and not mentions_side("nose")
    with pytest.warns(KeypointSetWarning, match=r"'lefteye' \(a side word cgalib cannot read\)"):
        assert flip_index_from_names(["nose", "lefteye", "righteye"]) == (0, 1, 2)
