"""Scenario sections of geographic data: generated workouts in zones, and FitRec's file.

``data.dataset: geo_workouts`` generates heart-rate workouts of users in zones of a few
countries, with a hidden hierarchy of zone behaviours (:mod:`simfl.learning.geo_workouts`);
``data.dataset: fitrec`` reads FitRec/Endomondo's ``endomondoHR_proper.json`` (``data.path``)
and puts each workout in the zone its first point lies in, zones from a GeoJSON or WKT-CSV
file or a lat/lon grid. Users are clients, with their own test workouts; their zones become
the client groups with ``groups.assignment: zones`` (SGFusion, arXiv 2510.23455).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simfl.scenario import geo_rules, rules


def _raise(messages: list[str]) -> None:
    if messages:
        raise ValueError(rules.RULE_SEPARATOR.join(messages))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountryConfig(_Section):
    """A country of generated zones: a built-in one by name, or a box of your own.

    A built-in name (germany, spain, poland, norway, thailand, usa) takes its box from
    :data:`simfl.learning.geo_workouts.COUNTRIES`; ``rows`` x ``cols`` grid cells are its
    zones. Another name needs the four box edges. In a list of countries a bare name
    (``spain``) is a built-in country.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.]+$")
    lat_min_deg: float | None = Field(None, ge=-90, le=90)
    lat_max_deg: float | None = Field(None, ge=-90, le=90)
    lon_min_deg: float | None = Field(None, ge=-180, le=180)
    lon_max_deg: float | None = Field(None, ge=-180, le=180)
    rows: int | None = Field(None, gt=0)
    cols: int | None = Field(None, gt=0)

    def __repr__(self) -> str:
        """Return what a scenario would say: the bare name, or the keys that are set."""
        given = self.model_dump(exclude_defaults=True)
        return repr(given["name"]) if list(given) == ["name"] else repr(given)

    @model_validator(mode="after")
    def _box_known(self) -> CountryConfig:
        _raise(geo_rules.country_rule(self.name, [self.lat_min_deg, self.lat_max_deg,
                                                  self.lon_min_deg, self.lon_max_deg]))
        return self


class GeoWorkoutsSection(_Section):
    """Generated geographic heart-rate workouts (``data.dataset: geo_workouts``).

    Countries are cut into grid-cell zones; a hidden random tree over the zones decides how
    alike their users' heart-rate responses are. Each user has ``2 + Poisson(workouts - 2)``
    workouts of ``seq_len`` steps, ``test_fraction`` of them held out as its own test data.
    ``target: sequence`` predicts the heart rate at every step (a per-step model kind);
    ``last`` only at the last step. ``context`` appends the user's previous workout to every
    step's inputs (as FitRec's and SGFusion's model read it).
    """

    countries: list[CountryConfig] = Field(["germany", "spain", "poland"],
                                           validate_default=True)
    users_per_zone: float = Field(4.0, ge=1)
    workouts_per_user: float = Field(10.0, ge=2)
    test_fraction: float = Field(0.25, gt=0, lt=1)
    seq_len: int = Field(50, ge=2)
    step_s: float = Field(10.0, gt=0)
    noise_bpm: float = Field(3.0, ge=0)
    hierarchy_spread: float = Field(2.0, ge=0)
    user_spread: float = Field(0.3, ge=0)
    target: Literal["sequence", "last"] = "sequence"
    context: bool = False

    @field_validator("countries", mode="before")
    @classmethod
    def _names_are_countries(cls, value: object) -> object:
        """A bare name stands for a built-in country: ``spain`` is ``{name: spain}``."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _countries_unique(self) -> GeoWorkoutsSection:
        _raise(geo_rules.countries_rule([c.name for c in self.countries]))
        return self


class GridZonesConfig(_Section):
    """A lat/lon grid of zones over a box; cells sized in degrees or km (give one)."""

    lat_min_deg: float = Field(ge=-90, le=90)
    lat_max_deg: float = Field(ge=-90, le=90)
    lon_min_deg: float = Field(ge=-180, le=180)
    lon_max_deg: float = Field(ge=-180, le=180)
    cell_deg: float | None = Field(None, gt=0, le=180)
    cell_km: float | None = Field(None, gt=0)
    prefix: str = "cell"

    @model_validator(mode="after")
    def _one_size(self) -> GridZonesConfig:
        _raise(geo_rules.one_of_rule("cell_deg", self.cell_deg, "cell_km", self.cell_km))
        return self


class ZonesSourceConfig(_Section):
    """Where zones come from: a ``file`` (GeoJSON FeatureCollection, or CSV with a WKT
    polygon column) or a ``grid``. ``name_property`` is the GeoJSON property or CSV column of
    the zone names; ``wkt_column`` the CSV's geometry column (default ``wkt`` or ``geometry``).
    """

    file: Path | None = None
    name_property: str = "name"
    wkt_column: str | None = None
    grid: GridZonesConfig | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ZonesSourceConfig:
        _raise(geo_rules.one_of_rule("file", self.file, "grid", self.grid))
        return self


class FitRecSection(_Section):
    """FitRec/Endomondo workouts (``data.dataset: fitrec``, ``data.path`` the JSON file).

    Each workout is its first ``seq_len`` points; a client is a (zone, user) pair with at
    least ``min_workouts`` workouts starting in the zone, ``test_fraction`` of them its own
    test data. ``sports`` keeps only those sports; ``max_workouts`` stops reading early.
    """

    zones: ZonesSourceConfig | None = None
    sports: list[str] | None = None
    seq_len: int = Field(450, ge=2)
    max_workouts: int | None = Field(None, gt=0)
    time_input: Literal["elapsed", "total"] = "elapsed"
    z_multiple: float = Field(1.0, gt=0)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    min_workouts: int = Field(2, ge=2)
    context: bool = False
    skip_bad_lines: bool = False
