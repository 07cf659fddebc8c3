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


def test_two_cores_one_channel_by_hand():
    # load 10, compute 30, two slots, three tiles each; the channel goes first come, first served:
    # A 0-10, B 10-20, A 20-30, B 30-40, A 40-50 (slot freed at 40), B 50-60 (slot freed at 50);
    # A computes 10-40, 40-70, 70-100; B 20-50, 50-80, 80-110; B waited 10 at 0, A 10 at 10, B 10 at 20
    tiles = CoreTiles(np.full(3, 10), np.full(3, 30))
    run = run_system([tiles, tiles], channels=1, buffers=2)
    assert run.core_end == (100, 110) and run.makespan == 110 and run.channel_wait == 30 and run.events == 6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), min_size=1, max_size=15),
                min_size=2, max_size=5), st.integers(1, 3))
def test_one_shared_channel_is_a_serial_server(per_core, buffers):
    cores = [CoreTiles(np.array([t[0] for t in tiles]), np.array([t[1] for t in tiles])) for tiles in per_core]
    run = run_system(cores, channels=1, buffers=buffers)
    alone = [run_system([core], channels=1, buffers=buffers).makespan for core in cores]
    total_load = sum(int(core.load_cycles.sum()) for core in cores)
    assert run.makespan >= max(max(alone), total_load + min(int(c.compute_cycles[-1]) for c in cores))
    assert all(end >= solo for end, solo in zip(run.core_end, alone))  # sharing only delays a core
