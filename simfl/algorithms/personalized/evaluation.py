"""What the personalized algorithms record at an evaluation: global, personal and team models.

- node ``global``: the global model on the global test set (:meth:`Algorithm.evaluate_global`);
  where that set is not the devices' own test data pooled (digits, MNIST, CIFAR with
  proportional or holdout client tests) also node ``global_clients``: the global model on
  every device's own test data, pooled (the GM of PerMFL's paper and official code).
- node ``personalized``: each device's own model on its own test data, pooled (the PM).
- node ``team``: each device's team model on the device's test data, pooled over all devices;
  ``team:<name>``: the same for one team's members.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from simfl.algorithms.base import Algorithm
    from simfl.scenario.groups import ClientGroup
    from simfl.scenario.world import World


def global_test_is_pooled_client_tests(world: World) -> bool:
    """Return True when the global test set is the union of the devices' own test data.

    So it is for Synthetic and LEAF with their natural per-device split; elsewhere the
    global test set is held out before partitioning.
    """
    data = world.scenario.data
    return data.dataset in ("synthetic", "leaf") and data.client_test in ("auto", "natural")


def record_global(algo: Algorithm, x: torch.Tensor, round: int) -> bool:
    """Record the global model ``x`` (node ``global``, and ``global_clients`` where it differs).

    Returns True if the run's target accuracy is reached.
    """
    reached = algo.evaluate_global(x, round)
    world = algo.world
    if not global_test_is_pooled_client_tests(world):
        algo.evaluate_personalized(dict.fromkeys(range(len(world.clients)), x), round,
                                   node="global_clients")
    return reached


def record_teams(algo: Algorithm, team_models: Mapping[str, torch.Tensor],
                 groups: list[ClientGroup], round: int) -> dict[str, float]:
    """Record every team model on its members' test data: node ``team`` and ``team:<name>``.

    Returns the pooled metrics of node ``team``.
    """
    for group in groups:
        algo.evaluate_personalized(dict.fromkeys(group.clients, team_models[group.name]),
                                   round, node=f"team:{group.name}")
    model_of = {i: team_models[g.name] for g in groups for i in g.clients}
    return algo.evaluate_personalized(model_of, round, node="team")
