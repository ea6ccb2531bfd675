"""Write ``published_keypoint_sets.json``: the keypoint sets mmpose publishes, as test data.

Each of mmpose's ``configs/_base_/datasets/*.py`` holds one ``dataset_info`` dict whose
``keypoint_info`` gives every keypoint's name and its mirror (``swap``; empty for a centre
point). This script reads those facts from a local mmpose checkout and writes, per set, its
config file, ``dataset_name``, keypoint names in order, its swap pairs (both keypoints name
each other) and its one-sided swaps (a keypoint names a mirror that does not name it back),
with the repository and commit they come from. The tests compare cgalib's flip maps against
them (``test_keypoint_names.py``, ``test_dataset_info.py``).

The config files are plain Python data; they are evaluated here with no builtins, in a
script run by hand on a checkout the developer chose. cgalib's own reader
(``cgalib.utils.dataset_info``) is deliberately not used, so the tests check it
against an independent reading.

Usage::

    python tests/utils/make_published_sets.py /path/to/mmpose [out.json]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).with_name("published_keypoint_sets.json")
REPOSITORY = "https://github.com/open-mmlab/mmpose"


def read_config(path: Path) -> dict:
    """The ``dataset_info`` dict of one mmpose dataset config."""
    namespace: dict = {"__builtins__": {"dict": dict}}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - trusted checkout
    return namespace["dataset_info"]


def published_set(path: Path) -> dict:
    """One set of the fixture: its config file, dataset name, names and swap pairs."""
    info = read_config(path)
    keys = sorted(info["keypoint_info"])  # the index, as mmpose reads it (not "id")
    assert keys == list(range(len(keys))), path
    entries = [info["keypoint_info"][key] for key in keys]
    names = [entry["name"] for entry in entries]
    swap = {entry["name"]: entry.get("swap") or entry["name"] for entry in entries}
    pairs, one_sided = [], []
    for name in names:
        other = swap[name]
        if other == name or [other, name] in pairs:
            continue
        (pairs if swap.get(other) == name else one_sided).append([name, other])
    return {
        "file": f"configs/_base_/datasets/{path.name}",
        "dataset_name": info["dataset_name"],
        "keypoints": names,
        "swap_pairs": pairs,
        "one_sided_swaps": one_sided,
    }


def _compact(data: dict) -> str:
    """JSON with one line per field of a set (a set's names on one line), for short diffs."""
    sets = []
    for key, one in data["sets"].items():
        fields = ",\n".join(f"   {json.dumps(k)}: {json.dumps(v)}" for k, v in one.items())
        sets.append(f"  {json.dumps(key)}: {{\n{fields}\n  }}")
    sets_text = ",\n".join(sets)
    return f'{{\n "source": {json.dumps(data["source"])},\n "sets": {{\n{sets_text}\n }}\n}}\n'


def main(argv: list[str]) -> int:
    """Read the checkout named by ``argv[0]``; write the fixture (to ``argv[1]`` if given)."""
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    checkout = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else OUT
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    files = sorted((checkout / "configs" / "_base_" / "datasets").glob("*.py"))
    data = {
        "source": {
            "repository": REPOSITORY,
            "commit": commit,
            "files": "configs/_base_/datasets/*.py (dataset_info.keypoint_info)",
        },
        "sets": {path.stem: published_set(path) for path in files},
    }
    out.write_text(_compact(data))
    print(f"{out}: {len(data['sets'])} keypoint sets from {REPOSITORY} at {commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
