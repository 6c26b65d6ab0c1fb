"""Tests of simfl.orbits.fetch against a local HTTP server (never the internet)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from simfl.errors import OrbitError
from simfl.orbits.catalog import load_elements
from simfl.orbits.fetch import fetch_celestrak_group, meta_path_for
from simfl.orbits.tle import load_tle
from simfl.orbits.walker import walker_delta

SHELL = walker_delta(53.0, 6, 2, 1, 550.0, datetime(2026, 2, 24, tzinfo=UTC))
TLE_BODY = "".join(f"{e.name:<24}\r\n{e.line1}\r\n{e.line2}\r\n" for e in SHELL)
JSON_BODY = json.dumps(
    [
        {
            "OBJECT_NAME": e.name,
            "OBJECT_ID": "2026-900A",
            "EPOCH": "2026-02-24T00:00:00.000000",
            "MEAN_MOTION": float(e.line2[52:63]),
            "ECCENTRICITY": 0.0,
            "INCLINATION": 53.0,
            "RA_OF_ASC_NODE": float(e.line2[17:25]),
            "ARG_OF_PERICENTER": 0.0,
            "MEAN_ANOMALY": float(e.line2[43:51]),
            "EPHEMERIS_TYPE": 0,
            "CLASSIFICATION_TYPE": "U",
            "NORAD_CAT_ID": e.norad_id,
            "ELEMENT_SET_NO": 1,
            "REV_AT_EPOCH": 0,
            "BSTAR": 0.0,
            "MEAN_MOTION_DOT": 0.0,
            "MEAN_MOTION_DDOT": 0.0,
        }
        for e in SHELL
    ]
)


class _Handler(BaseHTTPRequestHandler):
    """Serves CelesTrak-like replies chosen by the GROUP query parameter."""

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        group = query.get("GROUP", [""])[0]
        status, body = 200, JSON_BODY if query.get("FORMAT") == ["json"] else TLE_BODY
        if group == "nothing":
            body = "No GP data found"
        elif group == "html":
            body = "<!DOCTYPE html><html><body>Service unavailable</body></html>"
        elif group == "corrupt":
            body = TLE_BODY.replace(SHELL[1].line2, SHELL[1].line2[:68] + "0")
        elif group == "fail":
            status, body = 500, "Internal Server Error"
        elif group == "slow":
            time.sleep(1.0)
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/gp.php"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fetch_writes_the_body_and_its_metadata(tmp_path: Path, base_url: str) -> None:
    out = fetch_celestrak_group("demo", tmp_path / "demo.tle", base_url=base_url)
    assert out.read_bytes() == TLE_BODY.encode()
    assert load_tle(out) == SHELL
    meta = json.loads(meta_path_for(out).read_text())
    assert meta["url"] == f"{base_url}?GROUP=demo&FORMAT=tle"
    assert (meta["source"], meta["group"], meta["format"], meta["count"]) == (
        "CelesTrak",
        "demo",
        "tle",
        6,
    )
    assert datetime.fromisoformat(meta["fetched_at_utc"]).tzinfo is not None


def test_fetch_json_validates_and_counts_omm_records(tmp_path: Path, base_url: str) -> None:
    out = fetch_celestrak_group("demo", tmp_path / "demo.json", fmt="json", base_url=base_url)
    assert [e.line2 for e in load_elements(out)] == [e.line2 for e in SHELL]
    meta = json.loads(meta_path_for(out).read_text())
    assert (meta["format"], meta["count"]) == ("json", 6)


def test_metadata_sits_beside_the_file() -> None:
    assert meta_path_for("data/starlink.tle") == Path("data/starlink.meta.json")


def test_group_without_data_says_the_group_name_is_probably_wrong(
    tmp_path: Path, base_url: str
) -> None:
    with pytest.raises(OrbitError, match=r"group name 'nothing' is probably wrong.*starlink"):
        fetch_celestrak_group("nothing", tmp_path / "x.tle", base_url=base_url)
    assert list(tmp_path.iterdir()) == []


def test_html_reply_is_rejected(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(OrbitError, match="replied with an HTML page"):
        fetch_celestrak_group("html", tmp_path / "x.tle", base_url=base_url)


def test_corrupt_reply_is_rejected_with_the_parse_problems(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(OrbitError) as info:
        fetch_celestrak_group("corrupt", tmp_path / "x.tle", base_url=base_url)
    assert "is not a valid tle element-set list" in info.value.problems[0]
    assert "GROUP=corrupt&FORMAT=tle:6: checksum is 0" in info.value.problems[1]
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_url_and_status(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(OrbitError, match=r"GROUP=fail&FORMAT=tle: HTTP 500"):
        fetch_celestrak_group("fail", tmp_path / "x.tle", base_url=base_url)


def test_slow_server_times_out_with_the_url(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(OrbitError, match=r"GROUP=slow&FORMAT=tle: no reply within 0.2 s"):
        fetch_celestrak_group("slow", tmp_path / "x.tle", base_url=base_url, timeout_s=0.2)


def test_refused_connection_names_the_url_and_reason(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/gp.php"
    with pytest.raises(
        OrbitError, match=rf"{url}\?GROUP=demo&FORMAT=tle: cannot connect: .*refused"
    ):
        fetch_celestrak_group("demo", tmp_path / "x.tle", base_url=url)


def test_unknown_format_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(OrbitError, match="fmt is 'xml' \\(choose one of tle, json, csv\\)"):
        fetch_celestrak_group("demo", tmp_path / "x.xml", fmt="xml")  # type: ignore[arg-type]
