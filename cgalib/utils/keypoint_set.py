"""A keypoint set: the names, skeleton, flip map and OKS sigmas of a COCO keypoint category.

COCO's person keypoints are one set among many (CrowdPose's 14 joints, animal sets,
hands, faces). A [`KeypointSet`][KeypointSet] describes any of them and travels with the data
([`CocoKeypoints`][cgalib.data.CocoKeypoints] reads it from the annotation file's category), the
model (checkpoints store it) and the evaluation (its sigmas).

**The flip map** is derived from the names (see `cgalib.utils.keypoint_names`): a name
with one side word, ``left``/``right``/``l``/``r`` in any style (``left_wrist``,
``L_Wrist``, ``wrist_left``, ``hip_r``, ``front-left-paw``, ``LShoulder``,
``leftShoulder``, ``eyeL``, ``forelegL1``), is paired with the name that has the other side
word and the same other words; numbered names of a layout cgalib has a table for (the
68-point face: ``face-0`` .. ``face-67``, ``kpt-0`` .. ``kpt-67``) are paired by the table;
the other names are centre points and map to themselves. A sided name without its partner
is an error that lists the unpaired names and says how to pass the map (``flip_index``, or
``flip_pairs`` in the category for the pairs the names do not show); numbered names of an
unknown layout, and names that mention a side cgalib cannot read, are kept in place with a
[`KeypointSetWarning`][KeypointSetWarning] naming them, never silently. A given map must be
a permutation and its own inverse, and must pair every name whose partner its side word
shows (the tables are not imposed on a given map). Published sets bring their maps in
their metainfo (`cgalib.utils.dataset_info`).

**The sigmas** (pycocotools' ``kpt_oks_sigmas``) are the ones given, else COCO's for
COCO's 17 keypoints, else [`DEFAULT_OKS_SIGMA`][DEFAULT_OKS_SIGMA] for every keypoint with a
[`KeypointSetWarning`][KeypointSetWarning]: AP is then not comparable to published numbers.

Example:
    >>> coco = KeypointSet.coco()
    >>> len(coco), coco.names[coco.flip_index[1]], coco.sigma_source
    (17, 'right_eye', 'coco')
    >>> hand = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    >>> hand.flip_index, hand.sides
    ((0, 2, 1), ('center', 'left', 'right'))
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cgalib.utils.keypoint_names import (
    LAYOUT_MIRROR_TABLES,
    keypoint_side,
    layout_mirror_pairs,
    mentions_side,
    numbered_name,
)

__all__ = [
    "DEFAULT_OKS_SIGMA",
    "SIGMA_SOURCES",
    "KeypointSet",
    "KeypointSetError",
    "KeypointSetWarning",
    "check_oks_sigmas",
    "check_permutation",
    "flip_index_from_names",
    "keypoint_side",
    "oks_sigmas",
    "warn_default_sigmas",
]

DEFAULT_OKS_SIGMA = 0.07
"""The OKS sigma of each keypoint of a set that brings none and is not COCO's: close to the
mean of COCO's 17 sigmas (0.067), a keypoint of average COCO difficulty. AP computed with it
is not comparable to published numbers of that set."""

SIGMA_SOURCES = ("given", "coco", "default")
"""Where a set's sigmas come from: given (by the caller or the category), COCO's (the set
is COCO's 17 keypoints) or [`DEFAULT_OKS_SIGMA`][DEFAULT_OKS_SIGMA] for each keypoint."""

_COCO_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
_COCO_SKELETON_1: tuple[tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
    (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)  # fmt: skip
_COCO_SIGMAS: tuple[float, ...] = tuple(
    s / 10.0
    for s in (
        0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72,
        0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
    )
)  # fmt: skip
_COCO_UPPER_BODY = tuple(range(11))
_COCO_LOWER_BODY = tuple(range(11, 17))

_OTHER_SIDE = {"left": "right", "right": "left"}


class KeypointSetError(ValueError):
    """A keypoint set that cannot be used; the one-line message names where it comes from
    (the file and category), what is wrong and what to do."""


class KeypointSetWarning(UserWarning):
    """A keypoint set used as well as it can be: evaluated with the default OKS sigmas (AP
    not comparable to published numbers), with keypoints whose mirror its names do not
    tell (a flip leaves them in place), or with drawing fields (skeleton, colours) dropped
    because they do not fit the set."""


def _partners(names: Sequence[str]) -> tuple[dict[int, int], dict[int, str]]:
    """``{index: partner index}`` of the sided names whose partner is present, and
    ``{index: description}`` of each sided name without one (or with several)."""
    parsed = [keypoint_side(n) for n in names]
    where: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, (side, words) in enumerate(parsed):
        if side != "center":
            where.setdefault((side, words), []).append(i)
    partners, problems = {}, {}
    for i, (side, words) in enumerate(parsed):
        if side == "center":
            continue
        mine = where[(side, words)]
        theirs = where.get((_OTHER_SIDE[side], words), [])
        if len(mine) > 1:
            others = ", ".join(repr(names[j]) for j in mine if j != i)
            problems[i] = f"{names[i]!r} (also {side}: {others})"
        elif len(theirs) > 1:
            problems[i] = f"{names[i]!r} (several {_OTHER_SIDE[side]} partners)"
        elif not theirs:
            problems[i] = f"{names[i]!r} (no {_OTHER_SIDE[side]} partner)"
        else:
            partners[i] = theirs[0]
    return partners, problems


_HOW_TO_FLIP = (
    "pass flip_index=[...] (each keypoint's mirror index, its own for a centre point) or "
    'add "flip_pairs": [["<name>", "<its mirror>"], ...] for these names to the category'
)


def flip_index_from_names(
    names: Sequence[str],
    source: str = "the keypoint set",
    pairs: Sequence[Sequence[str]] | None = None,
) -> tuple[int, ...]:
    """The horizontal-flip permutation of a keypoint set, from its names.

    Sided names (see [`keypoint_side()`][keypoint_side]) swap with their partner; numbered
    names of a known layout swap by its table (see
    [`layout_mirror_pairs()`][cgalib.utils.keypoint_names.layout_mirror_pairs]; the 68-point
    face); the others stay; ``pairs`` adds the mirror pairs the names do not show. The
    names whose mirror cgalib cannot tell (numbered names of an unknown layout, as WFLW's
    98 ``kpt-N``; names that mention a side it cannot read, as ``lefteye``), and that
    ``pairs`` leaves out, stay with a warning naming them.

    Args:
        names: the ``K`` keypoint names.
        source: how messages name the set (a file and category).
        pairs: ``[[name, name], ...]``, mirror pairs beyond those the names show (e.g. for
            ``"paw_a"``/``"paw_b"``, or a sided name whose partner is named otherwise).

    Returns:
        ``flip_index``: after mirroring an image, keypoint ``k`` of the mirrored person is
        the mirrored keypoint ``flip_index[k]`` of the original.

    Raises:
        KeypointSetError: listing every sided name without exactly one partner (and not in
            ``pairs``), and saying how to pass the map instead; for ``pairs`` naming an
            unknown keypoint or one keypoint twice, or contradicting the names.

    Warns:
        KeypointSetWarning: one line naming ``source`` and the keypoints kept in place
            whose mirror the names do not tell (a numbered group as ``kpt-0 to kpt-97``),
            saying how to give the map.

    Examples:
        >>> flip_index_from_names(["nose", "left_eye", "eye_right", "R_ear", "l-ear"])
        (0, 2, 1, 4, 3)
        >>> flip_index_from_names(["left_hand", "right_paw", "tail"], pairs=[["left_hand", "right_paw"]])
        (1, 0, 2)
    """
    given = _pair_indices(names, pairs, source) if pairs is not None else []
    paired = {i for pair in given for i in pair}
    partners, problems = _partners(names)
    unpaired = [text for i, text in problems.items() if i not in paired]
    if unpaired:
        raise KeypointSetError(
            f"{source}: the flip map cannot be derived from the keypoint names: "
            f"{', '.join(unpaired)}; cgalib pairs names with a left/right or l/r word "
            f"(left_*, *_right, L_*, *_R, leftShoulder, LShoulder, wristL); {_HOW_TO_FLIP}"
        )
    flip = [partners.get(i, i) for i in range(len(names))]
    table_pairs, unknown = layout_mirror_pairs(names, exclude=paired)
    for a, b in (*table_pairs, *given):
        flip[a], flip[b] = b, a
    unsure = [_numbered_run(names, group) for group in unknown.values()]
    unsure += [
        f"{n!r} (a side word cgalib cannot read)"
        for i, n in enumerate(names)
        if i not in paired and mentions_side(n)
    ]
    if unsure:
        warnings.warn(
            f"{source}: the names do not tell the mirror of these keypoints, so a flip leaves "
            f"them in place: {'; '.join(unsure)}; cgalib reads left/right and l/r words and "
            f"knows the mirrors of {_KNOWN_LAYOUTS}; if they have mirrors, {_HOW_TO_FLIP}, "
            "or read the data set's metainfo (cgalib.utils.dataset_info)",
            KeypointSetWarning,
            stacklevel=2,
        )
    return _check_flip_index(names, flip, source) if given else tuple(flip)


_KNOWN_LAYOUTS = " and ".join(
    f"{description} (numbered 0..{n - 1} or 1..{n})"
    for n, (description, _) in LAYOUT_MIRROR_TABLES.items()
)


def _numbered_run(names: Sequence[str], group: Sequence[int]) -> str:
    """``"kpt-0 to kpt-18 (19 numbered points of a layout without a mirror table)"``."""
    ordered = sorted(group, key=lambda i: numbered_name(names[i])[1])
    runs, start = [], 0
    for n in range(1, len(ordered) + 1):
        if n == len(ordered) or (
            numbered_name(names[ordered[n]])[1] != numbered_name(names[ordered[n - 1]])[1] + 1
        ):
            first, last = names[ordered[start]], names[ordered[n - 1]]
            runs.append(first if first == last else f"{first} to {last}")
            start = n
    return (
        f"{', '.join(runs)} ({len(ordered)} numbered points of a layout without a mirror "
        "table)"
    )


def _pair_indices(names: Sequence[str], pairs: Any, source: str) -> list[tuple[int, int]]:
    """``flip_pairs`` as index pairs; errors for unknown names and names given twice."""
    index = {n: i for i, n in enumerate(names)}
    if not isinstance(pairs, (list, tuple)):
        raise KeypointSetError(
            f"{source}: flip_pairs must be a list of [name, name] pairs, got {_short(pairs)}"
        )
    seen: set[str] = set()
    out = []
    for pair in pairs:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise KeypointSetError(
                f"{source}: flip_pairs holds {_short(pair)}; each entry is a [name, name] pair"
            )
        for name in pair:
            if name not in index:
                raise KeypointSetError(
                    f"{source}: flip_pairs names {name!r}, which is not a keypoint of the set "
                    f"({', '.join(names)})"
                )
            if name in seen or pair[0] == pair[1]:
                raise KeypointSetError(
                    f"{source}: flip_pairs lists {name!r} twice; each keypoint has one mirror"
                )
            seen.add(name)
        out.append((index[pair[0]], index[pair[1]]))
    return out


def check_permutation(
    flip_index: Any, num_keypoints: int | None = None, source: str = "flip_index"
) -> tuple[int, ...]:
    """A keypoint permutation (a flip map), checked: ``K`` integers, each of ``0..K-1`` once.

    The one check every flip map passes, wherever it enters (a keypoint set, an
    augmentation, a codec, the flip test).

    Args:
        flip_index: the permutation (a sequence of ints, or a 1-D integer tensor).
        num_keypoints: ``K``; ``None`` takes the length of ``flip_index``.
        source: how the message names it.

    Returns:
        The permutation as a tuple of ints.

    Raises:
        KeypointSetError: (a ``ValueError``) one line naming ``source``, for anything else.

    Examples:
        >>> check_permutation([0, 2, 1])
        (0, 2, 1)
        >>> check_permutation([0, 0, 1])
        Traceback (most recent call last):
        ...
        cgalib.utils.keypoint_set.KeypointSetError: flip_index is not a permutation of 0..2 (look at [0]); every keypoint is the mirror of exactly one keypoint
    """
    if hasattr(flip_index, "tolist"):  # a tensor or an array
        flip_index = flip_index.tolist()
    values = list(flip_index) if isinstance(flip_index, (list, tuple)) else None
    k = num_keypoints if num_keypoints is not None else len(values or ())
    if values is None or len(values) != k or not all(_is_int(v) for v in values):
        raise KeypointSetError(
            f"{source} must be a list of {k} integers (each keypoint's mirror index), got "
            f"{_short(flip_index)}"
        )
    if sorted(values) != list(range(k)):
        repeated = sorted({v for v in values if values.count(v) > 1 or not 0 <= v < k})
        raise KeypointSetError(
            f"{source} is not a permutation of 0..{k - 1} (look at {repeated}); every "
            "keypoint is the mirror of exactly one keypoint"
        )
    return tuple(int(v) for v in values)


def _check_flip_index(
    names: Sequence[str], flip_index: Sequence[Any], source: str
) -> tuple[int, ...]:
    """A given flip map, checked: a permutation, its own inverse, and pairing every name
    whose partner the names show."""
    values = list(check_permutation(flip_index, len(names), f"{source}: flip_index"))
    for i, j in enumerate(values):
        if values[j] != i:
            raise KeypointSetError(
                f"{source}: flip_index is not its own inverse: {names[i]!r} ({i}) maps to "
                f"{names[j]!r} ({j}), which maps to {names[values[j]]!r} ({values[j]}); a "
                "flip swaps pairs of keypoints and leaves the others in place"
            )
    partners, _ = _partners(names)
    for i, j in partners.items():
        if values[i] != j:
            raise KeypointSetError(
                f"{source}: flip_index maps {names[i]!r} to {names[values[i]]!r}, but its "
                f"mirror is {names[j]!r}; a wrong flip map swaps the wrong keypoints at every "
                "flip (fix the map, or leave it out to derive it from the names)"
            )
    return tuple(int(v) for v in values)


def check_oks_sigmas(
    sigmas: Any, num_keypoints: int | None = None, source: str = "sigmas"
) -> tuple[float, ...]:
    """OKS sigmas checked: ``K`` finite positive numbers.

    Args:
        sigmas: the per-keypoint OKS falloff constants.
        num_keypoints: ``K`` they must number (``None``: any count of at least one).
        source: how messages name them.

    Returns:
        The sigmas as a tuple of floats.

    Raises:
        KeypointSetError: (a ``ValueError``) for a count other than ``K``, or a value that
            is not a finite positive number.

    Examples:
        >>> check_oks_sigmas([0.05, 0.1], 2)
        (0.05, 0.1)
    """
    if hasattr(sigmas, "tolist"):  # numpy arrays and tensors
        sigmas = sigmas.tolist()
    values = list(sigmas) if isinstance(sigmas, (list, tuple)) else None
    if values is None or not values:
        raise KeypointSetError(
            f"{source} must be K positive numbers, one per keypoint; got {_short(sigmas)}"
        )
    if num_keypoints is not None and len(values) != num_keypoints:
        raise KeypointSetError(
            f"{source}: {len(values)} values for {num_keypoints} keypoints; give one OKS sigma "
            "per keypoint, in the order of the keypoint names"
        )
    if not all(_is_number(v) and math.isfinite(v) and v > 0 for v in values):
        raise KeypointSetError(
            f"{source} must be K positive numbers, one per keypoint; got {_short(sigmas)}"
        )
    return tuple(float(v) for v in values)


def oks_sigmas(
    names: Sequence[str], sigmas: Any = None, source: str = "the keypoint set"
) -> tuple[tuple[float, ...], str]:
    """The sigma rule: the sigmas given, else COCO's for COCO's keypoints, else the default.

    No warning is given here; [`warn_default_sigmas()`][warn_default_sigmas] is the one said when the default
    is used to score.

    Args:
        names: the ``K`` keypoint names.
        sigmas: the sigmas given (checked by [`check_oks_sigmas()`][check_oks_sigmas]), or ``None``.
        source: how messages name the set.

    Returns:
        ``(sigmas, sigma_source)``, ``sigma_source`` one of `SIGMA_SOURCES`.

    Raises:
        KeypointSetError: for given sigmas of the wrong count or value.

    Examples:
        >>> oks_sigmas(["a", "b"])
        ((0.07, 0.07), 'default')
        >>> oks_sigmas(["a", "b"], [0.1, 0.2])[1]
        'given'
    """
    if sigmas is not None:
        return check_oks_sigmas(sigmas, len(names), f"{source}: sigmas"), "given"
    if tuple(names) == _COCO_NAMES:
        return _COCO_SIGMAS, "coco"
    return (DEFAULT_OKS_SIGMA,) * len(names), "default"


def warn_default_sigmas(source: str, num_keypoints: int, stacklevel: int = 2) -> None:
    """Warn that a set is scored with [`DEFAULT_OKS_SIGMA`][DEFAULT_OKS_SIGMA] for each keypoint.

    Args:
        source: the set (a file and category, or a model).
        num_keypoints: ``K``.
        stacklevel: as for ``warnings.warn``, counted from the caller.

    Warns:
        KeypointSetWarning: saying that keypoint AP is not comparable to published
            numbers, and how to give sigmas.
    """
    warnings.warn(
        f"{source}: no OKS sigmas for its {num_keypoints} keypoints, which are not COCO's; "
        f"using {DEFAULT_OKS_SIGMA} for each, so keypoint AP is not comparable to published "
        "numbers (pass sigmas=[...] or add a 'sigmas' list to the category)",
        KeypointSetWarning,
        stacklevel=stacklevel + 1,
    )


def _skeleton_from_coco(
    skeleton: Any, names: Sequence[str], source: str
) -> tuple[tuple[tuple[int, int], ...], list[int]]:
    """A COCO ``skeleton`` (1-based index pairs) as 0-based pairs, and the positions of the
    limbs kept.

    The skeleton only draws, so a bad one is dropped with one
    [`KeypointSetWarning`][KeypointSetWarning], never refused: whole when it cannot be this
    set's (a limb past the last keypoint: written for another set, as CrowdPose's files
    carry COCO's 17-keypoint skeleton; or 0-based), limb by limb for a limb that is not a
    pair of indices or joins a keypoint to itself. Messages quote limbs in the file's own
    numbers (1-based indices, limbs counted from 1: "limb 3 of 19")."""
    k = len(names)
    if skeleton is None:
        return (), []
    if not isinstance(skeleton, (list, tuple)):
        _warn_drawing(
            f"{source}: skeleton is {_short(skeleton)}, not a list of [a, b] keypoint index "
            "pairs; it is dropped and people are drawn without limbs"
        )
        return (), []
    pairs = [(n, limb) for n, limb in enumerate(skeleton, 1)
             if isinstance(limb, (list, tuple)) and len(limb) == 2 and all(map(_is_int, limb))]  # fmt: skip
    outside = [(n, list(limb)) for n, limb in pairs if not all(1 <= v <= k for v in limb)]
    if outside:
        n, limb = outside[0]
        more = f" and {len(outside) - 1} more" if len(outside) > 1 else ""
        why = (
            "COCO skeletons are 1-based: this one looks 0-based, add 1 to every index"
            if all(0 <= v < k for _, lb in pairs for v in lb)
            else "it seems written for another keypoint set"
        )
        _warn_drawing(
            f"{source}: skeleton limb {n} of {len(skeleton)}, {limb}{more}, "
            f"{'are' if more else 'is'} out of range 1..{k} for the {k} keypoints ({why}); "
            "the skeleton is dropped and people are drawn without limbs: fix or remove it"
        )
        return (), []
    problems, kept, out = [], [], []
    good = dict(pairs)
    for n, limb in enumerate(skeleton, 1):
        if n not in good:
            problems.append(f"limb {n} is {_short(limb)}, not a pair of keypoint indices")
        elif limb[0] == limb[1]:
            problems.append(
                f"limb {n}, {list(limb)}, joins keypoint {limb[0]} ({names[limb[0] - 1]!r}) "
                "to itself"
            )
        else:
            kept.append(n - 1)
            out.append((int(limb[0]) - 1, int(limb[1]) - 1))
    if problems:
        _warn_drawing(
            f"{source}: skeleton of {len(skeleton)} limbs (1-based [a, b] keypoint index "
            f"pairs in 1..{k}): {'; '.join(problems)}; "
            f"{'these limbs are' if len(problems) > 1 else 'this limb is'} dropped from the "
            "drawings: fix or remove them"
        )
    return tuple(out), kept


def _drawing_colors(
    values: Any, count: int, key: str, what: str, source: str, kept: list[int] | None = None
) -> tuple[str, ...] | None:
    """A category's ``colors`` (one per keypoint) or ``limb_colors`` (one per limb of the
    file's skeleton, ``kept`` the limbs kept): dropped with a warning when they do not
    fit, since they only draw."""
    if values is None:
        return None
    ok = isinstance(values, (list, tuple)) and all(isinstance(v, str) for v in values)
    if not ok or len(values) != count:
        _warn_drawing(
            f"{source}: {key} must list {count} colour names, one per {what}, got "
            f"{_short(values)}; they are dropped and the drawings colour by body side"
        )
        return None
    return tuple(values) if kept is None else tuple(values[i] for i in kept)


def _warn_drawing(message: str) -> None:
    warnings.warn(message, KeypointSetWarning, stacklevel=5)


@dataclass(frozen=True)
class KeypointSet:
    """The keypoints of a COCO keypoint category: names, skeleton, flip map and OKS sigmas.

    Every field is checked at construction (one [`KeypointSetError`][KeypointSetError] line naming what
    is wrong). A set is immutable, compares by value and converts to and from a JSON dict
    ([`to_dict()`][to_dict], [`from_dict()`][from_dict]) that checkpoints store.

    Args:
        names: the ``K`` keypoint names, in annotation order (unique).
        skeleton: limbs as **0-based** index pairs (a COCO file's 1-based ``skeleton`` is
            converted by [`from_category()`][from_category]).
        flip_index: the horizontal-flip permutation; ``None`` derives it from the names
            (see the module docstring). A given one must be a permutation and its own
            inverse, and must pair each name with the partner its name shows.
        sigmas: the OKS sigmas, one per keypoint; ``None`` takes COCO's for COCO's 17
            keypoints, else [`DEFAULT_OKS_SIGMA`][DEFAULT_OKS_SIGMA] each, with a
            [`KeypointSetWarning`][KeypointSetWarning].
        sigma_source: where the sigmas come from (`SIGMA_SOURCES`); ``None`` records
            it from the rule above.
        categories: the names of the COCO categories the set describes (``("person",)``
            for COCO); evaluation reads these categories of a ground-truth file.
        colors: optional drawing colour of each keypoint (any matplotlib/PIL colour);
            default: by body side.
        limb_colors: optional drawing colour of each limb; default: by body side.
        upper_body: optional indices of the upper-body keypoints.
        lower_body: optional indices of the lower-body keypoints (disjoint from the upper).
        source: how messages name the set (not a field: not stored or compared).

    Attributes:
        sides: ``"left"``, ``"right"`` or ``"center"`` for each keypoint, from its name.

    Raises:
        KeypointSetError: for repeated or empty names, a limb out of range, a flip map
            that cannot be derived or is wrong, sigmas of the wrong count or value,
            colours of the wrong count, or overlapping body halves.

    Example:
        >>> body = KeypointSet(("head", "left_hand", "right_hand"), skeleton=((0, 1), (0, 2)),
        ...                    sigmas=(0.08, 0.06, 0.06))
        >>> body.flip_index, len(body)
        ((0, 2, 1), 3)
        >>> KeypointSet.from_dict(body.to_dict()) == body
        True
    """

    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...] = ()
    flip_index: tuple[int, ...] | None = None
    sigmas: tuple[float, ...] | None = None
    sigma_source: str | None = None
    categories: tuple[str, ...] = ()
    colors: tuple[str, ...] | None = None
    limb_colors: tuple[str, ...] | None = None
    upper_body: tuple[int, ...] | None = None
    lower_body: tuple[int, ...] | None = None
    source: str = field(default="the keypoint set", compare=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        names = self.names
        if not (
            isinstance(names, (list, tuple))
            and names
            and all(isinstance(n, str) and n for n in names)
        ):
            raise KeypointSetError(
                f"{src}: the keypoint names must be a non-empty list of non-empty strings, got "
                f"{_short(names)}"
            )
        names = tuple(names)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise KeypointSetError(
                f"{src}: keypoint names repeat ({', '.join(map(repr, repeated))}); every "
                "keypoint needs its own name"
            )
        k = len(names)
        skeleton = []
        for n, limb in enumerate(self.skeleton):
            if not (isinstance(limb, (list, tuple)) and len(limb) == 2 and all(map(_is_int, limb))
                    and all(0 <= v < k for v in limb) and limb[0] != limb[1]):  # fmt: skip
                raise KeypointSetError(
                    f"{src}: limb {n} {_short(limb)} is not a pair of two 0-based keypoint "
                    f"indices in 0..{k - 1}"
                )
            skeleton.append((int(limb[0]), int(limb[1])))
        if self.flip_index is None:
            flip = flip_index_from_names(names, src)
        else:
            flip = _check_flip_index(names, self.flip_index, src)
        if self.sigmas is None:
            sigmas, sigma_source = oks_sigmas(names, None, src)
            if sigma_source == "default":
                warn_default_sigmas(src, k, stacklevel=4)
        else:
            sigmas = check_oks_sigmas(self.sigmas, k, f"{src}: sigmas")
            sigma_source = self.sigma_source or "given"
        if sigma_source not in SIGMA_SOURCES:
            raise KeypointSetError(
                f"{src}: sigma_source must be one of {SIGMA_SOURCES}, got {sigma_source!r}"
            )
        colors = _colors(self.colors, k, "colors", "keypoint", src)
        limb_colors = _colors(self.limb_colors, len(skeleton), "limb_colors", "limb", src)
        upper = _indices(self.upper_body, k, "upper_body", src)
        lower = _indices(self.lower_body, k, "lower_body", src)
        if names == _COCO_NAMES and upper is None and lower is None:
            upper, lower = _COCO_UPPER_BODY, _COCO_LOWER_BODY
        if upper and lower and set(upper) & set(lower):
            both = sorted(set(upper) & set(lower))
            raise KeypointSetError(
                f"{src}: keypoints {[names[i] for i in both]} are in both upper_body and lower_body"
            )
        fields = {
            "names": names,
            "skeleton": tuple(skeleton),
            "flip_index": flip,
            "sigmas": sigmas,
            "sigma_source": sigma_source,
            "categories": tuple(str(c) for c in self.categories),
            "colors": colors,
            "limb_colors": limb_colors,
            "upper_body": upper,
            "lower_body": lower,
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    # ------------------------------------------------------------------------ readers
    @classmethod
    def coco(cls) -> KeypointSet:
        """COCO's 17 person keypoints, with COCO's skeleton, flip map and OKS sigmas.

        Returns:
            The set (one shared, immutable instance); `cgalib.utils.coco_meta`'s
            constants are its fields.

        Example:
            >>> KeypointSet.coco().names[:3], KeypointSet.coco().skeleton[0]
            (('nose', 'left_eye', 'right_eye'), (15, 13))
        """
        return _coco_set() if cls is KeypointSet else cls._coco()

    @classmethod
    def _coco(cls) -> KeypointSet:
        return cls(
            _COCO_NAMES,
            tuple((a - 1, b - 1) for a, b in _COCO_SKELETON_1),
            sigmas=_COCO_SIGMAS,
            sigma_source="coco",
            categories=("person",),
            source="COCO's person keypoints",
        )

    @classmethod
    def from_category(
        cls,
        category: Mapping[str, Any],
        flip_index: Sequence[int] | None = None,
        sigmas: Sequence[float] | None = None,
        source: str | None = None,
    ) -> KeypointSet:
        """The set a COCO ``categories`` entry describes.

        Reads ``keypoints`` (the names), ``skeleton`` (COCO's **1-based** index pairs,
        converted to 0-based) and ``name``; and, when the category has
        them, the optional keys cgalib understands (pycocotools ignores them):
        ``flip_index`` or ``flip_pairs`` (``[[name, name], ...]``, the mirror pairs the
        names do not show; see `flip_index_from_names()`), ``sigmas``, ``colors``, ``limb_colors``, ``upper_body`` and
        ``lower_body`` (lists of keypoint names).

        Args:
            category: the category dict.
            flip_index: the flip map, overriding the category's and the names'.
            sigmas: the OKS sigmas, overriding the category's.
            source: how messages name it (default ``"category '<name>'"``).

        Returns:
            The [`KeypointSet`][KeypointSet].

        The fields that only draw are never fatal: a skeleton that cannot be the set's (a
        limb past the last keypoint, as CrowdPose's files carry COCO's skeleton, or
        0-based) is dropped whole, a limb that is not a pair or joins a keypoint to itself
        alone, and ``colors``/``limb_colors`` of the wrong count are dropped, each with one
        [`KeypointSetWarning`][KeypointSetWarning] naming ``source``.

        Raises:
            KeypointSetError: naming ``source``: no keypoint names, names that cannot be
                paired, a wrong flip map, or sigmas of the wrong count.

        Warns:
            KeypointSetWarning: for drawing fields dropped, for keypoints whose mirror the
                names do not tell (see `flip_index_from_names()`),
                and for default sigmas.

        Example:
            >>> category = {"id": 1, "name": "hand", "keypoints": ["wrist", "l_tip", "r_tip"],
            ...             "skeleton": [[1, 2], [1, 3]], "sigmas": [0.03, 0.02, 0.02]}
            >>> s = KeypointSet.from_category(category)
            >>> s.skeleton, s.flip_index, s.categories
            (((0, 1), (0, 2)), (0, 2, 1), ('hand',))
        """
        if not isinstance(category, Mapping):
            raise KeypointSetError(f"{source or 'the category'} is not a dict: {_short(category)}")
        name = category.get("name")
        return cls._from_fields(
            category,
            (name,) if isinstance(name, str) else (),
            flip_index,
            sigmas,
            source or f"category {name!r}",
        )

    @classmethod
    def of(cls, value: KeypointSet | Mapping[str, Any] | None, source: str = "keypoint_set") -> KeypointSet:
        """The set a caller means: ``None`` is COCO's 17 person keypoints (cgalib's one
        default set), a dict is read by [`from_dict()`][from_dict], a set is returned as it is.

        Args:
            value: a set, its ``to_dict()`` (or a COCO category), or ``None``.
            source: how messages name it.

        Returns:
            The [`KeypointSet`][KeypointSet].

        Raises:
            KeypointSetError: for a dict that does not describe a valid set.

        Example:
            >>> KeypointSet.of(None) is KeypointSet.coco()
            True
        """
        return cls.coco() if value is None else cls.from_dict(value, source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "the keypoint set") -> KeypointSet:
        """The set [`to_dict()`][to_dict] wrote (a checkpoint's ``keypoint_set``), or that a COCO
        category describes (read as [`from_category()`][from_category] reads it).

        Args:
            data: the dict (a [`KeypointSet`][KeypointSet] is returned as it is).
            source: how messages name it.

        Returns:
            The [`KeypointSet`][KeypointSet].

        Raises:
            KeypointSetError: for a dict that does not describe a valid set.
        """
        if isinstance(data, KeypointSet):
            return data
        if not isinstance(data, Mapping):
            raise KeypointSetError(f"{source} is not a dict: {_short(data)}")
        categories = data.get("categories")
        if categories is None:
            name = data.get("name")
            categories = (name,) if isinstance(name, str) else ()
        return cls._from_fields(data, tuple(categories), None, None, source)

    @classmethod
    def _from_fields(
        cls,
        data: Mapping[str, Any],
        categories: tuple[str, ...],
        flip_index: Sequence[int] | None,
        sigmas: Sequence[float] | None,
        source: str,
    ) -> KeypointSet:
        names = data.get("keypoints")
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise KeypointSetError(
                f"{source} has no 'keypoints' name list (got {_short(names)}); a keypoint "
                "category lists its keypoint names under 'keypoints'"
            )
        names = tuple(names)
        skeleton, kept = _skeleton_from_coco(data.get("skeleton"), names, source)
        raw = data.get("skeleton")
        limb_count = len(raw) if isinstance(raw, (list, tuple)) else 0
        colors = _drawing_colors(data.get("colors"), len(names), "colors", "keypoint", source)
        limb_colors = data.get("limb_colors")
        if limb_count and not kept:
            limb_colors = None  # the skeleton was dropped (and said so): nothing to colour
        limb_colors = _drawing_colors(limb_colors, limb_count, "limb_colors", "limb", source, kept)
        if flip_index is None and data.get("flip_index") is not None:
            flip_index = data["flip_index"]
        elif flip_index is None and data.get("flip_pairs") is not None:
            flip_index = flip_index_from_names(names, source, data["flip_pairs"])
        sigma_source = None
        if sigmas is None and data.get("sigmas") is not None:
            sigmas = data["sigmas"]
            sigma_source = data.get("sigma_source")
        elif sigmas is not None:
            sigma_source = "given"
        index = {n: i for i, n in enumerate(names)}

        def body(key: str) -> tuple[int, ...] | None:
            value = data.get(key)
            if value is None:
                return None
            unknown = [v for v in value if v not in index] if isinstance(value, list) else [value]
            if unknown:
                raise KeypointSetError(
                    f"{source}: {key} must list keypoint names of the set; {_short(unknown)} "
                    "are not"
                )
            return tuple(index[v] for v in value)

        return cls(
            names,
            skeleton,
            flip_index=flip_index,
            sigmas=sigmas,
            sigma_source=sigma_source,
            categories=categories,
            colors=colors,
            limb_colors=limb_colors,
            upper_body=body("upper_body"),
            lower_body=body("lower_body"),
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """The set as a JSON-serialisable dict, read back by [`from_dict()`][from_dict].

        Its keys are those of a COCO category (``keypoints``, ``skeleton`` 1-based) and
        cgalib's (``flip_index``, ``sigmas``, ``sigma_source``, ``categories``, and the
        optional ``colors``, ``limb_colors``, ``upper_body``, ``lower_body`` as names).

        Returns:
            The dict.
        """
        out: dict[str, Any] = {
            "keypoints": list(self.names),
            "skeleton": [[a + 1, b + 1] for a, b in self.skeleton],
            "flip_index": list(self.flip_index),
            "sigmas": list(self.sigmas),
            "sigma_source": self.sigma_source,
            "categories": list(self.categories),
        }
        for key in ("colors", "limb_colors"):
            if getattr(self, key) is not None:
                out[key] = list(getattr(self, key))
        for key in ("upper_body", "lower_body"):
            if getattr(self, key) is not None:
                out[key] = [self.names[i] for i in getattr(self, key)]
        return out

    # ------------------------------------------------------------------------- views
    def __len__(self) -> int:
        """``K``, the number of keypoints."""
        return len(self.names)

    @property
    def num_keypoints(self) -> int:
        """``K``, the number of keypoints."""
        return len(self.names)

    @property
    def sides(self) -> tuple[str, ...]:
        """``"left"``, ``"right"`` or ``"center"`` for each keypoint, from its name."""
        return tuple(keypoint_side(n)[0] for n in self.names)

    def is_coco(self) -> bool:
        """Whether the keypoints are COCO's 17 (names in COCO's order)."""
        return self.names == _COCO_NAMES

    def describe(self) -> str:
        """A short description for messages, e.g. ``"14 keypoints (left_shoulder, ...)"``.

        Example:
            >>> KeypointSet.coco().describe()
            "17 keypoints of 'person' (nose, left_eye, right_eye, ...)"
        """
        what = f" of {', '.join(map(repr, self.categories))}" if self.categories else ""
        head = ", ".join(self.names[:3]) + (", ..." if len(self.names) > 3 else "")
        return f"{len(self.names)} keypoints{what} ({head})"


@functools.cache
def _coco_set() -> KeypointSet:
    return KeypointSet._coco()


def _colors(values: Any, count: int, key: str, what: str, source: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    values = tuple(values) if isinstance(values, (list, tuple)) else None
    if values is None or len(values) != count or not all(isinstance(v, str) for v in values):
        raise KeypointSetError(
            f"{source}: {key} must list {count} colour names, one per {what}, got {_short(values)}"
        )
    return values


def _indices(values: Any, k: int, key: str, source: str) -> tuple[int, ...] | None:
    if values is None:
        return None
    ok = isinstance(values, (list, tuple)) and all(_is_int(v) and 0 <= v < k for v in values)
    if not ok or len(set(values)) != len(values):
        raise KeypointSetError(
            f"{source}: {key} must list distinct keypoint indices in 0..{k - 1}, got "
            f"{_short(values)}"
        )
    return tuple(int(v) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
