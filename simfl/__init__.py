"""simfl: a discrete-event network and orbital simulator for federated learning.

The time is modelled; the learning is real. Everything a run needs is here::

    import simfl

    scenario = simfl.load_scenario("scenarios/quickstart.yaml", overrides=["algorithm.rounds=5"])
    result = simfl.simulate(scenario)            # .summary, .metrics, .trace
    simfl.write_run(result, "runs/try")          # a run directory
    again = simfl.read_run("runs/try")           # the same RunResult, read back
    table = simfl.compare(scenario, algorithms=["fedavg", "hierarchical"])

and the orbital entry points :func:`load_elements`, :func:`walker_delta` and
:func:`compute_contacts`. Names are imported on first use, so ``import simfl`` is quick and
does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from simfl.errors import DataError, OrbitError, ScenarioError, SimflError

if TYPE_CHECKING:
    from simfl.orbits.catalog import load_elements
    from simfl.orbits.contacts import compute_contacts
    from simfl.orbits.walker import walker_delta
    from simfl.runs.api import compare, load_scenario, read_run, simulate, write_run
    from simfl.runs.runner import RunResult
    from simfl.scenario.registry import algorithm_names, register_algorithm
    from simfl.scenario.schema import Scenario

__version__ = "0.1.0"

_LAZY = {
    "load_scenario": "simfl.runs.api",
    "simulate": "simfl.runs.api",
    "write_run": "simfl.runs.api",
    "read_run": "simfl.runs.api",
    "compare": "simfl.runs.api",
    "RunResult": "simfl.runs.runner",
    "Scenario": "simfl.scenario.schema",
    "algorithm_names": "simfl.scenario.registry",
    "register_algorithm": "simfl.scenario.registry",
    "load_elements": "simfl.orbits.catalog",
    "compute_contacts": "simfl.orbits.contacts",
    "walker_delta": "simfl.orbits.walker",
}

__all__ = [
    "DataError",
    "OrbitError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimflError",
    "__version__",
    "algorithm_names",
    "compare",
    "compute_contacts",
    "load_elements",
    "load_scenario",
    "read_run",
    "register_algorithm",
    "simulate",
    "walker_delta",
    "write_run",
]


def __getattr__(name: str) -> Any:
    """Import a front-door name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simfl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
