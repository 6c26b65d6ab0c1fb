"""Tests of simfl.scenario.units: quantities with units in scenario files."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from simfl.scenario.units import _KINDS, LIMITS, DurationS, RateBps, parse_quantity

DURATION_UNITS = (
    "d, day, days, h, hour, hours, hr, min, mins, minute, minutes, ms, s, sec, second, "
    "seconds, secs, us"
)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("10 Mbps", "rate", 1e7),
        ("1.5 Gbps", "rate", 1.5e9),
        ("20 kbit/s", "rate", 2e4),
        ("5 min", "duration", 300.0),
        ("250 ms", "duration", 0.25),
        ("2 h", "duration", 7200.0),
        ("1 day", "duration", 86400.0),
        ("2 GFLOPS", "compute speed", 2e9),
        ("50 MFLOPS", "compute speed", 5e7),
        ("4 MB", "size", 4e6),
        ("1 MiB", "size", 1024.0**2),
        ("12 GHz", "frequency", 12e9),
        ("550 km", "distance", 550.0),
        ("500 m", "distance", 0.5),
    ],
)
def test_quantity_in_base_unit(text: str, kind: str, expected: float) -> None:
    assert parse_quantity(text, kind) == pytest.approx(expected, rel=1e-12)


def test_unit_is_case_insensitive() -> None:
    assert parse_quantity("10 mbps", "rate") == parse_quantity("10 MBPS", "rate") == 1e7


def test_space_between_number_and_unit_is_optional() -> None:
    assert parse_quantity("10Mbps", "rate") == 1e7


def test_surrounding_spaces_are_ignored() -> None:
    assert parse_quantity("  3 h  ", "duration") == 10800.0


def test_exponent_and_sign_in_number() -> None:
    assert parse_quantity("1.5e3 kbps", "rate") == 1.5e6
    assert parse_quantity("-2 s", "duration") == -2.0


@pytest.mark.parametrize(("value", "expected"), [(42, 42.0), (2.5, 2.5), ("300", 300.0)])
def test_bare_number_is_base_unit(value: object, expected: float) -> None:
    result = parse_quantity(value, "duration")
    assert result == expected
    assert isinstance(result, float)


def test_size_given_as_rate_says_it_is_a_size() -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity("10 MB", "rate")
    assert str(info.value) == (
        "'10 MB' is a size, not a rate; write it like '10 Mbps' or '1.5 Gbps' "
        "(a bare number is bit/s)"
    )


def test_rate_given_as_compute_speed_says_it_is_a_rate() -> None:
    with pytest.raises(ValueError, match=r"'3 Mbps' is a rate, not a compute speed; "
                                         r"write it like '2 GFLOPS'"):
        parse_quantity("3 Mbps", "compute speed")


def test_unknown_unit_lists_the_kinds_units() -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity("3 fortnights", "duration")
    assert str(info.value) == (
        f"unknown unit 'fortnights' in '3 fortnights'; a duration takes {DURATION_UNITS}, "
        "e.g. '30 s', '5 min' or '2 h' (a bare number is seconds)"
    )


@pytest.mark.parametrize("value", [True, False])
def test_boolean_is_rejected(value: bool) -> None:
    with pytest.raises(ValueError, match=rf"expected a rate such as '10 Mbps' or '1.5 Gbps' "
                                         rf"\(a bare number is bit/s\), got "
                                         rf"{str(value).lower()} \(a boolean\)$"):
        parse_quantity(value, "rate")


@pytest.mark.parametrize("value", [None, [1, 2], {"a": 1}])
def test_non_scalar_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected a size such as '4 MB' or '1 MiB'"):
        parse_quantity(value, "size")


@pytest.mark.parametrize("text", ["fast", "Mbps", "10 Mbps extra", "1..2 s", ""])
def test_text_that_is_not_a_quantity(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^{text!r} is not a rate; write it like '10 Mbps'"):
        parse_quantity(text, "rate")


def test_annotated_field_parses_units_in_a_model() -> None:
    class Link(BaseModel):
        latency_s: DurationS
        rate_bps: RateBps

    link = Link.model_validate({"latency_s": "50 ms", "rate_bps": "5 Mbps"})
    assert (link.latency_s, link.rate_bps) == (pytest.approx(0.05), 5e6)


def test_annotated_field_error_names_the_field() -> None:
    class Link(BaseModel):
        rate_bps: RateBps

    with pytest.raises(ValidationError, match=r"rate_bps\n.*'10 MB' is a size, not a rate"):
        Link.model_validate({"rate_bps": "10 MB"})


def _as_written(kind: str, unit: str) -> str:
    """Sizes are written with a capital B (a lowercase b means bits and is refused)."""
    if kind == "size" and unit.endswith("b"):
        return unit[:-1] + "B"
    return unit


def _unit_cases() -> list[tuple[str, str, float]]:
    return [(kind, _as_written(kind, unit), factor)
            for kind, (units, _example) in _KINDS.items() for unit, factor in units.items()]


@pytest.mark.parametrize(("kind", "unit", "factor"), _unit_cases())
@settings(max_examples=40)
@given(number=st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_formatted_number_round_trips_for_every_unit(
    kind: str, unit: str, factor: float, number: float
) -> None:
    number = min(number, LIMITS[kind][0] / factor * (1 - 1e-12))  # larger ones are refused
    parsed = parse_quantity(f"{number!r} {unit}", kind)
    assert math.isclose(parsed, number * factor, rel_tol=1e-12, abs_tol=0.0)


@pytest.mark.parametrize(("kind", "unit", "factor"), _unit_cases())
@settings(max_examples=40)
@given(number=st.integers(min_value=-(10**9), max_value=10**9))
def test_formatted_integer_round_trips_for_every_unit(
    kind: str, unit: str, factor: float, number: int
) -> None:
    limit = int(LIMITS[kind][0] / factor)
    number = max(-limit, min(number, limit))  # larger values are refused (see below)
    assert parse_quantity(f"{number}{unit.upper()}", kind) == pytest.approx(number * factor)


@pytest.mark.parametrize("text", ["10 Mb", "3 b", "2 kib"])
def test_a_size_with_a_lowercase_b_is_ambiguous(text: str) -> None:
    with pytest.raises(ValueError, match="ambiguous: a lowercase 'b' means bits"):
        parse_quantity(text, "size")


@pytest.mark.parametrize(("kind", "text"), [("duration", "1e308"), ("duration", "40 years"),
                                             ("rate", "2e15"), ("distance", "1e10 km")])
def test_absurdly_large_quantities_are_refused(kind: str, text: str) -> None:
    value = float(text) if " " not in text else text
    with pytest.raises(ValueError, match=f"too large for a {kind}|unknown unit"):
        parse_quantity(value, kind)


def test_a_duration_beyond_float_resolution_names_the_limit() -> None:
    with pytest.raises(ValueError, match=r"1e\+308 is too large for a duration: at most 1e\+09 s "
                                         r"\(simulated times are float seconds"):
        parse_quantity(1e308, "duration")
