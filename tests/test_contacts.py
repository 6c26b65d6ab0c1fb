"""Contact plans: accuracy against skyfield's find_events, invariants, clipping, failures."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, load, wgs84

from simfl.errors import OrbitError
from simfl.orbits.contacts import COLUMNS, compute_contacts, elevation_deg, slant_range_km
from simfl.orbits.elements import ElementSet
from simfl.orbits.propagate import propagate_ecef
from simfl.orbits.sites import GroundSite
from simfl.orbits.tle import load_tle, tle_lines_from_elements
from simfl.orbits.walker import walker_delta

ONE_SECOND = 1.0
ONE_MILLISECOND = 1e-3
TEN_MILLISECONDS = 1e-2
MASK_TOLERANCE_DEG = 0.01
MIN_PASS_S = 30.0
EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
START = EPOCH + timedelta(hours=1)
DURATION_S = 8 * 3600.0
SITES = (
    GroundSite("Munich", 48.14, 11.58, 520.0, 10.0),
    GroundSite("Nairobi", -1.29, 36.82, 1795.0, 25.0),
    GroundSite("Sydney", -33.87, 151.21, 30.0, 40.0),
)
CATALOG = Path(__file__).resolve().parents[2] / "shared" / "orbits" / "starlink_2026-02-24.tle"


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    """A 24-satellite Walker shell at 550 km and a 12-satellite polar shell at 780 km."""
    return [*walker_delta(53.0, 24, 4, 1, 550.0, EPOCH),
            *walker_delta(86.4, 12, 3, 1, 780.0, EPOCH, name_prefix="POLAR",
                          first_norad_id=91000)]


@pytest.fixture(scope="module")
def plan(shell: list[ElementSet]) -> pd.DataFrame:
    return compute_contacts(shell, SITES, START, DURATION_S, workers=1)


def skyfield_passes(elements: list[ElementSet], sites: tuple[GroundSite, ...],
                    start: datetime, duration_s: float) -> pd.DataFrame:
    """Return find_events passes that rise and set inside ``[0, duration_s]``."""
    ts = load.timescale(builtin=True)
    pad = timedelta(minutes=30)
    t0, t1 = ts.from_datetime(start - pad), ts.from_datetime(start + pad
                                                            + timedelta(seconds=duration_s))
    rows = []
    for element in elements:
        sat = EarthSatellite(element.line1, element.line2, element.name, ts)
        for site in sites:
            topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
            times, kinds = sat.find_events(topos, t0, t1, altitude_degrees=site.elevation_mask_deg)
            seconds = (times.tt - ts.from_datetime(start).tt) * 86_400.0
            rise = None
            for t_s, kind in zip(seconds, kinds, strict=True):
                if kind == 0:
                    rise = t_s
                elif kind == 2 and rise is not None:
                    if rise >= 0.0 and t_s <= duration_s:
                        rows.append((element.name, site.name, rise, t_s))
                    rise = None
    return pd.DataFrame(rows, columns=["satellite", "site", "rise_s", "set_s"])


def overlapping(plan: pd.DataFrame, satellite: str, site: str, rise_s: float,
                set_s: float) -> pd.DataFrame:
    mine = plan[(plan["satellite"] == satellite) & (plan["site"] == site)]
    return mine[(mine["rise_s"] < set_s) & (mine["set_s"] > rise_s)]


@pytest.fixture(scope="module")
def oracle(shell: list[ElementSet]) -> pd.DataFrame:
    return skyfield_passes(shell, SITES, START, DURATION_S)


def test_every_find_events_pass_of_30_s_is_found_within_one_second(
    plan: pd.DataFrame, oracle: pd.DataFrame
) -> None:
    long_passes = oracle[oracle["set_s"] - oracle["rise_s"] >= MIN_PASS_S]
    assert len(long_passes) > 50
    for row in long_passes.to_dict("records"):
        hit = overlapping(plan, row["satellite"], row["site"], row["rise_s"], row["set_s"])
        assert len(hit) == 1, row
        assert abs(hit["rise_s"].iloc[0] - row["rise_s"]) < ONE_SECOND
        assert abs(hit["set_s"].iloc[0] - row["set_s"]) < ONE_SECOND


def test_every_complete_pass_of_30_s_is_a_find_events_pass(
    plan: pd.DataFrame, oracle: pd.DataFrame
) -> None:
    complete = plan[~plan["clipped"] & (plan["set_s"] - plan["rise_s"] >= MIN_PASS_S)]
    for row in complete.to_dict("records"):
        found = overlapping(oracle, row["satellite"], row["site"], row["rise_s"], row["set_s"])
        assert len(found) == 1


def test_columns_and_dtypes_are_exact(plan: pd.DataFrame) -> None:
    assert tuple(plan.columns) == COLUMNS
    assert plan["norad_id"].dtype == np.int64
    for name in ("rise_s", "culminate_s", "set_s", "max_elevation_deg"):
        assert plan[name].dtype == np.float64
    for name in ("rise_utc", "set_utc"):
        assert str(plan[name].dtype) == "datetime64[ns, UTC]"
    assert plan["clipped"].dtype == np.bool_
    assert pd.api.types.is_string_dtype(plan["satellite"])
    assert pd.api.types.is_string_dtype(plan["site"])


def test_utc_columns_are_start_plus_seconds(plan: pd.DataFrame) -> None:
    rise_back = (plan["rise_utc"] - pd.Timestamp(START)).dt.total_seconds()
    assert np.allclose(rise_back, plan["rise_s"], atol=ONE_MILLISECOND)


def test_plan_is_sorted_by_site_then_rise_then_satellite(plan: pd.DataFrame) -> None:
    resorted = plan.sort_values(["site", "rise_s", "satellite"], ignore_index=True)
    pd.testing.assert_frame_equal(plan, resorted)


def test_windows_are_ordered_and_disjoint_per_satellite_and_site(plan: pd.DataFrame) -> None:
    assert (plan["rise_s"] <= plan["culminate_s"]).all()
    assert (plan["culminate_s"] <= plan["set_s"]).all()
    assert (plan["rise_s"] < plan["set_s"]).all()
    for _, group in plan.groupby(["satellite", "site"]):
        ordered = group.sort_values("rise_s")
        assert (ordered["rise_s"].to_numpy()[1:] > ordered["set_s"].to_numpy()[:-1]).all()


def test_elevation_at_rise_and_set_equals_the_mask(
    plan: pd.DataFrame, shell: list[ElementSet]
) -> None:
    by_name = {e.name: e for e in shell}
    sites = {s.name: s for s in SITES}
    complete = plan[~plan["clipped"]]
    for (satellite, site), group in complete.groupby(["satellite", "site"]):
        mask = sites[str(site)].elevation_mask_deg
        for column in ("rise_s", "set_s"):
            elevation = elevation_deg(by_name[str(satellite)], sites[str(site)],
                                      group[column].to_numpy(), START)
            assert np.abs(elevation - mask).max() < MASK_TOLERANCE_DEG


def test_max_elevation_is_the_elevation_at_culmination(
    plan: pd.DataFrame, shell: list[ElementSet]
) -> None:
    by_name = {e.name: e for e in shell}
    sites = {s.name: s for s in SITES}
    for row in plan.to_dict("records"):
        t = row["culminate_s"] + np.array([0.0, -5.0, 5.0])
        elevation = elevation_deg(by_name[row["satellite"]], sites[row["site"]], t, START)
        assert abs(elevation[0] - row["max_elevation_deg"]) < MASK_TOLERANCE_DEG
        if row["rise_s"] + 5.0 < row["culminate_s"] < row["set_s"] - 5.0:
            assert elevation[0] >= elevation[1:].max()


def test_passes_shorter_than_the_grid_step_are_found(shell: list[ElementSet]) -> None:
    coarse = compute_contacts(shell, SITES, START, DURATION_S, coarse_step_s=120.0, workers=1)
    fine = compute_contacts(shell, SITES, START, DURATION_S, coarse_step_s=5.0, workers=1)
    assert ((fine["set_s"] - fine["rise_s"]) < 120.0).sum() > 0
    assert len(coarse) == len(fine)
    assert (coarse["satellite"] == fine["satellite"]).all()
    assert np.abs(coarse["rise_s"] - fine["rise_s"]).max() < ONE_SECOND
    assert np.abs(coarse["set_s"] - fine["set_s"]).max() < ONE_SECOND


def test_a_pass_between_two_grid_points_is_found(plan: pd.DataFrame,
                                                 shell: list[ElementSet]) -> None:
    complete = plan[~plan["clipped"]].to_dict("records")
    short = min(complete, key=lambda row: row["set_s"] - row["rise_s"])
    duration_s = short["set_s"] - short["rise_s"]
    assert duration_s < 100.0
    satellite = next(e for e in shell if e.name == short["satellite"])
    site = next(s for s in SITES if s.name == short["site"])
    start = START + timedelta(seconds=float(short["rise_s"]) - 10.0)
    # Grid points at 0 and 120 s: the whole pass lies between them, both below the mask.
    found = compute_contacts([satellite], [site], start, 3600.0, coarse_step_s=120.0,
                             workers=1)
    assert len(found) >= 1
    first = found.iloc[0]
    assert abs(first["rise_s"] - 10.0) < TEN_MILLISECONDS
    assert abs(first["set_s"] - 10.0 - duration_s) < TEN_MILLISECONDS


def test_passes_open_at_the_edges_are_clipped(plan: pd.DataFrame,
                                              shell: list[ElementSet]) -> None:
    long_pass = plan[~plan["clipped"]].sort_values("max_elevation_deg").to_dict("records")[-1]
    middle_s = 0.5 * (long_pass["rise_s"] + long_pass["set_s"])
    start = START + timedelta(seconds=float(middle_s))
    quarter_s = 0.25 * (long_pass["set_s"] - long_pass["rise_s"])
    satellite = next(e for e in shell if e.name == long_pass["satellite"])
    site = next(s for s in SITES if s.name == long_pass["site"])
    both_open = compute_contacts([satellite], [site], start, quarter_s, workers=1)
    assert len(both_open) == 1
    assert both_open["clipped"].iloc[0]
    assert both_open["rise_s"].iloc[0] == 0.0
    assert both_open["set_s"].iloc[0] == quarter_s
    ends_inside = compute_contacts([satellite], [site], start, 4 * quarter_s, workers=1)
    assert ends_inside["rise_s"].iloc[0] == 0.0
    assert ends_inside["clipped"].iloc[0]
    expected_set_s = long_pass["set_s"] - middle_s
    assert abs(ends_inside["set_s"].iloc[0] - expected_set_s) < ONE_MILLISECOND


def decaying_satellite() -> ElementSet:
    """A 16.2 rev/day orbit with heavy drag: SGP4 fails ~7.5 h after epoch."""
    line1, line2 = tle_lines_from_elements(
        norad_id=99001, epoch_utc=EPOCH, inclination_deg=53.0, raan_deg=10.0,
        eccentricity=0.0005, arg_perigee_deg=0.0, mean_anomaly_deg=0.0,
        mean_motion_rev_per_day=16.2, bstar_per_earth_radius=0.05,
    )
    return ElementSet("DECAYING", line1, line2)


def test_a_satellite_is_dropped_from_its_first_sgp4_failure_on() -> None:
    sat = decaying_satellite()
    grid_s = np.arange(0.0, 12 * 3600.0 + 1.0, 60.0)
    states = propagate_ecef([sat], EPOCH, grid_s)
    failed_s = grid_s[~states.valid[0]][0]
    assert 3600.0 < failed_s < 11 * 3600.0
    sites = [GroundSite(f"s{lon}", 30.0, float(lon), 0.0, 10.0) for lon in range(-180, 180, 30)]
    plan = compute_contacts([sat], sites, EPOCH, 12 * 3600.0, workers=1)
    before = compute_contacts([sat], sites, EPOCH, float(failed_s) - 120.0, workers=1)
    assert len(before) > 0
    assert (plan["set_s"] <= failed_s).all()
    complete_before = before[~before["clipped"]]
    kept = plan.merge(complete_before, on=["site", "rise_s", "set_s"])
    assert len(kept) == len(complete_before)


def test_a_satellite_failing_before_the_start_has_no_passes() -> None:
    late = EPOCH + timedelta(hours=10)
    plan = compute_contacts([decaying_satellite()], SITES, late, 3600.0, workers=1)
    assert len(plan) == 0


def test_sgp4_failure_of_one_satellite_leaves_the_others_alone(
    shell: list[ElementSet], plan: pd.DataFrame
) -> None:
    with_failure = compute_contacts([*shell, decaying_satellite()], SITES, START, DURATION_S,
                                    workers=1)
    others = with_failure[with_failure["satellite"] != "DECAYING"].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, plan)


def test_worker_processes_give_the_same_plan(shell: list[ElementSet],
                                             plan: pd.DataFrame) -> None:
    parallel = compute_contacts(shell, SITES, START, DURATION_S, workers=2, progress=True)
    pd.testing.assert_frame_equal(parallel, plan)


def _plan_in_daemon(lines: list[tuple[str, str, str]]) -> int:
    elements = [ElementSet(*three) for three in lines]
    return len(compute_contacts(elements, SITES, START, 3600.0, workers=2))


def test_a_pool_worker_computes_in_process(shell: list[ElementSet]) -> None:
    # multiprocessing.Pool workers are daemonic and may not start worker processes.
    lines = [(e.name, e.line1, e.line2) for e in shell]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        count = pool.apply(_plan_in_daemon, (lines,))
    assert count == len(compute_contacts(shell, SITES, START, 3600.0, workers=1))


def test_elevation_and_slant_range_match_skyfield(shell: list[ElementSet]) -> None:
    ts = load.timescale(builtin=True)
    site = SITES[0]
    sat = EarthSatellite(shell[0].line1, shell[0].line2, shell[0].name, ts)
    t_s = np.linspace(0.0, DURATION_S, 97)
    times = ts.from_datetimes([START + timedelta(seconds=float(x)) for x in t_s])
    topocentric = (sat - wgs84.latlon(site.lat_deg, site.lon_deg, site.alt_m)).at(times)
    altitude, _, distance = topocentric.altaz()
    assert np.abs(elevation_deg(shell[0], site, t_s, START) - altitude.degrees).max() < 0.005
    assert np.abs(slant_range_km(shell[0], site, t_s, START) - distance.km).max() < 0.05
    dut1_s = float(times.dut1[0])
    exact = elevation_deg(shell[0], site, t_s, START, ut1_minus_utc_s=dut1_s)
    assert np.abs(exact - altitude.degrees).max() < 0.0002


def test_elevation_keeps_the_shape_of_its_times(shell: list[ElementSet]) -> None:
    assert elevation_deg(shell[0], SITES[0], 10.0, START).shape == ()
    assert slant_range_km(shell[0], SITES[0], np.zeros((2, 3)), START).shape == (2, 3)


def test_no_satellites_give_an_empty_plan_with_the_columns() -> None:
    empty = compute_contacts([], SITES, START, 3600.0, workers=1)
    assert tuple(empty.columns) == COLUMNS
    assert len(empty) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_s": 0.0}, "duration_s"),
        ({"coarse_step_s": 600.0}, "coarse_step_s"),
        ({"workers": 0}, "workers"),
        ({"start_utc": datetime(2026, 2, 24)}, "timezone"),
        ({"sites": [SITES[0], SITES[0]]}, "more than once"),
        ({"elements": ["1 25544U ..."]}, "ElementSet"),
    ],
)
def test_bad_arguments_raise_teaching_errors(shell: list[ElementSet], kwargs: dict,
                                             message: str) -> None:
    arguments = {"elements": shell[:1], "sites": SITES, "start_utc": START,
                 "duration_s": 3600.0, **kwargs}
    with pytest.raises(OrbitError, match=message):
        compute_contacts(**arguments)


@pytest.mark.real_catalog
@pytest.mark.skipif(not CATALOG.is_file(), reason="needs ../shared/orbits (real TLE snapshot)")
def test_real_starlink_sample_matches_find_events() -> None:
    elements = load_tle(CATALOG)
    rng = np.random.default_rng(7)
    sample = [elements[i] for i in sorted(rng.choice(len(elements), 40, replace=False))]
    sites = (GroundSite("Munich", 48.14, 11.58, 520.0, 25.0),
             GroundSite("Sydney", -33.87, 151.21, 30.0, 25.0))
    start = datetime(2026, 2, 24, 12, tzinfo=UTC)
    plan = compute_contacts(sample, sites, start, 6 * 3600.0, workers=1)
    oracle = skyfield_passes(sample, sites, start, 6 * 3600.0)
    long_passes = oracle[oracle["set_s"] - oracle["rise_s"] >= MIN_PASS_S]
    assert len(long_passes) > 20
    for row in long_passes.to_dict("records"):
        hit = overlapping(plan, row["satellite"], row["site"], row["rise_s"], row["set_s"])
        assert len(hit) == 1
        assert abs(hit["rise_s"].iloc[0] - row["rise_s"]) < ONE_SECOND
        assert abs(hit["set_s"].iloc[0] - row["set_s"]) < ONE_SECOND
