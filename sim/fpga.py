"""FPGA model: the design's resources (DSP/LUT/FF/BRAM/URAM), feasibility, and op timing on the fabric.

Resources follow `hwmodels.fpga` (DSP packing by operand width, FINN LUT cost, block RAM by
capacity and port width). Timing is the tile engine's (`sim.simulate`, the ASIC path: the PE
array and on-chip buffer behave as on an ASIC) with the off-chip level's bandwidth set by the
pseudo-channels bound to each operand, each an independent channel:
    bandwidth[operand] = channels_used[operand] * channel_bytes_per_s * channel_efficiency / clock_hz
(per-operand channels; an operand without channels of its own shares the sum of the others).
Energy = op counts x the energy table at the device node x `fabric_energy_factor` (FPGA vs ASIC
logic) + bytes x per-level energies + static power x time.
"""
from __future__ import annotations

import math
from dataclasses import replace

from hwmodels.costs import EnergyTable
from hwmodels.pe import Infeasible
from hwmodels.spec import Hardware
from sim.energy import price_op
from sim.result import OpResult
from workloads.formats import parse_format

BLOCK_BITS = {"bram36": 36 * 1024, "uram": 288 * 1024}
PORT_BITS = 72
PORTS = 2
FP_ADD_LUTS = 250  # a LUT-built FP16/FP32 adder beside a DSP multiplier [unverified: Vivado FP IP ballpark]


def _operand_bits(name: str) -> tuple[int, bool]:
    fmt = parse_format(name)
    return fmt.bits, getattr(fmt, "exp_bits", None) is not None


def dsp_macs_per_slice(dsp_kind: str, weight_bits: int, act_bits: int, is_float: bool) -> int:
    """MACs one DSP slice performs per cycle for these operand widths (see hwmodels.fpga)."""
    wide = max(weight_bits, act_bits)
    if is_float:
        return 1
    if dsp_kind == "dsp58":
        return 3 if wide <= 8 else 1
    if wide <= 4:
        return 4
    return 2 if wide <= 8 else 1


def lut_mac_cost(weight_bits: int, act_bits: int) -> int:
    """FINN's LUTs for one b_w x b_a multiplier: (2*ceil((W+A)/6) - 1) * (W+A)."""
    width = weight_bits + act_bits
    return (2 * math.ceil(width / 6) - 1) * width


def resources(hw: Hardware) -> dict[str, float]:
    """Resources the design uses and the device's counts: {'dsp': n, 'dsp_available': N, ...}."""
    fpga, pe, array = hw.fpga, hw.pe, hw.array
    w_bits, w_float = _operand_bits(pe.weight_format)
    a_bits, a_float = _operand_bits(pe.activation_format)
    acc_bits = int(pe.accumulator_format[3:]) if pe.accumulator_format.startswith("int") else \
        parse_format(pe.accumulator_format).bits
    lanes, pes = array.rows, array.cols * array.cores  # FINN: Q = SIMD lanes per PE, P = PEs
    macs = lanes * pes
    used = {"dsp": 0.0, "lut": 0.0, "ff": 0.0, "bram36": 0.0, "uram": 0.0}
    if fpga.mac_implementation == "dsp":
        used["dsp"] = math.ceil(macs / dsp_macs_per_slice(fpga.dsp_kind, w_bits, a_bits, w_float or a_float))
        used["lut"] = macs * FP_ADD_LUTS if (w_float or a_float) else 0.0
    else:
        if w_float or a_float:
            raise Infeasible(f"{hw.name}: LUT-built MACs take integer operands; {pe.weight_format} x "
                             f"{pe.activation_format} needs mac_implementation: dsp")
        tree = (w_bits + a_bits) * (2 * lanes - 1)
        used["lut"] = 300 + 1.1 * pes * (lanes * lut_mac_cost(w_bits, a_bits) + tree + acc_bits)
    used["ff"] = macs * (w_bits + a_bits) + pes * acc_bits  # operand and accumulator registers [D]
    for level in hw.memory[:-1]:
        capacity_bits = (level.capacity_for("input") * len(level.holds) if not isinstance(level.capacity_bytes, dict)
                         else sum(level.capacity_bytes.values())) * 8
        width_bits = level.read_bandwidth("input") * 8
        used[fpga.buffer_blocks] += max(math.ceil(capacity_bits / BLOCK_BITS[fpga.buffer_blocks]),
                                        math.ceil(width_bits / (PORT_BITS * PORTS)))
    available = {"dsp": fpga.dsps, "lut": fpga.luts, "ff": fpga.ffs, "bram36": fpga.bram36, "uram": fpga.uram}
    out = {}
    for name, n in used.items():
        out[name] = float(n)
        out[f"{name}_available"] = float(math.floor(available[name] * fpga.usable_fraction))
    out["channels"] = float(sum(fpga.channels_used.values()))
    out["channels_available"] = float(fpga.channels)
    return out


def check_fits(hw: Hardware) -> dict[str, float]:
    """The design's resources, or Infeasible naming the first resource it exceeds."""
    if hw.clock_hz > hw.fpga.max_clock_hz:
        raise Infeasible(f"{hw.name}: clock {hw.clock_hz / 1e6:g} MHz exceeds {hw.fpga.device}'s "
                         f"{hw.fpga.max_clock_hz / 1e6:g} MHz fabric limit")
    res = resources(hw)
    for name in ("dsp", "lut", "ff", "bram36", "uram"):
        if res[name] > res[f"{name}_available"]:
            raise Infeasible(f"{hw.name}: needs {res[name]:,.0f} {name.upper()}, {hw.fpga.device} has "
                             f"{res[f'{name}_available']:,.0f} usable")
    return res


def offchip_view(hw: Hardware) -> Hardware:
    """`hw` with the off-chip level's per-operand bandwidth set by its channels (module docstring)."""
    fpga = hw.fpga
    per_channel = fpga.channel_bytes_per_s * fpga.channel_efficiency / hw.clock_hz
    shared = sum(fpga.channels_used.values()) * per_channel
    bandwidth = {op: fpga.channels_used.get(op, 0) * per_channel or shared for op in ("weight", "input", "output")}
    backing = hw.memory[-1].model_copy(update={"read_bandwidth_bytes_per_cycle": bandwidth,
                                               "write_bandwidth_bytes_per_cycle": bandwidth})
    return hw.model_copy(update={"memory": (*hw.memory[:-1], backing)})


def simulate_op(op, hw: Hardware) -> OpResult:
    """One op on the fabric: feasibility first, then the tile engine over the channels, priced."""
    from sim import simulate as asic  # the ASIC path is the timing model of the fabric's PE array

    check_fits(hw)
    view = offchip_view(hw)
    result = asic.simulate_op(op, view.model_copy(update={"target": "asic", "fpga": None}))
    table = EnergyTable().at_node(hw.technology_node_nm)
    priced = price_op(result, view, table)
    factor = hw.fpga.fabric_energy_factor
    return replace(priced, compute_energy_pj={k: v * factor for k, v in priced.compute_energy_pj.items()},
                   note=f"{hw.fpga.device}: {sum(hw.fpga.channels_used.values())} {hw.fpga.offchip} channels")
