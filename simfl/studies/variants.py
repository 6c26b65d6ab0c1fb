"""Scenario variants: the same world with another algorithm or other values.

Studies compare methods on the same world and clock, so switching the algorithm keeps the
settings the algorithms share (time budget, evaluation period, clients per round) and drops
the ones that belong to the old algorithm only.
"""

from __future__ import annotations

from typing import Any

from simfl.errors import ScenarioError
from simfl.scenario.registry import algorithm_spec
from simfl.scenario.schema import Scenario
from simfl.scenario.source import ScenarioSource


def with_algorithm(scenario: Scenario, name: str, **params: Any) -> Scenario:
    """Return ``scenario`` running algorithm ``name`` with the shared settings kept.

    ``params`` set algorithm-specific values (e.g. ``mixing_ratio=0.3``).

    Raises
    ------
    ScenarioError
        If ``name`` is unknown or a parameter is invalid for that algorithm.
    """
    config = algorithm_spec(name).config
    current = scenario.algorithm.model_dump()
    kept = {k: v for k, v in current.items() if k in config.model_fields and k != "name"}
    kept.update(params)
    data = scenario.model_dump()
    data["algorithm"] = {"name": name, **kept}
    return _validated(data, f"algorithm {name}")


def with_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """Return ``scenario`` with dotted-path ``values`` set (``{"algorithm.mixing_ratio": 0.3}``)."""
    data = scenario.model_dump()
    for path, value in values.items():
        node: Any = data
        parts = path.split(".")
        for depth, part in enumerate(parts[:-1]):
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                raise ScenarioError(f"cannot set {path}: {'.'.join(parts[:depth + 1])} is a "
                                    f"value ({node!r}), not a section")
        node[parts[-1]] = value
    return _validated(data, "with " + ", ".join(f"{k}={v!r}" for k, v in values.items()))


def _validated(data: dict[str, Any], what: str) -> Scenario:
    """Validate a modified scenario as ``simfl validate`` would; one line per problem.

    Each line reads ``<what>: yaml.path: message``; warnings are left to the run's summary.
    """
    from simfl.scenario.load import validate_source

    return validate_source(ScenarioSource(data=data, file=what), check_files=True, warn=False)

