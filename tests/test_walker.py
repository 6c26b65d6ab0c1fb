"""Tests of simfl.orbits.walker: Walker-delta geometry, altitude, validation, shipped shells."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.tle import parse_tle_text
from simfl.orbits.walker import SHIPPED_SHELLS, walker_delta, write_shipped_shells

EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
REPO_ORBITS = Path(__file__).resolve().parents[1] / "orbits"
one_kilometer = 1.0
tle_angle_resolution_deg = 1e-4


def _angle_deg(element: ElementSet, columns: slice) -> float:
    return float(element.line2[columns])


def _raan_deg(element: ElementSet) -> float:
    return _angle_deg(element, slice(17, 25))


def _mean_anomaly_deg(element: ElementSet) -> float:
    return _angle_deg(element, slice(43, 51))


def _orbit_averaged_altitude_km(element: ElementSet, samples: int = 1000) -> float:
    """Return |r| - 6378.135 km averaged over one orbit, sampled independently of simfl."""
    sat = element.satrec()
    period_days = 1.0 / float(element.line2[52:63])
    fr = sat.jdsatepochF + np.linspace(0.0, period_days, samples, endpoint=False)
    errors, r_km, _ = sat.sgp4_array(np.full(samples, sat.jdsatepoch), fr)
    assert not errors.any()
    return float(np.linalg.norm(r_km, axis=1).mean() - 6378.135)


def _angle_difference_deg(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    return walker_delta(53.0, 24, 6, 2, 550.0, EPOCH)


def test_shell_has_t_satellites_with_distinct_ids(shell: list[ElementSet]) -> None:
    assert len(shell) == 24
    assert [e.norad_id for e in shell] == list(range(90000, 90024))
    assert shell[0].name == "WALKER-P0-S0" and shell[-1].name == "WALKER-P5-S3"


def test_planes_are_spaced_evenly_in_raan(shell: list[ElementSet]) -> None:
    raans = sorted({_raan_deg(e) for e in shell})
    assert raans == pytest.approx([0.0, 60.0, 120.0, 180.0, 240.0, 300.0])


def test_satellites_in_a_plane_are_spaced_evenly(shell: list[ElementSet]) -> None:
    plane = [e for e in shell if "-P3-" in e.name]
    anomalies = [_mean_anomaly_deg(e) for e in plane]
    for a, b in itertools.pairwise(anomalies):
        assert _angle_difference_deg(b, a) == pytest.approx(90.0, abs=tle_angle_resolution_deg)


def test_neighbouring_planes_are_phased_by_360_f_over_t(shell: list[ElementSet]) -> None:
    for p in range(1, 6):
        first_of_plane = _mean_anomaly_deg(shell[4 * p])
        expected = (360.0 * 2 * p / 24) % 360.0
        assert _angle_difference_deg(first_of_plane, expected) < tle_angle_resolution_deg


def test_inclination_and_circular_orbit(shell: list[ElementSet]) -> None:
    for element in shell:
        sat = element.satrec()
        assert math.degrees(sat.inclo) == pytest.approx(53.0, abs=tle_angle_resolution_deg)
        assert sat.ecco == 0.0


@pytest.mark.parametrize(
    ("inclination_deg", "altitude_km"), [(53.0, 550.0), (86.4, 780.0), (97.6, 550.0), (0.0, 400.0)]
)
def test_orbit_averaged_altitude_is_the_requested_one(
    inclination_deg: float, altitude_km: float
) -> None:
    shell = walker_delta(inclination_deg, 4, 2, 1, altitude_km, EPOCH)
    for element in shell:
        assert abs(_orbit_averaged_altitude_km(element) - altitude_km) < one_kilometer


def test_lines_are_valid_tle_with_checksums(shell: list[ElementSet]) -> None:
    text = "".join(f"{e.name}\n{e.line1}\n{e.line2}\n" for e in shell)
    assert parse_tle_text(text, source="walker") == shell


def test_epoch_is_the_requested_one(shell: list[ElementSet]) -> None:
    assert shell[0].epoch_utc == EPOCH


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((53.0, 10, 3, 1, 550.0), r"total_satellites T=10 is not divisible by planes P=3"),
        ((53.0, 12, 3, 3, 550.0), r"phasing F=3 is out of range \(0 <= F < P=3"),
        ((53.0, 12, 3, -1, 550.0), r"phasing F=-1 is out of range"),
        ((53.0, 12, 3, 1, 80.0), r"altitude_km is 80.0 \(it must exceed 100.0 km"),
        ((181.0, 12, 3, 1, 550.0), r"inclination_deg is 181.0 \(it must be 0-180"),
        ((-5.0, 12, 3, 1, 550.0), r"inclination_deg is -5.0"),
    ],
)
def test_invalid_arguments_are_explained(
    args: tuple[float, int, int, int, float], message: str
) -> None:
    with pytest.raises(OrbitError, match=message):
        walker_delta(*args, EPOCH)


def test_all_invalid_arguments_are_reported_at_once() -> None:
    with pytest.raises(OrbitError) as info:
        walker_delta(200.0, 10, 3, 5, 50.0, EPOCH)
    assert len(info.value.problems) == 4


def test_naive_epoch_is_rejected() -> None:
    with pytest.raises(OrbitError, match="has no time zone"):
        walker_delta(53.0, 12, 3, 1, 550.0, datetime(2026, 2, 24))


def test_norad_ids_beyond_the_tle_range_are_rejected() -> None:
    with pytest.raises(OrbitError, match=r"NORAD ids 339990\.\.340001 do not fit a TLE"):
        walker_delta(53.0, 12, 3, 1, 550.0, EPOCH, first_norad_id=339990)


@pytest.mark.parametrize("file_name", sorted(SHIPPED_SHELLS))
def test_shipped_shell_equals_what_the_generator_writes(tmp_path: Path, file_name: str) -> None:
    write_shipped_shells(tmp_path)
    shipped = REPO_ORBITS / file_name
    assert shipped.read_text() == (tmp_path / file_name).read_text(), (
        f"{shipped} is stale: regenerate with write_shipped_shells('orbits') (orbits/README.md)"
    )


def test_shipped_shells_have_their_documented_sizes() -> None:
    counts = {
        name: len(parse_tle_text((REPO_ORBITS / name).read_text())) for name in SHIPPED_SHELLS
    }
    assert counts == {
        "starlink_like_53deg_550km_72x22.tle": 1584,
        "iridium_like_86deg_780km_6x11.tle": 66,
        "demo_shell_12.tle": 12,
    }
