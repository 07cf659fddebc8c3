"""The Numba tile engine against hand calculations and a plain-Python second implementation."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim.engine import walk_folds


def reference_walk(fold_cycles, load_cycles, out_first, out_last, out_cols, buffers, ideal, capacity, line_words):
    """Straightforward re-implementation: explicit list of drained lines, element by element."""
    active = math.ceil(capacity * 0.5)
    drain_half = capacity - active
    per_drain = math.ceil(drain_half / line_words)
    lines, current = [], 0   # lines: valid words per written-back line
    free, drain_from, drain_end, last_end = capacity, 0, 0, -1
    compute_end, load_end_prev, t = [], 0, 0
    read_stall = write_stall = 0
    for f in range(len(fold_cycles)):
        start = t
        if not ideal and f > 0:
            load_start = max([load_end_prev] + ([compute_end[f - buffers]] if f >= buffers else []))
            load_end_prev = load_start + math.ceil(load_cycles[f])
            start = max(t, load_end_prev)
            read_stall += start - t
        offset = 0
        a, b, u = out_first[f], out_last[f], out_cols[f]
        for tt in range(a, b + u) if u else []:
            count = sum(1 for i in range(a, b + 1) if 0 <= tt - i < u)
            now = start + tt + offset
            for _ in range(count):
                current += 1
                free -= 1
                if current == line_words:
                    lines.append(current)
                    current = 0
                if now < drain_end:
                    if free <= 0:
                        offset += drain_end - now
                        now = drain_end
                elif free < active:
                    if current:
                        lines.append(current)
                        current = 0
                    chunk = lines[drain_from:drain_from + per_drain]
                    free += len(chunk) * line_words - (line_words - chunk[-1])
                    drain_end = now + len(chunk) - 1
                    last_end = max(last_end, drain_end)
                    drain_from += len(chunk)
        write_stall += offset
        compute_end.append(start + fold_cycles[f] + offset)
        t = compute_end[-1]
    cycles = t - 1
    if current:
        lines.append(current)
    cycle = cycles
    while drain_from < len(lines):
        chunk = lines[drain_from:drain_from + per_drain]
        last_end = max(last_end, cycle + len(chunk) - 1)
        cycle += len(chunk)
        drain_from += len(chunk)
    return cycles, read_stall, write_stall, last_end


def _run(fold_cycles, load_cycles, out_first, out_last, out_cols, buffers=2, ideal=False, capacity=1 << 20, line=8):
    arrays = [np.asarray(x, dtype=np.int64) for x in (fold_cycles, out_first, out_last, out_cols)]
    return walk_folds(arrays[0], np.asarray(load_cycles, dtype=float), arrays[1], arrays[2], arrays[3],
                      buffers, ideal, capacity, line)


def test_no_stall_cycles_follow_scalesim_convention():
    cycles, read_stall, write_stall, _, words = _run([10, 10, 10], [0, 0, 0], [3, 3, 3], [4, 4, 4], [2, 2, 2])
    assert (cycles, read_stall, write_stall) == (29, 0, 0)
    assert words == 3 * 2 * 2


def test_double_buffered_read_stalls_by_hand():
    # fold 1's inputs take 25 cycles to load while fold 0 computes for 10: 15 stall cycles;
    # fold 2's load starts when fold 1's ends (25) and takes 25 more: ready at 50, fold 1 ends at 35.
    cycles, read_stall, _, _, _ = _run([10, 10, 10], [0, 25, 25], [0, 0, 0], [0, 0, 0], [0, 0, 0])
    assert read_stall == 15 + 15
    assert cycles == 60 - 1
    # single buffering: each load waits for the previous fold's compute to free the only buffer
    cycles, read_stall, _, _, _ = _run([10, 10, 10], [0, 25, 25], [0, 0, 0], [0, 0, 0], [0, 0, 0], buffers=1)
    assert cycles == 10 + (25 + 10) + (25 + 10) - 1
    # ideal prefetch never stalls on reads
    assert _run([10, 10, 10], [0, 25, 25], [0] * 3, [0] * 3, [0] * 3, ideal=True)[1] == 0


def test_small_output_buffer_stalls_the_array():
    # 16 outputs per cycle into a 32-word buffer drained 1 word per cycle must stall
    cycles, _, write_stall, drain_end, words = _run([40], [0], [0], [15], [16], capacity=32, line=1)
    assert write_stall > 0 and cycles == 39 + write_stall
    assert drain_end >= words - 1


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_engine_matches_reference_implementation(data):
    folds = data.draw(st.integers(1, 6))
    fold_cycles = data.draw(st.lists(st.integers(5, 120), min_size=folds, max_size=folds))
    load = data.draw(st.lists(st.floats(0, 80), min_size=folds, max_size=folds))
    out_first, out_last, out_cols = [], [], []
    for length in fold_cycles:
        cols = data.draw(st.integers(0, 40))
        first = data.draw(st.integers(0, length - 1))
        last = data.draw(st.integers(first, max(first, length - cols)))
        out_first.append(first)
        out_last.append(last)
        out_cols.append(cols)
    buffers = data.draw(st.integers(1, 3))
    ideal = data.draw(st.booleans())
    capacity = data.draw(st.integers(2, 300))
    line = data.draw(st.integers(1, 9))
    got = _run(fold_cycles, load, out_first, out_last, out_cols, buffers, ideal, capacity, line)
    want = reference_walk(fold_cycles, load, out_first, out_last, out_cols, buffers, ideal, capacity, line)
    assert tuple(int(x) for x in got[:4]) == want
