"""Running a scenario: simulate in memory, or write a run directory."""

from simfl.runs.directory import write_run_directory
from simfl.runs.runner import RunResult, simulate

__all__ = ["RunResult", "simulate", "write_run_directory"]
