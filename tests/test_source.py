"""Tests of simfl.scenario.source: YAML with a line map, file reading and -o overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.source import (
    ScenarioSource,
    apply_overrides,
    parse_yaml,
    read_scenario_file,
)

NESTED = """\
name: x
network:
  device_cloud:
    latency_s: 50 ms
model:
  hidden:
    - 64
    - 32
partition:
  groups: [[0, 1], [2]]
"""


def problems_of(text: str, file: str = "s.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_yaml(text, file=file)
    return info.value.problems


def overridden(text: str, *overrides: str) -> ScenarioSource:
    return apply_overrides(parse_yaml(text, file="s.yaml"), list(overrides))


def override_problems(text: str, *overrides: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        overridden(text, *overrides)
    return info.value.problems


# --- line map -------------------------------------------------------------------------------

def test_line_map_of_nested_keys() -> None:
    lines = parse_yaml(NESTED).lines
    assert lines[("network",)] == 2
    assert lines[("network", "device_cloud")] == 3
    assert lines[("network", "device_cloud", "latency_s")] == 4


def test_line_map_of_block_list_items() -> None:
    lines = parse_yaml(NESTED).lines
    assert (lines[("model", "hidden")], lines[("model", "hidden", 0)],
            lines[("model", "hidden", 1)]) == (6, 7, 8)


def test_line_map_of_flow_list_items() -> None:
    lines = parse_yaml(NESTED).lines
    assert lines[("partition", "groups", 0)] == 10
    assert lines[("partition", "groups", 1, 0)] == 10


def test_values_are_parsed_as_yaml() -> None:
    data = parse_yaml(NESTED).data
    assert data["model"]["hidden"] == [64, 32]
    assert data["network"]["device_cloud"]["latency_s"] == "50 ms"


def test_where_names_file_and_line() -> None:
    source = parse_yaml(NESTED, file="s.yaml")
    assert source.where(("network", "device_cloud", "latency_s")) == "s.yaml:4"


def test_where_falls_back_to_nearest_ancestor() -> None:
    source = parse_yaml(NESTED, file="s.yaml")
    assert source.where(("network", "device_cloud", "up_rate_bps")) == "s.yaml:3"


def test_where_without_any_known_line_is_the_file() -> None:
    assert parse_yaml(NESTED, file="s.yaml").where(("stop", "max_time_s")) == "s.yaml"


def test_default_file_name_is_string() -> None:
    assert parse_yaml("name: x\n").where(("name",)) == "<string>:1"


# --- malformed YAML -----------------------------------------------------------------------

def test_bad_indentation_is_one_line_with_file_and_line() -> None:
    text = "name: a\ndata:\n  dataset: digits\n   test_fraction: 0.3\n"
    assert problems_of(text) == [
        "s.yaml:4: malformed YAML: mapping values are not allowed here; "
        "check indentation, colons and quotes"
    ]


def test_unclosed_quote_says_where_the_quote_started() -> None:
    assert problems_of('name: "abc\nseed: 1\n') == [
        "s.yaml:3: malformed YAML: found unexpected end of stream (while scanning a quoted "
        "scalar started on line 1); check indentation, colons and quotes"
    ]


def test_tab_indentation_says_yaml_uses_spaces() -> None:
    assert problems_of("name: a\ndata:\n\tdataset: digits\n") == [
        "s.yaml:3: malformed YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token); YAML indents with spaces, never tabs"
    ]


def test_unclosed_flow_list() -> None:
    (problem,) = problems_of("name: a\nmodel:\n  hidden: [64, 32\n")
    assert problem.startswith("s.yaml:4: malformed YAML: expected ',' or ']'")
    assert "(while parsing a flow sequence started on line 3)" in problem


def test_two_documents_are_rejected() -> None:
    assert problems_of("name: a\n---\nname: b\n") == [
        "s.yaml:2: malformed YAML: but found another document (expected a single document in "
        "the stream started on line 1); check indentation, colons and quotes"
    ]


def test_control_character_has_a_line_and_one_line_message() -> None:
    assert problems_of("name: a\nseed: 1\x00\n") == [
        "s.yaml:2: malformed YAML: unacceptable character #x0000: special characters are not "
        "allowed; remove the character or re-save as UTF-8"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    assert problems_of(text) == [
        "s.yaml: the file is empty; a scenario is a YAML mapping of sections"
    ]


def test_top_level_list() -> None:
    assert problems_of("- a\n- b\n") == [
        "s.yaml:1: the top level must be a mapping of sections (name:, data:, algorithm:, ...), "
        "not a sequence"
    ]


def test_top_level_scalar() -> None:
    (problem,) = problems_of("\njust text\n")
    assert problem.startswith("s.yaml:2: the top level must be a mapping") and "scalar" in problem


def test_duplicate_key_names_both_lines() -> None:
    assert problems_of("name: a\nseed: 1\nseed: 2\n") == [
        "s.yaml:3: seed is given twice (first on line 2); keep one"
    ]


def test_every_duplicate_key_is_reported() -> None:
    text = "name: a\nseed: 1\nseed: 2\ndata:\n  dataset: x\n  dataset: y\n"
    assert problems_of(text) == [
        "s.yaml:3: seed is given twice (first on line 2); keep one",
        "s.yaml:6: data.dataset is given twice (first on line 5); keep one",
    ]


def test_non_text_key() -> None:
    assert problems_of("name: a\n1: b\n") == [
        "s.yaml:2: key 1 must be text; quote it or rename it "
        "(YAML reads yes/no/on/off/null and numbers as non-text)"
    ]


def test_impossible_date_is_a_problem_not_a_crash() -> None:
    assert problems_of("name: a\nepoch: 2020-13-45\n") == [
        "s.yaml:2: epoch: cannot read '2020-13-45' (month must be in 1..12); "
        "write a plain value, e.g. a number, text or 2026-02-24T12:00:00Z"
    ]


def test_bad_tagged_value_is_a_problem_not_a_crash() -> None:
    (problem,) = problems_of("name: a\nseed: !!int x\n")
    assert problem.startswith("s.yaml:2: seed: cannot read 'x' (invalid literal for int()")


def test_unsafe_python_tag_is_refused() -> None:
    assert problems_of("seed: 1\nname: !!python/name:os.system ''\n") == [
        "s.yaml:2: name: cannot read '' (could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/name:os.system'); write a plain value, e.g. a number, text "
        "or 2026-02-24T12:00:00Z"
    ]


@pytest.mark.parametrize("text", ["devices:\n", "devices: ~\n", "devices: null\n"])
def test_empty_value_is_null(text: str) -> None:
    assert parse_yaml(text).data == {"devices": None}


def test_utc_time_is_read_as_aware_datetime() -> None:
    epoch = parse_yaml("epoch: 2026-02-24T12:00:00Z\n").data["epoch"]
    assert (epoch.isoformat(), epoch.utcoffset().total_seconds()) == (
        "2026-02-24T12:00:00+00:00", 0.0)


ANCHORS = """\
network:
  device_cloud: &link
    latency_s: 5 ms
    up_rate_bps: 3 Mbps
  device_edge:
    up_rate_bps: 1 Mbps
    <<: *link
  edge_cloud: *link
"""


def test_alias_repeats_the_anchored_mapping() -> None:
    net = parse_yaml(ANCHORS).data["network"]
    assert net["edge_cloud"] == net["device_cloud"] == {"latency_s": "5 ms",
                                                         "up_rate_bps": "3 Mbps"}


def test_merge_key_fills_only_keys_not_written_out() -> None:
    assert parse_yaml(ANCHORS).data["network"]["device_edge"] == {
        "up_rate_bps": "1 Mbps", "latency_s": "5 ms"}


def test_merged_keys_point_at_the_merge_line() -> None:
    source = parse_yaml(ANCHORS, file="s.yaml")
    assert source.where(("network", "device_edge", "latency_s")) == "s.yaml:7"
    assert source.where(("network", "device_edge", "up_rate_bps")) == "s.yaml:6"


def test_merge_of_a_scalar_is_a_problem() -> None:
    assert problems_of("name: a\nx:\n  <<: 5\n") == [
        "s.yaml:3: '<<' merges mappings; follow it with an alias of a mapping such as *defaults"
    ]


# --- reading files ------------------------------------------------------------------------

def test_read_file_uses_path_as_display_name(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: a\nseed: 4\n", encoding="utf-8")
    source = read_scenario_file(path)
    assert (source.data, source.where(("seed",))) == ({"name": "a", "seed": 4}, f"{path}:2")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        read_scenario_file(missing)
    assert info.value.problems == [
        f"{missing}: no such scenario file; check the path (cwd: {Path.cwd()})"
    ]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        read_scenario_file(tmp_path)
    assert info.value.problems == [f"{tmp_path}: is a directory; give a scenario .yaml file"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: a\n\xff\xfe")
    with pytest.raises(ScenarioError) as info:
        read_scenario_file(path)
    assert info.value.problems == [
        f"{path}: byte 8 is not UTF-8 text; a scenario is a YAML text file (re-save it as UTF-8)"
    ]


def test_malformed_file_message_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("seed: [1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{path}:2: malformed YAML"):
        read_scenario_file(path)


# --- overrides ------------------------------------------------------------------------------

def test_override_replaces_value_and_is_reported_as_override() -> None:
    source = overridden(NESTED, "network.device_cloud.latency_s=10 ms")
    assert source.data["network"]["device_cloud"]["latency_s"] == "10 ms"
    assert source.where(("network", "device_cloud", "latency_s")) == (
        "s.yaml: override 'network.device_cloud.latency_s=10 ms'"
    )


def test_override_creates_missing_mappings() -> None:
    source = overridden(NESTED, "devices.availability.on_s=60")
    assert source.data["devices"] == {"availability": {"on_s": 60}}
    assert source.where(("devices", "availability", "off_s")) == (
        "s.yaml: override 'devices.availability.on_s=60'"
    )


def test_override_fills_a_null_mapping() -> None:
    source = overridden("name: a\ndevices:\n", "devices.availability.on_s=60")
    assert source.data["devices"] == {"availability": {"on_s": 60}}


def test_override_indexes_a_list() -> None:
    source = overridden(NESTED, "model.hidden.1=128")
    assert source.data["model"]["hidden"] == [64, 128]
    assert source.where(("model", "hidden", 1)) == "s.yaml: override 'model.hidden.1=128'"


def test_override_of_nested_list_item() -> None:
    source = overridden(NESTED, "partition.groups.1.0=9")
    assert source.data["partition"]["groups"] == [[0, 1], [9]]


def test_replacing_a_list_drops_the_old_items_lines() -> None:
    source = overridden(NESTED, "model.hidden=[8, 8, 8]")
    assert source.where(("model", "hidden", 0)) == "s.yaml: override 'model.hidden=[8, 8, 8]'"


def test_later_override_wins() -> None:
    source = overridden(NESTED, "seed=1", "seed=2")
    assert (source.data["seed"], source.where(("seed",))) == (2, "s.yaml: override 'seed=2'")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3", 3),
        ("-3", -3),
        ("2.5", 2.5),
        ("1.5e-3", 0.0015),
        ("1e-3", 1e-3),  # a number, as in YAML 1.2 (PyYAML's YAML 1.1 would give text)
        ("true", True),
        ("false", False),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ("{a: 1}", {"a": 1}),
        ("fedavg", "fedavg"),
        ("'5'", "5"),
        ("10 Mbps", "10 Mbps"),
        ("", ""),
        ("a=b", "a=b"),
        ("[1", "[1"),
        ("2020-13-45", "2020-13-45"),
    ],
)
def test_override_value_parsing(raw: str, value: Any) -> None:
    assert overridden("name: a\n", f"x={raw}").data["x"] == value


def test_spaces_around_override_key_are_ignored() -> None:
    assert overridden("name: a\n", " algorithm . rounds =7").data["algorithm"] == {"rounds": 7}


def test_override_without_equals() -> None:
    assert override_problems("name: a\n", "foo") == [
        "s.yaml: override 'foo' has no '='; write it as a.b.c=value, e.g. algorithm.rounds=20"
    ]


def test_override_without_key() -> None:
    assert override_problems("name: a\n", "=3") == [
        "s.yaml: override '=3' has no key before '='; write it as a.b.c=value, "
        "e.g. algorithm.rounds=20"
    ]


def test_override_with_empty_part() -> None:
    assert override_problems("name: a\n", "a..b=1") == [
        "s.yaml: override 'a..b=1' has an empty key between dots; write it as a.b.c=value, "
        "e.g. algorithm.rounds=20"
    ]


def test_override_through_a_scalar() -> None:
    assert override_problems("name: a\n", "name.x=1") == [
        "s.yaml: override 'name.x=1': name is 'a', a single value, so it has no key 'x'; "
        "override name itself"
    ]


def test_override_through_a_list_item_scalar() -> None:
    assert override_problems(NESTED, "model.hidden.0.x=3") == [
        "s.yaml: override 'model.hidden.0.x=3': model.hidden.0 is 64, a single value, "
        "so it has no key 'x'; override model.hidden.0 itself"
    ]


def test_override_list_index_past_the_end() -> None:
    assert override_problems(NESTED, "model.hidden.5=3") == [
        "s.yaml: override 'model.hidden.5=3': model.hidden is a list of 2, so '5' must be an "
        "index from 0 to 1"
    ]


def test_override_list_with_a_name() -> None:
    (problem,) = override_problems(NESTED, "model.hidden.x=3")
    assert problem.endswith("model.hidden is a list of 2, so 'x' must be an index from 0 to 1")


def test_override_into_an_empty_list() -> None:
    assert override_problems("name: a\nx: []\n", "x.0=1") == [
        "s.yaml: override 'x.0=1': x is an empty list, so it has no item '0'"
    ]


def test_every_bad_override_is_reported() -> None:
    problems = override_problems(NESTED, "foo", "seed=3", "name.x=1", "=2")
    assert [p.split(":")[1] for p in problems] == [
        " override 'foo' has no '='; write it as a.b.c=value, e.g. algorithm.rounds=20",
        " override 'name.x=1'",
        " override '=2' has no key before '='; write it as a.b.c=value, e.g. algorithm.rounds=20",
    ]


# --- aliases and nesting that would exhaust memory or the stack ------------------------------

def test_an_alias_bomb_is_refused_at_once() -> None:
    lines = ["name: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    [problem] = problems_of("\n".join(lines) + "\n")
    assert problem == ("s.yaml:7: aliases (*name) expand this value to more than 100,000 values;"
                       " a scenario is small, so write the values out or nest fewer aliases")


def test_a_few_shared_aliases_are_fine() -> None:
    source = parse_yaml("name: a\nbase: &b {lr: 0.1}\ntraining: *b\n")
    assert source.data["training"] == {"lr": 0.1}


@pytest.mark.parametrize("text", ["name: a\nx: &a [1, *a]\n", "name: a\nx: &a {b: *a}\n"])
def test_a_recursive_alias_is_refused(text: str) -> None:
    assert problems_of(text) == ["s.yaml:2: an alias refers to a value that contains it (a "
                                 "recursive alias); a scenario must be a tree of values"]


def test_values_nested_beyond_the_stack_are_refused() -> None:
    text = "name: a\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    assert problems_of(text) == ["s.yaml: values are nested too deeply to read; a scenario "
                                 "nests a few levels of sections"]


def test_a_recursive_alias_in_an_override_is_refused() -> None:
    assert override_problems("name: a\n", "x=&a [1, *a]") == [
        "s.yaml: override 'x=&a [1, *a]', line:1: an alias refers to a value that contains it "
        "(a recursive alias); a scenario must be a tree of values"]


@pytest.mark.parametrize(("text", "value"), [("1e-3", 1e-3), ("-2E+4", -2e4), ("5e6", 5e6),
                                             ("'1e-3'", "1e-3"), ("1e", "1e")])
def test_exponents_without_a_dot_are_numbers(text: str, value: object) -> None:
    assert parse_yaml(f"name: a\nx: {text}\n").data["x"] == value
