"""Tests of the distance-file readers: CSV matrices and fitHRG .pairs files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simfl.algorithms.geographic.distance_files import (
    MAX_PROBLEMS,
    check_matrix,
    read_distances,
)
from simfl.errors import DataError

D3 = np.array([[0.0, 0.5, 1.25], [0.5, 0.0, 2.0], [1.25, 2.0, 0.0]])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        read_distances(path)
    return info.value.problems


def test_csv_matrix_with_a_header_of_names(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "oslo,bergen,tromso\n0,0.5,1.25\n0.5,0,2\n1.25,2,0\n")
    D, names = read_distances(path)
    assert names == ("oslo", "bergen", "tromso")
    assert np.array_equal(D, D3)


def test_csv_matrix_with_row_labels_as_pandas_writes_it(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "labelled.csv"
    pd.DataFrame(D3, index=["x", "y", "z"], columns=["x", "y", "z"]).to_csv(path)
    D, names = read_distances(path)
    assert names == ("x", "y", "z")
    assert np.array_equal(D, D3)


def test_pairs_file_in_fithrg_layout(tmp_path: Path) -> None:
    # both orders and the diagonal, tab separated, as the official Norway file
    lines = [f"{i}\t{j}\t{D3[i, j]}" for i in range(3) for j in range(3)]
    D, names = read_distances(write(tmp_path, "g.pairs", "\n".join(lines) + "\n"))
    assert names == ("0", "1", "2")
    assert np.array_equal(D, D3)


def test_pairs_file_with_each_pair_once_and_sparse_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "g.pairs", "# zones 10, 20, 30\n10 20 0.5\n30 10 1.25\n20 30 2\n")
    D, names = read_distances(path)
    assert names == ("10", "20", "30")
    assert np.array_equal(D, D3)


def test_nearly_symmetric_matrix_is_made_exactly_symmetric(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b\n0,0.3\n0.30000000000001,0\n")
    D, _names = read_distances(path)
    assert D[0, 1] == D[1, 0]


@pytest.mark.parametrize("text,expected", [
    ("a,b\n0,1\n2,0\n", "d.csv:2: D[a, b] = 1 but D[b, a] = 2 (line 3); the matrix must be "
                        "symmetric"),
    ("a,b\n0,-1\n-1,0\n", "d.csv:2: D[a, b] = -1; distances must be >= 0"),
    ("a,b\n0.5,1\n1,0\n", "d.csv:2: D[a, a] = 0.5; the diagonal must be 0"),
    ("a,b\n0,nan\nnan,0\n", "d.csv:2: D[a, b] = nan; distances must be finite numbers"),
    ("a,b\n0,far\n1,0\n", "d.csv:2: column 'b': 'far' is not a number"),
    ("a,b\n0,1,2\n1,0\n", "d.csv:2: 3 values; expected 2, one per zone named in the header"),
    ("a,b,c\n0,1,1\n1,0,1\n", "d.csv: 2 lines of distances for the 3 zones named on line 1"),
    ("a,a\n0,1\n1,0\n", "d.csv: zone name(s) ['a'] appear more than once"),
    (",a,b\nb,0,1\na,1,0\n", "d.csv:2: line starts with 'b'; line 1 of the matrix belongs to "
                             "zone 'a'"),
    ("a\n0\n", "d.csv: 1 zone(s); a dendrogram of zones needs at least 2"),
    ("\n\n", "d.csv: empty file"),
])
def test_bad_csv_files_say_where_and_what(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, "d.csv", text))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("text,expected", [
    ("0 1 0.5\n0 2\n1 2 2\n", "g.pairs:2: 2 fields; expected 'i j distance'"),
    ("0 1 0.5\n0 x 1\n1 2 2\n", "g.pairs:2: zone id 'x' is not a non-negative integer"),
    ("0 1 0.5\n0 -2 1\n", "g.pairs:2: zone id '-2' is not a non-negative integer"),
    ("0 1 0.5\n0 2 near\n1 2 2\n", "g.pairs:2: distance 'near' is not a number"),
    ("0 1 0.5\n0 2 -1\n1 2 2\n", "g.pairs:2: distance -1 must be a finite number >= 0"),
    ("0 1 0.5\n0 2 inf\n1 2 2\n", "g.pairs:2: distance inf must be a finite number >= 0"),
    ("0 1 0.5\n0 1 0.6\n", "g.pairs:2: pair (0, 1) already given on line 1"),
    ("0 1 0.5\n1 0 0.6\n", "g.pairs:2: pair (1, 0) = 0.6 but (0, 1) = 0.5 on line 1; distances "
                           "must be symmetric"),
    ("0 0 0.1\n0 1 0.5\n", "g.pairs:1: zone 0 to itself = 0.1"),
    ("0 1 0.5\n1 2 2\n", "g.pairs: 1 pair(s) of the 3 zones have no line: (0, 2)"),
    ("", "g.pairs: 0 zone(s) with a distance"),
])
def test_bad_pairs_files_say_where_and_what(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, "g.pairs", text))
    assert any(expected in p for p in problems), problems


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, "g.pairs", "0 1 x\n0 2 -1\n1 2\n"))
    assert [p.split(":")[1] for p in problems] == ["1", "2", "3"]


def test_many_problems_are_capped_with_a_summary(tmp_path: Path) -> None:
    n = 8
    rows = "\n".join(",".join("-1" if i != j else "0" for j in range(n)) for i in range(n))
    header = ",".join(f"z{i}" for i in range(n))
    problems = problems_of(write(tmp_path, "d.csv", f"{header}\n{rows}\n"))
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == f"... and {n * (n - 1) - MAX_PROBLEMS} more problems of the same kinds"


def test_unknown_suffix_names_the_formats(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"are \.csv .* or \.pairs"):
        read_distances(write(tmp_path, "d.txt", "0 1 1\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_distances(tmp_path / "absent.csv")


def test_check_matrix_of_an_array_names_the_zones() -> None:
    bad = D3.copy()
    bad[2, 1] = 3.0
    with pytest.raises(DataError, match=r"distance matrix: D\[y, z\] = 2 but D\[z, y\] = 3"):
        check_matrix(bad, ["x", "y", "z"])


def test_check_matrix_wants_a_square_matrix_and_one_name_per_row() -> None:
    with pytest.raises(DataError, match="must be square"):
        check_matrix(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(DataError, match="3 rows but 2 zone names"):
        check_matrix(np.zeros((3, 3)), ["a", "b"])


def test_a_binary_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_bytes(b"a,b\n\xff\xfe\x00\x01\n")
    with pytest.raises(DataError, match=r"zones.csv: cannot read as UTF-8 text"):
        read_distances(path)
