"""Tests of the scenario files shipped in scenarios/: they validate, run and explain themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simfl.cli import main
from simfl.scenario.load import load_scenario
from simfl.scenario.source import read_scenario_file

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
COMMENTED = [REPO / "scenarios" / name
             for name in ("quickstart.yaml", "hierarchical.yaml", "fusefl_digits.yaml",
                          "fusefl_cifar10.yaml", "sgfusion_demo.yaml", "permfl_synthetic.yaml",
                          "permfl_digits.yaml")]


def test_scenarios_are_shipped() -> None:
    assert {p.name for p in SCENARIOS} >= {"quickstart.yaml", "hierarchical.yaml"}


USER_DATA = {"fusefl_cifar10.yaml"}
"""Scenarios that read datasets users download themselves (validated without the files)."""


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenario_validates(path: Path) -> None:
    tle = read_scenario_file(path).data.get("space", {}).get("constellation", {}).get("tle")
    if tle is not None and not (path.parent / tle).exists() and "shared/orbits" in tle:
        pytest.skip(f"needs the real catalog {tle} (../shared/orbits)")
    assert load_scenario(path, check_files=path.name not in USER_DATA).name


def _value_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def lines_without_why_comment(path: Path) -> list[str]:
    """Return ``file:line: text`` of every line that sets a value but has no ``#`` comment."""
    source = read_scenario_file(path)
    text_lines = path.read_text(encoding="utf-8").splitlines()
    missing = []
    for yaml_path, line in sorted(source.lines.items(), key=lambda item: item[1]):
        value = _value_at(source.data, yaml_path)
        text = text_lines[line - 1]
        opens_a_block = isinstance(value, dict | list) and text.rstrip().endswith(":")
        if not opens_a_block and " #" not in text:
            missing.append(f"{path.name}:{line}: {text.strip()}")
    return sorted(set(missing))


@pytest.mark.parametrize("path", COMMENTED, ids=lambda p: p.name)
def test_every_value_line_has_a_why_comment(path: Path) -> None:
    assert lines_without_why_comment(path) == []


def test_comment_check_finds_a_line_without_comment(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: a  # why\ndata:\n  dataset: digits\nmodel:\n  hidden: [1]  # why\n",
                    encoding="utf-8")
    assert lines_without_why_comment(path) == ["s.yaml:3: dataset: digits"]


def test_quickstart_runs_and_writes_the_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    code = main(["run", str(REPO / "scenarios" / "quickstart.yaml"), "-q",
                 "-o", "algorithm.rounds=2", "-o", "partition.num_clients=10",
                 "-o", "algorithm.clients_per_round=5", "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, f"run directory: {out_dir}\n", "")
    names = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    assert {"scenario.yaml", "trace.parquet", "metrics.csv", "summary.json"} <= names
    assert any(n.startswith("figures/") and n.endswith(".png") for n in names)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert (summary["scenario"], summary["rounds_completed"]) == ("quickstart", 2)
    assert len(pd.read_parquet(out_dir / "trace.parquet")) > 0
    resolved = load_scenario(out_dir / "scenario.yaml")
    assert (resolved.algorithm.rounds, resolved.partition.num_clients) == (2, 10)
