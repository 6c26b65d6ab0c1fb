"""simfl.orbits: element sets (TLE, OMM, Walker shells, CelesTrak fetch) and orbital geometry.

Names are imported on first use (PEP 562): importing one module of this package (the
contact cache from ``simfl validate``, the TLE reader) loads only what it needs.
"""

from __future__ import annotations

from simfl.lazy import lazy_attributes

_LAZY = {
    "EcefStates": "simfl.orbits.propagate",
    "ElementSet": "simfl.orbits.elements",
    "GroundRegion": "simfl.orbits.regions",
    "GroundSite": "simfl.orbits.sites",
    "compute_contacts": "simfl.orbits.contacts",
    "compute_isl_windows": "simfl.orbits.isl",
    "contact_plan_key": "simfl.orbits.cache",
    "element_set_from_omm": "simfl.orbits.omm",
    "elevation_deg": "simfl.orbits.contacts",
    "fetch_celestrak_group": "simfl.orbits.fetch",
    "format_tle_line": "simfl.orbits.tle",
    "ground_tracks": "simfl.orbits.ground_track",
    "isl_range_km": "simfl.orbits.isl",
    "load_elements": "simfl.orbits.catalog",
    "load_omm_csv": "simfl.orbits.omm",
    "load_omm_json": "simfl.orbits.omm",
    "load_tle": "simfl.orbits.tle",
    "parse_omm_csv_text": "simfl.orbits.omm",
    "parse_omm_json_text": "simfl.orbits.omm",
    "parse_tle_text": "simfl.orbits.tle",
    "planes_of": "simfl.orbits.planes",
    "propagate_ecef": "simfl.orbits.propagate",
    "regions_along_ground_track": "simfl.orbits.regions",
    "sample_points_in_region": "simfl.orbits.regions",
    "select": "simfl.orbits.catalog",
    "slant_range_km": "simfl.orbits.contacts",
    "tle_checksum": "simfl.orbits.tle",
    "tle_lines_from_elements": "simfl.orbits.tle",
    "walker_delta": "simfl.orbits.walker",
    "write_shipped_shells": "simfl.orbits.walker",
    "write_tle": "simfl.orbits.tle",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
