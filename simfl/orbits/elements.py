"""Element sets: one satellite's orbital elements as the two TLE lines SGP4 reads.

Every source (TLE files, CelesTrak OMM JSON/CSV, the Walker generator) produces
:class:`ElementSet` objects; everything downstream (contacts, the simulator) consumes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sgp4.api import Satrec


@dataclass(frozen=True)
class ElementSet:
    """A satellite's name and its two TLE lines (69 characters each, valid checksums).

    Attributes
    ----------
    name
        Human-readable name (line 0 of a 3-line TLE, OMM ``OBJECT_NAME``, or generated).
    line1, line2
        The TLE lines exactly as SGP4 reads them.
    """

    name: str
    line1: str
    line2: str
    _satrec: Satrec | None = field(default=None, repr=False, compare=False, hash=False)

    @property
    def norad_id(self) -> int:
        """Return the NORAD catalog number (columns 3-7 of line 1; alpha-5 aware)."""
        return int(self.satrec().satnum)

    @property
    def epoch_utc(self) -> datetime:
        """Return the element-set epoch as a timezone-aware UTC datetime."""
        sat = self.satrec()
        year = 2000 + sat.epochyr if sat.epochyr < 57 else 1900 + sat.epochyr
        return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=sat.epochdays - 1.0)

    def __reduce__(self) -> tuple[type[ElementSet], tuple[str, str, str]]:
        """Pickle as the name and lines only (the cached SGP4 record is rebuilt on demand)."""
        return (ElementSet, (self.name, self.line1, self.line2))

    def satrec(self) -> Satrec:
        """Return the SGP4 record for these lines (built once, then cached)."""
        if self._satrec is None:
            object.__setattr__(self, "_satrec", Satrec.twoline2rv(self.line1, self.line2))
        assert self._satrec is not None
        return self._satrec
