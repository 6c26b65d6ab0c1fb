"""Running many scenarios: in this process, over local processes, or over a Ray cluster.

A job is a resolved scenario (as a JSON-able dict); its result is a :class:`JobResult`
(summary and tidy metrics), small enough to send between processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from tqdm import tqdm

from simfl.console import install_warning_printer
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
    on_result: Callable[[int, JobResult], None] | None = None,
) -> list[JobResult]:
    """Run every ``(label, scenario_data)`` job and return the results in job order.

    ``on_result(index, result)`` is called in this process as each job finishes (studies
    store it at once, so that finished runs survive a failure or a Ctrl-C of the others).

    Parameters
    ----------
    executor
        ``"serial"``: one after another here. ``"local"``: a pool of ``workers`` processes
        (spawned, so each has its own torch state; see :func:`_run_local` for how Ctrl-C and
        a killed parent stop them). ``"ray"``: tasks on the Ray cluster at ``address``
        (``"auto"`` or ``ray://host:port``; None starts a local one).

    Raises
    ------
    SimflError
        For an unknown executor, ``workers`` below 1, Ray missing, or a job's own error
        (the first one; the other jobs are stopped).
    """
    if executor not in ("serial", "local", "ray"):
        raise SimflError(f"executor {executor!r} is unknown; choose serial, local or ray")
    if workers is not None and workers < 1:
        raise SimflError(f"workers = {workers}: give 1 or more parallel runs (or leave it "
                         "out for one per core)")
    bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=not progress, leave=False)

    def done(index: int, result: JobResult) -> None:
        bar.update()
        if on_result is not None:
            on_result(index, result)

    try:
        if executor == "ray":
            return _run_on_ray(jobs, address, workers, done, job_fn)
        if executor == "serial" or len(jobs) <= 1 or workers == 1:
            out = []
            for k, (label, data) in enumerate(jobs):
                out.append(job_fn(label, data))
                done(k, out[-1])
            return out
        return _run_local(jobs, workers, done, job_fn)
    finally:
        bar.close()


PARENT_POLL_S = 0.5
"""How often a worker checks that the process that started it is still alive."""


def _run_local(
    jobs: Sequence[tuple[str, dict[str, Any]]],
    workers: int | None,
    done: Callable[[int, JobResult], None],
    job_fn: Callable[[str, dict[str, Any]], JobResult],
) -> list[JobResult]:
    """Run the jobs on a pool of spawned processes that never outlive this one.

    Workers ignore SIGINT, so a Ctrl-C (sent by the terminal to every process of the
    group) reaches only this process, which then terminates the pool at once and re-raises
    KeyboardInterrupt; a second Ctrl-C during that is ignored. Workers also exit by
    themselves within :data:`PARENT_POLL_S` once this process is gone (killed with
    SIGKILL, say). The first failed job stops the others and its error is raised.
    """
    ctx = multiprocessing.get_context("spawn")
    count = min(workers or os.cpu_count() or 1, len(jobs))
    pool = ctx.Pool(count, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        pending = {k: pool.apply_async(job_fn, job) for k, job in enumerate(jobs)}
        results: dict[int, JobResult] = {}
        while pending:
            pending[min(pending)].wait(0.1)  # short waits: Ctrl-C is seen promptly
            for k in [k for k, job in pending.items() if job.ready()]:
                results[k] = pending.pop(k).get()  # a failed job raises its error here
                done(k, results[k])
        pool.close()
        pool.join()
        return [results[k] for k in range(len(jobs))]
    except BaseException:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            pool.terminate()
            pool.join()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        raise


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _start_worker(parent_pid: int) -> None:
    """Prepare a pool worker: leave Ctrl-C to the parent, and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_warning_printer()
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True,
                     name="simfl-parent-watch").start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _run_on_ray(
    jobs: Sequence[tuple[str, dict[str, Any]]],
    address: str | None,
    workers: int | None,
    done: Callable[[int, JobResult], None],
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
        index = {ref: k for k, ref in enumerate(refs)}
        results: dict[int, JobResult] = {}
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            k = index[ready[0]]
            results[k] = ray.get(ready[0])
            done(k, results[k])
        return [results[k] for k in range(len(jobs))]
    finally:
        if started_here:
            ray.shutdown()
