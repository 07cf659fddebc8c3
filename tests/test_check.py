"""Regression checks: the verdict rule at its bounds, `quarch baseline create` / `quarch check` end to end,
bad baselines, JUnit XML against the Jenkins/Surefire schema, and the project's own committed baseline."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import xmlschema
import yaml
from typer.testing import CliRunner

from hwmodels.loader import load_hardware, preset_names
from hwmodels.pe import Infeasible
from quarch import regression
from quarch.cli import app
from quarch.regression import HIGHER, IMPROVED, LOWER, MATCH, OK, REGRESSED, Tolerance, judge
from sim.result import Total
from sim.simulate import simulate
from workloads.builtin import BUILTIN
from workloads.loader import load_workload

TESTS = Path(__file__).parent
ROOT = TESTS.parent
JUNIT_XSD = TESTS / "data" / "junit-10.xsd"
COMMITTED = TESTS / "baselines" / "quarch.yaml"
COMMITTED_ENTRIES = TESTS / "baselines" / "entries.yaml"
CASE = TESTS / "parity" / "cases" / "gemm_calc_os_8x8"


def quarch(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


# --------------------------------------------------------------------------- the rule

def test_every_numeric_total_field_has_one_direction():
    numeric = {f.name for f in fields(Total) if f.type not in ("str",)}
    assert numeric == set(regression.DIRECTIONS)
    assert {f.name for f in fields(Total) if f.type.startswith("dict")} == set(regression.PER_LEVEL)
    assert {regression.direction(m) for m in ("latency_s", "energy_j", "cycles", "area_mm2")} == {LOWER}
    assert {regression.direction(m) for m in ("throughput_inferences_per_s", "tops", "tops_per_w",
                                              "utilization")} == {HIGHER}
    assert regression.direction("memory_energy_j.dram") == LOWER


@pytest.mark.parametrize("expected, actual, way, tolerance, status", [
    # exactly at the relative bound, both directions, both senses
    (100.0, 101.0, LOWER, Tolerance(rel_tol=0.01), OK),
    (100.0, 99.0, LOWER, Tolerance(rel_tol=0.01), OK),
    (100.0, 99.0, HIGHER, Tolerance(rel_tol=0.01), OK),
    (100.0, 101.0, HIGHER, Tolerance(rel_tol=0.01), OK),
    # just past it
    (100.0, 101.0001, LOWER, Tolerance(rel_tol=0.01), REGRESSED),
    (100.0, 98.9999, LOWER, Tolerance(rel_tol=0.01), IMPROVED),
    (100.0, 98.9999, HIGHER, Tolerance(rel_tol=0.01), REGRESSED),
    (100.0, 101.0001, HIGHER, Tolerance(rel_tol=0.01), IMPROVED),
    # bounds written in decimal that binary floats cannot hold: 0.33 - 0.3 > 0.1 * 0.3 in floats
    (0.3, 0.33, LOWER, Tolerance(rel_tol=0.1), OK),
    (0.3, 0.27, HIGHER, Tolerance(rel_tol=0.1), OK),
    (0.3, 0.3300001, LOWER, Tolerance(rel_tol=0.1), REGRESSED),
    # absolute bound, both directions
    (1.0e-3, 1.1e-3, LOWER, Tolerance(abs_tol=1e-4), OK),
    (1.0e-3, 0.9e-3, LOWER, Tolerance(abs_tol=1e-4), OK),
    (1.0e-3, 0.9e-3, HIGHER, Tolerance(abs_tol=1e-4), OK),
    (1.0e-3, 1.1e-3, HIGHER, Tolerance(abs_tol=1e-4), OK),
    (1.0e-3, 1.1001e-3, LOWER, Tolerance(abs_tol=1e-4), REGRESSED),
    (1.0e-3, 0.8999e-3, LOWER, Tolerance(abs_tol=1e-4), IMPROVED),
    (1.0e-3, 0.8999e-3, HIGHER, Tolerance(abs_tol=1e-4), REGRESSED),
    # both given: the wider one holds
    (100.0, 102.0, LOWER, Tolerance(rel_tol=0.01, abs_tol=2.0), OK),
    (100.0, 102.001, LOWER, Tolerance(rel_tol=0.01, abs_tol=2.0), REGRESSED),
    (100.0, 101.5, LOWER, Tolerance(rel_tol=0.02, abs_tol=1.0), OK),
    # must-match metrics fail either way
    (10.0, 11.0, MATCH, Tolerance(abs_tol=1.0), OK),
    (10.0, 11.1, MATCH, Tolerance(abs_tol=1.0), REGRESSED),
    (10.0, 8.9, MATCH, Tolerance(abs_tol=1.0), REGRESSED),
    # the rounding allowance never hides a real change, even with no tolerance at all
    (1.0e6, 1.0e6 + 1, LOWER, Tolerance(), REGRESSED),
    (1.0e6, 1.0e6, LOWER, Tolerance(), OK),
    (0.0, 1e-300, LOWER, Tolerance(), REGRESSED),
    (1.0, math.nan, HIGHER, Tolerance(rel_tol=0.5), REGRESSED),
])
def test_verdict_at_and_past_the_bounds(expected, actual, way, tolerance, status):
    assert judge(expected, actual, way, tolerance) == status


# --------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A baseline made by `quarch baseline create` from an entries file in another folder."""
    root = tmp_path_factory.mktemp("made")
    (root / "designs").mkdir()
    shutil.copy(CASE / "scale.cfg", root / "designs" / "array.cfg")
    shutil.copy(CASE / "topology.csv", root / "designs" / "layers.csv")
    (root / "entries.yaml").write_text("""
tolerance: {rel_tol: 1.0e-6}
entries:
  - hw: systolic-int8-32x32-os
    set: [array.rows=16, memory.dram.read_bandwidth_bytes_per_cycle=8]
    workload: gemm:M=64,N=96,K=200
    metrics:
      latency_s: {rel_tol: 0.01}
      tops: {rel_tol: 0.01}
      cycles: {abs_tol: 10}
      energy_j:
      memory_energy_j.dram:
  - name: scalesim files
    hw: designs/array.cfg
    workload: designs/layers.csv
    metrics: [cycles, energy_j, utilization]
""")
    (root / "out").mkdir()
    run = quarch("baseline", "create", "entries.yaml", "-o", "out/baseline.yaml", cwd=root)
    assert run.returncode == 0, run.stderr
    return root / "out" / "baseline.yaml"


def _tampered(made: Path, tmp_path: Path, entry: int, metric: str, change) -> Path:
    data = yaml.safe_load(made.read_text())
    spec = data["entries"][entry]["metrics"][metric]
    spec["expected"] = change(spec["expected"])
    # the changed copy lives beside the original so its relative paths still resolve
    path = made.parent / f"tampered-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_create_records_values_version_revision_and_relocates_files(made):
    data = yaml.safe_load(made.read_text())
    assert data["quarch_version"] == regression.quarch_version() == "0.1.0"
    head = shutil.which("git") and subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                                  capture_output=True, text=True)
    if head and head.returncode == 0:
        assert data["git_revision"].removesuffix("-dirty") == head.stdout.strip()
    first, second = data["entries"]
    assert first["name"] == ("systolic-int8-32x32-os [array.rows=16] [memory.dram.read_bandwidth_bytes_per_cycle=8]"
                             " / gemm:M=64,N=96,K=200")
    assert first["metrics"]["cycles"] == {"expected": first["metrics"]["cycles"]["expected"], "abs_tol": 10}
    assert first["metrics"]["energy_j"].keys() == {"expected"}
    assert (second["hw"], second["workload"]) == ("../designs/array.cfg", "../designs/layers.csv")
    # the recorded values are the simulator's own
    hw = load_hardware("systolic-int8-32x32-os", ["array.rows=16", "memory.dram.read_bandwidth_bytes_per_cycle=8"])
    total = simulate(load_workload("gemm:M=64,N=96,K=200"), hw).total
    assert first["metrics"]["latency_s"]["expected"] == total.latency_s
    assert first["metrics"]["cycles"]["expected"] == total.cycles
    assert first["metrics"]["memory_energy_j.dram"]["expected"] == total.memory_energy_j["dram"]


def test_a_baseline_that_holds_passes_from_any_folder(made, tmp_path):
    junit = tmp_path / "junit.xml"
    run = quarch("check", str(made), "--junit", str(junit), cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "PASS: 2 entries, 8 ok" in run.stdout
    assert "systolic-int8-32x32-os [array.rows=16]" in run.stdout  # names are text, not rich markup
    for column in ("metric", "expected", "actual", "delta %", "status"):
        assert column in run.stdout
    _validate_junit(junit, ["systolic-int8-32x32-os [array.rows=16] [memory.dram.read_bandwidth_bytes_per_cycle=8] "
                            "/ gemm:M=64,N=96,K=200", "scalesim files"], failing={})


def test_a_tampered_value_fails_with_exit_1_naming_the_metric(made, tmp_path):
    baseline = _tampered(made, tmp_path, 1, "energy_j", lambda e: e * 0.9)  # claims 10 % less energy
    junit = tmp_path / "junit.xml"
    run = quarch("check", str(baseline), "--junit", str(junit))
    assert run.returncode == 1, run.stderr
    row = next(line for line in run.stdout.splitlines() if "energy_j" in line and "memory" not in line
               and "regressed" in line)
    assert "+11.1" in row  # actual is 1/0.9 of expected
    assert "FAIL: 2 entries, 7 ok, 1 regressed" in run.stdout
    _validate_junit(junit, None, failing={"scalesim files": "energy_j regressed"})


def test_improvement_beyond_tolerance_passes_unless_strict(made, tmp_path):
    baseline = _tampered(made, tmp_path, 0, "latency_s", lambda e: e * 1.5)  # now 1/3 faster than recorded
    run = quarch("check", str(baseline), "--format", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["passed"] and report["counts"] == {"ok": 7, "improved": 1, "regressed": 0, "infeasible": 0}
    latency = next(m for m in report["entries"][0]["metrics"] if m["metric"] == "latency_s")
    assert latency["status"] == "improved" and latency["delta_pct"] == pytest.approx(-100 / 3)
    junit = tmp_path / "junit.xml"
    strict = quarch("check", str(baseline), "--strict", "--junit", str(junit))
    assert strict.returncode == 1
    assert "improved (--strict)" in strict.stdout
    _validate_junit(junit, None, failing={report["entries"][0]["name"]: "latency_s improved"})


@pytest.mark.parametrize("metric, factor, status", [
    ("latency_s", 0.5, REGRESSED), ("latency_s", 2.0, IMPROVED),   # lower is better
    ("tops", 2.0, REGRESSED), ("tops", 0.5, IMPROVED),             # higher is better
    ("latency_s", 1.005, OK), ("tops", 0.995, OK),                 # inside 1 %
])
def test_direction_decides_regression_or_improvement(made, tmp_path, metric, factor, status):
    baseline = _tampered(made, tmp_path, 0, metric, lambda e: e * factor)
    report = regression.check(baseline, jobs=1)
    verdict = next(m for m in report.entries[0].metrics if m.metric == metric)
    assert verdict.status == status
    assert report.passed == (status != REGRESSED)
    assert regression.check(baseline, jobs=1, strict=True).passed == (status == OK)


@pytest.mark.parametrize("shift, status", [(-10, OK), (-11, REGRESSED), (10, OK), (11, IMPROVED)])
def test_absolute_tolerance_edge_on_integer_cycles(made, tmp_path, shift, status):
    """cycles has abs_tol 10: an expected value 10 below/above the actual is exactly at the bound."""
    baseline = _tampered(made, tmp_path, 0, "cycles", lambda e: e + shift)
    verdict = next(m for m in regression.check(baseline, jobs=1).entries[0].metrics if m.metric == "cycles")
    assert verdict.status == status


def test_parallel_and_serial_runs_agree(made):
    serial, parallel = regression.check(made, jobs=1), regression.check(made, jobs=2)
    assert [e.metrics for e in serial.entries] == [e.metrics for e in parallel.entries]


def test_an_entry_that_became_infeasible_is_a_junit_error(made, tmp_path):
    data = yaml.safe_load(made.read_text())
    data["entries"][0]["workload"] = "gemm:M=64,N=96,K=200,w=fp16,a=fp16"
    baseline = made.parent / f"infeasible-{tmp_path.name}.yaml"
    baseline.write_text(yaml.safe_dump(data))
    junit = tmp_path / "junit.xml"
    run = quarch("check", str(baseline), "--junit", str(junit))
    assert run.returncode == 1 and "infeasible: weight format fp16" in run.stdout
    case = _validate_junit(junit, None, failing={})[data["entries"][0]["name"]]
    assert case["error"]["@type"] == "infeasible"


def _validate_junit(path: Path, names: list[str] | None, failing: dict[str, str]) -> dict:
    """Validate against the Jenkins/Surefire JUnit schema; check the cases and which fail on what."""
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(str(path))
    suite = schema.to_dict(str(path))["testsuite"][0]
    cases = {case["@name"]: case for case in suite["testcase"]}
    if names is not None:
        assert list(cases) == names
    assert int(suite["@tests"]) == len(cases)
    assert int(suite["@failures"]) == len(failing)
    for name, case in cases.items():
        if name in failing:
            assert failing[name] in case["failure"][0]["@message"]
        else:
            assert "failure" not in case
    return {name: {key: value[0] if isinstance(value, list) else value for key, value in case.items()}
            for name, case in cases.items()}


# --------------------------------------------------------------------------- bad baselines

PRESET = "systolic-int8-32x32-os"


@pytest.mark.parametrize("text, message", [
    ("entries: [\n  - hw: x\n", "malformed YAML/JSON at line 2, column 3"),
    ("- hw: x\n", "a baseline is a YAML mapping with an `entries:` list"),
    ("quarch_version: 0.1.0\n", "entries: Field required"),
    ("entries: []\n", "entries: Tuple should have at least 1 item"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{latency_ms: {{expected: 1}}}}}}]\n",
     "entries.0.metrics: unknown metric 'latency_ms'; allowed are cycles, "),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{read_bytes: {{expected: 1}}}}}}]\n",
     "unknown metric 'read_bytes'"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{latency_s: {{expected: 1, rel_tol: -0.1}}}}}}]\n",
     "entries.0.metrics.latency_s.rel_tol: -0.1: Input should be greater than or equal to 0"),
    (f"tolerance: {{abs_tol: -1}}\nentries: [{{hw: {PRESET}, workload: resnet18, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "tolerance.abs_tol: -1: Input should be greater than or equal to 0"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{cycles: {{expected: 1, tol: 2}}}}}}]\n",
     "entries.0.metrics.cycles.tol: 2: unknown field; allowed are abs_tol, expected, rel_tol"),
    ("entries: [{hw: systolic-int9, workload: resnet18, metrics: {cycles: {expected: 1}}}]\n",
     "entries.0.hw: 'systolic-int9' is neither a file nor a preset"),
    (f"entries: [{{hw: {PRESET}, set: [array.rows], workload: resnet18, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "entries.0.set: 'array.rows': an override is key.path=value"),
    (f"entries: [{{hw: {PRESET}, set: [memory.l9.capacity_bytes=1], workload: resnet18, "
     "metrics: {cycles: {expected: 1}}}]\n", "entries.0.set: 'memory.l9.capacity_bytes': no entry 'l9'"),
    (f"entries: [{{hw: {PRESET}, set: [array.rows=0], workload: resnet18, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "array.rows: 0: Input should be greater than 0"),
    (f"entries: [{{hw: {PRESET}, workload: resnet99, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "entries.0.workload: 'resnet99' is not a workload"),
    (f"entries: [{{hw: {PRESET}, workload: missing.csv, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "missing.csv"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{memory_energy_j.l2: {{expected: 1}}}}}}]\n",
     "entries.0.metrics.memory_energy_j.l2: 'l2' is not a memory level of systolic-int8-32x32-os; allowed are sram, dram"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: [cycles]}}]\n",
     "entries.0.metrics.cycles.expected: no expected value; record one with `quarch baseline create`"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{cycles: {{expected: fast}}}}}}]\n",
     "entries.0.metrics.cycles.expected: 'fast': Input should be a valid number"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metric: [cycles]}}]\n",
     "entries.0.metric: unknown field; allowed are hw, metrics, name, set, workload"),
    (f"entries: [{{hw: {PRESET}, workload: resnet18, metrics: {{cycles: {{expected: 1}}}}}}, "
     f"{{hw: {PRESET}, workload: resnet18, metrics: {{cycles: {{expected: 1}}}}}}]\n",
     "entries 0 and 1 are both named 'systolic-int8-32x32-os / resnet18'"),
])
def test_bad_baselines_exit_2_with_one_line(tmp_path, text, message):
    path = tmp_path / "baseline.yaml"
    path.write_text(text)
    run = CliRunner().invoke(app, ["check", str(path)])
    assert run.exit_code == 2, run.output
    assert isinstance(run.exception, SystemExit)  # no other exception escaped
    assert run.stderr.startswith(f"error: {path}: ") and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stdout == ""


def test_bad_input_is_one_line_in_a_real_process_too(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("entries: [{hw: nope, workload: resnet18, metrics: {cycles: {expected: 1}}}]\n")
    for args in (("check", str(path)), ("check", str(tmp_path / "missing.yaml")),
                 ("baseline", "create", str(path), "-o", str(tmp_path / "out.yaml"))):
        run = quarch(*args)
        assert run.returncode == 2 and "Traceback" not in run.stderr + run.stdout
        assert len(run.stderr.strip().splitlines()) == 1
    assert "missing.yaml: cannot read file" in quarch("check", str(tmp_path / "missing.yaml")).stderr


def test_baseline_create_refuses_an_infeasible_entry(tmp_path):
    path = tmp_path / "entries.yaml"
    path.write_text(f"entries: [{{hw: {PRESET}, workload: llama2-7b-layer}}]\n")
    run = CliRunner().invoke(app, ["baseline", "create", str(path), "-o", str(tmp_path / "b.yaml")])
    assert run.exit_code == 2
    assert "entries.0: 'systolic-int8-32x32-os / llama2-7b-layer' is infeasible (weight format fp16" in run.stderr
    assert not (tmp_path / "b.yaml").exists()


def test_the_readme_example_is_a_valid_entries_file(tmp_path):
    section = (ROOT / "README.md").read_text().split("## Regression checks in CI", 1)[1].split("\n## ", 1)[0]
    path = tmp_path / "entries.yaml"
    path.write_text(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    entries = regression.load_baseline(path).entries
    assert [e.label for e in entries] == ["systolic-int8-32x32-os [array.rows=64] / resnet18",
                                          "our NPU on the decode layer"]
    assert "memory_energy_j.dram" in entries[1].metrics


# --------------------------------------------------------------------------- the project's own baseline

def test_the_committed_baseline_holds(tmp_path):
    """What CI guards: any model change that moves a number fails here until the baseline is remade
    (`quarch baseline create tests/baselines/entries.yaml -o tests/baselines/quarch.yaml`)."""
    junit = tmp_path / "junit.xml"
    run = quarch("check", str(COMMITTED.relative_to(ROOT)), "--junit", str(junit))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    names = [entry["name"] for entry in yaml.safe_load(COMMITTED.read_text())["entries"]]
    _validate_junit(junit, names, failing={})


def test_the_committed_baseline_covers_every_preset_and_builtin_workload_it_can_run():
    entries = regression.load_baseline(COMMITTED_ENTRIES).entries
    committed = regression.load_baseline(COMMITTED).entries
    assert [(e.label, e.hw, e.overrides, e.workload, list(e.metrics)) for e in entries] == \
        [(e.label, e.hw, e.overrides, e.workload, list(e.metrics)) for e in committed], \
        "tests/baselines/quarch.yaml is out of date with entries.yaml: remake it with `quarch baseline create`"
    guarded = {(e.hw, e.workload) for e in entries if not e.overrides}
    for preset in preset_names():
        for workload in BUILTIN:
            try:
                simulate(load_workload(workload), load_hardware(preset))
                feasible = True
            except Infeasible:
                feasible = False
            assert ((preset, workload) in guarded) == feasible, (preset, workload)
    assert any(e.hw.endswith(".cfg") and e.workload.endswith(".csv") for e in entries)
