"""Loading a scenario: file -> overrides -> validated :class:`Scenario`, all errors at once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simfl.errors import ScenarioError
from simfl.scenario.preflight import preflight
from simfl.scenario.problems import scenario_problems, type_slips
from simfl.scenario.registry import config_of, scenario_model
from simfl.scenario.rules import cross_key_problems
from simfl.scenario.schema import Scenario
from simfl.scenario.source import (
    ScenarioSource,
    YamlPath,
    apply_overrides,
    parse_yaml,
    read_scenario_file,
)

_log = logging.getLogger(__name__)

_DATA_FILES = {
    "mnist": "the four MNIST IDX files (train-images-idx3-ubyte, ...)",
    "fashion-mnist": "the four Fashion-MNIST IDX files (train-images-idx3-ubyte, ...)",
    "cifar10": "the CIFAR-10 binary batches (data_batch_1.bin .. 5, test_batch.bin)",
    "leaf": "a LEAF-layout dataset (train/*.json and test/*.json)",
    "fitrec": "FitRec's workouts (endomondoHR_proper.json, or .json.gz)",
}
_FILE_DATASETS = ("fitrec",)  # data.path names a file, not a directory


def data_path_problems(
    data: dict[str, Any], relative: dict[YamlPath, tuple[str, str]] | None = None
) -> list[tuple[YamlPath, str]]:
    """Return ``[(("data", "path"), message)]`` if the dataset's directory is missing.

    Only datasets read from files are checked, and only when ``data.path`` is text.
    """
    section = data.get("data")
    if not isinstance(section, dict) or str(section.get("dataset")) not in _DATA_FILES:
        return []
    raw = section.get("path")
    is_file = section["dataset"] in _FILE_DATASETS
    if not isinstance(raw, str) or not raw or (Path(raw).is_file() if is_file
                                               else Path(raw).is_dir()):
        return []
    path = Path(raw)
    state = ("does not exist" if not path.exists() else
             "is a directory, not a file" if is_file else "is a file, not a directory")
    written = (relative or {}).get(("data", "path"))
    if written is not None:
        raw, where = written[0], f" (relative to the scenario's folder {written[1]})"
    else:
        where = "" if path.is_absolute() else f" (relative to the current directory {Path.cwd()})"
    holder = "the file of" if is_file else "the directory holding"
    return [(("data", "path"), f"{raw!r}{where} {state}; set it to {holder} "
                               f"{_DATA_FILES[section['dataset']]}")]


def group_file_problems(
    data: dict[str, Any], relative: dict[YamlPath, tuple[str, str]] | None = None
) -> list[tuple[YamlPath, str]]:
    """Return ``[(("groups", "file"), message)]`` if a group file the run reads is missing.

    Checked only where the algorithm builds groups from the section (its content is checked
    when the world is built, like a dataset's files).
    """
    groups, algo = data.get("groups"), data.get("algorithm")
    config = config_of(algo.get("name", "fedavg") if isinstance(algo, dict) else "fedavg")
    if (config is None or not config.uses_groups or not isinstance(groups, dict)
            or groups.get("assignment") != "file"):
        return []
    raw = groups.get("file")
    if not isinstance(raw, str) or not raw or Path(raw).is_file():
        return []
    state = "is a directory, not a file" if Path(raw).exists() else "does not exist"
    written = (relative or {}).get(("groups", "file"))
    where = (f" (relative to the scenario's folder {written[1]})" if written is not None
             else "" if Path(raw).is_absolute()
             else f" (relative to the current directory {Path.cwd()})")
    shown = written[0] if written is not None else raw
    return [(("groups", "file"), f"{shown!r}{where} {state}; give a CSV with a header "
                                 "'client,group' and one line per client")]


def validate_source(
    source: ScenarioSource, seed: int | None = None, *, check_files: bool = False,
    warn: bool = True,
) -> Scenario:
    """Return the validated scenario of ``source``; ``seed`` replaces the file's seed.

    With ``check_files``, a dataset directory (``data.path``) or a group file
    (``groups.file``) that does not exist is one of the problems reported, and so is
    everything :func:`~simfl.scenario.preflight.preflight` finds on disk (the constellation
    file, the dataset's size). Its warnings are logged (the ``simfl`` logger; the CLI prints
    them) unless ``warn`` is false.

    Raises
    ------
    ScenarioError
        Listing every problem, one line each, in file order.
    """
    data = dict(source.data)
    if seed is not None:
        data["seed"] = seed
        source.overridden[("seed",)] = f"--seed {seed}"
    model = scenario_model()
    extra = type_slips(model, data) + cross_key_problems(data) + (
        data_path_problems(data, source.relative) + group_file_problems(data, source.relative)
        if check_files else [])
    try:
        scenario = model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(scenario_problems(exc, source, model, extra)) from None
    checked = preflight(scenario, check_files=check_files)
    extra += checked.problems
    if extra:
        raise ScenarioError(scenario_problems(None, source, model, extra))
    for warning in checked.warnings if warn else []:
        _log.warning("%s: %s", source.file, warning)
    return scenario


_FILE_PATHS: tuple[YamlPath, ...] = (("data", "path"), ("space", "constellation", "tle"),
                                     ("space", "cache_dir"), ("groups", "file"),
                                     ("data", "fitrec", "zones", "file"))
_NOT_PATHS = {"user"}  # space.cache_dir: 'user' names the user's cache folder


def resolve_relative_paths(source: ScenarioSource, base_dir: Path) -> ScenarioSource:
    """Make relative file paths written in the scenario file relative to ``base_dir``.

    Paths are read relative to the scenario file's folder (like most config files), so a
    scenario runs from any working directory. Paths given by ``-o`` overrides stay relative
    to the current directory, where the user typed them.
    """
    for path in _FILE_PATHS:
        node: Any = source.data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path in source.overridden:
            continue
        raw = node.get(path[-1])
        if (isinstance(raw, str) and raw and raw not in _NOT_PATHS
                and not Path(raw).expanduser().is_absolute()):
            node[path[-1]] = str((base_dir / raw).resolve())
            source.relative[path] = (raw, str(base_dir))
    return source


def load_scenario(
    path: str | Path,
    overrides: list[str] | None = None,
    seed: int | None = None,
    *,
    check_files: bool = True,
) -> Scenario:
    """Return the validated scenario in file ``path`` with ``overrides`` and ``seed`` applied.

    Relative file paths written in the file are read from the file's folder (see
    :func:`resolve_relative_paths`); paths in overrides from the current directory.

    With ``check_files`` (the default) a dataset directory or group file that does not
    exist is reported with the other problems, before any work; turn it off where the data
    lives elsewhere (e.g. only on the workers of a cluster).
    """
    source = read_scenario_file(path)
    source = resolve_relative_paths(source, Path(path).resolve().parent)
    source = apply_overrides(source, list(overrides or []))
    return validate_source(source, seed, check_files=check_files)


def scenario_from_text(
    text: str, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Return the validated scenario in YAML ``text`` (for notebooks and tests)."""
    source = apply_overrides(parse_yaml(text), list(overrides or []))
    return validate_source(source, seed)
