"""Quantization and mixed-precision policies: per-op formats by layer, and quantized weight memory.

A policy resolves a `Precision` for every per-layer name (see `workloads.repeats`), in this
order, later steps winning:
  1. `default`: a uniform scheme — `W<w>A<a>[KV<kv>][G<group>]` in bits ("W4A16 g128",
     "W8A8", "W4A4KV4"; 16 bits = fp16, 32 = fp32, else INT<b>) or one format name for
     everything ("fp16", "fp8_e4m3"); `kv_cache` / `kv_group_size` set the KV format apart;
     `tables` is the format of embedding tables (fp16 unless a rule names them);
  2. `keep_first_last`: a scheme for the first weight layer (with its siblings reading the
     same input, e.g. k/v beside q) and the last one (LM head / classifier);
  3. `rules`: `{match: <fnmatch pattern>, scheme|weight|activation|kv|group_size: ...}`;
  4. `layers`: exact per-layer names (as HAWQ-style tools write them) -> a scheme, a format
     name or a bit count (both of which set the weight format), or a mapping of fields.
Formats by op role: parameter GEMM/conv: weight, activation, output = activation,
group_size (dropped for 16/32-bit and block formats); KV-cache GEMM: weight = KV format with
`kv_group_size`; activation x activation GEMM: activation everywhere; `gather`: the table
format; `kv_write`: output = KV format; other vector ops: activation.
Per-layer files: YAML (a policy, or a bare `name: format` mapping = `layers`) or CSV with a
`layer` column and any of `scheme`, `weight`, `activation`, `kv`, `group_size`, `bits`.
"""
from __future__ import annotations

import csv
import difflib
import fnmatch
import functools
import re
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator

from workloads.errors import SpecError, from_validation_error, register_model
from workloads.formats import FormatError, parse_format
from workloads.ops import Conv2d, Gemm, OpFormats, Vector
from workloads.repeats import layer_names, range_name, split_layers
from workloads.workload import Workload, read_data_file

_SCHEME = re.compile(r"w(\d+)a(\d+)(?:kv(\d+))?(?:g(\d+))?")
_CSV_FIELDS = ("scheme", "weight", "activation", "kv", "group_size", "bits")


@dataclass(frozen=True)
class Precision:
    """Resolved formats of one layer (canonical format names)."""

    weight: str
    activation: str
    kv: str
    table: str
    group_size: int | None = None
    kv_group_size: int | None = None


def bits_format(bits: int) -> str:
    """The format a bit count in a scheme means: 16 -> fp16, 32 -> fp32, 1..8 -> int<bits>."""
    if bits in (16, 32):
        return f"fp{bits}"
    if 1 <= bits <= 8:
        return f"int{bits}"
    raise FormatError(f"{bits} bits: allowed are 1..8 (INT), 16 (fp16) or 32 (fp32)")


def parse_scheme(text: str) -> dict:
    """Fields a uniform scheme sets: 'W4A16 g128' -> weight int4, activation fp16, group 128.

    A single format name ('fp16', 'fp8_e4m3', 'nvfp4') sets weight, activation and KV.
    """
    compact = re.sub(r"[\s\-_]+", "", str(text).lower())
    if match := _SCHEME.fullmatch(compact):
        fields = {"weight": bits_format(int(match[1])), "activation": bits_format(int(match[2])),
                  "group_size": int(match[4]) if match[4] else None}
        if match[3]:
            fields["kv"] = bits_format(int(match[3]))
        return fields
    try:
        name = parse_format(text).name
    except FormatError:
        raise FormatError(f"unknown scheme {text!r}: allowed are W<bits>A<bits>[KV<bits>][G<group>] "
                          "(e.g. W4A16G128, W8A8, W4A4KV4) or one number format name (e.g. fp16, fp8_e4m3)") from None
    return {"weight": name, "activation": name, "kv": name}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@register_model
class Override(_Frozen):
    """Fields a rule or per-layer entry sets; `scheme` first, then the explicit fields."""

    scheme: str | None = None
    weight: str | None = None
    activation: str | None = None
    kv: str | None = None
    group_size: int | None = Field(None, ge=0, description="0 = per-channel scales (no group)")

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, text: str | None) -> str | None:
        if text is not None:
            parse_scheme(text)
        return text

    @field_validator("weight", "activation", "kv")
    @classmethod
    def _format(cls, name: str | None) -> str | None:
        return None if name is None else parse_format(name).name

    def apply(self, p: Precision) -> Precision:
        fields = parse_scheme(self.scheme) if self.scheme else {}
        fields.update({k: v for k, v in (("weight", self.weight), ("activation", self.activation),
                                         ("kv", self.kv)) if v is not None})
        if self.group_size is not None:
            fields["group_size"] = self.group_size or None
        if "weight" in fields:
            fields["table"] = fields["weight"]
        return replace(p, **fields)


def _entry(value: object) -> object:
    """A per-layer entry: a mapping of fields, a scheme, or a weight format / bit count."""
    if isinstance(value, (dict, Override)):
        return value
    if isinstance(value, bool) or value is None:
        return value  # rejected by validation with the field named
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return {"weight": bits_format(int(value))}
    try:
        parse_format(value)
        return {"weight": value}
    except (FormatError, TypeError):
        return {"scheme": value}


@register_model
class Rule(Override):
    match: str = Field(min_length=1, description="fnmatch pattern over per-layer op names")


@register_model
class QuantPolicy(_Frozen):
    """A mixed-precision policy (see the module docstring for the order of resolution)."""

    default: str = "fp16"
    kv_cache: str | None = None
    kv_group_size: PositiveInt | None = None
    tables: str = "fp16"
    keep_first_last: str | None = None
    rules: tuple[Rule, ...] = ()
    layers: dict[str, Override] = {}

    @field_validator("default", "keep_first_last")
    @classmethod
    def _scheme(cls, text: str | None) -> str | None:
        if text is not None:
            parse_scheme(text)
        return text

    @field_validator("kv_cache", "tables")
    @classmethod
    def _format(cls, name: str | None) -> str | None:
        return None if name is None else parse_format(name).name

    @field_validator("layers", mode="before")
    @classmethod
    def _entries(cls, layers: object) -> object:
        return {k: _entry(v) for k, v in layers.items()} if isinstance(layers, dict) else layers

    @functools.cached_property
    def base(self) -> Precision:
        fields = parse_scheme(self.default)
        activation = fields["activation"]
        return Precision(weight=fields["weight"], activation=activation,
                         kv=self.kv_cache or fields.get("kv", activation), table=self.tables,
                         group_size=fields["group_size"] if "group_size" in fields else None,
                         kv_group_size=self.kv_group_size)

    @property
    def by_name(self) -> bool:
        """Whether formats depend on layer names (else one Precision for every op)."""
        return bool(self.keep_first_last or self.rules or self.layers)


def uniform(scheme: str, kv: str | None = None) -> QuantPolicy:
    """A uniform policy from a scheme (and an optional separate KV format)."""
    return QuantPolicy(default=scheme, kv_cache=kv)


def load_policy(path: str | Path) -> QuantPolicy:
    """A policy from a YAML file (full policy or bare per-layer mapping) or a per-layer CSV."""
    path = Path(path)
    if path.suffix == ".csv":
        data = {"layers": _read_csv(path)}
    elif path.suffix in (".yaml", ".yml", ".json"):
        data = read_data_file(path)
        if not isinstance(data, dict):
            raise SpecError("a policy is a mapping: policy fields (default, kv_cache, tables, keep_first_last, "
                            "rules, layers) or layer name -> format", file=path)
        if not set(data) & set(QuantPolicy.model_fields):
            data = {"layers": data}
    else:
        raise SpecError(f"suffix {path.suffix!r} not allowed for a policy: use .yaml, .yml, .json or .csv", file=path)
    try:
        return QuantPolicy.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, file=path) from None
    except FormatError as err:
        raise SpecError(str(err), file=path) from None


def _read_csv(path: Path) -> dict[str, dict]:
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except OSError as err:
        raise SpecError(f"cannot read file: {err.strerror}", file=path) from None
    header = [h.strip() for h in (rows[0].keys() if rows else [])]
    unknown = sorted(set(header) - {"layer", *_CSV_FIELDS})
    if "layer" not in header or unknown:
        raise SpecError(f"header {','.join(header) or '(empty)'}: needs a 'layer' column and any of "
                        f"{', '.join(_CSV_FIELDS)}" + (f"; unknown {', '.join(unknown)}" if unknown else ""),
                        file=path)
    layers = {}
    for line, row in enumerate(rows, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items()}
        fields = {k: v for k, v in row.items() if k in _CSV_FIELDS and v}
        if "bits" in fields:
            try:
                fields["weight"] = bits_format(int(fields.pop("bits")))
            except (ValueError, FormatError) as err:
                raise SpecError(f"bits: {err}", file=path, field=f"line {line}") from None
        layers[row["layer"]] = fields
    return layers


def apply_policy(workload: Workload, policy: QuantPolicy, *, file: str | Path | None = None) -> Workload:
    """`workload` with every op's formats from `policy`; ranged ops split where layers differ.

    A rule or layer entry that names no layer of the workload is a `SpecError` naming the
    closest layer.
    """
    if not policy.by_name:
        ops = tuple(op.model_copy(update={"formats": formats_for(op, policy.base)}) for op in workload.ops)
        return workload.model_copy(update={"ops": ops})
    names = [layer_names(op.name, op.repeat) for op in workload.ops]
    _check_names(policy, [n for per_op in names for n in per_op], file)
    keep = _first_last(workload.ops, names) if policy.keep_first_last else set()
    ops = []
    for op, per_layer in zip(workload.ops, names):
        precisions = [_resolve(policy, name, name in keep) for name in per_layer]
        ops += _split(op, per_layer, precisions)
    return workload.model_copy(update={"ops": tuple(ops)})


def _resolve(policy: QuantPolicy, name: str, keep: bool) -> Precision:
    p = policy.base
    if keep:
        p = Override(scheme=policy.keep_first_last).apply(p)
    for rule in policy.rules:
        if fnmatch.fnmatchcase(name, rule.match):
            p = rule.apply(p)
    if name in policy.layers:
        p = policy.layers[name].apply(p)
    return p


def _split(op, per_layer: list[str], precisions: list[Precision]) -> list:
    """One op per run of consecutive layers with equal precision."""
    if len(per_layer) == 1 or len(set(precisions)) == 1:
        return [op.model_copy(update={"formats": formats_for(op, precisions[0])})]
    template, first = split_layers(op.name, op.repeat)
    runs, start = [], 0
    for i in range(1, len(precisions) + 1):
        if i == len(precisions) or precisions[i] != precisions[start]:
            runs.append(op.model_copy(update={
                "name": range_name(template, first + start, first + i - 1), "repeat": i - start,
                "formats": formats_for(op, precisions[start])}))
            start = i
    return runs


def _is_weight_op(op) -> bool:
    return isinstance(op, Conv2d) or (isinstance(op, Gemm) and op.weight_kind == "parameter")


def _first_last(ops, names: list[list[str]]) -> set[str]:
    """Per-layer names of the first weight op (plus following weight ops reading the same
    input: same M and K) and of the last weight op."""
    weight_ops = [i for i, op in enumerate(ops) if _is_weight_op(op)]
    if not weight_ops:
        return set()
    first = weight_ops[0]
    keep = {names[first][0], names[weight_ops[-1]][-1]}
    lead = ops[first]
    for op, per_layer in zip(ops[first + 1:], names[first + 1:]):
        same_input = (isinstance(op, Gemm) and isinstance(lead, Gemm) and op.weight_kind == "parameter"
                      and (op.m, op.k, op.batch) == (lead.m, lead.k, lead.batch))
        if not same_input:
            break
        keep.add(per_layer[0])
    return keep


def _check_names(policy: QuantPolicy, names: list[str], file) -> None:
    known = set(names)
    for name in policy.layers:
        if name not in known:
            raise SpecError(f"{name!r} is not a layer of this workload{_closest(name, names)}", file=file,
                            field="layers")
    for index, rule in enumerate(policy.rules):
        if not any(fnmatch.fnmatchcase(n, rule.match) for n in names):
            raise SpecError(f"{rule.match!r} matches no layer of this workload{_closest(rule.match, names)}",
                            file=file, field=f"rules.{index}.match")


def _closest(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, list(dict.fromkeys(names)), n=1, cutoff=0.5)
    return f"; closest is {close[0]!r}" if close else f"; layers are e.g. {', '.join(list(dict.fromkeys(names))[:5])}"


def formats_for(op, p: Precision) -> OpFormats:
    """OpFormats of `op` under precision `p`, by the op's role (see the module docstring)."""
    return _formats(_role(op), p)


@functools.lru_cache(maxsize=4096)
def _formats(role: str, p: Precision) -> OpFormats:
    act = p.activation
    if role == "parameter":
        return OpFormats(weight=p.weight, activation=act, output=act, group_size=_group(p.weight, p.group_size))
    if role == "kv_cache":
        return OpFormats(weight=p.kv, activation=act, output=act, group_size=_group(p.kv, p.kv_group_size))
    if role == "gather":
        return OpFormats(weight=p.table, activation=p.table, output=act)
    if role == "kv_write":
        return OpFormats(weight=act, activation=act, output=p.kv)
    return OpFormats(weight=act, activation=act, output=act)


def _role(op) -> str:
    if isinstance(op, Conv2d):
        return "parameter"
    if isinstance(op, Gemm):
        return op.weight_kind
    return op.operation if op.operation in ("gather", "kv_write") else "vector"


def _group(name: str, group_size: int | None) -> int | None:
    fmt = parse_format(name)
    return None if fmt.kind == "block" or fmt.bits >= 16 else group_size


@dataclass(frozen=True)
class WeightMemory:
    """Stored model weights: GEMM/conv weights (elements + their group/block scales), lookup
    tables and other parameters (norms, biases), in bytes."""

    matmul_parameters: int
    element_bytes: float
    scale_bytes: float
    table_bytes: float
    other_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.element_bytes + self.scale_bytes + self.table_bytes + self.other_bytes


def weight_memory(workload: Workload, tables: dict[str, int] | None = None, other_parameters: int = 0,
                  other_format: str = "fp16") -> WeightMemory:
    """Weight memory of `workload`: per parameter op, elements = batch*K*N (conv: kh*kw*cin/groups*cout)
    times repeat, element bytes = elements*bits/8, scale bytes = elements*(bits_per_element
    + 16/group_size - bits)/8; `tables` (name -> entries) at the format of the gather op of
    that name (fp16 if none), `other_parameters` at `other_format`."""
    elements = element_bytes = scale_bytes = 0.0
    gathers = {op.name: op.formats.weight for op in workload.ops if isinstance(op, Vector) and op.operation == "gather"}
    for op in workload.ops:
        if not _is_weight_op(op):
            continue
        view = op.gemm_view()
        count = view.k * view.n * view.instances * op.repeat
        total = op.formats.weight_bytes(count)
        stored = count * parse_format(op.formats.weight).bits / 8
        elements += count
        element_bytes += stored
        scale_bytes += total - stored
    table_bytes = sum(n * parse_format(gathers.get(name, "fp16")).bits_per_element / 8
                      for name, n in (tables or {}).items())
    return WeightMemory(matmul_parameters=int(elements), element_bytes=element_bytes, scale_bytes=scale_bytes,
                        table_bytes=table_bytes,
                        other_bytes=other_parameters * parse_format(other_format).bits_per_element / 8)
