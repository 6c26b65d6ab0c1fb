"""Tests of simfl.scenario.groups: one concept for edge servers, teams, zones and regions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.runs.runner import simulate
from simfl.scenario.load import load_scenario, scenario_from_text
from simfl.scenario.world import build_world
from tests.conftest import SMALL_SPACE

BASE = """
name: g
partition: {num_clients: 12, scheme: labels_per_client, labels_per_client: 1}
model: {hidden: [8]}
algorithm: {name: hierarchical, rounds: 1}
output: {figures: false}
"""


def world_of(extra: str):  # type: ignore[no-untyped-def]
    return built(scenario_from_text(BASE + extra))


def built(scenario):  # type: ignore[no-untyped-def]
    return build_world(scenario, Simulation(scenario.epoch, scenario.seed))


def test_groups_have_servers_named_like_the_groups() -> None:
    world = world_of("groups: {count: 3}\n")
    assert world.groups is not None
    assert world.groups.names == ["edge-0", "edge-1", "edge-2"]
    assert [g.clients for g in world.groups] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert all(world.nodes[g.name].kind == "edge" for g in world.groups)


def test_named_groups_and_explicit_members() -> None:
    world = world_of("groups: {assignment: explicit, members: [[0, 5], [1, 2, 3, 4], "
                     "[6, 7, 8, 9, 10, 11]], names: [team-a, team-b, team-c]}\n")
    assert world.groups.names == ["team-a", "team-b", "team-c"]
    assert world.groups.by_name("team-a").clients == [0, 5]


def test_label_clusters_put_clients_of_one_label_together() -> None:
    world = world_of("groups: {count: 2, assignment: label_clusters}\n")
    for group in world.groups:
        labels = {int(world.clients[i].labels[0]) for i in group.clients}
        others = {int(world.clients[i].labels[0]) for g in world.groups if g is not group
                  for i in g.clients}
        assert not labels & others


def test_peer_latency_grows_with_distance() -> None:
    world = world_of("groups: {count: 2, positions: [{lat_deg: 0, lon_deg: 0}, "
                     "{lat_deg: 0, lon_deg: 90}]}\n"
                     "network: {edge_edge: {latency_s: 1 ms, propagation_km_per_s: 200000}}\n")
    link = world.groups.peer_link("edge-0", "edge-1")
    quarter_km = world.groups.distance_km("edge-0", "edge-1")
    assert quarter_km == pytest.approx(math.pi / 2 * 6371.0, rel=1e-4)  # a quarter meridian
    assert link.link.latency_s == pytest.approx(0.001 + quarter_km / 200_000.0)
    assert world.groups.peer_link("edge-0", "edge-1") is link


def test_group_rules_are_reported_with_their_keys() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(BASE + "groups: {count: 3, assignment: explicit, "
                                  "names: [a, a]}\n")
    text = str(info.value)
    assert "assignment 'explicit' needs members" in text
    assert "group names must be unique; repeated: a" in text
    assert "2 names for 3 groups" in text


def test_region_groups_need_a_space_section() -> None:
    with pytest.raises(ScenarioError, match=r"assignment 'region' makes one group per space"):
        scenario_from_text(BASE + "groups: {assignment: region}\n")


def test_a_group_may_not_take_a_device_name() -> None:
    with pytest.raises(ScenarioError, match=r"'client-3' would name two nodes"):
        world_of("groups: {count: 2, names: [client-3, b]}\n")


def hierarchical_over_space(groups: str) -> str:
    """The small space world running hierarchical FedAvg with the given groups section."""
    return SMALL_SPACE.replace(
        "algorithm: {name: fedmeld, duration_s: 1 h, eval_every_s: 30 min}",
        f"algorithm: {{name: hierarchical, rounds: 1, edge_rounds: 1}}\ngroups: {groups}")


def test_a_space_section_does_not_replace_the_groups_section() -> None:
    scenario = scenario_from_text(hierarchical_over_space("{count: 2}"))
    world = built(scenario)
    assert world.groups is not None
    assert world.groups.names == ["edge-0", "edge-1"]
    assert all(world.nodes[g.name].kind == "edge" for g in world.groups)


def test_region_groups_of_an_algorithm_with_servers_get_edge_servers() -> None:
    scenario = scenario_from_text(hierarchical_over_space("{assignment: region}"))
    world = built(scenario)
    assert world.groups is not None
    assert world.groups.names == ["r0", "r1"]
    for group in world.groups:
        assert group.server == group.name and world.nodes[group.name].kind == "edge"
        assert group.down is not None and group.up is not None
    assert world.groups.by_name("r0").position_deg == (14.95, 35.9)


def test_hierarchical_runs_over_the_regions_of_a_space_section() -> None:
    result = simulate(scenario_from_text(hierarchical_over_space("{assignment: region}")))
    assert result.summary["rounds_completed"] == 1


def test_a_group_may_not_take_the_cloud_name() -> None:
    with pytest.raises(ScenarioError, match=r"'cloud' would name two nodes"):
        scenario_from_text(BASE + "groups: {count: 2, names: [cloud, b]}\n")


def test_explicit_members_are_checked_against_the_clients_when_validating() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(BASE + "groups: {assignment: explicit, members: "
                                  "[[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 40]]}\n")
    text = str(info.value)
    assert "groups.members: members[1]: client 40 does not exist (clients are 0..11)" in text
    assert "clients 11 are in no group" in text


def write_group_file(folder: Path, groups: int) -> None:
    rows = "".join(f"{i},g{i % groups}\n" for i in range(12))
    (folder / "groups.csv").write_text("client,group\n" + rows)


def test_a_group_file_is_read_from_the_scenario_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_group_file(tmp_path, 3)
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "groups: {assignment: file, file: groups.csv}\n")
    monkeypatch.chdir(tmp_path.parent)
    scenario = load_scenario(path)
    world = built(scenario)
    assert world.groups is not None and world.groups.names == ["g0", "g1", "g2"]


def test_names_and_positions_must_fit_the_groups_of_the_file(tmp_path: Path) -> None:
    write_group_file(tmp_path, 3)
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "groups: {assignment: file, file: groups.csv, names: [a, b], "
                           "positions: [{lat_deg: 1, lon_deg: 2}]}\n")
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError) as info:
        built(scenario)
    text = str(info.value)
    assert "2 names for 3 groups" in text
    assert "1 positions for 3 groups" in text


def test_a_missing_group_file_is_found_when_validating(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "groups: {assignment: file, file: nowhere.csv}\n")
    with pytest.raises(ScenarioError, match=r"groups.file: 'nowhere.csv' \(relative to the "
                                            r"scenario's folder .*\) does not exist"):
        load_scenario(path)


@pytest.mark.parametrize("extra", ["names: [a, b]", "positions: [{lat_deg: 1, lon_deg: 2}]"])
def test_names_and_positions_count_against_the_default_group_count(extra: str) -> None:
    with pytest.raises(ScenarioError, match=r"for 4 groups \(the default count\); give one per "
                                            r"group, or set count"):
        scenario_from_text(BASE + f"groups: {{{extra}}}\n")
