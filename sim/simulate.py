"""Simulate a workload on a design: map each op, walk its tiles, count, then price.

Per GEMM-like op (see `sim.mapping` for folds and tiles, `sim.engine` for timing):
  - traffic between adjacent levels per fold: an operand that fits one buffer is fetched
    slice by slice at first use and kept; otherwise a fold fetches its slice unless the
    previous fold used the same one; an operand that does not fit a level streams through it;
  - load time of a fold = the slowest channel: per-operand channels take words_X/bw_X each,
    a shared channel the sum of words over its bandwidth;
  - memory model `double_buffered`: a fold whose streamed slice overflows one buffer is cut
    along time into tiles that fit, each loading its share while the previous tile computes;
    the first tile's load is the fill before cycle 0;
  - memory model `ideal_prefetch` (SCALE-Sim CALC): whole folds, no read stalls, and the fill
    is SCALE-Sim v3's prefetch: each input operand's first buffer, in granules of 1 % of its
    capacity — min(ceil(n/g), granules per buffer) * g bytes at the backing store's read
    bandwidth (n: the operand's distinct bytes), complete before cycle 0 when the operand
    fits one buffer, else ready at the operand's first use;
  - memory model `scalesim_v3_user`: timing from `sim.scalesim_user` (SCALE-Sim USER mode);
    traffic counts stay quarch's.
  cycles = SCALE-Sim's "Total Cycles" (last compute cycle, fill and final write-back excluded);
  cycles_incl_prefetch = drain end - fill start, the whole layer; latency_s = that / clock_hz.
  `instances` (batched GEMMs, conv groups) run one after another, split over `cores` arrays
  that share the backing store's bandwidth equally.
PEs (hwmodels.pe): the op is folded with K' = ceil(K/d) for a PE consuming d K-elements per
step (a word then holds d elements) and T' = T * step cycles; a PE whose timing depends on
values gets each fold's work from the op's value tensors (sim.values), else the dense worst
case, and `cycle_model` says which. Synthesized PEs are charged per PE per compute cycle.
Vector ops run on the vector unit as a double-buffered stream:
  cycles = max(ceil(elements*ops_per_element / (lanes*ops_per_lane)), bytes / bandwidth).
Other targets have their own model (`TARGET_MODELS`: sim.gpu for `target: gpu`, sim.fpga for
`target: fpga`), which returns ops already priced by that target's power model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodels import pe as pe_model
from hwmodels.costs import EnergyTable, default_table
from hwmodels.spec import Hardware, MemoryLevel
from sim import foldplan, fpga, gpu, mapping, scalesim_user, values
from sim.energy import design_area_mm2, price_op
from sim.result import OpResult, Result
from workloads.formats import parse_format
from workloads.ops import Conv2d, Gemm, GemmView, Vector
from workloads.values import operand_codes
from workloads.workload import Workload

FILL_GRANULES = 100
TARGET_MODELS = {"gpu": gpu.simulate_op, "fpga": fpga.simulate_op}
TARGET_RESOURCES = {"fpga": fpga.check_fits}  # resources a design uses, reported with its result


def simulate(workload: Workload, hw: Hardware, table: EnergyTable | None = None, run_op=None) -> Result:
    """Evaluate `workload` on `hw`; ASIC energies priced with `table` (Horowitz at hw's node by default).

    `run_op(op, hw) -> OpResult` replaces `simulate_op` (e.g. a memo of it, see dse.evaluate).
    """
    run_op = run_op or simulate_op
    if hw.target in TARGET_MODELS:
        area_mm2 = 0.0
        ops = tuple(run_op(op, hw) for op in workload.ops)
    else:
        table = table or default_table(hw.technology_node_nm)
        area_mm2 = design_area_mm2(hw, table)
        ops = tuple(price_op(run_op(op, hw), hw, table) for op in workload.ops)
    resources = TARGET_RESOURCES[hw.target](hw) if hw.target in TARGET_RESOURCES else {}
    return Result(design=hw.name, workload=workload.name, clock_hz=hw.clock_hz,
                  pes=hw.array.rows * hw.array.cols * hw.array.cores, area_mm2=area_mm2, ops=ops,
                  resources=resources)


def simulate_op(op, hw: Hardware) -> OpResult:
    """Counts and timing of one execution of `op` (ASIC: energy fields left empty)."""
    if hw.target in TARGET_MODELS:
        return TARGET_MODELS[hw.target](op, hw)
    resolved = pe_model.resolve_formats(hw.pe, op)
    if isinstance(op, Vector):
        return _vector_op(resolved, hw)
    if isinstance(op, (Gemm, Conv2d)):
        try:
            return _array_op(resolved, hw)
        except pe_model.Infeasible as err:
            stated = [role for role in ("weight", "activation", "output") if role not in op.formats.unstated]
            raise pe_model.Infeasible(f"{err} (op {op.name!r}; formats it states: "
                                      f"{', '.join(stated) or 'none'})") from None
    raise TypeError(f"no simulation for op kind {op.kind!r}")


def _bytes_per_word(op, lanes: int = 1) -> dict[str, float]:
    """Bytes of one array word per operand; a word of a d-lane PE holds d input/weight elements."""
    f = op.formats
    weight_bits = f.weight_bytes(1) * 8
    return {"weight": lanes * weight_bits / 8, "input": lanes * parse_format(f.activation).bits_per_element / 8,
            "output": parse_format(f.output).bits_per_element / 8}


def has_array_plan(op, hw: Hardware) -> bool:
    """True when `simulate_op(op, hw)` is `time_array_op(plan_array_op(array_op(op, hw.pe), hw), hw)`."""
    return hw.target not in TARGET_MODELS and isinstance(op, (Gemm, Conv2d))


def _lane_view(view: GemmView, lanes: int) -> GemmView:
    """The GEMM as the array sees it when each PE step consumes `lanes` elements of K."""
    if lanes == 1:
        return view
    return view.model_copy(update={"k": -(-view.k // lanes),
                                   "distinct_input_words": -(-view.distinct_input_words // lanes)})


@dataclass(frozen=True)
class ArrayOp:
    """An op as a PE runs it, whatever the array and memories (`array_op`): formats resolved,
    GEMM views (as written, and with K in PE lanes), word sizes, distinct words, cycles per
    temporal step, value-dependent cost with the op's codes, and operation counts."""

    op: object
    true_view: GemmView
    view: GemmView
    lanes: int
    step: float
    word_bytes: dict
    totals: dict
    cost: object                       # pe_model.SerialCost when the op's values time it, else None
    codes: object                      # the serial operand's codes per instance (with `cost`)
    cycle_model: str
    op_counts: dict                    # whole op, not counting a synthesized PE's per-cycle charge


def array_op(op, pe) -> ArrayOp:
    """`op` on `pe` (see `ArrayOp`); raises `pe_model.Infeasible` when the PE cannot run it.

    Value timing: when the PE's cost depends on values and the op has them, folds take their
    work from the values and counts use the mean effectual terms per element; else the dense
    worst case.
    """
    op = pe_model.resolve_formats(pe, op)
    true_view = op.gemm_view()
    lanes = pe_model.lanes(pe, op)
    step = pe_model.step_cycles(pe, op)
    view = _lane_view(true_view, lanes)
    word_bytes = _bytes_per_word(op, lanes)
    cost, codes, cycle_model, mean = pe_model.serial_cost(pe, op), None, "dense", None
    if cost is not None:
        codes = operand_codes(op, cost.operand)
        if codes is None:
            cost, cycle_model = None, f"dense worst case (no {cost.operand} values)"
        else:
            mean = float(values.mean_cost(codes, np.ascontiguousarray(cost.term_table, dtype=np.int64), cost.offset))
            cycle_model = f"values ({cost.what})"
    return ArrayOp(op=op, true_view=true_view, view=view, lanes=lanes, step=step, word_bytes=word_bytes,
                   totals=mapping.operand_words(view), cost=cost, codes=codes, cycle_model=cycle_model,
                   op_counts=pe_model.op_counts(pe, op, true_view.macs, true_view.instances, mean))


def _fold_work(op: ArrayOp, shape: tuple) -> np.ndarray:
    """Streaming cycles of each fold (`shape`: rows, cols, dataflow, step, order, skew): T' for a
    dense op; from the values otherwise, the instances of a batched op (each with its own
    values) timed with their mean per-fold work."""
    rows, cols, dataflow, step = shape[:4]
    sr, sc, t = mapping.spatio_temporal(op.view, dataflow)
    if op.cost is None:
        return np.full(-(-sr // rows) * -(-sc // cols), mapping.streaming_cycles(t, step), dtype=np.int64)
    sched = mapping.fold_schedule(op.view, *shape)
    work = np.mean([values.fold_work(sched, instance, op.cost, op.lanes) for instance in op.codes], axis=0)
    return np.ceil(work).astype(np.int64)


@dataclass(frozen=True)
class ArrayPlan:
    """What an op does on an array, apart from memory bandwidths: folds, tiles, traffic, counts.

    Built from every hardware field except the levels' read/write bandwidths (and what only
    prices), so designs differing in bandwidth alone share it (`dse.evaluate` memoizes it);
    `time_array_op` adds the bandwidth-dependent timing.
    """

    op: object
    true_view: GemmView
    instances: int                     # of the GEMM as the array sees it
    lanes: int
    word_bytes: dict
    folds: int                         # of one instance
    first_use_cycle: dict              # operand -> `FoldSchedule.first_use_cycle`
    mapping_efficiency: float
    cycle_model: str
    rounds: int
    sharing: int
    totals: dict
    fetched_bytes: np.ndarray          # [level, operand (input, weight), fold]: bytes brought into the level
    tiles: mapping.Tiles | None        # None: timed by the SCALE-Sim USER-mode emulation
    out_capacity: int
    read_bytes: dict
    write_bytes: dict
    compute_cycles: int
    op_counts: dict


def _array_op(op, hw: Hardware) -> OpResult:
    return time_array_op(plan_array_op(array_op(op, hw.pe), hw), hw)


def plan_array_op(op: ArrayOp, hw: Hardware) -> ArrayPlan:
    """The bandwidth-free part of an array op (see `ArrayPlan`); the per-fold work is `sim.foldplan`'s."""
    view, word_bytes, totals = op.view, op.word_bytes, op.totals
    rows, cols, dataflow = hw.array.rows, hw.array.cols, hw.array.dataflow
    skew = hw.array.organization == "systolic"
    levels, memory_model = hw.memory, hw.mapper.memory_model
    # words of input and weight one buffer of each level holds (capacity / buffering / word bytes)
    rooms = [[level_room / word_bytes[o] for o, level_room in zip(("input", "weight"), level_rooms)]
             for level_rooms in _memory_arrays(hw)[0]]
    order = hw.mapper.fold_order
    if order == "auto":
        order = mapping.fewer_fetches_order(view, rows, cols, dataflow, dict(zip(("input", "weight"), rooms[0])),
                                            word_bytes)
    sr, sc, t = mapping.spatio_temporal(view, dataflow)
    folds = -(-sr // rows) * -(-sc // cols)
    work = _fold_work(op, (rows, cols, dataflow, op.step, order, skew))
    rounds = math.ceil(view.instances / hw.array.cores)
    sharing = min(hw.array.cores, view.instances)  # arrays sharing the backing store's bandwidth
    resident = np.array([[totals[o] <= room for o, room in zip(("input", "weight"), level_rooms)]
                         for level_rooms in rooms[:-1]], dtype=np.bool_).reshape(-1, 2)
    write_through = levels[0].psum_write_through
    fetched, read, write, compute_cycles, tiles = foldplan.plan_folds(
        foldplan.DATAFLOW_CODES[dataflow], rows, cols, skew, sr, sc, t, work, order == "rows_outer",
        np.array([totals["input"], totals["weight"]], dtype=np.int64), resident,
        np.array([word_bytes["input"], word_bytes["weight"], word_bytes["output"]]), len(levels), write_through,
        view.instances, np.array(rooms[0]), memory_model == "ideal_prefetch")
    out_capacity = max(1, int(levels[0].capacity_for("output") // word_bytes["output"]))
    pes = hw.array.rows * hw.array.cols * hw.array.cores
    counts = dict(op.op_counts)
    if hw.pe.synthesized:  # every PE charged every compute cycle (BitMoD / Bit Fusion simulators)
        counts[hw.pe.synthesized] = float(rounds * compute_cycles * pes)
    used_pes = sr * sc / folds  # mean over the folds, which tile Sr x Sc once
    return ArrayPlan(op=op.op, true_view=op.true_view, instances=view.instances, lanes=op.lanes, word_bytes=word_bytes,
                     folds=folds, first_use_cycle={o: mapping.first_use_cycle(dataflow, rows, o)
                                                   for o in ("input", "weight")},
                     mapping_efficiency=used_pes / (rows * cols), cycle_model=op.cycle_model, rounds=rounds,
                     sharing=sharing, totals=totals, fetched_bytes=fetched,
                     tiles=None if memory_model == "scalesim_v3_user" else mapping.Tiles(*tiles),
                     out_capacity=out_capacity, read_bytes={level.name: float(v) for level, v in zip(levels, read)},
                     write_bytes={level.name: float(v) for level, v in zip(levels, write)},
                     compute_cycles=int(compute_cycles), op_counts=counts)


def time_array_op(plan: ArrayPlan, hw: Hardware) -> OpResult:
    """The op's result on `hw`, whose fields other than bandwidths (and pricing) are the plan's."""
    op, true_view, rounds = plan.op, plan.true_view, plan.rounds
    cycles, read_stall, write_stall, drain_end, fill_start = _timing(plan, hw)
    stall = int(read_stall + write_stall)
    total_cycles = rounds * int(cycles)
    whole_layer = rounds * int(drain_end - fill_start)
    pes = hw.array.rows * hw.array.cols * hw.array.cores
    return OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=true_view.macs,
        cycles=total_cycles, compute_cycles=rounds * plan.compute_cycles, stall_cycles=rounds * stall,
        cycles_incl_prefetch=whole_layer, latency_s=whole_layer / hw.clock_hz,
        utilization=true_view.macs / (total_cycles * pes * plan.lanes) if total_cycles > 0 else 0.0,
        mapping_efficiency=plan.mapping_efficiency, folds=plan.folds * plan.instances,
        bound=_bound(hw, rounds * plan.compute_cycles, plan.read_bytes, plan.write_bytes, plan.sharing),
        read_bytes=dict(plan.read_bytes), write_bytes=dict(plan.write_bytes),
        op_counts=dict(plan.op_counts), cycle_model=plan.cycle_model,
    )


_LAST_MEMORY: list = [None, None]  # (hw, its `_memory_arrays`): every op of a design asks for the same


def _memory_arrays(hw: Hardware) -> tuple[list, np.ndarray, np.ndarray]:
    """Per-design memory figures the kernels take: bytes of input and weight one buffer of each level
    holds (capacity / buffering; 0 where not held), and for levels 1.. the shared-channel flags and
    input and weight read bandwidths (a shared channel's only at [i, 0])."""
    if _LAST_MEMORY[0] is not hw:
        levels = hw.memory
        room_bytes = [[level.capacity_for(o) / level.buffering if o in level.holds else 0.0
                       for o in ("input", "weight")] for level in levels]
        shared = np.array([level.shared_channel for level in levels[1:]], dtype=np.bool_)
        bandwidth = np.array([[level.read_bandwidth("input"),
                               0.0 if level.shared_channel else level.read_bandwidth("weight")]
                              for level in levels[1:]]).reshape(-1, 2)
        _LAST_MEMORY[:] = [hw, (room_bytes, shared, bandwidth)]
    return _LAST_MEMORY[1]


def _timing(plan: ArrayPlan, hw: Hardware):
    """(cycles, read stall, write stall, drain end, fill start) of one instance, per memory model."""
    if plan.tiles is None:
        return scalesim_user.emulate(plan.op, hw, plan.word_bytes)[:5]
    tiles, word_bytes, sharing = plan.tiles, plan.word_bytes, plan.sharing
    levels, inner = hw.memory, hw.memory[0]
    ideal = hw.mapper.memory_model == "ideal_prefetch"
    outer = levels[1]
    line_words = max(1, int(outer.write_bandwidth("output") / sharing // word_bytes["output"]))
    _, shared, bandwidth = _memory_arrays(hw)
    cycles, read_stall, write_stall, drain_end, first_load = foldplan.time_tiles(
        plan.fetched_bytes, shared, bandwidth, sharing, tiles.fold, tiles.share, tiles.cycles, tiles.out_first,
        tiles.out_last, tiles.out_cols, inner.buffering, ideal, plan.out_capacity, line_words)
    if ideal:
        fill_start = _fill_start(plan, hw)
    else:
        fill_start = -math.ceil(first_load)  # the first tile's operands, before cycle 0
    return cycles, read_stall, write_stall, drain_end, fill_start


def _fill_start(plan: ArrayPlan, hw: Hardware) -> int:
    """Cycle (<= 0) at which the initial buffer fill starts (see module docstring)."""
    inner, parent = hw.memory[0], hw.memory[1]
    totals, word_bytes, sharing = plan.totals, plan.word_bytes, plan.sharing
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
        first_use = plan.first_use_cycle[operand] if streamed else 0
        if parent.shared_channel:
            shared_bytes += fill_bytes
            starts.append(first_use - math.ceil(shared_bytes / (parent.read_bandwidth(operand) / sharing)))
        else:
            starts.append(first_use - math.ceil(fill_bytes / (parent.read_bandwidth(operand) / sharing)))
    return min(starts) if starts else 0


def _bound(hw: Hardware, compute_cycles: int, read_bytes, write_bytes, sharing: int) -> str:
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
    kind = pe_model.add_kind(op.formats.activation)
    return OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=0, cycles=cycles, compute_cycles=compute,
        stall_cycles=cycles - compute, cycles_incl_prefetch=cycles, latency_s=cycles / hw.clock_hz,
        utilization=0.0, mapping_efficiency=0.0, folds=0,
        bound="compute" if compute >= memory_cycles else backing.name,
        read_bytes=read_bytes, write_bytes=write_bytes,
        op_counts={kind: float(op.elements * op.ops_per_element)},
    )
