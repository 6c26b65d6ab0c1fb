"""Tests of simfl.orbits.omm: CelesTrak OMM JSON and CSV -> element sets."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec
from sgp4.exporter import export_omm

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.omm import (
    OMM_FIELDS,
    element_set_from_omm,
    load_omm_csv,
    load_omm_json,
    parse_omm_csv_text,
    parse_omm_json_text,
)
from simfl.orbits.tle import format_tle_line
from simfl.orbits.walker import walker_delta

one_meter_km = 1e-3
# sgp4's documentation example (ISS), with the zero second derivative written "00000+0" as
# CelesTrak writes it (the example's "00000-0" is the same number).
ISS_1 = "1 25544U 98067A   08264.51782528 -.00002182  00000+0 -11606-4 0  2926"
ISS_2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
# A Starlink-like set with positive drag terms and a nonzero second derivative (made up).
DRAG_1 = "1 44714U 19074B   26054.54089312  .00000969  12345-9  43797-4 0  9992"
DRAG_2 = "2 44714  53.1568 244.5638 0001273  95.0474 265.0672 15.31036083346702"


def _sources() -> list[tuple[str, str, str]]:
    shell = walker_delta(86.4, 6, 3, 1, 780.0, datetime(2026, 2, 24, 7, 30, tzinfo=UTC))
    # Generated sets have no international designator; give them one, as real sets have.
    return [
        ("ISS (ZARYA)", ISS_1, ISS_2),
        ("STARLINK-ISH", DRAG_1, DRAG_2),
        *[
            (e.name, format_tle_line(f"{e.line1[:9]}26{900 + i:03d}A  {e.line1[17:68]}"), e.line2)
            for i, e in enumerate(shell)
        ],
    ]


def _records() -> list[dict[str, object]]:
    """Return OMM records as CelesTrak writes them: the TLE values in full."""
    records = []
    for name, line1, line2 in _sources():
        sat = Satrec.twoline2rv(line1, line2)
        records.append(export_omm(sat, name))
    return records


def _csv_text(records: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(OMM_FIELDS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def _max_position_difference_km(element: ElementSet, record: dict[str, object]) -> float:
    """Return the largest |r_tle - r_omm| over a few times around the epoch (km)."""
    reference = Satrec()
    sgp4_omm.initialize(reference, {key: str(value) for key, value in record.items()})
    sat = element.satrec()
    worst = 0.0
    for offset_days in (0.0, 0.25, 1.0, 3.0):
        jd, fr = reference.jdsatepoch, reference.jdsatepochF + offset_days
        e1, r1, _ = sat.sgp4(jd, fr)
        e2, r2, _ = reference.sgp4(jd, fr)
        assert e1 == e2 == 0
        worst = max(worst, max(abs(a - b) for a, b in zip(r1, r2, strict=True)))
    return worst


def test_json_records_become_the_original_tle_lines() -> None:
    elements = parse_omm_json_text(json.dumps(_records()))
    assert [(e.name, e.line1, e.line2) for e in elements] == _sources()


def test_json_sets_propagate_like_sgp4_from_the_omm_fields() -> None:
    records = _records()
    elements = parse_omm_json_text(json.dumps(records))
    worst_km = max(
        _max_position_difference_km(e, r) for e, r in zip(elements, records, strict=True)
    )
    assert worst_km < one_meter_km


def test_csv_sets_propagate_like_sgp4_from_the_omm_fields() -> None:
    records = _records()
    elements = parse_omm_csv_text(_csv_text(records))
    worst_km = max(
        _max_position_difference_km(e, r) for e, r in zip(elements, records, strict=True)
    )
    assert worst_km < one_meter_km


def test_csv_and_json_give_the_same_sets() -> None:
    records = _records()
    assert parse_omm_csv_text(_csv_text(records)) == parse_omm_json_text(json.dumps(records))


def test_a_single_json_object_is_one_record() -> None:
    (element,) = parse_omm_json_text(json.dumps(_records()[0]))
    assert element.line1 == ISS_1


def test_epoch_with_z_suffix_and_no_fraction_is_accepted() -> None:
    record = dict(_records()[2], EPOCH="2026-02-24T07:30:00Z")
    element = element_set_from_omm(record, "test")
    assert element.epoch_utc == datetime(2026, 2, 24, 7, 30, tzinfo=UTC)


def test_norad_id_above_99999_uses_alpha5() -> None:
    record = dict(_records()[0], NORAD_CAT_ID=270000)
    element = element_set_from_omm(record, "test")
    assert element.line1[2:7] == element.line2[2:7] == "T0000"
    assert element.norad_id == 270000


def test_missing_json_field_names_file_record_and_field() -> None:
    records = _records()
    del records[1]["MEAN_MOTION"]
    with pytest.raises(OrbitError, match=r"^gp\.json: record \[1\]: field MEAN_MOTION missing"):
        parse_omm_json_text(json.dumps(records), source="gp.json")


def test_invalid_json_field_names_the_field_and_the_rule() -> None:
    records = _records()
    records[0]["ECCENTRICITY"] = 1.5
    with pytest.raises(OrbitError, match=r"record \[0\]: field ECCENTRICITY is 1\.5.*0 <= e < 1"):
        parse_omm_json_text(json.dumps(records), source="gp.json")


def test_bad_epoch_is_reported() -> None:
    records = _records()
    records[2]["EPOCH"] = "24/02/2026"
    with pytest.raises(OrbitError, match=r"record \[2\]: field EPOCH is '24/02/2026'"):
        parse_omm_json_text(json.dumps(records), source="gp.json")


def test_all_bad_records_are_reported_at_once() -> None:
    records = _records()
    records[0]["INCLINATION"] = "north"
    del records[3]["BSTAR"]
    with pytest.raises(OrbitError) as info:
        parse_omm_json_text(json.dumps(records), source="gp.json")
    assert [p.split(":", 2)[1] for p in info.value.problems] == [" record [0]", " record [3]"]


def test_csv_bad_value_names_the_line() -> None:
    records = _records()
    records[1]["INCLINATION"] = "abc"
    with pytest.raises(OrbitError, match=r"^gp\.csv:3: field INCLINATION is 'abc'"):
        parse_omm_csv_text(_csv_text(records), source="gp.csv")


def test_csv_without_a_column_is_rejected_at_the_header() -> None:
    text = "\n".join(",".join(row.split(",")[:-1]) for row in _csv_text(_records()).splitlines())
    with pytest.raises(OrbitError, match=r"^gp\.csv:1: header lacks column MEAN_MOTION_DDOT"):
        parse_omm_csv_text(text, source="gp.csv")


def test_text_that_is_not_json_is_rejected() -> None:
    with pytest.raises(OrbitError, match=r"^gp\.json:1: not valid JSON"):
        parse_omm_json_text("[{]", source="gp.json")


def test_json_that_is_not_a_list_of_records_is_rejected() -> None:
    with pytest.raises(OrbitError, match="not a list of OMM records"):
        parse_omm_json_text("[]", source="gp.json")


def test_load_functions_read_files(tmp_path: Path) -> None:
    records = _records()
    (tmp_path / "gp.json").write_text(json.dumps(records))
    (tmp_path / "gp.csv").write_text(_csv_text(records))
    assert load_omm_json(tmp_path / "gp.json") == load_omm_csv(tmp_path / "gp.csv")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(OrbitError, match=r"absent\.json: OMM JSON file not found"):
        load_omm_json(tmp_path / "absent.json")


def test_csv_with_a_byte_order_mark_is_accepted() -> None:
    records = _records()
    assert parse_omm_csv_text("\ufeff" + _csv_text(records)) == parse_omm_json_text(
        json.dumps(records)
    )
