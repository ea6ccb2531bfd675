"""Keypoint sets from a ``dataset_info`` metainfo: mmpose's description of a published set.

mmpose, and the projects that follow it, describe each keypoint set they support in a
Python file holding one dict::

    dataset_info = dict(
        dataset_name='coco',
        keypoint_info={
            0: dict(name='nose', id=0, color=[51, 153, 255], type='upper', swap=''),
            1: dict(name='left_eye', id=1, color=[51, 153, 255], type='upper',
                    swap='right_eye'),
            ...},
        skeleton_info={0: dict(link=('left_ankle', 'left_knee'), id=0, color=[0, 255, 0]),
                       ...},
        joint_weights=[1.] * 17,
        sigmas=[0.026, 0.025, ...])

Each keypoint's ``swap`` names its mirror (empty for a centre point), so the file gives the
flip map of sets whose names do not: the numbered landmarks of WFLW, COFW, AFLW, LaPa and
DeepFashion2, for instance. [`read_dataset_info()`][read_dataset_info] reads the dict from
such a file (as plain data: the file is parsed, never run), from a JSON file holding it, or
takes it as it is; [`keypoint_set_from_dataset_info()`][keypoint_set_from_dataset_info]
makes the [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] it describes, whose flip
map is exactly the ``swap`` entries. The keypoints are in the order of the
``keypoint_info`` keys, which is the order of their annotation files (mmpose reads the
keypoints by position, as cgalib does).

Example:
    >>> info = {"dataset_name": "hand", "keypoint_info": {
    ...     0: {"name": "wrist", "swap": ""},
    ...     1: {"name": "tip_a", "swap": "tip_b"},
    ...     2: {"name": "tip_b", "swap": "tip_a"}}, "sigmas": [0.03, 0.02, 0.02]}
    >>> hand = keypoint_set_from_dataset_info(info)
    >>> hand.flip_index, hand.sigmas
    ((0, 2, 1), (0.03, 0.02, 0.02))

    To train on a published set, pass its map: ``train(..., flip_index=hand.flip_index)``
    (or ``CocoKeypoints(..., flip_index=...)``).
"""

from __future__ import annotations

import ast
import json
import operator
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cgalib.utils.keypoint_set import KeypointSet, KeypointSetError, KeypointSetWarning

__all__ = ["keypoint_set_from_dataset_info", "read_dataset_info"]

_MAX_REPEAT = 1_000_000  # the longest list that ``[x] * n`` may build in a metainfo file
_NUMBER_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv}  # fmt: skip


def read_dataset_info(source: Mapping[str, Any] | str | os.PathLike) -> dict[str, Any]:
    """The ``dataset_info`` dict of a metainfo file, or the dict given.

    Args:
        source: a ``.py`` file that assigns ``dataset_info = dict(...)`` (mmpose's
            ``configs/_base_/datasets/*.py``), a ``.json`` file holding the dict (or
            ``{"dataset_info": {...}}``), or the dict itself.

    Returns:
        The dict, with ``keypoint_info`` and ``skeleton_info`` keyed by ``int`` (JSON's
        string keys ``"0"``, ``"1"``, ... converted).

    Raises:
        KeypointSetError: naming the file: it cannot be read or parsed, it assigns no
            ``dataset_info``, or its value is more than plain data (a ``.py`` file is
            evaluated as literals, ``dict(...)`` calls and ``+``/``*`` of lists and
            numbers only; nothing in it is run).

    Example:
        >>> read_dataset_info({"keypoint_info": {"0": {"name": "nose"}}})["keypoint_info"]
        {0: {'name': 'nose'}}
    """
    if isinstance(source, Mapping):
        info, where = dict(source), "dataset_info"
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise KeypointSetError(f"{path}: cannot read the metainfo file ({err})") from None
        info = _from_python(text, where) if path.suffix == ".py" else _from_json(text, where)
    if not isinstance(info, dict):
        raise KeypointSetError(f"{where}: dataset_info is {_short(info)}, not a dict")
    for key in ("keypoint_info", "skeleton_info"):
        if isinstance(info.get(key), Mapping):
            info[key] = {_int_key(k, key, where): v for k, v in info[key].items()}
    return info


def keypoint_set_from_dataset_info(
    source: Mapping[str, Any] | str | os.PathLike, categories: tuple[str, ...] = ()
) -> KeypointSet:
    """The keypoint set a ``dataset_info`` describes, with its published flip map.

    Reads, from the dict of [`read_dataset_info()`][read_dataset_info]:

    - ``keypoint_info``: the names (in key order) and each keypoint's mirror (``swap``;
      empty or its own name for a centre point): the flip map, exactly as given (checked
      like any given map: a permutation, its own inverse, and agreeing with the
      left/right words of the names); each keypoint's ``type`` (``upper``/``lower``)
      gives the body halves and its ``color`` (RGB) its drawing colour;
    - ``skeleton_info``: the limbs (``link``, a pair of names) and their colours;
    - ``sigmas``: the OKS sigmas (an empty list: none, and the sigma rule applies).

    ``joint_weights``, ``paper_info`` and ``stats_info`` are not read. Colours and limbs
    only draw: ones that do not fit (an unknown name, a colour that is not three numbers
    in 0..255) are dropped with one [`KeypointSetWarning`][cgalib.utils.keypoint_set.KeypointSetWarning].

    Args:
        source: the file or dict (see [`read_dataset_info()`][read_dataset_info]).
        categories: the COCO categories the set describes (``("person",)``); the metainfo
            does not say.

    Returns:
        The set; its ``source`` (how messages name it) names the file and
        ``dataset_name``, so every message says the map came from there.

    Raises:
        KeypointSetError: naming the file: no ``keypoint_info``, keys other than
            ``0..K-1``, a keypoint without a name, a ``swap`` naming no keypoint of the
            set, a swap its partner does not return (mmpose's DeepFashion2 swaps
            ``vest_kpt9`` with ``vest_kpt13``, whose ``swap`` is empty), a map contradicting
            the names' left/right words, or sigmas of the wrong count.
    """
    info = read_dataset_info(source)
    where = "dataset_info" if isinstance(source, Mapping) else str(source)
    if info.get("dataset_name"):
        where += f" {info['dataset_name']!r}"
    points = info.get("keypoint_info")
    if not (isinstance(points, dict) and points):
        raise KeypointSetError(
            f"{where} has no keypoint_info (got {_short(points)}); a dataset_info gives each "
            "keypoint as keypoint_info={0: dict(name=..., swap=...), ...}"
        )
    if sorted(points) != list(range(len(points))):
        raise KeypointSetError(
            f"{where}: keypoint_info keys are {_short(sorted(points))}; they must be the "
            f"keypoint positions 0..{len(points) - 1}"
        )
    entries = [points[i] for i in range(len(points))]
    names = []
    for i, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not (isinstance(name, str) and name):
            raise KeypointSetError(f"{where}: keypoint_info[{i}] has no name: {_short(entry)}")
        names.append(name)
    index = {n: i for i, n in enumerate(names)}
    flip = []
    for i, entry in enumerate(entries):
        swap = entry.get("swap") or names[i]
        if swap not in index:
            raise KeypointSetError(
                f"{where}: keypoint_info[{i}] ({names[i]!r}) swaps with {_short(swap)}, which "
                "is not a keypoint of the set"
            )
        flip.append(index[swap])
    for i, j in enumerate(flip):
        if flip[j] != i:
            theirs = entries[j].get("swap") or ""
            raise KeypointSetError(
                f"{where}: keypoint_info[{i}] ({names[i]!r}) swaps with {names[j]!r}, but "
                f"{names[j]!r} swaps with {theirs!r}; a flip swaps pairs, so each names the "
                "other: fix the file's swap entries"
            )
    sigmas = info.get("sigmas") or None  # mmpose writes sigmas=[] for sets without
    skeleton, limb_colors = _skeleton(info.get("skeleton_info"), index, where)
    upper = tuple(i for i, e in enumerate(entries) if e.get("type") == "upper")
    lower = tuple(i for i, e in enumerate(entries) if e.get("type") == "lower")
    return KeypointSet(
        tuple(names),
        skeleton,
        flip_index=tuple(flip),
        sigmas=sigmas,
        categories=tuple(categories),
        colors=_colors([e.get("color") for e in entries], "keypoint_info", where),
        limb_colors=limb_colors,
        upper_body=upper or None,
        lower_body=lower or None,
        source=where,
    )


def _skeleton(
    links: Any, index: Mapping[str, int], where: str
) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...] | None]:
    """The limbs of ``skeleton_info`` as 0-based pairs, and their colours; limbs naming no
    keypoint of the set (or one twice) are dropped with one warning."""
    if not links:
        return (), None
    if not isinstance(links, Mapping):
        _warn(f"{where}: skeleton_info is {_short(links)}, not a dict of links; dropped")
        return (), None
    limbs, colors, bad = [], [], []
    for key in sorted(links):
        link = links[key].get("link") if isinstance(links[key], Mapping) else None
        if (isinstance(link, (list, tuple)) and len(link) == 2 and all(n in index for n in link)
                and link[0] != link[1]):  # fmt: skip
            limbs.append((index[link[0]], index[link[1]]))
            colors.append(links[key].get("color"))
        else:
            bad.append(f"{key}: {_short(link)}")
    if bad:
        _warn(
            f"{where}: skeleton_info links that do not join two keypoints of the set are "
            f"dropped from the drawings: {'; '.join(bad)}"
        )
    return tuple(limbs), _colors(colors, "skeleton_info", where) if limbs else None


def _colors(values: list[Any], key: str, where: str) -> tuple[str, ...] | None:
    """RGB ``color`` entries as ``"#rrggbb"``; ``None`` (with a warning) if one is not
    three numbers in 0..255, ``None`` quietly if none is given."""
    if all(v is None for v in values):
        return None
    out = []
    for v in values:
        if not (isinstance(v, (list, tuple)) and len(v) == 3
                and all(isinstance(c, (int, float)) and 0 <= c <= 255 for c in v)):  # fmt: skip
            _warn(
                f"{where}: {key} has colour {_short(v)}, not [r, g, b] in 0..255; its "
                "colours are dropped and the drawings colour by body side"
            )
            return None
        out.append("#{:02x}{:02x}{:02x}".format(*(int(c) for c in v)))
    return tuple(out)


def _warn(message: str) -> None:
    warnings.warn(message, KeypointSetWarning, stacklevel=4)


def _int_key(key: Any, field: str, where: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise KeypointSetError(f"{where}: {field} key {key!r} is not a keypoint position (0, 1, ...)")


def _from_json(text: str, where: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise KeypointSetError(f"{where}: not a JSON file ({err})") from None
    if isinstance(data, dict) and isinstance(data.get("dataset_info"), dict):
        return data["dataset_info"]
    return data


def _from_python(text: str, where: str) -> Any:
    """The value assigned to ``dataset_info`` at the top of a Python file, as plain data."""
    try:
        tree = ast.parse(text, filename=where)
    except SyntaxError as err:
        raise KeypointSetError(
            f"{where}, line {err.lineno}: not valid Python ({err.msg})"
        ) from None
    names: dict[str, Any] = {}  # earlier top-level plain-data assignments (colors = dict(...))
    info = None
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):  # fmt: skip
            continue
        try:
            value = _literal(node.value, where, names)
        except KeypointSetError as err:
            value = err  # an error only if dataset_info uses it
        if node.targets[0].id == "dataset_info":
            info = value
        else:
            names[node.targets[0].id] = value
    if info is None:
        raise KeypointSetError(
            f"{where} assigns no dataset_info; a metainfo file holds dataset_info = dict(...)"
        )
    if isinstance(info, KeypointSetError):
        raise info
    return info


def _literal(node: ast.AST, where: str, names: Mapping[str, Any]) -> Any:
    """Evaluate plain data: literals, lists, tuples, dicts, ``dict(key=value)``, unary
    minus, ``+``, ``-``, ``*``, ``/`` of numbers (``+``, ``*`` also of lists), and the
    ``names`` assigned before (``colors['sss']``)."""
    if isinstance(node, ast.Name) and node.id in names:
        value = names[node.id]
        if isinstance(value, KeypointSetError):
            raise value
        return value
    if isinstance(node, ast.Subscript):
        value, key = _literal(node.value, where, names), _literal(node.slice, where, names)
        if isinstance(value, (dict, list, tuple)) and not isinstance(key, (list, dict)):
            try:
                return value[key]
            except (KeyError, IndexError, TypeError):
                pass
    if isinstance(node, ast.Constant) and isinstance(
        node.value, (str, int, float, bool, type(None))
    ):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e, where, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {
            _literal(k, where, names): _literal(v, where, names)
            for k, v in zip(node.keys, node.values)
        }
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(k.arg is not None for k in node.keywords)):  # fmt: skip
        return {k.arg: _literal(k.value, where, names) for k in node.keywords}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, where, names)
        if _is_number(value):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        a, b = _literal(node.left, where, names), _literal(node.right, where, names)
        if _is_number(a) and _is_number(b) and not (isinstance(node.op, ast.Div) and b == 0):
            return _NUMBER_OPS[type(node.op)](a, b)
        if isinstance(node.op, ast.Add) and type(a) is type(b) and isinstance(a, (list, tuple)):
            return a + b
        if isinstance(node.op, ast.Mult):
            seq, n = (a, b) if isinstance(a, (list, tuple)) else (b, a)
            if isinstance(seq, (list, tuple)) and isinstance(n, int) and 0 <= n * max(len(seq), 1) <= _MAX_REPEAT:  # fmt: skip
                return seq * n
    raise KeypointSetError(
        f"{where}, line {getattr(node, 'lineno', '?')}: dataset_info holds "
        f"{ast.unparse(node)[:60]!r}, which is not plain data; cgalib reads metainfo files "
        "as data (literals, dict(...), + and * of lists and numbers) and runs nothing in them"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
