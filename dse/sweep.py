"""A sweep: ask the strategy for points, evaluate the ones not yet stored, store them, tell the scores.

Each batch the strategy asks for is resolved into designs (`Space.resolve`); a
(design_id, workload_id) pair already in the store, or already handed out in this run,
is not evaluated again, so rerunning a sweep on its store resumes it and replays a
learning strategy's history from stored rows. Results are written one chunk per finished
task (`dse.store`), so a kill loses at most the tasks in flight; the small chunks are merged
every COMPACT_EVERY_CHUNKS chunks and at the end (`dse.store.compact`). Learning strategies are
told each point's objectives (aggregated over its workloads as the space says, negated
when maximized) and constraint violations.
"""
from __future__ import annotations

import time
from importlib.metadata import version
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from dse.evaluate import evaluate_batch, row_columns
from dse.executor import DaskExecutor
from dse.pareto import per_design
from dse.space import WORKLOAD_PARAMETER, Space
from dse.store import Store, git_revision
from dse.strategies import Strategy, make_strategy

COMPACT_EVERY_CHUNKS = 500  # merge the small per-task chunks now and then, and at the end
Progress = Callable[[int, "int | None"], None]


@dataclass
class SweepSummary:
    store: Path
    strategy: str
    evaluations: int = 0           # (design, workload) rows computed in this run
    already_stored: int = 0        # rows the store had, not recomputed
    status: Counter = field(default_factory=Counter)
    workers: int = 0
    seconds: float = 0.0

    @property
    def rate_per_min(self) -> float:
        return 60.0 * self.evaluations / self.seconds if self.seconds > 0 else 0.0


def run_sweep(space: Space, store_path: str | Path, strategy: str = "grid", budget: int | None = None,
              seed: int = 0, scheduler: str | None = None, workers: int | None = None,
              progress: Progress | None = None) -> SweepSummary:
    """Run (or resume) a sweep of `space` into the store at `store_path`."""
    search = make_strategy(strategy, space, budget, seed)
    summary = SweepSummary(store=Path(store_path), strategy=strategy)
    parameters = {name: parameter.kind for name, parameter in space.parameters.items()
                  if name != WORKLOAD_PARAMETER}  # its value is the row's `workload` column
    columns = row_columns(parameters, space.level_names)
    metadata = {"quarch_version": version("quarch"), "space_name": space.name, "space_hash": space.hash,
                "space": space.model_dump(mode="json"), "git_revision": git_revision()}
    per_point = 1 if WORKLOAD_PARAMETER in space.parameters else len(space.workloads)
    total = search.total * per_point if search.total is not None else None
    learns = type(search).tell is not Strategy.tell
    wanted = _score_columns(space)
    with Store(store_path, columns, metadata) as store, DaskExecutor(scheduler, workers) as executor:
        summary.workers = executor.workers
        start = time.perf_counter()
        before = store.done_keys()
        done = set(before)
        scores = _stored_scores(store_path, wanted) if learns and before else {}
        finished = written = 0
        while (points := search.ask()) is not None:
            designs = [space.resolve(point) for point in points]
            items, workloads = [], {}
            for design in designs:
                runs = []
                for name in design.workloads:
                    workload_id, workload = space.workload(name, design.formats)
                    key = (design.design_id, workload_id)
                    if key in done:  # stored before, or asked twice in this run
                        finished += 1
                        summary.already_stored += key in before
                        continue
                    done.add(key)
                    runs.append((name, workload_id))
                    workloads[workload_id] = workload
                if runs:
                    items.append((design, runs))
            if progress:
                progress(finished, total)
            for rows in executor.imap(evaluate_batch, items, (space.bases, workloads), _lost_rows):
                store.write(rows)
                written += 1
                if written % COMPACT_EVERY_CHUNKS == 0:
                    store.compact()
                summary.evaluations += len(rows)
                summary.status.update(row["status"] for row in rows)
                finished += len(rows)
                if learns:
                    for row in rows:
                        scores[(row["design_id"], row["workload_id"])] = {c: row.get(c) for c in wanted}
                if progress:
                    progress(finished, total)
            if learns:
                search.tell(points, *_objectives(space, designs, scores))
        store.compact()
        summary.seconds = time.perf_counter() - start
    return summary


def _lost_rows(items: list, reason: str) -> list[dict]:
    """Rows for points whose task Dask gave up on (its worker died every time it ran it)."""
    return [{"design_id": design.design_id, "workload": name, "workload_id": workload_id, "status": "error",
             "reason": f"worker lost: {reason}", **design.point}
            for design, runs in items for name, workload_id in runs]


def _score_columns(space: Space) -> list[str]:
    metrics = [o.metric for o in space.objectives] + [c.metric for c in space.constraint_list]
    return ["design_id", "status", *dict.fromkeys(metrics)]


def _stored_scores(store_path, wanted: list[str]) -> dict:
    from dse.store import read_store
    frame = read_store(store_path, columns=[*wanted, "workload_id"])
    records = frame.to_dict("records")
    return {(r["design_id"], r["workload_id"]): {c: r[c] for c in wanted} for r in records}


def _objectives(space: Space, designs, scores: dict) -> tuple[np.ndarray, np.ndarray]:
    """F (points x objectives, minimized; inf when failed) and G (violations; inf when failed)."""
    rows = [{**scores[(d.design_id, space.workload(name, d.formats)[0])], "design_id": d.design_id}
            for d in designs for name in d.workloads]
    metrics = [o.metric for o in space.objectives] + [c.metric for c in space.constraint_list]
    table = per_design(pd.DataFrame(rows), metrics, space.aggregate, design_level=space.names)
    table = table.set_index("design_id")
    F = np.full((len(designs), len(space.objectives)), np.inf)
    G = np.full((len(designs), len(space.constraint_list)), np.inf)
    for i, design in enumerate(designs):
        if design.design_id not in table.index:
            continue
        values = table.loc[design.design_id]
        F[i] = [values[o.metric] * (-1 if o.goal == "maximize" else 1) for o in space.objectives]
        G[i] = [c.violation(values[c.metric]) for c in space.constraint_list]
    F[~np.isfinite(F).all(axis=1)] = np.inf
    return F, G
