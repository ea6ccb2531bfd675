import pytest

from cgalib.engine import MetricsLog


def _log(path, steps):
    log = MetricsLog(path)
    for step in steps:
        log.append({"epoch": 1, "step": step, "loss": step / 10})
    return log


def test_append_writes_one_header(tmp_path):
    log = _log(tmp_path / "m.csv", [1, 2])
    assert (tmp_path / "m.csv").read_text().splitlines() == [
        "epoch,step,loss",
        "1,1,0.1",
        "1,2,0.2",
    ]
    assert [r["loss"] for r in log.rows()] == ["0.1", "0.2"]


def test_truncate_cuts_rows_past_the_step_and_a_torn_last_line(tmp_path):
    log = _log(tmp_path / "m.csv", [10, 20, 30])
    with (tmp_path / "m.csv").open("a") as f:
        f.write("1,4")  # a row cut short by SIGKILL
    assert log.truncate(20) == 2
    assert [r["step"] for r in log.rows()] == ["10", "20"]
    log.append({"epoch": 1, "step": 30, "loss": 3.0})
    assert [r["step"] for r in log.rows()] == ["10", "20", "30"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_truncate_without_anything_to_remove_leaves_the_file(tmp_path):
    log = _log(tmp_path / "m.csv", [10, 20])
    before = (tmp_path / "m.csv").stat().st_mtime_ns
    assert log.truncate(20) == 0 and MetricsLog(tmp_path / "none.csv").truncate(5) == 0
    assert (tmp_path / "m.csv").stat().st_mtime_ns == before


def test_a_csv_without_steps_is_refused(tmp_path):
    (tmp_path / "m.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no 'step' column"):
        MetricsLog(tmp_path / "m.csv").truncate(3)
