"""Tests of SGFusion's baselines and chi-SGFusion (simfl.algorithms.geographic.variants): the
partners each one fuses with, on the six Norway zones of the small geographic world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simfl.geo import neighbours
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from tests.conftest import SMALL_GEO, trace_info


def _run(name: str, *overrides: str) -> RunResult:
    return simulate(scenario_from_text(SMALL_GEO, [f"algorithm.name={name}",
                                                   "algorithm.rounds=2", *overrides]))


def _partners(result: RunResult, round: int) -> dict[str, list[str]]:
    mixes = result.trace[(result.trace["kind"] == "mix") & (result.trace["round"] == round)]
    return {str(node): info["partners"]
            for node, info in zip(mixes["node"], trace_info(mixes), strict=True)}


def _links(result: RunResult) -> set[Any]:
    transfers = result.trace[result.trace["kind"] == "transfer"]
    return {(i["link"], i.get("what")) for i in trace_info(transfers)}


def test_neighbours_are_the_zones_whose_areas_touch() -> None:
    result = _run("sgfusion_neighbours")
    layout = result.algorithm.world.layout
    touching = neighbours(list(layout.zones))
    assert _partners(result, 1) == {z: list(n) for z, n in touching.items() if n}
    assert _partners(result, 2) == _partners(result, 1)
    assert ("histogram", "device_edge_up") not in {(w, link) for link, w in _links(result)}


def test_topk_takes_the_zones_of_nearest_histograms() -> None:
    result = _run("sgfusion_topk", "algorithm.k=2")
    names = result.summary["details"]["zones"]
    D = np.asarray(result.summary["details"]["D"])
    for zone, partners in _partners(result, 1).items():
        k = names.index(zone)
        nearest = [names[j] for j in np.argsort(D[k], kind="stable") if j != k][:2]
        assert sorted(partners, key=names.index) == sorted(nearest, key=names.index)


def test_threshold_takes_the_zones_closer_than_it() -> None:
    result = _run("sgfusion_threshold", "algorithm.threshold=0.2")
    names = result.summary["details"]["zones"]
    D = np.asarray(result.summary["details"]["D"])
    expected = {names[k]: [names[j] for j in range(len(names)) if j != k and D[k, j] < 0.2]
                for k in range(len(names))}
    assert _partners(result, 1) == {z: p for z, p in expected.items() if p}


def test_all_fuses_with_every_other_zone_without_histograms() -> None:
    result = _run("sgfusion_all")
    names = result.summary["details"]["zones"]
    assert _partners(result, 1) == {z: [n for n in names if n != z] for z in names}
    assert "D" not in result.summary["details"]
    assert not any(what == "histogram" for _, what in _links(result))


def test_fixed_draws_chi_partners_every_round() -> None:
    result = _run("sgfusion_fixed", "algorithm.chi=2")
    for r in (1, 2):
        assert all(len(p) == 2 for p in _partners(result, r).values())
    assert result.summary["details"]["mean_sampled_zones"] == pytest.approx(2.0)
