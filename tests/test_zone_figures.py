"""Tests of simfl.analysis.zone_figures: per-zone improvement bars."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simfl.analysis.zone_figures import plot_zone_improvement
from simfl.errors import SimflError

TABLE = pd.DataFrame({"zone": ["a", "b"], "sgfusion_improvement_pct": [5.0, -2.0],
                      "sgfusion_all_improvement_pct": [1.0, 3.0]})


def test_one_bar_per_zone_and_algorithm(tmp_path: Path) -> None:
    fig = plot_zone_improvement(TABLE, ["sgfusion", "sgfusion_all"], path=tmp_path / "z.png")
    (ax,) = fig.axes
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [-2.0, 1.0, 3.0, 5.0]
    assert (tmp_path / "z.png").stat().st_size > 0


def test_a_missing_algorithm_column_is_named() -> None:
    with pytest.raises(SimflError, match=r"lacks \['topk_improvement_pct'\]"):
        plot_zone_improvement(TABLE, ["topk"])
