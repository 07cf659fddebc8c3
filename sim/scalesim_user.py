"""SCALE-Sim v3.0.0's USER-mode memory system, emulated for cross-checking against SCALE-Sim.

This is the `scalesim_v3_user` memory model, chosen when a SCALE-Sim config with
`InterfaceBandwidth: USER` is imported. It reproduces SCALE-Sim's read buffer
(memory/read_buffer.py) *including its quirks*; it is not quarch's physical model
(`double_buffered` in sim.engine), which is what quarch's own designs should use.

Operands (GEMM view M x N x K; R x C array; folds column-fold outer, row-fold inner):
  ifmap I[m, k] = address of the im2col'd input word (-1 past the input's edge), filter
  F[k, n]. Each of them is either *streamed* (enters skewed, one word per column per cycle:
  os ifmap and filter, ws ifmap, is filter) or *stationary* (loaded in the fold's first R
  cycles, bottom row first: ws filter, is ifmap).
Fetch stream (SCALE-Sim's prefetch matrix, flattened): every fold block once, in fold order,
  -1 padded to the array edge; streamed operands' stack is then read along anti-diagonals.
  Length S. Its valid words are cut into sets of eps = ceil(words/100) (duplicates count),
  giving n_sets = floor(valid/eps) + 1 sets.
Window: with A = ceil(words/2) and P = words - A, the first n_act = ceil(A/eps) sets are
  resident (all of them when the stream fits). Demand addresses are checked row by row, in
  column order; an address in none of the window's sets is a miss, and each miss advances
  the window cyclically by ceil(P/eps) sets until the address is inside — a fold that
  touches a set just behind the window walks it all the way round (the thrash).
Timing: the fill is min(ceil(A/bw), ceil(S/bw)) lines in cycles -fill .. -1. Advance k
  brings one chunk of ceil(P/bw) lines, ready at F_k = -1 + k*(ceil(P/bw) + 1) whatever
  the demand cycle (DRAM streams back to back). A row issued at cycle c is served at
  c + offset, offset = 1 + sum over its advances of pot = F_k - (c + offset), where a
  positive pot is added twice (SCALE-Sim 3.0.0's double-counted stall) and a negative
  one pulls the offset back.
Row stall = max(ifmap, filter, ofmap stall); row i is issued at i + stalls so far. The
  output write buffer is sim.engine's (shared with walk_folds); a row's writes see its
  issue cycle. Total cycles = the last row's write cycle; the write buffer then drains.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from hwmodels import pe as pe_model
from hwmodels.spec import Hardware
from sim import mapping
from sim.engine import drain_all, write_buffer, write_words
from workloads.ops import Conv2d

# geometry of one operand, packed for the njit walk
_STREAMED, _WIDTH, _LEAD, _N_SETS, _N_ACTIVE, _ADVANCE, _CHUNK = range(7)


class Operand(NamedTuple):
    """One input operand as the array sees it.

    x: address matrix; streamed: x[base_a + j, t - j - lead] is demanded by column j in
    fold cycle t; stationary: x[base_a + lead - 1 - t, base_b + j] for t < lead.
    """

    x: np.ndarray
    streamed: bool
    width: int
    lead: int
    base_a: np.ndarray
    base_b: np.ndarray


class UserTiming(NamedTuple):
    """What sim.engine.walk_folds + the fill model give the other memory models, plus advances."""

    cycles: int
    read_stall: int
    write_stall: int
    drain_end: int
    fill_start: int
    advances: tuple[int, int]  # window advances (DRAM chunks) of ifmap, filter


def input_addresses(op) -> np.ndarray:
    """I[m, k]: address of each im2col input word of one instance, -1 outside the input."""
    view = op.gemm_view()
    if not isinstance(op, Conv2d):
        return np.arange(view.m * view.k, dtype=np.int64).reshape(view.m, view.k)
    ch = op.in_channels // op.groups
    image, pixel = np.divmod(np.arange(view.m, dtype=np.int64), op.out_h * op.out_w)
    out_row, out_col = np.divmod(pixel, op.out_w)
    k_row, rest = np.divmod(np.arange(view.k, dtype=np.int64), op.kernel_w * ch)
    k_col, k_ch = np.divmod(rest, ch)
    row = out_row[:, None] * op.stride_h - op.pad_h + k_row[None, :]
    col = out_col[:, None] * op.stride_w - op.pad_w + k_col[None, :]
    inside = (row >= 0) & (row < op.in_h) & (col >= 0) & (col < op.in_w)
    address = ((image[:, None] * op.in_h + row) * op.in_w + col) * ch + k_ch[None, :]
    return np.where(inside, address, -1)


def operands(op, rows: int, cols: int, dataflow: str) -> tuple[Operand, Operand, mapping.FoldSchedule]:
    """(ifmap, filter) as SCALE-Sim feeds them, and the fold schedule (SCALE-Sim's order)."""
    view = op.gemm_view()
    sched = mapping.fold_schedule(view, rows, cols, dataflow, 1, "cols_outer")
    inputs = input_addresses(op)
    weights = np.arange(view.k, dtype=np.int64)[:, None] + view.k * np.arange(view.n, dtype=np.int64)[None, :]
    row_base, col_base = sched.row_fold * rows, sched.col_fold * cols
    none = np.zeros_like(row_base)

    def streamed(x, width, lead, base):
        return Operand(np.ascontiguousarray(x), True, width, lead, base, none)

    def stationary(x):
        return Operand(np.ascontiguousarray(x), False, cols, rows, row_base, col_base)

    if dataflow == "os":
        pair = streamed(inputs, rows, 0, row_base), streamed(weights.T, cols, 0, col_base)
    elif dataflow == "ws":
        pair = streamed(inputs.T, rows, rows, row_base), stationary(weights)
    else:
        pair = stationary(inputs.T), streamed(weights, rows, rows, row_base)
    return pair[0], pair[1], sched


def fetch_stream(operand: Operand) -> np.ndarray:
    """SCALE-Sim's prefetch matrix for `operand`, flattened (-1 = padding)."""
    x, width = operand.x, operand.width
    p, q = x.shape
    if operand.streamed:  # fold s's block is x[s*width : (s+1)*width, :] transposed
        folds = -(-p // width)
        padded = np.full((folds * width, q), -1, dtype=np.int64)
        padded[:p] = x
        return _antidiagonals(padded.reshape(folds, width, q).transpose(0, 2, 1).reshape(folds * q, width))
    folds = -(-q // width)  # fold s's block is x[:, s*width : (s+1)*width]
    padded = np.full((p, folds * width), -1, dtype=np.int64)
    padded[:, :q] = x
    return padded.reshape(p, folds, width).transpose(1, 0, 2).reshape(-1)


@njit(cache=True)
def _antidiagonals(mat):
    """Elements along anti-diagonals, each from its bottom row up (SCALE-Sim's roll-out)."""
    rows, cols = mat.shape
    out = np.empty(rows * cols, dtype=np.int64)
    i = 0
    for d in range(rows + cols - 1):
        for r in range(min(d, rows - 1), max(0, d - cols + 1) - 1, -1):
            out[i] = mat[r, d - r]
            i += 1
    return out


def set_index(stream: np.ndarray, words: int, n_addresses: int):
    """(ptr, sets, n_sets): the sets holding address a are sets[ptr[a]:ptr[a+1]]."""
    eps = -(-words // 100)
    valid = stream[stream >= 0]
    n_sets = valid.size // eps + 1
    keys = np.sort(valid * n_sets + np.arange(valid.size, dtype=np.int64) // eps)
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # np.unique, but ~100x faster here
    address, sets = np.divmod(keys, n_sets)
    ptr = np.zeros(n_addresses + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(address, minlength=n_addresses))
    return ptr, sets, n_sets


def emulate(op, hw: Hardware, word_bytes: dict[str, float]) -> UserTiming:
    """Timing of one instance of `op` under SCALE-Sim v3.0.0's USER-mode memory system."""
    if pe_model.step_cycles(hw.pe, op) != 1 or pe_model.lanes(hw.pe, op) != 1:
        raise pe_model.Infeasible("the scalesim_v3_user memory model emulates SCALE-Sim, whose PEs "
                                  "take one cycle per MAC; this op needs several passes")
    sram, dram = hw.memory
    rows, cols = hw.array.rows, hw.array.cols
    ifmap, filter_, sched = operands(op, rows, cols, hw.array.dataflow)
    packed, fill = [], []
    for operand, name in ((ifmap, "input"), (filter_, "weight")):
        words = int(sram.capacity_for(name) // word_bytes[name])
        bw = max(1, int(dram.read_bandwidth(name) // word_bytes[name]))
        active = words - words // 2
        prefetch = words - active
        if prefetch < 1:
            raise pe_model.Infeasible(f"the {name} SRAM holds {words} word(s); SCALE-Sim needs at least 2")
        stream = fetch_stream(operand)
        ptr, sets, n_sets = set_index(stream, words, int(operand.x.max()) + 1)
        eps = -(-words // 100)
        n_active = min(-(-active // eps), n_sets)
        geom = np.array([operand.streamed, operand.width, operand.lead, n_sets, n_active,
                         min(-(-prefetch // eps), n_sets - n_active), -(-prefetch // bw)], dtype=np.int64)
        bases = np.stack([operand.base_a, operand.base_b], axis=1).astype(np.int64)
        packed += [operand.x, geom, bases, ptr, sets]
        fill.append(min(-(-active // bw), -(-stream.size // bw)))
    out_capacity = max(1, int(sram.capacity_for("output") // word_bytes["output"]))
    line_words = max(1, int(dram.write_bandwidth("output") // word_bytes["output"]))
    folds = mapping.split_folds(sched, np.ones(sched.folds, dtype=np.int64), sched.used_cols)
    cycles, read_stall, write_stall, drain_end, adv_i, adv_f = _walk(
        int(sched.fold_cycles[0]), *packed, folds.out_first, folds.out_last, folds.out_cols, out_capacity, line_words)
    return UserTiming(int(cycles), int(read_stall), int(write_stall), int(drain_end), -max(fill),
                      (int(adv_i), int(adv_f)))


@njit(cache=True)
def demand_row(x, geom, base_a, base_b, t, out):
    """Fill `out` with the addresses one operand demands in fold cycle t, by column (-1 = none)."""
    p, q = x.shape
    lead = geom[_LEAD]
    for j in range(geom[_WIDTH]):
        if geom[_STREAMED]:
            a, b = base_a + j, t - j - lead
        else:  # the stationary block is loaded in the first `lead` cycles, bottom row first
            a, b = (base_a + lead - 1 - t if t < lead else p), base_b + j
        out[j] = x[a, b] if a < p and 0 <= b < q else -1


@njit(cache=True)
def _resident(ptr, sets, address, start, end):
    for i in range(ptr[address], ptr[address + 1]):
        s = sets[i]
        if (start <= s < end) if start < end else (s >= start or s < end):
            return True
    return False


@njit(cache=True)
def _read_row(x, geom, base_a, base_b, t, ptr, sets, window, cycle, buf):
    """SCALE-Sim's read_buffer.service_reads for one demand row; returns the serviced cycle.

    window = [first set, end set, ready cycle of the last chunk, advances so far].
    """
    demand_row(x, geom, base_a, base_b, t, buf)
    offset = 1  # hit latency
    for j in range(buf.size):
        address = buf[j]
        # every demanded word is in the stream; the set check only rules out an endless loop
        if address < 0 or ptr[address] == ptr[address + 1]:
            continue
        while not _resident(ptr, sets, address, window[0], window[1]):
            window[0] = (window[0] + geom[_ADVANCE]) % geom[_N_SETS]
            window[1] = (window[0] + geom[_N_ACTIVE]) % geom[_N_SETS]
            window[2] += geom[_CHUNK] + 1
            window[3] += 1
            pot = window[2] - (cycle + offset)
            offset += pot
            if pot > 0:
                offset += pot  # SCALE-Sim 3.0.0 counts a positive stall twice
    return cycle + offset


@njit(cache=True)
def _walk(fold_len, ix, igeom, ibases, iptr, isets, fx, fgeom, fbases, fptr, fsets,
          out_first, out_last, out_cols, out_capacity, line_words):
    """Issue every demand row; returns (cycles, read stall, write stall, drain end, advances x2).

    A row's stall counts as write stall up to its output-buffer stall, as read stall beyond.
    """
    iwin = np.array([0, igeom[_N_ACTIVE], -1, 0], dtype=np.int64)
    fwin = np.array([0, fgeom[_N_ACTIVE], -1, 0], dtype=np.int64)
    ibuf = np.empty(igeom[_WIDTH], dtype=np.int64)
    fbuf = np.empty(fgeom[_WIDTH], dtype=np.int64)
    wb = write_buffer(out_capacity, line_words)
    stalls = 0
    write_stall = 0
    done = 0
    for f in range(out_cols.size):
        a, b, u = out_first[f], out_last[f], out_cols[f]
        for t in range(fold_len):
            cycle = f * fold_len + t + stalls
            si = _read_row(ix, igeom, ibases[f, 0], ibases[f, 1], t, iptr, isets, iwin, cycle, ibuf) - cycle - 1
            sf = _read_row(fx, fgeom, fbases[f, 0], fbases[f, 1], t, fptr, fsets, fwin, cycle, fbuf) - cycle - 1
            count = max(0, min(b, t) - max(a, t - u + 1) + 1) if u > 0 else 0
            done, wb = write_words(wb, cycle, count)
            so = done - cycle
            stalls += max(si, sf, so)
            write_stall += so
    return done, stalls - write_stall, write_stall, drain_all(wb, done), iwin[3], fwin[3]
