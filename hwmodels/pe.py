"""PE models: for an op's formats, cycles per MAC step and operation counts by kind.

The contract every PE family answers (see DESIGN.md §4):
  passes(pe, formats)         -> cycles a PE spends per MAC of the op (integer >= 1)
  mac_op_counts(pe, formats)  -> {op kind: count per MAC}, priced by an EnergyTable
  pe_area_um2(pe, table)      -> area of one PE

MAC baseline: one native multiply + one accumulate per MAC and cycle. An integer operand
wider than the native one is processed in native-width slices (passes = ceil(b_w/n_w) *
ceil(b_a/n_a), each pass one multiply and one add); a narrower one uses the native unit.
Float operands need a float datapath whose exponent and mantissa cover them; integers
fit a float datapath whose significand holds them (b <= m + 1). Block formats (MX/NV)
add one scale multiply (in the accumulator format) per block of K per output.
"""
from __future__ import annotations

import math

from hwmodels.costs import EnergyTable
from hwmodels.spec import MacPE
from workloads.formats import NumberFormat, parse_format
from workloads.ops import OpFormats


class Infeasible(ValueError):
    """The design cannot run this op (unsupported format, does not fit); carries the reason."""


def _element(fmt: NumberFormat) -> NumberFormat:
    """The per-element format of a block format (MXFP4 -> FP4 E2M1); others unchanged."""
    return getattr(fmt, "element", None) or fmt


def _fp_bits(fmt: NumberFormat) -> tuple[int, int] | None:
    exponent = getattr(fmt, "exp_bits", None)
    mantissa = getattr(fmt, "man_bits", None)
    return (exponent, mantissa) if exponent is not None else None


def _slices(operand: NumberFormat, native: NumberFormat, role: str, pe_name: str) -> int:
    """Native-width passes needed for one operand (raises Infeasible when it cannot run)."""
    op_fp, native_fp = _fp_bits(operand), _fp_bits(native)
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


def passes(pe: MacPE, formats: OpFormats) -> int:
    """Cycles per MAC: product of the weight and activation slice counts."""
    weight = _element(parse_format(formats.weight))
    activation = _element(parse_format(formats.activation))
    return (_slices(weight, parse_format(pe.weight_format), "weight", pe.weight_format)
            * _slices(activation, parse_format(pe.activation_format), "activation", pe.activation_format))


def _mul_kind(pe: MacPE) -> str:
    """The multiplier the PE instantiates: int b_w x b_a, or one float datapath covering both operands."""
    operands = (parse_format(pe.weight_format), parse_format(pe.activation_format))
    floats = [_fp_bits(f) for f in operands if _fp_bits(f) is not None]
    if not floats:
        return f"mul:int{operands[0].bits}x{operands[1].bits}"
    exponent = max(e for e, _ in floats)
    mantissa = max([m for _, m in floats] + [f.bits - 1 for f in operands if _fp_bits(f) is None])
    return f"mul:fp_e{exponent}m{mantissa}"


def _add_kind(fmt_name: str) -> str:
    if fmt_name.startswith("int") and fmt_name[3:].isdigit():
        return f"add:{fmt_name}"
    fmt = parse_format(fmt_name)
    bits = _fp_bits(fmt)
    return f"add:fp_e{bits[0]}m{bits[1]}" if bits else f"add:int{fmt.bits}"


def mac_op_counts(pe: MacPE, formats: OpFormats) -> dict[str, float]:
    """Operations per MAC of the op, by kind (passes multiply both multiplies and adds)."""
    n = passes(pe, formats)
    counts = {_mul_kind(pe): float(n), _add_kind(pe.accumulator_format): float(n)}
    for name in (formats.weight, formats.activation):
        fmt = parse_format(name)
        block = getattr(fmt, "block_size", None)
        if block:
            scale_kind = "mul:" + _add_kind(pe.accumulator_format).split(":", 1)[1]
            counts[scale_kind] = counts.get(scale_kind, 0.0) + 1.0 / block
    return counts


def pe_area_um2(pe: MacPE, table: EnergyTable) -> float:
    """One native multiplier plus one accumulator adder."""
    return table.op_area_um2(_mul_kind(pe)) + table.op_area_um2(_add_kind(pe.accumulator_format))
