"""Tests of the space-ground world built from a scenario's space section."""

from __future__ import annotations

import pytest

from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.orbits.planes import planes_of
from simfl.scenario.load import scenario_from_text
from simfl.scenario.world import build_world
from tests.test_fedmeld import SMALL_FEDMELD


def _with_devices(a: int, b: int, c: int) -> str:
    text = SMALL_FEDMELD
    for name, n in (("a", a), ("b", b), ("c", c)):
        text = text.replace(f"{{name: {name}, ", f"{{name: {name}, devices: {n}, ")
    return text


def test_region_devices_are_assigned_in_blocks() -> None:
    scenario = scenario_from_text(_with_devices(6, 2, 4))
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert world.space is not None
    assert world.space.region_clients == {"a": [0, 1, 2, 3, 4, 5], "b": [6, 7],
                                          "c": [8, 9, 10, 11]}


def test_region_devices_must_add_up_to_the_clients() -> None:
    with pytest.raises(ScenarioError, match=r"devices add up to 13 but partition\.num_clients"):
        scenario_from_text(_with_devices(6, 3, 4))


def test_region_dirichlet_skews_labels_between_regions() -> None:
    import numpy as np

    scenario = scenario_from_text(SMALL_FEDMELD)
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert world.space is not None
    hist = []
    for clients in world.space.region_clients.values():
        labels = np.concatenate([world.clients[i].labels for i in clients])
        hist.append(np.bincount(labels, minlength=10) / len(labels))
    # alpha 0.2: each region's label mix is far from uniform and far from the others'
    assert max(np.abs(hist[0] - hist[1]).sum(), np.abs(hist[1] - hist[2]).sum()) > 0.8


def test_walker_planes_are_recovered() -> None:
    from datetime import UTC, datetime

    from simfl.orbits.walker import walker_delta

    elements = walker_delta(53, 24, 6, 1, 550, datetime(2026, 2, 24, tzinfo=UTC))
    planes = planes_of(elements)
    assert len(set(planes.values())) == 6
    for e in elements:  # names are PREFIX-P<p>-S<s>
        same = [f.name for f in elements if planes[f.name] == planes[e.name]]
        assert len(same) == 4 and all(n.split("-")[1] == e.name.split("-")[1] for n in same)


def test_missing_catalog_file_is_a_scenario_error() -> None:
    text = SMALL_FEDMELD.replace("demo_shell_12.tle", "no_such_shell.tle")
    scenario = scenario_from_text(text)
    with pytest.raises(ScenarioError, match=r"space\.constellation\.tle: .* does not exist"):
        build_world(scenario, Simulation(scenario.epoch, scenario.seed))


def test_space_algorithm_without_space_section_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="runs over satellites: add a space section"):
        scenario_from_text("name: x\nalgorithm: {name: fedmeld}\n")


def test_duration_beyond_the_plan_is_rejected() -> None:
    with pytest.raises(ScenarioError, match=r"longer than space\.horizon_s"):
        scenario_from_text(SMALL_FEDMELD, ["algorithm.duration_s=30h"])


def test_a_ground_station_may_not_take_another_node_s_name() -> None:
    text = SMALL_FEDMELD.replace("{name: gs, ", "{name: cloud, ")
    scenario = scenario_from_text(text)
    with pytest.raises(ScenarioError, match="cloud would name two nodes"):
        build_world(scenario, Simulation(scenario.epoch, scenario.seed))
