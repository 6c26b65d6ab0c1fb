"""Errors that simfl shows to users: each names the bad value, the rule and the fix.

Every user-facing problem is a :class:`SimflError`. The CLI prints ``str(error)`` (one line
per problem) and exits with code 2; it never prints a traceback for these.
"""

from __future__ import annotations

from collections.abc import Iterable


class SimflError(Exception):
    """Base class of every error caused by user input (files, YAML, arguments).

    Parameters
    ----------
    problems
        One message per problem. Each message is a single line that names where the problem
        is (file, YAML path or line), what is wrong and what is allowed.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if not self.problems:
            raise ValueError("SimflError needs at least one problem message")
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[type[SimflError], tuple[list[str]]]:
        """Pickle with the problem list, so an error raised in a worker process keeps its lines."""
        return (type(self), (self.problems,))


MAX_PROBLEMS = 50  # lines shown of one error; a file broken everywhere is not listed whole


def capped(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """Return the first ``limit`` problems, plus a last line counting the others."""
    if len(problems) <= limit:
        return problems
    return [*problems[:limit], f"... and {len(problems) - limit} more problems"]


class ScenarioError(SimflError):
    """A scenario file (or its overrides) is malformed or invalid."""


class DataError(SimflError):
    """A dataset file is missing or not in the expected format."""


class OrbitError(SimflError):
    """A TLE/OMM file is malformed, or an orbital computation got impossible input."""
