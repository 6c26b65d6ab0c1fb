"""Read and check distance matrices between zones (SGFusion's HRG input, arXiv 2510.23455).

Two file formats:

- CSV matrix: a header line of zone names, then one line of ``n`` distances per zone in the
  header's order. If the header's first cell is empty, every line starts with its zone's
  name (as ``pandas.DataFrame.to_csv`` writes a labelled matrix), which must match.
- ``.pairs`` (the format of Clauset's fitHRG used by the official SGFusion code): one
  ``i j distance`` line per pair, ``i`` and ``j`` non-negative integer zone ids, separated
  by spaces or tabs. Each pair appears once or in both orders (with the same distance);
  ``i i 0`` lines are allowed. Zone names are the ids, in increasing order.

A valid matrix is square, finite, non-negative, has a zero diagonal and is symmetric within
:data:`SYMMETRY_TOLERANCE`. Every problem found is reported at once, one line each, with the
file and line where there is one (:class:`~simfl.errors.DataError`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from simfl.errors import DataError

SYMMETRY_TOLERANCE = 1e-9
"""Largest ``|D[i, j] - D[j, i]|`` (and ``|D[i, i]|``) accepted, relative to max(1, |D|)."""

MAX_PROBLEMS = 20
"""Problems listed one by one; more are summarised in a last line."""


def read_distances(path: str | Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return ``(D, names)`` read from a ``.csv`` matrix or a fitHRG ``.pairs`` file.

    ``D`` has shape (n, n) and is made exactly symmetric (the mean of ``D`` and ``D.T``).

    Raises
    ------
    DataError
        If the file is missing, has another suffix, or breaks the format (every problem).
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".pairs"):
        raise DataError(f"{path}: distance files are .csv (a matrix with a header of zone "
                        "names) or .pairs (fitHRG's 'i j distance' lines); rename or convert it")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as UTF-8 text ({exc}); give a .csv matrix or "
                        "a .pairs file") from None
    D, names = _read_pairs(text, path) if path.suffix.lower() == ".pairs" else _read_csv(text, path)
    return 0.5 * (D + D.T), names


def check_matrix(D: np.ndarray, names: Sequence[str], where: str = "distance matrix",
                 lines: Sequence[int] | None = None) -> None:
    """Raise if ``D`` is not a valid distance matrix between the zones ``names``.

    Parameters
    ----------
    where
        What to call the matrix (a file name) at the start of every message.
    lines
        The file line of each row, to point at (``where:line:``).

    Raises
    ------
    DataError
        Listing every problem: shape, names, non-finite, negative, non-zero diagonal and
        asymmetric entries.
    """
    problems = _matrix_problems(np.asarray(D, dtype=float), list(names), where, lines)
    if problems:
        raise DataError(_capped(problems))


def _matrix_problems(D: np.ndarray, names: list[str], where: str,
                     lines: Sequence[int] | None) -> list[str]:
    n = len(names)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        return [f"{where}: a distance matrix must be square, got shape {D.shape}"]
    if D.shape[0] != n:
        return [f"{where}: {D.shape[0]} rows but {n} zone names; give one name per row"]
    problems = []
    if n < 2:
        problems.append(f"{where}: {n} zone(s); a dendrogram of zones needs at least 2")
    blank = [i for i, name in enumerate(names) if not str(name).strip()]
    if blank:
        problems.append(f"{where}: zone name(s) at position(s) {blank} are empty; "
                        "every zone needs a name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"{where}: zone name(s) {repeated} appear more than once; "
                        "names must be different")

    if n == 0:
        return problems

    def at(i: int) -> str:
        return f"{where}:{lines[i]}" if lines is not None else where

    finite = np.isfinite(D)
    scale = max(1.0, float(np.abs(np.where(finite, D, 0.0)).max()))
    tol = SYMMETRY_TOLERANCE * scale
    with np.errstate(invalid="ignore"):
        bad = ~finite | (D < 0.0) | (np.eye(n, dtype=bool) & (np.abs(D) > tol))
        bad |= np.triu(finite & finite.T & (np.abs(D - D.T) > tol), k=1)
    for i, j in np.argwhere(bad).tolist():
        value = D[i, j]
        cell = f"{at(i)}: D[{names[i]}, {names[j]}] = {value:g}"
        if not finite[i, j]:
            problems.append(f"{cell}; distances must be finite numbers")
        elif value < 0.0:
            problems.append(f"{cell}; distances must be >= 0")
        elif i == j:
            problems.append(f"{cell}; the diagonal must be 0 (a zone's distance to itself)")
        else:
            other = f" (line {lines[j]})" if lines is not None else ""
            problems.append(f"{cell} but D[{names[j]}, {names[i]}] = {D[j, i]:g}{other}; "
                            f"the matrix must be symmetric (within {SYMMETRY_TOLERANCE:g})")
    return problems


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS],
            f"... and {len(problems) - MAX_PROBLEMS} more problems of the same kinds"]


def _read_csv(text: str, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    rows = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), start=1)
            if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{path}: empty file; expected a header line of zone names, then one "
                        "line of distances per zone")
    header_line, header = rows[0]
    labelled = header[0].strip() == ""
    names = [cell.strip() for cell in (header[1:] if labelled else header)]
    n = len(names)
    problems: list[str] = []
    values = np.full((n, n), np.nan)
    lines: list[int] = []
    body = rows[1:]
    for i, (number, row) in enumerate(body[:n]):
        lines.append(number)
        cells = [cell.strip() for cell in row]
        if labelled:
            label, cells = (cells[0], cells[1:]) if cells else ("", [])
            if label != names[i]:
                problems.append(f"{path}:{number}: line starts with {label!r}; line {i + 1} "
                                f"of the matrix belongs to zone {names[i]!r} (the header order)")
        if len(cells) != n:
            problems.append(f"{path}:{number}: {len(cells)} values; expected {n}, one per zone "
                            f"named in the header")
            continue
        for j, cell in enumerate(cells):
            try:
                values[i, j] = float(cell)
            except ValueError:
                problems.append(f"{path}:{number}: column {names[j]!r}: {cell!r} is not a "
                                "number; write distances like 0.25 or 1e-3")
    if len(body) != n:
        problems.append(f"{path}: {len(body)} lines of distances for the {n} zones named on "
                        f"line {header_line}; give one line per zone, in the header's order")
    if problems:
        raise DataError(_capped(problems))
    check_matrix(values, names, str(path), lines)
    return values, tuple(names)


def _read_pairs(text: str, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    problems: list[str] = []
    given: dict[tuple[int, int], tuple[float, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 3:
            problems.append(f"{path}:{number}: {len(fields)} fields; expected 'i j distance' "
                            "(two integer zone ids and a number)")
            continue
        parsed = _parse_pair(fields, f"{path}:{number}", problems)
        if parsed is None:
            continue
        i, j, value = parsed
        if i == j:
            if value != 0.0:
                problems.append(f"{path}:{number}: zone {i} to itself = {value:g}; a zone's "
                                "distance to itself must be 0 (or leave the line out)")
            continue
        if (i, j) in given:
            problems.append(f"{path}:{number}: pair ({i}, {j}) already given on line "
                            f"{given[i, j][1]}; give each pair once (or once in each order)")
            continue
        if (j, i) in given:
            other, other_line = given[j, i]
            if abs(other - value) > SYMMETRY_TOLERANCE * max(1.0, abs(value), abs(other)):
                problems.append(f"{path}:{number}: pair ({i}, {j}) = {value:g} but ({j}, {i}) "
                                f"= {other:g} on line {other_line}; distances must be symmetric")
        given[i, j] = (value, number)
    ids = sorted({z for pair in given for z in pair})
    index = {z: k for k, z in enumerate(ids)}
    D = np.zeros((len(ids), len(ids)))
    for (i, j), (value, _number) in given.items():
        D[index[i], index[j]] = value
        if (j, i) not in given:
            D[index[j], index[i]] = value
    missing = [(i, j) for a, i in enumerate(ids) for j in ids[a + 1:]
               if (i, j) not in given and (j, i) not in given]
    if missing:
        shown = ", ".join(f"({i}, {j})" for i, j in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        problems.append(f"{path}: {len(missing)} pair(s) of the {len(ids)} zones have no line: "
                        f"{shown}{more}; every pair needs an 'i j distance' line")
    if len(ids) < 2 and not problems:
        problems.append(f"{path}: {len(ids)} zone(s) with a distance; a dendrogram of zones "
                        "needs at least 2 (lines 'i j distance')")
    if problems:
        raise DataError(_capped(problems))
    return D, tuple(str(z) for z in ids)


def _parse_pair(fields: list[str], where: str,
                problems: list[str]) -> tuple[int, int, float] | None:
    ids = []
    for field in fields[:2]:
        if not field.isdigit():
            problems.append(f"{where}: zone id {field!r} is not a non-negative integer; "
                            "ids are 0, 1, 2, ...")
            return None
        ids.append(int(field))
    try:
        value = float(fields[2])
    except ValueError:
        problems.append(f"{where}: distance {fields[2]!r} is not a number; write it like 0.25")
        return None
    if not math.isfinite(value) or value < 0.0:
        problems.append(f"{where}: distance {fields[2]} must be a finite number >= 0")
        return None
    return ids[0], ids[1], value

