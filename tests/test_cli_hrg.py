"""Tests of ``simfl hrg``: fit a distance file, write the tree JSON and the figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simfl.algorithms.geographic.hrg_fit import fit_hrg
from simfl.cli import main

LOSS_TOL = 1e-9


def clustered_csv(tmp_path: Path) -> Path:
    """Six zones in two tight clusters, {n0, n1, n2} and {s0, s1, s2}, as a CSV matrix."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0.0, 0.1, (3, 2)), rng.normal(5.0, 0.1, (3, 2))])
    D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    names = ["n0", "n1", "n2", "s0", "s1", "s2"]
    path = tmp_path / "zones.csv"
    path.write_text(",".join(names) + "\n"
                    + "\n".join(",".join(repr(float(v)) for v in row) for row in D) + "\n")
    return path


def test_hrg_writes_tree_json_and_figure(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fit" / "tree.json"
    assert main(["hrg", str(clustered_csv(tmp_path)), "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["method"] == "exact"
    assert record["loss"] == pytest.approx(sum(record["d"]), abs=LOSS_TOL)
    top = record["tree"]
    assert sorted(_flat(top[0])) in (["n0", "n1", "n2"], ["s0", "s1", "s2"])
    assert record["nodes"][-1]["d"] == record["d"][-1]  # the root is last
    assert (tmp_path / "fit" / "tree.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert f"6 zones, method exact: loss {record['loss']:.6g}" in printed


def _flat(tree: object) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    assert isinstance(tree, list)
    return [leaf for sub in tree for leaf in _flat(sub)]


def test_hrg_mcmc_prints_its_search_and_matches_the_library(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tree.json"
    path = clustered_csv(tmp_path)
    assert main(["hrg", str(path), "--out", str(out), "--method", "mcmc", "--seed", "4",
                 "--figure", str(tmp_path / "tree.svg")]) == 0
    record = json.loads(out.read_text())
    assert record["method"] == "mcmc"
    assert record["seed"] == 4
    assert record["trace"]["moves_proposed"] > 0
    assert "mcmc: " in capsys.readouterr().out
    assert (tmp_path / "tree.svg").exists()
    from simfl.algorithms.geographic.distance_files import read_distances

    D, names = read_distances(path)
    assert record["loss"] == pytest.approx(fit_hrg(D, names, method="mcmc", seed=4).loss,
                                           abs=LOSS_TOL)


def test_hrg_reads_pairs_files(tmp_path: Path) -> None:
    path = tmp_path / "g.pairs"
    path.write_text("0 1 0.1\n0 2 0.9\n1 2 0.8\n")
    out = tmp_path / "t.json"
    assert main(["hrg", str(path), "--out", str(out), "--method", "average_linkage"]) == 0
    record = json.loads(out.read_text())
    assert record["tree"] in ([["0", "1"], "2"], ["2", ["0", "1"]])
    assert record["loss"] == pytest.approx(0.1 + 0.85, abs=LOSS_TOL)
    assert record["trace"] is None


def test_bad_distance_file_exits_2_with_one_line_per_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b,c\n0,1,x\n1,0,2\n")
    assert main(["hrg", str(path), "--out", str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"error: {path}:2: column 'c': 'x' is not a number")
    assert err[1].startswith(f"error: {path}: 2 lines of distances for the 3 zones")
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("args,message", [
    (["--out", "tree.txt"], "give a file name ending in .json"),
    (["--out", "t.json", "--figure", "t.gif"], "ending in .png, .pdf or .svg"),
])
def test_bad_output_names_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 args: list[str], message: str) -> None:
    code = main(["hrg", str(clustered_csv(tmp_path)), *args])
    assert code == 2
    assert message in capsys.readouterr().err
