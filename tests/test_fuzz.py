"""Fuzzing the command line: mutated scenarios, catalogs and site files never crash it.

Hypothesis mutates the shipped scenarios (their values, keys and text), the shipped TLE
shell (also as OMM JSON and CSV) and a sites file, and throws them at ``simfl validate``,
``simfl run`` (one tiny round) and ``simfl contacts``. Each must end with exit 0 or 2 and,
on stderr, only ``error:`` / ``warning:`` lines, every error naming the file at fault; exit
1 (a bug caught by the CLI's safety net) or a traceback fails the test. Examples are
derandomized (fixed seed), few and without deadline, so the module is deterministic and
takes well under a minute; ``SIMFL_FUZZ_SCALE=20`` runs 20 times as many random ones.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfl.cli import main
from simfl.scenario.source import read_scenario_file

REPO = Path(__file__).resolve().parents[1]
SHELL = REPO / "orbits" / "demo_shell_12.tle"
SCENARIOS = [p for p in sorted((REPO / "scenarios").glob("*.yaml"))
             if "shared/orbits" not in p.read_text(encoding="utf-8")]
SCALE = int(os.environ.get("SIMFL_FUZZ_SCALE", "1"))
"""Multiplies every example count: ``SIMFL_FUZZ_SCALE=20`` fuzzes deeper, off CI."""
FUZZ = settings(derandomize=SCALE == 1, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPACE_ALGORITHMS = ("fedmeld", "isolated", "space_hfl", "ring_allreduce", "parallel_fl")

# Values a careless or adversarial user might write anywhere.
ODD_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=64),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2.0, max_value=4.0),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["5 min", "10 Mbps", "2 GFLOPS", "1e308", "-1", "0", "[", "*", "&a", "~",
                     ".inf", "3", "2026-02-30T00:00:00Z", "../nope.tle", "user", "fedavg",
                     "region_dirichlet", "cnn", "lstm", "space_hfl", "parallel_fl"]),
    st.lists(st.integers(min_value=-2, max_value=40), max_size=3),
    st.dictionaries(st.sampled_from(["name", "x", "lat_deg", "rounds"]),
                    st.integers(min_value=-2, max_value=5), max_size=2),
)
# Values small enough that a run that accepts them still finishes in a second or two.
SMALL_VALUES = st.one_of(
    st.integers(min_value=-2, max_value=40),
    st.floats(min_value=-1.0, max_value=3.0),
    st.sampled_from([float("nan"), float("inf"), 1e308, -0.0, True, False, None, "", "x",
                     "5 min", "1 Mbps", "1e308", [], [0], {}]),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value inside ``node`` (mappings and lists walked)."""
    out = [prefix] if prefix else []
    items = (node.items() if isinstance(node, dict) else
             enumerate(node) if isinstance(node, list) else ())
    for key, child in items:
        out += _paths(child, (*prefix, key))
    return out


@st.composite
def mutated_data(draw: st.DrawFn, data: dict[str, Any], values: st.SearchStrategy[Any]
                 ) -> dict[str, Any]:
    """Return ``data`` with one to three random edits: replace, delete, rename or add."""
    out = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(out)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = out
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "rename",
                                       "add"]))
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[str(key)[:-1] or "x"] = parent.pop(key)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "nmae", "lat", "rounds", "devices"]))] = \
                draw(values)
    return out


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """Return ``text`` with a few character-level edits (insert, delete, cut, duplicate)."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not lines:
            break
        k = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["insert", "delete_char", "delete_line", "duplicate",
                                       "cut", "swap"]))
        line = lines[k]
        if action == "insert":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[k] = line[:at] + draw(st.sampled_from(
                [":", " ", "-", "\t", "'", "[", "*x", "&a ", "9", "#", "\x00", "é", "\n  "])) + \
                line[at:]
        elif action == "delete_char" and line:
            at = draw(st.integers(min_value=0, max_value=len(line) - 1))
            lines[k] = line[:at] + line[at + 1:]
        elif action == "delete_line":
            del lines[k]
        elif action == "duplicate":
            lines[k:k] = lines[k:k + 3]
        elif action == "cut":
            lines = [*lines[:k], line[: len(line) // 2]]
        elif action == "swap" and k + 1 < len(lines):
            lines[k], lines[k + 1] = lines[k + 1], lines[k]
    return "".join(lines)


def _cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[str]]:
    code = main(argv)
    _, err = capsys.readouterr()
    return code, err.splitlines()


def _check(code: int, err: list[str], *blamed: Path) -> None:
    """Exit 0 or 2; stderr is error/warning lines; each error names a file in ``blamed``."""
    if os.environ.get("SIMFL_FUZZ_LOG"):
        with open(os.environ["SIMFL_FUZZ_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{code}\t{err[:1]}\n")
    assert code in (0, 2), err
    for line in err:
        assert line.startswith(("error: ", "warning: ")), err
        assert "Traceback" not in line
        if line.startswith("error: "):
            assert any(str(p) in line or p.name in line for p in blamed), line
    if code == 2:
        assert any(line.startswith("error: ") for line in err)


def _check_scenario(capsys: pytest.CaptureFixture[str], text: str, command: list[str]) -> None:
    """Write ``text`` as a scenario file, run ``simfl COMMAND FILE ARGS``, check the outcome.

    ``{tmp}`` in the arguments is the scenario file's (temporary) folder.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(text, encoding="utf-8")
        argv = [command[0], str(path), *(a.replace("{tmp}", tmp) for a in command[1:])]
        _check(*_cli(capsys, argv), path)


def _scenario_data(path: Path) -> dict[str, Any]:
    data = read_scenario_file(path).data
    tle = data.get("space", {}).get("constellation", {}).get("tle")
    if isinstance(tle, str):  # written relative to scenarios/; the copy lives elsewhere
        data["space"]["constellation"]["tle"] = str((path.parent / tle).resolve())
    return data


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_validate_survives_mutated_scenario_values(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _scenario_data(scenario)

    @settings(FUZZ, max_examples=25 * SCALE)
    @given(data=mutated_data(base, ODD_VALUES))
    def check(data: dict[str, Any]) -> None:
        _check_scenario(capsys, yaml.safe_dump(data, sort_keys=False), ["validate"])

    check()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_validate_survives_mutated_scenario_text(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = yaml.safe_dump(_scenario_data(scenario), sort_keys=False)

    @settings(FUZZ, max_examples=15 * SCALE)
    @given(edited=mutated_text(text))
    def check(edited: str) -> None:
        _check_scenario(capsys, edited, ["validate"])

    check()


def _tiny(data: dict[str, Any]) -> list[str]:
    """Return overrides that make the run of (possibly mutated) ``data`` one short round."""
    algo = data.get("algorithm")
    name = algo.get("name") if isinstance(algo, dict) else None
    out = ["-o", "output.figures=false", "-o", "training.epochs=1", "-o", "training.steps=null"]
    if name in SPACE_ALGORITHMS:
        return [*out, "-o", "algorithm.duration_s=900", "-o", "algorithm.eval_every_s=900",
                "-o", "space.horizon_s=900"]
    return [*out, "-o", "algorithm.rounds=1"]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_one_round_run_survives_mutated_scenarios(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _scenario_data(scenario)

    @settings(FUZZ, max_examples=3 * SCALE)
    @given(data=mutated_data(base, SMALL_VALUES))
    def check(data: dict[str, Any]) -> None:
        _check_scenario(capsys, yaml.safe_dump(data, sort_keys=False),
                        ["run", "-q", "--out", "{tmp}/run", *_tiny(data)])

    check()


def _omm_json(text: str) -> str:
    from sgp4.api import Satrec
    from sgp4.exporter import export_omm

    from simfl.orbits.tle import format_tle_line, parse_tle_text

    records = []
    for i, e in enumerate(parse_tle_text(text)):
        # generated sets have no international designator, which OMM needs: give one
        line1 = format_tle_line(f"{e.line1[:9]}26{900 + i:03d}A  {e.line1[17:68]}")
        records.append(export_omm(Satrec.twoline2rv(line1, e.line2), e.name))
    return json.dumps(records)


def _omm_csv(text: str) -> str:
    records = json.loads(_omm_json(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


SITES = [{"name": "madrid", "lat_deg": 40.4, "lon_deg": -3.7},
         {"name": "quito", "lat_deg": -0.2, "lon_deg": -78.5, "elevation_mask_deg": 20}]
CATALOGS: dict[str, Callable[[str], str]] = {".tle": str, ".json": _omm_json, ".csv": _omm_csv}


def _contacts(capsys: pytest.CaptureFixture[str], tle: Path, sites: Path
              ) -> tuple[int, list[str]]:
    """Run ``simfl contacts`` for half an hour; the plan goes beside the (temporary) sites."""
    return _cli(capsys, ["contacts", "--tle", str(tle), "--sites", str(sites), "--start",
                         "2026-02-24T00:00:00Z", "--hours", "0.5", "--workers", "1", "-q",
                         "--out", str(sites.parent / "plan.csv")])


@pytest.mark.parametrize("suffix", list(CATALOGS))
def test_contacts_survive_mutated_catalogs(
    suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CATALOGS[suffix](SHELL.read_text(encoding="utf-8"))

    @settings(FUZZ, max_examples=12 * SCALE)
    @given(edited=mutated_text(text))
    def check(edited: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            tle, sites = Path(tmp) / f"cat{suffix}", Path(tmp) / "sites.yaml"
            tle.write_text(edited, encoding="utf-8")
            sites.write_text(yaml.safe_dump(SITES), encoding="utf-8")
            _check(*_contacts(capsys, tle, sites), tle)

    check()


def test_contacts_survive_mutated_omm_values(capsys: pytest.CaptureFixture[str]) -> None:
    records = json.loads(_omm_json(SHELL.read_text(encoding="utf-8")))

    @settings(FUZZ, max_examples=15 * SCALE)
    @given(data=mutated_data({"records": records}, ODD_VALUES))
    def check(data: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            tle, sites = Path(tmp) / "cat.json", Path(tmp) / "sites.yaml"
            tle.write_text(json.dumps(data.get("records", data)), encoding="utf-8")
            sites.write_text(yaml.safe_dump(SITES), encoding="utf-8")
            _check(*_contacts(capsys, tle, sites), tle)

    check()


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_contacts_survive_mutated_sites_files(
    suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    @settings(FUZZ, max_examples=15 * SCALE)
    @given(data=mutated_data({"sites": SITES}, ODD_VALUES))
    def check(data: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            sites = Path(tmp) / f"sites{suffix}"
            rows = data.get("sites", data)
            if suffix == ".csv" and isinstance(rows, list):
                keys = sorted({str(k) for r in rows if isinstance(r, dict) for k in r})
                out = io.StringIO()
                writer = csv.DictWriter(out, fieldnames=keys or ["name"], extrasaction="ignore")
                writer.writeheader()
                writer.writerows([{str(k): v for k, v in r.items()} for r in rows
                                  if isinstance(r, dict)])
                sites.write_text(out.getvalue(), encoding="utf-8")
            else:
                sites.write_text(yaml.safe_dump(rows), encoding="utf-8")
            _check(*_contacts(capsys, SHELL, sites), sites)

    check()
