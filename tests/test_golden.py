"""Golden test: a small scenario's summary is stable (SimPy's examples with .out files).

Regenerate after an intended change with ``SIMFL_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and explain the change in the commit message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simfl.runs.runner import simulate
from simfl.scenario.load import scenario_from_text
from tests.conftest import SMALL_FEDAVG, SMALL_HIERARCHICAL

GOLDEN = Path(__file__).parent / "golden"
# Learning numbers may differ in the last bits across CPUs (BLAS kernels); timing may not.
METRIC_ABS_TOL = 1e-4


@pytest.mark.parametrize("name,text", [("small_fedavg", SMALL_FEDAVG),
                                       ("small_hierarchical", SMALL_HIERARCHICAL)])
def test_summary_matches_golden(name: str, text: str) -> None:
    summary = simulate(scenario_from_text(text)).summary
    summary.pop("wall_time_s")
    path = GOLDEN / f"{name}.summary.json"
    if os.environ.get("SIMFL_UPDATE_GOLDEN"):
        path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    got_metrics = summary.pop("final_metrics")
    want_metrics = expected.pop("final_metrics")
    assert set(got_metrics) == set(want_metrics)
    for key, value in want_metrics.items():
        assert got_metrics[key] == pytest.approx(value, abs=METRIC_ABS_TOL), key
    assert summary["simulated_time_s"] == pytest.approx(expected.pop("simulated_time_s"),
                                                        rel=1e-12)
    summary.pop("simulated_time_s")
    assert summary == expected
