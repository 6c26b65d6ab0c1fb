"""Running many scenarios: in this process, over local processes, or over a Ray cluster.

A job is a resolved scenario (as a JSON-able dict); its result is a :class:`JobResult`
(summary and tidy metrics), small enough to send between processes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from tqdm import tqdm

from simfl.errors import SimflError

ExecutorName = Literal["serial", "local", "ray"]


@dataclass(frozen=True)
class JobResult:
    """One finished run: its label, summary and metrics."""

    label: str
    summary: dict[str, Any]
    metrics: pd.DataFrame


def run_job(label: str, scenario_data: dict[str, Any]) -> JobResult:
    """Validate and simulate one scenario; the unit of work of every executor."""
    from simfl.runs.runner import simulate
    from simfl.scenario.registry import validate_scenario

    result = simulate(validate_scenario(scenario_data))
    return JobResult(label, result.summary, result.metrics)


def run_jobs(
    jobs: Sequence[tuple[str, dict[str, Any]]],
    *,
    executor: ExecutorName = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    job_fn: Callable[[str, dict[str, Any]], JobResult] = run_job,
) -> list[JobResult]:
    """Run every ``(label, scenario_data)`` job and return the results in job order.

    Parameters
    ----------
    executor
        ``"serial"``: one after another here. ``"local"``: a pool of ``workers`` processes
        (spawned, so each has its own torch state). ``"ray"``: tasks on the Ray cluster at
        ``address`` (``"auto"`` or ``ray://host:port``; None starts a local one).
    """
    bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=not progress, leave=False)
    try:
        if executor == "serial" or len(jobs) <= 1:
            out = []
            for label, data in jobs:
                out.append(job_fn(label, data))
                bar.update()
            return out
        if executor == "local":
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(job_fn, label, data) for label, data in jobs]
                results = []
                for fut in futures:
                    results.append(fut.result())
                    bar.update()
                return results
        if executor == "ray":
            return _run_on_ray(jobs, address, workers, bar, job_fn)
        raise SimflError(f"executor {executor!r} is unknown; choose serial, local or ray")
    finally:
        bar.close()


def _run_on_ray(
    jobs: Sequence[tuple[str, dict[str, Any]]],
    address: str | None,
    workers: int | None,
    bar: tqdm,  # type: ignore[type-arg,unused-ignore]
    job_fn: Callable[[str, dict[str, Any]], JobResult],
) -> list[JobResult]:
    try:
        import ray
    except ImportError:
        raise SimflError("the ray executor needs Ray: pip install 'simfl[ray]' "
                         "(or use --executor local)") from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    try:
        remote = ray.remote(num_cpus=1)(job_fn)
        refs = [remote.remote(label, data) for label, data in jobs]
        results = []
        for ref in refs:
            results.append(ray.get(ref))
            bar.update()
        return results
    finally:
        if started_here:
            ray.shutdown()
