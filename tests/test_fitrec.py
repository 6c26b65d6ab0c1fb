"""Tests of simfl.learning.fitrec on small files written in the endomondoHR_proper format."""

from __future__ import annotations

import ast
import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simfl.errors import DataError, SimflError
from simfl.geo import GridCell, Zone
from simfl.geo.areas import KM_PER_DEG
from simfl.learning.fitrec import fitrec_clients, load_fitrec, parse_literal

ONE_METRE_KM = 1e-3
ONE_MS_S = 1e-3
ONE_CM_M = 1e-2
STEP_DEG = 0.001  # each point is 0.001 deg north of the previous one


def _workout(wid: int, user: int, sport: str = "run", n: int = 8, lat0: float = 60.0,
             lon0: float = 10.0, t0: int = 1_400_000_000) -> dict[str, Any]:
    return {
        "id": wid, "userId": user, "sport": sport, "gender": "male",
        "timestamp": [t0 + 10 * i for i in range(n)],
        "latitude": [lat0 + STEP_DEG * i for i in range(n)],
        "longitude": [lon0] * n,
        "altitude": [100.0 + i for i in range(n)],
        "heart_rate": [100 + 2 * i for i in range(n)],
        "speed": [10.0] * n,
    }


def _write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(line if isinstance(line, str) else repr(line) for line in lines) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _raw(data: Any) -> np.ndarray:
    s = data.scaling
    return data.x.astype(np.float64) / s.z_multiple * s.std + s.mean


def test_inputs_are_distance_altitude_and_elapsed_time(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7), _workout(2, 7, lat0=61.0)])
    data = load_fitrec(path, seq_len=5)
    assert data.x.shape == (2, 5, 3) and data.y.shape == (2, 5)
    assert data.x.dtype == np.float32 and data.y.dtype == np.float32
    raw = _raw(data)
    step_km = STEP_DEG * KM_PER_DEG
    assert np.allclose(raw[0, :, 0], [0.0] + [step_km] * 4, atol=ONE_METRE_KM)
    assert np.allclose(raw[0, :, 1], [100.0, 101.0, 102.0, 103.0, 104.0], atol=ONE_CM_M)
    assert np.allclose(raw[0, :, 2], [0.0, 10.0, 20.0, 30.0, 40.0], atol=ONE_MS_S)
    assert data.y[0].tolist() == [100.0, 102.0, 104.0, 106.0, 108.0]


def test_inputs_are_z_scored_per_feature(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7), _workout(2, 8, n=9)])
    data = load_fitrec(path, seq_len=6)
    flat = data.x.reshape(-1, 3)
    assert np.allclose(flat[:, 1:].mean(axis=0), 0.0, atol=1e-6)
    assert np.allclose(flat[:, 1:].std(axis=0), 1.0, atol=1e-5)


def test_fitrec_interpreter_options(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7), _workout(2, 8)])
    data = load_fitrec(path, seq_len=4, time_input="total", z_multiple=5.0)
    assert np.allclose(_raw(data)[:, :, 2], 30.0, atol=ONE_MS_S)
    altitude = data.x[..., 1].reshape(-1)
    assert np.std(altitude) == pytest.approx(5.0, rel=1e-5)


def test_meta_and_start_positions(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(11, 7, lat0=59.5, lon0=10.5)])
    data = load_fitrec(path, seq_len=3)
    assert data.workout_id.tolist() == ["11"] and data.user_id.tolist() == ["7"]
    assert data.sport.tolist() == ["run"] and data.gender.tolist() == ["male"]
    assert (data.start_lat_deg[0], data.start_lon_deg[0]) == (59.5, 10.5)


def test_short_workouts_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7, n=3), _workout(2, 7, n=8)])
    data = load_fitrec(path, seq_len=5)
    assert len(data) == 1 and data.skipped_short == 1


def test_sport_filter_and_max_workouts(tmp_path: Path) -> None:
    lines = [_workout(1, 7, "bike"), _workout(2, 7, "run"), _workout(3, 7, "running"),
             _workout(4, 8, "run"), _workout(5, 8, "run")]
    path = _write(tmp_path / "e.json", lines)
    data = load_fitrec(path, seq_len=4, sports={"run"}, max_workouts=2)
    assert data.workout_id.tolist() == ["2", "4"]


def test_gzipped_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json.gz", [_workout(1, 7), "", _workout(2, 8)])
    assert len(load_fitrec(path, seq_len=4)) == 2


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    uneven = _workout(4, 7)
    uneven["altitude"] = uneven["altitude"][:-1]
    missing = _workout(5, 7)
    del missing["heart_rate"]
    text = _workout(6, 7)
    text["heart_rate"][2] = "fast"
    path = _write(tmp_path / "e.json", [
        _workout(1, 7),
        "{'id': 2, 'userId': ",
        "__import__('os').system('touch pwned')",
        uneven, missing, text, "[1, 2]",
    ])
    with pytest.raises(DataError) as info:
        load_fitrec(path, seq_len=4)
    lines = info.value.problems
    assert len(lines) == 6
    assert "e.json:2: not a Python dict literal (SyntaxError)" in lines[0]
    assert "e.json:3: not a Python dict literal" in lines[1]
    assert "e.json:4: workout 4: lists of different lengths" in lines[2]
    assert "e.json:5: workout 5 lacks keys ['heart_rate']" in lines[3]
    assert "e.json:6: workout 6: 'heart_rate' holds non-numbers" in lines[4]
    assert "e.json:7: holds a list, not a dict" in lines[5]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_bad_positions_and_backward_time(tmp_path: Path) -> None:
    swapped = _workout(1, 7, lat0=100.0)
    backwards = _workout(2, 7)
    backwards["timestamp"][2] = 0
    path = _write(tmp_path / "e.json", [swapped, backwards])
    with pytest.raises(DataError) as info:
        load_fitrec(path, seq_len=4)
    assert "point 0 at (100.0, 10.0) is not a (lat, lon) position" in info.value.problems[0]
    assert "timestamps go backwards" in info.value.problems[1]


def test_bad_lines_may_be_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7), "nonsense", _workout(2, 8)])
    data = load_fitrec(path, seq_len=4, skip_bad_lines=True)
    assert len(data) == 2 and data.bad_line_count == 1
    assert "e.json:2: not a Python dict literal" in data.bad_lines[0]


def test_reading_stops_after_fifty_problems(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", ["x"] * 80)
    with pytest.raises(DataError) as info:
        load_fitrec(path, seq_len=4)
    assert len(info.value.problems) == 51
    assert info.value.problems[-1] == "... stopped reading at line 51 after 50 problems"


def test_no_workout_left(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", [_workout(1, 7, "bike")])
    with pytest.raises(DataError, match=r"no workouts of sports \['run'\] with at least 4 points"):
        load_fitrec(path, seq_len=4, sports=["run"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot open"):
        load_fitrec(tmp_path / "nowhere.json")


def test_bad_options_are_listed_together(tmp_path: Path) -> None:
    with pytest.raises(SimflError) as info:
        load_fitrec(tmp_path / "e.json", seq_len=1, max_workouts=0,
                    time_input="x")  # type: ignore[arg-type]
    assert len(info.value.problems) == 3


def test_clients_are_zone_user_pairs(tmp_path: Path) -> None:
    south = Zone("south", GridCell(59.0, 60.5, 9.0, 11.0))
    north = Zone("north", GridCell(60.5, 62.0, 9.0, 11.0))
    lines = [_workout(1, 7, lat0=60.0), _workout(2, 7, lat0=60.1), _workout(3, 7, lat0=61.0),
             _workout(4, 7, lat0=61.1), _workout(5, 7, lat0=61.2), _workout(6, 8, lat0=61.0),
             _workout(7, 9, lat0=70.0), _workout(8, 9, lat0=70.0)]
    data = load_fitrec(_write(tmp_path / "e.json", lines), seq_len=4)
    clients = fitrec_clients(data, [south, north], np.random.default_rng(0), test_fraction=0.34)
    assert [c.name for c in clients] == ["south/7", "north/7"]
    north7 = clients[1]
    assert (len(north7.x_train), len(north7.x_test)) == (2, 1)
    assert north7.x_train.shape[1:] == (4, 3) and north7.y_test.shape == (1, 4)


def test_clients_need_covering_zones(tmp_path: Path) -> None:
    data = load_fitrec(_write(tmp_path / "e.json", [_workout(1, 7), _workout(2, 7)]), seq_len=4)
    far = Zone("far", GridCell(0.0, 1.0, 0.0, 1.0))
    with pytest.raises(DataError, match="2 of 2 workouts start outside every zone"):
        fitrec_clients(data, [far], np.random.default_rng(0))


@pytest.mark.parametrize("text", [
    repr(_workout(1, 7)),
    "{'a': True, 'b': None, 'c': (1, 2), 'd': 1.}",
    repr({"name": "it's", "other": 'say "hi"'}),
    repr({"tricky": "x', 'y"}),
    "{1: [1e3, -2.5E-2, 0]}",
])
def test_parse_literal_gives_what_literal_eval_gives(text: str) -> None:
    assert parse_literal(text) == ast.literal_eval(text)


def test_parse_literal_never_runs_code() -> None:
    with pytest.raises(ValueError, match="malformed node"):
        parse_literal("__import__('os').getcwd()")


def test_a_file_that_is_not_utf8_text_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(repr(_workout(1, 7)).encode() + b"\n\xff\xfe\x00\n")
    with pytest.raises(DataError, match=r"e.json:2: not UTF-8 text"):
        load_fitrec(path, seq_len=4)


def test_a_broken_gzip_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "e.json.gz"
    path.write_bytes(gzip.compress(repr(_workout(1, 7)).encode() * 50)[:-20])
    with pytest.raises(DataError, match=r"e.json.gz:1: cannot read"):
        load_fitrec(path, seq_len=4)
