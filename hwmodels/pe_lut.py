"""LUT-based PE families: LUT Tensor Core, T-MAC-style CPU kernel, LUT-GEMM (pe-models.md §3).

Y[M,N] = A[M,K] W[K,N] with b-bit weights split into b bit-planes; the activations of a group
of g consecutive K elements form a table of 2^g signed sums (2^(g-1) stored with symmetrization,
the top index bit flipping the sign); each bit-plane's g weight bits index it.
  lanes d = g (K elements per lookup); step = b cycles (one bit-plane per cycle, LUT Tensor Core
  RTL: B_BIT cycles per 2x64x4 tile -> 512/b MAC/cycle per unit; LUT-GEMM likewise per mu group)
  per MAC:  b/g lookups + b/g accumulating adds (bit-plane scaling 2^i is an exponent increment
            on FP tables, free), + 1/G dequantization multiplies with a weight group G
  per instance: table precompute M * (K/g) * 2^(g-1) entries, one add each (built incrementally;
            fused into the producer of A, so counted outside the PE array); LUT-GEMM/ShiftAddLLM
            build full 2^mu-entry tables (no symmetrization).
T-MAC (CPU): an array of `lookups_per_instruction` lanes (one TBL/pshufb instruction, 16 int8
lookups) per core; per step b lookup instructions + b accumulate instructions, divided by the
instructions per cycle; the memory roofline comes from the design's memory hierarchy (decode is
bandwidth-bound). Compute is linear in b (T-MAC README).
Lookup area is a select multiplexer without a sourced figure (priced 0): LUT PE areas are the
adder only, a lower bound.
"""
from __future__ import annotations

import math

from hwmodels.pe import Family, Infeasible, element, fp_bits, fp_kind, group_dequant_counts, merge, parse_format, \
    register


def weight_planes(fmt_name: str, pe_name: str, max_bits: int) -> int:
    """Bit-planes of an integer-like weight (binary 1, ternary 2, INT-b b)."""
    fmt = element(parse_format(fmt_name))
    if fp_bits(fmt) is not None or fmt.kind == "pow2":
        raise Infeasible(f"weight format {fmt_name} has no bit-planes: the {pe_name} PE takes integer, "
                         f"binary or ternary weights of at most {max_bits} bits")
    if fmt.bits > max_bits:
        raise Infeasible(f"weight format {fmt_name} has {fmt.bits} bits: the {pe_name} PE takes at most {max_bits}")
    return fmt.bits


def table_add_kind(activation: str, table_bits: int, pe_name: str) -> str:
    """The adder of table entries: FP16 tables for float activations, integer tables otherwise."""
    fmt = element(parse_format(activation))
    fp = fp_bits(fmt)
    if fp is not None:
        if fp[0] > 5 or fp[1] > 10:
            raise Infeasible(f"activation format {activation} does not fit the {pe_name} PE's FP16 tables")
        return "add:fp_e5m10"
    if fmt.kind == "pow2":
        raise Infeasible(f"activation format {activation} is not supported by the {pe_name} PE")
    return f"add:int{max(table_bits, fmt.bits)}"


class _Lut(Family):
    """Shared LUT-mpGEMM counting; subclasses set the group, the table entries and the PE name."""

    name = "LUT"

    def group(self, pe) -> int:
        return pe.group

    def entries(self, pe) -> int:
        return 2 ** (self.group(pe) - 1)

    def lanes(self, pe, op):
        return self.group(pe)

    def step_cycles(self, pe, op):
        return float(weight_planes(op.formats.weight, self.name, pe.max_weight_bits))

    def mac_counts(self, pe, op, mean=None):
        planes = weight_planes(op.formats.weight, self.name, pe.max_weight_bits)
        add = table_add_kind(op.formats.activation, pe.table_bits, self.name)
        per_lookup = planes / self.group(pe)
        return merge({f"lookup:{pe.table_bits}b": per_lookup, add: per_lookup},
                     group_dequant_counts(op.formats, fp_kind("mul", "fp16")))

    def instance_counts(self, pe, op):
        view = op.gemm_view()
        add = table_add_kind(op.formats.activation, pe.table_bits, self.name)
        return {add: view.m * math.ceil(view.k / self.group(pe)) * self.entries(pe)}

    def area_um2(self, pe, table):
        return table.op_area_um2(f"lookup:{pe.table_bits}b") + table.op_area_um2("add:fp_e5m10")


@register("lut_tensor_core")
class LutTensorCore(_Lut):
    name = "LUT Tensor Core"


@register("lut_gemm")
class LutGemm(_Lut):
    name = "LUT-GEMM"

    def group(self, pe):
        return pe.mu

    def entries(self, pe):
        return 2 ** pe.mu


@register("tmac")
class TMac(_Lut):
    name = "T-MAC"

    def step_cycles(self, pe, op):
        planes = weight_planes(op.formats.weight, self.name, pe.max_weight_bits)
        return 2.0 * planes / pe.instructions_per_cycle  # one lookup + one accumulate instruction per plane
