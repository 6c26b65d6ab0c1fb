"""Loading a scenario: file -> overrides -> validated :class:`Scenario`, all errors at once."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from simfl.errors import ScenarioError
from simfl.scenario.problems import format_validation_error
from simfl.scenario.schema import Scenario
from simfl.scenario.source import ScenarioSource, apply_overrides, parse_yaml, read_scenario_file


def validate_source(source: ScenarioSource, seed: int | None = None) -> Scenario:
    """Return the validated scenario of ``source``; ``seed`` replaces the file's seed.

    Raises
    ------
    ScenarioError
        Listing every problem, one line each, in file order.
    """
    data = dict(source.data)
    if seed is not None:
        data["seed"] = seed
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, Scenario)) from None


def load_scenario(
    path: str | Path, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Return the validated scenario in file ``path`` with ``overrides`` and ``seed`` applied."""
    source = apply_overrides(read_scenario_file(path), list(overrides or []))
    return validate_source(source, seed)


def scenario_from_text(
    text: str, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Return the validated scenario in YAML ``text`` (for notebooks and tests)."""
    source = apply_overrides(parse_yaml(text), list(overrides or []))
    return validate_source(source, seed)
