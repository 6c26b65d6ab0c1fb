"""Tests of simfl.scenario.load: file -> overrides -> validated Scenario, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.load import (
    data_path_problems,
    load_scenario,
    scenario_from_text,
    validate_source,
)
from simfl.scenario.schema import Scenario
from simfl.scenario.source import parse_yaml

EIGHT_PROBLEMS = """\
name: bad
seed: x
epoch: 2026-02-24T12:00:00
data:
  dataset: mnst
partition:
  clients: 10
training:
  lr: -1
network:
  device_cloud:
    up_rate_bps: 10 MB
    latency_s: true
algorithm:
  name: fedsgd
  rounds: 5
"""

SECTION_RULES = """\
name: rules
seed: 1.5
data:
  dataset: mnist
training:
  epochs: 2
  steps: 5
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_problems(path: Path, *overrides: str, check_files: bool = True) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, list(overrides), check_files=check_files)
    return info.value.problems


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, EIGHT_PROBLEMS)
    problems = load_problems(path)
    assert problems[:7] == [
        f"{path}:2: seed: expected a whole number, got 'x'",
        f"{path}:3: epoch: epoch 2026-02-24T12:00:00 has no timezone; write it in UTC with a Z, "
        "e.g. 2026-02-24T12:00:00Z",
        f"{path}:5: data.dataset: 'mnst' is not allowed; choose one of 'digits', 'synthetic', "
        "'mnist', 'fashion-mnist', 'cifar10', 'leaf', 'geo_workouts' or 'fitrec'",
        f"{path}:7: partition.clients: unknown key; did you mean 'num_clients'? allowed keys "
        "here are: alpha, groups, label_assignment, labels_per_client, min_samples_per_client, "
        "num_clients, scheme",
        f"{path}:9: training.lr: -1 is out of range; it must be > 0.0",
        f"{path}:12: network.device_cloud.up_rate_bps: '10 MB' is a size, not a rate; write it "
        "like '10 Mbps' or '1.5 Gbps' (a bare number is bit/s)",
        f"{path}:13: network.device_cloud.latency_s: expected a duration such as '30 s', "
        "'5 min' or '2 h' (a bare number is seconds), got true (a boolean)",
    ]
    assert problems[7].startswith(f"{path}:15: algorithm.name: 'fedsgd' is unknown; choose one "
                                  "of 'ditto', 'ensemble', 'fedavg', 'feddf'")
    assert len(problems) == 8


def test_section_rules_are_reported_with_other_problems(tmp_path: Path) -> None:
    path = write(tmp_path, SECTION_RULES)
    assert load_problems(path) == [
        f"{path}:2: seed: expected a whole number, got 1.5",
        f"{path}:3: data: dataset 'mnist' is read from files: set data.path to the directory "
        "that holds them (the built-in datasets are 'digits', 'synthetic' and 'geo_workouts')",
        f"{path}:5: training: set exactly one of training.epochs and training.steps "
        "(set the other to null)",
    ]


def test_valid_file_gives_a_scenario_with_units_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nnetwork:\n  device_cloud:\n    up_rate_bps: 10 Mbps\n")
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert (scenario.name, scenario.network.device_cloud.up_rate_bps) == ("ok", 1e7)


def test_overrides_are_applied(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nalgorithm:\n  name: fedavg\n  rounds: 5\n")
    scenario = load_scenario(path, ["algorithm.rounds=7", "training.lr=1e-3"])
    assert (scenario.algorithm.rounds, scenario.training.lr) == (7, 0.001)


def test_problem_from_an_override_names_the_override(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nalgorithm:\n  name: fedavg\n  rounds: 5\n")
    assert load_problems(path, "algorithm.rounds=-2") == [
        f"{path}: override 'algorithm.rounds=-2': algorithm.rounds: -2 is out of range; "
        "it must be > 0"
    ]


def test_file_and_override_problems_together(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nseed: x\n")
    assert load_problems(path, "training.batch_size=0") == [
        f"{path}:2: seed: expected a whole number, got 'x'",
        f"{path}: override 'training.batch_size=0': training.batch_size: 0 is out of range; "
        "it must be > 0",
    ]


def test_malformed_override_is_reported_before_validation(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nseed: x\n")
    assert load_problems(path, "rounds") == [
        f"{path}: override 'rounds' has no '='; write it as a.b.c=value, "
        "e.g. algorithm.rounds=20"
    ]


def test_seed_argument_replaces_the_files_seed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nseed: 3\n")
    assert load_scenario(path, seed=11).seed == 11


def test_seed_argument_replaces_a_bad_seed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: ok\nseed: x\n")
    assert load_scenario(path, seed=4).seed == 4


def test_missing_file(tmp_path: Path) -> None:
    (problem,) = load_problems(tmp_path / "nope.yaml")
    assert problem.startswith(f"{tmp_path / 'nope.yaml'}: no such scenario file")


def test_scenario_from_text_with_overrides() -> None:
    scenario = scenario_from_text("name: t\n", ["partition.num_clients=7"], seed=2)
    assert (scenario.partition.num_clients, scenario.seed) == (7, 2)


def test_scenario_from_text_reports_string_as_file() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text("name: t\nseed: x\n")
    assert info.value.problems == ["<string>:2: seed: expected a whole number, got 'x'"]


# --- dataset directories ------------------------------------------------------------------

def mnist_at(path: str) -> str:
    return f"name: m\ndata:\n  dataset: mnist\n  path: {path}\n"


def test_missing_data_directory_is_reported_with_its_line(tmp_path: Path) -> None:
    missing = tmp_path / "mnist"
    path = write(tmp_path, mnist_at(str(missing)))
    assert load_problems(path) == [
        f"{path}:4: data.path: '{missing}' does not exist; set it to the directory holding the "
        "four MNIST IDX files (train-images-idx3-ubyte, ...)"
    ]


def test_relative_data_directory_says_where_it_is_looked_for(tmp_path: Path) -> None:
    path = write(tmp_path, mnist_at("no/such/dir"))
    assert load_problems(path) == [
        f"{path}:4: data.path: 'no/such/dir' (relative to the scenario's folder {tmp_path}) "
        "does not exist; set it to the directory holding the four MNIST IDX files "
        "(train-images-idx3-ubyte, ...)"
    ]


def test_data_path_that_is_a_file(tmp_path: Path) -> None:
    afile = write(tmp_path, "x", name="afile")
    path = write(tmp_path, f"name: c\ndata:\n  dataset: cifar10\n  path: {afile}\n")
    assert load_problems(path) == [
        f"{path}:4: data.path: '{afile}' is a file, not a directory; set it to the directory "
        "holding the CIFAR-10 binary batches (data_batch_1.bin .. 5, test_batch.bin)"
    ]


def test_missing_data_directory_is_listed_with_other_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: x\n" + mnist_at("/no/such/dir").replace("name: m\n", ""))
    problems = load_problems(path)
    assert [p.split(": ")[1] for p in problems] == ["seed", "data.path", "name"]


def test_missing_data_directory_from_override(tmp_path: Path) -> None:
    path = write(tmp_path, "name: m\n")
    (problem,) = load_problems(path, "data.dataset=fashion-mnist", "data.path=/no/such/dir")
    assert problem.startswith(f"{path}: override 'data.path=/no/such/dir': data.path: "
                              "'/no/such/dir' does not exist")


def test_existing_data_directory_passes(tmp_path: Path) -> None:
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(
        b"\x00\x00\x08\x01" + (200).to_bytes(4, "big") + bytes(200))
    path = write(tmp_path, mnist_at(str(tmp_path)))
    assert load_scenario(path).data.path == tmp_path


def test_data_directory_check_can_be_turned_off(tmp_path: Path) -> None:
    path = write(tmp_path, mnist_at("/no/such/dir"))
    assert load_scenario(path, check_files=False).data.path == Path("/no/such/dir")


def test_validate_source_does_not_check_files_by_default() -> None:
    source = parse_yaml(mnist_at("/no/such/dir"))
    assert validate_source(source).data.dataset == "mnist"


@pytest.mark.parametrize("dataset", ["digits", "synthetic"])
def test_builtin_datasets_need_no_directory(dataset: str) -> None:
    assert data_path_problems({"data": {"dataset": dataset, "path": "/no/such/dir"}}) == []


def test_relative_paths_in_a_file_are_read_from_its_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shells = tmp_path / "scen" / "shells"
    shells.mkdir(parents=True)
    shell = Path(__file__).resolve().parents[1] / "orbits" / "demo_shell_12.tle"
    (shells / "demo.tle").write_text(shell.read_text())
    scenario_file = tmp_path / "scen" / "s.yaml"
    scenario_file.write_text(
        "name: s\nalgorithm: {name: fedmeld}\nspace:\n"
        "  constellation: {tle: shells/demo.tle}\n"
        "  regions: [{name: a, lat_deg: 0, lon_deg: 0}]\n")
    (tmp_path / "here.tle").write_text(shell.read_text())
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(scenario_file)
    assert loaded.space is not None
    assert loaded.space.constellation.tle == (shells / "demo.tle").resolve()
    overridden = load_scenario(scenario_file, ["space.constellation.tle=here.tle"])
    assert overridden.space is not None
    assert str(overridden.space.constellation.tle) == "here.tle"
