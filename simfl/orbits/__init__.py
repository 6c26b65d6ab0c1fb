"""simfl.orbits: element sets (TLE, OMM, Walker shells, CelesTrak fetch) and orbital geometry."""

from simfl.orbits.catalog import load_elements, select
from simfl.orbits.elements import ElementSet
from simfl.orbits.fetch import fetch_celestrak_group
from simfl.orbits.omm import (
    element_set_from_omm,
    load_omm_csv,
    load_omm_json,
    parse_omm_csv_text,
    parse_omm_json_text,
)
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
    "ElementSet",
    "element_set_from_omm",
    "fetch_celestrak_group",
    "format_tle_line",
    "load_elements",
    "load_omm_csv",
    "load_omm_json",
    "load_tle",
    "parse_omm_csv_text",
    "parse_omm_json_text",
    "parse_tle_text",
    "select",
    "tle_checksum",
    "tle_lines_from_elements",
    "walker_delta",
    "write_shipped_shells",
    "write_tle",
]
