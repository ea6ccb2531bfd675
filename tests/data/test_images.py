"""The annotated-image contract: read_annotated_image (the image an annotation lists, upright
as displayed and checked against its annotated size) and the up-front check of every file
of a set (check_annotated_images)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib.data import images
from cgalib.data.images import (
    ImageFileError,
    ImageFilesReport,
    ImageWarning,
    check_annotated_images,
    image_file_problem,
    read_annotated_image,
)


def _write(path, height=30, width=40, orientation=None):
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:4, :4] = 255  # a marker in the stored top-left corner
    image = Image.fromarray(pixels)
    if orientation is None:
        image.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(path, exif=exif, quality=100)
    return path


def test_the_listed_file_as_a_uint8_rgb_tensor(tmp_path):
    _write(tmp_path / "a.png")
    image = read_annotated_image(tmp_path, {"file_name": "a.png", "height": 30, "width": 40})
    assert image.dtype == torch.uint8 and image.shape == (3, 30, 40)
    assert image[:, :4, :4].eq(255).all() and image[:, 4:].sum() == 0 and image[:, :, 4:].sum() == 0


def test_a_missing_annotated_size_is_not_checked(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "a.png", 12, 9)
    assert read_annotated_image(tmp_path, {"file_name": "sub/a.png"}).shape == (3, 12, 9)


def test_another_size_is_an_error_naming_the_file_and_both_sizes(tmp_path):
    path = _write(tmp_path / "a.png")
    with pytest.raises(ValueError) as err:
        read_annotated_image(tmp_path, {"file_name": "a.png", "height": 60, "width": 80})
    message = str(err.value)
    assert message.startswith(f"image {path} is 30x40 as displayed")
    assert message.endswith("but its annotation says 60x80")  # no hint: not a turn


def test_a_swapped_size_names_the_exif_turn(tmp_path):
    _write(tmp_path / "a.png")
    with pytest.raises(
        ValueError, match=r"says 40x30 \(swapped: if the file has an EXIF orientation"
    ):
        read_annotated_image(tmp_path, {"file_name": "a.png", "height": 40, "width": 30})


def test_an_exif_turn_is_applied_and_the_displayed_size_is_checked(tmp_path):
    _write(tmp_path / "turned.jpg", 30, 40, orientation=6)  # stored 30x40, shown turned right
    info = {"file_name": "turned.jpg", "height": 40, "width": 30}
    image = read_annotated_image(tmp_path, info)
    assert image.shape == (3, 40, 30)
    assert image[:, :4, -4:].float().mean() > 200  # the stored top-left is now top-right
    assert image[:, :4, :4].float().mean() < 50 and image[:, -4:, -4:].float().mean() < 50
    with pytest.raises(ValueError, match="is 40x30 as displayed .* says 30x40 \\(swapped"):
        read_annotated_image(tmp_path, {**info, "height": 30, "width": 40})


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_annotated_image(tmp_path, {"file_name": "nope.png", "height": 1, "width": 1})


# ------------------------------------------------------------------ the up-front check of a set


def _entries(*names, height=30, width=40):
    return [
        {"id": i, "file_name": n, "height": height, "width": width} for i, n in enumerate(names, 1)
    ]


def _encoded(fmt, height=30, width=40, seed=0):
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def test_a_clean_set_reads_headers_and_tails_only(tmp_path, monkeypatch):
    for i, fmt in enumerate(["JPEG", "PNG", "GIF", "WEBP", "BMP"]):
        (tmp_path / f"{i}.{fmt.lower()}").write_bytes(_encoded(fmt, seed=i))
    names = [f"{i}.{fmt.lower()}" for i, fmt in enumerate(["JPEG", "PNG", "GIF", "WEBP", "BMP"])]
    decoded = []
    monkeypatch.setattr(images, "_decode", lambda path: decoded.append(path))
    report = check_annotated_images(tmp_path, _entries(*names), "a.json")
    assert report == ImageFilesReport("a.json", tmp_path, 5, (), {}) and report.warnings() == ()
    assert decoded == []  # every format with an end marker or a length was complete


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_a_truncated_file_of_any_format_is_refused(tmp_path, fmt):
    data = _encoded(fmt)
    (tmp_path / "ok.img").write_bytes(_encoded(fmt, seed=1))
    (tmp_path / "cut.img").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageFileError) as err:
        check_annotated_images(tmp_path, _entries("ok.img", "cut.img"), "a.json")
    message = str(err.value)
    assert message.startswith("1 of 2 images listed in a.json cannot be used (")
    cut = f"image {tmp_path / 'cut.img'} "
    assert f"{cut}does not decode (" in message or f"{cut}is truncated (" in message
    assert ("(truncated: 1)" in message or "(damaged: 1)" in message) and "(id 2)" in message
    assert message.endswith("copy the files again, or remove their images from the annotation file")


def test_bytes_after_the_end_marker_are_decoded_once_and_accepted(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_encoded("JPEG") + b"SAMSUNG-TRAILER" * 100)
    (tmp_path / "b.jpg").write_bytes(_encoded("JPEG", seed=1) + b"\0" * 64)  # zero padding
    (tmp_path / "c.png").write_bytes(_encoded("PNG")[:-12])  # no IEND: PIL reads it
    assert check_annotated_images(tmp_path, _entries("a.jpg", "b.jpg", "c.png"), "s").images == 3
    assert read_annotated_image(tmp_path, _entries("c.png")[0]).shape == (3, 30, 40)


def test_each_problem_is_counted_and_named(tmp_path):
    (tmp_path / "ok.jpg").write_bytes(_encoded("JPEG"))
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "page.jpg").write_text("<!DOCTYPE html><html>Not Found</html>")
    (tmp_path / "cut.jpg").write_bytes(_encoded("JPEG")[:300])
    (tmp_path / "small.jpg").write_bytes(_encoded("JPEG", 15, 20))
    entries = _entries("ok.jpg", "empty.jpg", "page.jpg", "cut.jpg", "small.jpg")
    with pytest.raises(ImageFileError) as err:
        check_annotated_images(tmp_path, entries, "a.json")
    message = str(err.value)
    assert message.startswith(
        "4 of 5 images listed in a.json cannot be used (not an image PIL can open: 2, "
        "truncated: 1, size differs from the annotation: 1), e.g. image "
    )
    assert "empty.jpg is not an image PIL can open (an empty file) (id 2)" in message
    assert image_file_problem(tmp_path, entries[2]).endswith(
        "an HTML or XML page: a failed download saved in its place?)"
    )
    assert image_file_problem(tmp_path, entries[3]).startswith(
        "is truncated (a JPEG file cut short"
    )
    assert image_file_problem(tmp_path, entries[4]) == (
        "is 15x20 as displayed (EXIF orientation applied) but its annotation says 30x40"
    )
    assert image_file_problem(tmp_path, {"file_name": "nope.jpg"}) == "is missing"
    assert image_file_problem(tmp_path, {"file_name": "ok.jpg"}) is None  # no size: not checked


def test_the_displayed_size_is_read_from_the_header(tmp_path, monkeypatch):
    _write(tmp_path / "turned.jpg", 30, 40, orientation=6)  # stored 30x40, displayed 40x30
    monkeypatch.setattr(images, "_decode", lambda path: pytest.fail("decoded"))
    upright = _entries("turned.jpg", height=40, width=30)
    assert check_annotated_images(tmp_path, upright, "a.json").images == 1
    with pytest.raises(ImageFileError, match=r"is 40x30 as displayed .* says 30x40 \(swapped: if"):
        check_annotated_images(tmp_path, _entries("turned.jpg"), "a.json")


def test_a_resized_copy_of_the_folder_is_named(tmp_path):
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(_encoded("JPEG", 15, 20, seed=len(name) + ord(name[0])))
    with pytest.raises(
        ImageFileError, match=r"\(all 2 are 0.5 times their annotated size: a resized copy"
    ):
        check_annotated_images(tmp_path, _entries("a.jpg", "b.jpg"), "a.json")


def test_missing_files_come_first_with_their_likely_cause(tmp_path):
    (tmp_path / "cut.jpg").write_bytes(_encoded("JPEG")[:100])
    with pytest.raises(
        FileNotFoundError,
        match=r"^1 of 2 images listed in a.json are missing .*check the image folder$",
    ):
        check_annotated_images(tmp_path, _entries("cut.jpg", "gone.jpg"), "a.json")
    with pytest.raises(
        FileNotFoundError, match=r"hold '\\' \(Windows paths, e.g. 'x\\\\gone.jpg'\)"
    ):
        check_annotated_images(tmp_path, _entries("x\\gone.jpg"), "a.json")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.jpg").write_bytes(_encoded("JPEG"))
    with pytest.raises(
        FileNotFoundError, match=r"start with the image folder's name 'img/': give its parent"
    ):
        check_annotated_images(tmp_path / "img", _entries("img/a.jpg"), "a.json")


def test_files_with_the_same_bytes_are_warned_not_files_of_the_same_size(tmp_path):
    data = _encoded("PNG")
    for name in ("a.png", "b.png", "d.png"):
        (tmp_path / name).write_bytes(data)
    other = bytearray(data)
    other[100] ^= 1  # the same size, the same last 4 KiB, other bytes
    (tmp_path / "c.png").write_bytes(bytes(other))
    with pytest.warns(ImageWarning) as caught:
        report = check_annotated_images(
            tmp_path, _entries("a.png", "b.png", "c.png", "d.png"), "s.json"
        )
    assert report.repeated == ((1, 2, 4),) and report.num_repeated == 2 and len(caught) == 1
    assert str(caught[0].message).startswith(
        "s.json: 2 of 4 images repeat the bytes of another image under another name, e.g. "
        "b.png (image 2) is a.png (image 1); "
    )


def test_threads_find_what_one_thread_finds(tmp_path):
    names = []
    for i in range(300):
        data = _encoded("JPEG", 6, 8, seed=i)
        (tmp_path / f"{i}.jpg").write_bytes(data if i != 257 else data[:60])
        names.append(f"{i}.jpg")
    entries = _entries(*names, height=6, width=8)
    messages = set()
    for workers in (1, 4, None):
        with pytest.raises(ImageFileError) as err:
            check_annotated_images(tmp_path, entries, "a.json", workers=workers)
        messages.add(str(err.value))
    assert len(messages) == 1 and "257.jpg" in messages.pop()
