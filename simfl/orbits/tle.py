"""TLE text: parse and validate 2-line and 3-line element sets, compute checksums, write files.

Every problem in a file is reported at once, one line each, as
``"<file>:<line>: <what is wrong> (<rule>; <fix>)"`` inside an :class:`~simfl.errors.OrbitError`.
:func:`tle_lines_from_elements` encodes mean elements into the two lines (used by the OMM
reader and the Walker generator).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sgp4.alpha5 import to_alpha5
from sgp4.api import SGP4_ERRORS, Satrec

from simfl import atomic
from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet

__all__ = [
    "format_tle_line",
    "load_tle",
    "parse_tle_text",
    "tle_checksum",
    "tle_lines_from_elements",
    "write_tle",
]

TLE_LINE_LENGTH = 69
MAX_PROBLEMS_SHOWN = 100

LAYOUT_LINE1 = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
LAYOUT_LINE2 = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"

# Fixed separator columns (0-based index -> required character), as sgp4's reader expects.
_SEPARATORS = {
    1: dict.fromkeys((1, 8, 32, 43, 52, 61, 63), " ") | dict.fromkeys((23, 34), "."),
    2: dict.fromkeys((1, 7, 16, 25, 33, 42, 51), " ") | dict.fromkeys((11, 20, 37, 46, 54), "."),
}
_SATNUM_RE = re.compile(r"^(?:[ \d]{4}\d|[A-HJ-NP-Z]\d{4})$")
_EXP_RE = re.compile(r"^[ +-]\d{5}[+-]\d$")
_INT_RE = re.compile(r"^ *\d+$")
_DATA_RE = re.compile(r"^[1-9] ")
_LAYOUT_RULE = "TLE fields sit in fixed columns: {layout}"


def tle_checksum(line: str) -> int:
    """Return the TLE checksum (0-9) of a line: digits add their value, '-' adds 1, mod 10.

    Only the first 68 characters count (column 69 holds the checksum itself).
    """
    return sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10


def format_tle_line(body68: str) -> str:
    """Return the 69-character TLE line: ``body68`` followed by its checksum digit.

    Raises
    ------
    OrbitError
        If ``body68`` is not exactly 68 characters long.
    """
    if len(body68) != 68:
        raise OrbitError(
            f"TLE line body is {len(body68)} characters long: {body68!r} (a TLE line is 68 "
            "characters plus a checksum digit; pad or trim the fields to their columns)"
        )
    return body68 + str(tle_checksum(body68))


def parse_tle_text(text: str, source: str = "<string>") -> list[ElementSet]:
    """Return the element sets in TLE text (2-line or 3-line sets), in file order.

    Name lines may carry a ``"0 "`` prefix; blank lines, trailing spaces and CRLF line endings
    are accepted. Every line is validated (length 69, line number in column 1, equal satellite
    numbers on both lines, fixed-column layout, checksum in column 69, accepted by SGP4).

    Parameters
    ----------
    text
        File contents.
    source
        Name used in error messages (usually the file path or URL).

    Raises
    ------
    OrbitError
        With one line per problem, ``"<source>:<line>: ..."``, if anything is wrong (all
        problems are collected; beyond ``MAX_PROBLEMS_SHOWN`` a last line counts the rest).
    """
    text = text.removeprefix("\ufeff")
    lines = [(n, raw.rstrip()) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, s) for n, s in lines if s.strip()]
    if lines and lines[0][1].lstrip().startswith("<"):
        raise OrbitError(
            f"{source}:{lines[0][0]}: this looks like HTML, not TLE text (a server error page "
            "or a web page was saved instead of the element sets; download the plain-text "
            "FORMAT=tle link, or check the group name)"
        )
    problems: list[str] = []
    sets: list[ElementSet] = []
    for name, first, second in _group(lines, source, problems):
        found = _check_set(name, first, second, source, problems)
        if found is not None:
            sets.append(found)
    if not problems and not sets:
        problems.append(
            f"{source}: no element sets found (a TLE file holds sets of an optional name line, "
            "a line starting '1 ' and a line starting '2 '; check that this is the right file)"
        )
    if problems:
        if len(problems) > MAX_PROBLEMS_SHOWN:
            hidden = len(problems) - MAX_PROBLEMS_SHOWN
            problems = [*problems[:MAX_PROBLEMS_SHOWN], f"{source}: ... and {hidden} more problems"]
        raise OrbitError(problems)
    return sets


def load_tle(path: str | os.PathLike[str]) -> list[ElementSet]:
    """Return the element sets of a TLE file (see :func:`parse_tle_text`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig", errors="replace")
    except FileNotFoundError:
        raise OrbitError(
            f"{file}: TLE file not found (give the path of an existing .tle file, or fetch one "
            "with simfl.orbits.fetch_celestrak_group)"
        ) from None
    except OSError as err:
        raise OrbitError(f"{file}: cannot read the TLE file ({err.strerror})") from None
    return parse_tle_text(text, source=str(file))


def write_tle(
    path: str | os.PathLike[str], elements: Iterable[ElementSet], with_names: bool = True
) -> Path:
    """Write element sets as a TLE file (3-line sets if ``with_names``), atomically; return path.

    An empty name is written as ``"NORAD <id>"`` so that the file reads back as 3-line sets.
    """
    out: list[str] = []
    for element in elements:
        if with_names:
            out.append(element.name.strip() or f"NORAD {element.norad_id}")
        out.extend((element.line1, element.line2))
    return atomic.write_text(path, "".join(line + "\n" for line in out))


def tle_lines_from_elements(
    *,
    norad_id: int,
    epoch_utc: datetime,
    inclination_deg: float,
    raan_deg: float,
    eccentricity: float,
    arg_perigee_deg: float,
    mean_anomaly_deg: float,
    mean_motion_rev_per_day: float,
    bstar_per_earth_radius: float = 0.0,
    mean_motion_dot_rev_per_day2: float = 0.0,
    mean_motion_ddot_rev_per_day3: float = 0.0,
    classification: str = "U",
    intl_designator: str = "",
    element_set_no: int = 999,
    rev_at_epoch: int = 0,
    ephemeris_type: int = 0,
    where: str = "elements",
) -> tuple[str, str]:
    """Return TLE lines 1 and 2 (69 characters each, with checksums) for SGP4 mean elements.

    Values are rounded to the TLE's fixed precision (angles 1e-4 deg, eccentricity 1e-7, mean
    motion 1e-8 rev/day, epoch 1e-8 day = 864 us, BSTAR and the second derivative to 5
    significant digits). Elements that came from a TLE (such as CelesTrak's OMM) survive this
    exactly. Angles are wrapped into [0, 360); the element set number is taken modulo 10000
    and the revolution number modulo 100000, as the columns only hold that many digits.

    Raises
    ------
    OrbitError
        One line per value that no TLE can hold, each starting with ``where``.
    """
    problems: list[str] = []

    def bad(what: str, rule: str) -> None:
        problems.append(f"{where}: {what} ({rule})")

    if 0 <= norad_id <= 99999:
        satnum = f"{norad_id:05d}"
    elif 99999 < norad_id <= 339999:
        satnum = to_alpha5(norad_id)
    else:
        satnum = "00000"
        bad(f"NORAD id {norad_id} does not fit a TLE", "TLE holds 0-339999 with alpha-5")
    if epoch_utc.tzinfo is None:
        bad(f"epoch {epoch_utc} has no time zone", "give a UTC datetime, e.g. tzinfo=UTC")
        epoch_utc = epoch_utc.replace(tzinfo=UTC)
    epoch = epoch_utc.astimezone(UTC)
    if not 1957 <= epoch.year <= 2056:
        bad(f"epoch year {epoch.year} does not fit a TLE", "TLE years cover 1957-2056")
    since_new_year = epoch - datetime(epoch.year, 1, 1, tzinfo=UTC)
    total_us = since_new_year // _MICROSECOND
    units = (2 * total_us + 864) // (2 * 864)  # 1e-8 day = 864 us, rounded half up
    day = f"{1 + units // 10**8:03d}.{units % 10**8:08d}"
    if not 0.0 <= inclination_deg <= 180.0:
        bad(f"inclination {inclination_deg} deg is out of range", "0 <= inclination <= 180")
    ecc_units = round(eccentricity * 1e7) if eccentricity == eccentricity else -1
    if not 0 <= ecc_units <= 9_999_999:
        bad(f"eccentricity {eccentricity} is out of range", "0 <= eccentricity < 1")
    if not 0.0 < mean_motion_rev_per_day < 100.0:
        bad(f"mean motion {mean_motion_rev_per_day} rev/day is out of range", "0 < n < 100")
    ndot = f"{abs(mean_motion_dot_rev_per_day2):.8f}"
    if not ndot.startswith("0."):
        bad(f"mean motion derivative {mean_motion_dot_rev_per_day2} is too large", "|ndot| < 1")
    ndot = ("-" if mean_motion_dot_rev_per_day2 < 0 else " ") + ndot[1:]
    nddot = _exp_field(mean_motion_ddot_rev_per_day3, "mean motion second derivative", bad)
    bstar = _exp_field(bstar_per_earth_radius, "BSTAR", bad)
    if len(intl_designator) > 8 or len(classification) != 1 or not 0 <= ephemeris_type <= 9:
        bad(
            f"classification {classification!r}, international designator "
            f"{intl_designator!r} or ephemeris type {ephemeris_type} does not fit",
            "1 character, at most 8 characters, one digit",
        )
    if problems:
        raise OrbitError(problems)
    year = epoch.year % 100
    line1 = (
        f"1 {satnum}{classification} {intl_designator:<8} {year:02d}{day} {ndot} {nddot} "
        f"{bstar} {ephemeris_type} {element_set_no % 10000:4d}"
    )
    line2 = (
        f"2 {satnum} {inclination_deg:8.4f} {_angle(raan_deg)} {ecc_units:07d} "
        f"{_angle(arg_perigee_deg)} {_angle(mean_anomaly_deg)} "
        f"{mean_motion_rev_per_day:11.8f}{rev_at_epoch % 100000:5d}"
    )
    return format_tle_line(line1), format_tle_line(line2)


_MICROSECOND = timedelta(microseconds=1)


def _angle(value_deg: float) -> str:
    """Return an angle as the 8-character TLE field, wrapped into [0, 360) after rounding."""
    rounded = round(value_deg % 360.0, 4)
    return f"{0.0 if rounded >= 360.0 else rounded:8.4f}"


def _exp_field(value: float, label: str, bad: Callable[[str, str], None]) -> str:
    """Return ``value`` in the TLE's assumed-decimal exponent form, e.g. ``" 43797-4"``."""
    if not math.isfinite(value):
        bad(f"{label} {value} does not fit a TLE", "it must be a finite number")
        return " 00000+0"
    mantissa, exponent = f"{abs(value):.4e}".split("e")
    power = int(exponent) + 1
    if value == 0.0 or power < -9:
        return " 00000+0"
    if power > 9:
        bad(f"{label} {value} does not fit a TLE", "its magnitude must be below 1e9")
        return " 00000+0"
    sign = "-" if value < 0 else " "
    return f"{sign}{mantissa.replace('.', '')}{'-' if power < 0 else '+'}{abs(power)}"


_Line = tuple[int, str]


def _is_data(line: str) -> bool:
    return len(line) >= 60 or (bool(_DATA_RE.match(line)) and not line.startswith("0 "))


def _group(
    lines: list[_Line], source: str, problems: list[str]
) -> Iterable[tuple[str | None, _Line, _Line]]:
    """Yield (name, line 1, line 2) triples; structural problems go to ``problems``."""
    rule = "a set is an optional name line, a line starting '1 ', then a line starting '2 '"
    i = 0
    while i < len(lines):
        name: str | None = None
        if not _is_data(lines[i][1]):
            n, text = lines[i]
            i += 1
            if i >= len(lines) or not _is_data(lines[i][1]):
                problems.append(
                    f"{source}:{n}: name line {text.strip()!r} is not followed by a TLE line 1 "
                    f"({rule}; remove the stray line or restore the missing lines)"
                )
                continue
            name = text.removeprefix("0 ").strip()
        first = lines[i]
        second = lines[i + 1] if i + 1 < len(lines) and _is_data(lines[i + 1][1]) else None
        if first[1].startswith("2 "):
            problems.append(
                f"{source}:{first[0]}: line 2 without a line 1 before it ({rule}; restore the "
                "missing line 1 or delete this line)"
            )
            i += 1
        elif second is None or (first[1].startswith("1 ") and second[1].startswith("1 ")):
            problems.append(
                f"{source}:{first[0]}: line 1 is not followed by a line 2 ({rule}; restore the "
                "missing line 2 or delete this line)"
            )
            i += 1
        else:
            yield name, first, second
            i += 2


def _check_set(
    name: str | None, first: _Line, second: _Line, source: str, problems: list[str]
) -> ElementSet | None:
    """Return the element set, or None after appending its problems to ``problems``."""
    before = len(problems)
    shapes_ok = all(
        _check_line(number, line, source, problems) for number, line in ((1, first), (2, second))
    )
    if shapes_ok:
        sat1, sat2 = first[1][2:7], second[1][2:7]
        if sat1 != sat2:
            problems.append(
                f"{source}:{second[0]}: satellite number is {sat2!r} but line 1 (line "
                f"{first[0]}) has {sat1!r} (both lines of a set describe one satellite; take "
                "both lines from the same set)"
            )
    if len(problems) > before:
        return None
    line1, line2 = first[1], second[1]
    try:
        sat = Satrec.twoline2rv(line1, line2)
    except (ValueError, RuntimeError) as err:
        problems.append(f"{source}:{first[0]}: SGP4 rejects this set: {err} (fix the lines)")
        return None
    if sat.error != 0:
        problems.append(
            f"{source}:{first[0]}: SGP4 rejects this set: {SGP4_ERRORS.get(sat.error, sat.error)}"
            " (the elements describe no valid orbit; check eccentricity and mean motion)"
        )
        return None
    return ElementSet(name if name is not None else f"NORAD {sat.satnum}", line1, line2, sat)


def _check_line(number: int, line: _Line, source: str, problems: list[str]) -> bool:
    """Append the problems of one data line; return True when its shape (length) is right."""
    n, text = line
    where = f"{source}:{n}"
    layout = LAYOUT_LINE1 if number == 1 else LAYOUT_LINE2
    if text[0] != str(number):
        problems.append(
            f"{where}: column 1 is {text[0]!r} but this is line {number} of a set (line 1 starts "
            f"with '1 ', line 2 with '2 '; fix the line number or restore the missing line)"
        )
    if len(text) != TLE_LINE_LENGTH:
        problems.append(
            f"{where}: line {number} is {len(text)} characters long (a TLE line has exactly "
            f"{TLE_LINE_LENGTH} characters besides trailing spaces; the line is truncated or "
            "has extra characters, re-download or re-export it)"
        )
        return False
    for column, char in _SEPARATORS[number].items():
        if text[column] != char:
            problems.append(
                f"{where}: column {column + 1} is {text[column]!r} but must be {char!r} "
                f"({_LAYOUT_RULE.format(layout=layout)}; fix the shifted field)"
            )
    for label, first, last, ok in _FIELDS[number]:
        value = text[first - 1 : last]
        if not ok(value):
            problems.append(
                f"{where}: columns {first}-{last} ({label}) hold {value!r}, not a valid value "
                f"({_LAYOUT_RULE.format(layout=layout)}; fix the field)"
            )
    if not text[68].isdigit():
        problems.append(
            f"{where}: column 69 is {text[68]!r}, not a checksum digit (TLE column 69 is the "
            f"sum of digits mod 10, '-' counting 1; set it to {tle_checksum(text)})"
        )
    elif int(text[68]) != tle_checksum(text):
        problems.append(
            f"{where}: checksum is {text[68]} but the line's digits give {tle_checksum(text)} "
            "(TLE column 69 is the sum of digits mod 10, '-' counting 1; a column was "
            "corrupted, re-download the set)"
        )
    return True


def _float_in(low: float, high: float) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            return low <= float(value) <= high
        except ValueError:
            return False

    return ok


_FIELDS: dict[int, list[tuple[str, int, int, Callable[[str], object]]]] = {
    1: [
        ("satellite number", 3, 7, _SATNUM_RE.match),
        ("epoch year", 19, 20, str.isdigit),
        ("epoch day of year", 21, 32, _float_in(1.0, 367.0)),
        ("mean motion derivative", 34, 43, _float_in(-1.0, 1.0)),
        ("mean motion second derivative", 45, 52, _EXP_RE.match),
        ("BSTAR drag term", 54, 61, _EXP_RE.match),
        ("element set number", 65, 68, _INT_RE.match),
    ],
    2: [
        ("satellite number", 3, 7, _SATNUM_RE.match),
        ("inclination in degrees", 9, 16, _float_in(0.0, 180.0)),
        ("right ascension of the ascending node in degrees", 18, 25, _float_in(0.0, 360.0)),
        ("eccentricity, decimal point assumed", 27, 33, str.isdigit),
        ("argument of perigee in degrees", 35, 42, _float_in(0.0, 360.0)),
        ("mean anomaly in degrees", 44, 51, _float_in(0.0, 360.0)),
        ("mean motion in revolutions per day", 53, 63, _float_in(0.0, 100.0)),
        ("revolution number at epoch", 64, 68, _INT_RE.match),
    ],
}
