"""Prediction output: bad inputs among good ones, name collisions, interrupted runs."""

import json
import warnings
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
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


def _frames(values=(0, 128, 255), size=(16, 24)) -> list[Image.Image]:
    return [Image.fromarray(np.full((*size, 3), v, np.uint8)) for v in values]


@pytest.mark.parametrize("suffix", [".webp", ".png"])
def test_animated_webp_and_apng(tmp_path, suffix):
    """An animated WebP or an animated PNG (APNG) of three frames, given by name or in a
    folder.

    Every frame is predicted, as for a GIF: results carry the file name and the frame
    index, drawings are named <file>_<frame>.png; not the first frame alone."""
    frames = _frames()
    frames[0].save(tmp_path / f"clip{suffix}", save_all=True, append_images=frames[1:],
                   lossless=True)  # fmt: skip
    report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out")
    assert report.images == 3
    assert [(r["file_name"], r["frame"]) for r in _results(report)] == [
        (f"clip{suffix}", i) for i in range(3)
    ]
    assert (tmp_path / "out" / f"clip{suffix}_000002.png").is_file()


def test_multi_page_tiff(tmp_path):
    """A multi-page TIFF (a scanner's or a microscope's stack of three pages).

    Every page is predicted as a frame of the file (results with a frame index, like a
    GIF's), not the first page alone."""
    frames = _frames()
    frames[0].save(tmp_path / "scan.tif", save_all=True, append_images=frames[1:])
    report = predict_media(BrightestPixel(), [tmp_path / "scan.tif"], tmp_path / "out",
                           render=False)  # fmt: skip
    assert [r["frame"] for r in _results(report)] == [0, 1, 2]


def test_folder_with_files_it_does_not_predict(tmp_path):
    """A phone's photo folder: a JPEG, an iPhone HEIC photo, an MP4 video, an animated GIF
    and a subfolder of older photos.

    The JPEG and every frame of the GIF are predicted; one warning lists the rest with
    counts (1 video: predict it by name; 1 file not read as a picture, .heic; 1
    subfolder, not searched), and the report counts them; nothing is skipped without a
    word."""
    write_image(tmp_path / "a.jpg")
    write_gif(tmp_path / "b.gif")
    (tmp_path / "c.heic").write_bytes(b"\0\0\0\x18ftypheic")
    (tmp_path / "d.mp4").write_bytes(b"\0\0\0\x18ftypisom")
    (tmp_path / "older").mkdir()
    with pytest.warns(UserWarning) as caught:
        report = predict_media(BrightestPixel(), [tmp_path], tmp_path.parent / "out",
                               render=False)  # fmt: skip
    assert report.images == 1 + 3
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"{tmp_path}: 3 entries not predicted: ")
    assert "1 video (d.mp4; predict videos by name" in message
    assert "1 file not read as a picture (c.heic; convert HEIC photos to JPEG" in message
    assert "1 subfolder (older; folders are not searched" in message
    assert len(report.ignored) == 3


def test_folder_copied_from_a_mac(tmp_path):
    """A folder copied from a Mac to a USB stick: beside IMG_0001.jpg lie the AppleDouble
    file ._IMG_0001.jpg (4 KB of metadata with a .jpg suffix) and .DS_Store.

    Hidden files (names starting with a dot) are not read as pictures: one warning counts
    them (2 hidden files) instead of a "cannot read image" warning each; the photo is
    predicted."""
    write_image(tmp_path / "IMG_0001.jpg")
    (tmp_path / "._IMG_0001.jpg").write_bytes(b"\x00\x05\x16\x07" + b"\0" * 4000)
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    with pytest.warns(UserWarning) as caught:
        report = predict_media(BrightestPixel(), [tmp_path], tmp_path.parent / "out",
                               render=False)  # fmt: skip
    assert report.images == 1 and report.skipped == ()
    (message,) = [str(w.message) for w in caught]
    assert "2 hidden files (.DS_Store, ._IMG_0001.jpg)" in message


def test_output_folder_is_the_input_folder_run_twice(tmp_path):
    """`cgalib predict photos/ --out photos/` run twice.

    The second run does not predict the first run's drawings (photos/a.jpg.png) nor read
    results.json: files in the output folder named as cgalib's outputs are left out with
    one counted warning; the photo is predicted again, once."""
    write_image(tmp_path / "a.jpg")
    predict_media(BrightestPixel(), [tmp_path], tmp_path)
    assert (tmp_path / "a.jpg.png").is_file()
    model = BrightestPixel()
    with pytest.warns(UserWarning, match=r"2 outputs of an earlier run \(a\.jpg\.png, results"):
        report = predict_media(model, [tmp_path], tmp_path)
    assert model.seen == 1 and report.images == 1
    assert [r["file_name"] for r in _results(report)] == ["a.jpg"]


def test_predictor_leaves_the_model_in_training_mode():
    """A model in the middle of training (model.train()) given to Predictor for a quick
    look at its predictions.

    After predict the model is in training mode again, each submodule as it was (a frozen
    batch-norm layer left in eval mode stays so): predicting never changes how the
    caller's training goes on."""
    model = BrightestPixel()
    model.train()
    frozen = torch.nn.BatchNorm2d(3).eval()
    model.frozen = frozen
    predictor = Predictor(model, device="cpu", input_size=64)
    predictor.predict(np.zeros((8, 8, 3), np.uint8))
    assert model.training and not frozen.training


def test_half_precision_model():
    """A model converted with model.half() given to the Predictor.

    One ValueError says the weights are float16, to pass a float32 model (model.float())
    and precision="fp16" for half-precision arithmetic; not a dtype error from inside a
    convolution."""
    from cgalib import create_model

    model = create_model("cganet_tnet_d1w16", input_size=64).half()
    with pytest.raises(ValueError, match=r"of CGANet are torch\.float16.*model\.float\(\).*fp16"):
        Predictor(model, device="cpu")


class _Signals(BrightestPixel):
    """Sends its own process ``signum`` while predicting image ``at`` (1-based)."""

    def __init__(self, signum, at=2):
        super().__init__()
        self.signum, self.at = signum, at

    def person(self, image):
        out = super().person(image)
        if self.seen == self.at:
            import os

            os.kill(os.getpid(), self.signum)
        return out


@pytest.mark.usefixtures("default_stop_signals")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_signal_during_a_folder_run(tmp_path, name):
    """SIGTERM (timeout, kill, Docker, Slurm) or SIGINT (Ctrl-C) while the second of four
    photos is predicted.

    The picture in progress is finished and drawn, results.json is written with the two
    pictures, then cgalib.utils.Interrupted is raised with the shell's exit status
    (128 + the signal: 143, 130), its message saying what was kept."""
    import signal

    from cgalib.utils import Interrupted

    for i in range(4):
        write_image(tmp_path / f"{i}.png", seed=i)
    signum = getattr(signal, name)
    model = _Signals(signum)
    with pytest.raises(Interrupted, match=rf"stopped by {name}; .*2 picture") as err:
        predict_media(model, [tmp_path], tmp_path / "out")
    assert err.value.exit_status == 128 + signum and model.seen == 2
    assert {r["file_name"] for r in json.loads((tmp_path / "out" / "results.json").read_text())} \
        == {"0.png", "1.png"}  # fmt: skip
    assert (tmp_path / "out" / "1.png.png").is_file()
    assert signal.getsignal(signum) is not None  # the caller's handler is back


class _FailsOn(BrightestPixel):
    def __init__(self, error, at=2):
        super().__init__()
        self.error, self.at = error, at

    def person(self, image):
        if self.seen + 1 == self.at:
            self.seen += 1
            raise self.error
        return super().person(image)


def test_one_picture_runs_out_of_memory(tmp_path):
    """A folder of three photos where the second exhausts the memory (a 48-megapixel
    photo under a container's limit: MemoryError).

    That photo is skipped with one warning naming it and the error, counted in the
    report; the third is still predicted and results.json holds the other two."""
    for i in range(3):
        write_image(tmp_path / f"{i}.jpg", seed=i)
    with pytest.warns(UserWarning, match=r"^skipped 1\.jpg: out of memory"):
        report = predict_media(_FailsOn(MemoryError()), [tmp_path], tmp_path / "out")
    assert report.images == 2 and [s for s, _ in report.skipped] == ["1.jpg"]
    assert [r["file_name"] for r in _results(report)] == ["0.jpg", "2.jpg"]


def test_large_photo_is_drawn_at_a_bounded_size(tmp_path, monkeypatch):
    """A photo larger than the drawing limit (a 48-megapixel photo; here 300 x 200 with
    the limit lowered to 150).

    The drawing's longer side is the limit (150 x 100) and the people are drawn at their
    scaled places; results.json keeps the photo's own pixels."""
    import cgalib.inference.media as media

    monkeypatch.setattr(media, "MAX_DRAWING_SIDE", 150)
    photo = np.zeros((200, 300, 3), np.uint8)
    photo[150:160, 240:250] = 255  # the brightest spot, where the stand-in puts everyone
    Image.fromarray(photo).save(tmp_path / "big.png")
    report = predict_media(BrightestPixel(), [tmp_path / "big.png"], tmp_path / "out")
    (person,) = _results(report)
    assert 240 <= person["keypoints"][0] < 250 and 150 <= person["keypoints"][1] < 160
    with Image.open(tmp_path / "out" / "big.png.png") as drawing:
        assert drawing.size == (150, 100)


def test_output_folder_cannot_be_written(tmp_path):
    """--out points below a file (a typo: out.json/preds), so the folder cannot be made.

    predict_media stops before predicting anything with one OSError naming the folder
    and the reason, instead of failing after the first picture."""
    from cgalib.utils.outputs import OutputError

    write_image(tmp_path / "a.jpg")
    (tmp_path / "out.json").write_text("{}")
    model = BrightestPixel()
    with pytest.raises(OutputError, match=r"cannot write to output folder .*out\.json/preds"):
        predict_media(model, [tmp_path / "a.jpg"], tmp_path / "out.json" / "preds")
    assert model.seen == 0


def test_disk_full_while_drawing(tmp_path, monkeypatch):
    """The disk fills up while the drawing of the second photo is saved.

    No 0-byte or partial drawing is left; one warning names the drawing and says no space
    is left on the device, the other photos are still predicted and drawn, and results.json
    (written when space allows) holds every photo's people."""
    import errno

    import matplotlib.figure

    for i in range(3):
        write_image(tmp_path / f"{i}.jpg", seed=i)
    real = matplotlib.figure.Figure.savefig
    calls = []

    def savefig(self, fname, *args, **kwargs):
        calls.append(fname)
        if len(calls) == 2:  # what had fitted before the disk filled, then the error
            if hasattr(fname, "write"):
                fname.write(b"\x89PNG partial")
            else:
                Path(fname).write_bytes(b"")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match=r"1\.jpg: not drawn .*no space left on the device"):
        report = predict_media(BrightestPixel(), [tmp_path], out)
    assert report.images == 3
    assert sorted(p.name for p in out.iterdir()) == ["0.jpg.png", "2.jpg.png", "results.json"]
    names = {r["file_name"] for r in json.loads((out / "results.json").read_text())}
    assert sorted(names) == ["0.jpg", "1.jpg", "2.jpg"]


def test_thin_panorama_strip(tmp_path):
    """A panorama strip 4000 pixels wide and 3 high (a stitched scan line).

    It is predicted and drawn (a drawing of the limit's width and at least one pixel
    high), not a matplotlib error about a zero-size figure."""
    write_image(tmp_path / "strip.png", size=(3, 4000))
    report = predict_media(BrightestPixel(), [tmp_path / "strip.png"], tmp_path / "out")
    assert report.images == 1
    with Image.open(tmp_path / "out" / "strip.png.png") as drawing:
        assert drawing.size[0] == 2048 and drawing.size[1] >= 1


_DEFECTS = ["good", "truncated", "empty", "text", "wrong_suffix", "gif_cut", "gone"]


def _write_defect(path, defect, seed):
    if defect == "good":
        write_image(path.with_suffix(".png"), seed=seed)
    elif defect == "truncated":
        write_truncated_jpeg(path.with_suffix(".jpg"))
    elif defect == "empty":
        path.with_suffix(".png").write_bytes(b"")
    elif defect == "text":
        path.with_suffix(".jpg").write_text("<html>404 Not Found</html>")
    elif defect == "wrong_suffix":  # a PNG named .jpg reads by its content
        write_image(path.with_suffix(".jpg"), seed=seed, format="PNG")
    elif defect == "gif_cut":
        write_gif(path.with_suffix(".gif"), cut=400)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(defects=st.lists(st.sampled_from(_DEFECTS), min_size=1, max_size=5))
def test_random_defects_in_a_folder_run(tmp_path_factory, defects):
    """Folders of up to five files with random defects (good, truncated, empty, an HTML
    error page saved as .jpg, a PNG named .jpg, a GIF cut inside a frame) and missing
    paths among the inputs.

    Every input is accounted for: predicted (a PNG named .jpg reads by its content), or
    skipped with one warning naming it and counted in the report; the run never stops
    on one file and never drops one without a word."""
    folder = tmp_path_factory.mktemp("defects")
    inputs = [folder]
    for i, defect in enumerate(defects):
        if defect == "gone":
            inputs.append(folder / f"gone{i}.jpg")
        else:
            _write_defect(folder / f"{i}", defect, i)
    readable = sum(d in ("good", "wrong_suffix") for d in defects)
    gif = defects.count("gif_cut")
    bad = sum(d in ("truncated", "empty", "text", "gone", "gif_cut") for d in defects)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            report = predict_media(BrightestPixel(), inputs, folder / "out", render=False)
        except ValueError as err:
            assert readable == 0 and gif == 0 and "none of the inputs could be read" in str(err)
            return
    assert report.images == readable + 2 * gif and len(report.skipped) == bad
    assert len([w for w in caught if str(w.message).startswith("skipped ")]) == bad


def test_phone_jpeg_holding_a_preview_image(tmp_path):
    """A phone or 3D-camera JPEG stored as MPO (multi-picture): the photo, then a small
    preview (or depth) image in the same file.

    It is one picture, the photo: predicted once, without a frame index, its drawing
    named as a still photo's; the preview is not a second frame."""
    photo = Image.fromarray(np.full((30, 40, 3), 200, np.uint8))
    preview = Image.fromarray(np.full((15, 20, 3), 10, np.uint8))
    photo.save(tmp_path / "IMG_0002.jpg", format="MPO", save_all=True, append_images=[preview])
    report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out")
    assert report.images == 1 and "frame" not in _results(report)[0]
    assert (tmp_path / "out" / "IMG_0002.jpg.png").is_file()


def test_a_decoder_fails_oddly_on_one_file(tmp_path, monkeypatch):
    """A folder where reading one crafted file makes the decoder fail with an unexpected
    exception (here a ZeroDivisionError) or run out of memory.

    That file is skipped with one warning naming it and the error; the other files are
    predicted."""
    import cgalib.inference.media as media

    for i in range(3):
        write_image(tmp_path / f"{i}.png", seed=i)
    real = media.read_image

    def read_image(path):
        if path.name == "1.png":
            raise ZeroDivisionError("division by zero")
        return real(path)

    monkeypatch.setattr(media, "read_image", read_image)
    with pytest.warns(UserWarning, match=r"skipped 1\.png: cannot read image .*ZeroDivisionError"):
        report = predict_media(BrightestPixel(), [tmp_path], tmp_path / "out", render=False)
    assert report.images == 2
