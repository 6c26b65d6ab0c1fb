"""Tests of scenario variants used by studies."""

from __future__ import annotations

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.schema import Scenario
from simfl.studies.variants import with_algorithm, with_values


def test_switching_algorithm_keeps_shared_settings(small_fedavg: Scenario) -> None:
    hier = with_algorithm(small_fedavg, "hierarchical", edge_rounds=3)
    assert hier.algorithm.name == "hierarchical"
    assert hier.algorithm.rounds == small_fedavg.algorithm.rounds
    assert hier.algorithm.deadline_s == small_fedavg.algorithm.deadline_s
    assert not hasattr(hier.algorithm, "clients_per_round")
    assert hier.partition == small_fedavg.partition


def test_unknown_algorithm_and_bad_parameter_are_reported(small_fedavg: Scenario) -> None:
    with pytest.raises(ScenarioError, match="'fedsgd' is unknown; choose one of ditto, ensemble"):
        with_algorithm(small_fedavg, "fedsgd")
    with pytest.raises(ScenarioError, match=r"^algorithm hierarchical: algorithm\.edge_rounds: 0 "
                                            r"is out of range; it must be > 0$"):
        with_algorithm(small_fedavg, "hierarchical", edge_rounds=0)


def test_with_values_sets_dotted_paths_and_validates(small_fedavg: Scenario) -> None:
    out = with_values(small_fedavg, {"training.lr": 0.5, "partition.alpha": 2.0})
    assert out.training.lr == 0.5 and out.partition.alpha == 2.0
    with pytest.raises(ScenarioError, match=r"training\.lr"):
        with_values(small_fedavg, {"training.lr": -1})


def test_impossible_variants_are_scenario_errors(small_fedavg: Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"cannot set seed\.x: seed is a value"):
        with_values(small_fedavg, {"seed.x": 1})
    with pytest.raises(ScenarioError, match="runs over satellites"):
        with_algorithm(small_fedavg, "fedmeld")
    with pytest.raises(ScenarioError, match=r"space\.constellation: is required but missing"):
        with_values(small_fedavg, {"space.horizon_s": 1})


def test_variant_errors_teach_like_validate(small_fedavg: Scenario) -> None:
    with pytest.raises(ScenarioError) as info:
        with_values(small_fedavg, {"algorithm.round": 3, "seed": "3"})
    assert info.value.problems == [
        "with algorithm.round=3, seed='3': algorithm.round: unknown key; did you mean 'rounds'? "
        "allowed keys here are: clients_per_round, deadline_s, eval_every_rounds, name, rounds",
        "with algorithm.round=3, seed='3': seed: expected a whole number, got the text '3'; "
        "write the number without quotes (quoted values are text)",
    ]


def test_variants_run_the_preflight_checks(small_fedavg: Scenario) -> None:
    with pytest.raises(ScenarioError, match="5000 clients but the digits training set has"):
        with_values(small_fedavg, {"partition.num_clients": 5000})
