"""CelesTrak OMM (Orbit Mean-Elements Message) in JSON and CSV: records -> element sets.

CelesTrak serves the same element sets as TLE, OMM JSON (``FORMAT=json``: a list of objects)
and OMM CSV (``FORMAT=csv``: one row per satellite, same field names as the JSON keys). Each
record is converted to TLE lines (:func:`~simfl.orbits.tle.tle_lines_from_elements`), so every
consumer sees one representation. CelesTrak's OMM values are the TLE values written out in
full, so the conversion is exact and SGP4 gives the same positions as from the OMM fields.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from sgp4.api import SGP4_ERRORS, Satrec

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.tle import tle_lines_from_elements

__all__ = [
    "OMM_FIELDS",
    "element_set_from_omm",
    "load_omm_csv",
    "load_omm_json",
    "parse_omm_csv_text",
    "parse_omm_json_text",
]

OMM_FIELDS: tuple[str, ...] = (
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_FLOAT_FIELDS = (
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_INT_FIELDS = ("EPHEMERIS_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH")
_RANGES = {
    "MEAN_MOTION": (0.0, 100.0, "revolutions per day, 0 < n < 100"),
    "ECCENTRICITY": (0.0, 0.9999999, "0 <= e < 1"),
    "INCLINATION": (0.0, 180.0, "degrees, 0-180"),
    "NORAD_CAT_ID": (0, 339999, "0-339999, the range a TLE can hold"),
}
_FIX = "CelesTrak OMM records carry " + ", ".join(OMM_FIELDS) + "; re-download the file"


def element_set_from_omm(fields: Mapping[str, object], where: str) -> ElementSet:
    """Return the element set of one OMM record (a mapping of CelesTrak field names to values).

    Values may be numbers or strings (CSV). ``where`` prefixes every error message.

    Raises
    ------
    OrbitError
        One line per missing or invalid field, each naming ``where`` and the field.
    """
    problems: list[str] = []
    missing = [f for f in OMM_FIELDS if fields.get(f) is None or str(fields.get(f)).strip() == ""]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"{where}: field{plural} {', '.join(missing)} missing or empty ({_FIX})")
    values: dict[str, float] = {}
    for name in (*_FLOAT_FIELDS, *_INT_FIELDS):
        if name in missing:
            continue
        number = _number(fields[name], integer=name in _INT_FIELDS)
        low, high, rule = _RANGES.get(name, (-math.inf, math.inf, "a finite number"))
        if number is None or not low <= number <= high or (name == "MEAN_MOTION" and not number):
            kind = "an integer" if name in _INT_FIELDS else "a number"
            problems.append(
                f"{where}: field {name} is {fields[name]!r}, not valid (it must be {kind}: "
                f"{rule}; fix the value or re-download the file)"
            )
        else:
            values[name] = number
    epoch = None if "EPOCH" in missing else _epoch(str(fields["EPOCH"]))
    if epoch is None and "EPOCH" not in missing:
        problems.append(
            f"{where}: field EPOCH is {fields['EPOCH']!r}, not an ISO 8601 UTC time (write it "
            "like 2026-02-24T03:43:12.123456; fix the value or re-download the file)"
        )
    if problems:
        raise OrbitError(problems)
    assert epoch is not None
    line1, line2 = tle_lines_from_elements(
        norad_id=int(values["NORAD_CAT_ID"]),
        epoch_utc=epoch,
        inclination_deg=values["INCLINATION"],
        raan_deg=values["RA_OF_ASC_NODE"],
        eccentricity=values["ECCENTRICITY"],
        arg_perigee_deg=values["ARG_OF_PERICENTER"],
        mean_anomaly_deg=values["MEAN_ANOMALY"],
        mean_motion_rev_per_day=values["MEAN_MOTION"],
        bstar_per_earth_radius=values["BSTAR"],
        mean_motion_dot_rev_per_day2=values["MEAN_MOTION_DOT"],
        mean_motion_ddot_rev_per_day3=values["MEAN_MOTION_DDOT"],
        classification=(str(fields["CLASSIFICATION_TYPE"]).strip() or "U")[:1],
        intl_designator=_intl_designator(str(fields["OBJECT_ID"])),
        element_set_no=int(values["ELEMENT_SET_NO"]),
        rev_at_epoch=int(values["REV_AT_EPOCH"]),
        ephemeris_type=int(values["EPHEMERIS_TYPE"]),
        where=where,
    )
    sat = Satrec.twoline2rv(line1, line2)
    if sat.error != 0:
        raise OrbitError(
            f"{where}: SGP4 rejects this record: {SGP4_ERRORS.get(sat.error, sat.error)} (the "
            "elements describe no valid orbit; check ECCENTRICITY and MEAN_MOTION)"
        )
    return ElementSet(str(fields["OBJECT_NAME"]).strip(), line1, line2, sat)


def parse_omm_json_text(text: str, source: str = "<string>") -> list[ElementSet]:
    """Return the element sets of OMM JSON text (a list of records, or one record), in order.

    Raises
    ------
    OrbitError
        If the text is not JSON, or with one line per bad record field (``"<source>: record
        [i]: ..."``, ``i`` counting from 0).
    """
    _reject_html(text, source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise OrbitError(
            f"{source}:{err.lineno}: not valid JSON: {err.msg} (OMM JSON is a list of objects "
            "as CelesTrak's FORMAT=json returns; re-download the file)"
        ) from None
    records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list) or not records:
        raise OrbitError(
            f"{source}: JSON holds {type(data).__name__} {str(data)[:40]!r}, not a list of OMM "
            "records (CelesTrak's FORMAT=json returns a non-empty list of objects; check the "
            "group name or the file)"
        )
    return _convert(
        ((f"{source}: record [{i}]", record) for i, record in enumerate(records)), source
    )


def parse_omm_csv_text(text: str, source: str = "<string>") -> list[ElementSet]:
    """Return the element sets of OMM CSV text (header row of field names, one row per set).

    Raises
    ------
    OrbitError
        With one line per missing column or bad field (``"<source>:<line>: ..."``).
    """
    _reject_html(text, source)
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = reader.fieldnames or []
    absent = [f for f in OMM_FIELDS if f not in header]
    if absent:
        raise OrbitError(
            f"{source}:1: header lacks column {', '.join(absent)} (the first row names the "
            f"columns; {_FIX} with FORMAT=csv)"
        )

    def rows() -> Iterator[tuple[str, object]]:
        for row in reader:
            yield f"{source}:{reader.line_num}", row

    return _convert(rows(), source)


def load_omm_json(path: str | os.PathLike[str]) -> list[ElementSet]:
    """Return the element sets of an OMM JSON file (see :func:`parse_omm_json_text`)."""
    return parse_omm_json_text(_read(path, "OMM JSON"), source=str(path))


def load_omm_csv(path: str | os.PathLike[str]) -> list[ElementSet]:
    """Return the element sets of an OMM CSV file (see :func:`parse_omm_csv_text`)."""
    return parse_omm_csv_text(_read(path, "OMM CSV"), source=str(path))


def _convert(records: Iterable[tuple[str, object]], source: str) -> list[ElementSet]:
    problems: list[str] = []
    sets: list[ElementSet] = []
    for where, record in records:
        if not isinstance(record, Mapping):
            problems.append(
                f"{where}: is {type(record).__name__}, not an object of OMM fields ({_FIX})"
            )
            continue
        try:
            sets.append(element_set_from_omm(record, where))
        except OrbitError as err:
            problems.extend(err.problems)
    if not problems and not sets:
        problems.append(f"{source}: no OMM records found (check the group name or the file)")
    if problems:
        raise OrbitError(problems)
    return sets


def _read(path: str | os.PathLike[str], kind: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except FileNotFoundError:
        raise OrbitError(
            f"{path}: {kind} file not found (give the path of an existing file)"
        ) from None
    except OSError as err:
        raise OrbitError(f"{path}: cannot read the {kind} file ({err.strerror})") from None


def _reject_html(text: str, source: str) -> None:
    if text.lstrip()[:1] == "<":
        raise OrbitError(
            f"{source}: this looks like HTML or XML, not OMM JSON/CSV (a server error page was "
            "saved instead of the element sets; download FORMAT=json or FORMAT=csv)"
        )


def _number(value: object, *, integer: bool) -> float | None:
    """Return ``value`` as a finite number (integral if ``integer``), or None if it is not."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    if not math.isfinite(number) or (integer and not number.is_integer()):
        return None
    return number


def _epoch(text: str) -> datetime | None:
    try:
        epoch = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return epoch.replace(tzinfo=UTC) if epoch.tzinfo is None else epoch.astimezone(UTC)


def _intl_designator(object_id: str) -> str:
    """Return the TLE form of an OMM OBJECT_ID: ``"2019-074B"`` -> ``"19074B"`` (else blank)."""
    text = object_id.strip()
    year, _, piece = text.partition("-")
    if len(year) == 4 and year.isdigit() and 4 <= len(piece) <= 6 and piece[:3].isdigit():
        return year[2:] + piece
    return ""
