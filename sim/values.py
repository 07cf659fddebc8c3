"""Value-dependent timing: per-fold work of lock-step lanes from real operand codes (Numba).

A PE whose serial operand takes table[c - offset] cycles for an element with code c (its
`SerialCost`) runs lanes in lock-step: in each temporal step the lanes of a synchronization
group wait for their slowest lane, groups within a fold advance independently and the fold
ends with its slowest group:
    work(fold) = max over groups g of  sum over steps t of  max over lanes l in g of cost(x[l, t])
Lanes and steps per dataflow (A: input M x K, W: weight K x N, d: PE lanes along K, K' = ceil(K/d)):
    os  input streams:  lanes = rows x d (A[m, t*d + j]),  steps = K';  one value per row fold
        weight streams: lanes = cols x d (W[t*d + j, n]),  steps = K';  per column fold
    ws  input streams:  lanes = K (rows x d),  steps = M;  per row fold;  weight stationary
    is  weight streams: lanes = K (rows x d),  steps = N;  per row fold;  input stationary
A stationary serial operand costs T x (max over the fold's elements) per fold.
A second kernel gives the mean cost per element (the effectual terms the PE performs).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from hwmodels.pe import SerialCost
from sim.mapping import FoldSchedule


@njit(cache=True)
def lockstep_work(codes, table, offset, unit_lanes, group_lanes):
    """Per unit of `unit_lanes` consecutive lanes (rows of `codes`): max over its groups of
    `group_lanes` lanes of sum_t max_l table[codes[l, t] - offset]."""
    lanes, steps = codes.shape
    units = (lanes + unit_lanes - 1) // unit_lanes
    out = np.zeros(units, dtype=np.int64)
    acc = np.empty(steps, dtype=np.int64)
    for u in range(units):
        lo = u * unit_lanes
        hi = min(lanes, lo + unit_lanes)
        best = 0
        g = lo
        while g < hi:
            end = min(hi, g + group_lanes)
            acc[:] = 0
            for lane in range(g, end):
                row = codes[lane]
                for t in range(steps):
                    c = table[row[t] - offset]
                    if c > acc[t]:
                        acc[t] = c
            total = acc.sum()
            if total > best:
                best = total
            g = end
        out[u] = best
    return out


@njit(cache=True)
def block_max(codes, table, offset, row_block, col_block):
    """Max cost over each (row_block x col_block) block of a 2-D code array (stationary operands)."""
    rows, cols = codes.shape
    nr = (rows + row_block - 1) // row_block
    nc = (cols + col_block - 1) // col_block
    out = np.zeros((nr, nc), dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            v = table[codes[r, c] - offset]
            if v > out[r // row_block, c // col_block]:
                out[r // row_block, c // col_block] = v
    return out


@njit(cache=True)
def mean_cost(codes, table, offset):
    """Mean of table[code - offset] over all elements."""
    flat = codes.ravel()
    total = 0
    for i in range(flat.size):
        total += table[flat[i] - offset]
    return total / max(flat.size, 1)


def _lanes_by_steps(codes: np.ndarray, d: int) -> np.ndarray:
    """A (rows, K) code matrix (input A[M, K] or W^T[N, K]) as lanes x steps: lane (r, j) at
    step t reads codes[r, t*d + j]."""
    rows, k = codes.shape
    k_steps = -(-k // d)
    padded = np.zeros((rows, k_steps * d), dtype=codes.dtype)
    padded[:, :k] = codes
    return np.ascontiguousarray(padded.reshape(rows, k_steps, d).transpose(0, 2, 1).reshape(rows * d, k_steps))


def fold_work(sched: FoldSchedule, codes: np.ndarray, cost: SerialCost, d: int) -> np.ndarray:
    """Streaming cycles of every fold of one instance (see module docstring); `codes` in GEMM
    orientation: input (M, K), weight (K, N)."""
    table = np.ascontiguousarray(cost.table, dtype=np.int64)
    operand, flow = cost.operand, sched.dataflow
    stationary = (flow == "ws" and operand == "weight") or (flow == "is" and operand == "input")
    if stationary:
        block = codes if operand == "weight" else codes.T  # rows hold K in both cases
        k_rows = _pad_rows(block, d)
        maxima = block_max(k_rows, table, cost.offset, sched.rows * d, sched.cols)
        return sched.t * maxima[sched.row_fold, sched.col_fold]
    if flow == "os":
        matrix = codes if operand == "input" else codes.T
        lanes = _lanes_by_steps(matrix, d)
        unit = (sched.rows if operand == "input" else sched.cols) * d
        per_unit = lockstep_work(lanes, table, cost.offset, unit, cost.sync_lanes or unit)
        return per_unit[sched.row_fold if operand == "input" else sched.col_fold]
    matrix = codes.T if operand == "input" else codes  # K x steps
    lanes = _pad_rows(matrix, d)
    unit = sched.rows * d
    per_unit = lockstep_work(lanes, table, cost.offset, unit, cost.sync_lanes or unit)
    return per_unit[sched.row_fold]


def _pad_rows(matrix: np.ndarray, d: int) -> np.ndarray:
    """K rows padded with zero codes to a multiple of d (the last PE row's idle lanes)."""
    k = matrix.shape[0]
    padded = np.zeros((-(-k // d) * d, matrix.shape[1]), dtype=matrix.dtype)
    padded[:k] = matrix
    return padded
