"""Prediction output: bad inputs among good ones, name collisions, interrupted runs."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib import Predictor
from cgalib.inference import predict_media
from robustness.io_helpers import (
    BrightestPixel,
    write_gif,
    write_image,
    write_sideways_photo,
    write_truncated_jpeg,
)


def _results(report) -> list[dict]:
    return json.loads(report.results.read_text())


def test_same_file_name_in_two_folders(tmp_path):
    """Two inputs with the same file name, a/photo.jpg and b/photo.jpg.

    Results keep the paths relative to the inputs' common folder (a/photo.jpg,
    b/photo.jpg) and the drawings mirror them (a/photo.jpg.png, b/photo.jpg.png)."""
    for folder, seed in (("a", 0), ("b", 1)):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "photo.jpg", seed=seed)
    out = tmp_path / "out"
    report = predict_media(
        BrightestPixel(), [tmp_path / "a" / "photo.jpg", tmp_path / "b" / "photo.jpg"], out
    )
    assert [r["file_name"] for r in _results(report)] == ["a/photo.jpg", "b/photo.jpg"]
    assert (out / "a" / "photo.jpg.png").is_file() and (out / "b" / "photo.jpg.png").is_file()


def test_same_stem_with_two_suffixes(tmp_path):
    """Two pictures good.jpg and good.png in one folder.

    Each keeps its own drawing (good.jpg.png and good.png.png) and its own results."""
    write_image(tmp_path / "good.jpg", seed=0)
    write_image(tmp_path / "good.png", seed=1)
    report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out")
    assert [r["file_name"] for r in _results(report)] == ["good.jpg", "good.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "good.jpg.png",
        "good.png.png",
        "results.json",
    ]


def test_truncated_jpeg_in_a_folder(tmp_path):
    """A folder where one JPEG of three is truncated.

    It is skipped with one warning naming it and the reason; the other two are predicted,
    results.json holds them and the report lists the skipped file."""
    write_image(tmp_path / "1.jpg", seed=1)
    write_truncated_jpeg(tmp_path / "2.jpg")
    write_image(tmp_path / "3.jpg", seed=3)
    with pytest.warns(UserWarning, match=r"^skipped 2\.jpg: cannot read image .*truncated"):
        report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out", render=False)
    assert report.images == 2 and [s for s, _ in report.skipped] == ["2.jpg"]
    assert [r["file_name"] for r in _results(report)] == ["1.jpg", "3.jpg"]


def test_missing_and_unknown_inputs_among_good_ones(tmp_path):
    """A missing path, a text file and an empty folder given with one good image.

    Each is skipped with one warning (input not found, not an image or video file, holds
    no image files) and the good image is still predicted."""
    write_image(tmp_path / "ok.png")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    inputs = [
        tmp_path / "gone.jpg",
        tmp_path / "notes.txt",
        tmp_path / "empty",
        tmp_path / "ok.png",
    ]
    with pytest.warns(UserWarning) as caught:
        report = predict_media(BrightestPixel(), inputs, tmp_path / "out", render=False)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3 and all(m.startswith("skipped ") for m in messages)
    assert "input not found" in messages[0] and "not an image" in messages[1]
    assert "holds no image files" in messages[2]
    assert report.images == 1 and len(report.skipped) == 3


def test_nothing_readable(tmp_path):
    """Every input unreadable (one truncated JPEG, one missing file).

    predict_media raises one ValueError saying none could be read and listing them, and
    writes no results.json."""
    write_truncated_jpeg(tmp_path / "cut.jpg")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"none of the inputs could"):
        predict_media(
            BrightestPixel(), [tmp_path / "cut.jpg", tmp_path / "gone.jpg"], tmp_path / "o"
        )
    assert not (tmp_path / "o" / "results.json").exists()


def test_strict_stops_at_the_first_bad_input(tmp_path):
    """A truncated JPEG after a good one, with strict=True.

    It raises the file's ValueError, saying the picture before it is saved; results.json
    holds that picture and the image after the bad one never runs."""
    write_image(tmp_path / "1.jpg")
    write_truncated_jpeg(tmp_path / "2.jpg")
    write_image(tmp_path / "3.jpg")
    model = BrightestPixel()
    with pytest.raises(ValueError, match=r"2\.jpg.*strict: stopped; the 1 picture\(s\) before"):
        predict_media(model, [tmp_path], tmp_path / "out", render=False, strict=True)
    assert model.seen == 1
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["file_name"] for r in results} == {"1.jpg"}


class _FailsOnThird(BrightestPixel):
    def person(self, image):
        if self.seen == 2:
            raise KeyboardInterrupt
        return super().person(image)


def test_interrupted_run_keeps_what_was_predicted(tmp_path):
    """A run interrupted (Ctrl-C) on the third of four images.

    results.json is still written, atomically, with the two images predicted before."""
    for i in range(4):
        write_image(tmp_path / f"{i}.png", seed=i)
    with pytest.raises(KeyboardInterrupt):
        predict_media(_FailsOnThird(), [tmp_path], tmp_path / "out", render=False)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["file_name"] for r in results} == {"0.png", "1.png"}


def test_gif_cut_between_frames(tmp_path):
    """An animated GIF of three frames cut where its third frame begins, which PIL alone
    reads as a complete two-frame GIF.

    Both frames are predicted and written (each result has its frame index), then one
    warning says the GIF is truncated (no GIF trailer) after 2 frames."""
    write_gif(tmp_path / "clip.gif", cut=1234)
    with pytest.warns(UserWarning, match=r"skipped clip\.gif: .*truncated \(no GIF trailer\): 2"):
        report = predict_media(BrightestPixel(), [tmp_path / "clip.gif"], tmp_path / "out")
    assert {(r["file_name"], r["frame"]) for r in _results(report)} == {
        ("clip.gif", 0),
        ("clip.gif", 1),
    }
    assert report.images == 2 and len(report.skipped) == 1


def test_gif_cut_inside_a_frame(tmp_path):
    """An animated GIF of three frames cut in the middle of its third frame.

    The first two frames are predicted; one warning names frame 2 as unreadable and says
    2 frames were read before it."""
    write_gif(tmp_path / "clip.gif", cut=400)
    with pytest.warns(UserWarning, match=r"cannot read frame 2 of .*; 2 frame\(s\) read before"):
        report = predict_media(
            BrightestPixel(), [tmp_path / "clip.gif"], tmp_path / "o", render=False
        )
    assert report.images == 2


def test_huge_image_in_a_folder(tmp_path, monkeypatch):
    """A folder holding one image over PIL's decompression-bomb limit among normal ones.

    The huge one is skipped with a warning naming it and the limit; the others run."""
    write_image(tmp_path / "a.png", size=(8, 8))
    write_image(tmp_path / "huge.png", size=(40, 40))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.warns(UserWarning, match=r"skipped huge\.png: .*MAX_IMAGE_PIXELS"):
        report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out", render=False)
    assert report.images == 1


def test_same_file_given_twice(tmp_path):
    """One image given twice, once by name and once through its folder.

    It is predicted once."""
    write_image(tmp_path / "x.png")
    report = predict_media(
        BrightestPixel(), [tmp_path / "x.png", tmp_path], tmp_path / "o", render=False
    )
    assert report.images == 1


def test_exif_rotated_photo_coordinates(tmp_path):
    """A portrait phone photo stored sideways (EXIF orientation 6) given to the Predictor.

    Results are in the pixels of the picture as displayed: the keypoint the stand-in model
    puts on the white corner block lands at the displayed top right (x near 35 of 40)."""
    path = write_sideways_photo(tmp_path / "portrait.jpg")
    (person,) = Predictor(BrightestPixel(), device="cpu", input_size=128).predict(path)
    x, y = person["keypoints"][:2]
    assert 29 <= x <= 39 and 0 <= y <= 10


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_cuda_predictor_without_cuda():
    """Predictor(model, device="cuda") on a machine without CUDA.

    It raises one ValueError saying CUDA is not available and to use 'cpu', not an
    AssertionError from inside PyTorch."""
    with pytest.raises(ValueError, match=r"device 'cuda' needs CUDA.*use 'cpu'"):
        Predictor(BrightestPixel(), device="cuda")


def test_empty_image_to_predict():
    """An empty image `(0, 0, 3)` in the list given to Predictor.predict.

    It raises a ValueError that starts with the input's index and says the image is
    empty, before the model runs on any image."""
    model = BrightestPixel()
    images = [np.zeros((8, 8, 3), np.uint8), np.zeros((0, 0, 3), np.uint8)]
    with pytest.raises(ValueError, match=r"^input 1: numpy uint8 image \(0, 0, 3\) is empty"):
        Predictor(model, device="cpu", input_size=64, batch_size=1).predict(images)
    assert model.seen == 0


def test_missing_file_at_the_end_of_a_long_list(tmp_path):
    """A list of image paths whose last file is missing.

    Predictor.predict raises FileNotFoundError naming the index and the file before the
    model runs on the others."""
    paths = [write_image(tmp_path / f"{i}.png", seed=i) for i in range(3)] + [tmp_path / "x.png"]
    model = BrightestPixel()
    with pytest.raises(FileNotFoundError, match=r"^input 3: image not found: .*x\.png"):
        Predictor(model, device="cpu", input_size=64, batch_size=1).predict(paths)
    assert model.seen == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"score_threshold": 50}, r"score_threshold must be in \[0, 1\], got 50"),
        ({"input_size": 500.0}, r"input_size must be one side or \(H, W\) in pixels, got 500.0"),
        ({"input_size": 500}, r"input_size 500x500: every side must be a positive multiple of 32"),
    ],
)
def test_predictor_settings_out_of_range(kwargs, message):
    """A Predictor built with batch_size=0, score_threshold=50 (a percentage), a float
    input_size or one that is not a multiple of 32.

    Construction raises one ValueError naming the argument, its value and the range."""
    with pytest.raises(ValueError, match=message):
        Predictor(BrightestPixel(), device="cpu", **kwargs)


def test_predictor_given_a_top_down_model_without_boxes():
    """`Predictor(create_model("topdown_tnet_d1w16")).predict(image)`: a top-down model, which needs person boxes, given neither boxes nor a detector.

    One line: the model needs person boxes; pass `detector=` (e.g. a CGANet) or `boxes=`."""
    from cgalib import create_model

    predictor = Predictor(create_model("topdown_tnet_d1w16"), device="cpu")
    with pytest.raises(ValueError, match=r"^TopDownPose needs person boxes: pass detector=.*"
                                         r"predict\(images, boxes=\.\.\.\)$"):  # fmt: skip
        predictor.predict(np.zeros((32, 32, 3), np.uint8))
