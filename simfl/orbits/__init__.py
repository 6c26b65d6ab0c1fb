"""simfl.orbits: element sets (TLE, OMM, Walker shells, CelesTrak fetch) and orbital geometry."""

from simfl.orbits.cache import contact_plan_key
from simfl.orbits.catalog import load_elements, select
from simfl.orbits.contacts import compute_contacts, elevation_deg, slant_range_km
from simfl.orbits.elements import ElementSet
from simfl.orbits.fetch import fetch_celestrak_group
from simfl.orbits.ground_track import ground_tracks
from simfl.orbits.isl import compute_isl_windows, isl_range_km
from simfl.orbits.omm import (
    element_set_from_omm,
    load_omm_csv,
    load_omm_json,
    parse_omm_csv_text,
    parse_omm_json_text,
)
from simfl.orbits.planes import planes_of
from simfl.orbits.propagate import EcefStates, propagate_ecef
from simfl.orbits.regions import (
    GroundRegion,
    regions_along_ground_track,
    sample_points_in_region,
)
from simfl.orbits.sites import GroundSite
from simfl.orbits.tle import (
    format_tle_line,
    load_tle,
    parse_tle_text,
    tle_checksum,
    tle_lines_from_elements,
    write_tle,
)
from simfl.orbits.walker import walker_delta, write_shipped_shells

__all__ = [
    "EcefStates",
    "ElementSet",
    "GroundRegion",
    "GroundSite",
    "compute_contacts",
    "compute_isl_windows",
    "contact_plan_key",
    "element_set_from_omm",
    "elevation_deg",
    "fetch_celestrak_group",
    "format_tle_line",
    "ground_tracks",
    "isl_range_km",
    "load_elements",
    "load_omm_csv",
    "load_omm_json",
    "load_tle",
    "parse_omm_csv_text",
    "parse_omm_json_text",
    "parse_tle_text",
    "planes_of",
    "propagate_ecef",
    "regions_along_ground_track",
    "sample_points_in_region",
    "select",
    "slant_range_km",
    "tle_checksum",
    "tle_lines_from_elements",
    "walker_delta",
    "write_shipped_shells",
    "write_tle",
]
