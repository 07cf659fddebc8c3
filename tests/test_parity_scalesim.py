"""quarch vs SCALE-Sim v3 goldens (tests/parity/scalesim_goldens.csv, made by hand with
tests/parity/make_scalesim_goldens.py). Each case's own scale.cfg and topology.csv go
through quarch's importers, so this also pins the importers.

CALC (ample or medium SRAM, no read stalls) and USER (small SRAM, DRAM stalls; imported as
the `scalesim_v3_user` emulation): Total Cycles, Stall Cycles and Total Cycles (incl.
prefetch) must be equal, layer by layer.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from hwmodels.loader import load_hardware
from sim.simulate import simulate
from workloads.loader import load_workload

PARITY = Path(__file__).parent / "parity"
GOLDENS = pd.read_csv(PARITY / "scalesim_goldens.csv")


@lru_cache(maxsize=None)
def _quarch(case: str):
    case_dir = PARITY / "cases" / case
    return simulate(load_workload(str(case_dir / "topology.csv")), load_hardware(case_dir / "scale.cfg"))


def _rows(mode: str):
    subset = GOLDENS[GOLDENS.interface_bandwidth == mode]
    return [pytest.param(row, id=f"{row.case_id}-L{row.layer_index}") for row in subset.itertuples()]


def test_goldens_cover_the_space():
    assert set(GOLDENS.dataflow) == {"os", "ws", "is"}
    assert set(GOLDENS.topology_kind) == {"gemm", "conv"}
    assert GOLDENS.array_rows.min() <= 4 and GOLDENS.array_rows.max() >= 256
    assert (GOLDENS.array_rows != GOLDENS.array_cols).any()
    assert (GOLDENS.m % GOLDENS.array_rows != 0).any()
    assert (GOLDENS.stall_cycles > 0).any()


@pytest.mark.parametrize("row", _rows("CALC"))
def test_calc_mode_cycles_are_exact(row):
    op = _quarch(row.case_id).ops[row.layer_index]
    assert op.macs == row.m * row.n * row.k
    assert op.cycles == row.total_cycles
    assert op.stall_cycles == row.stall_cycles
    assert op.cycles_incl_prefetch == row.total_cycles_incl_prefetch


@pytest.mark.parametrize("row", _rows("USER"))
def test_user_mode_cycles_are_exact(row):
    op = _quarch(row.case_id).ops[row.layer_index]
    assert op.cycles == row.total_cycles
    assert op.stall_cycles == row.stall_cycles
    assert op.cycles_incl_prefetch == row.total_cycles_incl_prefetch
