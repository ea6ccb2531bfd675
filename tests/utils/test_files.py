import pytest

from cgalib.utils import atomic_open


def test_atomic_open_replaces_only_on_success(tmp_path):
    path = tmp_path / "sub" / "out.json"
    with atomic_open(path) as f:
        f.write("old")
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write("half of the new")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]  # no temporary left
    with atomic_open(path, "wb") as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), atomic_open(path, "a"):
        pass
