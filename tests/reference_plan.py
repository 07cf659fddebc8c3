"""The readable numpy form of an array op's per-fold work, which `sim.foldplan` compiles: the
reference its kernels are tested against, value for value (test_foldplan.py).

Formulas: `sim.mapping` (folds, slices, fetches) and `sim.simulate` (traffic, tiles, timing).
"""
from __future__ import annotations

import math

import numpy as np

from sim import mapping, simulate
from sim.engine import walk_folds

OPERANDS = ("input", "weight")


def buffer_words(level, operand: str, bytes_per_word: float) -> float:
    """Words of `operand` one buffer of `level` holds (capacity / buffering)."""
    if operand not in level.holds:
        return 0.0
    return level.capacity_for(operand) / level.buffering / bytes_per_word


def first_slice_use(schedule: mapping.FoldSchedule, operand: str) -> np.ndarray:
    """True for the folds that use their slice of `operand` for the first time: a slice depending
    on the row fold alone is first used with column fold 0 (in either fold order), one depending
    on the column fold with row fold 0; one depending on both is used by one fold only."""
    axis = mapping.SLICE_AXES[schedule.dataflow][operand]
    if axis == "row":
        return schedule.col_fold == 0
    if axis == "col":
        return schedule.row_fold == 0
    return np.ones(schedule.folds, dtype=bool)


def fetched_words(schedule: mapping.FoldSchedule, operand: str, total_words: int, buffer_words: float) -> np.ndarray:
    """Words of `operand` brought into a level per fold.

    Resident (fits one buffer): each slice is fetched at its first use and kept, the total
    being the operand's distinct words (conv inputs once, not per im2col row). Otherwise a
    fold fetches its slice unless the previous fold used the same one.
    """
    per_fold = schedule.sram_words[operand]
    if total_words <= buffer_words:
        fetched = np.where(first_slice_use(schedule, operand), per_fold, 0.0)
        return fetched * (total_words / fetched.sum())
    ids = schedule.slice_id[operand]
    changed = np.empty(ids.size, dtype=bool)
    changed[0] = True
    np.not_equal(ids[1:], ids[:-1], out=changed[1:])
    return np.where(changed, per_fold, 0.0)


def fetched_per_level(schedule, levels, totals, word_bytes) -> list[dict[str, np.ndarray]]:
    """Words of each input operand moved into level i from level i+1, per fold; an operand that
    does not fit level i (or that level i does not hold) streams through it."""
    fetched, below = [], None
    for level in levels[:-1]:
        per_operand = {}
        for operand in OPERANDS:
            room = buffer_words(level, operand, word_bytes[operand])
            if below is not None and totals[operand] > room:
                per_operand[operand] = below[operand]
            else:
                per_operand[operand] = fetched_words(schedule, operand, totals[operand], room)
        fetched.append(per_operand)
        below = per_operand
    return fetched


def chunks_to_fit(schedule: mapping.FoldSchedule, level, word_bytes: dict[str, float]) -> np.ndarray:
    """Per fold, the fewest time chunks whose streamed input slices fit one buffer of `level`."""
    chunks = np.ones(schedule.folds, dtype=np.int64)
    streamed = {"os": ("input", "weight"), "ws": ("input",), "is": ("weight",)}[schedule.dataflow]
    for operand in streamed:
        room = buffer_words(level, operand, word_bytes[operand])
        if room <= 0:
            continue
        chunks = np.maximum(chunks, np.ceil(schedule.sram_words[operand] / room).astype(np.int64))
    return chunks


def final_outputs(schedule: mapping.FoldSchedule) -> np.ndarray:
    """True for folds that complete their outputs (the last fold reducing over that slice)."""
    if schedule.dataflow == "os":
        return np.ones(schedule.folds, dtype=bool)
    return schedule.row_fold == schedule.row_folds - 1


def traffic(schedule, levels, fetched, out_words, final, word_bytes, instances):
    """Bytes read from and written to each level (all instances): innermost, the array's operand
    reads, output writes and partial sums read back; between levels, the fetches and the outputs."""
    read = {level.name: 0.0 for level in levels}
    write = {level.name: 0.0 for level in levels}
    inner, array_out = levels[0].name, schedule.sram_words["output"]
    array_out_words, out_words = array_out.sum(), out_words.sum()
    for operand in OPERANDS:
        read[inner] += schedule.sram_words[operand].sum() * word_bytes[operand]
    write[inner] += array_out_words * word_bytes["output"]
    if out_words < array_out_words:
        read[inner] += (array_out_words - array_out[final].sum()) * word_bytes["output"]
    moved_out = out_words * word_bytes["output"]
    for i in range(len(levels) - 1):
        for operand, words in fetched[i].items():
            moved = words.sum() * word_bytes[operand]
            write[levels[i].name] += moved
            read[levels[i + 1].name] += moved
        read[levels[i].name] += moved_out
        write[levels[i + 1].name] += moved_out
    return ({k: float(v * instances) for k, v in read.items()},
            {k: float(v * instances) for k, v in write.items()})


def transfer_cycles(level, bytes_by_operand: dict[str, np.ndarray], sharing: int) -> np.ndarray:
    """Cycles to read the given bytes from `level`: slowest channel per fold."""
    if level.shared_channel:
        return sum(bytes_by_operand.values()) / (level.read_bandwidth("input") / sharing)
    return np.maximum.reduce([b / (level.read_bandwidth(op) / sharing) for op, b in bytes_by_operand.items()])


def reference_op(op, hw) -> dict:
    """An array op's plan arrays and timing (cycles, read stall, write stall, drain end, first tile's
    load) computed the numpy way, for `op` with its formats resolved."""
    facts = simulate.array_op(op, hw.pe)
    view, word_bytes, levels, array = facts.view, facts.word_bytes, hw.memory, hw.array
    order = hw.mapper.fold_order
    if order == "auto":
        room = {operand: buffer_words(levels[0], operand, word_bytes[operand]) for operand in OPERANDS}
        order = mapping.fewer_fetches_order(view, array.rows, array.cols, array.dataflow, room, word_bytes)
    shape = (array.rows, array.cols, array.dataflow, facts.step, order, array.organization == "systolic")
    schedule = mapping.fold_schedule(view, *shape)
    if facts.cost is not None:  # value-dependent fold work
        schedule = schedule.with_work(simulate._fold_work(facts, shape))
    totals = mapping.operand_words(view)
    fetched = fetched_per_level(schedule, levels, totals, word_bytes)
    final = final_outputs(schedule)
    write_through = levels[0].psum_write_through
    array_out = schedule.sram_words["output"]
    out_words = array_out if write_through else np.where(final, array_out, 0)
    read, write = traffic(schedule, levels, fetched, out_words, final, word_bytes, view.instances)
    ideal = hw.mapper.memory_model == "ideal_prefetch"
    chunks = np.ones(schedule.folds, dtype=np.int64) if ideal else chunks_to_fit(schedule, levels[0], word_bytes)
    tiles = mapping.split_folds(schedule, chunks, np.where(out_words > 0, schedule.used_cols, 0))
    sharing = min(array.cores, view.instances)
    fold_load = np.zeros(schedule.folds)
    moved = [{operand: words * word_bytes[operand] for operand, words in level.items()} for level in fetched]
    for i, level_moved in enumerate(moved):
        fold_load = np.maximum(fold_load, transfer_cycles(levels[i + 1], level_moved, sharing))
    load = fold_load[tiles.fold] * tiles.share
    outer = levels[1]
    line_words = max(1, int(outer.write_bandwidth("output") / sharing // word_bytes["output"]))
    out_capacity = max(1, int(levels[0].capacity_for("output") // word_bytes["output"]))
    timing = walk_folds(tiles.cycles, load, tiles.out_first, tiles.out_last, tiles.out_cols, levels[0].buffering,
                        ideal, out_capacity, line_words)[:4]
    return {"fetched_bytes": np.array([[level[o] for o in OPERANDS] for level in moved]).reshape(-1, 2, schedule.folds),
            "read_bytes": read, "write_bytes": write, "compute_cycles": int(schedule.fold_cycles.sum()) - 1,
            "tiles": tiles, "timing": (*timing, load[0]), "folds": schedule.folds,
            "mapping_efficiency": schedule.sr * schedule.sc / schedule.folds / (array.rows * array.cols)}
