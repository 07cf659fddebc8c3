"""Pareto fronts: non-dominated sorting of designs over any chosen objectives.

A design dominates another when it is no worse in every objective and better in one;
rank 0 is the set no design dominates (the front), rank r the front left once ranks < r
are removed. Ranks come from moocore's `pareto_rank` (O(n log n) for two objectives,
Jensen 2003; front peeling for more). Before ranking, a design's rows over its workloads
are aggregated (mean, sum or max; design-level columns — area and the parameters — are
the design's own), designs with any row not `ok` are dropped, and so are designs that
break a constraint.
"""
from __future__ import annotations

from typing import Sequence

import moocore
import numpy as np
import pandas as pd

from dse.space import Constraint, Objective

DESIGN_LEVEL = ("area_mm2",)


def pareto_rank(values: np.ndarray, maximize: Sequence[bool] | bool = False) -> np.ndarray:
    """Non-domination rank of each row of `values` (n points x m objectives); 0 = the front."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(moocore.pareto_rank(values, maximise=maximize), dtype=np.int64)


def per_design(frame: pd.DataFrame, metrics: Sequence[str], aggregate: str = "mean",
               design_level: Sequence[str] = ()) -> pd.DataFrame:
    """One row per design_id: `metrics` aggregated over its workloads, only designs whose rows are all ok."""
    failed = frame.loc[frame["status"] != "ok", "design_id"].unique()
    ok = frame[~frame["design_id"].isin(failed)]
    metrics = list(dict.fromkeys(metrics))
    if not ok["design_id"].duplicated().any():  # one workload per design: nothing to aggregate
        return ok[["design_id", *metrics]].reset_index(drop=True)
    fixed = set(DESIGN_LEVEL) | set(design_level)
    how = {metric: "first" if metric in fixed else aggregate for metric in metrics}
    return ok.groupby("design_id", sort=False).agg(how).reset_index()


def rank_designs(frame: pd.DataFrame, objectives: Sequence[Objective], constraints: Sequence[Constraint] = (),
                 aggregate: str = "mean", design_level: Sequence[str] = ()) -> pd.DataFrame:
    """Designs meeting every constraint, with a `pareto_rank` column, sorted by rank then objectives.

    `design_level`: columns that are the design's own (its parameters), kept as they are.
    """
    names = [o.metric for o in objectives]
    designs = per_design(frame, [*design_level, *names, *(c.metric for c in constraints)], aggregate, design_level)
    keep = np.ones(len(designs), dtype=bool)
    for constraint in constraints:
        keep &= constraint.holds(designs[constraint.metric].to_numpy(dtype=float))
    values = designs[names].to_numpy(dtype=float)
    keep &= np.isfinite(values).all(axis=1)
    designs = designs[keep].copy()
    designs["pareto_rank"] = pareto_rank(values[keep], [o.goal == "maximize" for o in objectives])
    return designs.sort_values(["pareto_rank", *names], kind="stable").reset_index(drop=True)
