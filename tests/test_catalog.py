"""Tests of simfl.orbits.catalog: format choice by extension or content, and selection."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sgp4.exporter import export_omm

from simfl.errors import OrbitError
from simfl.orbits.catalog import duplicate_problems, load_elements, select
from simfl.orbits.elements import ElementSet
from simfl.orbits.omm import OMM_FIELDS
from simfl.orbits.tle import format_tle_line, write_tle
from simfl.orbits.walker import walker_delta


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    sets = walker_delta(53.0, 6, 2, 1, 550.0, datetime(2026, 2, 24, tzinfo=UTC))
    # Give each set an international designator (sgp4's OMM exporter needs one).
    return [
        ElementSet(e.name, format_tle_line(f"{e.line1[:9]}26{i:03d}A   {e.line1[18:68]}"), e.line2)
        for i, e in enumerate(sets, start=1)
    ]


def _records(sets: list[ElementSet]) -> list[dict[str, object]]:
    return [export_omm(e.satrec(), e.name) for e in sets]


def test_tle_extension_loads_tle(tmp_path: Path, shell: list[ElementSet]) -> None:
    path = write_tle(tmp_path / "shell.3le", shell)
    assert load_elements(path) == shell


def test_json_extension_loads_omm_json(tmp_path: Path, shell: list[ElementSet]) -> None:
    path = tmp_path / "gp.json"
    path.write_text(json.dumps(_records(shell)))
    assert load_elements(path) == shell


def test_csv_extension_loads_omm_csv(tmp_path: Path, shell: list[ElementSet]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(OMM_FIELDS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(_records(shell))
    path = tmp_path / "gp.csv"
    path.write_text(out.getvalue())
    assert load_elements(path) == shell


def test_unknown_extension_is_recognised_by_content(
    tmp_path: Path, shell: list[ElementSet]
) -> None:
    tle = write_tle(tmp_path / "shell.dat", shell)
    omm = tmp_path / "gp.download"
    omm.write_text(json.dumps(_records(shell)))
    assert load_elements(tle) == load_elements(omm) == shell


def test_unknown_format_is_rejected_with_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# my satellites\n")
    with pytest.raises(
        OrbitError, match=r"notes\.md: unknown catalog format .*\.csv, \.json, \.tle"
    ):
        load_elements(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(OrbitError, match=r"gone\.tle: catalog file not found"):
        load_elements(tmp_path / "gone.tle")


def test_select_by_name_regex_keeps_catalog_order(shell: list[ElementSet]) -> None:
    chosen = select(shell, names_regex=r"-P1-")
    assert [e.name for e in chosen] == ["WALKER-P1-S0", "WALKER-P1-S1", "WALKER-P1-S2"]


def test_select_by_norad_ids(shell: list[ElementSet]) -> None:
    chosen = select(shell, norad_ids=[90004, 90001])
    assert [e.norad_id for e in chosen] == [90001, 90004]


def test_select_combines_filters_and_limit(shell: list[ElementSet]) -> None:
    chosen = select(shell, names_regex="P0", norad_ids=range(90000, 90006), limit=2)
    assert [e.norad_id for e in chosen] == [90000, 90001]


def test_select_rejects_an_invalid_regex(shell: list[ElementSet]) -> None:
    with pytest.raises(OrbitError, match="is not a valid regular expression"):
        select(shell, names_regex="STARLINK-(")


def test_select_rejects_unknown_norad_ids(shell: list[ElementSet]) -> None:
    with pytest.raises(OrbitError, match="norad_ids 12345 are not in the catalog"):
        select(shell, norad_ids=[90000, 12345])


def test_select_rejects_an_empty_selection(shell: list[ElementSet]) -> None:
    with pytest.raises(OrbitError, match="no element set matches names_regex='ONEWEB'"):
        select(shell, names_regex="ONEWEB")


def test_select_rejects_a_negative_limit(shell: list[ElementSet]) -> None:
    with pytest.raises(OrbitError, match="limit is -1"):
        select(shell, limit=-1)


def test_element_sets_pickle_after_their_sgp4_record_is_built() -> None:
    import pickle

    from simfl.orbits.catalog import load_elements

    shell = Path(__file__).resolve().parents[1] / "orbits" / "demo_shell_12.tle"
    element = load_elements(shell)[0]
    element.satrec()  # builds and caches the (unpicklable) Satrec
    copy = pickle.loads(pickle.dumps(element))
    assert copy == element
    assert copy.satrec().satnum == element.satrec().satnum


def test_a_repeated_element_set_is_reported_once_per_copy() -> None:
    shell = walker_delta(53.0, 3, 1, 0, 550.0, datetime(2026, 2, 24, tzinfo=UTC))
    assert duplicate_problems([*shell, shell[1]], "cat.tle") == [
        f"cat.tle: element sets 2 ({shell[1].name}) and 4 ({shell[1].name}) are both NORAD "
        f"{shell[1].norad_id} with identical lines; keep one set per satellite (a repeated set "
        "counts as another satellite)"]


def test_two_satellites_of_one_name_are_reported() -> None:
    shell = walker_delta(53.0, 2, 1, 0, 550.0, datetime(2026, 2, 24, tzinfo=UTC))
    renamed = ElementSet(shell[0].name, shell[1].line1, shell[1].line2)
    assert duplicate_problems([shell[0], renamed], "cat.tle") == [
        f"cat.tle: element sets 1 and 2 are both named {shell[0].name!r}; give every satellite "
        "its own name"]


def test_distinct_satellites_are_no_problem() -> None:
    assert duplicate_problems(walker_delta(53.0, 6, 2, 1, 550.0,
                                           datetime(2026, 2, 24, tzinfo=UTC)), "x") == []
