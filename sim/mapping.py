"""Mapping a GEMM view onto a systolic array: fold structure, loop order, per-level traffic.

Spatio-temporal view per dataflow (SCALE-Sim's; R x C array, GEMM M x N x K):
    os: rows hold M, cols hold N, K streams in time      (Sr, Sc, T) = (M, N, K)
    ws: rows hold K, cols hold N, M streams in time      (Sr, Sc, T) = (K, N, M)
    is: rows hold K, cols hold M, N streams in time      (Sr, Sc, T) = (K, M, N)
folds = ceil(Sr/R) * ceil(Sc/C); with T' = ceil(T * passes) (passes = the PE's cycles per
temporal step, possibly fractional) or, for value-dependent PEs, T' = the fold's own work
(`with_work`), a fold lasts
    os: T' + R + C - 2          ws/is: 2R + C + T' - 2
cycles, and partial (edge) folds pay the full R and C. A broadcast array (ArraySpec.organization;
os only) has no wavefront skew: every PE starts at the fold's first cycle and a fold lasts T'
cycles, its outputs all complete at its last cycle (the adder trees' pipeline overlaps the next
fold). Per fold with ur used rows and uc
used columns the array reads, in words,
    os: input ur*T, weight uc*T, writes ur*uc outputs
    ws: weight ur*uc (stationary), input ur*T, writes uc*T partial sums
    is: input ur*uc (stationary), weight ur*T, writes uc*T partial sums
Each operand's slice of a fold is identified by the fold coordinates it depends on
(os: input by row fold, weight by column fold; ws: weight by both, input by row fold;
is: input by both, weight by row fold; outputs: os by both, ws/is by column fold).
Between two levels, an operand that fits in one buffer of the inner level (capacity /
buffering) is fetched once; otherwise each fold fetches its slice unless the previous
fold used the same slice. Fetched conv inputs are im2col rows, as the array consumes them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from workloads.ops import GemmView


@dataclass(frozen=True)
class FoldSchedule:
    """The folds of one GEMM instance in execution order, as plain arrays (one entry per fold)."""

    dataflow: str
    rows: int
    cols: int
    skew: bool                         # systolic wavefront fill/drain (False: broadcast array)
    sr: int
    sc: int
    t: int
    passes: float
    order: str
    row_fold: np.ndarray
    col_fold: np.ndarray
    used_rows: np.ndarray
    used_cols: np.ndarray
    fold_cycles: np.ndarray
    work: np.ndarray                   # streaming cycles T' of each fold (fold_cycles less fill/drain)
    sram_words: dict[str, np.ndarray]  # operand -> words the array reads (outputs: writes) per fold
    slice_id: dict[str, np.ndarray]    # operand -> id of the operand slice each fold touches

    @property
    def folds(self) -> int:
        return int(self.row_fold.size)

    @property
    def row_folds(self) -> int:
        return -(-self.sr // self.rows)

    @property
    def col_folds(self) -> int:
        return -(-self.sc // self.cols)

    def with_work(self, work: np.ndarray) -> "FoldSchedule":
        """The same folds lasting `work[f]` streaming cycles each (value-dependent PEs)."""
        work = np.asarray(work, dtype=np.int64)
        return replace(self, work=work, fold_cycles=self.fold_cycles - self.work + work)


def first_use_cycle(dataflow: str, rows: int, operand: str) -> int:
    """First cycle (in fold 0) at which the array reads `operand`."""
    if dataflow == "os":
        return 0
    stationary = "weight" if dataflow == "ws" else "input"
    return 0 if operand == stationary else rows


def streaming_cycles(t: int, passes: float) -> int:
    """T' = ceil(T * passes): streaming cycles of a fold of a dense PE."""
    return int(t * passes) if float(t * passes).is_integer() else int(np.ceil(t * passes))


def spatio_temporal(view: GemmView, dataflow: str) -> tuple[int, int, int]:
    m, n, k = view.m, view.n, view.k
    return {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]


# operand -> the fold coordinates its slice depends on (see the module docstring)
SLICE_AXES = {"os": {"input": "row", "weight": "col", "output": "both"},
              "ws": {"weight": "both", "input": "row", "output": "col"},
              "is": {"input": "both", "weight": "row", "output": "col"}}


def fold_schedule(view: GemmView, rows: int, cols: int, dataflow: str, passes: float,
                  order: str, skew: bool = True) -> FoldSchedule:
    """The fold sequence of one GEMM instance (`order`: cols_outer or rows_outer; `skew`: False for a
    broadcast array).

    A fold's words of an operand follow from its slice axes: row ur*T, col uc*T, both ur*uc.
    """
    sr, sc, t = spatio_temporal(view, dataflow)
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    if order == "cols_outer":
        col_fold, row_fold = np.divmod(np.arange(row_folds * col_folds, dtype=np.int64), row_folds)
    else:
        row_fold, col_fold = np.divmod(np.arange(row_folds * col_folds, dtype=np.int64), col_folds)
    used_rows = np.minimum(rows, sr - row_fold * rows)
    used_cols = np.minimum(cols, sc - col_fold * cols)
    t_eff = streaming_cycles(t, passes)
    if dataflow == "os":
        length = t_eff + (rows + cols - 2 if skew else 0)
    else:
        length = 2 * rows + cols + t_eff - 2
    by_axis = {"row": (used_rows * t, row_fold), "col": (used_cols * t, col_fold),
               "both": (used_rows * used_cols, row_fold * col_folds + col_fold)}
    axes = SLICE_AXES[dataflow]
    return FoldSchedule(dataflow=dataflow, rows=rows, cols=cols, skew=skew, sr=sr, sc=sc, t=t, passes=passes,
                        order=order, row_fold=row_fold, col_fold=col_fold, used_rows=used_rows,
                        used_cols=used_cols, fold_cycles=np.full(row_fold.size, length, dtype=np.int64),
                        work=np.full(row_fold.size, t_eff, dtype=np.int64),
                        sram_words={operand: by_axis[axis][0] for operand, axis in axes.items()},
                        slice_id={operand: by_axis[axis][1] for operand, axis in axes.items()})


def operand_words(view: GemmView) -> dict[str, int]:
    """Distinct words of each operand of one instance (conv inputs counted once, not im2col)."""
    return {"input": view.distinct_input_words, "weight": view.k * view.n, "output": view.m * view.n}


@dataclass(frozen=True)
class Tiles:
    """Folds cut along time into sub-tiles whose streamed slices fit a buffer (plain arrays).

    A fold with n chunks streams T = sum of the chunks' t_c steps; chunk c gets the share
    floor(W*S_c/T) - floor(W*S_(c-1)/T) of the fold's work W (S_c: steps up to chunk c; = t_c * passes
    for a dense PE) plus the fold's fill/drain overhead (os: R + C - 2 on the last chunk; ws/is: 2R - 1
    on the first, C - 1 on the last), so the chunks of a fold last exactly as long as the fold.
    Outputs: os folds emit at the end of their last chunk; ws/is chunks emit one row of partial
    sums per streamed step. `share` is the chunk's fraction of its fold's streamed words.
    """

    fold: np.ndarray
    share: np.ndarray
    cycles: np.ndarray
    out_first: np.ndarray
    out_last: np.ndarray
    out_cols: np.ndarray


def split_folds(schedule: FoldSchedule, chunks: np.ndarray, out_cols: np.ndarray) -> Tiles:
    """Tiles of the schedule with fold f cut into chunks[f] parts along T (1 = whole fold)."""
    chunks = np.minimum(np.maximum(chunks, 1), schedule.t).astype(np.int64)
    fold, share, cycles, out_first, out_last, tile_cols = _split(
        chunks, schedule.work, schedule.used_rows.astype(np.int64), out_cols.astype(np.int64), schedule.t,
        schedule.rows, schedule.cols, schedule.dataflow == "os", schedule.skew)
    return Tiles(fold=fold, share=share, cycles=cycles, out_first=out_first, out_last=out_last, out_cols=tile_cols)


@njit(cache=True)
def _split(chunks, fold_work, used_rows, out_cols, t, rows, cols, os, skew):
    """`split_folds` on plain arrays, one tile at a time (a vectorized form costs more than the walk)."""
    count = int(chunks.sum())
    fold = np.empty(count, dtype=np.int64)
    share = np.empty(count)
    cycles = np.empty(count, dtype=np.int64)
    out_first = np.empty(count, dtype=np.int64)
    out_last = np.empty(count, dtype=np.int64)
    tile_cols = np.zeros(count, dtype=np.int64)
    i = 0
    for f in range(chunks.size):
        n = chunks[f]
        w = fold_work[f]
        done = 0
        for c in range(n):
            steps = t // n + (1 if c < t % n else 0)
            done += steps
            work = w * done // t - w * (done - steps) // t
            last = c == n - 1
            fold[i] = f
            share[i] = steps / t
            if os and not skew:  # broadcast: every output is done at the fold's end
                cycles[i] = work
                out_first[i] = work - 1
                out_last[i] = work - 1
                if last:
                    tile_cols[i] = out_cols[f]
            elif os:
                cycles[i] = work + (rows + cols - 2 if last else 0)
                out_first[i] = work - 1 + rows - used_rows[f]
                out_last[i] = work + rows - 2
                if last:
                    tile_cols[i] = out_cols[f]
            else:
                lead = 2 * rows - 1 if c == 0 else 0
                cycles[i] = work + lead + (cols - 1 if last else 0)
                out_first[i] = lead + work - steps
                out_last[i] = lead + work - 1
                tile_cols[i] = out_cols[f]
            i += 1
    return fold, share, cycles, out_first, out_last, tile_cols


def fewer_fetches_order(view: GemmView, rows: int, cols: int, dataflow: str, room: dict[str, float],
                        word_bytes: dict[str, float]) -> str:
    """The fold order whose folds bring fewer input and weight bytes into the innermost level
    (`room`: words of each operand one of its buffers holds); cols_outer unless rows_outer is
    strictly smaller, compared exactly (integer arithmetic, so a tie is a tie).

    Bytes = sum over operands of word_bytes * the words fetched over the folds, in closed
    form (R, C: row and column folds):
      resident (fits one buffer): its distinct words, in either order;
      streamed, slice by row fold (ur*T a fold):    rows_outer Sr*T;  cols_outer C*Sr*T if R > 1;
      streamed, slice by column fold (uc*T a fold): cols_outer Sc*T;  rows_outer R*Sc*T if C > 1;
      streamed, slice by both (ur*uc a fold):       Sr*Sc in either order (every fold a new slice).
    """
    sr, sc, t = spatio_temporal(view, dataflow)
    if sr <= rows or sc <= cols:  # one row or column fold: both orders are the same folds
        return "cols_outer"
    totals = operand_words(view)
    # word sizes as integers over one common denominator (floats are dyadic: their ratios'
    # denominators are powers of two, so the larger one is a multiple of the other)
    ratios = {operand: word_bytes[operand].as_integer_ratio() for operand in ("input", "weight")}
    common = max(denominator for _, denominator in ratios.values())
    scaled = {operand: numerator * (common // denominator) for operand, (numerator, denominator) in ratios.items()}

    def order_bytes(order: str) -> int:  # the bytes times `common`, exactly
        fetched = 0
        for operand in ("input", "weight"):
            if totals[operand] <= room[operand]:
                words = totals[operand]
            else:
                words = _streamed_words(SLICE_AXES[dataflow][operand], order, rows, cols, sr, sc, t)
            fetched += words * scaled[operand]
        return fetched

    return "rows_outer" if order_bytes("rows_outer") < order_bytes("cols_outer") else "cols_outer"


def _streamed_words(axis: str, order: str, rows: int, cols: int, sr: int, sc: int, t: int) -> int:
    """Words fetched over the folds for an operand that does not fit (see `fewer_fetches_order`)."""
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    if axis == "row":
        return sr * t * (col_folds if order == "cols_outer" and row_folds > 1 else 1)
    if axis == "col":
        return sc * t * (row_folds if order == "rows_outer" and col_folds > 1 else 1)
    return sr * sc
