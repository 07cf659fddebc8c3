"""Bit-serial PE families: Stripes, Loom, Bit Fusion, Bit-Pragmatic, BitMoD (pe-models.md §2).

P_a, P_w: activation / weight bits of the op's formats; d: lanes (K elements per PE step).
  Stripes    step = P_a                                  (activations serial; ideal 16/P_a vs 16-bit)
  Loom       step = ceil(P_a/s) * P_w (conv), P_w (FC)   (both serial, s activation bits per cycle;
             in FC layers a unit's lanes fuse into one bit-parallel activation: d = lanes*s/16;
             with values and dynamic precision, P_a of a lock-step group = max over its lanes of the
             bits its value needs: bit_length(|a|) + sign; DNNsim core/src/Loom.cpp)
  Bit Fusion d = PF = floor(pmax/max(P_a,pmin)) * floor(pmax/max(P_w,pmin)), step = 1
             (operands wider than pmax take ceil(P/pmax) passes each; bitfusion simulator)
  Pragmatic  step = max over lock-step lanes of the activation's effectual terms (popcount, or
             non-zero canonical signed digits with Booth), at least 1; dense worst case P_a
             (ceil((P_a+1)/2) with Booth). Two-stage shifting limits are not modelled.
  BitMoD     d = 4, step = ceil(P_w/2) + stall, stall = max(0, S - (G/d)*L) / (G/d): the S-bit
             group scale is applied bit-serially under the next group's G/d*L cycles
             (bitmod_sim: L_pe = ceil(floor(w_prec)/2); activations FP16).
Op counts (unless a synthesized PE entry prices the PE per cycle): one accumulator add per serial
step of a MAC (Stripes P_a, Loom ceil(P_a/s)*P_w, Pragmatic one add + one weight shift per term,
Bit Fusion one 2x2 bit-brick product + add per brick, BitMoD one mantissa shift + add per weight
term pair and S adds of bit-serial dequantization per group). Bit-gating ANDs and registers are not
priced, so primitive-priced areas and energies of these PEs are lower bounds.
"""
from __future__ import annotations

import math

import numpy as np

from hwmodels.pe import (Family, Infeasible, SerialCost, element, fp_bits, int_bits, merge, parse_format,
                         register)


def _acc(pe) -> str:
    return f"add:int{pe.accumulator_bits}"


def _signed(fmt_name: str) -> bool:
    return element(parse_format(fmt_name)).signed


def code_range(fmt_name: str) -> tuple[int, int]:
    """(lowest, highest) integer code of an integer-like format."""
    fmt = element(parse_format(fmt_name))
    return int(fmt.min_value), int(fmt.max_value)


def popcount_table(lo: int, hi: int) -> np.ndarray:
    """Set bits of |c| for c in lo..hi (sign-magnitude: the sign costs no term)."""
    magnitude = np.abs(np.arange(lo, hi + 1, dtype=np.int64))
    return np.array([bin(v).count("1") for v in magnitude], dtype=np.int64)


def naf_table(lo: int, hi: int) -> np.ndarray:
    """Non-zero digits of the canonical signed-digit (NAF, Booth-like) form of |c|, c in lo..hi."""
    magnitude = np.abs(np.arange(lo, hi + 1, dtype=np.int64))
    # the NAF weight of x is popcount(x XOR 3x) (Reitwiesner / Arno-Wheeler identity)
    return np.array([bin((3 * v) ^ v).count("1") for v in magnitude], dtype=np.int64)


def precision_table(lo: int, hi: int, signed: bool) -> np.ndarray:
    """Bits a value needs: bit_length(|c|) (+1 sign bit for signed formats), at least 1."""
    magnitude = np.abs(np.arange(lo, hi + 1, dtype=np.int64))
    bits = np.frexp(magnitude.astype(np.float64))[1].astype(np.int64) + int(signed)  # frexp exponent = bit length
    return np.maximum(bits, 1)


class _Lanes(Family):
    name = ""

    def lanes(self, pe, op):
        return pe.lanes

    def _bits(self, pe, op) -> int:
        """Activation bits of a serial-activation x parallel-weight PE (both integer)."""
        int_bits(op.formats.weight, "weight", self.name, pe.weight_bits)
        return int_bits(op.formats.activation, "activation", self.name, pe.max_activation_bits)


@register("stripes")
class Stripes(_Lanes):
    name = "Stripes"

    def step_cycles(self, pe, op):
        return float(self._bits(pe, op))

    def mac_counts(self, pe, op, mean=None):
        return {_acc(pe): float(self._bits(pe, op))}

    def area_um2(self, pe, table):
        return pe.lanes * table.op_area_um2(_acc(pe))


@register("loom")
class Loom(_Lanes):
    name = "Loom"

    def lanes(self, pe, op):
        """FC layers: the serial activation lanes of a unit fuse into one bit-parallel activation."""
        if op.kind == "gemm":
            return max(1, pe.lanes * pe.activation_bits_per_cycle // pe.max_bits)
        return pe.lanes

    def _bits(self, pe, op):
        return (int_bits(op.formats.activation, "activation", "Loom", pe.max_bits),
                int_bits(op.formats.weight, "weight", "Loom", pe.max_bits))

    def step_cycles(self, pe, op):
        p_a, p_w = self._bits(pe, op)
        return float(p_w if op.kind == "gemm" else math.ceil(p_a / pe.activation_bits_per_cycle) * p_w)

    def serial_cost(self, pe, op):
        if not pe.dynamic_precision or op.kind == "gemm":
            return None
        _, p_w = self._bits(pe, op)
        lo, hi = code_range(op.formats.activation)
        precision = precision_table(lo, hi, _signed(op.formats.activation))
        table = -(-precision // pe.activation_bits_per_cycle) * p_w
        return SerialCost("input", table, lo, what="dynamic-precision cycles")

    def mac_counts(self, pe, op, mean=None):
        return {_acc(pe): float(mean if mean is not None else self.step_cycles(pe, op))}

    def area_um2(self, pe, table):
        return table.op_area_um2(_acc(pe))


@register("bitfusion")
class BitFusion(Family):
    def _fusion(self, pe, op):
        p_a = int_bits(op.formats.activation, "activation", "Bit Fusion", 16)
        p_w = int_bits(op.formats.weight, "weight", "Bit Fusion", 16)
        if pe.min_bits > pe.max_bits:
            raise Infeasible(f"Bit Fusion min_bits {pe.min_bits} exceeds max_bits {pe.max_bits}")
        fused = (pe.max_bits // max(min(p_a, pe.max_bits), pe.min_bits)) \
            * (pe.max_bits // max(min(p_w, pe.max_bits), pe.min_bits))
        temporal = math.ceil(p_a / pe.max_bits) * math.ceil(p_w / pe.max_bits)
        return p_a, p_w, fused, temporal

    def lanes(self, pe, op):
        return self._fusion(pe, op)[2]

    def step_cycles(self, pe, op):
        return float(self._fusion(pe, op)[3])

    def mac_counts(self, pe, op, mean=None):
        p_a, p_w, _, _ = self._fusion(pe, op)
        bricks = math.ceil(max(p_a, pe.min_bits) / pe.min_bits) * math.ceil(max(p_w, pe.min_bits) / pe.min_bits)
        return {f"mul:int{pe.min_bits}x{pe.min_bits}": float(bricks), _acc(pe): float(bricks)}

    def area_um2(self, pe, table):
        bricks = (pe.max_bits // pe.min_bits) ** 2
        return bricks * (table.op_area_um2(f"mul:int{pe.min_bits}x{pe.min_bits}") + table.op_area_um2(_acc(pe)))


@register("pragmatic")
class Pragmatic(_Lanes):
    name = "Pragmatic"

    def step_cycles(self, pe, op):
        p_a = self._bits(pe, op)
        return float(math.ceil((p_a + 1) / 2) if pe.booth else p_a)

    def serial_cost(self, pe, op):
        self._bits(pe, op)
        lo, hi = code_range(op.formats.activation)
        terms = naf_table(lo, hi) if pe.booth else popcount_table(lo, hi)
        return SerialCost("input", np.maximum(terms, 1), lo, pe.sync_lanes,
                          "non-zero Booth digits" if pe.booth else "effectual bits", terms=terms)

    def mac_counts(self, pe, op, mean=None):
        terms = mean if mean is not None else self.step_cycles(pe, op)
        return {_acc(pe): float(terms), f"shift:int{pe.weight_bits}": float(terms)}

    def area_um2(self, pe, table):
        return table.op_area_um2(_acc(pe)) + table.op_area_um2(f"shift:int{pe.weight_bits}")


@register("bitmod")
class BitMod(Family):
    def _weight_bits(self, pe, op):
        activation = element(parse_format(op.formats.activation))
        fp = fp_bits(activation)
        if (fp is None and activation.bits > 11) or (fp is not None and (fp[0] > 5 or fp[1] > 10)):
            raise Infeasible(f"activation format {op.formats.activation} does not fit the BitMoD PE's FP16 "
                             "datapath (FP16 or narrower floats, integers of at most 11 bits)")
        weight = element(parse_format(op.formats.weight))
        if weight.bits > pe.max_weight_bits or weight.kind == "pow2":
            raise Infeasible(f"weight format {op.formats.weight} does not fit the BitMoD PE: integer or "
                             f"minifloat weights of at most {pe.max_weight_bits} bits")
        return weight.bits

    def lanes(self, pe, op):
        return pe.lanes

    def step_cycles(self, pe, op):
        terms = math.ceil(self._weight_bits(pe, op) / pe.weight_bits_per_cycle)
        group = op.formats.group_size
        if not group:
            return float(terms)
        steps_per_group = group / pe.lanes
        return terms + max(0.0, pe.scale_bits - steps_per_group * terms) / steps_per_group

    def mac_counts(self, pe, op, mean=None):
        terms = math.ceil(self._weight_bits(pe, op) / pe.weight_bits_per_cycle)
        dequant = {"add:int32": pe.scale_bits / op.formats.group_size} if op.formats.group_size else {}
        return merge({"shift:int11": float(terms), "add:int24": float(terms)}, dequant)

    def area_um2(self, pe, table):
        return pe.lanes * (table.op_area_um2("shift:int11") + table.op_area_um2("add:int24")) \
            + table.op_area_um2("add:int32")
