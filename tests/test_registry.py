"""Tests of simfl.scenario.registry: one declaration per algorithm, plugins, the scenario union."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from simfl.algorithms.fedavg import FedAvg, FedAvgConfig
from simfl.analysis.frames import metric_with_bytes
from simfl.errors import ScenarioError
from simfl.runs.runner import simulate
from simfl.scenario import registry
from simfl.scenario.load import scenario_from_text
from tests.conftest import REPO, tiny_scenario

PLUGIN = '''
"""A third-party algorithm: FedAvg that keeps only the clients' mean, under another name."""
from typing import Literal

from simfl.algorithms.fedavg import FedAvg, FedAvgConfig


class PluginAvgConfig(FedAvgConfig):
    """FedAvg, registered by an installed plugin."""

    name: Literal["plugin_avg"] = "plugin_avg"


class PluginAvg(FedAvg):
    config_model = PluginAvgConfig
'''


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution whose entry point adds ``plugin_avg``."""
    (tmp_path / "simfl_test_plugin.py").write_text(PLUGIN)
    info = tmp_path / "simfl_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: simfl-test-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[simfl.algorithms]\nplugin_avg = simfl_test_plugin:PluginAvg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    registry.unregister_algorithm("plugin_avg")
    sys.modules.pop("simfl_test_plugin", None)


def test_builtin_algorithms_are_found_without_a_list() -> None:
    assert {"fedavg", "hierarchical", "fedmeld", "isolated", "space_hfl", "ring_allreduce",
            "parallel_fl"} <= set(registry.algorithm_names())


def test_an_algorithm_is_named_by_its_config() -> None:
    spec = registry.algorithm_spec("fedavg")
    assert (spec.cls, spec.config, spec.default, FedAvg.name) == (FedAvg, FedAvgConfig, True,
                                                                  "fedavg")


def test_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(ScenarioError, match=r"'fedsgd' is unknown; choose one of .*fedavg, "):
        registry.algorithm_spec("fedsgd")


def test_a_config_without_a_name_literal_is_refused() -> None:
    class Nameless(FedAvg):
        config_model = registry.AlgorithmSection  # type: ignore[assignment]

    with pytest.raises(TypeError, match=r"name: Literal\['<name>'\]"):
        registry.register_algorithm(Nameless)


def test_a_taken_name_is_refused() -> None:
    class Impostor(FedAvg):
        config_model = FedAvgConfig

    with pytest.raises(TypeError, match=r"'fedavg' of .*Impostor is taken by "
                                        r"simfl.algorithms.fedavg.FedAvg"):
        registry.register_algorithm(Impostor)


def test_entry_point_plugin_is_validated_and_runs(plugin_dist: Path) -> None:
    assert [ep.value for ep in entry_points(group=registry.ENTRY_POINT_GROUP)] == [
        "simfl_test_plugin:PluginAvg"]
    registry.load_entry_points()
    assert "plugin_avg" in registry.algorithm_names()
    scenario = scenario_from_text(
        "name: p\npartition: {num_clients: 6}\nmodel: {hidden: [8]}\n"
        "algorithm: {name: plugin_avg, rounds: 2, clients_per_round: 3}\n"
        "output: {figures: false}\n")
    summary = simulate(scenario).summary
    assert (summary["algorithm"], summary["rounds_completed"]) == ("plugin_avg", 2)


def test_validation_error_lists_a_plugin_name(plugin_dist: Path) -> None:
    registry.load_entry_points()
    with pytest.raises(ScenarioError, match=r"'plugin_avg'"):
        scenario_from_text("name: p\nalgorithm: {name: nope}\n")


def test_validating_a_scenario_does_not_import_torch() -> None:
    code = textwrap.dedent("""
        import sys
        import simfl
        simfl.load_scenario("scenarios/fedmeld_demo.yaml")
        print(sorted(m for m in ("torch", "matplotlib") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", registry.algorithm_names())
def test_every_registered_algorithm_runs_on_a_tiny_world(name: str) -> None:
    config = registry.algorithm_spec(name).config
    result = simulate(tiny_scenario(name))
    summary = result.summary
    assert summary["algorithm"] == name
    assert summary["rounds_completed"] > 0
    assert summary["bytes_moved"] > 0 and summary["flops_computed"] > 0
    metrics = summary["final_metrics"]
    if config.needs_zones:  # heart rate: the zone models' pooled RMSE is the headline
        assert 0.0 < metrics["best_rmse"] <= metrics["rmse"]
    else:
        assert 0.0 <= metrics["accuracy"] <= metrics["best_accuracy"] <= 1.0
    # every headline evaluation can be set against the bytes moved by then
    headline = "rmse" if config.needs_zones else "accuracy"
    node = summary["final_metrics_node"]
    evaluations = result.metrics[(result.metrics["node"] == node)
                                 & (result.metrics["metric"] == headline)]
    with_bytes = metric_with_bytes(result.metrics, headline, node)
    assert len(with_bytes) == len(evaluations) > 0
    assert with_bytes["bytes_moved"].is_monotonic_increasing
    headline = ("global" if config.global_model else "region_mean" if config.needs_space
                else "personalized")
    assert summary["final_metrics_node"] == headline
    if config.personalized:
        assert summary["final_personalized_metrics"]["loss"] >= 0.0
    else:
        assert "final_personalized_metrics" not in summary
