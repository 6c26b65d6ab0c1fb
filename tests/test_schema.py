"""Tests of simfl.scenario.schema: sections, defaults, units and cross-field rules."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from simfl.algorithms.fedavg import FedAvgConfig
from simfl.algorithms.hierarchical import HierarchicalConfig
from simfl.scenario.registry import algorithm_names, scenario_model, validate_scenario
from simfl.scenario.schema import Scenario


def scenario(**sections: Any) -> Scenario:
    return validate_scenario({"name": "x", **sections})


def test_name_alone_is_a_complete_scenario() -> None:
    s = scenario()
    assert (s.data.dataset, s.partition.num_clients, s.algorithm.name, s.algorithm.rounds,
            s.seed, s.epoch) == ("digits", 100, "fedavg", 50, 0, datetime(2026, 2, 24, 12,
                                                                          tzinfo=UTC))


def test_default_algorithm_is_fedavg_config() -> None:
    assert isinstance(scenario().algorithm, FedAvgConfig)


def test_name_is_required() -> None:
    with pytest.raises(ValidationError, match=r"name\n  Field required"):
        Scenario.model_validate({})


@pytest.mark.parametrize("name", ["", "two words", "a/b"])
def test_name_must_be_a_file_name(name: str) -> None:
    with pytest.raises(ValidationError, match=r"name\n  String should"):
        scenario(name=name)


def test_quantities_take_units() -> None:
    s = scenario(
        network={"device_cloud": {"latency_s": "50 ms", "up_rate_bps": "5 Mbps"}},
        devices={"compute": {"flops_per_s": "2 GFLOPS"}},
        stop={"max_time_s": "2 h"},
    )
    link = s.network.device_cloud
    assert (link.latency_s, link.up_rate_bps, s.devices.compute.flops_per_s,
            s.stop.max_time_s) == (pytest.approx(0.05), 5e6, 2e9, 7200.0)


def test_link_defaults_differ_per_tier() -> None:
    net = scenario().network
    assert (net.device_cloud.up_rate_bps, net.device_edge.latency_s,
            net.edge_cloud.sharing) == (5e6, 0.01, "dedicated")


def test_negative_rate_is_rejected_after_unit_conversion() -> None:
    with pytest.raises(ValidationError, match=r"up_rate_bps\n  Input should be greater than 0"):
        scenario(network={"device_cloud": {"up_rate_bps": "-5 Mbps"}})


def test_wrong_kind_of_unit_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"'10 MB' is a size, not a rate"):
        scenario(network={"device_cloud": {"up_rate_bps": "10 MB"}})


def test_naive_epoch_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"epoch 2026-02-24T12:00:00 has no timezone; "
                                              r"write it in UTC with a Z"):
        scenario(epoch="2026-02-24T12:00:00")


def test_epoch_with_offset_becomes_utc() -> None:
    s = scenario(epoch="2026-02-24T14:00:00+02:00")
    assert (s.epoch, s.epoch.tzinfo) == (datetime(2026, 2, 24, 12, tzinfo=UTC), UTC)


def test_epochs_and_steps_both_set_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"set exactly one of training.epochs and "
                                              r"training.steps \(set the other to null\)"):
        scenario(training={"epochs": 2, "steps": 5})


def test_epochs_and_steps_both_null_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"set exactly one of training.epochs"):
        scenario(training={"epochs": None})


def test_steps_instead_of_epochs() -> None:
    t = scenario(training={"epochs": None, "steps": 5}).training
    assert (t.epochs, t.steps) == (None, 5)


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist", "cifar10"])
def test_file_datasets_need_a_path(dataset: str) -> None:
    with pytest.raises(ValidationError, match=rf"dataset '{dataset}' is read from files: set "
                                              r"data.path to the directory that holds them"):
        scenario(data={"dataset": dataset})


def test_file_dataset_with_path() -> None:
    assert scenario(data={"dataset": "mnist", "path": "d/mnist"}).data.path == Path("d/mnist")


def test_groups_scheme_needs_groups() -> None:
    with pytest.raises(ValidationError, match=r"scheme 'groups' needs groups: a list of label "
                                              r"lists, e.g. \[\[0, 1\], \[2, 3\]\]"):
        scenario(partition={"scheme": "groups"})


@pytest.mark.parametrize("fraction", [0, 1, 1.5])
def test_test_fraction_is_strictly_between_0_and_1(fraction: float) -> None:
    with pytest.raises(ValidationError, match=r"data.test_fraction\n  Input should be"):
        scenario(data={"test_fraction": fraction})


@pytest.mark.parametrize(
    "sections",
    [
        {"colour": "red"},
        {"data": {"datset": "digits"}},
        {"network": {"device_cloud": {"rate": 1}}},
        {"algorithm": {"name": "fedavg", "edges": 3}},
    ],
)
def test_unknown_keys_are_rejected_at_every_level(sections: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=r"Extra inputs are not permitted"):
        scenario(**sections)


def test_sections_are_frozen() -> None:
    s = scenario()
    with pytest.raises(ValidationError, match=r"frozen"):
        s.training.lr = 1.0


def test_algorithm_is_chosen_by_name() -> None:
    algo = scenario(algorithm={"name": "hierarchical", "edge_rounds": 3}).algorithm
    assert isinstance(algo, HierarchicalConfig)
    assert (algo.edge_rounds, algo.clients_per_edge_round) == (3, None)


def test_unknown_algorithm_lists_the_names() -> None:
    with pytest.raises(ValidationError, match=r"'fedsgd'.*does not match any of the expected "
                                              r"tags: 'ditto', 'fedavg', 'fedmeld', "
                                              r"'hierarchical'"):
        scenario(algorithm={"name": "fedsgd"})


def test_algorithm_names_match_the_configs() -> None:
    union = scenario_model().model_fields["algorithm"].annotation
    members = typing.get_args(union)
    tags = [tag for cls in members for tag in typing.get_args(cls.model_fields["name"].annotation)]
    assert sorted(tags) == sorted(algorithm_names())
    assert {"fedavg", "hierarchical"} <= set(tags)


def test_availability_needs_on_and_off() -> None:
    with pytest.raises(ValidationError, match=r"devices.availability.off_s\n  Field required"):
        scenario(devices={"availability": {"on_s": "5 min"}})


@pytest.mark.parametrize("accuracy", [0, 1.5])
def test_target_accuracy_is_in_0_1(accuracy: float) -> None:
    with pytest.raises(ValidationError, match=r"stop.target_accuracy"):
        scenario(stop={"target_accuracy": accuracy})


def test_model_hidden_widths_must_be_positive() -> None:
    with pytest.raises(ValidationError, match=r"model.hidden.1\n  Input should be greater"):
        scenario(model={"hidden": [64, 0]})
