"""The base pieces of every ``algorithm:`` section; each algorithm's own config extends them.

An algorithm's config lives in the algorithm's module (``simfl/algorithms/...``), declares
``name: Literal["<its name>"]`` and what it needs from the world as class variables, and
extends one of these bases. The scenario schema only knows these bases; the union of all
registered configs is made by :mod:`simfl.scenario.registry`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class AlgorithmSection(BaseModel):
    """Base of every algorithm config: unknown keys are errors, values are immutable.

    Class variables (not scenario keys) say what the algorithm needs from the world:

    - ``needs_space``: a ``space`` section (satellites, regions); its client groups are the
      space regions.
    - ``needs_ground_stations``: at least one ``space.ground_stations`` entry.
    - ``uses_groups``: client groups with servers (edge servers, teams, zones), built from the
      scenario's ``groups`` section.
    - ``personalized``: it keeps per-client or per-group models, recorded as personalized
      metrics (each model on its own clients' test data).
    - ``global_model``: it has one global model, recorded as node ``global``.
    - ``public_data_fraction``: the fraction of the training set held out as unlabeled
      public data (``world.public_x``) when ``data.public_fraction`` is not set (FedDF).
    - ``needs_zones``: its client groups are geographic zones (``groups.assignment: zones``,
      a dataset of users in zones).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """The algorithm's name; each config narrows it to ``Literal["<name>"]``."""

    needs_space: ClassVar[bool] = False
    needs_ground_stations: ClassVar[bool] = False
    uses_groups: ClassVar[bool] = False
    personalized: ClassVar[bool] = False
    global_model: ClassVar[bool] = True
    public_data_fraction: ClassVar[float] = 0.0
    needs_zones: ClassVar[bool] = False

    def progress_total(self) -> int:
        """Return the number of progress steps of a run (rounds, or evaluation ticks)."""
        raise NotImplementedError(f"{type(self).__name__} must define progress_total()")

    def progress_unit(self) -> str:
        """Return the unit of :meth:`progress_total` for the progress bar."""
        return "round"

    def budget_text(self) -> str:
        """Return how long a run lasts, in words (e.g. ``50 rounds``)."""
        raise NotImplementedError(f"{type(self).__name__} must define budget_text()")


class RoundsSection(AlgorithmSection):
    """An algorithm that runs a number of global rounds and evaluates every few of them."""

    rounds: int = Field(50, gt=0)
    eval_every_rounds: int = Field(1, gt=0)

    def progress_total(self) -> int:
        """Return the number of global rounds."""
        return self.rounds

    def budget_text(self) -> str:
        """Return ``'<rounds> rounds'``."""
        return f"{self.rounds} rounds"
