"""Federated learning algorithms as SimPy processes around pure, tested math."""

from simfl.algorithms.base import Algorithm
from simfl.algorithms.fedavg import FedAvg
from simfl.algorithms.fedmeld import FedMeld, IsolatedRegions
from simfl.algorithms.hierarchical import HierarchicalFedAvg
from simfl.algorithms.parallel_fl import ParallelFL
from simfl.algorithms.ring_allreduce import RingAllreduce
from simfl.algorithms.space_hfl import SpaceHFL

ALGORITHMS: dict[str, type[Algorithm]] = {
    "fedavg": FedAvg,
    "hierarchical": HierarchicalFedAvg,
    "fedmeld": FedMeld,
    "isolated": IsolatedRegions,
    "space_hfl": SpaceHFL,
    "ring_allreduce": RingAllreduce,
    "parallel_fl": ParallelFL,
}
"""Algorithm classes by the ``algorithm.name`` that selects them in a scenario."""

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "FedAvg",
    "FedMeld",
    "HierarchicalFedAvg",
    "IsolatedRegions",
    "ParallelFL",
    "RingAllreduce",
    "SpaceHFL",
]
