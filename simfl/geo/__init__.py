"""simfl.geo: zones on the ground (areas, positions, neighbours) and the files that hold them.

Pure building blocks without SimPy. A :class:`Zone` is a name and an area: a
:class:`PolygonArea` (lat/lon vertices, holes and several parts allowed), a
:class:`CircleArea` (centre and great-circle radius in km) or a :class:`GridCell` (a lat/lon
box). Its position is the area's centroid. :func:`zone_index` says which zone each point is
in; :func:`neighbours` which zones touch (shared edge or corner, overlap, or a gap below a
tolerance in km); :func:`distance_matrix_km` how far apart zone positions are.
Zones are read from GeoJSON (:func:`read_geojson_zones`) or CSV with a WKT polygon column
(:func:`read_wkt_zones`), or laid out as a grid (:func:`grid_zones`).
"""

from simfl.geo.adjacency import DEFAULT_TOLERANCE_KM, adjacency_matrix, touches
from simfl.geo.areas import KM_PER_DEG, Area, CircleArea, GridCell, PolygonArea
from simfl.geo.grid import grid_zones
from simfl.geo.zone_files import (
    parse_wkt_polygons,
    read_geojson_zones,
    read_wkt_zones,
    write_geojson_zones,
)
from simfl.geo.zones import (
    OUTSIDE,
    Zone,
    check_zones,
    distance_matrix_km,
    neighbour_matrix,
    neighbours,
    positions_deg,
    zone_index,
)

__all__ = [
    "DEFAULT_TOLERANCE_KM",
    "KM_PER_DEG",
    "OUTSIDE",
    "Area",
    "CircleArea",
    "GridCell",
    "PolygonArea",
    "Zone",
    "adjacency_matrix",
    "check_zones",
    "distance_matrix_km",
    "grid_zones",
    "neighbour_matrix",
    "neighbours",
    "parse_wkt_polygons",
    "positions_deg",
    "read_geojson_zones",
    "read_wkt_zones",
    "touches",
    "write_geojson_zones",
    "zone_index",
]
