"""Pricing: energy = operation counts x an energy table + bytes x per-level energy + static power x time.

Kept apart from simulation so a result can be re-priced (another node, another table)
without re-simulating: `reprice(result, hw, table)`.
"""
from __future__ import annotations

from dataclasses import replace

from hwmodels import pe as pe_model
from hwmodels.costs import EnergyTable
from hwmodels.spec import Hardware, MemoryLevel
from sim.result import OpResult, Result, evolve


def price_op(op: OpResult, hw: Hardware, table: EnergyTable) -> OpResult:
    """`op` with compute energy per kind, memory energy per level and static energy filled in.

    compute_pj[kind] = count[kind] * table.op_energy_pj(kind)
    memory_pj[level] = read_bytes * read_energy_pj_per_byte + write_bytes * write_energy_pj_per_byte
    static_j         = hw.static_power_w * latency_s
    """
    compute = {kind: count * table.op_energy_pj(kind) for kind, count in op.op_counts.items()}
    memory = {level.name: op.read_bytes.get(level.name, 0.0) * level.read_energy_pj_per_byte
              + op.write_bytes.get(level.name, 0.0) * level.write_energy_pj_per_byte
              for level in hw.memory}
    return evolve(op, compute_energy_pj=compute, memory_energy_pj=memory,
                  static_energy_j=hw.static_power_w * op.latency_s)


def design_area_mm2(hw: Hardware, table: EnergyTable) -> float:
    """PE array area (PE model area x PEs) plus the area of each memory level (`level_area_mm2`)."""
    pes = hw.array.rows * hw.array.cols * hw.array.cores
    return pes * pe_model.pe_area_um2(hw.pe, table) * 1e-6 + sum(level_area_mm2(level, table) for level in hw.memory)


def level_area_mm2(level: MemoryLevel, table: EnergyTable) -> float:
    """The area a level states; else on-chip SRAM priced per bit, and no die area for an unbounded level.

    area_mm2 = capacity_bytes * 8 * table.op_area_um2("sram:bit") * 1e-6
    (capacity summed over operands; a level without a capacity is off-chip memory: 0).
    """
    if level.area_mm2 is not None:
        return level.area_mm2
    if level.capacity_bytes is None:
        return 0.0
    total_bytes = sum(level.capacity_for(operand) for operand in level.holds)
    return total_bytes * 8 * table.op_area_um2("sram:bit") * 1e-6


def reprice(result: Result, hw: Hardware, table: EnergyTable) -> Result:
    """The same counts priced with another table (no re-simulation): energies and area."""
    return replace(result, area_mm2=design_area_mm2(hw, table),
                   ops=tuple(price_op(op, hw, table) for op in result.ops))
