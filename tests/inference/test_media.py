import json

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib import create_model
from cgalib.inference import MediaItem, drawing_name, iter_media, predict_media


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("cganet_tnet_d1w16", input_size=128)


def _img(path, size=(40, 56), seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (*size, 3), np.uint8)).save(path)


def _gif(path, values=(0, 128, 255)):
    frames = [Image.fromarray(np.full((16, 24, 3), v, np.uint8)) for v in values]
    frames[0].save(path, save_all=True, append_images=frames[1:])


def test_iter_media_reads_files_folders_and_gif_frames(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _img(folder / "b.png")
    _img(folder / "a.jpg")
    (folder / "notes.txt").write_text("skip me")
    _gif(tmp_path / "clip.gif")
    _img(tmp_path / "single.png")
    with pytest.warns(UserWarning, match=r"imgs: 1 entry not predicted: 1 file not read .*notes"):
        items = list(iter_media([folder, tmp_path / "clip.gif", tmp_path / "single.png"]))
    assert all(isinstance(i, MediaItem) for i in items)
    assert [(i.name, i.frame) for i in items] == [
        ("imgs/a.jpg", None),
        ("imgs/b.png", None),
        ("clip.gif", 0),
        ("clip.gif", 1),
        ("clip.gif", 2),
        ("single.png", None),
    ]
    assert [int(i.image[0, 0, 0]) for i in items[2:5]] == [0, 128, 255]
    with pytest.raises(FileNotFoundError):
        list(iter_media([tmp_path / "missing.jpg"]))
    with pytest.raises(ValueError, match="not an image"):
        list(iter_media([folder / "notes.txt"]))


def test_names_are_relative_to_the_common_folder_and_files_given_twice_run_once(tmp_path):
    (tmp_path / "a").mkdir()
    _img(tmp_path / "a" / "x.png")
    names = [i.name for i in iter_media([tmp_path / "a" / "x.png", tmp_path / "a"])]
    assert names == ["x.png"]
    assert [i.name for i in iter_media(str(tmp_path / "a"))] == ["x.png"]  # one path alone


def test_iter_media_reports_bad_inputs_to_on_error_and_goes_on(tmp_path):
    _img(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    errors = []
    names = [
        i.name
        for i in iter_media(
            [tmp_path / "bad.jpg", tmp_path / "gone.png", tmp_path / "good.png"],
            on_error=lambda source, err: errors.append((source, type(err))),
        )
    ]
    assert names == ["good.png"]
    assert errors == [(str(tmp_path / "gone.png"), FileNotFoundError), ("bad.jpg", ValueError)]


def test_drawing_names():
    assert drawing_name("good.jpg") != drawing_name("good.png")
    assert drawing_name("clip.mp4", 3) == "clip.mp4_000003.png"


def test_a_video_file_is_sent_to_predict_video(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\0")
    errors = []
    items = list(iter_media([tmp_path / "clip.mp4"], on_error=lambda s, e: errors.append(str(e))))
    assert items == [] and len(errors) == 1
    assert "is a video: predict it with cgalib.video.predict_video" in errors[0]


def test_predict_media_writes_results_and_pictures(model, tmp_path):
    _img(tmp_path / "x.png")
    out = tmp_path / "out"
    report = predict_media(model, [tmp_path / "x.png"], out, input_size=128, device="cpu",
                           score_threshold=0)  # fmt: skip
    results = json.loads(report.results.read_text())
    assert report.images == 1 and report.people == len(results) == 20 and report.skipped == ()
    assert results[0]["file_name"] == "x.png" and "frame" not in results[0]
    assert len(results[0]["keypoints"]) == 51
    with Image.open(out / "x.png.png") as rendered:
        assert rendered.size == (56, 40)


def test_predict_media_tags_video_frames(model, tmp_path):
    _gif(tmp_path / "clip.gif", (10, 200))
    report = predict_media(model, [tmp_path / "clip.gif"], tmp_path / "out", input_size=128,
                           score_threshold=0)  # fmt: skip
    results = json.loads(report.results.read_text())
    assert {(r["file_name"], r["frame"]) for r in results} == {("clip.gif", 0), ("clip.gif", 1)}
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
        "clip.gif_000000.png",
        "clip.gif_000001.png",
    ]


def test_predict_media_needs_inputs(model, tmp_path):
    with pytest.raises(ValueError, match="at least one input"):
        predict_media(model, [], tmp_path / "out")


def test_folder_entries_that_are_not_pictures_are_counted_in_one_warning(tmp_path):
    _img(tmp_path / "a.png")
    _gif(tmp_path / "b.gif")
    for name in ("c.mp4", "d.heic", ".hidden.png", "e.jpg.png"):
        (tmp_path / name).write_bytes(b"\0")
    (tmp_path / "sub").mkdir()
    with pytest.warns(UserWarning, match=r": 5 entries not predicted: 1 video .*1 file not read"
                                         r".*1 subfolder .*1 hidden file .*1 output of an "
                                         r"earlier run \(e\.jpg\.png"):  # fmt: skip
        names = [(i.name, i.frame) for i in iter_media([tmp_path], out_dir=tmp_path)]
    assert names == [("a.png", None), ("b.gif", 0), ("b.gif", 1), ("b.gif", 2)]
    # the run's own output folder inside the input folder is not a subfolder to mention
    (tmp_path / "e.jpg.png").unlink()
    with pytest.warns(UserWarning) as caught:
        list(iter_media([tmp_path], out_dir=tmp_path / "sub"))
    assert "subfolder" not in str(caught[0].message)


def test_animated_png_frames_are_named_like_gif_frames(tmp_path):
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 255)]
    frames[0].save(tmp_path / "a.png", save_all=True, append_images=frames[1:])
    _img(tmp_path / "still.png")
    assert [(i.name, i.frame) for i in iter_media([tmp_path])] == [
        ("a.png", 0), ("a.png", 1), ("still.png", None)]  # fmt: skip


def test_a_model_that_fails_on_the_first_three_pictures_stops_the_run(tmp_path):
    from helpers import StandInModel

    class Broken(StandInModel):
        def predict_batch(self, images):
            raise RuntimeError("shapes do not match")

    for i in range(5):
        _img(tmp_path / f"{i}.png", seed=i)
    with pytest.warns(UserWarning) as caught, pytest.raises(
        RuntimeError, match=r"failed on each of the first 3 pictures .*\(the last: 2\.png"
    ):
        predict_media(Broken(), [tmp_path], tmp_path / "out", render=False)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and all(
        m.startswith(f"skipped {i}.png: RuntimeError while predicting it")
        for i, m in enumerate(messages)
    )


def test_drawings_are_bounded_and_written_whole(tmp_path, monkeypatch):
    import cgalib.inference.media as media

    monkeypatch.setattr(media, "MAX_DRAWING_SIDE", 32)
    _img(tmp_path / "x.png", size=(40, 56))
    predict_media(BrightestPixelModel(), [tmp_path / "x.png"], tmp_path / "out")
    with Image.open(tmp_path / "out" / "x.png.png") as drawing:
        assert drawing.size == (32, 23)
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


class BrightestPixelModel:
    """Built lazily: the stand-in of the robustness tests."""

    def __new__(cls):
        from robustness.io_helpers import BrightestPixel

        return BrightestPixel()
