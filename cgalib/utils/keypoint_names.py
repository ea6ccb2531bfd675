"""What a keypoint name says about its mirror: its words, its body side, its place in a
numbered layout.

A horizontal flip swaps each keypoint with its mirror. Most keypoint sets name their
keypoints so that the mirror can be read off the name, in one of several styles:
``left_wrist``, ``L_Wrist``, ``wrist_left``, ``hip_r``, ``front-left-paw`` (words between
separators), ``leftShoulder``, ``LShoulder``, ``REye``, ``eyeL``, ``forelegL1`` (camelCase,
as in OpenPose, MediaPipe and the fly/locust/zebra sets).
[`keypoint_words()`][keypoint_words] splits a name into words and
[`keypoint_side()`][keypoint_side] finds its one side word.

Face landmark sets instead number their points (``kpt-0`` .. ``kpt-67`` of 300W,
``face-0`` .. ``face-67`` inside COCO-WholeBody and Halpe): the number is a place in a
known layout, and so is the mirror. [`layout_mirror_pairs()`][layout_mirror_pairs] pairs
such names from the tables of [`LAYOUT_MIRROR_TABLES`][LAYOUT_MIRROR_TABLES] (the 68-point
face of iBUG 300-W, [`FACE68_MIRROR_PAIRS`][FACE68_MIRROR_PAIRS]) and returns the numbered
groups it has no table for, so that they are reported instead of silently kept in place.

Example:
    >>> keypoint_words("forelegL1"), keypoint_side("LShoulder")
    (('foreleg', 'l', '1'), ('left', ('shoulder',)))
    >>> pairs, unknown = layout_mirror_pairs([f"kpt-{i}" for i in range(68)])
    >>> pairs[0], unknown
    ((0, 16), {})
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

__all__ = [
    "FACE68_MIRROR_PAIRS",
    "INDEX_WORDS",
    "LAYOUT_MIRROR_TABLES",
    "keypoint_side",
    "keypoint_words",
    "layout_mirror_pairs",
    "mentions_side",
    "numbered_name",
]

# separators (anything but letters and digits), then the camelCase and letter/digit seams:
# "LShoulder" -> L|Shoulder, "leftShoulder" -> left|Shoulder, "forelegL1" -> foreleg|L|1
_SPLIT = re.compile(
    r"[\W_]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])"
)
_SIDE_WORDS = {"left": "left", "right": "right", "l": "left", "r": "right"}

INDEX_WORDS: frozenset[str] = frozenset(
    {"kpt", "kp", "keypoint", "point", "pt", "p", "landmark", "lmk", "ldmk", "lm", "marker",
     "joint", "j", "face", "id", "idx", "index", "node", "vertex", "v"}
)  # fmt: skip
"""Words that say nothing about a keypoint but that it is one: a name that is one of them
(or nothing) followed by a number (``kpt-3``, ``face_17``, ``Face_5``, ``sss_kpt2``, ``12``)
is a place in a numbered layout, whose mirror only a table of the layout can tell."""

FACE68_MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (0, 16), (1, 15), (2, 14), (3, 13), (4, 12), (5, 11), (6, 10), (7, 9),  # jaw line
    (17, 26), (18, 25), (19, 24), (20, 23), (21, 22),  # eyebrows
    (31, 35), (32, 34),  # nostrils (27-30, the bridge, and 33, the tip, are central)
    (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),  # eyes
    (48, 54), (49, 53), (50, 52), (55, 59), (56, 58),  # outer lips (51, 57 central)
    (60, 64), (61, 63), (65, 67),  # inner lips (62, 66 central)
)  # fmt: skip
"""The mirror pairs of the 68-point face layout of iBUG 300-W (Sagonas et al., 2013), as
0-based point numbers: the layout of 300W, 300-VW, 300W-LP, Multi-PIE's 68 points, dlib's
shape predictor, and the face of COCO-WholeBody, Halpe and UBody. The points on the face's
midline (8, 27-30, 33, 51, 57, 62, 66) are their own mirrors. The tests check these 29
pairs against the swap pairs that mmpose publishes for 300W and COCO-WholeBody."""

LAYOUT_MIRROR_TABLES: Mapping[int, tuple[str, tuple[tuple[int, int], ...]]] = {
    68: ("the 68-point face of iBUG 300-W", FACE68_MIRROR_PAIRS),
}
"""The numbered layouts cgalib knows, by their number of points: ``{count: (description,
0-based mirror pairs)}``. A group of numbered names (see [`numbered_name()`][numbered_name])
with exactly this many points, numbered from 0 or from 1, is mirrored by the table."""


def keypoint_words(name: str) -> tuple[str, ...]:
    """The lower-case words of a keypoint name.

    Words are separated by anything but a letter or a digit (``_``, ``-``, ``.``, spaces,
    ...), and by the seams of camelCase (``leftShoulder``, ``LShoulder``, ``eyeL``) and
    between letters and digits (``forelegL1``); an all-capital word stays one word
    (``LEFT.WRIST``).

    Args:
        name: a keypoint name.

    Returns:
        Its words, lower-case, in order.

    Examples:
        >>> keypoint_words("L_EarBase"), keypoint_words("LEFT.WRIST"), keypoint_words("kpt-12")
        (('l', 'ear', 'base'), ('left', 'wrist'), ('kpt', '12'))
    """
    return tuple(w.lower() for w in _SPLIT.split(name) if w)


def keypoint_side(name: str) -> tuple[str, tuple[str, ...]]:
    """The body side a keypoint name says, and the words left once the side word is removed.

    The side word is ``left``, ``right``, ``l`` or ``r`` as a word of its own (see
    [`keypoint_words()`][keypoint_words]), anywhere in the name: ``left_wrist``,
    ``wrist_left``, ``L_Wrist``, ``hip_r``, ``leftShoulder``, ``LShoulder``, ``eyeL``,
    ``forelegL1``. A name is a centre point when it has no side word, two of them
    (``left_right_hand``), or no other word than a number (``Left``, ``l_``, and the
    lumbar vertebra ``L1``).

    Args:
        name: a keypoint name.

    Returns:
        ``(side, words)``: ``side`` is ``"left"``, ``"right"`` or ``"center"``; ``words``
        the lower-case words without the side word (all of them for a centre point), so
        two names are mirror partners when their sides differ and their words agree.

    Examples:
        >>> keypoint_side("L_Shoulder"), keypoint_side("paw-front-right")
        (('left', ('shoulder',)), ('right', ('paw', 'front')))
        >>> keypoint_side("REye"), keypoint_side("forelegL1")
        (('right', ('eye',)), ('left', ('foreleg', '1')))
        >>> keypoint_side("nose"), keypoint_side("L1")
        (('center', ('nose',)), ('center', ('l', '1')))
    """
    words = keypoint_words(name)
    found = [i for i, w in enumerate(words) if w in _SIDE_WORDS]
    if len(found) != 1:
        return "center", words
    i = found[0]
    rest = words[:i] + words[i + 1 :]
    if all(w.isdigit() for w in rest):
        return "center", words
    return _SIDE_WORDS[words[i]], rest


def mentions_side(name: str) -> bool:
    """Whether a name that [`keypoint_side()`][keypoint_side] reads as a centre point still
    mentions a side: it has two side words (``left_right_hand``) or a word that starts with
    ``left`` or ``right`` (``lefteye``, ``RightHand1`` is read, ``righthand`` is not).

    Args:
        name: a keypoint name.

    Returns:
        ``True`` for such a name; ``False`` for a sided name or a plain centre point.

    Examples:
        >>> mentions_side("lefteye"), mentions_side("left_eye"), mentions_side("nose")
        (True, False, False)
    """
    side, words = keypoint_side(name)
    if side != "center":
        return False
    sides = [w for w in words if w in ("left", "right")]
    glued = [w for w in words if w.startswith(("left", "right")) and w not in ("left", "right")]
    return len(sides) > 1 or bool(glued)


def numbered_name(name: str) -> tuple[str, int] | None:
    """The layout group and point number of a name that is only a place in a numbered
    layout, or ``None``.

    Such a name ends in a number and has before it nothing, or words whose last is one of
    [`INDEX_WORDS`][INDEX_WORDS]: ``kpt-3``, ``face-17``, ``Face_5``, ``sss_kpt2``, ``12``.
    A numbered name with a meaningful word (``thumb1``, ``forelegL1``) is not: its words
    tell what it is.

    Args:
        name: a keypoint name.

    Returns:
        ``(group, number)``: ``group`` is the name without its number (``"kpt-"``), which
        names of one layout share.

    Examples:
        >>> numbered_name("face-17"), numbered_name("sss_kpt2"), numbered_name("thumb1")
        (('face-', 17), ('sss_kpt', 2), None)
    """
    match = re.fullmatch(r"(.*?)(\d+)", name)
    if match is None:
        return None
    words = keypoint_words(match.group(1))
    if words and words[-1] not in INDEX_WORDS:
        return None
    return match.group(1), int(match.group(2))


def layout_mirror_pairs(
    names: Sequence[str], exclude: Collection[int] = ()
) -> tuple[list[tuple[int, int]], dict[str, list[int]]]:
    """The mirror pairs that known numbered layouts give a keypoint set.

    The centre points (by [`keypoint_side()`][keypoint_side]) that are numbered names (by
    [`numbered_name()`][numbered_name]) are grouped by their group; a group whose numbers
    are exactly ``0..n-1`` or ``1..n`` of a layout of
    [`LAYOUT_MIRROR_TABLES`][LAYOUT_MIRROR_TABLES] is paired by its table (the 68
    ``face-N`` points inside COCO-WholeBody's 133 keypoints, for instance).

    Args:
        names: the ``K`` keypoint names.
        exclude: indices to leave out (keypoints whose mirror is given otherwise); a group
            with an excluded member is left out whole, its mirrors being given.

    Returns:
        ``(pairs, unknown)``: ``pairs`` the index pairs into ``names`` from the tables;
        ``unknown`` ``{group: [indices]}`` of the numbered groups no table fits.

    Examples:
        >>> layout_mirror_pairs(["nose", "kpt-1", "kpt-2"])
        ([], {'kpt-': [1, 2]})
    """
    groups: dict[str, dict[int, int]] = {}
    numbers: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        found = numbered_name(name)
        if found is None or keypoint_side(name)[0] != "center":
            continue
        groups.setdefault(found[0], {})[found[1]] = i
        numbers.setdefault(found[0], []).append(found[1])
    skipped = {found[0] for i in exclude if (found := numbered_name(names[i])) is not None}
    pairs: list[tuple[int, int]] = []
    unknown: dict[str, list[int]] = {}
    for group, where in groups.items():
        if group in skipped:
            continue
        count, first = len(numbers[group]), min(where)
        table = LAYOUT_MIRROR_TABLES.get(count)
        numbered_in_order = first in (0, 1) and sorted(numbers[group]) == list(
            range(first, first + count)
        )
        if table is None or not numbered_in_order:
            unknown[group] = sorted(where.values())
            continue
        pairs.extend((where[a + first], where[b + first]) for a, b in table[1])
    return pairs, unknown
