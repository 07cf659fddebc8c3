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


# Write-buffer state: one int64 array holding these fields, then the partial lines (a drain
# trigger flushes the line being filled, so it goes out with fewer than line_words words) as
# (line index, valid words) pairs. An array rather than locals so that walk_folds and the
# SCALE-Sim USER-mode emulation (sim.scalesim_user) share one implementation.
_WB_CAPACITY, _WB_ACTIVE, _WB_LINE_WORDS, _WB_PER_DRAIN, _WB_FREE, _WB_FILL, _WB_LINES, \
    _WB_DRAINED, _WB_DRAIN_END, _WB_LAST_END, _WB_WORDS, _WB_PARTIALS = range(12)
_WB_FIELDS = 12


@njit(cache=True)
def write_buffer(capacity, line_words):
    """A fresh, empty output buffer of `capacity` words drained in lines of `line_words` words."""
    wb = np.zeros(_WB_FIELDS + 8, dtype=np.int64)
    active = capacity - (capacity - (capacity + 1) // 2)  # ceil(capacity / 2)
    wb[_WB_CAPACITY] = capacity
    wb[_WB_ACTIVE] = active
    wb[_WB_LINE_WORDS] = line_words
    wb[_WB_PER_DRAIN] = (capacity - active + line_words - 1) // line_words
    wb[_WB_FREE] = capacity
    wb[_WB_LAST_END] = -1
    return wb


@njit(cache=True)
def _line_valid(wb, line):
    line_words = wb[_WB_LINE_WORDS]
    for p in range(wb[_WB_PARTIALS]):
        if wb[_WB_FIELDS + 2 * p] == line:
            return wb[_WB_FIELDS + 2 * p + 1]
    return line_words


@njit(cache=True)
def write_words(wb, now, count):
    """Write `count` words into the buffer at cycle `now`, one after another.

    Word by word: store it; then, while a drain is in flight, a full buffer stalls the
    array until the drain ends; otherwise occupancy above the drain half starts a drain.
    The words between two such events are stored in one step (same result, no per-word loop).
    Returns (cycle, wb): the cycle the last word went in (later than `now` when the array
    stalled) and the state (reallocated when the partial-line list grows: always rebind it).
    """
    line_words = wb[_WB_LINE_WORDS]
    active = wb[_WB_ACTIVE]
    free = wb[_WB_FREE]
    line_fill = wb[_WB_FILL]
    n_lines = wb[_WB_LINES]
    drain_end = wb[_WB_DRAIN_END]
    remaining = count
    while remaining > 0:
        draining = now < drain_end
        # words stored until the next event: buffer full (draining) or above the drain half
        until_event = max(1, free) if draining else max(1, free - active + 1)
        step = min(remaining, until_event)
        filled = line_fill + step
        n_lines += filled // line_words
        line_fill = filled % line_words
        free -= step
        remaining -= step
        if step < until_event:
            break
        if draining:
            now = drain_end
            continue
        if line_fill != 0:
            n_partial = wb[_WB_PARTIALS]
            if _WB_FIELDS + 2 * n_partial + 2 > wb.size:
                grown = np.zeros(2 * wb.size, dtype=np.int64)
                grown[:wb.size] = wb
                wb = grown
            wb[_WB_FIELDS + 2 * n_partial] = n_lines
            wb[_WB_FIELDS + 2 * n_partial + 1] = line_fill
            wb[_WB_PARTIALS] = n_partial + 1
            n_lines += 1
            line_fill = 0
        drained = wb[_WB_DRAINED]
        end_line = min(drained + wb[_WB_PER_DRAIN], n_lines)
        sent = end_line - drained
        # words are credited when the drain starts; only the last line's holes are discounted
        free += sent * line_words - (line_words - _line_valid(wb, end_line - 1))
        drain_end = now + sent - 1
        wb[_WB_LAST_END] = max(wb[_WB_LAST_END], drain_end)
        wb[_WB_DRAINED] = end_line
    wb[_WB_FREE] = free
    wb[_WB_FILL] = line_fill
    wb[_WB_LINES] = n_lines
    wb[_WB_DRAIN_END] = drain_end
    wb[_WB_WORDS] += count
    return now, wb


@njit(cache=True)
def drain_all(wb, cycle):
    """Drain every line still held, back to back from `cycle`; returns the last drain's end."""
    n_lines = wb[_WB_LINES] + (1 if wb[_WB_FILL] != 0 else 0)
    drained = wb[_WB_DRAINED]
    last_end = wb[_WB_LAST_END]
    while drained < n_lines:
        end_line = min(drained + wb[_WB_PER_DRAIN], n_lines)
        cycle_end = cycle + (end_line - drained) - 1
        last_end = max(last_end, cycle_end)
        drained = end_line
        cycle = cycle_end + 1
    return last_end


@njit(cache=True)
def _write_fold(wb, start, a, b, u, offset):
    """A fold's writes, cycle tt in [a, b + u) writing min(b, tt) - max(a, tt - u + 1) + 1 words at
    start + tt + offset; returns (offset, wb), offset grown by the stalls.

    Cycle by cycle this is one `write_words` per cycle. The cycles before the next event (the
    buffer full while draining, the drain half crossed, or the drain ending) go in one step:
    no event happens in them exactly when their words sum below the limit that `write_words`
    checks (free words, or free - active + 1), and storing a sum leaves the buffer as storing its
    terms one by one. Across the plateau, where every cycle writes c = min(u, b - a + 1) words,
    the cycles that fit are counted in one division.
    """
    end = b + u
    c = min(u, b - a + 1)
    plateau_lo, plateau_hi = a + c - 1, b + u - c
    tt = a
    while tt < end:
        now = start + tt + offset
        drain_end = wb[_WB_DRAIN_END]
        if now < drain_end:
            limit = wb[_WB_FREE]
            stop = min(end, drain_end - start - offset)  # the drain is over from this cycle on
        else:
            limit = wb[_WB_FREE] - wb[_WB_ACTIVE] + 1
            stop = end
        total = 0
        k = tt
        while k < stop:
            if plateau_lo <= k <= plateau_hi and limit - 1 - total >= c:
                jump = min(min(plateau_hi + 1, stop) - k, (limit - 1 - total) // c)
                total += jump * c
                k += jump
                continue
            count = min(b, k) - max(a, k - u + 1) + 1
            if total + count >= limit:
                break
            total += count
            k += 1
        if total > 0:
            _, wb = write_words(wb, now, total)
        if k < stop:  # cycle k meets the event: as the cycle-by-cycle walk does
            count = min(b, k) - max(a, k - u + 1) + 1
            at = start + k + offset
            done, wb = write_words(wb, at, count)
            offset += done - at
            k += 1
        tt = k
    return offset, wb


@njit(cache=True)
def walk_folds(fold_cycles, load_cycles, out_first, out_last, out_cols, buffers,
               ideal_prefetch, out_capacity, line_words):
    """Walk the folds; returns (cycles, read_stall, write_stall, drain_end, output_words).

    fold_cycles[f]: compute cycles of fold f; load_cycles[f]: cycles to bring its inputs;
    out_first/out_last/out_cols[f]: output window of the fold (out_cols 0 = writes nothing).
    """
    n = fold_cycles.shape[0]
    compute_end = np.zeros(n, dtype=np.int64)
    wb = write_buffer(out_capacity, line_words)
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
            fold_words = (b - a + 1) * u
            if fold_words < wb[_WB_FREE] - wb[_WB_ACTIVE] + 1:
                # no drain starts and the buffer cannot fill during this fold's writes: storing
                # them in one step leaves the buffer as the cycle-by-cycle walk does
                _, wb = write_words(wb, start + a, fold_words)
            else:
                offset, wb = _write_fold(wb, start, a, b, u, offset)
        write_stall += offset
        compute_end[f] = start + fold_cycles[f] + offset
        t = compute_end[f]
    cycles = t - 1
    # final drain, starting at the last compute cycle
    last_drain_end = drain_all(wb, cycles)
    return cycles, read_stall, write_stall, last_drain_end, wb[_WB_WORDS]
