"""Inter-satellite link windows against a brute-force 1 s scan, pairs, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.isl import (
    COLUMNS,
    EARTH_RADIUS_KM,
    MAX_ALL_PAIRS_SATELLITES,
    compute_isl_windows,
    isl_range_km,
)
from simfl.orbits.propagate import propagate_ecef
from simfl.orbits.walker import walker_delta

ONE_SECOND = 1.0
ONE_METRE_KM = 1e-3
EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
DURATION_S = 3 * 3600.0
MAX_RANGE_KM = 3000.0
MARGIN_KM = 80.0


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    return walker_delta(53.0, 18, 3, 1, 550.0, EPOCH)


@pytest.fixture(scope="module")
def windows(shell: list[ElementSet]) -> pd.DataFrame:
    return compute_isl_windows(shell, EPOCH, DURATION_S, max_range_km=MAX_RANGE_KM,
                               atmosphere_margin_km=MARGIN_KM, workers=1)


def brute_force(shell: list[ElementSet], step_s: float = 1.0) -> list[tuple]:
    """Return (sat_a, sat_b, start_s, end_s, min_range_km) from a dense scan."""
    t_s = np.arange(0.0, DURATION_S + step_s / 2, step_s)
    r = propagate_ecef(shell, EPOCH, t_s).r_km
    found = []
    for a in range(len(shell)):
        for b in range(a + 1, len(shell)):
            d = r[b] - r[a]
            range_km = np.linalg.norm(d, axis=1)
            s = np.clip(-np.sum(r[a] * d, axis=1) / range_km**2, 0.0, 1.0)
            clearance_km = np.linalg.norm(r[a] + s[:, None] * d, axis=1)
            ok = (range_km <= MAX_RANGE_KM) & (clearance_km >= EARTH_RADIUS_KM + MARGIN_KM)
            edges = np.flatnonzero(np.diff(ok.astype(int)))
            starts: list[int] = [0] if ok[0] else []
            ends: list[int] = []
            for e in edges.tolist():
                (starts if ok[e + 1] else ends).append(e + 1 if ok[e + 1] else e)
            if ok[-1]:
                ends.append(t_s.size - 1)
            for i, j in zip(starts, ends, strict=True):
                found.append((shell[a].name, shell[b].name, t_s[i], t_s[j],
                              range_km[i:j + 1].min()))
    return found


def test_windows_match_a_one_second_scan(shell: list[ElementSet],
                                         windows: pd.DataFrame) -> None:
    expected = brute_force(shell)
    assert len(windows) == len(expected) > 20
    for row, (a, b, start_s, end_s, min_range_km) in zip(
        windows.to_dict("records"), sorted(expected), strict=True
    ):
        assert (row["sat_a"], row["sat_b"]) == (a, b)
        assert abs(row["start_s"] - start_s) <= ONE_SECOND
        assert abs(row["end_s"] - end_s) <= ONE_SECOND
        assert row["min_range_km"] <= min_range_km + ONE_METRE_KM
        assert row["min_range_km"] > min_range_km - 1.0


def test_columns_and_order(windows: pd.DataFrame) -> None:
    assert tuple(windows.columns) == COLUMNS
    resorted = windows.sort_values(["sat_a", "sat_b", "start_s"], ignore_index=True)
    pd.testing.assert_frame_equal(windows, resorted)
    assert (windows["start_s"] < windows["end_s"]).all()


def test_min_range_is_the_exact_range_at_some_instant(shell: list[ElementSet],
                                                      windows: pd.DataFrame) -> None:
    by_name = {e.name: e for e in shell}
    row = windows[(windows["start_s"] > 0) & (windows["end_s"] < DURATION_S)].iloc[0]
    t_s = np.linspace(row["start_s"], row["end_s"], 2001)
    exact = isl_range_km(by_name[row["sat_a"]], by_name[row["sat_b"]], t_s, EPOCH)
    assert exact.min() == pytest.approx(row["min_range_km"], abs=ONE_METRE_KM * 10)


def test_given_pairs_are_the_only_pairs_searched(shell: list[ElementSet],
                                                 windows: pd.DataFrame) -> None:
    some = compute_isl_windows(shell, EPOCH, DURATION_S, max_range_km=MAX_RANGE_KM,
                               pairs=[(0, 7), (2, 13)], workers=1)
    names = {(shell[0].name, shell[7].name), (shell[2].name, shell[13].name)}
    assert set(zip(some["sat_a"], some["sat_b"], strict=True)) <= names
    expected = windows[[pair in names for pair in zip(windows["sat_a"], windows["sat_b"],
                                                      strict=True)]]
    pd.testing.assert_frame_equal(some, expected.reset_index(drop=True))


def test_worker_processes_give_the_same_windows(shell: list[ElementSet],
                                                windows: pd.DataFrame) -> None:
    parallel = compute_isl_windows(shell, EPOCH, DURATION_S, max_range_km=MAX_RANGE_KM,
                                   atmosphere_margin_km=MARGIN_KM, workers=2)
    pd.testing.assert_frame_equal(parallel, windows)


def test_satellites_on_opposite_sides_of_the_earth_never_link(shell: list[ElementSet]) -> None:
    # Same plane, half an orbit apart: the Earth is always in between.
    opposite = compute_isl_windows(shell, EPOCH, DURATION_S, max_range_km=1e5,
                                   pairs=[(0, 3)], workers=1)
    assert len(opposite) == 0


def test_in_plane_neighbours_link_the_whole_time() -> None:
    # Twelve in one plane at 550 km: neighbours are 30 deg apart (3586 km), the line of
    # sight passes ~6692 km from the Earth's centre, above the 6458 km floor.
    plane = walker_delta(53.0, 12, 1, 0, 550.0, EPOCH)
    neighbours = compute_isl_windows(plane, EPOCH, DURATION_S, max_range_km=4000.0,
                                     pairs=[(0, 1)], workers=1)
    assert len(neighbours) == 1
    assert (neighbours["start_s"].iloc[0], neighbours["end_s"].iloc[0]) == (0.0, DURATION_S)


def test_isl_range_matches_the_propagated_distance(shell: list[ElementSet]) -> None:
    t_s = np.array([0.0, 1234.5])
    states = propagate_ecef(shell[:2], EPOCH, t_s)
    expected = np.linalg.norm(states.r_km[1] - states.r_km[0], axis=1)
    assert isl_range_km(shell[0], shell[1], t_s, EPOCH) == pytest.approx(expected)


def test_all_pairs_of_a_large_catalog_must_be_asked_for(shell: list[ElementSet]) -> None:
    many = shell * (MAX_ALL_PAIRS_SATELLITES // len(shell) + 1)
    with pytest.raises(OrbitError, match="pass pairs="):
        compute_isl_windows(many, EPOCH, DURATION_S)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pairs": [(0, 0)]}, "two different satellite indices"),
        ({"pairs": [(0, 99)]}, r"in \[0, 17\]"),
        ({"max_range_km": -1.0}, "max_range_km"),
        ({"coarse_step_s": 0.0}, "coarse_step_s"),
        ({"duration_s": -5.0}, "duration_s"),
    ],
)
def test_bad_arguments_raise_teaching_errors(shell: list[ElementSet], kwargs: dict,
                                             message: str) -> None:
    arguments = {"elements": shell, "start_utc": EPOCH, "duration_s": 3600.0, **kwargs}
    with pytest.raises(OrbitError, match=message):
        compute_isl_windows(**arguments)
