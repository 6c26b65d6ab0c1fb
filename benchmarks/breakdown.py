"""Where a run's wall time goes: timed sections wrapped around simfl's own functions.

The benchmarks (``scale.py``, ``fedmeld_dense.py``) wrap a few functions of simfl with
:meth:`Breakdown.wrap`; each call's wall and CPU seconds go to its section, exclusive of
nested sections (a contact plan computed inside world building counts as contacts, not as
world). What no section covers (SimPy events, the algorithms' bookkeeping, trace
recording) is the remainder of the total. Wrapping adds about a microsecond per call.
"""

from __future__ import annotations

import functools
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Breakdown:
    """Accumulates exclusive wall and CPU seconds per named section."""

    def __init__(self) -> None:
        self.wall_s: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [name, wall at (re)start, cpu at (re)start]

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Time the body as ``name`` (pausing the enclosing section meanwhile)."""
        wall, cpu = time.perf_counter(), time.process_time()
        if self._stack:
            self._charge(self._stack[-1], wall, cpu)
        self._stack.append([name, wall, cpu])
        self.calls[name] = self.calls.get(name, 0) + 1
        try:
            yield
        finally:
            wall, cpu = time.perf_counter(), time.process_time()
            self._charge(self._stack.pop(), wall, cpu)
            if self._stack:
                self._stack[-1][1:] = [wall, cpu]

    def _charge(self, frame: list[Any], wall: float, cpu: float) -> None:
        name = frame[0]
        self.wall_s[name] = self.wall_s.get(name, 0.0) + wall - frame[1]
        self.cpu_s[name] = self.cpu_s.get(name, 0.0) + cpu - frame[2]

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Replace ``owner.attribute`` (a function, method or bound method) by a timed one."""
        original: Callable[..., Any] = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.section(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)

    def rows(self, total_wall_s: float, total_cpu_s: float,
             remainder: str) -> list[tuple[str, float, float]]:
        """Return (section, wall s, CPU s) rows with the uncovered ``remainder`` added."""
        out = [(k, self.wall_s[k], self.cpu_s[k]) for k in self.wall_s]
        out.append((remainder, total_wall_s - sum(self.wall_s.values()),
                    total_cpu_s - sum(self.cpu_s.values())))
        return out


def peak_rss_bytes() -> int:
    """Return this process's peak resident memory in bytes (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def machine_load() -> str:
    """Return the 1, 5 and 15 minute load averages and the core count, as text."""
    import os

    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
