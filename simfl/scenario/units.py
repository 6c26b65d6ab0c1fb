"""Quantities with units in scenario files: ``"10 Mbps"``, ``"5 min"``, ``"2 GFLOPS"``.

A bare number is taken in the field's base unit (seconds, bit/s, FLOP/s, bytes). A string
must carry a unit of the right kind; a unit of another kind (``"10 MB"`` for a rate) is an
error that says which kind was expected and shows an example.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import BeforeValidator

_DURATION_S = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "us": 1e-6,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_RATE_BPS = {
    "bps": 1.0, "bit/s": 1.0, "kbps": 1e3, "kbit/s": 1e3, "mbps": 1e6, "mbit/s": 1e6,
    "gbps": 1e9, "gbit/s": 1e9, "tbps": 1e12,
}
_FLOPS = {
    "flops": 1.0, "flop/s": 1.0, "kflops": 1e3, "mflops": 1e6, "gflops": 1e9, "tflops": 1e12,
}
_SIZE_BYTES = {
    "b": 1.0, "byte": 1.0, "bytes": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9,
    "kib": 1024.0, "mib": 1024.0**2, "gib": 1024.0**3,
}
_FREQUENCY_HZ = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_DISTANCE_KM = {"km": 1.0, "m": 1e-3}

_KINDS: dict[str, tuple[dict[str, float], str]] = {
    "duration": (_DURATION_S, "'30 s', '5 min' or '2 h' (a bare number is seconds)"),
    "rate": (_RATE_BPS, "'10 Mbps' or '1.5 Gbps' (a bare number is bit/s)"),
    "compute speed": (_FLOPS, "'2 GFLOPS' (a bare number is FLOP/s)"),
    "size": (_SIZE_BYTES, "'4 MB' or '1 MiB' (a bare number is bytes)"),
    "frequency": (_FREQUENCY_HZ, "'12 GHz' (a bare number is Hz)"),
    "distance": (_DISTANCE_KM, "'550 km' (a bare number is km)"),
}

LIMITS: dict[str, tuple[float, str, str]] = {
    "duration": (1e9, "s", "simulated times are float seconds and lose their sub-microsecond "
                 "resolution beyond 1e9 s (31.7 years)"),
    "rate": (1e15, "bit/s", "1 Pbit/s is beyond any link"),
    "compute speed": (1e21, "FLOP/s", "1 ZFLOP/s is beyond any machine"),
    "size": (1e15, "bytes", "1 PB is beyond any model or dataset simfl can hold"),
    "frequency": (1e15, "Hz", "radio links stop well below 1 PHz"),
    "distance": (1e9, "km", "far beyond any orbit simfl models"),
}
"""Largest magnitude of each kind, its base unit and why: a larger value is a typo."""

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/]+)?\s*$")


def parse_quantity(value: object, kind: str) -> float:
    """Return ``value`` in the base unit of ``kind`` (one of the keys of the unit tables).

    Raises
    ------
    ValueError
        With a message naming the expected kind, the units allowed and an example.
    """
    units, example = _KINDS[kind]
    if isinstance(value, bool):
        raise ValueError(f"expected a {kind} such as {example}, got {str(value).lower()} "
                         "(a boolean)")
    if isinstance(value, int | float):
        return _within_limits(float(value), value, kind)
    if not isinstance(value, str):
        raise ValueError(f"expected a {kind} such as {example}, got {value!r}")
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a {kind}; write it like {example}")
    number, unit = float(match.group(1)), match.group(2)
    if unit is None:
        return _within_limits(number, value, kind)
    if kind == "size" and unit.endswith("b") and unit.lower() not in ("byte", "bytes"):
        raise ValueError(
            f"{value!r} is ambiguous: a lowercase 'b' means bits; a size is in bytes, so write "
            f"{number:g} {unit[:-1]}B (e.g. '4 MB' or '1 MiB')")
    factor = units.get(unit.lower())
    if factor is not None:
        return _within_limits(number * factor, value, kind)
    for other_kind, (other_units, _ex) in _KINDS.items():
        if other_kind != kind and unit.lower() in other_units:
            raise ValueError(
                f"{value!r} is a {other_kind}, not a {kind}; write it like {example}"
            )
    raise ValueError(
        f"unknown unit {unit!r} in {value!r}; a {kind} takes "
        f"{', '.join(sorted(set(units)))}, e.g. {example}"
    )


def _within_limits(base: float, written: object, kind: str) -> float:
    """Return ``base`` (``written`` in the base unit) if it is finite and not absurdly large."""
    limit, unit, why = LIMITS[kind]
    shown = repr(written) if isinstance(written, str) else str(written)
    if not math.isfinite(base):
        raise ValueError(f"{shown} is not a finite number; give a finite value")
    if abs(base) > limit:
        raise ValueError(f"{shown} is too large for a {kind}: at most {limit:g} {unit} ({why})")
    return base


def _parser(kind: str) -> Callable[[object], float]:
    def parse(value: object) -> float:
        return parse_quantity(value, kind)

    return parse


DurationS = Annotated[float, BeforeValidator(_parser("duration"))]
RateBps = Annotated[float, BeforeValidator(_parser("rate"))]
FlopsPerS = Annotated[float, BeforeValidator(_parser("compute speed"))]
SizeBytes = Annotated[float, BeforeValidator(_parser("size"))]
FrequencyHz = Annotated[float, BeforeValidator(_parser("frequency"))]
DistanceKm = Annotated[float, BeforeValidator(_parser("distance"))]
