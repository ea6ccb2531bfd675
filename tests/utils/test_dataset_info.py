"""The dataset_info metainfo reader: every published set's flip map, exactly, from a dict, an
mmpose-style Python file and a JSON file; files that are more than data are refused."""

from __future__ import annotations

import json
import warnings

import pytest

from cgalib.utils.dataset_info import keypoint_set_from_dataset_info, read_dataset_info
from cgalib.utils.keypoint_set import KeypointSetError, KeypointSetWarning

from helpers import PUBLISHED_SETS, published_flip_index

SETS = PUBLISHED_SETS["sets"]


def _dataset_info(published: dict) -> dict:
    """The published set as mmpose writes it: ``keypoint_info`` with each keypoint's swap
    (one-sided swaps kept one-sided), no skeleton, ``joint_weights``, empty ``sigmas``."""
    swap = {a: b for a, b in published["swap_pairs"]}
    swap.update({b: a for a, b in published["swap_pairs"]})
    swap.update({a: b for a, b in published["one_sided_swaps"]})
    points = {
        i: {"name": name, "id": i, "color": [255, 128, 0], "type": "", "swap": swap.get(name, "")}
        for i, name in enumerate(published["keypoints"])
    }
    return {"dataset_name": published["dataset_name"], "keypoint_info": points,
            "skeleton_info": {}, "joint_weights": [1.0] * len(points), "sigmas": []}  # fmt: skip


def _python_file(info: dict) -> str:
    """``info`` written in the style of mmpose's ``configs/_base_/datasets/*.py``."""
    lines = ["colors = dict(side=[255, 128, 0])", "dataset_info = dict(",
             f"    dataset_name={info['dataset_name']!r},",
             "    paper_info=dict(author='A and '", "    'B', year='2020'),",
             "    keypoint_info={"]  # fmt: skip
    for i, p in info["keypoint_info"].items():
        lines += [f"        {i}:", f"        dict(name={p['name']!r}, id={i}, "
                  f"color=colors['side'], type='', swap={p['swap']!r}),"]  # fmt: skip
    k = len(info["keypoint_info"])
    lines += ["    },", "    skeleton_info={},", f"    joint_weights=[1.] * {k},", "    sigmas=[])"]
    return "\n".join(lines) + "\n"


def _read(source):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*: no OKS sigmas", KeypointSetWarning)
        return keypoint_set_from_dataset_info(source)


@pytest.mark.parametrize("key", sorted(SETS))
def test_the_published_flip_map_exactly(key, tmp_path):
    published = SETS[key]
    info = _dataset_info(published)
    py, js = tmp_path / f"{key}.py", tmp_path / f"{key}.json"
    py.write_text(_python_file(info))
    js.write_text(json.dumps({"dataset_info": info}))  # keys become "0", "1", ...
    if published["one_sided_swaps"]:  # mmpose's DeepFashion2: vest_kpt9 -> vest_kpt13 -> ''
        a, b = published["one_sided_swaps"][0]
        with pytest.raises(KeypointSetError, match=rf"\({a!r}\) swaps with {b!r}, but {b!r} "):
            _read(py)
        return
    for source in (info, py, js):
        found = _read(source)
        assert found.names == tuple(published["keypoints"])
        assert found.flip_index == published_flip_index(published), source
        assert found.colors == ("#ff8000",) * len(found)
    assert str(py) in _read(py).source and repr(published["dataset_name"]) in _read(py).source


def test_sigmas_skeleton_and_body_halves_are_read():
    info = {
        "dataset_name": "tiny",
        "keypoint_info": {
            0: {"name": "nose", "type": "upper", "swap": "", "color": [0, 0, 255]},
            1: {"name": "eyeL", "type": "upper", "swap": "eyeR", "color": [0, 255, 0]},
            2: {"name": "eyeR", "type": "upper", "swap": "eyeL", "color": [255, 0, 0]},
            3: {"name": "tail", "type": "lower", "swap": "", "color": [0, 0, 0]},
        },
        "skeleton_info": {0: {"link": ("nose", "eyeL"), "color": [1, 2, 3]},
                          1: {"link": ("nose", "eyeR"), "color": [4, 5, 6]},
                          2: {"link": ("nose", "chin"), "color": [7, 8, 9]}},
        "sigmas": [0.02, 0.03, 0.03, 0.1],
    }  # fmt: skip
    with pytest.warns(KeypointSetWarning, match=r"'tiny': skeleton_info links that .*2: \('nose'"):
        found = keypoint_set_from_dataset_info(info, categories=("cat",))
    assert found.flip_index == (0, 2, 1, 3) and found.sigmas == (0.02, 0.03, 0.03, 0.1)
    assert found.skeleton == ((0, 1), (0, 2)) and found.limb_colors == ("#010203", "#040506")
    assert found.upper_body == (0, 1, 2) and found.lower_body == (3,)
    assert found.colors[:2] == ("#0000ff", "#00ff00") and found.categories == ("cat",)


def test_a_swap_that_contradicts_the_names_is_refused():
    info = {"keypoint_info": {0: {"name": "left_eye", "swap": ""},
                              1: {"name": "right_eye", "swap": ""}}, "sigmas": [0.1, 0.1]}  # fmt: skip
    with pytest.raises(KeypointSetError, match="maps 'left_eye' to 'left_eye', but its mirror"):
        keypoint_set_from_dataset_info(info)
    info["keypoint_info"][0]["swap"] = "right_ear"
    with pytest.raises(KeypointSetError, match=r"swaps with 'right_ear', which is not a keypoint"):
        keypoint_set_from_dataset_info(info)


def test_a_python_file_is_read_as_data_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    bad = tmp_path / "bad.py"
    bad.write_text(
        f"dataset_info = dict(keypoint_info={{0: dict(name=open({str(marker)!r}, 'w').name)}})\n"
    )
    with pytest.raises(KeypointSetError, match=r"bad.py, line 1: dataset_info holds \"open\("):
        read_dataset_info(bad)
    assert not marker.exists()
    none = tmp_path / "none.py"
    none.write_text("x = 1\n")
    with pytest.raises(KeypointSetError, match="none.py assigns no dataset_info"):
        read_dataset_info(none)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(KeypointSetError, match="broken.json: not a JSON file"):
        read_dataset_info(broken)
    with pytest.raises(KeypointSetError, match="missing.py: cannot read the metainfo file"):
        read_dataset_info(tmp_path / "missing.py")


def test_keypoint_positions_must_be_zero_to_k_minus_one():
    info = {"keypoint_info": {0: {"name": "a"}, 2: {"name": "b"}}}
    with pytest.raises(KeypointSetError, match=r"keypoint_info keys are \[0, 2\]; they must be"):
        keypoint_set_from_dataset_info(info)
    with pytest.raises(KeypointSetError, match="has no keypoint_info"):
        keypoint_set_from_dataset_info({"dataset_name": "x"})
