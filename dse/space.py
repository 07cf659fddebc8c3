"""Space files: the designs a sweep may visit, the constraints they must meet, the objectives.

A space file is YAML, validated once when loaded (errors name the file and field):

    quarch_space: 1
    name: mac-resnet50
    hardware: systolic-int8-32x32-os     # base design: preset name or file (relative to this file)
    workloads: [resnet50]                 # each design runs on every workload listed
    aggregate: mean                       # a design's score over its workloads: mean | sum | max
    parameters:                           # evaluated in this order
      array.rows: {values: [16, 32, 64]}                      # any hardware field, by dotted path
      clock_hz: {range: [5.0e+8, 2.0e+9], steps: 4, log: true}
      memory.sram.capacity_bytes: {range: [65536, 1048576], step: 65536}
      hardware: {values: [systolic-int8-32x32-os, systolic-int8-64x64-ws]}   # base design choice
      workload: {values: [resnet18, resnet50]}   # workload choice (instead of `workloads`)
      formats.weight: {values: [int8, int4]}     # operand formats of every op of the workload
      pe.weight_format: {values: [int4], when: {formats.weight: int4}}       # conditional
    constraints: ["area_mm2 <= 5", "power_w <= 2"]
    objectives: [{metric: latency_s}, {metric: energy_j}, {metric: tops_per_w, goal: maximize}]
    nsga2: {population: 24}

Domains: `values` (a list), or `range: [lo, hi]` with `step` (lo, lo+step, ... <= hi) or
`steps: n` (n points, geometric with `log: true`); a range with neither is continuous
(random, LHS and NSGA-II sample it; the grid cannot). `integer: true` rounds to integers.
`when` activates a parameter only while earlier parameters take the given value(s); an
inactive parameter is absent from the point. Every strategy draws u in [0, 1) per parameter
and maps it with `Parameter.from_unit` (discrete: the floor(u*n)-th value).

A point's design is the base design (fully expanded, defaults included) with the
point's dotted-path overrides applied by `hwmodels.loader.apply_overrides`; its
`design_id` is a content hash of the base description, the overrides and the op formats
(so a changed base file gives new ids; the overrides are applied where the design is
evaluated, in parallel).
"""
from __future__ import annotations

import hashlib
import json
import math
import operator
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, PrivateAttr, ValidationError, model_validator

from hwmodels.loader import apply_overrides, load_hardware
from workloads.errors import SpecError, from_validation_error, register_model
from workloads.loader import load_workload
from workloads.ops import OpFormats
from workloads.workload import Workload, read_data_file

SPACE_VERSION = 1
BASE_PARAMETER = "hardware"
WORKLOAD_PARAMETER = "workload"
FORMAT_PREFIX = "formats."
FORMAT_FIELDS = tuple(OpFormats.model_fields)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@register_model
class Parameter(_Frozen):
    """One dimension of the space: a list of values or a numeric range, maybe conditional."""

    values: list[Any] | None = Field(default=None, min_length=1)
    range: tuple[float, float] | None = None
    step: float | None = Field(default=None, gt=0)
    steps: int | None = Field(default=None, ge=2)
    log: bool = False
    integer: bool = False
    when: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_domain(self) -> "Parameter":
        if (self.values is None) == (self.range is None):
            raise ValueError("give either `values: [...]` or `range: [lo, hi]`")
        if self.values is not None and (self.step or self.steps or self.log or self.integer):
            raise ValueError("step, steps, log and integer apply to a `range`, not to `values`")
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range [{lo}, {hi}] must have lo < hi")
            if self.step and self.steps:
                raise ValueError("give `step` or `steps`, not both")
            if self.log and (lo <= 0 or self.step):
                raise ValueError("a log range needs lo > 0 and `steps` (not `step`)")
        return self

    @cached_property
    def grid(self) -> list | None:
        """The finite list of values, or None for a continuous range."""
        if self.values is not None:
            return list(self.values)
        lo, hi = self.range
        if self.step:
            points = [lo + i * self.step for i in range(int(math.floor((hi - lo) / self.step + 1e-9)) + 1)]
        elif self.steps:
            fractions = [i / (self.steps - 1) for i in range(self.steps)]
            points = [lo * (hi / lo) ** f if self.log else lo + f * (hi - lo) for f in fractions]
        else:
            return None
        points = [self._number(p) for p in points]
        return list(dict.fromkeys(points))  # integer rounding may merge neighbours

    def from_unit(self, u: float):
        """The value at position u in [0, 1) of the domain."""
        if self.grid is not None:
            return self.grid[min(int(u * len(self.grid)), len(self.grid) - 1)]
        lo, hi = self.range
        return self._number(lo * (hi / lo) ** u if self.log else lo + u * (hi - lo))

    def _number(self, x: float):
        return int(round(x)) if self.integer else round(x, 12)

    def active(self, point: dict) -> bool:
        for name, wanted in self.when.items():
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if name not in point or point[name] not in allowed:
                return False
        return True

    @property
    def kind(self) -> str:
        """Column type: int, float, bool, str, or json (anything else, stored as JSON text)."""
        if self.range is not None:
            return "int" if self.integer else "float"
        types = {type(v) for v in self.values}
        if types == {bool}:
            return "bool"
        if types <= {int}:
            return "int"
        if types <= {int, float}:
            return "float"
        return "str" if types == {str} else "json"


@register_model
class Objective(_Frozen):
    metric: str
    goal: Literal["minimize", "maximize"] = "minimize"


@register_model
class Nsga2Settings(_Frozen):
    population: PositiveInt = 24


_COMPARE = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """`metric OP bound`, e.g. area_mm2 <= 5; `violation` is how far a value is outside (0 inside)."""

    metric: str
    op: str
    bound: float

    def holds(self, values) -> np.ndarray:
        return _COMPARE[self.op](np.asarray(values, dtype=float), self.bound)

    def violation(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        excess = {"<=": values - self.bound, "<": values - self.bound, ">=": self.bound - values,
                  ">": self.bound - values, "==": np.abs(values - self.bound)}[self.op]
        return np.where(self.holds(values), 0.0, np.maximum(excess, 0.0) + 1e-12 * (1 + abs(self.bound)))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


def parse_constraint(text: str, *, field: str = "constraints", file=None) -> Constraint:
    match = _CONSTRAINT.match(str(text))
    if match:
        try:
            return Constraint(match[1], match[2], float(match[3]))
        except ValueError:
            pass
    raise SpecError(f"{text!r}: a constraint is `metric OP number` with OP one of <=, <, >=, >, ==, "
                    "e.g. 'area_mm2 <= 5'", file=file, field=field)


@register_model
class Space(_Frozen):
    """A validated space file (see module docstring)."""

    quarch_space: Literal[1] = SPACE_VERSION
    name: str = Field(min_length=1)
    description: str = ""
    hardware: str = "systolic-int8-32x32-os"
    workloads: list[str] = Field(default=["resnet50"], min_length=1)
    aggregate: Literal["mean", "sum", "max"] = "mean"
    parameters: dict[str, Parameter] = Field(min_length=1)
    constraints: list[str] = []
    objectives: list[Objective] = Field(default=[Objective(metric="latency_s"), Objective(metric="energy_j")],
                                        min_length=1)
    nsga2: Nsga2Settings = Nsga2Settings()

    _folder: Path = PrivateAttr(default=Path("."))
    _file: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _conditions_refer_backwards(self) -> "Space":
        seen: list[str] = []
        for name, parameter in self.parameters.items():
            for other in parameter.when:
                if other not in seen:
                    raise ValueError(f"parameters.{name}.when names {other!r}, which must be a parameter "
                                     f"declared before it (earlier ones: {', '.join(seen) or 'none'})")
            if name.startswith(FORMAT_PREFIX) and name[len(FORMAT_PREFIX):] not in FORMAT_FIELDS:
                raise ValueError(f"parameter {name!r}: op formats are {', '.join(FORMAT_PREFIX + f for f in FORMAT_FIELDS)}")
            if re.fullmatch(r"memory\.[^.]+\.name", name):
                raise ValueError(f"parameter {name!r}: memory levels cannot be renamed in a sweep (the store's "
                                 "columns are named after the base designs' levels)")
            seen.append(name)
        if WORKLOAD_PARAMETER in self.parameters and "workloads" in self.model_fields_set:
            raise ValueError("give `workloads` (every design runs each) or a `workload` parameter (each "
                             "design runs the one it picks), not both")
        return self

    # --- derived views -------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @cached_property
    def constraint_list(self) -> tuple[Constraint, ...]:
        return tuple(parse_constraint(text, field=f"constraints.{i}", file=self._file)
                     for i, text in enumerate(self.constraints))

    @cached_property
    def base_choices(self) -> list[str]:
        parameter = self.parameters.get(BASE_PARAMETER)
        return [str(v) for v in parameter.values] if parameter else [self.hardware]

    @cached_property
    def workload_choices(self) -> list[str]:
        parameter = self.parameters.get(WORKLOAD_PARAMETER)
        return [str(v) for v in parameter.values] if parameter else list(self.workloads)

    @cached_property
    def bases(self) -> dict[str, dict]:
        """Each base design, validated and fully expanded (defaults included), as plain data."""
        return {spec: load_hardware(self._path_or_name(spec)).model_dump(mode="json")
                for spec in self.base_choices}

    @cached_property
    def level_names(self) -> list[str]:
        """Memory level names of every base design, in order of first appearance."""
        return list(dict.fromkeys(level["name"] for base in self.bases.values() for level in base["memory"]))

    @cached_property
    def hash(self) -> str:
        """Content hash of the validated space (comments and layout do not count)."""
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]

    def _path_or_name(self, spec: str) -> str:
        candidate = self._folder / spec
        return str(candidate) if Path(spec).suffix and candidate.exists() else spec

    # --- points --------------------------------------------------------------------------

    def grid_points(self):
        """Every point of the grid, in order (the last parameter varies fastest)."""
        for name, parameter in self.parameters.items():
            if parameter.grid is None:
                raise SpecError(f"{parameter.range}: a continuous range has no grid: give `step` or `steps`, or "
                                "use --strategy random, lhs or nsga2", file=self._file, field=f"parameters.{name}")
        yield from _expand(list(self.parameters.items()), {})

    def grid_size(self) -> int:
        return sum(1 for _ in self.grid_points())

    def point_from_unit(self, u) -> dict:
        """The point at unit-cube coordinates `u` (one per parameter; inactive ones ignored)."""
        point: dict = {}
        for (name, parameter), x in zip(self.parameters.items(), u):
            if parameter.active(point):
                point[name] = parameter.from_unit(float(x))
        return point

    def resolve(self, point: dict) -> "Design":
        """The design a point names: base design, overrides, workloads, op formats and content hash."""
        base = str(point.get(BASE_PARAMETER, self.hardware))
        formats = tuple(sorted((k[len(FORMAT_PREFIX):], v) for k, v in point.items() if k.startswith(FORMAT_PREFIX)))
        workloads = (str(point[WORKLOAD_PARAMETER]),) if WORKLOAD_PARAMETER in point else tuple(self.workloads)
        overrides = tuple(sorted(f"{k}={_yaml_scalar(v)}" for k, v in point.items()
                                 if k not in (BASE_PARAMETER, WORKLOAD_PARAMETER) and not k.startswith(FORMAT_PREFIX)))
        content = json.dumps([self._base_hashes[base], overrides, formats], default=str)
        return Design(point=point, design_id=hashlib.sha256(content.encode()).hexdigest()[:16], base=base,
                      overrides=overrides, workloads=workloads, formats=formats)

    @cached_property
    def _base_hashes(self) -> dict[str, str]:
        return {spec: hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()
                for spec, base in self.bases.items()}

    @cached_property
    def _workload_cache(self) -> dict:
        return {}

    def workload(self, spec: str, formats: tuple = ()) -> tuple[str, Workload]:
        """(content hash, workload) for a workload spec with op-format overrides applied to every op."""
        key = (spec, formats)
        if key not in self._workload_cache:
            workload = load_workload(self._path_or_name(spec))
            if formats:
                try:
                    workload = workload.model_copy(update={"ops": tuple(
                        op.model_copy(update={"formats": OpFormats.model_validate(
                            {**op.formats.model_dump(), **dict(formats)})}) for op in workload.ops)})
                except ValidationError as err:
                    raise from_validation_error(err, file=self._file, prefix="parameters.formats") from None
            text = json.dumps(workload.to_dict(), sort_keys=True)
            self._workload_cache[key] = (hashlib.sha256(text.encode()).hexdigest()[:16], workload)
        return self._workload_cache[key]

    def check(self) -> None:
        """Validate what needs loading: base designs, workloads, parameter paths, metric names."""
        from dse.evaluate import IDENTITY, metric_names  # the row schema lives with the evaluation
        for spec in self.base_choices:
            self._at(f"hardware {spec!r}", lambda: self.bases[spec])
        reserved = set(metric_names(self.level_names)) | set(IDENTITY)
        clash = sorted(set(self.names) - {WORKLOAD_PARAMETER} & reserved)
        if clash:
            raise SpecError(f"{clash[0]!r} is a result column, not a parameter", file=self._file,
                            field=f"parameters.{clash[0]}")

        for spec in self.workload_choices:
            self._at(f"workload {spec!r}", lambda: self.workload(spec))
        format_values = {name[len(FORMAT_PREFIX):]: p.grid or [] for name, p in self.parameters.items()
                         if name.startswith(FORMAT_PREFIX)}
        for field_name, values in format_values.items():
            for value in values:
                try:
                    OpFormats.model_validate({field_name: value})
                except ValidationError as err:
                    raise from_validation_error(err, file=self._file, prefix="parameters.formats") from None
        for name in self.names:
            if name not in (BASE_PARAMETER, WORKLOAD_PARAMETER) and not name.startswith(FORMAT_PREFIX):
                if not any(_has_path(base, name.split(".")) for base in self.bases.values()):
                    raise SpecError(f"{name!r} is not a field of the base design ({', '.join(self.base_choices)}); "
                                    f"top-level fields are {', '.join(next(iter(self.bases.values())))}",
                                    file=self._file, field=f"parameters.{name}")
        known = reserved - set(IDENTITY) | set(self.names)
        for where, metric in ([(f"objectives.{i}.metric", o.metric) for i, o in enumerate(self.objectives)]
                              + [(f"constraints.{i}", c.metric) for i, c in enumerate(self.constraint_list)]):
            if metric not in known:
                raise SpecError(f"{metric!r} is not a result metric or parameter; allowed are "
                                f"{', '.join(sorted(known))}", file=self._file, field=where)

    def _at(self, what: str, load) -> None:
        try:
            load()
        except SpecError as err:
            raise SpecError(f"{what}: {err}", file=self._file) from None


@dataclass(frozen=True)
class Design:
    """A resolved point: its base design and overrides (applied by the evaluator), workloads, formats."""

    point: dict
    design_id: str
    base: str
    overrides: tuple[str, ...]
    workloads: tuple[str, ...]
    formats: tuple

    def hardware(self, bases: dict[str, dict]) -> dict:
        """The design's hardware description (not yet validated); SpecError for a bad override."""
        return apply_overrides(bases[self.base], self.overrides)


def load_space(path: str | Path) -> Space:
    """Read and validate a space file; every problem is a one-line SpecError naming file and field."""
    path = Path(path)
    data = read_data_file(path)
    if not isinstance(data, dict) or data.get("quarch_space") != SPACE_VERSION:
        raise SpecError(f"not a quarch space file: the top level must be a mapping starting with "
                        f"'quarch_space: {SPACE_VERSION}', then name, parameters, ...", file=path)
    try:
        space = Space.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, file=path) from None
    space._folder, space._file = path.parent, str(path)
    space.check()
    return space


def _expand(parameters: list, point: dict):
    if not parameters:
        yield dict(point)
        return
    (name, parameter), rest = parameters[0], parameters[1:]
    if not parameter.active(point):
        yield from _expand(rest, point)
        return
    for value in parameter.grid:
        point[name] = value
        yield from _expand(rest, point)
        del point[name]


def _has_path(node, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(node, list):
            names = [item.get("name") for item in node if isinstance(item, dict)]
            if part in names:
                node = node[names.index(part)]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return False
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def _yaml_scalar(value) -> str:
    """`value` as YAML text that `yaml.safe_load` reads back identically (floats keep their dot)."""
    try:
        return _yaml_text(value)
    except TypeError:  # unhashable (a per-operand mapping): not cached
        return _yaml_text.__wrapped__(value)


@lru_cache(maxsize=65536, typed=True)
def _yaml_text(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 30).removesuffix("\n...\n").strip()
