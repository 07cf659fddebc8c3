"""The SimPy system layer reduces to the tile engine's closed form without contention, and contends with it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import walk_folds
from sim.system import CoreTiles, run_system


def closed_form_cycles(load, compute, buffers):
    """walk_folds' load-side recursion (no outputs written): its `cycles` = last compute cycle."""
    n = len(load)
    zeros = np.zeros(n, dtype=np.int64)
    cycles, *_ = walk_folds(np.asarray(compute, dtype=np.int64), np.asarray(load, dtype=np.float64), zeros, zeros,
                            zeros, buffers, False, 1, 1)
    return cycles


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 50)), min_size=1, max_size=40),
       st.integers(1, 3), st.integers(1, 4))
def test_no_contention_reduces_to_walk_folds(tiles, buffers, cores):
    load = np.array([t[0] for t in tiles], dtype=np.int64)
    compute = np.array([t[1] for t in tiles], dtype=np.int64)
    run = run_system([CoreTiles(load, compute)] * cores, channels=cores, buffers=buffers)
    expected = closed_form_cycles(load, compute, buffers)
    for end in run.core_end:
        assert end - load[0] - 1 == expected
    assert run.channel_wait == 0


def test_cores_sharing_one_channel_serialize_their_transfers():
    load, compute = np.full(100, 10), np.full(100, 2)  # load-bound tiles
    alone = run_system([CoreTiles(load, compute)], channels=1)
    shared = run_system([CoreTiles(load, compute)] * 4, channels=1)
    assert alone.makespan == pytest.approx(100 * 10 + 2)
    assert shared.makespan == pytest.approx(4 * 100 * 10 + 2, rel=0.01) and shared.channel_wait > 0
    assert run_system([CoreTiles(load, compute)] * 4, channels=4).makespan == alone.makespan
