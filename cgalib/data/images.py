"""The images of an annotation file, checked up front and read the one way training,
evaluation and top-down crops share.

An image is read upright as displayed ([`read_image()`][cgalib.utils.read_image] applies the
EXIF orientation tag, as detectron2 and OpenCV-based loaders do), and its size must be the
``height`` and ``width`` its annotation gives: annotations describe the picture as
displayed. A file whose displayed size differs (a resized copy, a photo annotated on its
stored pixels before an EXIF turn) would put every person in the wrong place, so it is an
error naming the file, never a silent wrong target or an AP of zero. A half turn keeps the
size and cannot be detected.

**Up front, every image of a set** ([`check_annotated_images()`][check_annotated_images], run by
[`CocoKeypoints`][cgalib.data.CocoKeypoints] for training and top-down training and by
[`cgalib.eval.evaluate_coco()`][cgalib.eval.evaluate_coco] before the first prediction, through
[`check_image_files()`][cgalib.data.check_image_files]): each file must exist, open (its header),
have the annotated size as displayed (the EXIF orientation read from the header), and
be complete: a JPEG must end with its end marker ``FFD9``, a PNG with its ``IEND``
chunk, a GIF with its trailer, a WebP or BMP must be as long as its header says. Only
headers and the last 4 KiB are read; a file without the expected end (trailing bytes
after the marker, a format without one) is decoded once to decide. The rule for a file
that fails: the set is **refused** before the first step or prediction, with one line
naming the first file, its problem and the count of the others by problem, as a missing
file is, never skipped and never a DataLoader-worker traceback mid-epoch: a damaged
image is a data problem to fix once (copy the file again, or remove its entry), and
skipping it would change what is trained and scored without the user deciding it.
Files with the same bytes under two names (the same picture under two image ids) are
counted and warned ([`ImageWarning`][ImageWarning]): each copy's people are trained as the other
copy's background and scored twice. Compared cheaply: the full contents only of files of
the same size whose last 4 KiB match.

Not caught up front: damage in the middle of a file that keeps its end marker, and an
EXIF orientation stored after a PNG's pixel data; reading such a file still fails with
one line naming it ([`read_annotated_image()`][read_annotated_image]).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from PIL import Image, UnidentifiedImageError

from cgalib.utils.image import read_image

__all__ = [
    "ImageFileError",
    "ImageFilesReport",
    "ImageWarning",
    "check_annotated_images",
    "image_file_problem",
    "read_annotated_image",
]

_ORIENTATION = 0x0112
_TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_TAIL = 4096  # the bytes read from the end of each file
_PNG_END = b"IEND\xaeB`\x82"
_PROBLEMS = {
    "unreadable": "not an image PIL can open",
    "truncated": "truncated",
    "damaged": "damaged",
    "size": "size differs from the annotation",
}
"""The problems of an image file, in the order messages count them."""
_PARALLEL_FROM = 256  # sets of at least this many images are checked by a thread pool


class ImageFileError(ValueError):
    """Image files of an annotation set that cannot be used; the one-line message names the
    first file, its image id and problem, and counts the others."""


class ImageWarning(UserWarning):
    """Image files of a set that are used but look wrong (the same picture twice)."""


class _Inspection(NamedTuple):
    """What the up-front check found of one file."""

    problem: str | None  # a key of _PROBLEMS, "missing", or None
    detail: str  # the message's phrase, after the file's path
    size: int  # bytes
    tail: bytes  # a digest of the last _TAIL bytes
    shape: tuple[int, int] | None = None  # (H, W) as displayed, when a size problem


def _size_problem(
    displayed: tuple[int, int], info: Mapping
) -> tuple[tuple[float, float], str] | None:
    """``(annotated, phrase)`` when the displayed ``(H, W)`` differs from the entry's
    ``height``/``width``; ``None`` when they agree or the entry gives no size."""
    height, width = displayed
    annotated = (info.get("height", height), info.get("width", width))
    if annotated == (height, width):
        return None
    swapped = annotated == (width, height)
    return annotated, (
        f"is {height}x{width} as displayed (EXIF orientation applied) but its annotation "
        f"says {annotated[0]}x{annotated[1]}"
        + (
            " (swapped: if the file has an EXIF orientation tag, the annotation was made "
            "on the stored pixels; annotate the picture as displayed, or save it upright "
            "without the tag)"
            if swapped
            else ""
        )
    )


def _complete(fmt: str | None, head: bytes, tail: bytes, size: int) -> bool:
    """Whether a file ends as its format says (``False``: decode it to know)."""
    if fmt in ("JPEG", "MPO"):
        return tail.rstrip(b"\0").endswith(b"\xff\xd9")
    if fmt == "PNG":  # an eXIf chunk after the pixels may hold the orientation: decode
        return tail.endswith(_PNG_END) and b"eXIf" not in tail
    if fmt == "GIF":
        return tail.endswith(b";")
    if fmt == "WEBP":
        return size >= int.from_bytes(head[4:8], "little") + 8
    if fmt == "BMP":
        return size >= int.from_bytes(head[2:6], "little")
    return False


def _signature(head: bytes) -> str | None:
    """The format a file's first bytes announce, among those with a known end."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"BM"):
        return "BMP"
    return None


def _decode(path: Path) -> tuple[tuple[int, int] | None, str | None, str]:
    """Decode a file as [`read_image()`][cgalib.utils.read_image] does: ``(displayed (H, W),
    None, "")``, or ``(None, problem, phrase)``."""
    try:
        with Image.open(path) as img:
            img.load()
            width, height = img.size
            if img.getexif().get(_ORIENTATION, 1) in _TURNED:
                width, height = height, width
    except Image.DecompressionBombError as err:
        return None, "unreadable", f"is larger than PIL's decompression-bomb limit ({err})"
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError) as err:
        if "truncated" in str(err):
            return None, "truncated", f"is truncated (it does not decode: {err})"
        return None, "damaged", f"does not decode ({err})"
    return (height, width), None, ""


def _turned(img: Image.Image) -> bool | None:
    """Whether the header's EXIF orientation swaps width and height (``None``: an EXIF
    block the header check cannot read; decode the file to know)."""
    try:  # the base class's getexif: PNG's own decodes the whole image first
        return Image.Image.getexif(img).get(_ORIENTATION, 1) in _TURNED
    except Exception:  # noqa: BLE001 - any damage of the block: decode as read_image does
        return None


def _why(err: Exception, head: bytes, size: int) -> str:
    """Why a file's header does not open, for the message."""
    if size == 0:
        return "an empty file"
    start = head.lstrip().lower()
    if start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        return "it holds an HTML or XML page: a failed download saved in its place?"
    if start.startswith((b"{", b"[")):
        return "it holds JSON text: a failed download saved in its place?"
    if isinstance(err, UnidentifiedImageError):
        return "PIL cannot identify its format"
    return str(err)


def _inspect(path: Path, info: Mapping) -> _Inspection:
    """Check one file: it exists, its header opens, its displayed size is the annotated
    one, and it is complete (see the module docstring)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(16)
            f.seek(max(0, size - _TAIL))
            tail = f.read()
            f.seek(0)
            try:
                with Image.open(f) as img:
                    fmt = img.format
                    width, height = img.size
                    turned = _turned(img)
            except Image.DecompressionBombError as err:
                return _Inspection(
                    "unreadable",
                    f"is larger than PIL's decompression-bomb limit ({err})",
                    size,
                    b"",
                )
            except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError) as err:
                fmt = _signature(head)
                if fmt is not None and not _complete(fmt, head, tail, size):
                    return _Inspection(
                        "truncated", f"is truncated (a {fmt} file cut short: {err})", size, b""
                    )
                return _Inspection(
                    "unreadable",
                    f"is not an image PIL can open ({_why(err, head, size)})",
                    size,
                    b"",
                )
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return _Inspection("missing", "", 0, b"")
    except OSError as err:
        return _Inspection("unreadable", f"cannot be read ({err.strerror or err})", 0, b"")
    displayed = (width, height) if turned else (height, width)
    digest = hashlib.blake2b(tail, digest_size=16).digest()
    if turned is None or not _complete(fmt, head, tail, size):
        decoded, problem, detail = _decode(path)
        if decoded is None:
            return _Inspection(problem, detail, size, digest)
        displayed = decoded
    found = _size_problem(displayed, info)
    if found is not None:
        return _Inspection("size", found[1], size, digest, displayed)
    return _Inspection(None, "", size, digest)


def image_file_problem(root: str | os.PathLike, info: Mapping) -> str | None:
    """The problem of the image an ``images`` entry lists, as the up-front check finds it.

    Args:
        root: the image folder (``file_name`` is relative to it).
        info: the image's entry (``file_name``, and ``height``/``width`` when given).

    Returns:
        ``None`` for a usable file, else a phrase to follow its path (``"is missing"``,
        ``"is not an image PIL can open (...)"``, ``"is truncated (...)"``, ``"does not
        decode (...)"``, ``"is 30x40 as displayed ... but its annotation says 60x80"``).

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.new("RGB", (40, 30)).save(pathlib.Path(d) / "a.jpg")
        ...     data = (pathlib.Path(d) / "a.jpg").read_bytes()
        ...     _ = (pathlib.Path(d) / "cut.jpg").write_bytes(data[: len(data) // 2])
        ...     good = image_file_problem(d, {"file_name": "a.jpg", "height": 30, "width": 40})
        ...     cut = image_file_problem(d, {"file_name": "cut.jpg"})
        >>> good, cut.startswith("is truncated")
        (None, True)
    """
    found = _inspect(Path(root) / info["file_name"], info)
    if found.problem == "missing":
        return "is missing"
    return found.detail if found.problem else None


@dataclass(frozen=True)
class ImageFilesReport:
    """What the up-front check of a set's image files found (when it did not refuse them).

    Args:
        source: the annotation file, for messages.
        root: the image folder.
        images: the images checked.
        repeated: groups of image ids whose files have the same bytes (the first of each
            group listed first).
        names: ``{image id: file_name}`` of the images in ``repeated``.

    Example:
        >>> report = ImageFilesReport("a.json", Path("img"), 3, ((1, 3),), {1: "x.jpg", 3: "y.jpg"})
        >>> print(report.warnings()[0])  # doctest: +ELLIPSIS
        a.json: 1 of 3 images repeat the bytes of another image under another name, e.g. y.jpg (image 3) is x.jpg (image 1); ...
    """

    source: str
    root: Path
    images: int
    repeated: tuple[tuple[int, ...], ...] = ()
    names: Mapping[int, str] | None = None

    @property
    def num_repeated(self) -> int:
        """Images whose bytes repeat an earlier image's."""
        return sum(len(group) - 1 for group in self.repeated)

    def warnings(self) -> tuple[str, ...]:
        """One line per kind of finding (today: repeated files); ``()`` when clean."""
        if not self.repeated:
            return ()
        first, copy = self.repeated[0][:2]
        names = self.names or {}
        return (
            f"{self.source}: {self.num_repeated} of {self.images} images repeat the bytes of "
            f"another image under another name, e.g. {names.get(copy)} (image {copy}) is "
            f"{names.get(first)} (image {first}); each copy's people are trained as the "
            "other's background and scored twice: merge their annotations under one image "
            "and remove the copy",
        )


def _map(fn, items: Sequence, workers: int | None) -> list:
    """``[fn(item) for item in items]``, on a thread pool for large sets (file I/O)."""
    if workers is None:
        workers = 1 if len(items) < _PARALLEL_FROM else min(16, 4 * (os.cpu_count() or 1))
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items, chunksize=64))


def _missing_hint(root: Path, names: Sequence[str]) -> str:
    """The likely cause of missing files, from their names."""
    if any("\\" in name for name in names):
        return (
            "; the file names hold '\\' (Windows paths, e.g. "
            f"{next(n for n in names if chr(92) in n)!r}): write them with '/'"
        )
    first = Path(names[0]).parts
    if len(first) > 1 and first[0] == root.name and (root.parent / names[0]).is_file():
        return (
            f"; the file names already start with the image folder's name '{root.name}/': give "
            f"its parent {root.parent} as the image folder, or remove the prefix"
        )
    return "; check the image folder"


def _scale_hint(found: Sequence[tuple[Mapping, _Inspection]]) -> str:
    """A hint when every size problem is the same scale (a resized copy of the folder)."""
    scales = {
        (round(f.shape[0] / info["height"], 3), round(f.shape[1] / info["width"], 3))
        for info, f in found
        if info.get("height") and info.get("width")
    }
    if len(scales) == 1 and len(found) > 1:
        ((sy, sx),) = scales
        if sx == sy and sx != 1:
            return (
                f" (all {len(found)} are {sx:g} times their annotated size: a resized copy of "
                "the images? use the images the annotation was made on)"
            )
    return ""


def check_annotated_images(
    root: str | os.PathLike,
    images: Sequence[Mapping],
    source: str,
    workers: int | None = None,
) -> ImageFilesReport:
    """Check every image file of a set up front: present, readable, complete, of the
    annotated size; warn about files with the same bytes.

    The checks and the rule (refuse, never skip) are the module docstring's. Cost: a
    header and the last 4 KiB of each file, 0.05-0.13 ms per 640 x 480 JPEG from the page
    cache on a shared 2-core machine (6-15 s for COCO's 118,287 training images), against
    2.7 ms to decode one. Sets of 256 images or more are checked by a thread pool, which
    hides the latency of a cold disk or a network file system.

    Args:
        root: the image folder.
        images: the ``images`` entries (each with ``id`` and ``file_name``; ``height``
            and ``width`` are checked when given).
        source: the annotation file, for messages.
        workers: threads (default: one below 256 images, else ``4 x`` the CPUs, at most 16).

    Returns:
        The [`ImageFilesReport`][ImageFilesReport].

    Raises:
        FileNotFoundError: if files are missing (the count, the first one and its image id,
            and the likely cause: Windows ``\\`` paths, file names that repeat the folder's
            name).
        ImageFileError: (a ``ValueError``) for files that cannot be used: the count by
            problem (not an image, truncated, damaged, size differs from the annotation),
            the first one with its image id and problem, and what to do.

    Warns:
        ImageWarning: when files have the same bytes (the count and an example pair).
    """
    root = Path(root)
    found = _map(lambda info: _inspect(root / info["file_name"], info), list(images), workers)
    missing = [info for info, f in zip(images, found) if f.problem == "missing"]
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f"{len(missing)} of {len(images)} images listed in {source} are missing from "
            f"{root}, e.g. {root / first['file_name']} (image {first['id']})"
            + _missing_hint(root, [m["file_name"] for m in missing])
        )
    bad = [(info, f) for info, f in zip(images, found) if f.problem]
    if bad:
        bad.sort(key=lambda pair: list(_PROBLEMS).index(pair[1].problem))
        info, first = bad[0]
        counts = defaultdict(int)
        for _, f in bad:
            counts[_PROBLEMS[f.problem]] += 1
        hint = ""
        if first.problem == "size":
            hint = _scale_hint([(entry, f) for entry, f in bad if f.problem == "size"])
            fix = "annotate the pictures as displayed, or use the images the annotation was made on"
        else:
            fix = "copy the files again, or remove their images from the annotation file"
        raise ImageFileError(
            f"{len(bad)} of {len(images)} images listed in {source} cannot be used ("
            + ", ".join(f"{name}: {n}" for name, n in counts.items())
            + f"), e.g. image {root / info['file_name']} {first.detail} (id {info['id']}){hint}; "
            f"{fix}"
        )
    report = ImageFilesReport(source, root, len(images), *_repeated(root, images, found))
    for line in report.warnings():
        warnings.warn(line, ImageWarning, stacklevel=2)
    return report


def _repeated(
    root: Path, images: Sequence[Mapping], found: Sequence[_Inspection]
) -> tuple[tuple[tuple[int, ...], ...], dict[int, str]]:
    """Groups of image ids whose files have the same bytes, and their names: candidates by
    size and tail digest, confirmed by a full digest."""
    candidates = defaultdict(list)
    for info, f in zip(images, found):
        candidates[(f.size, f.tail)].append(info)
    groups: list[tuple[int, ...]] = []
    names: dict[int, str] = {}
    for same in candidates.values():
        if len(same) < 2:
            continue
        by_digest = defaultdict(list)
        for info in same:
            digest = hashlib.blake2b((root / info["file_name"]).read_bytes(), digest_size=16)
            by_digest[digest.digest()].append(info)
        for group in by_digest.values():
            if len(group) > 1:
                groups.append(tuple(info["id"] for info in group))
                names.update({info["id"]: info["file_name"] for info in group})
    return tuple(groups), names


def read_annotated_image(root: str | os.PathLike, info: Mapping) -> torch.Tensor:
    """Read the image an ``images`` entry lists, checked against its annotated size.

    The set's files are checked up front ([`check_annotated_images()`][check_annotated_images]);
    this check, at reading, catches what the up-front one cannot (see the module
    docstring).

    Args:
        root: the image folder (``file_name`` is relative to it).
        info: the image's entry (``file_name``, and ``height``/``width`` when given).

    Returns:
        The RGB ``uint8`` image `(3, H, W)`, upright as displayed.

    Raises:
        FileNotFoundError: for a missing file.
        ValueError: for an unreadable file, or a displayed size other than the annotated
            ``height`` x ``width`` (naming the file, both sizes, and the likely cause when
            they are swapped).

    Examples:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.new("RGB", (40, 30)).save(pathlib.Path(d) / "a.png")
        ...     tuple(read_annotated_image(d, {"file_name": "a.png", "height": 30, "width": 40}).shape)
        (3, 30, 40)
    """
    path = Path(root) / info["file_name"]
    image = read_image(path)
    found = _size_problem(tuple(image.shape[-2:]), info)
    if found is not None:
        raise ValueError(f"image {path} {found[1]}")
    return image
