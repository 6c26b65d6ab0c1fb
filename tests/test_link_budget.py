"""Tests of simfl.network.link_budget: free-space path loss and Shannon rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.network.link_budget import (
    BOLTZMANN_DBW_PER_K_HZ,
    SPEED_OF_LIGHT_M_PER_S,
    LinkBudget,
    free_space_path_loss_db,
)

BOLTZMANN_J_PER_K = 1.380649e-23
one_millidb = 1e-3


def test_fspl_at_1000_km_and_12_ghz() -> None:
    d_m, f_hz = 1.0e6, 12.0e9
    expected = 20 * math.log10(d_m) + 20 * math.log10(f_hz) + 20 * math.log10(
        4 * math.pi / 299_792_458.0
    )
    assert float(free_space_path_loss_db(1000.0, 12e9)) == pytest.approx(expected, abs=one_millidb)
    assert expected == pytest.approx(174.03, abs=0.01)


def test_fspl_matches_the_km_ghz_rule_of_thumb() -> None:
    # FSPL = 92.45 dB + 20 log10(d / km) + 20 log10(f / GHz)
    expected = 92.45 + 20 * math.log10(550.0) + 20 * math.log10(2.2)
    assert float(free_space_path_loss_db(550.0, 2.2e9)) == pytest.approx(expected, abs=0.01)


def test_fspl_grows_6_db_per_doubling_of_range() -> None:
    loss = free_space_path_loss_db(np.array([500.0, 1000.0, 2000.0]), 12e9)
    assert loss.shape == (3,)
    assert np.diff(loss) == pytest.approx([20 * math.log10(2)] * 2, abs=1e-9)


def test_boltzmann_constant_in_dbw() -> None:
    assert pytest.approx(10 * math.log10(BOLTZMANN_J_PER_K), abs=1e-5) == BOLTZMANN_DBW_PER_K_HZ
    assert SPEED_OF_LIGHT_M_PER_S == 299_792_458.0


BUDGET = LinkBudget(frequency_hz=12e9, bandwidth_hz=100e6, tx_power_dbw=10.0, tx_gain_dbi=30.0,
                    rx_gain_dbi=40.0, system_noise_temp_k=500.0, losses_db=3.0)


def hand_snr_linear(range_km: float) -> float:
    """SNR = P G_t G_r / (L FSPL k T B), all linear, from first principles."""
    p_w = 10.0  # 10 dBW
    gains = 10 ** (30 / 10) * 10 ** (40 / 10) / 10 ** (3 / 10)
    fspl = (4 * math.pi * range_km * 1e3 * 12e9 / 299_792_458.0) ** 2
    noise_w = BOLTZMANN_J_PER_K * 500.0 * 100e6
    return p_w * gains / (fspl * noise_w)


def test_snr_matches_hand_computation() -> None:
    expected_db = 10 * math.log10(hand_snr_linear(1000.0))
    assert float(BUDGET.snr_db(1000.0)) == pytest.approx(expected_db, abs=one_millidb)
    assert expected_db == pytest.approx(24.58, abs=0.01)


def test_rate_is_shannon_capacity_at_hand_snr() -> None:
    expected_bps = 100e6 * math.log2(1 + hand_snr_linear(1000.0))
    assert float(BUDGET.rate_bps(1000.0)) == pytest.approx(expected_bps, rel=1e-6)
    assert expected_bps == pytest.approx(8.17e8, rel=0.01)


def test_efficiency_scales_rate() -> None:
    half = LinkBudget(frequency_hz=12e9, bandwidth_hz=100e6, tx_power_dbw=10.0, tx_gain_dbi=30.0,
                      rx_gain_dbi=40.0, system_noise_temp_k=500.0, losses_db=3.0,
                      efficiency=0.5)
    assert float(half.rate_bps(800.0)) == pytest.approx(0.5 * float(BUDGET.rate_bps(800.0)))


def test_rate_decreases_with_range() -> None:
    ranges_km = np.linspace(500.0, 3000.0, 26)
    rates = BUDGET.rate_bps(ranges_km)
    assert rates.shape == ranges_km.shape
    assert np.all(np.diff(rates) < 0)


def test_losses_lower_snr_one_for_one() -> None:
    lossless = LinkBudget(frequency_hz=12e9, bandwidth_hz=100e6, tx_power_dbw=10.0,
                          tx_gain_dbi=30.0, rx_gain_dbi=40.0, system_noise_temp_k=500.0)
    assert float(lossless.snr_db(1000.0) - BUDGET.snr_db(1000.0)) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("frequency_hz", 0.0, "frequency_hz must be > 0, got 0.0"),
     ("bandwidth_hz", -1.0, "bandwidth_hz must be > 0, got -1.0"),
     ("system_noise_temp_k", 0.0, "system_noise_temp_k must be > 0, got 0.0"),
     ("bandwidth_hz", float("nan"), "bandwidth_hz must be > 0, got nan"),
     ("efficiency", 0.0, r"efficiency must be in \(0, 1\], got 0.0"),
     ("efficiency", 1.5, r"efficiency must be in \(0, 1\], got 1.5")],
)
def test_invalid_parameters_are_rejected(field: str, value: float, message: str) -> None:
    kwargs = {"frequency_hz": 12e9, "bandwidth_hz": 1e6, "tx_power_dbw": 0.0, field: value}
    with pytest.raises(SimflError, match=message):
        LinkBudget(**kwargs)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(SimflError) as caught:
        LinkBudget(frequency_hz=0.0, bandwidth_hz=0.0, tx_power_dbw=0.0, efficiency=2.0)
    assert len(caught.value.problems) == 3
