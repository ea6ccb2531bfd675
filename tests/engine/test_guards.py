import math

import pytest

from cgalib.engine import DIVERGENCE_GUARD, DivergenceGuard


def test_spikes_reset_and_a_sustained_excursion_is_confirmed():
    monitor = DivergenceGuard(factor=10, patience=3, window=4).monitor()
    assert not any(monitor.update(x) for x in (2.0, 1.0, 1.5, 40.0, 1.2, 40.0, 40.0))
    assert monitor.streak == 2 and monitor.median == pytest.approx(1.35)
    assert monitor.update(1e18)  # the third in a row


def test_suspicious_losses_do_not_enter_the_median():
    monitor = DivergenceGuard(factor=10, patience=100, window=3).monitor()
    for x in [1.0] + [50.0] * 20:
        monitor.update(x)
    assert monitor.median == 1.0 and monitor.streak == 20


def test_falling_loss_moves_the_reference_down():
    monitor = DivergenceGuard(factor=10, patience=2, window=3).monitor()
    for x in (10.0, 5.0, 1.0, 0.5, 0.2, 0.1):
        assert not monitor.update(x)
    assert monitor.median == 0.2
    assert not monitor.update(3.0) and monitor.update(3.0)  # 15x the new level


def test_state_round_trip_continues_identically():
    guard = DivergenceGuard(patience=3, window=5)
    losses = [1.0, 0.8, 30.0, 0.7, 40.0, 50.0, 60.0]
    whole = guard.monitor()
    expected = [whole.update(x) for x in losses]
    first = guard.monitor()
    for x in losses[:5]:
        first.update(x)
    second = guard.monitor(first.state_dict())
    assert [second.update(x) for x in losses[5:]] == expected[5:] == [False, True]


def test_defaults_and_bad_settings():
    assert DIVERGENCE_GUARD == DivergenceGuard(10.0, 50, 200)
    assert math.isnan(DIVERGENCE_GUARD.monitor().median)
    with pytest.raises(ValueError, match="factor must be above 1, got 1"):
        DivergenceGuard(factor=1)
    with pytest.raises(ValueError, match="patience must be at least 1, got 0"):
        DivergenceGuard(patience=0)
    with pytest.raises(AttributeError):
        DIVERGENCE_GUARD.factor = 2  # settings are fixed
