"""The package layers of docs/architecture.md, checked against the imports in the source.

Every ``import``/``from ... import`` of a ``cgalib`` module (function-level imports
included) is read with ``ast``; a package may import only packages of a lower layer, and
nothing inside the package imports the ``cgalib`` facade (``cgalib/__init__.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import cgalib

ROOT = Path(cgalib.__file__).parent

LAYERS: list[tuple[str, ...]] = [
    ("utils", "registry"),
    ("ops", "layers"),
    ("backbones", "heads", "codecs"),
    ("postprocess",),
    ("losses",),
    ("models",),
    ("data", "viz", "export"),
    ("inference",),
    ("eval", "video"),
    ("engine",),
    ("demo",),
    ("cli",),
]
"""Lowest layer first; this is the table docs/architecture.md shows."""

RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "cgalib":
        return None
    return parts[1] if len(parts) > 1 else "cgalib"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _violations(root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel == Path("__init__.py"):
            continue  # the facade re-exports the public names
        source = rel.parts[0].removesuffix(".py")
        if source not in RANK:
            bad.append(f"{rel}: package {source!r} is missing from LAYERS")
            continue
        for module in sorted(_imports(path)):
            target = _package(module)
            if target is None or target == source:
                continue
            if target == "cgalib":
                bad.append(
                    f"{rel} imports the cgalib facade; import from the package that defines "
                    "the name"
                )
            elif target not in RANK or RANK[target] >= RANK[source]:
                bad.append(f"{rel} ({source}) imports {module} ({target}): not a lower layer")
    return bad


def test_no_module_imports_its_own_layer_or_a_higher_one():
    assert _violations() == []


def test_every_package_is_placed_in_a_layer():
    packages = {p.name.removesuffix(".py") for p in ROOT.iterdir() if not p.name.startswith("_")}
    packages.discard("py.typed")
    packages.discard("weights")  # package data (the shipped checkpoints), no code
    assert packages - {"__pycache__"} == set(RANK)


def test_the_check_catches_upward_and_facade_imports(tmp_path):
    fake = tmp_path / "cgalib"
    (fake / "utils").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "utils" / "__init__.py").write_text("def f():\n    from cgalib.models import CGANet\n")
    (fake / "cli.py").write_text("from cgalib import load_model\nfrom cgalib.data import x\n")
    assert _violations(fake) == [
        "cli.py imports the cgalib facade; import from the package that defines the name",
        "utils/__init__.py (utils) imports cgalib.models (models): not a lower layer",
    ]
