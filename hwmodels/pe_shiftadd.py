"""Shift-and-add (multiplication-free) PE families: MixPE, ShiftAddLLM, DeepShift/DenseShift, L-Mul.

  MixPE        d = floor(pmax/P_a) * floor(pmax/P_w) packed MACs per PE and cycle (the MixPE
               simulator's output-stationary formula: cycles = ceil(BT/(N pmax/P_a)) ceil(OC/(M pmax/P_w)) K);
               per MAC P_w shifted adds of the activation (integer activations: an integer add;
               FP activations: an exponent add + an FP add), dequantization once per group:
               1/G multiplies per MAC (y = sum_g s_g sum_{k in g} a_k q_k; MixPE §3).
  ShiftAddLLM  BCQ weights (b binary planes) with power-of-two scales alpha: LUT-GEMM-style
               lookups over mu activations (b/mu lookups + adds per MAC, 2^mu-entry tables per
               mu group and row), the alpha scaling a shift — on FP16 an add to the 5-bit
               exponent field — once per plane per group: b/G per MAC.
  Shift        DeepShift/DenseShift weights s * 2^p (pow2_k formats, k terms): per MAC and term an
               integer-activation barrel shift of b_a + 2^R bits, or for FP activations an add of R
               bits into the exponent field; plus one accumulate. One term per cycle: step = k, or with
               weight values the most non-zero terms among lock-step lanes (zero terms skipped).
  L-Mul        FP x FP approximated by one integer add over the exponent|mantissa field
               (e + m bits) plus the accumulate: step = 1 (Luo & Sun 2024; pe-models.md §4.4).
"""
from __future__ import annotations

import math

import numpy as np

from hwmodels.pe import Family, Infeasible, SerialCost, add_kind, element, fp_bits, fp_kind, group_dequant_counts, merge, \
    parse_format, register
from hwmodels.pe_lut import LutGemm


@register("mixpe")
class MixPEFamily(Family):
    def _bits(self, pe, op):
        activation = element(parse_format(op.formats.activation))
        weight = element(parse_format(op.formats.weight))
        if fp_bits(weight) is not None or weight.kind == "pow2" or weight.bits > pe.max_bits:
            raise Infeasible(f"weight format {op.formats.weight} does not fit the MixPE PE: integer weights "
                             f"of at most {pe.max_bits} bits")
        fp = fp_bits(activation)
        if fp is not None and (fp[0] > 5 or fp[1] > 10):
            raise Infeasible(f"activation format {op.formats.activation} does not fit the MixPE PE: "
                             "integers or floats up to FP16")
        a_bits = activation.bits if fp is None else 16
        if a_bits > max(pe.max_bits, 16 if fp else pe.max_bits):
            raise Infeasible(f"activation format {op.formats.activation} exceeds the MixPE PE's {pe.max_bits} bits")
        return a_bits, weight.bits, fp is not None

    def lanes(self, pe, op):
        a_bits, w_bits, _ = self._bits(pe, op)
        return max(1, pe.max_bits // max(a_bits, pe.min_bits)) * max(1, pe.max_bits // max(w_bits, pe.min_bits))

    def step_cycles(self, pe, op):
        a_bits, w_bits, _ = self._bits(pe, op)
        return float(math.ceil(a_bits / max(pe.max_bits, a_bits)) * math.ceil(w_bits / pe.max_bits))

    def mac_counts(self, pe, op, mean=None):
        _, w_bits, is_fp = self._bits(pe, op)
        if is_fp:
            shifted_adds = {"add:int5": float(w_bits), "add:fp_e5m10": float(w_bits)}
            dequant = fp_kind("mul", "fp16")
        else:
            shifted_adds = {f"add:int{pe.accumulator_bits}": float(w_bits)}
            dequant = f"mul:int{pe.accumulator_bits}x16"
        return merge(shifted_adds, group_dequant_counts(op.formats, dequant))

    def area_um2(self, pe, table):
        return pe.max_bits * table.op_area_um2(f"add:int{pe.accumulator_bits}")


@register("shiftaddllm")
class ShiftAddLLM(LutGemm):
    name = "ShiftAddLLM"

    def mac_counts(self, pe, op, mean=None):
        counts = super().mac_counts(pe, op, mean)
        counts.pop(fp_kind("mul", "fp16"), None)  # power-of-two scales: no multiplier
        if op.formats.group_size:
            planes = self.step_cycles(pe, op)
            counts["add:int5"] = counts.get("add:int5", 0.0) + planes / op.formats.group_size
        return counts


@register("shift")
class Shift(Family):
    def _weight(self, op):
        fmt = element(parse_format(op.formats.weight))
        if fmt.kind != "pow2":
            raise Infeasible(f"weight format {op.formats.weight} is not a power-of-two format: the shift PE "
                             "takes pow2_k<K>[_e<R>] weights")
        return fmt

    def step_cycles(self, pe, op):
        return float(self._weight(op).k)

    def serial_cost(self, pe, op):
        """With weight values: a step lasts the most non-zero terms among lock-step lanes (at least 1)."""
        k = self._weight(op).k
        terms = np.arange(k + 1)
        return SerialCost("weight", np.maximum(terms, 1), 0, what="non-zero power-of-two terms", terms=terms)

    def mac_counts(self, pe, op, mean=None):
        weight = self._weight(op)
        activation = element(parse_format(op.formats.activation))
        fp = fp_bits(activation)
        terms = float(mean if mean is not None else weight.k)
        if fp is None:
            term = f"shift:int{activation.bits + 2 ** weight.range_bits}"
        else:
            term = f"add:int{weight.range_bits}"
        return {term: terms, add_kind(pe.accumulator_format): terms}

    def area_um2(self, pe, table):
        return table.op_area_um2("shift:int32") + table.op_area_um2(add_kind(pe.accumulator_format))


@register("lmul")
class LMul(Family):
    def _field_bits(self, op) -> int:
        bits = []
        for role, name in (("weight", op.formats.weight), ("activation", op.formats.activation)):
            fp = fp_bits(element(parse_format(name)))
            if fp is None:
                raise Infeasible(f"{role} format {name} is not floating point: L-Mul multiplies FP operands")
            bits.append(fp[0] + fp[1])
        return max(bits)

    def step_cycles(self, pe, op):
        self._field_bits(op)
        return 1.0

    def mac_counts(self, pe, op, mean=None):
        return {f"add:int{self._field_bits(op)}": 1.0, add_kind(pe.accumulator_format): 1.0}

    def area_um2(self, pe, table):
        return table.op_area_um2("add:int16") + table.op_area_um2(add_kind(pe.accumulator_format))
