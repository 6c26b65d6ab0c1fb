"""FitRec / Endomondo heart-rate workouts from ``endomondoHR_proper.json``.

The file (Ni, Muhlstein and McAuley, "Modeling Heart Rate and Activity Data for Personalized
Fitness Recommendation", WWW 2019; used by SGFusion, arXiv 2510.23455) holds one Python dict
literal per line: ``id``, ``userId``, ``sport``, ``gender``, ``timestamp`` (s),
``latitude``, ``longitude`` (deg), ``altitude`` (m) and ``heart_rate`` (bpm) lists of equal
length (500 points in the released file), sometimes ``speed``. Lines are parsed one at a
time with :func:`ast.literal_eval` (never ``eval``; a faster JSON path gives the same values
where it is exact, see :func:`parse_literal`), so the 4 GB file streams; one core reads
about 2 ms per 500-point workout (measured on generated lines of the released size).

Each workout becomes a sequence of its first ``seq_len`` steps (FitRec and SGFusion: 450).
The inputs are :data:`simfl.learning.sequences.WORKOUT_FEATURES`: distance since the
previous point (haversine, km; 0 at the first), altitude (m), time since the start (s); the
target is the heart rate per step (bpm, not scaled, as in FitRec's heart-rate model).
Inputs are z-scored per feature over all loaded steps (see :class:`FeatureScaling`).
FitRec's own interpreter differs in two knobs, offered here: it feeds the workout's total
duration at every step (``time_input="total"``) and multiplies z-scores by 5 (``z_multiple=5``).
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import zlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import numpy as np

from simfl.errors import MAX_PROBLEMS, DataError, SimflError
from simfl.geo.zones import OUTSIDE, Zone, check_zones, zone_index
from simfl.learning.sequences import (
    FeatureScaling,
    SequenceClient,
    split_indices,
)
from simfl.orbits.regions import great_circle_km

FITREC_SEQ_LEN = 450
SEQUENCE_KEYS = ("timestamp", "latitude", "longitude", "altitude", "heart_rate")
REQUIRED_KEYS = ("id", "userId", "sport", *SEQUENCE_KEYS)
TIME_INPUTS = ("elapsed", "total")


@dataclass(frozen=True, eq=False)
class FitRecData:
    """Workouts of a FitRec file as fixed-length sequences, one row per workout.

    Attributes
    ----------
    x
        float32 ``(n, seq_len, 3)`` scaled inputs: distance (km), altitude (m), time (s).
    y
        float32 ``(n, seq_len)`` heart rate per step, bpm.
    workout_id, user_id
        ``(n,)`` arrays of the workouts' ``id`` and ``userId`` (as strings).
    sport, gender
        ``(n,)`` string arrays (gender ``"unknown"`` when the line has none).
    start_lat_deg, start_lon_deg
        float64 ``(n,)`` position of each workout's first point (for zone assignment).
    scaling
        The scaling applied to the raw inputs (per-feature mean and std of the loaded steps).
    skipped_short
        Workouts left out because they have fewer than ``seq_len`` points.
    bad_lines, bad_line_count
        With ``skip_bad_lines=True``: one message per skipped line (``file:line: ...``; the
        first 50) and how many lines were skipped.
    """

    x: np.ndarray
    y: np.ndarray
    workout_id: np.ndarray
    user_id: np.ndarray
    sport: np.ndarray
    gender: np.ndarray
    start_lat_deg: np.ndarray
    start_lon_deg: np.ndarray
    scaling: FeatureScaling
    skipped_short: int = 0
    bad_lines: tuple[str, ...] = ()
    bad_line_count: int = 0

    def __len__(self) -> int:
        """Return the number of workouts."""
        return int(self.x.shape[0])


@dataclass(frozen=True)
class _Workout:
    meta: tuple[str, str, str, str]  # id, userId, sport, gender
    start: tuple[float, float]
    raw_x: np.ndarray  # (seq_len, 3) float32, unscaled
    hr: np.ndarray  # (seq_len,)


def load_fitrec(
    path: str | os.PathLike[str],
    *,
    seq_len: int = FITREC_SEQ_LEN,
    sports: Collection[str] | None = None,
    max_workouts: int | None = None,
    time_input: Literal["elapsed", "total"] = "elapsed",
    z_multiple: float = 1.0,
    skip_bad_lines: bool = False,
) -> FitRecData:
    """Return the workouts of a FitRec file (``.json`` or ``.json.gz``), read line by line.

    Parameters
    ----------
    path
        ``endomondoHR_proper.json`` or a file in its format.
    seq_len
        Steps kept from the start of each workout; shorter workouts are skipped (counted).
    sports
        Keep only these sports (e.g. ``{"run"}``); default all.
    max_workouts
        Stop after this many kept workouts (the file has about 167,000).
    time_input
        ``"elapsed"``: time since the start at each step; ``"total"``: the time at the last
        kept step, at every step (FitRec's interpreter).
    z_multiple
        Factor on the z-scored inputs (FitRec uses 5).
    skip_bad_lines
        Skip malformed lines (recording one message each in ``bad_lines``) instead of
        failing.

    Raises
    ------
    DataError
        One line per bad line (``file:line: what is wrong``; reading stops after 50), or
        when no workout is left.
    """
    _check_options(seq_len, max_workouts, time_input)
    path = Path(path)
    sport_set = None if sports is None else {str(s) for s in sports}
    workouts: list[_Workout] = []
    problems: list[str] = []
    skipped_short = bad_count = lineno = 0
    with _open(path) as fh:
        for lineno, raw in _lines(fh, path):
            if max_workouts is not None and len(workouts) >= max_workouts:
                break
            try:
                line = _decoded(raw)
                if not line.strip() or (sport_set is not None
                                        and not _may_match(line, sport_set)):
                    continue
                workout = _parse_line(line, seq_len, time_input, sport_set)
            except ValueError as exc:
                bad_count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(f"{path}:{lineno}: {exc}")
                elif not skip_bad_lines:
                    problems.append(f"... stopped reading at line {lineno} after {MAX_PROBLEMS} "
                                    "problems")
                    break
                continue
            if workout == "short":
                skipped_short += 1
            elif workout is not None:
                workouts.append(workout)
    if problems and not skip_bad_lines:
        raise DataError(problems)
    if not workouts:
        sport_text = f" of sports {sorted(sport_set)}" if sport_set else ""
        raise DataError(
            f"{path}: no workouts{sport_text} with at least {seq_len} points "
            f"({skipped_short} shorter ones skipped); check the sport names or lower seq_len"
        )
    raw_x = np.stack([w.raw_x for w in workouts])
    scaling = FeatureScaling.fit(raw_x, z_multiple)
    meta = np.array([w.meta for w in workouts], dtype=str).reshape(-1, 4)
    starts = np.array([w.start for w in workouts], dtype=np.float64).reshape(-1, 2)
    return FitRecData(
        x=scaling.apply(raw_x),
        y=np.stack([w.hr for w in workouts]),
        workout_id=meta[:, 0], user_id=meta[:, 1], sport=meta[:, 2], gender=meta[:, 3],
        start_lat_deg=starts[:, 0], start_lon_deg=starts[:, 1],
        scaling=scaling, skipped_short=skipped_short,
        bad_lines=tuple(problems), bad_line_count=bad_count,
    )


def fitrec_clients(
    data: FitRecData,
    zones: Sequence[Zone],
    rng: np.random.Generator,
    *,
    test_fraction: float = 0.2,
    min_workouts: int = 2,
) -> list[SequenceClient]:
    """Return one client per (zone, user): the user's workouts that start in the zone.

    As in SGFusion, a user who trains in several zones is a client of each. Workouts that
    start outside every zone are dropped, and so are (zone, user) pairs with fewer than
    ``min_workouts`` workouts (at least 2: each client needs a train and a test workout).
    Clients come in zone order, then by first appearance in the file; each one's workouts
    are split at random with :func:`split_indices`.
    """
    check_zones(zones)
    if min_workouts < 2:
        raise SimflError(f"min_workouts={min_workouts}; each client needs at least 2 workouts "
                         "(one to train, one to test)")
    where = zone_index(zones, data.start_lat_deg, data.start_lon_deg)
    clients = []
    for z, zone in enumerate(zones):
        rows = np.flatnonzero(where == z)
        users, first = np.unique(data.user_id[rows], return_index=True)
        for user in users[np.argsort(first)]:
            mine = rows[data.user_id[rows] == user]
            if len(mine) < min_workouts:
                continue
            train, test = split_indices(len(mine), test_fraction, rng)
            clients.append(SequenceClient(
                f"{zone.name}/{user}", zone.name, str(user),
                data.x[mine[train]], data.y[mine[train]], data.x[mine[test]], data.y[mine[test]],
            ))
    if not clients:
        outside = int(np.count_nonzero(where == OUTSIDE))
        raise DataError(
            f"no (zone, user) pair has {min_workouts}+ workouts; {outside} of {len(data)} "
            "workouts start outside every zone - check that the zones cover the data"
        )
    return clients


def _check_options(seq_len: int, max_workouts: int | None, time_input: str) -> None:
    problems = []
    if not (isinstance(seq_len, int) and seq_len >= 2):
        problems.append(f"seq_len={seq_len!r} must be an integer >= 2 (FitRec uses 450)")
    if max_workouts is not None and not (isinstance(max_workouts, int) and max_workouts >= 1):
        problems.append(f"max_workouts={max_workouts!r} must be a positive integer or None")
    if time_input not in TIME_INPUTS:
        problems.append(f"time_input={time_input!r} is unknown; use one of {TIME_INPUTS}")
    if problems:
        raise SimflError(problems)


def _open(path: Path) -> BinaryIO:
    try:
        if path.name.endswith(".gz"):
            return cast(BinaryIO, gzip.open(path, "rb"))
        return path.open("rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc}); give the path of "
                        "endomondoHR_proper.json") from exc


def _lines(fh: BinaryIO, path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, line)``; a file that cannot be read further is a DataError."""
    lineno = 0
    try:
        for lineno, line in enumerate(fh, start=1):
            yield lineno, line
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}:{lineno + 1}: cannot read ({exc}); the file is damaged: "
                        "download it again") from None


def _decoded(raw: bytes) -> str:
    """Return a line as text; a line that is not UTF-8 is a bad line (ValueError)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); each line "
                         "holds one workout as a Python dict literal") from None


def _may_match(line: str, sports: set[str]) -> bool:
    """Cheap pre-filter: can this line's sport be one of ``sports``? (checked after parsing)."""
    return any(f"'{s}'" in line or f'"{s}"' in line for s in sports)


def _parse_line(line: str, seq_len: int, time_input: str,
                sports: set[str] | None) -> _Workout | Literal["short"] | None:
    try:
        record = parse_literal(line.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(
            f"not a Python dict literal ({type(exc).__name__}); each line holds one workout "
            "like {'id': 1, 'userId': 2, 'sport': 'run', 'timestamp': [...], ...}"
        ) from None
    if not isinstance(record, dict):
        raise ValueError(f"holds a {type(record).__name__}, not a dict of one workout")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"workout {record.get('id', '?')!r} lacks keys {missing}; every line "
                         f"needs {list(REQUIRED_KEYS)}")
    if sports is not None and str(record["sport"]) not in sports:
        return None
    arrays = {k: _numbers(record, k) for k in SEQUENCE_KEYS}
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"workout {record['id']!r}: lists of different lengths {lengths}; "
                         "all of them need one value per point")
    if lengths["timestamp"] < seq_len:
        return "short"
    a = {k: v[:seq_len] for k, v in arrays.items()}
    bad = np.flatnonzero((np.abs(a["latitude"]) > 90) | (np.abs(a["longitude"]) > 180))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"workout {record['id']!r}: point {i} at ({a['latitude'][i]}, "
                         f"{a['longitude'][i]}) is not a (lat, lon) position in degrees")
    elapsed = a["timestamp"] - a["timestamp"][0]
    if (np.diff(elapsed) < 0).any():
        raise ValueError(f"workout {record['id']!r}: timestamps go backwards; they must not "
                         "decrease")
    if time_input == "total":
        elapsed = np.full(seq_len, elapsed[-1])
    step_km = np.concatenate(([0.0], great_circle_km(a["latitude"][:-1], a["longitude"][:-1],
                                                      a["latitude"][1:], a["longitude"][1:])))
    meta = (str(record["id"]), str(record["userId"]), str(record["sport"]),
            str(record.get("gender", "unknown")))
    return _Workout(meta, (float(a["latitude"][0]), float(a["longitude"][0])),
                    np.stack([step_km, a["altitude"], elapsed], axis=1).astype(np.float32),
                    a["heart_rate"].astype(np.float32))


def parse_literal(text: str) -> Any:
    """Return the Python literal ``text`` holds, as :func:`ast.literal_eval` would.

    A line without double quotes or backslashes has only single-quoted strings that contain
    no quote characters, so swapping ``'`` for ``"`` turns it into JSON with the same values;
    :func:`json.loads` reads that about 15x faster. Anything JSON does not take (``True``,
    ``None``, tuples, ``1.``) goes to ``literal_eval``. Nothing is ever evaluated as code.
    """
    if '"' not in text and "\\" not in text:
        try:
            return json.loads(text.replace("'", '"'))
        except json.JSONDecodeError:
            pass
    return ast.literal_eval(text)


def _numbers(record: dict[str, Any], key: str) -> np.ndarray:
    values = record[key]
    if not isinstance(values, list):
        raise ValueError(f"workout {record['id']!r}: {key!r} is a {type(values).__name__}, "
                         "not a list of numbers")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"workout {record['id']!r}: {key!r} holds non-numbers; it must be a "
                         "flat list of numbers") from None
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise ValueError(f"workout {record['id']!r}: {key!r} must be a flat list of finite "
                         "numbers")
    return arr
