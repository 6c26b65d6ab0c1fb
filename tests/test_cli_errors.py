"""Tests of the simfl command line on bad input: one line per problem, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simfl.cli import EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def test_exit_code_for_bad_input_is_2() -> None:
    assert EXIT_USAGE == 2


def test_validate_ok_prints_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(QUICKSTART))
    assert (code, err) == (0, [])
    assert out == (f"{QUICKSTART}: valid scenario 'quickstart' (fedavg, 60 rounds, digits over "
                   "50 clients, seed 0)\n")


def test_validate_summary_shows_overrides_and_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "validate", str(QUICKSTART), "-o", "algorithm.rounds=3",
                           "--override", "partition.num_clients=9", "--seed", "7")
    assert code == 0
    assert out.endswith("(fedavg, 3 rounds, digits over 9 clients, seed 7)\n")


BROKEN = {
    "malformed": (
        "name: a\ndata:\n  dataset: digits\n   test_fraction: 0.3\n",
        ["{f}:4: malformed YAML: mapping values are not allowed here; "
         "check indentation, colons and quotes"],
    ),
    "tab": (
        "name: a\ndata:\n\tdataset: digits\n",
        ["{f}:3: malformed YAML: found character '\\t' that cannot start any token (while "
         "scanning for the next token); YAML indents with spaces, never tabs"],
    ),
    "empty": ("", ["{f}: the file is empty; a scenario is a YAML mapping of sections"]),
    "list": (
        "- name: a\n",
        ["{f}:1: the top level must be a mapping of sections (name:, data:, algorithm:, ...), "
         "not a sequence"],
    ),
    "duplicates": (
        "name: a\nseed: 1\nseed: 2\nepoch: 2020-13-45\n",
        ["{f}:3: seed is given twice (first on line 2); keep one",
         "{f}:4: epoch: cannot read '2020-13-45' (month must be in 1..12); write a plain value, "
         "e.g. a number, text or 2026-02-24T12:00:00Z"],
    ),
    "values": (
        "name: a\nseed: x\npartition:\n  clients: 10\ntraining:\n  epochs: 2\n  steps: 3\n"
        "network:\n  device_cloud:\n    up_rate_bps: 10 MB\n",
        ["{f}:2: seed: expected a whole number, got 'x'",
         "{f}:4: partition.clients: unknown key; did you mean 'num_clients'? allowed keys here "
         "are: alpha, groups, label_assignment, labels_per_client, min_samples_per_client, "
         "num_clients, scheme",
         "{f}:5: training: set exactly one of training.epochs and training.steps "
         "(set the other to null)",
         "{f}:10: network.device_cloud.up_rate_bps: '10 MB' is a size, not a rate; write it like "
         "'10 Mbps' or '1.5 Gbps' (a bare number is bit/s)"],
    ),
    "mnist_without_path": (
        "name: a\ndata:\n  dataset: mnist\n",
        ["{f}:2: data: dataset 'mnist' is read from files: set data.path to the directory that "
         "holds them (the built-in datasets are 'digits', 'synthetic' and 'geo_workouts')"],
    ),
    "missing_name": ("seed: 1\n", ["{f}: name: is required but missing; add it"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validate_broken_file_lists_every_problem(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BROKEN[case]
    path = write(tmp_path, text)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert (code, out) == (2, "")
    assert err == ["error: " + line.format(f=path) for line in expected]


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code, _, err = run_cli(capsys, "validate", str(missing))
    assert (code, err) == (2, [f"error: {missing}: no such scenario file; check the path "
                               f"(cwd: {Path.cwd()})"])


def test_validate_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", str(tmp_path))
    assert (code, err) == (2, [f"error: {tmp_path}: is a directory; give a scenario .yaml file"])


def test_validate_bad_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", str(QUICKSTART), "-o", "foo", "-o", "name.x=1")
    assert code == 2
    assert err == [
        f"error: {QUICKSTART}: override 'foo' has no '='; write it as a.b.c=value, "
        "e.g. algorithm.rounds=20",
        f"error: {QUICKSTART}: override 'name.x=1': name is 'quickstart', a single value, so "
        "it has no key 'x'; override name itself",
    ]


def test_validate_override_with_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", str(QUICKSTART), "-o", "algorithm.rounds=0")
    assert (code, err) == (2, [f"error: {QUICKSTART}: override 'algorithm.rounds=0': "
                               "algorithm.rounds: 0 is out of range; it must be > 0"])


def test_override_flag_without_value_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(QUICKSTART), "-o"])
    assert info.value.code == 2
    assert "argument -o/--override: expected one argument" in capsys.readouterr().err


def test_missing_file_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    assert "the following arguments are required: file" in capsys.readouterr().err


def test_bad_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(QUICKSTART), "--seed", "abc"])
    assert info.value.code == 2
    assert "argument --seed: invalid int value: 'abc'" in capsys.readouterr().err


# --- run ------------------------------------------------------------------------------------

def test_run_with_missing_mnist_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mnist"
    out_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "run", str(QUICKSTART), "-q", "-o", "data.dataset=mnist",
                           "-o", f"data.path={missing}", "--out", str(out_dir))
    assert code == 2
    assert err == [f"error: {QUICKSTART}: override 'data.path={missing}': data.path: "
                   f"'{missing}' does not exist; set it to the directory holding the four MNIST "
                   "IDX files (train-images-idx3-ubyte, ...)"]
    assert not out_dir.exists()


def test_validate_with_mnist_directory_without_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "mnist"
    data_dir.mkdir()
    path = write(tmp_path, f"name: m\ndata:\n  dataset: mnist\n  path: {data_dir}\n")
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2
    assert err == [f"error: {path}:4: data.path: {data_dir}: missing train-labels-idx1-ubyte "
                   "(looked for train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz, "
                   "train-labels.idx1-ubyte, train-labels.idx1-ubyte.gz here and in "
                   f"{data_dir / 'raw'}); put the four IDX files of the dataset there"]


def test_run_with_corrupt_mnist_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "mnist"
    data_dir.mkdir()
    (data_dir / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(8))
    (data_dir / "train-labels-idx1-ubyte").write_bytes(
        b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(100))
    path = write(tmp_path, f"name: m\ndata:\n  dataset: mnist\n  path: {data_dir}\n")
    code, _, err = run_cli(capsys, "run", str(path), "-q", "--out", str(tmp_path / "run"))
    assert code == 2
    assert err == [f"error: {data_dir / 'train-images-idx3-ubyte'}: expected magic 2051 for an "
                   "image file, found 2049; check that it is the right file (MNIST images have "
                   "2051, labels 2049)"]


def test_run_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = write(tmp_path, "x", name="afile")
    code, _, err = run_cli(capsys, "run", str(QUICKSTART), "-q", "--out", str(afile))
    assert (code, err) == (2, [f"error: --out {afile}: exists and is not a folder; give a new "
                               "folder path"])


def test_run_out_below_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = write(tmp_path, "x", name="afile")
    code, _, err = run_cli(capsys, "run", str(QUICKSTART), "-q", "--out", str(afile / "a" / "b"))
    assert (code, err) == (2, [f"error: --out {afile / 'a' / 'b'}: its folder {afile / 'a'} "
                               f"{afile} is a file, so this cannot be a folder; give a folder "
                               "path"])


def test_run_directory_write_failure_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simfl.runs.directory
    import simfl.runs.runner

    def fake_simulate(scenario: Any, *, progress: bool = False, checkpoint: Any = None) -> object:
        return object()

    def failing_write(result: object, run_dir: Path, overwrite: bool = False) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(simfl.runs.runner, "simulate", fake_simulate)
    monkeypatch.setattr(simfl.runs.directory, "write_run_directory", failing_write)
    out_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "run", str(QUICKSTART), "-q", "--out", str(out_dir))
    assert (code, err) == (2, [f"error: {out_dir}: cannot write the run directory (Permission "
                               "denied); the simulation finished but nothing was kept"])


def test_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nseed: 1\nseed: 2\nepoch: 2020-13-45\n")
    simfl = Path(sys.executable).parent / "simfl"
    done = subprocess.run([str(simfl), "validate", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"error: {path}:3: seed is given twice (first on line 2); keep one",
        f"error: {path}:4: epoch: cannot read '2020-13-45' (month must be in 1..12); write a "
        "plain value, e.g. a number, text or 2026-02-24T12:00:00Z",
    ]
    assert done.stdout == ""


# --- issue 12: inputs that used to end in a traceback ----------------------------------------

FEDMELD_DEMO = REPO / "scenarios" / "fedmeld_demo.yaml"


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_negative_seed_is_refused_by_validate_and_run(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--out", str(tmp_path / "run")] if command == "run" else []
    code, _, err = run_cli(capsys, command, str(QUICKSTART), "--seed", "-1", *extra)
    assert (code, err) == (2, [f"error: {QUICKSTART}: --seed -1: seed: -1 is out of range; it "
                               "must be >= 0"])


@pytest.mark.parametrize(("file", "override", "message"), [
    (QUICKSTART, "network.device_cloud.latency_s=1e308",
     "network.device_cloud.latency_s: 1e+308 is too large for a duration: at most 1e+09 s"),
    (FEDMELD_DEMO, "space.horizon_s=1e308",
     "space.horizon_s: 1e+308 is too large for a duration: at most 1e+09 s"),
    (FEDMELD_DEMO, "space.horizon_s=400 d", "space.horizon_s: '400 d' (= 34560000.0) is out of "
                                            "range; it must be <= 31622400.0"),
    (FEDMELD_DEMO, "space.coarse_step_s=200", "space.coarse_step_s: 200.0 is out of range; it "
                                              "must be <= 120.0"),
])
def test_absurd_quantities_are_refused_before_the_run(
    file: Path, override: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "validate", str(file), "-o", override)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"error: {file}: override '{override}': {message}")


def test_a_yaml_alias_bomb_is_refused_in_a_second(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["name: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and len(err) == 1 and "expand this value to more than 100,000" in err[0]


def test_compare_without_algorithms_is_refused_before_any_run(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "compare", str(QUICKSTART), "--algorithms", "")
    assert (code, err) == (2, ["error: --algorithms '': name at least one algorithm, "
                               "comma-separated, e.g. --algorithms fedmeld,isolated,space_hfl"])


def test_sweep_with_zero_workers_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(QUICKSTART), "--set", "training.lr=0.1,0.2", "--workers", "0"])
    assert info.value.code == 2
    assert "argument --workers: 0: give 1 or more" in capsys.readouterr().err


def test_validate_prints_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(FEDMELD_DEMO), "-o",
                             "epoch=2030-01-01T00:00:00Z")
    assert code == 0 and out.startswith(f"{FEDMELD_DEMO}: valid scenario")
    assert len(err) == 1
    assert err[0].startswith(f"warning: {FEDMELD_DEMO}: space.constellation.tle: the run spans "
                             "2030-01-01 00:00")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from simfl import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"simfl {__version__}\n"


# --- the safety net: whatever escapes a command is one line, never a traceback ---------------

def _failing_validate(error: BaseException) -> Any:
    def command(args: object) -> int:
        raise error

    return command


@pytest.mark.parametrize(("error", "code", "line"), [
    (RuntimeError("boom\n  more"), 1, "error: internal error (RuntimeError: boom more); this is "
     "a bug in simfl, please report it with the command and the scenario (SIMFL_TRACEBACK=1 "
     "shows the traceback)"),
    (PermissionError(13, "Permission denied", "/x/y"), 2, "error: /x/y: Permission denied; "
     "check the path, its permissions and the free disk space"),
    (MemoryError(), 2, "error: out of memory; make the scenario smaller (fewer clients, "
     "satellites or sites, a shorter space.horizon_s, a smaller model)"),
])
def test_unexpected_errors_are_one_line(
    error: BaseException, code: int, line: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import simfl.cli

    monkeypatch.setattr(simfl.cli, "_cmd_validate", _failing_validate(error))
    monkeypatch.delenv("SIMFL_TRACEBACK", raising=False)
    assert run_cli(capsys, "validate", str(QUICKSTART)) == (code, "", [line])


def test_simfl_traceback_shows_the_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import simfl.cli

    monkeypatch.setattr(simfl.cli, "_cmd_validate", _failing_validate(RuntimeError("boom")))
    monkeypatch.setenv("SIMFL_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["validate", str(QUICKSTART)])


def test_a_used_out_folder_is_refused_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    code, _, err = run_cli(capsys, "run", str(QUICKSTART), "-q", "--out", str(out))
    assert (code, err) == (2, [f"error: --out {out}: already holds files (summary.json); give a "
                               "new folder, or --overwrite to replace a previous run (it is "
                               "replaced only once the new run is complete)"])
