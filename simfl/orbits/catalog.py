"""Catalogs: load element sets from a TLE, OMM JSON or OMM CSV file, and select a subset."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.omm import parse_omm_csv_text, parse_omm_json_text
from simfl.orbits.tle import parse_tle_text

__all__ = ["CATALOG_FORMATS", "duplicate_problems", "load_elements", "select"]

CATALOG_FORMATS: dict[str, str] = {
    ".tle": "tle",
    ".txt": "tle",
    ".3le": "tle",
    ".2le": "tle",
    ".json": "omm-json",
    ".csv": "omm-csv",
}
_PARSERS = {"tle": parse_tle_text, "omm-json": parse_omm_json_text, "omm-csv": parse_omm_csv_text}


def load_elements(path: str | os.PathLike[str]) -> list[ElementSet]:
    """Return the element sets of a catalog file, in file order.

    The format follows the extension (``.tle``, ``.txt``, ``.3le``, ``.2le`` -> TLE; ``.json``
    -> OMM JSON; ``.csv`` -> OMM CSV). Other extensions are recognised by content.

    Raises
    ------
    OrbitError
        If the file is missing, its format is unknown, or any element set is invalid.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig", errors="replace")
    except FileNotFoundError:
        raise OrbitError(
            f"{file}: catalog file not found (give the path of an existing TLE, OMM JSON or "
            "OMM CSV file, or fetch one with simfl.orbits.fetch_celestrak_group)"
        ) from None
    except OSError as err:
        raise OrbitError(f"{file}: cannot read the catalog file ({err.strerror})") from None
    kind = CATALOG_FORMATS.get(file.suffix.lower()) or _sniff(text)
    if kind is None:
        known = ", ".join(sorted(CATALOG_FORMATS))
        raise OrbitError(
            f"{file}: unknown catalog format (the extension {file.suffix or '(none)'!r} is not "
            f"one of {known}, and the content is neither TLE lines, an OMM JSON list nor an "
            "OMM CSV table; rename the file or convert it)"
        )
    return _PARSERS[kind](text, str(file))


def select(
    elements: Sequence[ElementSet],
    names_regex: str | None = None,
    norad_ids: Iterable[int] | None = None,
    limit: int | None = None,
) -> list[ElementSet]:
    """Return the element sets that match every given filter, in catalog order.

    Parameters
    ----------
    elements
        The catalog.
    names_regex
        Keep sets whose name contains a match of this regular expression (``re.search``).
    norad_ids
        Keep sets with these NORAD catalog numbers; every id must be in the catalog.
    limit
        Keep at most this many (the first ones) after the other filters.

    Raises
    ------
    OrbitError
        For an invalid regex, unknown NORAD ids, a negative limit, or an empty selection.
    """
    problems: list[str] = []
    chosen = list(elements)
    if names_regex is not None:
        try:
            pattern = re.compile(names_regex)
        except re.error as err:
            raise OrbitError(
                f"names_regex {names_regex!r} is not a valid regular expression: {err} (use "
                "Python re syntax, e.g. '^STARLINK-1[0-9]{3}$')"
            ) from None
        chosen = [e for e in chosen if pattern.search(e.name)]
    if norad_ids is not None:
        wanted = set(norad_ids)
        unknown = sorted(wanted - {e.norad_id for e in elements})
        if unknown:
            shown = ", ".join(map(str, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
            problems.append(
                f"norad_ids {shown} are not in the catalog ({len(unknown)} of {len(wanted)} "
                "requested; pick ids from the loaded file)"
            )
        chosen = [e for e in chosen if e.norad_id in wanted]
    if limit is not None:
        if limit < 0:
            problems.append(f"limit is {limit} (it must be >= 0, or None for no limit)")
        chosen = chosen[: max(limit, 0)]
    if not problems and not chosen and elements:
        names = ", ".join(e.name for e in elements[:3])
        problems.append(
            f"no element set matches names_regex={names_regex!r}, norad_ids given="
            f"{norad_ids is not None}, limit={limit} (the catalog has {len(elements)} sets, "
            f"e.g. {names}; loosen the filters)"
        )
    if problems:
        raise OrbitError(problems)
    return chosen


def duplicate_problems(elements: Sequence[ElementSet], source: str) -> list[str]:
    """Return one line per satellite that appears twice in ``elements`` (by NORAD id or name).

    A catalog merged from two downloads repeats satellites; each copy would count as one
    more satellite, and two satellites of one name cannot be told apart in a contact plan.
    """
    problems: list[str] = []
    first_by_id: dict[int, int] = {}
    first_by_name: dict[str, int] = {}
    for k, element in enumerate(elements):
        norad = element.norad_id
        if norad in first_by_id:
            j = first_by_id[norad]
            same = (elements[j].line1, elements[j].line2) == (element.line1, element.line2)
            problems.append(
                f"{source}: element sets {j + 1} ({elements[j].name}) and {k + 1} "
                f"({element.name}) are both NORAD {norad}"
                + (" with identical lines" if same else " at different epochs")
                + "; keep one set per satellite (a repeated set counts as another satellite)")
        elif element.name in first_by_name:
            problems.append(
                f"{source}: element sets {first_by_name[element.name] + 1} and {k + 1} are "
                f"both named {element.name!r}; give every satellite its own name")
        first_by_id.setdefault(norad, k)
        first_by_name.setdefault(element.name, k)
    return problems


def _sniff(text: str) -> str | None:
    """Return the catalog format that ``text`` looks like, or None."""
    start = text.lstrip()
    if start[:1] in ("[", "{"):
        return "omm-json"
    first_line = start.split("\n", 1)[0]
    if "OBJECT_NAME" in first_line and "," in first_line:
        return "omm-csv"
    if re.search(r"^1 [ \dA-Z]{5}", text, flags=re.MULTILINE) and re.search(
        r"^2 [ \dA-Z]{5}", text, flags=re.MULTILINE
    ):
        return "tle"
    return None
