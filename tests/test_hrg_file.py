"""Tests of the HRG JSON file: written from a fit, read back, bad files reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simfl.algorithms.geographic.hrg_file import fit_to_json, read_hrg_json
from simfl.algorithms.geographic.hrg_fit import HrgFit, fit_hrg
from simfl.atomic import write_json
from simfl.errors import DataError

LOSS_TOL = 1e-12


def small_fit(method: str = "exact") -> HrgFit:
    h = np.random.default_rng(1).dirichlet(np.ones(5), size=6)
    D = np.sqrt(((h[:, None] - h[None]) ** 2).sum(-1))
    return fit_hrg(D, [f"zone{i}" for i in range(6)], method=method, seed=0)


def test_round_trip_keeps_tree_d_and_loss(tmp_path: Path) -> None:
    fit = small_fit()
    write_json(tmp_path / "t.json", fit_to_json(fit))
    back = read_hrg_json(tmp_path / "t.json")
    assert back.tree == fit.tree
    assert back.d == pytest.approx(fit.d, abs=LOSS_TOL)
    assert back.loss == pytest.approx(fit.loss, abs=LOSS_TOL)
    assert back.method == "exact"


def test_nodes_list_each_internal_node_with_its_leaves() -> None:
    record = fit_to_json(small_fit())
    root = record["nodes"][-1]
    assert sorted(root["left"] + root["right"]) == sorted(record["zones"])
    assert [node["d"] for node in record["nodes"]] == record["d"]


def test_mcmc_record_summarises_the_trace() -> None:
    record = fit_to_json(small_fit("mcmc"))
    assert record["trace"]["sweeps"] > 0
    assert len(record["trace"]["run_loss"]) == 3


def write(tmp_path: Path, obj: object) -> Path:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(obj))
    return path


@pytest.mark.parametrize("change,message", [
    ({"d": [0.1]}, "d must be a list of 2 finite numbers"),
    ({"loss": 9.0}, "loss 9.0 is not the sum of d"),
    ({"method": "guess"}, "method 'guess' is not one of exact, mcmc, average_linkage"),
    ({"tree": [["a", "b", "c"]]}, "tree: a tree node must be a zone name or a list of two"),
])
def test_bad_files_are_reported(tmp_path: Path, change: dict[str, object], message: str) -> None:
    good = {"tree": [["a", "b"], "c"], "d": [0.1, 0.5], "loss": 0.6, "method": "exact"}
    with pytest.raises(DataError, match=message):
        read_hrg_json(write(tmp_path, {**good, **change}))


def test_missing_keys_are_each_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_hrg_json(write(tmp_path, {"tree": ["a", "b"]}))
    assert [p.split("key ")[1] for p in info.value.problems] == [
        "'d' is missing", "'loss' is missing", "'method' is missing"]


def test_not_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"tree":\n  [}\n')
    with pytest.raises(DataError, match=r"t\.json:2: not valid JSON"):
        read_hrg_json(path)


def test_a_binary_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tree.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DataError, match=r"tree.json: not UTF-8 JSON text"):
        read_hrg_json(path)
