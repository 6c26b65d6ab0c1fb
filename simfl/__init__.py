"""simfl: a discrete-event network and orbital simulator for federated learning.

The time is modelled; the learning is real. Everything a run needs is here::

    import simfl

    scenario = simfl.load_scenario("scenarios/quickstart.yaml", overrides=["algorithm.rounds=5"])
    result = simfl.simulate(scenario)            # .summary, .metrics, .trace
    simfl.write_run(result, "runs/try")          # a run directory
    again = simfl.read_run("runs/try")           # the same RunResult, read back
    table = simfl.compare(scenario, algorithms=["fedavg", "hierarchical"])

the orbital entry points (:func:`load_elements`, :func:`walker_delta`,
:func:`compute_contacts`, :func:`elevation_deg`, :func:`planes_of`, :func:`ground_tracks`,
:func:`regions_along_ground_track`), scenario variants (:func:`with_algorithm`,
:func:`with_values`) and the figures a notebook draws. Names are imported on first use, so
``import simfl`` is quick and does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simfl.errors import DataError, OrbitError, ScenarioError, SimflError
from simfl.lazy import lazy_attributes

if TYPE_CHECKING:
    from simfl.analysis.figures import plot_methods_vs_time, plot_metric_vs_time
    from simfl.analysis.frames import events_of, merge_intervals
    from simfl.analysis.orbit_figures import (
        plot_contact_gantt,
        plot_elevation,
        plot_ground_tracks,
    )
    from simfl.analysis.timeline import plot_node_timeline
    from simfl.orbits.catalog import load_elements
    from simfl.orbits.contacts import compute_contacts, elevation_deg
    from simfl.orbits.ground_track import ground_tracks
    from simfl.orbits.planes import planes_of
    from simfl.orbits.regions import regions_along_ground_track
    from simfl.orbits.walker import walker_delta
    from simfl.runs.api import compare, load_scenario, read_run, simulate, write_run
    from simfl.runs.runner import RunResult
    from simfl.scenario.registry import algorithm_names, register_algorithm
    from simfl.scenario.schema import Scenario
    from simfl.studies.variants import with_algorithm, with_values

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
    "elevation_deg": "simfl.orbits.contacts",
    "planes_of": "simfl.orbits.planes",
    "ground_tracks": "simfl.orbits.ground_track",
    "regions_along_ground_track": "simfl.orbits.regions",
    "with_algorithm": "simfl.studies.variants",
    "with_values": "simfl.studies.variants",
    "events_of": "simfl.analysis.frames",
    "merge_intervals": "simfl.analysis.frames",
    "plot_metric_vs_time": "simfl.analysis.figures",
    "plot_methods_vs_time": "simfl.analysis.figures",
    "plot_ground_tracks": "simfl.analysis.orbit_figures",
    "plot_contact_gantt": "simfl.analysis.orbit_figures",
    "plot_elevation": "simfl.analysis.orbit_figures",
    "plot_node_timeline": "simfl.analysis.timeline",
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
    "elevation_deg",
    "events_of",
    "ground_tracks",
    "load_elements",
    "load_scenario",
    "merge_intervals",
    "planes_of",
    "plot_contact_gantt",
    "plot_elevation",
    "plot_ground_tracks",
    "plot_methods_vs_time",
    "plot_metric_vs_time",
    "plot_node_timeline",
    "read_run",
    "regions_along_ground_track",
    "register_algorithm",
    "simulate",
    "walker_delta",
    "with_algorithm",
    "with_values",
    "write_run",
]


__getattr__, _ = lazy_attributes(__name__, _LAZY)  # front-door names on first use


def __dir__() -> list[str]:
    return sorted(__all__)
