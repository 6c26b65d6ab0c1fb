"""Tests of simfl.scenario.preflight: what validate must find before a run would."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.load import load_scenario, scenario_from_text
from simfl.scenario.preflight import DIGITS_SAMPLES, preflight

REPO = Path(__file__).resolve().parents[1]
SHELL = REPO / "orbits" / "demo_shell_12.tle"

SPACE = f"""
name: s
epoch: 2026-02-24T00:00:00Z
partition: {{num_clients: 6, scheme: region_dirichlet}}
algorithm: {{name: fedmeld, duration_s: 1 h, eval_every_s: 1 h}}
space:
  constellation: {{tle: {SHELL}}}
  horizon_s: 1 h
  cache_dir: null
  regions:
    - {{name: a, lat_deg: -52.73, lon_deg: -62.38}}  # a pass in the first hour
    - {{name: b, lat_deg: 10, lon_deg: 10}}
  ground_stations:
    - {{name: gs, lat_deg: 40, lon_deg: -4}}
"""


def problems_of(tmp_path: Path, text: str, *overrides: str) -> list[str]:
    """Return the problems ``load_scenario`` reports for ``text`` (empty if it is valid)."""
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path, list(overrides))
    except ScenarioError as exc:
        return exc.problems
    return []


def test_the_space_fixture_is_valid(tmp_path: Path) -> None:
    assert problems_of(tmp_path, SPACE) == []


def test_digits_sample_count_is_sklearns() -> None:
    from simfl.learning.builtin import load_digits

    assert len(load_digits()) == DIGITS_SAMPLES


def test_missing_tle_file_is_found_by_validate(tmp_path: Path) -> None:
    missing = tmp_path / "gone.tle"
    [problem] = problems_of(tmp_path, SPACE.replace(str(SHELL), str(missing)))
    assert problem.startswith(f"{tmp_path / 's.yaml'}:7: space.constellation.tle: {missing} "
                              "does not exist")


def test_a_folder_as_tle_file_is_found_by_validate(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, SPACE.replace(str(SHELL), str(tmp_path)))
    assert f"space.constellation.tle: {tmp_path} is a folder; give a TLE" in problem


def test_a_malformed_tle_file_is_reported_with_both_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tle"
    bad.write_text(SHELL.read_text().replace("1 ", "X ", 1))
    problems = problems_of(tmp_path, SPACE.replace(str(SHELL), str(bad)))
    assert problems and all(p.startswith(f"{tmp_path / 's.yaml'}:7: space.constellation.tle: "
                                         f"{bad}:") for p in problems)


def test_bad_names_regex_is_found_by_validate(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, SPACE, "space.constellation.names_regex=[")
    assert "space.constellation.names_regex: '[' is not a valid regular expression" in problem


def test_a_regex_that_matches_no_satellite_is_found_by_validate(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, SPACE, "space.constellation.names_regex=NOPE")
    assert "no element set matches names_regex='NOPE'" in problem


def test_a_duplicated_element_set_is_not_another_satellite(tmp_path: Path) -> None:
    doubled = tmp_path / "doubled.tle"
    lines = SHELL.read_text().splitlines()
    doubled.write_text("\n".join([*lines, *lines[:3]]) + "\n")
    [problem] = problems_of(tmp_path, SPACE.replace(str(SHELL), str(doubled)))
    assert "element sets 1 (DEMO-P0-S0) and 13 (DEMO-P0-S0) are both NORAD" in problem
    assert "with identical lines; keep one set per satellite" in problem


def test_space_hfl_without_ground_stations_is_found_by_validate(tmp_path: Path) -> None:
    text = SPACE.replace("name: fedmeld", "name: space_hfl").split("  ground_stations:")[0]
    [problem] = problems_of(tmp_path, text)
    assert problem.endswith("space.ground_stations: space_hfl relays region models through "
                            "ground stations but none is given; add at least one, e.g. "
                            "[{name: gs0, lat_deg: 48.1, lon_deg: 11.6}]")


def test_more_clients_than_samples_is_found_by_validate(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "name: q\n", "partition.num_clients=2000")
    train = DIGITS_SAMPLES - 360  # 20% test holdout, rounded up
    assert problem.endswith(f"partition.num_clients: 2000 clients but the digits training set "
                            f"has {train} samples; every client needs at least one, so use at "
                            f"most {train} clients")


def test_minimum_samples_per_client_is_checked_against_the_data(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "name: q\npartition: {num_clients: 100, "
                                      "min_samples_per_client: 20}\n")
    assert "partition.min_samples_per_client: 20 samples for each of 100 clients needs 2000" \
        in problem


def test_fewer_clients_than_regions_is_found_by_validate(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, SPACE, "partition.num_clients=1")
    assert any("1 clients for 2 regions; every region needs a device" in p for p in problems)


def test_a_ground_station_named_like_a_device_is_found_by_validate(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, SPACE.replace("name: gs,", "name: client-0,"))
    assert "client-0 would name two nodes" in problem


def test_a_cache_dir_that_is_a_file_is_found_by_validate(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    [problem] = problems_of(tmp_path, SPACE, f"space.cache_dir={afile}")
    assert problem.endswith(f"space.cache_dir: {afile} is a file, not a folder; give a folder "
                            "path, 'user' (the user cache folder) or null (no cache)")


def test_a_relative_cache_dir_is_read_from_the_scenario_folder(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPACE.replace("cache_dir: null", "cache_dir: plans"), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.space is not None and scenario.space.cache_dir == tmp_path / "plans"


def test_far_epoch_is_a_warning_naming_the_gap(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPACE.replace("2026-02-24T00:00:00Z", "2030-01-01T00:00:00Z"))
    with caplog.at_level(logging.WARNING, logger="simfl"):
        load_scenario(path)
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"{path}: space.constellation.tle: the run spans 2030-01-01 00:00 "
                              "to 2030-01-01 01:00 UTC but the element sets' epochs are "
                              "2026-02-24 to 2026-02-24, up to 1,407 days apart")


def test_near_epoch_gives_no_warning() -> None:
    assert preflight(scenario_from_text(SPACE)).warnings == []


def test_clients_per_round_above_the_clients_is_a_warning() -> None:
    found = preflight(scenario_from_text("name: q\npartition: {num_clients: 8}\n"
                                         "algorithm: {name: fedavg, clients_per_round: 10}\n"))
    assert found.warnings == ["algorithm.clients_per_round: 10 clients per round, but the "
                              "scenario has 8 clients; rounds there use every client they have, "
                              "fewer than asked"]


def test_clients_per_round_is_per_region_for_space_algorithms() -> None:
    found = preflight(scenario_from_text(SPACE.replace("eval_every_s: 1 h}",
                                                       "eval_every_s: 1 h, clients_per_round: 4}")))
    assert found.warnings == ["algorithm.clients_per_round: 4 clients per round, but the "
                              "smallest region has 3 client(s); rounds there use every client "
                              "they have, fewer than asked"]


def test_file_checks_can_be_turned_off() -> None:
    text = SPACE.replace(str(SHELL), "/no/such.tle")
    assert preflight(scenario_from_text(text), check_files=False).problems == []


@pytest.mark.parametrize(("text", "problem"), [
    ("partition: {scheme: labels_per_client, labels_per_client: 20, num_clients: 10}",
     "s.yaml:2: partition.labels_per_client: 20 labels per client, but digits has 10 labels; "
     "use 1 to 10"),
    ("partition: {scheme: groups, groups: [[0, 11], [2]], num_clients: 4}",
     "s.yaml:2: partition.groups.0: labels [11] are not in digits, whose labels are 0 to 9"),
    ("partition: {scheme: groups, groups: [[0], []], num_clients: 4}",
     "s.yaml:2: partition.groups.1: a group lists no labels; give at least one"),
    ("data: {test_fraction: 0.9999}",
     "s.yaml:2: data.test_fraction: 0.9999 of the digits samples held out for testing leaves "
     "none to train on; use a test_fraction such as 0.2"),
    ("data: {dataset: synthetic}\nmodel: {kind: cnn}",
     "s.yaml:3: model.kind: a cnn needs images, but the synthetic dataset is vectors of 60 "
     "features; use mlp, logreg, gru or lstm, or an image dataset (digits, mnist, "
     "fashion-mnist, cifar10)"),
])
def test_label_and_shape_mismatches_are_found_by_validate(text: str, problem: str,
                                                          tmp_path: Path) -> None:
    problems = problems_of(tmp_path, f"name: q\n{text}\n")
    assert [p.removeprefix(f"{tmp_path}/") for p in problems] == [problem]


def test_clients_per_edge_round_is_per_client_group() -> None:
    found = preflight(scenario_from_text(
        "name: q\npartition: {num_clients: 12}\ngroups: {count: 4}\n"
        "algorithm: {name: hierarchical, clients_per_edge_round: 5}\n"))
    assert found.warnings == ["algorithm.clients_per_edge_round: 5 clients per round, but the "
                              "smallest group has 3 client(s); rounds there use every client "
                              "they have, fewer than asked"]


def test_a_cnn_on_leaf_vectors_needs_an_image_shape(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, f"name: q\ndata: {{dataset: leaf, path: {tmp_path}}}\n"
                                     "model: {kind: cnn}\n")
    assert any(p.endswith("model.kind: a cnn needs images, but LEAF data are feature vectors; "
                          "set data.image_shape, e.g. [1, 28, 28] for FEMNIST, or use mlp or "
                          "logreg") for p in problems), problems


def test_leaf_and_per_user_data_are_not_judged_by_the_default_client_count(
        tmp_path: Path) -> None:
    leaf = (f"name: q\ndata: {{dataset: leaf, path: {tmp_path}}}\ngroups: {{count: 150}}\n"
            "algorithm: {name: hierarchical, clients_per_edge_round: 5}\n")
    scenario = scenario_from_text(leaf)  # 150 groups of LEAF's users
    assert preflight(scenario, check_files=False).warnings == []
    with pytest.raises(ScenarioError, match=r"150 groups for 120 clients leaves a group"):
        scenario_from_text(leaf.replace("groups:", "partition: {num_clients: 120}\ngroups:"))
    workouts = ("name: w\ndata: {dataset: geo_workouts}\nmodel: {kind: gru_per_step}\n"
                "groups: {count: 150}\nalgorithm: {name: hierarchical}\n")
    scenario_from_text(workouts)  # its users, not partition.num_clients, are the clients
