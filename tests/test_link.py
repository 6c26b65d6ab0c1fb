"""Tests of simfl.network.link: link validation and the idle-link transfer time."""

from __future__ import annotations

import dataclasses

import pytest

from simfl.errors import SimflError
from simfl.network.link import Link, transfer_time_s


def test_defaults_to_dedicated() -> None:
    assert Link(0.01, 1e6).sharing == "dedicated"


def test_link_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Link(0.01, 1e6).rate_bps = 2.0  # type: ignore[misc]


@pytest.mark.parametrize("latency_s", [-0.1, float("nan")])
def test_negative_latency_is_rejected(latency_s: float) -> None:
    with pytest.raises(SimflError, match="latency_s must be >= 0, got"):
        Link(latency_s, 1e6)


@pytest.mark.parametrize("rate_bps", [0.0, -5.0, float("nan")])
def test_non_positive_rate_is_rejected(rate_bps: float) -> None:
    with pytest.raises(SimflError, match="rate_bps must be > 0, got"):
        Link(0.0, rate_bps)


def test_error_names_the_bad_value() -> None:
    with pytest.raises(SimflError, match=r"rate_bps must be > 0, got -5\.0"):
        Link(0.0, -5.0)


def test_both_problems_are_reported_at_once() -> None:
    with pytest.raises(SimflError) as caught:
        Link(-1.0, 0.0)
    assert caught.value.problems == ["latency_s must be >= 0, got -1.0",
                                     "rate_bps must be > 0, got 0.0"]


def test_zero_latency_is_allowed() -> None:
    assert Link(0.0, 1.0).latency_s == 0.0


def test_transfer_time_is_latency_plus_bits_over_rate() -> None:
    assert transfer_time_s(1_000_000, 0.1, 8e6) == pytest.approx(1.1, abs=1e-15)
    assert transfer_time_s(3, 0.0, 8.0) == 3.0


def test_transfer_time_of_zero_bytes_is_latency() -> None:
    assert transfer_time_s(0, 0.25, 1e6) == 0.25


def test_transfer_time_rejects_negative_bytes() -> None:
    with pytest.raises(ValueError, match="nbytes must be >= 0, got -1"):
        transfer_time_s(-1, 0.0, 1.0)
