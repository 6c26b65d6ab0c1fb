"""Scenario variants: the same world with another algorithm or other values.

Studies compare methods on the same world and clock, so switching the algorithm keeps the
settings the algorithms share (time budget, evaluation period, clients per round) and drops
the ones that belong to the old algorithm only.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from simfl.errors import ScenarioError
from simfl.scenario.algorithm_configs import ALGORITHM_NAMES, AlgorithmConfig
from simfl.scenario.schema import Scenario

_ALGORITHM = TypeAdapter(AlgorithmConfig)


def with_algorithm(scenario: Scenario, name: str, **params: Any) -> Scenario:
    """Return ``scenario`` running algorithm ``name`` with the shared settings kept.

    ``params`` set algorithm-specific values (e.g. ``mixing_ratio=0.3``).

    Raises
    ------
    ScenarioError
        If ``name`` is unknown or a parameter is invalid for that algorithm.
    """
    if name not in ALGORITHM_NAMES:
        raise ScenarioError(f"algorithm {name!r} is unknown; choose one of "
                            f"{', '.join(ALGORITHM_NAMES)}")
    current = scenario.algorithm.model_dump()
    candidate_fields = _fields_of(name)
    kept = {k: v for k, v in current.items() if k in candidate_fields and k != "name"}
    kept.update(params)
    try:
        algorithm = _ALGORITHM.validate_python({"name": name, **kept})
    except ValidationError as exc:
        raise ScenarioError([f"algorithm {name}: {'.'.join(map(str, e['loc'][1:]))}: "
                             f"{e['msg']}" for e in exc.errors()]) from None
    data = scenario.model_dump()
    data["algorithm"] = algorithm.model_dump()
    return _validated(data, f"with algorithm {name!r}")


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
    """Validate a modified scenario; problems become one ScenarioError line each."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([f"{what}: {'.'.join(map(str, e['loc'])) or '(top level)'}: "
                             f"{e['msg']}" for e in exc.errors()]) from None


def _fields_of(name: str) -> set[str]:
    import typing

    union = typing.get_args(typing.get_args(AlgorithmConfig)[0])
    for cls in union:
        if name in typing.get_args(cls.model_fields["name"].annotation):
            return set(cls.model_fields)
    return set()
