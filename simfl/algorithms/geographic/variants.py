"""SGFusion's baselines and chi-SGFusion (arXiv 2510.23455), on the same world and clock.

All of them are zone FL with attention fusion (:class:`~.sgfusion.FusionFL`); only the
partners differ:

- ``sgfusion_neighbours``: zones whose areas touch (the official code's ``intersects``);
- ``sgfusion_threshold``: zones whose histogram distance is below ``threshold`` (official:
  0.12 or 0.24);
- ``sgfusion_topk``: the ``k`` zones of nearest histograms (official: k = 1);
- ``sgfusion_all``: every other zone (deterministic fusion with all);
- ``sgfusion_fixed`` (chi-SGFusion): ``chi`` zones drawn each round with the HRG's
  probabilities as weights.

As in SGFusion, partners come from the zone's own country unless ``scope: all``.

The deterministic variants fix their partners once; the threshold and top-k variants need
the zone histograms and so run SGFusion's timed histogram exchange, the neighbour and
all-zones variants do not.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from simfl.algorithms.geographic.partners import (
    fixed_count_partners,
    marked_partners,
    threshold_partners,
    topk_partners,
)
from simfl.algorithms.geographic.sgfusion import FusionFL, FusionSection, SGFusion, SGFusionConfig
from simfl.geo.zones import neighbour_matrix
from simfl.scenario.registry import register_algorithm


class SGFusionNeighboursConfig(FusionSection):
    """SGFusion baseline: fuse with the zones whose areas touch (within ``tolerance_km``)."""

    name: Literal["sgfusion_neighbours"] = "sgfusion_neighbours"
    tolerance_km: float = Field(1.0, ge=0)


class SGFusionThresholdConfig(FusionSection):
    """SGFusion baseline: fuse with the zones whose histogram distance is below a threshold."""

    name: Literal["sgfusion_threshold"] = "sgfusion_threshold"
    threshold: float = Field(0.12, gt=0)


class SGFusionTopkConfig(FusionSection):
    """SGFusion baseline: fuse with the k zones of nearest label histograms."""

    name: Literal["sgfusion_topk"] = "sgfusion_topk"
    k: int = Field(1, gt=0)


class SGFusionAllConfig(FusionSection):
    """SGFusion baseline: fuse with every other zone, every round."""

    name: Literal["sgfusion_all"] = "sgfusion_all"


class SGFusionFixedConfig(SGFusionConfig):
    """chi-SGFusion: chi partners per round, drawn with the HRG's probabilities."""

    name: Literal["sgfusion_fixed"] = "sgfusion_fixed"  # type: ignore[assignment]
    chi: int = Field(3, gt=0)


class FixedPartners(FusionFL):
    """A variant whose partners are the same every round (computed after preparation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._partners: list[np.ndarray] | None = None

    def partners_of(self, zone: int) -> np.ndarray:
        """Return zone ``zone``'s partners."""
        raise NotImplementedError

    def choose_partners(self, round: int) -> list[np.ndarray]:
        """Return the fixed partners of every zone."""
        if self._partners is None:
            self._partners = [self.partners_of(k) for k in range(len(self.zones))]
        return self._partners


@register_algorithm
class SGFusionNeighbours(FixedPartners):
    """Fusion with the zones whose areas touch."""

    config_model = SGFusionNeighboursConfig
    config: SGFusionNeighboursConfig
    uses_histograms: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert self.world.layout is not None
        self.adjacent = neighbour_matrix(list(self.world.layout.zones),
                                         self.config.tolerance_km) & self.same_domain

    def partners_of(self, zone: int) -> np.ndarray:
        """Return the zones whose areas touch ``zone``'s."""
        return marked_partners(self.adjacent, zone)


@register_algorithm
class SGFusionThreshold(FixedPartners):
    """Fusion with the zones of close histograms."""

    config_model = SGFusionThresholdConfig
    config: SGFusionThresholdConfig

    def partners_of(self, zone: int) -> np.ndarray:
        """Return the zones within ``threshold`` of ``zone``."""
        return threshold_partners(self.scoped_distances(), zone, self.config.threshold)


@register_algorithm
class SGFusionTopk(FixedPartners):
    """Fusion with the k nearest zones by histogram."""

    config_model = SGFusionTopkConfig
    config: SGFusionTopkConfig

    def partners_of(self, zone: int) -> np.ndarray:
        """Return the ``k`` zones nearest to ``zone``."""
        return topk_partners(self.scoped_distances(), zone, self.config.k)


@register_algorithm
class SGFusionAll(FixedPartners):
    """Fusion with every zone."""

    config_model = SGFusionAllConfig
    config: SGFusionAllConfig
    uses_histograms: ClassVar[bool] = False

    def partners_of(self, zone: int) -> np.ndarray:
        """Return every other zone (of the zone's domain)."""
        return marked_partners(self.same_domain, zone)


@register_algorithm
class SGFusionFixed(SGFusion):
    """chi-SGFusion: a fixed number of partners drawn by the dendrogram probabilities."""

    config_model = SGFusionFixedConfig
    config: SGFusionFixedConfig

    def choose_partners(self, round: int) -> list[np.ndarray]:
        """Draw ``chi`` partners per zone, weighted by ``P[z]``."""
        assert self.P is not None
        return [fixed_count_partners(self.P, k, self.config.chi, self.partner_rng)
                for k in range(len(self.zones))]
