"""Tests of simfl.scenario.problems: one teaching line per validation problem."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel, ValidationError

from simfl.errors import ScenarioError
from simfl.scenario.load import validate_source
from simfl.scenario.problems import format_validation_error, scenario_problems, type_slips
from simfl.scenario.registry import algorithm_names, scenario_model
from simfl.scenario.schema import PartitionConfig, Scenario
from simfl.scenario.source import apply_overrides, parse_yaml


def problems(text: str, *overrides: str) -> list[str]:
    source = apply_overrides(parse_yaml(text, file="s.yaml"), list(overrides))
    with pytest.raises(ScenarioError) as info:
        validate_source(source)
    return info.value.problems


def only_problem(text: str, *overrides: str) -> str:
    (problem,) = problems(text, *overrides)
    return problem


# --- one message per kind of problem ------------------------------------------------------

def test_unknown_key_suggests_the_close_match_and_lists_allowed_keys() -> None:
    allowed = ", ".join(sorted(PartitionConfig.model_fields))
    assert only_problem("name: a\npartition:\n  clients: 10\n") == (
        "s.yaml:3: partition.clients: unknown key; did you mean 'num_clients'? "
        f"allowed keys here are: {allowed}"
    )
    assert "num_clients" in allowed


def test_unknown_key_without_close_match_has_no_suggestion() -> None:
    problem = only_problem("name: a\npartition:\n  zzz: 10\n")
    assert problem.startswith("s.yaml:3: partition.zzz: unknown key; allowed keys here are: ")
    assert "did you mean" not in problem


def test_unknown_key_in_an_algorithm_section_lists_that_algorithms_keys() -> None:
    text = "name: a\nalgorithm:\n  name: fedavg\n  clientz_per_round: 3\n"
    assert only_problem(text) == (
        "s.yaml:4: algorithm.clientz_per_round: unknown key; did you mean 'clients_per_round'? "
        "allowed keys here are: clients_per_round, deadline_s, eval_every_rounds, name, rounds"
    )


def test_unknown_algorithm_points_at_name_and_lists_every_algorithm() -> None:
    problem = only_problem("name: a\nalgorithm:\n  name: fedsgd\n  rounds: 3\n")
    assert problem.startswith("s.yaml:3: algorithm.name: 'fedsgd' is unknown; choose one of ")
    assert all(repr(name) in problem for name in algorithm_names())


def test_missing_algorithm_name_lists_every_algorithm() -> None:
    problem = only_problem("name: a\nalgorithm:\n  rounds: 3\n")
    assert problem.startswith(
        "s.yaml:2: algorithm.name: is missing; it says which one to use; choose one of "
        "'ditto', 'ensemble', 'fedavg', 'feddf'"
    )
    assert all(repr(name) in problem for name in algorithm_names())


def test_unknown_choice_lists_the_choices() -> None:
    assert only_problem("name: a\nnetwork:\n  payload_dtype: float64\n") == (
        "s.yaml:3: network.payload_dtype: 'float64' is not allowed; choose one of 'float32', "
        "'float16' or 'bfloat16'"
    )


def test_negative_rate_is_out_of_range() -> None:
    text = "name: a\nnetwork:\n  device_cloud:\n    up_rate_bps: -5 Mbps\n"
    assert only_problem(text) == (
        "s.yaml:4: network.device_cloud.up_rate_bps: '-5 Mbps' (= -5000000.0) is out of range; "
        "it must be > 0.0"
    )


def test_wrong_unit_kind_says_what_it_is() -> None:
    text = "name: a\nnetwork:\n  device_cloud:\n    up_rate_bps: 10 MB\n"
    assert only_problem(text) == (
        "s.yaml:4: network.device_cloud.up_rate_bps: '10 MB' is a size, not a rate; "
        "write it like '10 Mbps' or '1.5 Gbps' (a bare number is bit/s)"
    )


def test_whole_number_expected() -> None:
    assert only_problem("name: a\nseed: 1.5\n") == (
        "s.yaml:2: seed: expected a whole number, got 1.5"
    )


def test_mapping_expected() -> None:
    assert only_problem("name: a\ndata: 5\n") == (
        "s.yaml:2: data: expected a mapping of keys, got 5"
    )


def test_text_expected() -> None:
    assert only_problem("name: 5\n") == "s.yaml:1: name: expected text, got 5"


def test_true_or_false_expected() -> None:
    assert only_problem("name: a\noutput:\n  figures: maybe\n") == (
        "s.yaml:3: output.figures: expected true or false, got 'maybe'"
    )


def test_path_expected() -> None:
    text = "name: a\ndata:\n  dataset: mnist\n  path: 5\n"
    assert only_problem(text) == (
        "s.yaml:4: data.path: expected a path (text such as data/mnist), got 5"
    )


def test_name_pattern() -> None:
    assert only_problem("name: bad name!\n") == (
        "s.yaml:1: name: 'bad name!' must match ^[A-Za-z0-9_.-]+$ (letters, digits, _ . - only)"
    )


def test_unreadable_time() -> None:
    assert only_problem("name: a\nepoch: yesterday\n") == (
        "s.yaml:2: epoch: expected an ISO 8601 UTC time such as 2026-02-24T12:00:00Z, "
        "got 'yesterday'"
    )


def test_naive_epoch_asks_for_utc() -> None:
    assert only_problem("name: a\nepoch: 2026-02-24T12:00:00\n") == (
        "s.yaml:2: epoch: epoch 2026-02-24T12:00:00 has no timezone; write it in UTC with a Z, "
        "e.g. 2026-02-24T12:00:00Z"
    )


def test_missing_name_has_no_line_but_names_the_file() -> None:
    assert only_problem("seed: 3\n") == "s.yaml: name: is required but missing; add it"


def test_missing_key_in_a_section_points_at_the_section() -> None:
    text = "name: a\ndevices:\n  availability:\n    on_s: 5 min\n"
    assert only_problem(text) == (
        "s.yaml:3: devices.availability.off_s: is required but missing; add it"
    )


def test_section_rule_points_at_the_section() -> None:
    text = "name: a\ntraining:\n  epochs: 2\n  steps: 5\n"
    assert only_problem(text) == (
        "s.yaml:2: training: set exactly one of training.epochs and training.steps "
        "(set the other to null)"
    )


def test_list_item_problem_has_its_index_and_line() -> None:
    text = "name: a\npartition:\n  scheme: groups\n  groups:\n    - [0, 1]\n    - [2, x]\n"
    assert only_problem(text) == (
        "s.yaml:6: partition.groups.1.1: expected a whole number, got 'x'"
    )


# --- values pydantic would let through ----------------------------------------------------

def test_boolean_for_a_whole_number() -> None:
    text = "name: a\nalgorithm:\n  name: fedavg\n  rounds: true\n"
    assert only_problem(text) == (
        "s.yaml:4: algorithm.rounds: expected a whole number, got true (a boolean)"
    )


def test_boolean_for_a_number() -> None:
    text = "name: a\ndevices:\n  compute:\n    sigma: false\n"
    assert only_problem(text) == (
        "s.yaml:4: devices.compute.sigma: expected a number, got false (a boolean)"
    )


def test_boolean_in_a_list_of_numbers() -> None:
    assert only_problem("name: a\nmodel:\n  hidden: [64, true]\n") == (
        "s.yaml:3: model.hidden.1: expected a whole number, got true (a boolean)"
    )


def test_number_for_a_boolean() -> None:
    assert only_problem("name: a\noutput:\n  figures: 1\n") == (
        "s.yaml:3: output.figures: expected true or false, got 1"
    )


@pytest.mark.parametrize("value", [".inf", "-.inf"])
def test_infinite_number_is_rejected(value: str) -> None:
    problem = only_problem(f"name: a\ntraining:\n  lr: {value}\n")
    assert problem.startswith("s.yaml:3: training.lr: ")
    assert "inf is not a finite number; give a finite value" in problem or "out of range" in problem


def test_infinite_rate_is_rejected() -> None:
    text = "name: a\nnetwork:\n  device_cloud:\n    up_rate_bps: .inf\n"
    assert only_problem(text) == (
        "s.yaml:4: network.device_cloud.up_rate_bps: inf is not a finite number; "
        "give a finite value"
    )


def test_nan_is_reported_once() -> None:
    assert only_problem("name: a\ntraining:\n  lr: .nan\n") == (
        "s.yaml:3: training.lr: nan is out of range; it must be > 0.0"
    )


def test_type_slips_lists_paths_and_messages() -> None:
    data = {"name": "a", "seed": True, "model": {"hidden": [64, math.inf]},
            "output": {"figures": True}}
    assert type_slips(scenario_model(), data) == [
        (("seed",), "expected a whole number, got true (a boolean)"),
        (("model", "hidden", 1), "inf is not a finite number; give a finite value"),
    ]


def test_type_slips_ignore_unknown_keys() -> None:
    assert type_slips(scenario_model(), {"colour": True, "data": {"nope": 1.0}}) == []


def test_type_slips_inside_a_mapping_of_named_values() -> None:
    class Table(BaseModel):
        speeds: dict[str, float]

    assert type_slips(Table, {"speeds": {"phone": True, "laptop": 2.0}}) == [
        (("speeds", "phone"), "expected a number, got true (a boolean)")
    ]


def test_boolean_where_a_boolean_is_allowed_is_fine() -> None:
    assert type_slips(scenario_model(), {"devices": {"availability": {"random": True}}}) == []


# --- ordering and locations ---------------------------------------------------------------

def test_problems_come_in_file_order() -> None:
    text = "name: a\nstop:\n  target_accuracy: 2\nseed: x\ndata:\n  test_fraction: 0\n"
    assert [p.split(": ")[0] for p in problems(text)] == ["s.yaml:3", "s.yaml:4", "s.yaml:6"]


def test_two_problems_on_one_line_are_ordered_by_path() -> None:
    assert problems("name: a\nmodel: {hidden: [0, true]}\n") == [
        "s.yaml:2: model.hidden.0: 0 is out of range; it must be > 0",
        "s.yaml:2: model.hidden.1: expected a whole number, got true (a boolean)",
    ]


def test_override_problem_names_the_override() -> None:
    assert only_problem("name: a\n", "partition.num_clients=0") == (
        "s.yaml: override 'partition.num_clients=0': partition.num_clients: 0 is out of range; "
        "it must be > 0"
    )


def test_unknown_key_from_override_names_the_override() -> None:
    problem = only_problem("name: a\n", "partition.clients=3")
    assert problem.startswith("s.yaml: override 'partition.clients=3': partition.clients: "
                              "unknown key; did you mean 'num_clients'?")


def test_unknown_section_from_override_names_the_override() -> None:
    problem = only_problem("name: a\n", "newsec.a=1")
    assert problem.startswith("s.yaml: override 'newsec.a=1': newsec: unknown key; allowed keys")


def test_format_validation_error_matches_scenario_problems() -> None:
    source = parse_yaml("name: a\nseed: x\ntraining:\n  lr: 0\n", file="s.yaml")
    with pytest.raises(ValidationError) as info:
        scenario_model().model_validate(source.data)
    assert format_validation_error(info.value, source, Scenario) == [
        "s.yaml:2: seed: expected a whole number, got 'x'",
        "s.yaml:4: training.lr: 0 is out of range; it must be > 0.0",
    ]
    assert scenario_problems(info.value, source, Scenario) == format_validation_error(
        info.value, source, Scenario)


def test_a_moved_key_says_where_it_lives_now() -> None:
    problem = only_problem("name: a\nalgorithm:\n  name: hierarchical\n  edges: 3\n")
    assert problem == ("s.yaml:4: algorithm.edges: this key moved to groups.count (client "
                       "groups are one section for every algorithm)")


# --- strict types: quoted numbers are text ----------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    ("seed: '3'", "s.yaml:2: seed: expected a whole number, got the text '3'; write the number "
                  "without quotes (quoted values are text)"),
    ("training: {lr: '0.1'}", "s.yaml:2: training.lr: expected a number, got the text '0.1'; "
                              "write the number without quotes (quoted values are text)"),
    ("output: {figures: 'true'}", "s.yaml:2: output.figures: expected true or false, got the "
                                  "text 'true'; write true or false without quotes (quoted "
                                  "values are text)"),
    ("model: {hidden: [64, '32']}", "s.yaml:2: model.hidden.1: expected a whole number, got "
                                    "the text '32'; write the number without quotes (quoted "
                                    "values are text)"),
    ("training: {epochs: '2'}", "s.yaml:2: training.epochs: expected a whole number, got the "
                                "text '2'; write the number without quotes (quoted values are "
                                "text)"),
])
def test_a_quoted_number_or_boolean_is_an_error(text: str, problem: str) -> None:
    assert only_problem(f"name: a\n{text}\n") == problem


@pytest.mark.parametrize("text", [
    "network: {device_cloud: {latency_s: '50 ms', up_rate_bps: '5 Mbps'}}",  # quantities
    "network: {device_cloud: {latency_s: '0.05'}}",  # a quantity may be a bare number as text
    "data: {dataset: mnist, path: '/tmp'}",  # paths are text
    "epoch: '2026-02-24T00:00:00Z'",  # times are text
    "name: '123'",  # text that looks like a number
])
def test_text_is_fine_where_text_is_meant(text: str) -> None:
    source = parse_yaml(f"name: a\n{text}\n".replace("name: a\nname:", "name:"), file="s.yaml")
    assert validate_source(source).name


def test_unknown_key_in_a_list_item_suggests_the_close_match() -> None:
    text = ("name: a\nalgorithm: {name: fedmeld}\nspace:\n  constellation: {tle: x.tle}\n"
            "  regions:\n    - {name: r, lat_deg: 1, lon_deg: 2, radius: 5}\n")
    assert only_problem(text) == (
        "s.yaml:6: space.regions.0.radius: unknown key; did you mean 'radius_km'? allowed keys "
        "here are: devices, elevation_mask_deg, lat_deg, lon_deg, name, radius_km")


@pytest.mark.parametrize(("text", "problem"), [
    ("seed: -1", "s.yaml:2: seed: -1 is out of range; it must be >= 0"),
    ("seed: 4294967296", "s.yaml:2: seed: 4294967296 is out of range; it must be <= 4294967295"),
])
def test_seeds_are_unsigned_32_bit(text: str, problem: str) -> None:
    assert only_problem(f"name: a\n{text}\n") == problem


def test_a_key_named_like_the_algorithm_is_not_taken_for_its_tag() -> None:
    assert only_problem("name: a\nalgorithm: {name: fedavg, fedavg: {rounds: 1}}\n") == (
        "s.yaml:2: algorithm.fedavg: unknown key; allowed keys here are: clients_per_round, "
        "deadline_s, eval_every_rounds, name, rounds")
