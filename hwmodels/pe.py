"""PE models: one small interface per PE family, one dispatch (`family_of`).

The contract every family answers for an op (its formats, kind and GEMM view; DESIGN.md §4):
  lanes(pe, op)             -> K elements one PE consumes per temporal step (dot-product width d)
  step_cycles(pe, op)       -> cycles per temporal step with no value information (dense worst case)
  serial_cost(pe, op)       -> SerialCost when timing depends on values (lock-step lanes), else None
  mac_counts(pe, op, mean)  -> {op kind: count per MAC} inside the PE (priced by hwmodels.costs);
                               `mean` is the mean effectual terms per element of the serial operand
                               from values (SerialCost.term_table)
  instance_counts(pe, op)   -> {op kind: count per GEMM instance} outside the PE array (table builds)
  area_um2(pe, table)       -> area of one PE
  default_formats(pe)       -> {role: format} an op's unstated operands take (`resolve_formats`)
Timing (sim.mapping): the GEMM is folded with K' = ceil(K/d); a fold of T steps lasts
T * step_cycles, or, with values, the sum over steps of the slowest lane of each lock-step group.
A PE with a `synthesized` table entry is priced per PE-cycle by it instead of `mac_counts`.

MAC baseline (this module): one native multiply + one accumulate per MAC and cycle. An integer
operand wider than the native one is processed in native-width slices (passes = ceil(b_w/n_w) *
ceil(b_a/n_a), each pass one multiply and one add); a narrower one uses the native unit.
Float operands need a float datapath whose exponent and mantissa cover them; integers
fit a float datapath whose significand holds them (b <= m + 1). Block formats (MX/NV)
add one scale multiply (in the accumulator format) per block of K per output.
With `fp8_vs_int8_cost_ratio` k, an FP multiplier of <= 8 bits and its accumulator are priced
as k x (INT8 multiplier + INT32 adder).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodels.costs import EnergyTable
from hwmodels.spec import PESpec
from workloads.formats import NumberFormat, parse_format
from workloads.ops import OpFormats


class Infeasible(ValueError):
    """The design cannot run this op (unsupported format, does not fit); carries the reason."""


@dataclass(frozen=True)
class SerialCost:
    """Value-dependent timing: which operand is processed serially and its cycles per element.

    An element with integer code c (see `workloads.values.to_codes`) takes `table[c - offset]`
    cycles; lanes of a lock-step group wait for the slowest; groups of `sync_lanes` lanes
    (None = all lanes of the fold) advance independently within a fold. `terms[c - offset]`
    counts the operations the element really performs (a zero element waits a cycle but adds
    nothing); None = the cycle table.
    """

    operand: str
    table: np.ndarray
    offset: int
    sync_lanes: int | None = None
    what: str = "effectual terms"
    terms: np.ndarray | None = None

    @property
    def term_table(self) -> np.ndarray:
        return self.table if self.terms is None else self.terms


class Family:
    """Defaults shared by the families; each family overrides what differs."""

    def lanes(self, pe, op) -> int:
        return 1

    def step_cycles(self, pe, op) -> float:
        raise NotImplementedError

    def serial_cost(self, pe, op) -> SerialCost | None:
        return None

    def mac_counts(self, pe, op, mean: float | None = None) -> dict[str, float]:
        raise NotImplementedError

    def instance_counts(self, pe, op) -> dict[str, float]:
        return {}

    def area_um2(self, pe, table: EnergyTable) -> float:
        raise NotImplementedError

    def default_formats(self, pe) -> dict[str, str]:
        return dict(pe.default_formats)


FAMILIES: dict[str, Family] = {}


def register(name: str):
    """Class decorator: make a Family the model of PE specs whose `family` is `name`."""
    def wrap(cls):
        FAMILIES[name] = cls()
        return cls
    return wrap


def family_of(pe: PESpec) -> Family:
    return FAMILIES[pe.family]


# ----------------------------------------------------------------------------- dispatch

def lanes(pe, op) -> int:
    return family_of(pe).lanes(pe, op)


def step_cycles(pe, op) -> float:
    return family_of(pe).step_cycles(pe, op)


def serial_cost(pe, op) -> SerialCost | None:
    return family_of(pe).serial_cost(pe, op)


def op_counts(pe, op, macs: int, instances: int, mean: float | None = None) -> dict[str, float]:
    """Operations of the whole op by kind: PE work (unless synthesized) plus per-instance extra work."""
    family = family_of(pe)
    counts = {} if pe.synthesized else {k: n * macs for k, n in family.mac_counts(pe, op, mean).items()}
    for kind, n in family.instance_counts(pe, op).items():
        counts[kind] = counts.get(kind, 0.0) + n * instances
    return counts


def resolve_formats(pe, op):
    """`op` with each unstated operand format replaced by the PE's default for it (if it has one).

    Formats the op states are kept, so a PE that cannot run them still refuses the op.
    """
    unstated = op.formats.unstated
    defaults = family_of(pe).default_formats(pe) if unstated else {}
    given = {role: defaults[role] for role in unstated if role in defaults}
    if not given:
        return op
    formats = op.formats.model_copy(update={**given, "unstated": tuple(r for r in unstated if r not in given)})
    return op.model_copy(update={"formats": formats})


def pe_area_um2(pe, table: EnergyTable) -> float:
    if pe.synthesized:
        return table.op_area_um2(pe.synthesized)
    return family_of(pe).area_um2(pe, table)


# ----------------------------------------------------------------------------- format helpers

def element(fmt: NumberFormat) -> NumberFormat:
    """The per-element format of a block format (MXFP4 -> FP4 E2M1); others unchanged."""
    return getattr(fmt, "element", None) or fmt


def fp_bits(fmt: NumberFormat) -> tuple[int, int] | None:
    exponent = getattr(fmt, "exp_bits", None)
    mantissa = getattr(fmt, "man_bits", None)
    return (exponent, mantissa) if exponent is not None else None


def int_bits(fmt_name: str, role: str, pe_name: str, max_bits: int) -> int:
    """Bits of an integer-like operand (INT, binary, ternary; block elements); Infeasible otherwise."""
    fmt = element(parse_format(fmt_name))
    if fp_bits(fmt) is not None or fmt.kind == "pow2":
        raise Infeasible(f"{role} format {fmt_name} is not an integer format: the {pe_name} PE takes "
                         f"integer {role}s of 1..{max_bits} bits")
    if fmt.bits > max_bits:
        raise Infeasible(f"{role} format {fmt_name} has {fmt.bits} bits: the {pe_name} PE takes at most "
                         f"{max_bits}")
    return fmt.bits


def add_kind(fmt_name: str) -> str:
    if fmt_name.startswith("int") and fmt_name[3:].isdigit():
        return f"add:{fmt_name}"
    fmt = parse_format(fmt_name)
    bits = fp_bits(fmt)
    return f"add:fp_e{bits[0]}m{bits[1]}" if bits else f"add:int{fmt.bits}"


def fp_kind(op: str, fmt_name: str) -> str:
    e, m = fp_bits(parse_format(fmt_name))
    return f"{op}:fp_e{e}m{m}"


def block_scale_counts(formats: OpFormats, accumulator: str) -> dict[str, float]:
    """Block formats (MX/NV): one scale multiply per block of K per output, per MAC 1/block."""
    counts: dict[str, float] = {}
    scale_kind = "mul:" + add_kind(accumulator).split(":", 1)[1]
    for name in (formats.weight, formats.activation):
        block = getattr(parse_format(name), "block_size", None)
        if block:
            counts[scale_kind] = counts.get(scale_kind, 0.0) + 1.0 / block
    return counts


def group_dequant_counts(formats: OpFormats, kind: str) -> dict[str, float]:
    """Per-group dequantization after the group's partial sum: one scale multiply per group per output."""
    return {kind: 1.0 / formats.group_size} if formats.group_size else {}


def merge(*parts: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for kind, n in part.items():
            out[kind] = out.get(kind, 0.0) + n
    return out


# ----------------------------------------------------------------------------- MAC baseline

def _slices(operand: NumberFormat, native: NumberFormat, role: str, pe_name: str) -> int:
    """Native-width passes needed for one operand (raises Infeasible when it cannot run)."""
    op_fp, native_fp = fp_bits(operand), fp_bits(native)
    if native_fp is None:
        if op_fp is not None:
            raise Infeasible(f"{role} format {operand.name} is floating point but the {pe_name} "
                             f"PE multiplies {native.name} integers")
        return math.ceil(operand.bits / native.bits)
    if op_fp is None:
        if operand.bits > native_fp[1] + 1:
            raise Infeasible(f"{role} format {operand.name} does not fit the {native.name} significand")
        return 1
    if op_fp[0] > native_fp[0] or op_fp[1] > native_fp[1]:
        raise Infeasible(f"{role} format {operand.name} does not fit the PE's {native.name} datapath")
    return 1


def passes(pe, formats: OpFormats) -> int:
    """MAC PE cycles per MAC: product of the weight and activation slice counts."""
    weight = element(parse_format(formats.weight))
    activation = element(parse_format(formats.activation))
    return (_slices(weight, parse_format(pe.weight_format), "weight", pe.weight_format)
            * _slices(activation, parse_format(pe.activation_format), "activation", pe.activation_format))


def _mul_kind(pe) -> str:
    """The multiplier the PE instantiates: int b_w x b_a, or one float datapath covering both operands."""
    operands = (parse_format(pe.weight_format), parse_format(pe.activation_format))
    floats = [fp_bits(f) for f in operands if fp_bits(f) is not None]
    if not floats:
        return f"mul:int{operands[0].bits}x{operands[1].bits}"
    exponent = max(e for e, _ in floats)
    mantissa = max([m for _, m in floats] + [f.bits - 1 for f in operands if fp_bits(f) is None])
    return f"mul:fp_e{exponent}m{mantissa}"


def _mac_unit(pe) -> tuple[str, str]:
    """(multiplier kind, accumulator kind), FP8 units re-priced as k x INT8 when the ratio is set."""
    mul, acc = _mul_kind(pe), add_kind(pe.accumulator_format)
    if pe.fp8_vs_int8_cost_ratio is not None and mul.startswith("mul:fp"):
        e, m = (int(x) for x in mul[len("mul:fp_e"):].split("m"))
        if 1 + e + m <= 8:
            k = pe.fp8_vs_int8_cost_ratio
            return f"mul:int8x8*{k:g}", f"add:int32*{k:g}"
    return mul, acc


def mac_op_counts(pe, formats: OpFormats) -> dict[str, float]:
    """MAC PE operations per MAC, by kind (passes multiply both multiplies and adds)."""
    n = passes(pe, formats)
    mul, acc = _mac_unit(pe)
    return merge({mul: float(n), acc: float(n)}, block_scale_counts(formats, pe.accumulator_format))


@register("mac")
class MacFamily(Family):
    def step_cycles(self, pe, op) -> float:
        return passes(pe, op.formats)

    def mac_counts(self, pe, op, mean=None):
        return mac_op_counts(pe, op.formats)

    def area_um2(self, pe, table):
        mul, acc = _mac_unit(pe)
        return table.op_area_um2(mul) + table.op_area_um2(acc)

    def default_formats(self, pe):
        """The native operand formats, outputs in the activation format; `default_formats` overrides."""
        native = {"weight": pe.weight_format, "activation": pe.activation_format, "output": pe.activation_format}
        return {**native, **pe.default_formats}


# The families register themselves on import (kept last: they import this module's contract).
from hwmodels import pe_bitserial, pe_lut, pe_shiftadd  # noqa: E402,F401
