"""Regression checks on simulated figures: baseline files, re-simulation, verdicts, JUnit XML.

A baseline file (YAML or JSON) lists entries; each names a design (`hw`: preset name, quarch
YAML file or SCALE-Sim .cfg, plus `set` overrides as in `--set`), a `workload` (anything
`load_workload` accepts) and the metrics it guards, with expected values and tolerances:

    quarch_version: 0.1.0            # written by `quarch baseline create`
    git_revision: 56f3373...         # idem ("-dirty" when the tree had changes)
    tolerance: {rel_tol: 1.0e-6}     # default for metrics that state none
    entries:
      - name: int8-os resnet18       # optional; defaults to "<hw> [<set>...] / <workload>"
        hw: systolic-int8-32x32-os
        set: [array.rows=64]
        workload: resnet18
        metrics:
          latency_s: {expected: 2.79e-3, rel_tol: 0.01}
          energy_j: {expected: 3.9e-3, abs_tol: 1.0e-5}
          memory_energy_j.dram: {expected: 2.1e-3}   # per-level figures: field.level

Files named by `hw` or `workload` are relative to the baseline's folder. An entries file for
`baseline create` has the same shape without `expected`; its metrics may be a plain list of names,
or left out (DEFAULT_METRICS).

Verdict per metric, with expected e, actual a and allowed deviation d = max(rel_tol*|e|, abs_tol)
(a metric with neither uses the file's `tolerance`, else DEFAULT_TOLERANCE):
    lower-is-better:  a > e + d -> regressed,  a < e - d -> improved,  else ok
    higher-is-better: a < e - d -> regressed,  a > e + d -> improved,  else ok
    must-match:       |a - e| > d -> regressed, else ok
Bounds are inclusive, up to the rounding of the subtraction (ROUNDING_ULPS units in the last place
of the larger value), so a value written exactly at the bound in decimal holds. An improvement
passes unless the check is strict. An entry whose design can no longer run its workload fails.
"""
from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hwmodels.loader import load_hardware, preset_names
from hwmodels.pe import Infeasible
from hwmodels.spec import Hardware
from sim.result import HIGHER_IS_BETTER, Total
from sim.simulate import simulate
from workloads.builtin import BUILTIN
from workloads.errors import SpecError, from_validation_error, register_model
from workloads.loader import load_workload
from workloads.workload import Workload, read_data_file

LOWER, HIGHER, MATCH = "lower", "higher", "match"

# Which way is better, for every numeric field of `sim.result.Total` (`bound` names a resource; dict
# fields are per memory level and are guarded as `field.level`). `macs` is a property of the workload,
# not of the design: any change means the entry no longer measures the same thing.
DIRECTIONS: dict[str, str] = {
    f.name: MATCH if f.name == "macs" else HIGHER if f.name in HIGHER_IS_BETTER else LOWER
    for f in fields(Total) if f.name != "bound"}
PER_LEVEL = ("memory_energy_j", "read_bytes", "write_bytes")  # dict[level name, value] fields of Total
DEFAULT_METRICS = ("latency_s", "throughput_inferences_per_s", "energy_j", "tops_per_w", "area_mm2")
ROUNDING_ULPS = 4

OK, IMPROVED, REGRESSED, INFEASIBLE = "ok", "improved", "regressed", "infeasible"


def direction(metric: str) -> str:
    """lower / higher / match for a metric name (`field` or `field.level`)."""
    return DIRECTIONS[metric.split(".", 1)[0]]


# --------------------------------------------------------------------------- the file format

class Tolerance(BaseModel):
    """Allowed deviation: max(rel_tol * |expected|, abs_tol), in the metric's own unit for abs_tol."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rel_tol: float = Field(0.0, ge=0, allow_inf_nan=False)
    abs_tol: float = Field(0.0, ge=0, allow_inf_nan=False)

    def allowed(self, expected: float) -> float:
        return max(self.rel_tol * abs(expected), self.abs_tol)

    def describe(self) -> str:
        parts = ([f"±{self.rel_tol * 100:.3g}%"] if self.rel_tol else []) + ([f"±{self.abs_tol:.3g}"] if self.abs_tol else [])
        return " or ".join(parts) or "exact"


DEFAULT_TOLERANCE = Tolerance(rel_tol=1e-6)  # numerical noise between machines, nothing more


class MetricSpec(BaseModel):
    """One guarded metric: its expected value (absent in an entries file) and its own tolerance."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    expected: float | None = Field(None, allow_inf_nan=False)
    rel_tol: float | None = Field(None, ge=0, allow_inf_nan=False)
    abs_tol: float | None = Field(None, ge=0, allow_inf_nan=False)

    def tolerance(self, default: Tolerance) -> Tolerance:
        if self.rel_tol is None and self.abs_tol is None:
            return default
        return Tolerance(rel_tol=self.rel_tol or 0.0, abs_tol=self.abs_tol or 0.0)


class Entry(BaseModel):
    """A design on a workload and the metrics guarded there."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str | None = None
    hw: str = Field(min_length=1)
    overrides: tuple[str, ...] = Field((), alias="set")
    workload: str = Field(min_length=1)
    metrics: dict[str, MetricSpec] = Field(default_factory=lambda: {m: MetricSpec() for m in DEFAULT_METRICS})

    @field_validator("metrics", mode="before")
    @classmethod
    def _names_or_mapping(cls, value):
        """`metrics: [latency_s, energy_j]` means each with the default tolerance; `metric:` alone too."""
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            value = {name: {} for name in value}
        if isinstance(value, dict):
            value = {name: {} if spec is None else spec for name, spec in value.items()}
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        if not value:
            raise ValueError("an entry guards at least one metric")
        for name in value:
            field, dot, level = name.partition(".")
            if field not in DIRECTIONS or (dot and (field not in PER_LEVEL or not level)) \
                    or (not dot and field in PER_LEVEL):
                raise ValueError(f"unknown metric {name!r}; allowed are "
                                 f"{', '.join(m for m in DIRECTIONS if m not in PER_LEVEL)}, "
                                 f"and per memory level {', '.join(f'{m}.<level>' for m in PER_LEVEL)}")
        return value

    @property
    def label(self) -> str:
        return self.name or " ".join([self.hw, *(f"[{o}]" for o in self.overrides), "/", self.workload])


class Baseline(BaseModel):
    """A baseline (or, without expected values, an entries file for `quarch baseline create`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    quarch_version: str | None = None
    git_revision: str | None = None
    tolerance: Tolerance = DEFAULT_TOLERANCE
    entries: tuple[Entry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self):
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            if entry.label in seen:
                raise ValueError(f"entries {seen[entry.label]} and {index} are both named {entry.label!r}; "
                                 "give each entry its own `name`")
            seen[entry.label] = index
        return self


for _model in (Tolerance, MetricSpec, Entry, Baseline):
    register_model(_model)


def load_baseline(path: str | Path) -> Baseline:
    """Parse and validate a baseline or entries file (one-line `SpecError` on anything wrong)."""
    path = Path(path)
    data = read_data_file(path)
    if not isinstance(data, dict):
        raise SpecError("a baseline is a YAML mapping with an `entries:` list of {hw, workload, metrics}",
                        file=path)
    try:
        return Baseline.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, file=path) from None


# --------------------------------------------------------------------------- resolving entries

@dataclass(frozen=True)
class Case:
    """An entry with its design and workload loaded (validated at the edge, before any simulation)."""

    entry: Entry
    hardware: Hardware
    workload: Workload


def _file_spec(spec: str, base_dir: Path, is_name) -> Path | None:
    """The file `spec` names, relative to `base_dir`; None for a preset/built-in/inline name."""
    if is_name(spec):
        return None
    path = Path(spec)
    return path if path.is_absolute() else base_dir / path


def _is_hw_name(spec: str) -> bool:
    """A preset (or a misspelt one, left for `load_hardware` to report) rather than a file."""
    return spec in preset_names() or (Path(spec).suffix not in (".yaml", ".yml", ".cfg", ".json") and "/" not in spec)


def _is_workload_name(spec: str) -> bool:
    """A built-in or inline workload (or a misspelt one, left for `load_workload` to report) rather than a file."""
    inline = spec.partition(":")[0].lower() in ("gemm", "conv")
    return spec in BUILTIN or inline or (Path(spec).suffix not in (".csv", ".yaml", ".yml", ".json") and "/" not in spec)


def resolve(baseline: Baseline, path: str | Path) -> list[Case]:
    """Load every entry's design and workload; errors name the baseline file and the entry's field."""
    path = Path(path)
    cases = []
    for index, entry in enumerate(baseline.entries):
        where = f"entries.{index}"
        try:
            hw_file = _file_spec(entry.hw, path.parent, _is_hw_name)
            hardware = load_hardware(hw_file or entry.hw, entry.overrides)
            wl_file = _file_spec(entry.workload, path.parent, _is_workload_name)
            workload = load_workload(str(wl_file) if wl_file else entry.workload)
        except SpecError as err:
            flag_fields = {"--hw": "hw", "--set": "set", "--workload": "workload"}
            if err.field in flag_fields:
                raise SpecError(err.detail, file=path, field=f"{where}.{flag_fields[err.field]}") from None
            raise SpecError(str(err), file=path, field=where) from None
        levels = [level.name for level in hardware.memory]
        for metric in entry.metrics:
            field, dot, level = metric.partition(".")
            if dot and level not in levels:
                raise SpecError(f"{level!r} is not a memory level of {hardware.name}; allowed are "
                                f"{', '.join(levels)}", file=path, field=f"{where}.metrics.{metric}")
        cases.append(Case(entry, hardware, workload))
    return cases


# --------------------------------------------------------------------------- simulating

@dataclass(frozen=True)
class Measurement:
    """Figures of one case, or why its design cannot run its workload."""

    total: Total | None
    infeasible: str | None
    seconds: float


def _measure(hardware: Hardware, workload: Workload) -> Measurement:
    start = time.perf_counter()
    try:
        total = simulate(workload, hardware).total
    except Infeasible as err:
        return Measurement(None, str(err), time.perf_counter() - start)
    return Measurement(total, None, time.perf_counter() - start)


def measure(cases: list[Case], jobs: int | None = None) -> list[Measurement]:
    """Simulate every case, in `jobs` worker processes (all cores by default; 1: in this process)."""
    jobs = min(jobs or os.cpu_count() or 1, len(cases))
    if jobs <= 1:
        return [_measure(case.hardware, case.workload) for case in cases]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_measure, [c.hardware for c in cases], [c.workload for c in cases]))


def metric_value(total: Total, metric: str) -> int | float:
    """The value of `field` or `field.level` in a result's totals (counts stay integers)."""
    field, dot, level = metric.partition(".")
    value = getattr(total, field)
    return value[level] if dot else value


# --------------------------------------------------------------------------- verdicts

def judge(expected: float, actual: float, way: str, tolerance: Tolerance) -> str:
    """ok / improved / regressed for one metric (see the module docstring for the rule)."""
    if not math.isfinite(actual):
        return REGRESSED
    slack = ROUNDING_ULPS * sys.float_info.epsilon * max(abs(expected), abs(actual))
    allowed = tolerance.allowed(expected) + slack
    if way == MATCH:
        return OK if abs(actual - expected) <= allowed else REGRESSED
    worse = actual - expected if way == LOWER else expected - actual
    if worse > allowed:
        return REGRESSED
    return IMPROVED if -worse > allowed else OK


@dataclass(frozen=True)
class MetricVerdict:
    metric: str
    direction: str
    expected: float
    actual: float
    tolerance: Tolerance
    status: str

    @property
    def delta_pct(self) -> float:
        if self.expected == 0:
            return 0.0 if self.actual == 0 else math.copysign(math.inf, self.actual)
        return (self.actual - self.expected) / abs(self.expected) * 100

    def failed(self, strict: bool) -> bool:
        return self.status == REGRESSED or (strict and self.status == IMPROVED)

    def describe(self) -> str:
        rule = "must match" if self.direction == MATCH else f"{self.direction} is better"
        return (f"{self.metric} {self.status}: expected {self.expected:.6g}, actual {self.actual:.6g} "
                f"({self.delta_pct:+.3g}%), tolerance {self.tolerance.describe()}, {rule}")

    def to_dict(self) -> dict:
        return {"metric": self.metric, "direction": self.direction, "expected": self.expected,
                "actual": self.actual, "delta_pct": self.delta_pct, "rel_tol": self.tolerance.rel_tol,
                "abs_tol": self.tolerance.abs_tol, "status": self.status}


@dataclass(frozen=True)
class EntryVerdict:
    name: str
    hw: str
    workload: str
    seconds: float
    metrics: tuple[MetricVerdict, ...]
    infeasible: str | None = None

    def failures(self, strict: bool) -> list[MetricVerdict]:
        return [m for m in self.metrics if m.failed(strict)]

    def failed(self, strict: bool) -> bool:
        return self.infeasible is not None or bool(self.failures(strict))

    def to_dict(self, strict: bool) -> dict:
        return {"name": self.name, "hw": self.hw, "workload": self.workload, "seconds": self.seconds,
                "passed": not self.failed(strict), "infeasible": self.infeasible,
                "metrics": [m.to_dict() for m in self.metrics]}


@dataclass(frozen=True)
class Report:
    """Verdicts of one `quarch check` run, with where the baseline and the current figures came from."""

    baseline: str
    recorded_version: str | None
    recorded_revision: str | None
    version: str
    revision: str
    strict: bool
    entries: tuple[EntryVerdict, ...]

    @property
    def passed(self) -> bool:
        return not any(entry.failed(self.strict) for entry in self.entries)

    def counts(self) -> dict[str, int]:
        statuses = [m.status for e in self.entries for m in e.metrics]
        statuses += [INFEASIBLE for e in self.entries if e.infeasible]
        return {status: statuses.count(status) for status in (OK, IMPROVED, REGRESSED, INFEASIBLE)}

    def to_dict(self) -> dict:
        return {"baseline": self.baseline, "passed": self.passed, "strict": self.strict,
                "recorded": {"quarch_version": self.recorded_version, "git_revision": self.recorded_revision},
                "current": {"quarch_version": self.version, "git_revision": self.revision},
                "counts": self.counts(), "entries": [e.to_dict(self.strict) for e in self.entries]}

    def to_junit_xml(self) -> str:
        """JUnit XML (Jenkins/Surefire junit-10 schema): one test case per entry, one failure naming
        the metrics that failed (or an error when the design can no longer run the workload)."""
        failures = sum(1 for e in self.entries if e.infeasible is None and e.failed(self.strict))
        errors = sum(1 for e in self.entries if e.infeasible is not None)
        seconds = f"{sum(e.seconds for e in self.entries):.3f}"
        root = ET.Element("testsuites", name="quarch check", tests=str(len(self.entries)),
                          failures=str(failures), errors=str(errors), time=seconds)
        suite = ET.SubElement(root, "testsuite", name=f"quarch check {self.baseline}", tests=str(len(self.entries)),
                              failures=str(failures), errors=str(errors), skipped="0", time=seconds,
                              timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              hostname=platform.node() or "localhost")
        properties = ET.SubElement(suite, "properties")
        for name, value in (("quarch_version", self.version), ("git_revision", self.revision),
                            ("baseline_quarch_version", self.recorded_version or "unknown"),
                            ("baseline_git_revision", self.recorded_revision or "unknown"),
                            ("strict", str(self.strict).lower())):
            ET.SubElement(properties, "property", name=name, value=value)
        classname = "quarch.check." + Path(self.baseline).stem
        for entry in self.entries:
            case = ET.SubElement(suite, "testcase", name=entry.name, classname=classname, time=f"{entry.seconds:.3f}")
            if entry.infeasible is not None:
                ET.SubElement(case, "error", type=INFEASIBLE, message=entry.infeasible).text = \
                    f"{entry.hw} can no longer run {entry.workload}: {entry.infeasible}"
            elif bad := entry.failures(self.strict):
                kinds = sorted({m.status for m in bad})
                ET.SubElement(case, "failure", type=" and ".join(kinds), message="; ".join(m.describe() for m in bad)) \
                    .text = "\n".join(m.describe() for m in bad)
            ET.SubElement(case, "system-out").text = "\n".join(m.describe() for m in entry.metrics)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- the two operations

def quarch_version() -> str:
    try:
        return metadata.version("quarch")
    except metadata.PackageNotFoundError:
        from quarch import __version__
        return __version__


def git_revision() -> str:
    """Commit of the quarch source tree that runs ("-dirty" with uncommitted changes); "unknown" outside git."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return "unknown"  # installed elsewhere: the enclosing repository is not quarch's
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check(path: str | Path, *, strict: bool = False, jobs: int | None = None) -> Report:
    """Re-simulate every entry of the baseline at `path` and judge each guarded metric."""
    baseline = load_baseline(path)
    for index, entry in enumerate(baseline.entries):
        for metric, spec in entry.metrics.items():
            if spec.expected is None:
                raise SpecError("no expected value; record one with `quarch baseline create`",
                                file=path, field=f"entries.{index}.metrics.{metric}.expected")
    cases = resolve(baseline, path)
    verdicts = []
    for case, result in zip(cases, measure(cases, jobs)):
        entry = case.entry
        metrics = []
        if result.total is not None:
            for metric, spec in entry.metrics.items():
                tolerance = spec.tolerance(baseline.tolerance)
                actual = metric_value(result.total, metric)
                metrics.append(MetricVerdict(metric, direction(metric), spec.expected, actual, tolerance,
                                             judge(spec.expected, actual, direction(metric), tolerance)))
        verdicts.append(EntryVerdict(entry.label, entry.hw, entry.workload, result.seconds, tuple(metrics),
                                     result.infeasible))
    return Report(str(path), baseline.quarch_version, baseline.git_revision, quarch_version(), git_revision(),
                  strict, tuple(verdicts))


def create(entries_path: str | Path, output_path: str | Path, *, jobs: int | None = None) -> dict:
    """Simulate every entry and return the baseline (plain data, ready for YAML) recording the current
    values, the quarch version and the git revision; file paths are rewritten relative to `output_path`."""
    entries_path, output_path = Path(entries_path), Path(output_path)
    baseline = load_baseline(entries_path)
    cases = resolve(baseline, entries_path)
    out_dir = output_path.resolve().parent
    recorded = []
    for index, (case, result) in enumerate(zip(cases, measure(cases, jobs))):
        entry = case.entry
        if result.total is None:
            raise SpecError(f"{entry.label!r} is infeasible ({result.infeasible}); an entry must be a design "
                            "that can run its workload", file=entries_path, field=f"entries.{index}")
        data: dict = {"name": entry.label, "hw": _relocate(entry.hw, entries_path, out_dir, _is_hw_name)}
        if entry.overrides:
            data["set"] = list(entry.overrides)
        data["workload"] = _relocate(entry.workload, entries_path, out_dir, _is_workload_name)
        data["metrics"] = {metric: {"expected": metric_value(result.total, metric),
                                    **spec.model_dump(exclude={"expected"}, exclude_none=True)}
                           for metric, spec in entry.metrics.items()}
        recorded.append(data)
    return {"quarch_version": quarch_version(), "git_revision": git_revision(),
            "tolerance": baseline.tolerance.model_dump(), "entries": recorded}


def _relocate(spec: str, entries_path: Path, out_dir: Path, is_name) -> str:
    """`spec` as the output file must write it: files re-expressed relative to the output's folder."""
    file = _file_spec(spec, entries_path.parent, is_name)
    if file is None or Path(spec).is_absolute():
        return spec
    return os.path.relpath(file.resolve(), out_dir)
