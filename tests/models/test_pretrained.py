"""The checkpoint shipped with cgalib loads by name and scores what the docs say."""

import re
from pathlib import Path

import pytest

from cgalib import load_model
from cgalib.data import find_split, make_synthetic_coco
from cgalib.eval import evaluate_coco
from cgalib.models.pretrained import HELD_OUT, list_pretrained, pretrained_info, pretrained_path
from cgalib.registry import build_name
from cgalib.utils import block_content

from helpers import load_script

NAME = "cganet_tnet_d1w16.synthetic"
REPO = Path(__file__).resolve().parents[2]


def test_loads_by_name_as_the_demo_model():
    model = load_model(NAME)
    assert not model.needs_boxes and model.input_rule.side == 192
    assert build_name(model) == "cganet_tnet_d1w16"
    assert pretrained_path(NAME).stat().st_size < 20 * 2**20  # a few MB of package data


def test_scores_the_ap_stated_in_its_json_and_the_docs(tmp_path):
    make_synthetic_coco(tmp_path, **HELD_OUT)  # a seed training never used
    metrics, _ = evaluate_coco(load_model(NAME), *find_split(tmp_path, "val"), input_size=192,
                               device="cpu", progress=False)  # fmt: skip
    stated = pretrained_info(NAME)["metrics"]
    assert metrics["AP"] == pytest.approx(stated["AP"], abs=0.01)
    assert metrics["AP50"] == pytest.approx(stated["AP50"], abs=0.01)
    for page in (REPO / "README.md", REPO / "docs" / "quickstart.md"):
        (ap,) = re.findall(rf"`{re.escape(NAME)}` scores \*\*([0-9.]+) keypoint AP", page.read_text())
        assert float(ap) == pytest.approx(stated["AP"], abs=5e-4)
    assert stated["AP"] > 0.2  # a trained model, not noise


def test_the_quickstart_holds_the_unseen_seed_table_of_its_json():
    """The scale table (unseen seeds at 192 and 384 px, the evaluation's default input and
    fixed ones) is the one the JSON records, and the default is the picture's own side."""
    script = load_script(REPO / "docs" / "scripts" / "shipped_checkpoint.py")
    rows = pretrained_info(NAME)["unseen"]
    page = (REPO / "docs" / "quickstart.md").read_text()
    assert script._scales_table(rows) in block_content(page, "shipped-scales")
    assert {(r["seed"], r["size"]) for r in rows} == {(s, z) for s in (11, 12) for z in (192, 384)}
    for r in rows:  # the pictures are fed at their own side: 192 and 384 are within the range
        assert r["default"] == r[str(r["size"])]


def test_unknown_names_list_the_shipped_ones():
    with pytest.raises(KeyError, match=r"no shipped checkpoint 'cganet_tnet_d1w64.coco'; shipped: "):
        pretrained_path("cganet_tnet_d1w64.coco")
    assert NAME in list_pretrained()


def test_the_shipped_weights_say_they_know_synthetic_people_only(tmp_path):
    from cgalib import create_model, save_model
    from cgalib.data import SYNTHETIC_DESCRIPTION
    from cgalib.models import trained_on

    for name in list_pretrained():
        assert trained_on(name) == SYNTHETIC_DESCRIPTION
    model = create_model("cganet_tnet_d1w16", input_size=64)
    save_model(model, tmp_path / "plain.pt")
    assert trained_on(tmp_path / "plain.pt") is None  # a file that records nothing
    save_model(model, tmp_path / "coco.pt", trained_on="COCO 2017 train")
    assert trained_on(tmp_path / "coco.pt") == "COCO 2017 train"
