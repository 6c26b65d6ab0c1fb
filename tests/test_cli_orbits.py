"""Tests of the orbital CLI commands: contacts and tle fetch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from simfl.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "orbits" / "demo_shell_12.tle"


@pytest.fixture
def sites_file(tmp_path: Path) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text("- {name: madrid, lat_deg: 40.42, lon_deg: -3.70}\n"
                    "- {name: nairobi, lat_deg: -1.29, lon_deg: 36.82, elevation_mask_deg: 15}\n")
    return path


def test_contacts_writes_a_plan_and_figures(sites_file: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.parquet"
    code = main(["contacts", "--tle", str(DEMO), "--sites", str(sites_file), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "12", "--out", str(out), "--workers", "1",
                 "--figures", str(tmp_path / "fig"), "-q"])
    assert code == 0
    plan = pd.read_parquet(out)
    assert set(plan["site"]) == {"madrid", "nairobi"}
    assert (plan["set_s"] > plan["rise_s"]).all()
    assert f"{len(plan)} passes" in capsys.readouterr().out
    for name in ("contact_gantt.png", "ground_tracks.png", "elevation.png"):
        assert (tmp_path / "fig" / name).read_bytes()[:4] == b"\x89PNG"


def test_contacts_mask_option_overrides_every_site(sites_file: Path, tmp_path: Path) -> None:
    low, high = tmp_path / "low.csv", tmp_path / "high.csv"
    base = ["contacts", "--tle", str(DEMO), "--sites", str(sites_file), "--start",
            "2026-02-24T00:00:00Z", "--hours", "12", "--workers", "1", "-q"]
    assert main([*base, "--out", str(low), "--mask-deg", "5"]) == 0
    assert main([*base, "--out", str(high), "--mask-deg", "40"]) == 0
    assert len(pd.read_csv(low)) > len(pd.read_csv(high))
    assert pd.read_csv(high)["max_elevation_deg"].min() >= 40.0


@pytest.mark.parametrize("args,message", [
    (["--hours", "-1"], "--hours -1: give a plan length in (0, 8784] hours"),
    (["--start", "yesterday"], "not an ISO 8601 time"),
    (["--out", "plan.txt"], ".parquet or .csv"),
])
def test_contacts_bad_arguments_exit_2(sites_file: Path, tmp_path: Path, args: list[str],
                                       message: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = {"--tle": str(DEMO), "--sites": str(sites_file), "--start": "2026-02-24T00:00:00Z",
            "--hours": "1", "--out": str(tmp_path / "p.parquet")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["contacts", "-q"] + [x for kv in base.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_contacts_reports_bad_sites_and_tle(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "bad.yaml"
    sites.write_text("- {name: a, lat_deg: 95, lon_deg: 0}\n- {name: b, lon_deg: 0, colour: red}\n")
    code = main(["contacts", "--tle", str(DEMO), "--sites", str(sites), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "1", "--out", str(tmp_path / "p.parquet")])
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert any("sites[0]" in line and "lat" in line for line in err)
    assert any("sites[1]" in line and "colour" in line for line in err)
    assert any("sites[1]" in line and "missing lat_deg" in line for line in err)
    tle = tmp_path / "bad.tle"
    lines = DEMO.read_text().splitlines()
    tle.write_text("\n".join([lines[0], lines[1][:-1] + "0", lines[2]]) + "\n")
    good_sites = tmp_path / "good.csv"
    good_sites.write_text("name,lat_deg,lon_deg\nmadrid,40.4,-3.7\n")
    assert main(["contacts", "--tle", str(tle), "--sites", str(good_sites), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "1", "--out",
                 str(tmp_path / "p.parquet")]) == 2
    assert "checksum" in capsys.readouterr().err


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.body = DEMO.read_bytes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/gp.php"
    httpd.shutdown()
    httpd.server_close()


def test_tle_fetch_downloads_from_the_given_server(server: str, tmp_path: Path) -> None:
    out = tmp_path / "demo.tle"
    assert main(["tle", "fetch", "demo", "--out", str(out), "--base-url", server]) == 0
    from simfl.orbits.catalog import load_elements

    assert [e.line1 for e in load_elements(out)] == [e.line1 for e in load_elements(DEMO)]


@pytest.mark.parametrize("flag", ["--cache-dir", "--figures"])
def test_contacts_output_folder_that_is_a_file_is_refused_before_work(
    flag: str, sites_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    code = main(["contacts", "--tle", str(DEMO), "--sites", str(sites_file), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "1", "--out", str(tmp_path / "p.csv"),
                 flag, str(afile)])
    assert code == 2
    assert capsys.readouterr().err == (f"error: {flag} {afile}: is a file, not a folder; give a "
                                       "folder path\n")
    assert not (tmp_path / "p.csv").exists()


def test_contacts_mask_out_of_range_blames_the_option(sites_file: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contacts", "--tle", str(DEMO), "--sites", str(sites_file), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "1", "--out", str(tmp_path / "p.csv"),
                 "--mask-deg", "100"])
    assert code == 2
    assert capsys.readouterr().err == ("error: --mask-deg 100: an elevation mask is in [0, 90) "
                                       "deg; typical masks are 10 (ground stations) to 25-40 "
                                       "(user terminals)\n")


def test_contacts_refuses_a_catalog_with_a_repeated_satellite(
    sites_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = DEMO.read_text().splitlines()
    doubled = tmp_path / "doubled.tle"
    doubled.write_text("\n".join([*lines, *lines[:3]]) + "\n")
    code = main(["contacts", "--tle", str(doubled), "--sites", str(sites_file), "--start",
                 "2026-02-24T00:00:00Z", "--hours", "1", "--out", str(tmp_path / "p.csv")])
    assert code == 2
    assert "element sets 1 (DEMO-P0-S0) and 13 (DEMO-P0-S0) are both NORAD" in \
        capsys.readouterr().err
