"""Plain-text tables of a run: the summary, bytes moved, human-readable sizes and durations.

No extra dependency: :func:`summary_table` aligns columns itself, so it prints the same in a
terminal, a log file or a notebook.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from simfl.analysis.frames import require_columns
from simfl.errors import SimflError

_BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_bytes(n: float) -> str:
    """Return a byte count in binary units: ``"512 B"``, ``"1.5 KiB"``, ``"3.25 GiB"``.

    Below 1 KiB the exact integer is shown; above, three significant figures (at least one
    decimal) of the largest unit that keeps the number >= 1.
    """
    if not math.isfinite(n):
        return "n/a"
    sign = "-" if n < 0 else ""
    size = abs(float(n))
    if size < 1024:
        return f"{sign}{round(size)} B"
    unit = ""
    for unit in _BYTE_UNITS:
        size /= 1024.0
        if size < 1024 or unit == _BYTE_UNITS[-1]:
            break
    decimals = 2 if size < 10 else 1
    return f"{sign}{size:.{decimals}f} {unit}"


def human_duration(t_s: float) -> str:
    """Return a duration as ``"1 h 02 m 05 s"``, ``"3 m 20 s"``, ``"12.5 s"`` or ``"250 ms"``.

    Durations of an hour or more are shown as hours (no days: simulated runs are read in
    hours); below a minute with 0.1 s resolution; below a second in milliseconds.
    """
    if not math.isfinite(t_s):
        return "n/a"
    sign = "-" if t_s < 0 else ""
    t = abs(float(t_s))
    if t == 0:
        return "0 s"
    if t < 1:
        return f"{sign}{t * 1000:.0f} ms" if t >= 0.001 else f"{sign}{t * 1e6:.0f} µs"
    if t < 60:
        return f"{sign}{t:.1f} s"
    whole = round(t)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours == 0:
        return f"{sign}{minutes} m {seconds:02d} s"
    return f"{sign}{hours} h {minutes:02d} m {seconds:02d} s"


def summary_table(summary: Mapping[str, Any], *, title: str | None = None) -> str:
    """Return the summary dict of a run as an aligned two-column plain-text table.

    Nested mappings are flattened with dotted keys (``event_counts.compute``). Values are
    formatted by their key: keys ending in ``_s`` or naming a time are durations
    (``1 h 02 m 05 s``), keys naming bytes are sizes (``12.5 MiB``), both with the exact
    number in parentheses (unless it reads the same); other floats get 4 significant
    figures, integers thousands separators; ``None`` is ``n/a``.
    """
    rows = [(key, _format_value(key, value)) for key, value in _flatten(summary, "")]
    if not rows:
        rows = [("(empty summary)", "")]
    width = max(len(k) for k, _ in rows)
    lines = []
    if title:
        lines += [title, "=" * max(len(title), width + 2 + max(len(v) for _, v in rows))]
    lines += [f"{key.ljust(width)}  {value}".rstrip() for key, value in rows]
    return "\n".join(lines)


def bytes_by(trace: pd.DataFrame, by: str | Iterable[str] = ("node",)) -> pd.DataFrame:
    """Return transfer bytes summed per group: the ``by`` columns, ``bytes``, ``transfers``.

    ``by`` names trace columns (``node`` is the sender, ``peer`` the receiver, ``round``) or
    keys of the transfers' ``info`` JSON (e.g. ``link_type``; missing keys become ``""``).
    Rows are sorted by bytes, largest first.

    Raises
    ------
    SimflError
        If a ``by`` name is neither a trace column nor an ``info`` key of any transfer.
    """
    require_columns(trace, ("kind", "bytes"), "trace")
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise SimflError("bytes_by needs at least one column to group by, e.g. by=('node',)")
    transfers = trace.loc[trace["kind"] == "transfer"].reset_index(drop=True)
    frame = pd.DataFrame({"bytes": transfers["bytes"].astype("int64")})
    info_keys = [k for k in keys if k not in transfers.columns]
    infos = _parse_info(transfers) if info_keys else []
    for key in keys:
        if key in transfers.columns:
            frame[key] = transfers[key].astype(object).to_numpy()
            continue
        if transfers.empty or not any(key in info for info in infos):
            known = sorted({k for info in infos for k in info})
            raise SimflError(
                f"bytes_by: {key!r} is neither a trace column nor a key of the transfers' "
                f"info; trace columns are {list(trace.columns)}, info keys are {known}"
            )
        frame[key] = [str(info.get(key, "")) for info in infos]
    if frame.empty:
        return pd.DataFrame(
            {**{k: pd.Series(dtype=object) for k in keys}, "bytes": pd.Series(dtype="int64"),
             "transfers": pd.Series(dtype="int64")}
        )
    grouped = frame.groupby(keys, sort=True, dropna=False)["bytes"].agg(["sum", "count"])
    out = grouped.reset_index().rename(columns={"sum": "bytes", "count": "transfers"})
    out = out.sort_values("bytes", ascending=False, kind="stable").reset_index(drop=True)
    return out.astype({"bytes": "int64", "transfers": "int64"})


def _parse_info(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if "info" not in frame.columns:
        return [{} for _ in range(len(frame))]
    out: list[dict[str, Any]] = []
    for text in frame["info"].fillna("").astype(str):
        try:
            parsed = json.loads(text) if text else {}
        except json.JSONDecodeError:
            parsed = {}
        out.append(parsed if isinstance(parsed, dict) else {})
    return out


def _flatten(obj: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def _format_value(key: str, value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "n/a"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | float):
        leaf = key.rsplit(".", 1)[-1].lower()
        if "bytes" in leaf:
            return f"{human_bytes(value)} ({value:,.0f} B)"
        if leaf.endswith("_s") or "time" in leaf or "duration" in leaf:
            human, exact = human_duration(value), f"{_seconds(value)} s"
            return human if human == exact else f"{human} ({exact})"
        return _number(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _seconds(t_s: float) -> str:
    if not math.isfinite(t_s):
        return str(t_s)
    return f"{t_s:,.0f}" if abs(t_s) >= 100 else f"{t_s:.3g}"


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,d}"
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e9:
        return f"{int(value):,d}"
    return f"{value:.4g}"
