"""Loading a scenario: file -> overrides -> validated :class:`Scenario`, all errors at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simfl.errors import ScenarioError
from simfl.scenario.problems import scenario_problems, type_slips
from simfl.scenario.schema import Scenario
from simfl.scenario.source import (
    ScenarioSource,
    YamlPath,
    apply_overrides,
    parse_yaml,
    read_scenario_file,
)

_DATA_FILES = {
    "mnist": "the four MNIST IDX files (train-images-idx3-ubyte, ...)",
    "fashion-mnist": "the four Fashion-MNIST IDX files (train-images-idx3-ubyte, ...)",
    "cifar10": "the CIFAR-10 binary batches (data_batch_1.bin .. 5, test_batch.bin)",
}


def data_path_problems(data: dict[str, Any]) -> list[tuple[YamlPath, str]]:
    """Return ``[(("data", "path"), message)]`` if the dataset's directory is missing.

    Only datasets read from files are checked, and only when ``data.path`` is text.
    """
    section = data.get("data")
    if not isinstance(section, dict) or section.get("dataset") not in _DATA_FILES:
        return []
    raw = section.get("path")
    if not isinstance(raw, str) or not raw or Path(raw).is_dir():
        return []
    path = Path(raw)
    state = "is a file, not a directory" if path.exists() else "does not exist"
    where = "" if path.is_absolute() else f" (relative to the current directory {Path.cwd()})"
    return [(("data", "path"), f"{raw!r}{where} {state}; set it to the directory holding "
                               f"{_DATA_FILES[section['dataset']]}")]


def validate_source(
    source: ScenarioSource, seed: int | None = None, *, check_files: bool = False
) -> Scenario:
    """Return the validated scenario of ``source``; ``seed`` replaces the file's seed.

    With ``check_files``, a dataset directory (``data.path``) that does not exist is one of
    the problems reported.

    Raises
    ------
    ScenarioError
        Listing every problem, one line each, in file order.
    """
    data = dict(source.data)
    if seed is not None:
        data["seed"] = seed
    extra = type_slips(Scenario, data) + (data_path_problems(data) if check_files else [])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(scenario_problems(exc, source, Scenario, extra)) from None
    if extra:
        raise ScenarioError(scenario_problems(None, source, Scenario, extra))
    return scenario


def load_scenario(
    path: str | Path,
    overrides: list[str] | None = None,
    seed: int | None = None,
    *,
    check_files: bool = True,
) -> Scenario:
    """Return the validated scenario in file ``path`` with ``overrides`` and ``seed`` applied.

    With ``check_files`` (the default) a dataset directory that does not exist is reported
    with the other problems, before any work; turn it off where the data lives elsewhere
    (e.g. only on the workers of a cluster).
    """
    source = apply_overrides(read_scenario_file(path), list(overrides or []))
    return validate_source(source, seed, check_files=check_files)


def scenario_from_text(
    text: str, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Return the validated scenario in YAML ``text`` (for notebooks and tests)."""
    source = apply_overrides(parse_yaml(text), list(overrides or []))
    return validate_source(source, seed)
