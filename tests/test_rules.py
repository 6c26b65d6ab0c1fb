"""Cross-key rules are reported together with every other problem, at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.load import load_scenario, scenario_from_text
from simfl.scenario.rules import cross_key_problems, space_rule, walker_rule


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [p.split(": ", 1)[1] for p in info.value.problems]


def test_field_errors_do_not_hide_cross_key_rules(tmp_path: Path) -> None:
    problems = _problems(tmp_path, (
        "name: x\n"
        "training: {lr: abc, epochs: 2, steps: 5}\n"
        "algorithm: {name: fedmeld}\n"
        "partition: {scheme: region_dirichlet, num_clients: 0}\n"
        "data: {dataset: mnist}\n"))
    assert [p.split(":")[0] for p in problems] == [
        "training", "training.lr", "algorithm.name", "partition.num_clients",
        "partition.scheme", "data"]
    assert "set exactly one of training.epochs and training.steps" in problems[0]
    assert "runs over satellites" in problems[2]
    assert "'region_dirichlet' splits data over space.regions" in problems[4]
    assert "read from files: set data.path" in problems[5]


def test_a_rule_is_reported_once_when_the_rest_is_valid(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "name: x\nalgorithm: {name: fedmeld}\n")
    assert len(problems) == 1
    assert problems[0].startswith("algorithm.name: algorithm 'fedmeld' runs over satellites")


def test_space_rules_point_at_their_keys() -> None:
    found = space_rule("fedmeld", True, "region_dirichlet", True, [3, None], 10, 7200.0, 3600.0)
    assert [path for path, _ in found] == [("space", "regions"), ("algorithm", "duration_s")]


def test_walker_rule_messages() -> None:
    assert walker_rule(10, 3, 0) == ["satellites (10) must be a multiple of planes (3)"]
    assert walker_rule(12, 3, 3) == ["phasing must be in 0..planes-1 (0..2), got 3"]
    assert walker_rule("x", 3, 0) == []


def test_raw_pass_tolerates_malformed_sections() -> None:
    assert cross_key_problems({"training": "fast", "space": [], "algorithm": 3}) == []


def test_steps_alone_replace_the_default_epochs() -> None:
    scenario = scenario_from_text("name: x\ntraining: {steps: 7}\n")
    assert (scenario.training.epochs, scenario.training.steps) == (None, 7)


def test_more_groups_than_devices_is_reported_before_running() -> None:
    with pytest.raises(ScenarioError, match=r"groups\.count: 20 groups for 10 clients leaves"):
        scenario_from_text("name: x\nalgorithm: {name: hierarchical}\ngroups: {count: 20}\n"
                           "partition: {num_clients: 10}\n")


def test_groups_get_every_client_even_when_they_do_not_divide() -> None:
    from simfl.engine.simulation import Simulation
    from simfl.scenario.world import build_world

    scenario = scenario_from_text(
        "name: x\npartition: {scheme: groups, groups: [[0, 1], [2, 3], [4, 5, 6]], "
        "num_clients: 10}\n")
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert len(world.clients) == 10
    with pytest.raises(ScenarioError, match="3 groups for 2 clients"):
        scenario_from_text("name: x\npartition: {scheme: groups, groups: [[0], [1], [2]], "
                           "num_clients: 2}\n")
