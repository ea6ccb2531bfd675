import io

from cgalib.utils.progress import ProgressBar, progress


def test_a_log_gets_whole_lines_not_carriage_returns():
    out = io.StringIO()
    list(progress(range(100), desc="work", stream=out))
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3  # the first draw and the final state, not one per step
    assert lines[-1].startswith("work") and "100/100" in lines[-1]


def test_disabled_bar_is_silent():
    out = io.StringIO()
    bar = ProgressBar(3, stream=out, enabled=False)
    bar.update(3)
    bar.close()
    assert out.getvalue() == ""


def test_fields_and_count_are_shown():
    out = io.StringIO()
    bar = ProgressBar(None, "x", stream=out)
    bar.update(2, loss=1.23456, lr="1e-2")
    assert bar.count == 2
    bar.close()
    assert "loss=1.23" in out.getvalue() and "lr=1e-2" in out.getvalue()
