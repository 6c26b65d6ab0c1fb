"""Tests of simfl.geo.zone_files: GeoJSON and WKT CSV zone files, written small by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simfl.errors import DataError, SimflError
from simfl.geo import (
    CircleArea,
    GridCell,
    PolygonArea,
    Zone,
    grid_zones,
    parse_wkt_polygons,
    read_geojson_zones,
    read_wkt_zones,
    write_geojson_zones,
)

SQUARE_LONLAT = [[10.0, 50.0], [11.0, 50.0], [11.0, 51.0], [10.0, 51.0], [10.0, 50.0]]


def _feature(name: Any, geometry: Any, key: str = "name") -> dict[str, Any]:
    return {"type": "Feature", "properties": {key: name}, "geometry": geometry}


def _write(path: Path, features: list[Any]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_geojson_polygon_and_multipolygon_are_read_in_file_order(tmp_path: Path) -> None:
    hole = [[10.2, 50.2], [10.8, 50.2], [10.8, 50.8], [10.2, 50.2]]
    far = [[20.0, 40.0], [21.0, 40.0], [21.0, 41.0], [20.0, 40.0]]
    path = _write(tmp_path / "z.geojson", [
        _feature("Oslo", {"type": "Polygon", "coordinates": [SQUARE_LONLAT, hole]}),
        _feature(7, {"type": "MultiPolygon", "coordinates": [[SQUARE_LONLAT], [far]]}),
    ])
    zones = read_geojson_zones(path)
    assert [z.name for z in zones] == ["Oslo", "7"]
    first = zones[0].area
    assert isinstance(first, PolygonArea) and len(first.polygons[0]) == 2
    assert zones[0].contains(50.1, 10.1) and not zones[0].contains(50.5, 10.5)
    assert zones[1].contains(40.1, 20.9)


def test_geojson_round_trip_of_a_grid(tmp_path: Path) -> None:
    zones = grid_zones(50.0, 52.0, 10.0, 12.0, cell_deg=1.0)
    back = read_geojson_zones(write_geojson_zones(zones, tmp_path / "grid.geojson"))
    assert [z.name for z in back] == [z.name for z in zones]
    assert [z.lat_deg for z in back] == pytest.approx([z.lat_deg for z in zones])
    assert [z.lon_deg for z in back] == pytest.approx([z.lon_deg for z in zones])


def test_writing_a_circle_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimflError, match="is a circle, which GeoJSON cannot hold"):
        write_geojson_zones([Zone("c", CircleArea(0, 0, 10))], tmp_path / "c.geojson")


def test_custom_name_property(tmp_path: Path) -> None:
    path = _write(tmp_path / "z.json", [
        _feature("Bergen", {"type": "Polygon", "coordinates": [SQUARE_LONLAT]}, key="NAME_1")])
    assert read_geojson_zones(path, name_property="NAME_1")[0].name == "Bergen"


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(DataError, match=r"bad.geojson:2:15: invalid JSON"):
        read_geojson_zones(path)


def test_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(_feature("a", None)))
    with pytest.raises(DataError, match="top level is 'Feature', not a GeoJSON FeatureCollection"):
        read_geojson_zones(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_geojson_zones(tmp_path / "nowhere.geojson")


def test_every_bad_feature_gets_one_line(tmp_path: Path) -> None:
    swapped = [[lat, lon] for lon, lat in SQUARE_LONLAT]
    swapped[1] = [50.0, 100.0]  # latitude 100 after the swap back
    path = _write(tmp_path / "z.geojson", [
        _feature("ok", {"type": "Polygon", "coordinates": [SQUARE_LONLAT]}),
        {"type": "Feature", "properties": {"id": 3},
         "geometry": {"type": "Polygon", "coordinates": [SQUARE_LONLAT]}},
        _feature("pt", {"type": "Point", "coordinates": [10.0, 50.0]}),
        _feature("swap", {"type": "Polygon", "coordinates": [swapped]}),
        _feature("ok", {"type": "Polygon", "coordinates": [SQUARE_LONLAT]}),
        _feature("ragged", {"type": "Polygon", "coordinates": [[[1, 2], [3], [4, 5]]]}),
    ])
    with pytest.raises(DataError) as info:
        read_geojson_zones(path)
    lines = info.value.problems
    assert len(lines) == 5
    assert "feature 1: no 'name' property (properties: ['id'])" in lines[0]
    assert "feature 2 ('pt'): geometry type 'Point' is not supported" in lines[1]
    assert "feature 3 ('swap'): polygon: vertex 1 has latitude 100.0" in lines[2]
    assert "feature 5 ('ragged'): coordinates are not lists of [lon, lat]" in lines[3]
    assert "zone name 'ok' appears 2 times" in lines[4]


def test_empty_feature_collection(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no features"):
        read_geojson_zones(_write(tmp_path / "e.geojson", []))


def test_wkt_csv_with_a_geometry_column_as_the_sgfusion_files(tmp_path: Path) -> None:
    path = tmp_path / "Norway_provinces.csv"
    path.write_text(
        "name,uids,geometry\n"
        'Viken,"[1, 2]","POLYGON ((10 59, 11 59, 11 60, 10 60, 10 59))"\n'
        'Nordland,[],"MULTIPOLYGON (((13 66, 14 66, 14 67, 13 66)),'
        ' ((15 68, 16 68, 16 69, 15 68)))"\n'
    )
    zones = read_wkt_zones(path)
    assert [z.name for z in zones] == ["Viken", "Nordland"]
    assert zones[0].contains(59.5, 10.5) and zones[1].contains(68.2, 15.9)


def test_wkt_columns_may_be_named_and_z_values_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text('zone,x\na,"POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))"\n')
    zones = read_wkt_zones(path, name_column="zone", wkt_column="x")
    assert zones[0].contains(0.2, 0.8)


def test_unquoted_wkt_is_caught_by_its_field_count(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("name,wkt\na,POLYGON ((0 0, 1 0, 1 1, 0 0))\n")
    with pytest.raises(DataError, match=r"z.csv:2: 5 fields but the header has 2; quote WKT"):
        read_wkt_zones(path)


def test_wkt_problems_name_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text(
        "name,wkt\n"
        'a,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n'
        'b,"LINESTRING (0 0, 1 1)"\n'
        ',"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n'
        'd,"POLYGON ((0 0, 1 0, 1 1, 0 0)"\n'
        'e,"POLYGON ((0 0, 1 x, 1 1, 0 0))"\n'
    )
    with pytest.raises(DataError) as info:
        read_wkt_zones(path)
    lines = info.value.problems
    assert len(lines) == 4
    assert "z.csv:3 ('b'): WKT geometry LINESTRING is not supported" in lines[0]
    assert "z.csv:4: empty 'name'" in lines[1]
    assert "z.csv:5 ('d'): WKT: missing ')'" in lines[2]
    assert "z.csv:6 ('e'): WKT: 'x' is not a number" in lines[3]


def test_wkt_csv_without_a_wkt_column(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("name,shape\na,b\n")
    with pytest.raises(DataError, match=r"z.csv:1: header \['name', 'shape'\] lacks column "
                                        r"'wkt' or 'geometry'"):
        read_wkt_zones(path)


def test_parse_wkt_polygon_with_a_hole() -> None:
    parts = parse_wkt_polygons("polygon((0 0,4 0,4 4,0 0),(1 1, 2 1, 2 2, 1 1))")
    assert len(parts) == 1 and len(parts[0]) == 2 and parts[0][1][0] == [1.0, 1.0]


def test_parse_wkt_rejects_polygon_nesting_of_a_multipolygon() -> None:
    with pytest.raises(ValueError, match="parentheses nest 4 deep"):
        parse_wkt_polygons("POLYGON (((0 0, 1 0, 1 1, 0 0)))")


def test_grid_cell_zones_survive_the_file_as_polygons(tmp_path: Path) -> None:
    zones = [Zone("c", GridCell(0.0, 1.0, 0.0, 1.0))]
    back = read_geojson_zones(write_geojson_zones(zones, tmp_path / "c.geojson"))
    assert back[0].area.area_km2() == pytest.approx(zones[0].area.area_km2(), rel=1e-12)
