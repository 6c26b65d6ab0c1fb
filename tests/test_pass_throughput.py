"""Tests of simfl.network.pass_throughput: bits and finish times over a sampled rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfl.network.pass_throughput import RateProfile

one_microsecond = 1e-6
one_nanosecond = 1e-9


def profile(t_s: list[float], rate_bps: list[float]) -> RateProfile:
    return RateProfile(np.array(t_s, dtype=float), np.array(rate_bps, dtype=float))


# --- finish times, computed by hand -------------------------------------------------------


def test_constant_rate_finishes_after_bits_over_rate() -> None:
    prof = profile([100.0, 110.0, 120.0], [8.0, 8.0, 8.0])
    assert prof.finish_time_s(102.0, 40.0) == pytest.approx(107.0, abs=one_nanosecond)


def test_rising_ramp_solves_the_quadratic() -> None:
    # rate(t) = 4 + 2 t, bits(0 -> t) = 4 t + t^2 = 21  =>  t = 3
    prof = profile([0.0, 10.0], [4.0, 24.0])
    assert prof.finish_time_s(0.0, 21.0) == pytest.approx(3.0, abs=one_nanosecond)


def test_ramp_from_zero_rate_solves_the_quadratic() -> None:
    # rate(t) = t, bits(2 -> t) = (t^2 - 4) / 2 = 30  =>  t = 8
    prof = profile([0.0, 10.0], [0.0, 10.0])
    assert prof.finish_time_s(2.0, 30.0) == pytest.approx(8.0, abs=one_nanosecond)


def test_falling_ramp_takes_the_root_inside_the_interval() -> None:
    # rate(t) = 20 - 2 t, bits(0 -> t) = 20 t - t^2 = 75  =>  t = 5 (not 15)
    prof = profile([0.0, 10.0], [20.0, 0.0])
    assert prof.finish_time_s(0.0, 75.0) == pytest.approx(5.0, abs=one_nanosecond)


def test_start_mid_interval_of_a_ramp() -> None:
    # rate(t) = 4 + 2 t; from t = 1 (5 bits sent by then): 4 t + t^2 = 45  =>  t = 5
    prof = profile([0.0, 10.0], [4.0, 24.0])
    assert prof.finish_time_s(1.0, 40.0) == pytest.approx(5.0, abs=one_nanosecond)


def test_finish_in_a_later_interval_of_the_grid() -> None:
    # 4 bits in [0, 2] at 2 bit/s, then rate 2 + 2 u: 4 + 2 u + u^2 = 7  =>  u = 1, t = 3
    prof = profile([0.0, 2.0, 4.0], [2.0, 2.0, 6.0])
    assert prof.finish_time_s(0.0, 7.0) == pytest.approx(3.0, abs=one_nanosecond)


def test_finish_exactly_at_the_window_end() -> None:
    prof = profile([0.0, 10.0], [20.0, 0.0])  # 100 bits in the whole window
    assert prof.finish_time_s(0.0, 100.0) == pytest.approx(10.0, abs=one_nanosecond)


def test_bits_past_the_window_end_do_not_finish() -> None:
    prof = profile([0.0, 10.0], [8.0, 8.0])  # 80 bits in the whole window
    assert prof.finish_time_s(0.0, 80.001) is None
    assert prof.finish_time_s(5.0, 40.001) is None


def test_start_after_the_window_does_not_finish() -> None:
    prof = profile([0.0, 10.0], [8.0, 8.0])
    assert prof.finish_time_s(11.0, 1.0) is None


def test_start_before_the_grid_counts_from_its_first_sample() -> None:
    prof = profile([10.0, 20.0], [8.0, 8.0])
    assert prof.finish_time_s(0.0, 16.0) == pytest.approx(12.0, abs=one_nanosecond)


def test_zero_bits_finish_at_the_start() -> None:
    prof = profile([0.0, 10.0], [8.0, 8.0])
    assert prof.finish_time_s(3.5, 0.0) == 3.5


def test_a_zero_rate_stretch_is_waited_through() -> None:
    # 5 bits in [0, 1], nothing in [1, 2], then rate 10 (u) ... bits(2 -> 2 + u) = 5 u^2
    prof = profile([0.0, 1.0, 2.0, 3.0], [10.0, 0.0, 0.0, 10.0])
    assert prof.finish_time_s(0.0, 5.0) == pytest.approx(1.0, abs=one_nanosecond)
    assert prof.finish_time_s(0.0, 5.0 + 1.25) == pytest.approx(2.5, abs=one_nanosecond)


def test_nearly_constant_high_rate_is_accurate_to_a_microsecond() -> None:
    # rate(t) = 1e9 + 1e-3 t: the slope is tiny next to the rate; the textbook root
    # (-b + sqrt(b^2 + ...)) / 2a cancels and misses by ~2e-5 s at t = 3 and 9.
    prof = profile([0.0, 10.0], [1e9, 1e9 + 1e-2])
    for t in (3.0, 9.0):
        nbits = 1e9 * t + 0.5e-3 * t * t
        assert prof.finish_time_s(0.0, nbits) == pytest.approx(t, abs=one_microsecond)


# --- bits ----------------------------------------------------------------------------------


def test_bits_until_integrates_the_linear_rate() -> None:
    prof = profile([0.0, 2.0, 4.0], [2.0, 2.0, 6.0])
    assert prof.bits_until(1.0) == pytest.approx(2.0)
    assert prof.bits_until(3.0) == pytest.approx(4.0 + 2.0 + 1.0)
    assert prof.bits_until(4.0) == pytest.approx(12.0)


def test_bits_until_is_clipped_to_the_grid() -> None:
    prof = profile([0.0, 10.0], [8.0, 8.0])
    assert prof.bits_until(-5.0) == 0.0
    assert prof.bits_until(50.0) == pytest.approx(80.0)


def test_bits_between_reversed_times_is_zero() -> None:
    prof = profile([0.0, 10.0], [8.0, 8.0])
    assert prof.bits_between(6.0, 2.0) == 0.0


def test_end_s_is_the_last_sample() -> None:
    assert profile([0.0, 3.0, 7.5], [1.0, 1.0, 1.0]).end_s == 7.5


# --- properties ----------------------------------------------------------------------------


@st.composite
def grids(draw: st.DrawFn) -> RateProfile:
    """Draw a profile: 2..12 samples in [0, 1000] s, rates in [1 kbit/s, 1 Gbit/s]."""
    n = draw(st.integers(2, 12))
    steps = draw(st.lists(st.floats(0.5, 100.0), min_size=n - 1, max_size=n - 1))
    t = np.concatenate([[0.0], np.cumsum(steps)])
    rates = draw(st.lists(st.floats(1e3, 1e9), min_size=n, max_size=n))
    return RateProfile(t, np.array(rates))


@settings(max_examples=200, deadline=None)
@given(prof=grids(), fractions=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3))
def test_bits_between_is_additive(prof: RateProfile, fractions: list[float]) -> None:
    a, b, c = sorted(prof.t_s[0] + f * (prof.end_s - prof.t_s[0]) for f in fractions)
    whole = prof.bits_between(a, c)
    assert prof.bits_between(a, b) + prof.bits_between(b, c) == pytest.approx(
        whole, rel=1e-12, abs=1e-6
    )


@settings(max_examples=200, deadline=None)
@given(prof=grids(), fractions=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2))
def test_finish_time_inverts_bits_between(prof: RateProfile, fractions: list[float]) -> None:
    # Rates >= 1 kbit/s and <= 1e12 bits in total: float rounding of the bits (< 1e-3 bit)
    # moves the finish by < 1 microsecond.
    start, t = sorted(prof.t_s[0] + f * (prof.end_s - prof.t_s[0]) for f in fractions)
    done = prof.finish_time_s(start, prof.bits_between(start, t))
    assert done is not None
    assert done == pytest.approx(t, abs=one_microsecond)


# --- invalid grids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_s", "rate_bps", "match"),
    [
        ([0.0], [1.0], "same length >= 2"),
        ([0.0, 1.0, 2.0], [1.0, 1.0], "same length >= 2"),
        ([[0.0, 1.0]], [[1.0, 1.0]], "1-D"),
        ([0.0, 2.0, 1.0], [1.0, 1.0, 1.0], "strictly increasing"),
        ([0.0, 1.0, 1.0], [1.0, 1.0, 1.0], "strictly increasing"),
        ([0.0, math.nan, 2.0], [1.0, 1.0, 1.0], "finite"),
        ([0.0, math.inf], [1.0, 1.0], "finite"),
        ([0.0, 1.0], [1.0, -1.0], ">= 0"),
        ([0.0, 1.0], [1.0, math.nan], "finite"),
        ([0.0, 1.0], [math.inf, 1.0], "finite"),
    ],
)
def test_invalid_grids_are_rejected(t_s: list[float], rate_bps: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RateProfile(np.array(t_s), np.array(rate_bps))
