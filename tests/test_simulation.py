"""Tests of simfl.engine.simulation: the clock, the UTC epoch and the named RNG streams."""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
import simpy

from simfl.engine.simulation import Simulation, stream_seed

EPOCH = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def draws(gen: np.random.Generator) -> list[float]:
    return [float(x) for x in gen.random(5)]


def test_same_seed_and_name_give_same_stream() -> None:
    assert draws(Simulation(EPOCH, 7).rng("partition")) == draws(
        Simulation(EPOCH, 7).rng("partition")
    )


def test_stream_does_not_depend_on_creation_order() -> None:
    first = Simulation(EPOCH, 7)
    first.rng("a")
    first.rng("b").random(100)
    second = Simulation(EPOCH, 7)
    second.rng("b")
    assert draws(first.rng("a")) == draws(second.rng("a"))


def test_different_names_give_different_streams() -> None:
    sim = Simulation(EPOCH, 7)
    assert draws(sim.rng("partition")) != draws(sim.rng("availability"))


def test_different_seeds_give_different_streams() -> None:
    assert draws(Simulation(EPOCH, 7).rng("x")) != draws(Simulation(EPOCH, 8).rng("x"))


def test_rng_is_shared_per_name() -> None:
    sim = Simulation(EPOCH, 7)
    head = draws(sim.rng("x"))
    tail = draws(sim.rng("x"))
    reference = Simulation(EPOCH, 7).rng("x").random(10)
    assert sim.rng("x") is sim.rng("x")
    assert head + tail == [float(v) for v in reference]


def test_fresh_rng_restarts_the_stream_and_is_not_shared() -> None:
    sim = Simulation(EPOCH, 7)
    shared_head = draws(sim.rng("x"))
    fresh = sim.fresh_rng("x")
    assert fresh is not sim.rng("x")
    assert draws(fresh) == shared_head
    assert draws(sim.fresh_rng("x")) == shared_head


def test_stream_seed_hashes_name_with_blake2b() -> None:
    digest = hashlib.blake2b(b"partition", digest_size=8).digest()
    seq = stream_seed(42, "partition")
    assert seq.entropy == [42, int.from_bytes(digest, "little")]


def test_utc_maps_seconds_to_the_epoch() -> None:
    sim = Simulation(EPOCH, 0)
    assert sim.utc(90.5) == EPOCH + timedelta(seconds=90.5)
    assert sim.utc(0.0) == EPOCH


def test_utc_defaults_to_now() -> None:
    sim = Simulation(EPOCH, 0)
    sim.env.run(until=3600.0)
    assert sim.now_s == 3600.0
    assert sim.utc() == datetime(2024, 3, 1, 13, 0, 0, tzinfo=UTC)


def test_epoch_in_other_timezone_is_converted_to_utc() -> None:
    local = datetime(2024, 3, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    sim = Simulation(local, 0)
    assert sim.epoch_utc.utcoffset() == timedelta(0)
    assert sim.epoch_utc == EPOCH


def test_naive_epoch_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        Simulation(datetime(2024, 3, 1), 0)


def test_timeout_and_process_advance_the_clock() -> None:
    sim = Simulation(EPOCH, 0)
    seen: list[float] = []

    def actor() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(2.5)
        seen.append(sim.now_s)
        yield sim.timeout(1.0)
        seen.append(sim.now_s)

    sim.process(actor())
    sim.env.run()
    assert seen == [2.5, 3.5]
    assert isinstance(sim.now_s, float)
