import json

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib import create_model
from cgalib.inference.media import iter_media, predict_media


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("cganet_tnet_d1w16", input_size=128)


def _img(path, size=(40, 56), seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (*size, 3), np.uint8)).save(path)


def test_iter_media_reads_files_folders_and_gif_frames(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _img(folder / "b.png")
    _img(folder / "a.jpg")
    (folder / "notes.txt").write_text("skip me")
    frames = [Image.fromarray(np.full((16, 24, 3), v, np.uint8)) for v in (0, 128, 255)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:])
    _img(tmp_path / "single.png")
    names = [n for n, _ in iter_media([folder, tmp_path / "clip.gif", tmp_path / "single.png"])]
    assert names[:2] == ["a.jpg", "b.png"]
    assert names[2:5] == ["clip_000000.png", "clip_000001.png", "clip_000002.png"]
    assert names[5] == "single.png"
    with pytest.raises(FileNotFoundError):
        list(iter_media([tmp_path / "missing.jpg"]))
    with pytest.raises(ValueError, match="not an image"):
        list(iter_media([folder / "notes.txt"]))


def test_predict_media_writes_results_and_pictures(model, tmp_path):
    _img(tmp_path / "x.png")
    out = tmp_path / "out"
    path = predict_media(model, [tmp_path / "x.png"], out, input_size=128, device="cpu")
    results = json.loads(path.read_text())
    assert len(results) == 20 and results[0]["file_name"] == "x.png"
    assert len(results[0]["keypoints"]) == 51
    rendered = Image.open(out / "x.png")
    assert rendered.size == (56, 40)
