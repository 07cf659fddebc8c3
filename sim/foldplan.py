"""The per-fold work of one array op in two Numba kernels: the plan (folds, fetches, traffic,
tiles) and its timing. They implement the formulas of `sim.mapping` and `sim.simulate` on plain
scalars and arrays, so one op costs two compiled calls instead of a few hundred numpy ones;
tests/reference_plan.py is the readable numpy form they are tested against, value for value.

`plan_folds`, for the folds of one GEMM instance in execution order (R row folds, C column folds;
fold i is (row i % R, col i // R) for cols_outer, (row i // C, col i % C) for rows_outer):
    used rows ur = min(rows, Sr - row*rows), used cols uc = min(cols, Sc - col*cols)
    words the array reads per fold by slice axis: row ur*T, col uc*T, both ur*uc
    fold cycles = work[f] + fill/drain (os: rows + cols - 2 when skewed, else 0; ws/is: 2 rows + cols - 2)
    fetched into level i (input and weight), per fold:
        resident at level i (distinct words <= one buffer): the slice at its first use, scaled
            so the operand's distinct words arrive in total (`mapping` docstring);
        else, at level 0: the slice whenever it differs from the previous fold's;
        else: what level i-1 fetches (the operand streams through level i).
    traffic (all instances): innermost reads = array reads (+ partial sums read back when some
    are kept in place), innermost writes = array output writes; between level i and i+1 the
    fetched words (read from i+1, written to i) and the output words (read from i, written to i+1).
    tiles: each fold cut into the fewest time chunks whose streamed slices fit one level-0
    buffer (ceil(streamed words / buffer words); 1 under ideal_prefetch), split by `sim.mapping._split`.
Float sums are numpy's pairwise sums (`_pairwise_sum`), so every number equals the numpy form's.

`time_tiles`: per fold, load cycles = max over levels i of the slowest channel of level i+1
(a shared channel: the operands' bytes summed over its read bandwidth / sharing; else each
operand's bytes over its own); a tile loads its share of its fold's; then `sim.engine.walk_folds`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import walk_folds
from sim.mapping import _split

DATAFLOW_CODES = {"os": 0, "ws": 1, "is": 2}
# slice axis per dataflow and operand (input, weight, output): 0 row, 1 col, 2 both (`mapping.SLICE_AXES`)
_AXES = np.array([[0, 1, 2], [0, 2, 1], [2, 0, 1]], dtype=np.int64)


@njit(cache=True)
def _block_sum(a, lo, n):
    """numpy's float64 sum of a[lo:lo+n] for n <= 128: a plain loop below 8, else 8 interleaved sums."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = a[lo:lo + 8].copy()
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a, lo, n):
    """numpy's float64 sum of a[lo:lo+n], bit for bit: blocks of <= 128 (`_block_sum`), longer runs
    halved at a multiple of 8 and the halves' sums added. The recursion runs on an explicit stack
    (Numba's cache does not reload recursive functions reliably)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    phase = np.zeros(64, dtype=np.int64)   # 0: sum the left half next, 1: the right half, 2: add them
    sums = np.empty(64)
    top, held = 0, 0
    starts[0], sizes[0] = lo, n
    while top >= 0:
        start, size = starts[top], sizes[top]
        if size <= 128:
            sums[held] = _block_sum(a, start, size)
            held += 1
            top -= 1
            continue
        half = size // 2 - (size // 2) % 8
        if phase[top] == 2:
            sums[held - 2] += sums[held - 1]
            held -= 1
            top -= 1
            continue
        phase[top] += 1
        top += 1
        phase[top] = 0
        if phase[top - 1] == 1:
            starts[top], sizes[top] = start, half
        else:
            starts[top], sizes[top] = start + half, size - half
    return sums[0]


@njit(cache=True)
def plan_folds(dataflow, rows, cols, skew, sr, sc, t, work, rows_outer, distinct, resident, word_bytes,
               levels, write_through, instances, chunk_room, whole_folds):
    """(fetched bytes [level, operand, fold], read bytes [level], write bytes [level], compute cycles,
    tiles (fold, share, cycles, out_first, out_last, out_cols)) of one op; see the module docstring.

    distinct: distinct words of input, weight; resident[i, o]: operand o fits one buffer of level i;
    word_bytes: input, weight, output; chunk_room: words of input, weight one level-0 buffer holds;
    whole_folds: tiles are whole folds (ideal_prefetch).
    """
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    folds = row_folds * col_folds
    row_fold = np.empty(folds, dtype=np.int64)
    col_fold = np.empty(folds, dtype=np.int64)
    used_rows = np.empty(folds, dtype=np.int64)
    sram = np.empty((3, folds), dtype=np.int64)       # words the array reads (outputs: writes)
    slice_id = np.empty((3, folds), dtype=np.int64)
    for f in range(folds):
        if rows_outer:
            r, c = f // col_folds, f % col_folds
        else:
            r, c = f % row_folds, f // row_folds
        ur = min(rows, sr - r * rows)
        uc = min(cols, sc - c * cols)
        row_fold[f], col_fold[f], used_rows[f] = r, c, ur
        for o in range(3):
            axis = _AXES[dataflow, o]
            if axis == 0:
                sram[o, f], slice_id[o, f] = ur * t, r
            elif axis == 1:
                sram[o, f], slice_id[o, f] = uc * t, c
            else:
                sram[o, f], slice_id[o, f] = ur * uc, r * col_folds + c

    # fetched words per level: each operand's resident and streamed forms, built when needed
    fetched = np.zeros((max(levels - 1, 0), 2, folds))
    for o in range(2):
        kept = np.zeros(folds)
        moved = np.zeros(folds)
        have_kept = have_moved = False
        for i in range(levels - 1):
            if resident[i, o]:
                if not have_kept:
                    axis = _AXES[dataflow, o]
                    for f in range(folds):
                        first = col_fold[f] == 0 if axis == 0 else (row_fold[f] == 0 if axis == 1 else True)
                        kept[f] = sram[o, f] if first else 0.0
                    kept *= distinct[o] / _pairwise_sum(kept, 0, folds)
                    have_kept = True
                fetched[i, o] = kept
            elif i == 0:
                if not have_moved:
                    for f in range(folds):
                        moved[f] = sram[o, f] if f == 0 or slice_id[o, f] != slice_id[o, f - 1] else 0.0
                    have_moved = True
                fetched[i, o] = moved
            else:
                fetched[i, o] = fetched[i - 1, o]

    # traffic, summed in the numpy form's order
    out_cols = np.empty(folds, dtype=np.int64)
    array_out = final_out = out_words = 0
    for f in range(folds):
        final = dataflow == 0 or row_fold[f] == row_folds - 1
        array_out += sram[2, f]
        if final:
            final_out += sram[2, f]
        out_cols[f] = 0
        if write_through or final:  # the fold writes its outputs on to the next level
            out_words += sram[2, f]
            out_cols[f] = min(cols, sc - col_fold[f] * cols)
    read = np.zeros(levels)
    write = np.zeros(levels)
    read[0] += sram[0].sum() * word_bytes[0]
    read[0] += sram[1].sum() * word_bytes[1]
    write[0] += array_out * word_bytes[2]
    if out_words < array_out:
        read[0] += (array_out - final_out) * word_bytes[2]
    moved_out = out_words * word_bytes[2]
    for i in range(levels - 1):
        for o in range(2):
            moved_bytes = _pairwise_sum(fetched[i, o], 0, folds) * word_bytes[o]
            write[i] += moved_bytes
            read[i + 1] += moved_bytes
        read[i] += moved_out
        write[i + 1] += moved_out
    read *= instances
    write *= instances
    for i in range(levels - 1):
        for o in range(2):
            fetched[i, o] *= word_bytes[o]

    # tiles
    chunks = np.ones(folds, dtype=np.int64)
    if not whole_folds:
        for o in range(2):
            streamed = dataflow == 0 or (dataflow == 1 and o == 0) or (dataflow == 2 and o == 1)
            if streamed and chunk_room[o] > 0:
                for f in range(folds):
                    chunks[f] = max(chunks[f], np.int64(np.ceil(sram[o, f] / chunk_room[o])))
    for f in range(folds):
        chunks[f] = min(max(chunks[f], 1), t)
    overhead = (rows + cols - 2 if skew else 0) if dataflow == 0 else 2 * rows + cols - 2
    compute_cycles = folds * overhead + work.sum() - 1
    tiles = _split(chunks, work, used_rows, out_cols, t, rows, cols, dataflow == 0, skew)
    return fetched, read, write, compute_cycles, tiles


@njit(cache=True)
def time_tiles(fetched, shared, read_bandwidth, sharing, tile_fold, tile_share, tile_cycles, out_first,
               out_last, out_cols, buffers, ideal_prefetch, out_capacity, line_words):
    """`walk_folds` of the tiles with their load cycles (module docstring); returns its
    (cycles, read stall, write stall, drain end) and the first tile's load cycles.

    fetched[i, o, f]: bytes of operand o (input, weight) fold f brings into level i;
    shared[i], read_bandwidth[i, o]: channel and read bandwidths of level i + 1.
    """
    folds = fetched.shape[2]
    fold_load = np.zeros(folds)
    for i in range(fetched.shape[0]):
        input_rate = read_bandwidth[i, 0] / sharing
        weight_rate = read_bandwidth[i, 1] / sharing
        for f in range(folds):
            if shared[i]:
                cycles = (fetched[i, 0, f] + fetched[i, 1, f]) / input_rate
            else:
                cycles = max(fetched[i, 0, f] / input_rate, fetched[i, 1, f] / weight_rate)
            fold_load[f] = max(fold_load[f], cycles)
    load = fold_load[tile_fold] * tile_share
    cycles, read_stall, write_stall, drain_end, _ = walk_folds(
        tile_cycles, load, out_first, out_last, out_cols, buffers, ideal_prefetch, out_capacity, line_words)
    return cycles, read_stall, write_stall, drain_end, load[0]
