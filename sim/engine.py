"""The tile engine: walks an op's fold schedule as a load -> compute -> store pipeline.

Numba-compiled (`njit(cache=True)`); no per-MAC work, one step per fold plus one per cycle
of output write-back. Time is in cycles; cycle 0 is the first compute cycle.

Load side (per fold f, double-buffered with `buffers` buffers):
    load_start[f]    = max(load_end[f-1], compute_end[f-buffers])
    load_end[f]      = load_start[f] + load_cycles[f]
    compute_start[f] = max(compute_end[f-1], load_end[f])       (read stall = the gap)
with `ideal_prefetch` the load side never stalls (SCALE-Sim's InterfaceBandwidth=CALC).

Store side: a fold writes its outputs over the cycles the array drains them; with `a`, `b`
the first and last fold-relative cycle at which an array row emits and `u` active columns
(outputs skewed one cycle per column), cycle t writes  min(b, t) - max(a, t-u+1) + 1  outputs.
They enter an output buffer of `out_capacity` words drained to the next level in lines of
`line_words` words, one line per cycle: when occupancy exceeds the drain half
(capacity - ceil(capacity/2)) and no drain is in flight, that half's worth of lines is
written back; a write finding the buffer full while a drain is in flight stalls the array
until the drain ends. At the end the rest is drained. This is SCALE-Sim v3's write buffer,
including its line accounting (a drain counts the lines it sends as full except the last).

Reported: cycles = (index of the last compute cycle), i.e. sum(fold_cycles) - 1 + stalls —
SCALE-Sim's "Total Cycles" convention; `drain_end` is the cycle the last output reaches
the next level.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _line_valid(line, partial_lines, partial_counts, n_partial, line_words):
    for p in range(n_partial):
        if partial_lines[p] == line:
            return partial_counts[p]
    return line_words


@njit(cache=True)
def walk_folds(fold_cycles, load_cycles, out_first, out_last, out_cols, buffers,
               ideal_prefetch, out_capacity, line_words):
    """Walk the folds; returns (cycles, read_stall, write_stall, drain_end, output_words).

    fold_cycles[f]: compute cycles of fold f; load_cycles[f]: cycles to bring its inputs;
    out_first/out_last/out_cols[f]: output window of the fold (out_cols 0 = writes nothing).
    """
    n = fold_cycles.shape[0]
    compute_end = np.zeros(n, dtype=np.int64)
    active = out_capacity - (out_capacity - (out_capacity + 1) // 2)  # ceil(capacity / 2)
    drain_half = out_capacity - active
    lines_per_drain = (drain_half + line_words - 1) // line_words
    max_partials = 4
    partial_lines = np.empty(max_partials, dtype=np.int64)
    partial_counts = np.empty(max_partials, dtype=np.int64)
    n_partial = 0
    free = out_capacity
    line_fill = 0
    n_lines = 0
    drain_start_line = 0
    drain_end = np.int64(0)
    last_drain_end = np.int64(-1)
    output_words = np.int64(0)
    read_stall = np.int64(0)
    write_stall = np.int64(0)
    load_end_prev = np.int64(0)
    t = np.int64(0)  # start of the current fold
    for f in range(n):
        # load side
        if ideal_prefetch or f == 0:
            start = t
        else:
            load_start = load_end_prev
            if f >= buffers:
                load_start = max(load_start, compute_end[f - buffers])
            load_end = load_start + np.int64(np.ceil(load_cycles[f]))
            load_end_prev = load_end
            start = max(t, load_end)
            read_stall += start - t
        if f == 0:
            load_end_prev = 0
        # compute and store side
        offset = np.int64(0)
        u = out_cols[f]
        if u > 0:
            a = out_first[f]
            b = out_last[f]
            for tt in range(a, b + u):
                count = min(b, tt) - max(a, tt - u + 1) + 1
                now = start + tt + offset
                for _ in range(count):
                    output_words += 1
                    line_fill += 1
                    free -= 1
                    if line_fill == line_words:
                        n_lines += 1
                        line_fill = 0
                    if now < drain_end:
                        if free <= 0:
                            offset += drain_end - now
                            now = drain_end
                    elif free < active:
                        if line_fill != 0:
                            if n_partial == max_partials:
                                grown_l = np.empty(2 * max_partials, dtype=np.int64)
                                grown_c = np.empty(2 * max_partials, dtype=np.int64)
                                grown_l[:max_partials] = partial_lines
                                grown_c[:max_partials] = partial_counts
                                partial_lines, partial_counts = grown_l, grown_c
                                max_partials *= 2
                            partial_lines[n_partial] = n_lines
                            partial_counts[n_partial] = line_fill
                            n_partial += 1
                            n_lines += 1
                            line_fill = 0
                        end_line = min(drain_start_line + lines_per_drain, n_lines)
                        sent = end_line - drain_start_line
                        last_valid = _line_valid(end_line - 1, partial_lines, partial_counts,
                                                 n_partial, line_words)
                        free += sent * line_words - (line_words - last_valid)
                        drain_end = now + sent - 1
                        last_drain_end = max(last_drain_end, drain_end)
                        drain_start_line = end_line
        write_stall += offset
        compute_end[f] = start + fold_cycles[f] + offset
        t = compute_end[f]
    cycles = t - 1
    # final drain, starting at the last compute cycle
    if line_fill != 0:
        n_lines += 1
    cycle = cycles
    while drain_start_line < n_lines:
        end_line = min(drain_start_line + lines_per_drain, n_lines)
        cycle_end = cycle + (end_line - drain_start_line) - 1
        last_drain_end = max(last_drain_end, cycle_end)
        drain_start_line = end_line
        cycle = cycle_end + 1
    return cycles, read_stall, write_stall, last_drain_end, output_words
