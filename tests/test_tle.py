"""Tests of simfl.orbits.tle: checksums, parsing, validation messages, writing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sgp4.api import Satrec

from simfl.errors import OrbitError
from simfl.orbits.tle import (
    format_tle_line,
    load_tle,
    parse_tle_text,
    tle_checksum,
    write_tle,
)

# The example element set of the sgp4 package's documentation (ISS, 2008).
ISS_1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
ISS_2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
SHARED_ORBITS = Path(__file__).resolve().parents[2] / "shared" / "orbits"
one_millimeter_km = 1e-6


def _with_checksum(line: str) -> str:
    return format_tle_line(line[:68])


def _replace(line: str, column: int, text: str) -> str:
    """Return ``line`` with ``text`` written at 1-based ``column``."""
    return line[: column - 1] + text + line[column - 1 + len(text) :]


def _problems(text: str) -> list[str]:
    with pytest.raises(OrbitError) as info:
        parse_tle_text(text, source="x.tle")
    return info.value.problems


def test_checksum_of_sgp4_documentation_example_lines() -> None:
    assert tle_checksum(ISS_1) == 7
    assert tle_checksum(ISS_2) == 7


def test_checksum_counts_minus_as_one_and_ignores_other_characters() -> None:
    assert tle_checksum("-" * 3 + "A+. " * 10) == 3
    assert tle_checksum("9" * 68 + "5") == (9 * 68) % 10


def test_format_tle_line_appends_checksum() -> None:
    assert format_tle_line(ISS_1[:68]) == ISS_1


def test_format_tle_line_rejects_a_body_of_wrong_length() -> None:
    with pytest.raises(OrbitError, match="67 characters long"):
        format_tle_line(ISS_1[:67])


def test_parses_a_three_line_set_with_padded_name() -> None:
    (element,) = parse_tle_text(f"ISS (ZARYA)             \n{ISS_1}\n{ISS_2}\n")
    assert element.name == "ISS (ZARYA)"
    assert (element.line1, element.line2) == (ISS_1, ISS_2)
    assert element.norad_id == 25544


def test_parses_a_two_line_set_and_names_it_by_norad_id() -> None:
    (element,) = parse_tle_text(f"{ISS_1}\n{ISS_2}")
    assert element.name == "NORAD 25544"


def test_accepts_zero_prefix_blank_lines_crlf_and_trailing_spaces() -> None:
    text = f"\r\n0 ISS (ZARYA)\r\n\r\n{ISS_1}   \r\n{ISS_2}\r\n\r\n{ISS_1}\r\n{ISS_2}\r\n"
    elements = parse_tle_text(text)
    assert [e.name for e in elements] == ["ISS (ZARYA)", "NORAD 25544"]


def test_parsed_set_propagates_like_sgp4() -> None:
    (element,) = parse_tle_text(f"{ISS_1}\n{ISS_2}")
    reference = Satrec.twoline2rv(ISS_1, ISS_2)
    _, r_km, _ = element.satrec().sgp4(2454725.0, 0.25)
    _, r_ref_km, _ = reference.sgp4(2454725.0, 0.25)
    assert max(abs(a - b) for a, b in zip(r_km, r_ref_km, strict=True)) < one_millimeter_km


def test_wrong_checksum_is_reported_with_file_and_line() -> None:
    bad = _replace(ISS_2, 69, "3")
    (problem,) = _problems(f"ISS\n{ISS_1}\n{bad}\n")
    assert problem.startswith("x.tle:3: checksum is 3 but the line's digits give 7 (")
    assert "sum of digits mod 10, '-' counting 1" in problem


def test_non_digit_checksum_is_reported() -> None:
    (problem,) = _problems(f"{_replace(ISS_1, 69, 'X')}\n{ISS_2}\n")
    assert problem.startswith("x.tle:1: column 69 is 'X', not a checksum digit")


def test_truncated_line_is_reported_with_its_length() -> None:
    (problem,) = _problems(f"ISS\n{ISS_1[:60]}\n{ISS_2}\n")
    assert problem.startswith("x.tle:2: line 1 is 60 characters long (")
    assert "exactly 69 characters" in problem


def test_wrong_line_number_digit_is_reported() -> None:
    bad = _with_checksum(_replace(ISS_1, 1, "3"))
    (problem,) = _problems(f"{bad}\n{ISS_2}\n")
    assert problem.startswith("x.tle:1: column 1 is '3' but this is line 1 of a set")


def test_disagreeing_satellite_numbers_are_reported() -> None:
    bad = _with_checksum(_replace(ISS_2, 3, "25545"))
    (problem,) = _problems(f"{ISS_1}\n{bad}\n")
    assert problem.startswith("x.tle:2: satellite number is '25545' but line 1 (line 1) has")


def test_shifted_separator_is_reported_with_its_column() -> None:
    bad = _with_checksum(ISS_2[:11] + "x" + ISS_2[12:])
    problems = _problems(f"{ISS_1}\n{bad}\n")
    assert any(p.startswith("x.tle:2: column 12 is 'x' but must be '.'") for p in problems)


def test_field_that_is_not_a_number_is_reported_with_its_columns() -> None:
    bad = _with_checksum(_replace(ISS_2, 9, " 51.6?16"))
    (problem,) = _problems(f"{ISS_1}\n{bad}\n")
    assert problem.startswith("x.tle:2: columns 9-16 (inclination in degrees) hold ' 51.6?16'")


def test_set_that_sgp4_rejects_is_reported() -> None:
    bad = _with_checksum(_replace(ISS_2, 53, "17.50000000"))
    (problem,) = _problems(f"{ISS_1}\n{bad}\n")
    assert problem.startswith("x.tle:1: SGP4 rejects this set: mrt is less than 1.0")


def test_line_one_without_line_two_is_reported() -> None:
    problems = _problems(f"{ISS_1}\n{ISS_1}\n{ISS_2}\n")
    assert problems == [problems[0]]
    assert problems[0].startswith("x.tle:1: line 1 is not followed by a line 2")


def test_line_two_without_line_one_is_reported() -> None:
    (problem,) = _problems(f"{ISS_2}\n{ISS_1}\n{ISS_2}\n")
    assert problem.startswith("x.tle:1: line 2 without a line 1 before it")


def test_stray_name_line_is_reported() -> None:
    (problem,) = _problems(f"ISS\n{ISS_1}\n{ISS_2}\nLONELY NAME\n")
    assert problem.startswith("x.tle:4: name line 'LONELY NAME' is not followed by a TLE line 1")


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    text = "\n".join(
        [
            "GOOD",
            ISS_1,
            ISS_2,
            "BAD CHECKSUM",
            ISS_1,
            _replace(ISS_2, 69, "0"),
            "TRUNCATED",
            ISS_1[:50],
            ISS_2,
            "STRAY",
        ]
    )
    problems = _problems(text)
    assert [p.split(": ", 1)[0] for p in problems] == ["x.tle:6", "x.tle:8", "x.tle:10"]


def test_html_is_rejected_with_one_clear_message() -> None:
    (problem,) = _problems("<!DOCTYPE html>\n<html><body>Not found</body></html>\n")
    assert "looks like HTML" in problem


def test_text_without_sets_is_rejected() -> None:
    with pytest.raises(OrbitError, match="no element sets found"):
        parse_tle_text("\n\n", source="empty.tle")


def test_load_tle_names_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.tle"
    with pytest.raises(OrbitError, match=r"nowhere\.tle: TLE file not found"):
        load_tle(missing)


def test_load_tle_reports_problems_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "starlink.tle"
    path.write_text(f"{ISS_1}\n{_replace(ISS_2, 69, '3')}\n")
    with pytest.raises(OrbitError, match=r"starlink\.tle:2: checksum is 3"):
        load_tle(path)


@pytest.mark.parametrize("with_names", [True, False])
def test_write_then_load_round_trips(tmp_path: Path, with_names: bool) -> None:
    elements = parse_tle_text(f"ISS (ZARYA)\n{ISS_1}\n{ISS_2}\n")
    path = write_tle(tmp_path / "out.tle", elements, with_names=with_names)
    assert load_tle(path) == [
        e if with_names else type(e)("NORAD 25544", e.line1, e.line2) for e in elements
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tle"]


@pytest.mark.real_catalog
def test_parses_every_real_starlink_set() -> None:
    path = SHARED_ORBITS / "starlink_2026-02-24.tle"
    if not path.exists():
        pytest.skip(f"{path} is absent (real catalogs live beside the checkout)")
    elements = load_tle(path)
    print(f"parsed {len(elements)} Starlink element sets")
    assert len(elements) == 9594
    assert len({e.norad_id for e in elements}) == 9594


@pytest.mark.real_catalog
@pytest.mark.parametrize(
    ("file_name", "count"),
    [
        ("oneweb_2025-12-22.tle", 651),
        ("iridium_next_2026-01-03.tle", 66),
        ("planet_2023-04-19.tle", 188),
    ],
)
def test_parses_other_real_catalogs(file_name: str, count: int) -> None:
    path = SHARED_ORBITS / file_name
    if not path.exists():
        pytest.skip(f"{path} is absent (real catalogs live beside the checkout)")
    assert len(load_tle(path)) == count


def test_write_names_unnamed_sets_by_norad_id(tmp_path: Path) -> None:
    (element,) = parse_tle_text(f"{ISS_1}\n{ISS_2}")
    path = write_tle(tmp_path / "out.tle", [type(element)("", ISS_1, ISS_2)])
    assert path.read_text() == f"NORAD 25544\n{ISS_1}\n{ISS_2}\n"


def test_very_many_problems_end_with_a_count_of_the_rest() -> None:
    bad_set = f"{ISS_1}\n{_replace(ISS_2, 69, '3')}\n"
    problems = _problems(bad_set * 150)
    assert len(problems) == 101
    assert problems[-1] == "x.tle: ... and 50 more problems"
