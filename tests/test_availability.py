"""Tests of simfl.devices.availability: on/off periods, periodic and random."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from simfl.devices.availability import Availability


def on_seconds(availability: Availability, t0_s: float, t1_s: float) -> float:
    """Return the on-time inside [t0_s, t1_s] by walking on_interval."""
    total = 0.0
    t = t0_s
    while t < t1_s:
        start, end = availability.on_interval(t)
        if start >= t1_s:
            break
        total += min(end, t1_s) - max(start, t)
        t = end
    return total


def intervals(availability: Availability, t0_s: float, count: int) -> list[tuple[float, float]]:
    out = []
    t = t0_s
    for _ in range(count):
        start, end = availability.on_interval(t)
        out.append((start, end))
        t = end
    return out


# --- periodic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_s", "expected"),
    [(0.0, (0.0, 2.0)), (1.5, (0.0, 2.0)), (2.0, (10.0, 12.0)), (9.999, (10.0, 12.0)),
     (10.0, (10.0, 12.0)), (35.0, (40.0, 42.0)), (-9.0, (-10.0, -8.0))],
)
def test_periodic_on_interval(t_s: float, expected: tuple[float, float]) -> None:
    assert Availability(2.0, 8.0).on_interval(t_s) == expected


def test_phase_shifts_the_pattern() -> None:
    # 5 s into the 10 s cycle at t=0: off until t=5.
    availability = Availability(2.0, 8.0, phase_s=5.0)
    assert availability.on_interval(0.0) == (5.0, 7.0)
    assert availability.on_interval(7.0) == (15.0, 17.0)


def test_phase_inside_on_period() -> None:
    assert Availability(2.0, 8.0, phase_s=1.0).on_interval(0.0) == (-1.0, 1.0)


def test_phase_is_taken_modulo_the_period() -> None:
    assert Availability(2.0, 8.0, phase_s=25.0).on_interval(0.0) == (5.0, 7.0)
    assert Availability(2.0, 8.0, phase_s=25.0).phase_s == 5.0


@pytest.mark.parametrize(
    ("t_s", "busy_s", "expected"),
    [(0.0, 1.0, 1.0), (0.0, 2.0, 2.0), (0.0, 4.0, 12.0), (1.0, 3.0, 12.0), (0.0, 7.0, 31.0),
     (5.0, 1.0, 11.0), (10.0, 2.0, 12.0)],
)
def test_periodic_finish_time(t_s: float, busy_s: float, expected: float) -> None:
    assert Availability(2.0, 8.0).finish_time_s(t_s, busy_s) == expected


def test_finish_time_with_phase() -> None:
    assert Availability(2.0, 8.0, phase_s=5.0).finish_time_s(0.0, 3.0) == 16.0


def test_off_zero_is_always_on() -> None:
    availability = Availability(3.0, 0.0)
    assert availability.on_interval(17.0) == (17.0, math.inf)
    assert availability.finish_time_s(4.0, 100.0) == 104.0


def test_random_off_zero_is_always_on() -> None:
    availability = Availability(3.0, 0.0, random=True, rng=np.random.default_rng(0))
    assert availability.finish_time_s(4.0, 100.0) == 104.0


@pytest.mark.parametrize(("on_s", "off_s"), [(0.0, 1.0), (-1.0, 1.0), (1.0, -0.5)])
def test_invalid_durations_are_rejected(on_s: float, off_s: float) -> None:
    with pytest.raises(ValueError, match="on_s must be > 0 and off_s >= 0"):
        Availability(on_s, off_s)


def test_random_needs_an_rng() -> None:
    with pytest.raises(ValueError, match="random availability needs an rng"):
        Availability(1.0, 1.0, random=True)


# --- random ----------------------------------------------------------------------------------


def random_availability(seed: int, on_s: float = 3.0, off_s: float = 1.0) -> Availability:
    return Availability(on_s, off_s, random=True, rng=np.random.default_rng(seed))


def test_random_is_deterministic_per_seed() -> None:
    assert intervals(random_availability(5), 0.0, 50) == intervals(random_availability(5), 0.0, 50)


def test_random_differs_across_seeds() -> None:
    assert intervals(random_availability(5), 0.0, 5) != intervals(random_availability(6), 0.0, 5)


def test_random_does_not_depend_on_query_order() -> None:
    forward = random_availability(9)
    backward = random_availability(9)
    times = [0.0, 3.3, 50.0, 120.0, 400.0]
    backward_answers = {t: backward.on_interval(t) for t in reversed(times)}
    assert {t: forward.on_interval(t) for t in times} == backward_answers


def test_random_intervals_are_ordered_and_disjoint() -> None:
    spans = intervals(random_availability(1), 0.0, 500)
    assert all(start < end for start, end in spans)
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans))


def test_random_on_interval_contains_or_follows_t() -> None:
    availability = random_availability(2)
    for t_s in np.linspace(0.0, 300.0, 1001):
        start, end = availability.on_interval(float(t_s))
        assert t_s < end
        if start > t_s:  # t is in an off-gap: no on-interval may contain it
            assert availability.on_interval(start - 1e-9) == (start, end)


def test_random_long_run_on_fraction() -> None:
    # 20 000 cycles of mean 4 s: the on-fraction is on / (on + off) = 0.75 within ~0.3 %.
    horizon_s = 80_000.0
    fraction = on_seconds(random_availability(3), 0.0, horizon_s) / horizon_s
    assert fraction == pytest.approx(0.75, abs=0.01)


def test_random_mean_durations() -> None:
    spans = intervals(random_availability(4, on_s=3.0, off_s=1.0), 0.0, 20_000)
    on = np.array([end - start for start, end in spans])
    off = np.array([b[0] - a[1] for a, b in itertools.pairwise(spans)])
    assert on.mean() == pytest.approx(3.0, rel=0.03)
    assert off.mean() == pytest.approx(1.0, rel=0.03)


def test_random_finish_time_spends_exactly_busy_on_seconds() -> None:
    availability = random_availability(8)
    for t_s, busy_s in [(0.0, 0.5), (10.0, 7.0), (123.4, 40.0)]:
        end = availability.finish_time_s(t_s, busy_s)
        assert on_seconds(availability, t_s, end) == pytest.approx(busy_s, rel=1e-9)
        assert end >= t_s + busy_s
