"""SGFusion: Nguyen et al., "SGFusion: Stochastic Geographic Gradient Fusion in Federated
Learning", arXiv 2510.23455.

Before the first round the zones describe their data: every user bins its training labels
over bin edges common to all zones (:mod:`.zone_similarity`; the cloud broadcasts them),
optionally adds Laplace noise (epsilon-DP), and sends the counts to its zone server, which
sums them and forwards the zone histogram to the cloud. The cloud computes the distance
matrix ``D`` between zone histograms, fits the HRG (a dendrogram of least
``sum_r d_r``, :func:`~.hrg_fit.fit_hrg`; a compute event), derives ``P[z, z'] =
p_LCA(z, z')`` (:func:`~.zone_sampling.lca_probabilities`) and sends every zone its row.
Each round zone ``z`` draws every other zone with probability ``P[z, z']`` and fuses with
those drawn (:class:`~.zone_fl.ZoneFL`'s timed partner rounds and attention fusion).

Like the official code, which runs one country at a time, zones fuse only within their
country (``scope: country``; one HRG per country); ``scope: all`` fits one HRG over every
zone and lets any zone fuse with any other. Datasets without countries are one country.

Choices: a zone that drew nobody still trains on its own users (the official code skips its
round: ``skip_without_partners: true``); all drawn zones enter the fusion (the official
code keeps only the last: ``official_last_only: true``); histograms use common bin edges
(the official code bins each zone over its own min-max).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import Field

from simfl.algorithms.geographic.hrg_fit import HrgFit, fit_hrg
from simfl.algorithms.geographic.zone_fl import ZoneFL, ZoneSection
from simfl.algorithms.geographic.zone_sampling import (
    expected_partners,
    lca_probabilities,
    sample_round,
)
from simfl.algorithms.geographic.zone_similarity import (
    class_histogram,
    common_edges,
    count_histogram,
    frequencies,
    histogram_distances,
    laplace_noise,
)
from simfl.engine.actions import compute
from simfl.scenario.registry import register_algorithm

VALUE_BYTES = 8
"""Bytes of one histogram count, bin edge or probability on the wire (float64)."""


class FusionSection(ZoneSection):
    """Settings of the fusion algorithms: zone histograms and the official behaviours."""

    scope: Literal["country", "all"] = "country"
    histogram_bins: int = Field(10, gt=0)
    histogram_range: tuple[float, float] | None = None
    dp_epsilon: float | None = Field(None, gt=0)
    skip_without_partners: bool = False
    official_last_only: bool = False


class SGFusionConfig(FusionSection):
    """SGFusion: zones draw fusion partners from an HRG of zone label histograms."""

    name: Literal["sgfusion"] = "sgfusion"
    hrg_method: Literal["auto", "exact", "mcmc", "average_linkage"] = "auto"


class FusionFL(ZoneFL):
    """Zone FL with partners and attention fusion; variants choose the partners.

    Variants that compare zones by their data (``uses_histograms``) run the timed histogram
    exchange and the cloud's plan (:meth:`plan`) before the first round.
    """

    uses_histograms: ClassVar[bool] = True
    config: FusionSection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.D: np.ndarray | None = None
        self.histograms: np.ndarray | None = None
        self.partner_rng = self.sim.rng("zone_sampling")
        assert self.world.layout is not None
        country_of = self.world.layout.country_of
        scoped = self.config.scope == "country" and bool(country_of)
        self.domains = domains_of([country_of.get(z.name, "") if scoped else "all"
                                   for z in self.zones])
        """Zone indices that may fuse with each other, by country (or one domain: all)."""
        self.same_domain = np.zeros((len(self.zones), len(self.zones)), dtype=bool)
        for members in self.domains.values():
            self.same_domain[np.ix_(members, members)] = True

    def scoped_distances(self) -> np.ndarray:
        """Return ``D`` with distances across domains set to infinity."""
        assert self.D is not None
        return np.where(self.same_domain, self.D, np.inf)

    def skips(self, partners: np.ndarray) -> bool:
        """Return True for a zone without partners when the official behaviour is asked."""
        return self.config.skip_without_partners and len(partners) == 0

    def last_only(self) -> bool:
        """Return whether only the last partner's term is fused (the official code)."""
        return self.config.official_last_only

    def details(self) -> dict[str, Any]:
        """Add the zone histograms and their distances to the zone details."""
        out = super().details()
        if self.histograms is not None and self.D is not None:
            out["histograms"] = self.histograms.tolist()
            out["D"] = self.D.tolist()
        return out

    def prepare(self) -> Generator[simpy.Event, Any, None]:
        """Exchange histograms (if the variant uses them), then the cloud's plan."""
        if not self.uses_histograms:
            return
        sim, world = self.sim, self.world
        edges = None
        if world.task != "classification":
            edges = common_edges([c.labels for c in world.clients], self.config.histogram_bins,
                                 self.config.histogram_range)
        procs = [sim.process(self.zone_histogram(k, edges)) for k in range(len(self.zones))]
        yield sim.env.all_of(procs)
        self.histograms = frequencies(np.stack([np.asarray(p.value) for p in procs]))
        self.D = histogram_distances(self.histograms)
        yield from compute(sim, world.nodes["cloud"], self.plan(), round=0, what="zone_plan")
        nbytes = VALUE_BYTES * len(self.zones)
        down = world.channels["edge_cloud_down"]
        sends = [sim.process(down.send("cloud", z.server or z.name, nbytes, round=0,
                                       what="zone_plan")) for z in self.zones]
        yield sim.env.all_of(sends)

    def plan(self) -> float:
        """Do the cloud's work on ``self.D`` (e.g. fit the HRG); return its FLOPs.

        Default: the distance matrix only (``n^2`` differences over the bins).
        """
        assert self.histograms is not None
        n, bins = self.histograms.shape
        return 3.0 * n * n * bins

    def zone_histogram(self, k: int,
                       edges: np.ndarray | None) -> Generator[simpy.Event, Any, np.ndarray]:
        """Zone ``k``'s label counts: edges down to its users, their counts up, to the cloud."""
        sim, world = self.sim, self.world
        zone = self.zones[k]
        assert zone.server is not None
        if edges is not None:
            yield from world.channels["edge_cloud_down"].send(
                "cloud", zone.server, VALUE_BYTES * len(edges), round=0, what="bin_edges")
        users = [sim.process(self.user_histogram(k, i, edges)) for i in zone.clients]
        yield sim.env.all_of(users)
        counts = np.sum([np.asarray(u.value) for u in users], axis=0)
        yield from world.channels["edge_cloud_up"].send(
            zone.server, "cloud", VALUE_BYTES * len(counts), round=0, what="histogram")
        return counts

    def user_histogram(self, k: int, i: int,
                       edges: np.ndarray | None) -> Generator[simpy.Event, Any, np.ndarray]:
        """User ``i``'s (noisy) label counts, as its zone server receives them."""
        sim, world, cfg = self.sim, self.world, self.config
        zone = self.zones[k]
        client = world.clients[i]
        assert zone.server is not None and zone.down is not None and zone.up is not None
        if edges is not None:
            yield from zone.down.send(zone.server, client.name, VALUE_BYTES * len(edges),
                                      round=0, what="bin_edges")
            counts = count_histogram(client.labels, edges)
        else:
            counts = class_histogram(client.labels, world.num_classes)
        yield from compute(sim, world.nodes[client.name], float(np.size(client.labels)),
                           round=0, what="histogram")
        if cfg.dp_epsilon is not None:
            per_sample = math.prod(np.shape(client.labels)[1:])
            counts = laplace_noise(counts, cfg.dp_epsilon, float(per_sample),
                                   sim.fresh_rng(f"dp_noise/{client.name}"))
        yield from zone.up.send(client.name, zone.server, VALUE_BYTES * len(counts), round=0,
                                what="histogram")
        return counts


def domains_of(labels: list[str]) -> dict[str, np.ndarray]:
    """Return ``{label: indices with that label}``, labels in order of first appearance."""
    out: dict[str, list[int]] = {}
    for k, label in enumerate(labels):
        out.setdefault(label, []).append(k)
    return {label: np.asarray(ks, dtype=np.int64) for label, ks in out.items()}


def hrg_fit_flops(n_zones: int, fit: HrgFit) -> float:
    """Return an estimate of the FLOPs of an HRG fit (its simulated compute cost).

    Exact: about ``3^n / 2`` split evaluations of ~8 operations; MCMC: ~20 operations per
    proposed move plus the average-linkage start; average linkage: ``n^3``.
    """
    linkage = float(n_zones) ** 3
    if fit.method == "exact":
        return 8.0 * 3.0**n_zones / 2.0 + linkage
    if fit.method == "mcmc" and fit.trace is not None:
        return 20.0 * fit.trace.moves_proposed + linkage
    return linkage


@register_algorithm
class SGFusion(FusionFL):
    """SGFusion: partners drawn each round with the HRG's ``p_LCA`` probabilities."""

    config_model = SGFusionConfig
    config: SGFusionConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fits: dict[str, HrgFit] = {}
        """The HRG of every domain (country), by domain."""
        self.P: np.ndarray | None = None

    def plan(self) -> float:
        """Fit one HRG per domain to its part of ``D`` and assemble ``p_LCA`` (zero across
        domains and for a domain of one zone); return the FLOPs of that work."""
        assert self.D is not None
        n = len(self.zones)
        self.P = np.zeros((n, n))
        flops = super().plan()
        for label, members in self.domains.items():
            if len(members) < 2:  # a country of one zone has nobody to fuse with
                continue
            names = [self.zones[k].name for k in members]
            fit = fit_hrg(self.D[np.ix_(members, members)], names,
                          method=self.config.hrg_method, seed=self.sim.rng(f"hrg/{label}"))
            self.fits[label] = fit
            self.P[np.ix_(members, members)] = lca_probabilities(fit.tree, fit.d)
            flops += hrg_fit_flops(len(names), fit)
        self.sim.metrics.record(self.sim.now_s, 0, "sampling", {
            "expected_sampled_zones": float(expected_partners(self.P).mean()),
            "hrg_loss": float(sum(f.loss for f in self.fits.values()))})
        return flops

    def choose_partners(self, round: int) -> list[np.ndarray]:
        """Draw each zone's partners with probability ``P[z, z']``, independently."""
        assert self.P is not None
        return sample_round(self.P, self.partner_rng)

    def details(self) -> dict[str, Any]:
        """Add the fitted HRGs (one per domain) and the sampling probabilities."""
        out = super().details()
        if self.P is not None:
            out["hrg"] = [{"domain": label, "tree": fit.tree.to_nested(),
                           "zones": list(fit.names), "d": fit.d.tolist(), "loss": fit.loss,
                           "method": fit.method} for label, fit in self.fits.items()]
            out["P"] = self.P.tolist()
            out["expected_sampled_zones"] = float(expected_partners(self.P).mean())
        return out
