"""The simulation: a SimPy environment with a UTC epoch, named RNG streams and a trace.

This is the only object that owns the clock. Algorithms receive it explicitly (nothing is
global) and use the primitives in :mod:`simfl.engine.actions` to spend simulated time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import simpy

from simfl.engine.metrics import Metrics
from simfl.engine.trace import Trace


def stream_seed(root_seed: int, name: str) -> np.random.SeedSequence:
    """Return the seed sequence of stream ``name`` under ``root_seed`` (stable across runs).

    The name is hashed with BLAKE2b (not Python's salted ``hash``), so the same root seed and
    name give the same stream in every process and on every machine.
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return np.random.SeedSequence([int(root_seed), int.from_bytes(digest, "little")])


class Simulation:
    """A discrete-event simulation of one scenario run.

    Parameters
    ----------
    epoch_utc
        The UTC instant that simulated time 0 corresponds to (contact plans use it).
    seed
        The root seed; every random choice comes from a named stream derived from it.

    Attributes
    ----------
    env
        The ``simpy.Environment``; ``env.now`` is seconds since ``epoch_utc``.
    trace
        Every timed event of the run.
    metrics
        Every measured metric of the run (tidy rows).
    """

    def __init__(self, epoch_utc: datetime, seed: int) -> None:
        if epoch_utc.tzinfo is None:
            raise ValueError(f"epoch_utc {epoch_utc} must be timezone-aware (UTC)")
        self.epoch_utc = epoch_utc.astimezone(UTC)
        self.seed = int(seed)
        self.env = simpy.Environment()
        self.trace = Trace()
        self.metrics = Metrics()
        self._rngs: dict[str, np.random.Generator] = {}

    @property
    def now_s(self) -> float:
        """Return the current simulated time in seconds since the epoch."""
        return float(self.env.now)

    def utc(self, t_s: float | None = None) -> datetime:
        """Return the UTC instant of simulated time ``t_s`` (default: now)."""
        return self.epoch_utc + timedelta(seconds=self.now_s if t_s is None else float(t_s))

    def rng(self, name: str) -> np.random.Generator:
        """Return the named random stream (created on first use, then shared).

        Streams are independent of each other and of the order in which they are created,
        so adding a new stream never changes the numbers an existing one draws.
        """
        gen = self._rngs.get(name)
        if gen is None:
            gen = np.random.default_rng(stream_seed(self.seed, name))
            self._rngs[name] = gen
        return gen

    def fresh_rng(self, name: str) -> np.random.Generator:
        """Return a new generator for ``name`` that is not shared (same name, same numbers)."""
        return np.random.default_rng(stream_seed(self.seed, name))

    def process(self, generator: Any) -> simpy.Process:
        """Start a SimPy process (a generator yielding events) and return it."""
        return self.env.process(generator)

    def timeout(self, delay_s: float) -> simpy.Timeout:
        """Return an event that fires after ``delay_s`` simulated seconds."""
        return self.env.timeout(delay_s)
