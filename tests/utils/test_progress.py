import io

from cgalib.utils.progress import ProgressBar, progress


def test_non_tty_prints_every_ten_percent():
    out = io.StringIO()
    list(progress(range(100), desc="work", stream=out))
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 0%..100% deciles
    assert lines[-1].startswith("work 100/100")


def test_disabled_bar_is_silent():
    out = io.StringIO()
    bar = ProgressBar(3, stream=out, enabled=False)
    bar.update(3)
    bar.close()
    assert out.getvalue() == ""


def test_fields_are_shown():
    out = io.StringIO()
    bar = ProgressBar(None, "x", stream=out)
    bar.update(2, loss=1.23456, lr="1e-2")
    bar.close()
    assert "loss=1.235" in out.getvalue() and "lr=1e-2" in out.getvalue()
