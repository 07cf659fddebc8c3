"""The SCALE-Sim USER-mode emulation (sim.scalesim_user): its address streams against the
closed forms in tests/parity/SCALESIM_FINDINGS.md, its window advances against SCALE-Sim's
DRAM traffic. (Streams and demand rows were also compared element by element with
SCALE-Sim's own prefetch/demand matrices, by hand, on all USER golden rows plus 30 more.)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwmodels.loader import load_hardware
from sim import scalesim_user
from workloads.errors import SpecError
from workloads.loader import load_workload
from workloads.ops import Gemm

PARITY = Path(__file__).parent / "parity"
USER = pd.read_csv(PARITY / "scalesim_goldens.csv").query("interface_bandwidth == 'USER'")
ONE_BYTE = {"input": 1, "weight": 1, "output": 1}


def _case(case_id: str, layer: int):
    case = PARITY / "cases" / case_id
    return load_workload(str(case / "topology.csv")).ops[layer], load_hardware(case / "scale.cfg")


def _stream_length(df: str, m: int, n: int, k: int, rows: int, cols: int) -> tuple[int, int]:
    """(ifmap, filter) fetch-stream length S: each fold block once, padded to the array edge."""
    up = lambda x, d: math.ceil(x / d) * d  # noqa: E731
    return {"os": (up(m, rows) * k, up(n, cols) * k),
            "ws": (up(k, rows) * m, up(n, cols) * k),
            "is": (up(m, cols) * k, up(k, rows) * n)}[df]


@pytest.mark.parametrize("row", [pytest.param(r, id=f"{r.case_id}-L{r.layer_index}") for r in USER.itertuples()])
def test_streams_and_window_advances_match_scalesim(row):
    op, hw = _case(row.case_id, row.layer_index)
    ifmap, filter_, _ = scalesim_user.operands(op, row.array_rows, row.array_cols, row.dataflow)
    lengths = _stream_length(row.dataflow, row.m, row.n, row.k, row.array_rows, row.array_cols)
    advances = scalesim_user.emulate(op, hw, ONE_BYTE).advances
    for operand, length, chunks, kb, name in ((ifmap, lengths[0], advances[0], row.ifmap_sram_kb, "ifmap"),
                                              (filter_, lengths[1], advances[1], row.filter_sram_kb, "filter")):
        stream = scalesim_user.fetch_stream(operand)
        assert stream.size == length
        words, bw = kb * 1024, row.bandwidth_words_per_cycle
        eps = math.ceil(words / 100)
        _, _, n_sets = scalesim_user.set_index(stream, words, int(operand.x.max()) + 1)
        assert n_sets == (stream >= 0).sum() // eps + 1
        # §6: fill lines, then one chunk of ceil(P/bw) lines per advance, chunk k ready at -1 + k*(lines+1)
        fill = min(math.ceil(math.ceil(words / 2) / bw), math.ceil(length / bw))
        lines = math.ceil((words - math.ceil(words / 2)) / bw)
        assert getattr(row, f"dram_{name}_start_cycle") == -fill
        assert getattr(row, f"dram_{name}_reads") == (fill + chunks * lines) * bw
        assert getattr(row, f"dram_{name}_stop_cycle") == -1 + chunks * (lines + 1)


def test_thrash_examples_from_the_findings():
    # §6.6: WS 32x32 16 KB g128x128x128 filter is streamed once but costs 3 chunks;
    # IS 16x16 4 KB g50x70x30 filter walks the window round and round: 79 chunks
    op, hw = _case("user_gemm_ws_32x32_16k_bw10", 0)
    assert scalesim_user.emulate(op, hw, ONE_BYTE).advances == (15, 3)
    op, hw = _case("user_gemm_is_16x16_4k_bw4", 1)
    assert scalesim_user.emulate(op, hw, ONE_BYTE).advances == (0, 79)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("rows, cols, m, n, k", [(4, 4, 9, 6, 3), (5, 3, 7, 8, 12), (8, 2, 3, 5, 6)])
def test_first_demand_cycle_and_skew(df, rows, cols, m, n, k):
    ifmap, filter_, sched = scalesim_user.operands(Gemm(name="g", m=m, n=n, k=k), rows, cols, df)
    fold_len = int(sched.fold_cycles[0])

    def demand(operand):
        geom = np.array([operand.streamed, operand.width, operand.lead, 1, 1, 1, 1], dtype=np.int64)
        out = np.empty((fold_len, operand.width), dtype=np.int64)
        for t in range(fold_len):
            scalesim_user.demand_row(operand.x, geom, operand.base_a[0], operand.base_b[0], t, out[t])
        return out

    first = {"os": (0, 0), "ws": (rows, rows - min(rows, k)), "is": (rows - min(rows, k), rows)}[df]
    for operand, want in zip((ifmap, filter_), first):
        mat = demand(operand)
        assert np.flatnonzero((mat >= 0).any(axis=1))[0] == want
        if operand.streamed:  # skew: column j starts j cycles after column 0
            used = np.flatnonzero((mat >= 0).any(axis=0))
            assert [int(np.argmax(mat[:, j] >= 0)) for j in used] == [want + j for j in used]
    # OS: column j of the ifmap edge reads I[j, t - j] (GEMM addresses are m*K + k)
    if df == "os":
        assert demand(ifmap)[2, 1] == 1 * k + 1


def test_physical_model_stays_selectable_and_the_emulation_checks_its_design():
    case = PARITY / "cases" / "user_gemm_os_16x16_4k_bw4" / "scale.cfg"
    assert load_hardware(case, ["mapper.memory_model=double_buffered"]).mapper.memory_model == "double_buffered"
    with pytest.raises(SpecError, match="scalesim_v3_user emulates SCALE-Sim"):
        load_hardware(case, ["array.cores=2"])
