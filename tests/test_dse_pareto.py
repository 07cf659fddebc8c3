"""Pareto ranks against a brute-force definition; constraints and aggregation over workloads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dse.pareto import pareto_rank, rank_designs
from dse.space import Objective, parse_constraint


def brute_force_ranks(values: np.ndarray) -> np.ndarray:
    """Peel fronts by the definition: a point is in the current front if no remaining point dominates it."""
    ranks = np.full(len(values), -1)
    rank = 0
    while (ranks < 0).any():
        remaining = np.flatnonzero(ranks < 0)
        front = [i for i in remaining
                 if not any((values[j] <= values[i]).all() and (values[j] < values[i]).any() for j in remaining)]
        ranks[front] = rank
        rank += 1
    return ranks


@pytest.mark.parametrize("seed, objectives, levels", [(0, 2, None), (1, 3, None), (2, 2, 5), (3, 4, 4)])
def test_ranks_match_brute_force_on_random_points(seed, objectives, levels):
    rng = np.random.default_rng(seed)
    values = rng.random((300, objectives)) if levels is None else rng.integers(0, levels, (300, objectives))
    assert (pareto_rank(values) == brute_force_ranks(values.astype(float))).all()


def test_maximized_objectives_are_negated_minimization():
    rng = np.random.default_rng(7)
    values = rng.random((200, 2))
    got = pareto_rank(values, [False, True])
    assert (got == brute_force_ranks(values * [1, -1])).all()


def _frame(rng, designs=60, workloads=("a", "b")):
    rows = []
    for d in range(designs):
        area = rng.uniform(1, 10)
        for w in workloads:
            rows.append({"design_id": f"d{d}", "workload": w, "status": "ok", "area_mm2": area,
                         "latency_s": rng.uniform(1, 2) / area, "energy_j": rng.uniform(1, 2) * area})
    return pd.DataFrame(rows)


def test_constraints_and_failures_leave_the_front_and_aggregation_follows_the_rule():
    rng = np.random.default_rng(11)
    frame = _frame(rng)
    frame.loc[frame.design_id == "d0", "status"] = ["ok", "infeasible"]
    goals = [Objective(metric="latency_s"), Objective(metric="energy_j")]
    rule = parse_constraint("area_mm2 <= 5")
    ranked = rank_designs(frame, goals, [rule], aggregate="sum")
    assert "d0" not in set(ranked.design_id) and (ranked.area_mm2 <= 5).all()
    # independent check: aggregate by hand, filter, brute-force rank
    ok = frame[frame.design_id != "d0"].groupby("design_id").agg(
        latency_s=("latency_s", "sum"), energy_j=("energy_j", "sum"), area_mm2=("area_mm2", "first"))
    ok = ok[ok.area_mm2 <= 5]
    expected = dict(zip(ok.index, brute_force_ranks(ok[["latency_s", "energy_j"]].to_numpy())))
    assert dict(zip(ranked.design_id, ranked.pareto_rank)) == expected
    unconstrained = rank_designs(frame, goals, [], aggregate="sum", design_level=["area_mm2"])
    assert (unconstrained.area_mm2 > 5).any()
