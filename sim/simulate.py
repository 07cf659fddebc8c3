"""Simulate a workload on a design: map each op, walk its folds, count, then price.

Per GEMM-like op (see `sim.mapping` for the fold structure and `sim.engine` for timing):
  - traffic between adjacent levels per fold (fetch-once when an operand fits one buffer);
  - load time of a fold = the slowest channel: per-operand channels take words_X/bw_X each,
    a shared channel the sum of words over its bandwidth;
  - initial fill (before cycle 0): each input operand's first buffer, in granules of 1 % of
    its capacity — min(ceil(n/g), granules per buffer) * g bytes at the backing store's read
    bandwidth, where n is the operand's distinct bytes. An operand that fits one buffer is
    loaded completely before cycle 0; a larger one is streamed to be ready at its first use.
    (This is SCALE-Sim v3's prefetch model, so `cycles_incl_prefetch` reproduces its
    "Total Cycles (incl. prefetch)"  = drain end - earliest fill start.)
  - `instances` (batch of independent GEMMs, conv groups) run one after another, split over
    `cores` arrays that share the backing store's bandwidth equally.
  - memory_model `scalesim_v3_user`: timing (cycles, stalls, fill start, drain end) comes from
    `sim.scalesim_user`, the SCALE-Sim USER-mode emulation; traffic counts stay quarch's.
Vector ops run on the vector unit as a double-buffered stream:
  cycles = max(ceil(elements*ops_per_element / (lanes*ops_per_lane)), bytes / bandwidth).
"""
from __future__ import annotations

import math

import numpy as np

from hwmodels import pe as pe_model
from hwmodels.costs import EnergyTable
from hwmodels.spec import Hardware, MemoryLevel
from sim import mapping, scalesim_user
from sim.energy import design_area_mm2, price_op
from sim.engine import walk_folds
from sim.result import OpResult, Result
from workloads.formats import parse_format
from workloads.ops import Conv2d, Gemm, Vector
from workloads.workload import Workload

FILL_GRANULES = 100


def simulate(workload: Workload, hw: Hardware, table: EnergyTable | None = None) -> Result:
    """Evaluate `workload` on `hw`; energies priced with `table` (Horowitz at hw's node by default)."""
    table = table or EnergyTable().at_node(hw.technology_node_nm)
    area_mm2 = design_area_mm2(hw, table)
    ops = tuple(price_op(simulate_op(op, hw), hw, table) for op in workload.ops)
    return Result(design=hw.name, workload=workload.name, clock_hz=hw.clock_hz,
                  pes=hw.array.rows * hw.array.cols * hw.array.cores, area_mm2=area_mm2, ops=ops)


def simulate_op(op, hw: Hardware) -> OpResult:
    """Counts and timing of one execution of `op` (energy fields left empty)."""
    if isinstance(op, Vector):
        return _vector_op(op, hw)
    if isinstance(op, (Gemm, Conv2d)):
        return _array_op(op, hw)
    raise TypeError(f"no simulation for op kind {op.kind!r}")


def _bytes_per_word(op) -> dict[str, float]:
    f = op.formats
    weight_bits = f.weight_bytes(1) * 8
    return {"weight": weight_bits / 8, "input": parse_format(f.activation).bits_per_element / 8,
            "output": parse_format(f.output).bits_per_element / 8}


def _array_op(op, hw: Hardware) -> OpResult:
    view = op.gemm_view()
    passes = pe_model.passes(hw.pe, op.formats)
    order = mapping.choose_order(view, hw, passes)
    sched = mapping.fold_schedule(view, hw.array.rows, hw.array.cols, hw.array.dataflow, passes, order)
    word_bytes = _bytes_per_word(op)
    totals = mapping.operand_words(view)
    cores = hw.array.cores
    rounds = math.ceil(view.instances / cores)
    sharing = min(cores, view.instances)
    levels = hw.memory

    # words fetched into level i from level i+1, per fold, for the input operands
    fetched: list[dict[str, np.ndarray]] = []
    below = None
    for level in levels[:-1]:
        per_op = {}
        for operand in ("input", "weight"):
            if operand not in level.holds:
                per_op[operand] = below[operand] if below else sched.sram_words[operand]
                continue
            if totals[operand] <= mapping.buffer_words(level, operand, word_bytes[operand]):
                once = np.zeros(sched.folds, dtype=np.int64)
                once[0] = totals[operand]
                per_op[operand] = once
            elif below is not None:
                per_op[operand] = below[operand]
            else:
                per_op[operand] = mapping.fetched_words(sched, operand, totals[operand], 0.0)
        fetched.append(per_op)
        below = per_op

    # output words written from level i to level i+1, per fold
    final = mapping.final_outputs(sched)
    inner = levels[0]
    write_through = inner.psum_write_through if len(levels) > 1 else True
    array_out = sched.sram_words["output"]
    out_words = array_out if write_through else np.where(final, array_out, 0)

    load_cycles = np.zeros(sched.folds)
    for i, level in enumerate(levels[:-1]):
        parent = levels[i + 1]
        load_cycles = np.maximum(load_cycles, _transfer_cycles(
            parent, {k: v * word_bytes[k] for k, v in fetched[i].items()}, sharing))

    out_level_words = inner.capacity_for("output") / word_bytes["output"] if len(levels) > 1 else 1
    out_capacity = max(1, int(math.floor(out_level_words)))
    parent = levels[1] if len(levels) > 1 else inner
    line_words = max(1, int(parent.write_bandwidth("output") / sharing / word_bytes["output"]))
    out_cols = np.where(write_through | final, sched.used_cols, 0).astype(np.int64)
    if hw.mapper.memory_model == "scalesim_v3_user":
        cycles, read_stall, write_stall, drain_end, fill_start = scalesim_user.emulate(op, hw, word_bytes)[:5]
    else:
        ideal = hw.mapper.memory_model == "ideal_prefetch"
        cycles, read_stall, write_stall, drain_end, _ = walk_folds(
            sched.fold_cycles, load_cycles, sched.out_first.astype(np.int64), sched.out_last.astype(np.int64),
            out_cols, inner.buffering, ideal, out_capacity, line_words)
        fill_start = _fill_start(sched, hw, totals, word_bytes, sharing) if len(levels) > 1 else 0
    cycles, drain_end = int(cycles), int(drain_end)
    stall = int(read_stall + write_stall)

    # bytes per level (one instance), then scaled by instances
    read_bytes = {level.name: 0.0 for level in levels}
    write_bytes = {level.name: 0.0 for level in levels}
    for operand in ("input", "weight"):
        read_bytes[inner.name] += sched.sram_words[operand].sum() * word_bytes[operand]
    write_bytes[inner.name] += array_out.sum() * word_bytes["output"]
    if not write_through:
        psum_reads = array_out.sum() - array_out[final].sum()
        read_bytes[inner.name] += psum_reads * word_bytes["output"]
    for i in range(len(levels) - 1):
        for operand, words in fetched[i].items():
            moved = words.sum() * word_bytes[operand]
            write_bytes[levels[i].name] += moved
            read_bytes[levels[i + 1].name] += moved
        moved_out = out_words.sum() * word_bytes["output"]
        read_bytes[levels[i].name] += moved_out
        write_bytes[levels[i + 1].name] += moved_out
    scale = view.instances
    read_bytes = {k: float(v * scale) for k, v in read_bytes.items()}
    write_bytes = {k: float(v * scale) for k, v in write_bytes.items()}

    compute_cycles = int(sched.fold_cycles.sum()) - 1
    total_cycles = rounds * cycles
    macs = view.macs
    pes = hw.array.rows * hw.array.cols * cores
    mapping_eff = float(np.mean(sched.used_rows * sched.used_cols) / (hw.array.rows * hw.array.cols))
    counts = {kind: n * macs for kind, n in pe_model.mac_op_counts(hw.pe, op.formats).items()}
    return OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=macs,
        cycles=total_cycles, compute_cycles=rounds * compute_cycles, stall_cycles=rounds * stall,
        cycles_incl_prefetch=rounds * (drain_end - fill_start),
        latency_s=total_cycles / hw.clock_hz,
        utilization=macs / (total_cycles * pes) if total_cycles > 0 else 0.0,
        mapping_efficiency=mapping_eff, folds=sched.folds * view.instances,
        bound=_bound(hw, compute_cycles * rounds, read_bytes, write_bytes, sharing, stall * rounds),
        read_bytes=read_bytes, write_bytes=write_bytes, op_counts=counts,
    )


def _transfer_cycles(level: MemoryLevel, bytes_by_operand: dict[str, np.ndarray], sharing: int) -> np.ndarray:
    """Cycles to read the given bytes from `level`: slowest channel per fold."""
    if level.shared_channel:
        return sum(bytes_by_operand.values()) / (level.read_bandwidth("input") / sharing)
    return np.maximum.reduce([b / (level.read_bandwidth(op) / sharing) for op, b in bytes_by_operand.items()])


def _fill_start(sched, hw: Hardware, totals, word_bytes, sharing: int) -> int:
    """Cycle (<= 0) at which the initial buffer fill starts (see module docstring)."""
    inner, parent = hw.memory[0], hw.memory[1]
    starts = []
    shared_bytes = 0.0
    for operand in ("input", "weight"):
        if operand not in inner.holds:
            continue
        capacity = inner.capacity_for(operand)
        granule = math.floor(capacity / FILL_GRANULES)
        if granule < 1:
            granule = capacity
        per_buffer = FILL_GRANULES // inner.buffering
        need = totals[operand] * word_bytes[operand]
        granules = math.ceil(need / granule)
        fill_bytes = min(granules, per_buffer) * granule
        streamed = granules >= per_buffer and need >= per_buffer * granule
        first_use = sched.first_use_cycle(operand) if streamed else 0
        if parent.shared_channel:
            shared_bytes += fill_bytes
            starts.append(first_use - math.ceil(shared_bytes / (parent.read_bandwidth(operand) / sharing)))
        else:
            starts.append(first_use - math.ceil(fill_bytes / (parent.read_bandwidth(operand) / sharing)))
    return min(starts) if starts else 0


def _bound(hw: Hardware, compute_cycles: int, read_bytes, write_bytes, sharing: int, stall: int) -> str:
    """What limits the op: compute, or the memory level whose traffic takes longest."""
    best, best_cycles = "compute", float(compute_cycles)
    for level in hw.memory[1:]:
        needed = max(read_bytes[level.name] / (level.read_bandwidth("input") / sharing),
                     write_bytes[level.name] / (level.write_bandwidth("output") / sharing))
        if needed > best_cycles:
            best, best_cycles = level.name, needed
    return best


def _vector_op(op: Vector, hw: Hardware) -> OpResult:
    lanes = hw.vector_lanes * hw.vector_unit.ops_per_lane_per_cycle * hw.array.cores
    compute = math.ceil(op.elements * op.ops_per_element / lanes)
    in_bytes = op.inputs * op.formats.activation_bytes(op.elements)
    out_bytes = op.formats.output_bytes(op.output_elements)
    backing = hw.memory[-1]
    memory_cycles = max(in_bytes / backing.read_bandwidth("input"), out_bytes / backing.write_bandwidth("output"))
    cycles = max(compute, math.ceil(memory_cycles))
    read_bytes = {level.name: float(in_bytes) for level in hw.memory}
    write_bytes = {level.name: float(out_bytes) for level in hw.memory}
    kind = pe_model._add_kind(op.formats.activation)
    return OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=0, cycles=cycles, compute_cycles=compute,
        stall_cycles=cycles - compute, cycles_incl_prefetch=cycles, latency_s=cycles / hw.clock_hz,
        utilization=0.0, mapping_efficiency=0.0, folds=0,
        bound="compute" if compute >= memory_cycles else backing.name,
        read_bytes=read_bytes, write_bytes=write_bytes,
        op_counts={kind: float(op.elements * op.ops_per_element)},
    )
