"""Tests of simfl.devices.compute_profile: device speed distributions and compute time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simfl.devices.compute_profile import ComputeProfile, compute_time_s
from simfl.errors import SimflError


def test_fixed_gives_every_device_the_same_speed() -> None:
    speeds = ComputeProfile("fixed", flops_per_s=3e9).draw_flops_per_s(4, np.random.default_rng())
    assert speeds.shape == (4,)
    assert speeds.tolist() == [3e9] * 4


def test_lognormal_median_and_log_spread() -> None:
    profile = ComputeProfile("lognormal", flops_per_s=2e9, sigma=0.4)
    speeds = profile.draw_flops_per_s(40_000, np.random.default_rng(0))
    assert np.median(speeds) == pytest.approx(2e9, rel=0.02)
    assert np.std(np.log(speeds)) == pytest.approx(0.4, rel=0.02)


def test_lognormal_with_zero_sigma_is_fixed() -> None:
    profile = ComputeProfile("lognormal", flops_per_s=2e9, sigma=0.0)
    assert profile.draw_flops_per_s(3, np.random.default_rng(0)).tolist() == [2e9] * 3


def test_uniform_stays_within_bounds_and_spans_them() -> None:
    profile = ComputeProfile("uniform", low_flops_per_s=1e9, high_flops_per_s=3e9)
    speeds = profile.draw_flops_per_s(20_000, np.random.default_rng(0))
    assert speeds.min() >= 1e9
    assert speeds.max() < 3e9
    assert speeds.mean() == pytest.approx(2e9, rel=0.01)
    assert speeds.min() < 1.01e9
    assert speeds.max() > 2.99e9


def test_uniform_with_equal_bounds() -> None:
    profile = ComputeProfile("uniform", low_flops_per_s=1e9, high_flops_per_s=1e9)
    assert profile.draw_flops_per_s(2, np.random.default_rng(0)).tolist() == [1e9, 1e9]


@pytest.mark.parametrize("distribution", ["lognormal", "uniform"])
def test_draws_are_deterministic_per_rng_seed(distribution: str) -> None:
    profile = ComputeProfile(distribution)  # type: ignore[arg-type]
    first = profile.draw_flops_per_s(5, np.random.default_rng(11))
    again = profile.draw_flops_per_s(5, np.random.default_rng(11))
    other = profile.draw_flops_per_s(5, np.random.default_rng(12))
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_profile_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ComputeProfile().flops_per_s = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("flops_per_s", [0.0, -1e9, float("nan")])
def test_non_positive_speed_is_rejected(flops_per_s: float) -> None:
    with pytest.raises(SimflError, match="flops_per_s must be > 0, got"):
        ComputeProfile(flops_per_s=flops_per_s)


@pytest.mark.parametrize("sigma", [-0.1, float("nan")])
def test_negative_sigma_is_rejected(sigma: float) -> None:
    with pytest.raises(SimflError, match="sigma must be >= 0, got"):
        ComputeProfile("lognormal", sigma=sigma)


@pytest.mark.parametrize(("low", "high"), [(3e9, 1e9), (0.0, 1e9), (-1.0, 1e9)])
def test_bad_uniform_bounds_are_rejected(low: float, high: float) -> None:
    with pytest.raises(SimflError, match="uniform needs 0 < low_flops_per_s <= high_flops_per_s"):
        ComputeProfile("uniform", low_flops_per_s=low, high_flops_per_s=high)


def test_uniform_bounds_are_ignored_for_fixed() -> None:
    profile = ComputeProfile("fixed", low_flops_per_s=3e9, high_flops_per_s=1e9)
    assert profile.flops_per_s == 1e9


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(SimflError) as caught:
        ComputeProfile("uniform", flops_per_s=0.0, sigma=-1.0, low_flops_per_s=0.0)
    assert len(caught.value.problems) == 3


def test_compute_time_is_flops_over_speed() -> None:
    assert compute_time_s(3e9, 2e9) == 1.5
    assert compute_time_s(0, 2e9) == 0.0


def test_compute_time_rejects_negative_flops() -> None:
    with pytest.raises(ValueError, match="flops must be >= 0, got -1"):
        compute_time_s(-1, 1e9)
