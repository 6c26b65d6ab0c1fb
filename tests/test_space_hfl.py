"""HFL through ground stations: station lookups, global-round rule, relays during real passes."""

from __future__ import annotations

import pandas as pd
import pytest

from simfl.algorithms.space.space_hfl import global_round_ready, next_station_window
from simfl.engine.contact_schedule import ContactSchedule
from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.world import build_world
from simfl.studies.variants import with_algorithm
from tests.conftest import SMALL_SPACE, trace_info

STATION_LINKS = ("station_down", "station_up")




def _on_link(trace: pd.DataFrame, *links: str) -> pd.DataFrame:
    transfers = trace[trace["kind"] == "transfer"]
    return transfers[[i.get("link") in links for i in trace_info(transfers)]]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    small = scenario_from_text(SMALL_SPACE, ["algorithm.duration_s=2 h",
                                             "algorithm.eval_every_s=1 h"])
    return with_algorithm(small, "space_hfl")


@pytest.fixture(scope="module")
def hfl(scenario: Scenario) -> RunResult:
    return simulate(scenario)


@pytest.fixture(scope="module")
def schedule(scenario: Scenario) -> ContactSchedule:
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert world.space is not None
    return world.space.schedule


def test_next_station_window_takes_the_earliest_station_and_skips_regions() -> None:
    plan = pd.DataFrame({
        "satellite": ["s", "s", "s", "s"],
        "site": ["region", "gs_a", "gs_b", "gs_a"],
        "rise_s": [5.0, 100.0, 50.0, 300.0],
        "set_s": [20.0, 160.0, 90.0, 360.0],
    })
    schedule = ContactSchedule(plan)
    w = next_station_window(schedule, "s", ["gs_a", "gs_b"], 0.0)
    assert w is not None and (w.site, w.rise_s) == ("gs_b", 50.0)
    w = next_station_window(schedule, "s", ["gs_a", "gs_b"], 120.0)
    assert w is not None and (w.site, w.rise_s) == ("gs_a", 100.0)  # open now
    assert next_station_window(schedule, "s", ["gs_a", "gs_b"], 400.0) is None


def test_global_round_needs_a_newer_model_from_every_region() -> None:
    assert not global_round_ready({"r0": 3}, {"r0": 0, "r1": 0})
    assert not global_round_ready({"r0": 3, "r1": 2}, {"r0": 1, "r1": 2})
    assert global_round_ready({"r0": 3, "r1": 4}, {"r0": 1, "r1": 2})


def test_hfl_moves_bytes_through_ground_stations(hfl: RunResult) -> None:
    by_link = hfl.summary["bytes_by_link"]
    assert by_link["station_down"] > 0 and by_link["station_up"] > 0
    assert by_link["edge_cloud_up"] > 0 and by_link["edge_cloud_down"] > 0
    assert by_link["station_down"] % hfl.summary["payload_bytes"] == 0


def test_fedmeld_in_the_same_world_moves_nothing_through_stations(scenario: Scenario) -> None:
    fedmeld = simulate(scenario_from_text(SMALL_SPACE))
    assert fedmeld.summary["bytes_by_link"]["region_up"] > 0
    assert not set(fedmeld.summary["bytes_by_link"]) & {*STATION_LINKS, "edge_cloud_up"}


def test_station_transfers_lie_inside_passes_of_that_satellite(
    hfl: RunResult, schedule: ContactSchedule
) -> None:
    station = _on_link(hfl.trace, *STATION_LINKS)
    assert len(station) > 0
    for (_, row), info in zip(station.iterrows(), trace_info(station), strict=True):
        windows = schedule.windows(info["satellite"], info["site"])
        assert info["windows"] == 1
        assert any(w.rise_s <= row["t_start_s"] and row["t_end_s"] <= w.set_s + 1e-6
                   for w in windows), (row["node"], row["peer"], row["t_start_s"])


def test_global_rounds_wait_for_every_region_model_to_reach_the_cloud(hfl: RunResult) -> None:
    trace = hfl.trace
    arrivals = _on_link(trace, "edge_cloud_up")
    arrived_s = {(i["region"], r): t for i, r, t in
                 zip(trace_info(arrivals), arrivals["round"], arrivals["t_end_s"], strict=True)}
    rounds = trace[(trace["kind"] == "aggregate") & (trace["node"] == "cloud")]
    assert len(rounds) >= 2
    previous = {"r0": 0, "r1": 0}
    for t_s, info in zip(rounds["t_start_s"], trace_info(rounds), strict=True):
        used = info["region_rounds"]
        assert set(used) == {"r0", "r1"}
        for region, region_round in used.items():
            assert arrived_s[(region, region_round)] <= t_s + 1e-9
            assert region_round > previous[region]
        previous = used


def test_regions_adopt_only_versions_their_satellite_downloaded(hfl: RunResult) -> None:
    trace = hfl.trace
    downloads = _on_link(trace, "station_up")
    adoptions = trace[trace["kind"] == "mix"]
    assert len(adoptions) > 0
    for (_, row), info in zip(adoptions.iterrows(), trace_info(adoptions), strict=True):
        assert info["alpha"] == 1.0 and info["source_region"] == "cloud"
        got = downloads[(downloads["peer"] == row["node"])
                        & (downloads["t_end_s"] <= row["t_start_s"])]
        assert info["version"] in set(got["round"])


def test_space_hfl_without_ground_stations_is_a_scenario_error() -> None:
    hfl = SMALL_SPACE.replace("name: fedmeld", "name: space_hfl")
    no_stations = hfl.replace("  ground_stations:\n    - {name: gs0, lat_deg: 36.66, "
                              "lon_deg: 162.84}\n", "")
    with pytest.raises(ScenarioError, match="ground_stations"):
        simulate(scenario_from_text(no_stations))


def test_same_seed_gives_the_same_trace(hfl: RunResult, scenario: Scenario) -> None:
    again = simulate(scenario)
    pd.testing.assert_frame_equal(hfl.trace, again.trace)
