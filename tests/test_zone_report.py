"""Tests of the zone algorithms' report in ``simfl compare`` (simfl.algorithms.geographic.
zone_report via the compare_report hook)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from simfl.cli import main
from tests.conftest import SMALL_GEO


@pytest.mark.slow
def test_compare_of_zone_algorithms_writes_tables_and_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "geo.yaml"
    scenario.write_text(SMALL_GEO.replace("rounds: 3", "rounds: 1"))
    out = tmp_path / "cmp"
    code = main(["compare", str(scenario), "--algorithms", "zone_fl,sgfusion",
                 "--executor", "serial", "--out", str(out), "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "pooled_improvement_pct" in printed and "true hierarchy:" in printed
    table = pd.read_csv(out / "zone_table.csv")
    assert table.columns.tolist()[:4] == ["zone", "country", "zone_fl", "sgfusion"]
    assert len(table) == 6 and set(table["country"]) == {"norway"}
    runs = json.loads((out / "zone_runs.json").read_text())
    assert set(runs) == {"zone_fl", "sgfusion"} and "hrg" in runs["sgfusion"]["details"]
    for figure in ("zone_map.png", "dendrogram.png", "zone_improvement.png"):
        assert (out / "figures" / figure).stat().st_size > 0
