#!/usr/bin/env python3
"""Design-space exploration at scale, measured in one run (figures, not timed tests).

    .venv/bin/python benchmarks/dse_throughput.py [--workers 1,2] [--rows 1000000] [--skip-store]

1. Throughput: (design x ResNet-50) evaluations per minute of `quarch sweep` end to end
   (local Dask cluster, one worker per core; cluster start-up reported apart), on
   a) examples/mac-resnet50-node.yaml: array shape, dataflow, SRAM, DRAM bandwidth, clock and
      technology node (clock and node only re-price, so the per-op memo serves them), and
   b) random points on a continuous DRAM bandwidth range: every design has timing of its own,
      but designs of one array shape and dataflow share their bandwidth-free plans, and
   c) the worst case: array rows and cols, SRAM capacity and DRAM bandwidth all continuous,
      so every design is mapped, tiled and timed from scratch (no memo or plan hits).
   Also the single-process rate (no Dask), per wall-clock and per CPU minute (the cleanest
   per-core figure on a shared machine), and memo hit rates.
2. Scaling: the throughput of (c) with 1, 2, ... workers (tasks sized to ~0.3 s).
3. A store of --rows rows (real rows of (a), replicated with fresh design ids and perturbed
   metrics) written in 10,000-row chunks through `dse.store.Store`, then, in a fresh process,
   loaded (the columns needed) and Pareto-ranked over latency and energy: time and peak RSS.
The machine (CPU model, cores, load average) is printed first: the machine is shared, so the
load average tells how much of it the run had.
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from dse.space import load_space  # noqa: E402
from dse.store import Store, read_store, store_metadata  # noqa: E402
from dse.strategies import random_search  # noqa: E402
from dse.sweep import run_sweep  # noqa: E402

SPACE = REPO / "examples" / "mac-resnet50-node.yaml"
WORST = """\
quarch_space: 1
name: every-design-distinct
hardware: systolic-int8-32x32-os
workloads: [resnet50]
parameters:
  array.rows: {values: [16, 32, 64, 128]}
  array.cols: {values: [16, 32, 64, 128]}
  array.dataflow: {values: [os, ws, is]}
  memory.dram.read_bandwidth_bytes_per_cycle: {range: [4, 64]}
"""
UNIQUE = """\
quarch_space: 1
name: every-design-unique
hardware: systolic-int8-32x32-os
workloads: [resnet50]
parameters:
  array.rows: {range: [8, 128], integer: true}
  array.cols: {range: [8, 128], integer: true}
  array.dataflow: {values: [os, ws, is]}
  memory.sram.capacity_bytes: {range: [65536, 1048576], integer: true}
  memory.dram.read_bandwidth_bytes_per_cycle: {range: [4, 64]}
"""


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def sweep_rate(space, workers: int, strategy: str = "grid", budget: int | None = None) -> tuple[float, object]:
    folder = Path(tempfile.mkdtemp(prefix="quarch-bench-"))
    try:
        start = time.perf_counter()
        summary = run_sweep(space, folder / "store", strategy, budget=budget, seed=0, workers=workers)
        return time.perf_counter() - start - summary.seconds, summary
    finally:
        shutil.rmtree(folder)


def single_process_rate(space, points: list[dict]) -> tuple[float, float]:
    """Evaluations per minute and memo hit rate in this process alone (no Dask, no store)."""
    from dse.evaluate import _MEMO, evaluate_batch
    designs = [space.resolve(p) for p in points]
    workloads, items = {}, []
    for design in designs:
        workload_id, workload = space.workload(design.workloads[0], design.formats)
        workloads[workload_id] = workload
        items.append((design, [(design.workloads[0], workload_id)]))
    evaluate_batch(items[:1], (space.bases, workloads))  # Numba cache load
    _MEMO.results.clear()
    _MEMO.plans.clear()
    _MEMO.array_ops.clear()
    _MEMO.hits = _MEMO.misses = _MEMO.plan_hits = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    evaluate_batch(items, (space.bases, workloads))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    lookups = max(1, _MEMO.hits + _MEMO.misses)
    # per CPU-second: what one core does when it is not shared (the machine usually is)
    return 60 * len(items) / seconds, (f"{60 * len(items) / cpu_seconds:,.0f} per CPU-minute; memo hits "
                                       f"{_MEMO.hits / lookups:.0%}, plan hits {_MEMO.plan_hits / lookups:.0%}")


def big_store(path: Path, rows: int) -> None:
    """Write `rows` rows: real rows of a small sweep, replicated with new ids and jittered metrics."""
    space = load_space(SPACE)
    seed_store = path.parent / "seed"
    run_sweep(space, seed_store, "random", budget=200, seed=1)
    template = read_store(seed_store)
    metadata = store_metadata(seed_store)
    columns = [(c["name"], c["kind"], c["unit"]) for c in metadata["columns"]]
    rng = np.random.default_rng(0)
    chunk = 10_000
    start = time.perf_counter()
    with Store(path, columns, {k: v for k, v in metadata.items() if k not in ("quarch_store", "columns")}) as store:
        schema = store.schema
        base = pa.Table.from_pandas(template, schema=schema, preserve_index=False)
        for first in range(0, rows, chunk):
            n = min(chunk, rows - first)
            table = base.take(rng.integers(0, base.num_rows, n))
            ids = pa.array([f"{i:016x}" for i in range(first, first + n)])
            table = table.set_column(schema.get_field_index("design_id"), "design_id", ids)
            for metric in ("latency_s", "energy_j"):
                index = schema.get_field_index(metric)
                jitter = rng.lognormal(0.0, 0.3, n)
                table = table.set_column(index, metric, pa.array(table.column(metric).to_numpy() * jitter))
            store.write(table)
    print(f"  wrote {rows:,} rows in {rows // chunk} chunks in {time.perf_counter() - start:.1f} s "
          f"({sum(f.stat().st_size for f in path.glob('*.parquet')) / 2**20:.0f} MiB); writer peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


RANK = """
import resource, sys, time
start = time.perf_counter()
from dse.pareto import rank_designs
from dse.space import Objective, parse_constraint
from dse.store import read_store
frame = read_store(sys.argv[1], columns=["design_id", "status", "latency_s", "energy_j", "area_mm2"])
loaded = time.perf_counter()
ranked = rank_designs(frame, [Objective(metric="latency_s"), Objective(metric="energy_j")],
                      [parse_constraint("area_mm2 <= 5")])
done = time.perf_counter()
print(f"  loaded {len(frame):,} rows in {loaded - start:.1f} s, ranked {len(ranked):,} designs "
      f"({(ranked.pareto_rank == 0).sum()} on the front, {ranked.pareto_rank.max() + 1} fronts) in "
      f"{done - loaded:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default=",".join(str(n) for n in sorted({1, os.cpu_count() or 1})))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--worst-budget", type=int, default=600)
    parser.add_argument("--skip-store", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}; {load()}")
    cores = os.cpu_count()
    cases = [(SPACE.name, load_space(SPACE), "grid", 1000), ("bandwidth continuous", load_space_text(WORST), "random",
             args.worst_budget), ("every design unique", load_space_text(UNIQUE), "random", args.worst_budget)]
    print("\n1. throughput, (design x ResNet-50) evaluations per minute")
    for title, space, strategy, budget in cases:
        points = (list(itertools.islice(space.grid_points(), budget)) if strategy == "grid"
                  else random_search(space, budget, 0).ask())
        rate, hits = single_process_rate(space, points)
        print(f"  {title}: one process, no Dask: {rate:,.0f}/min wall ({hits}); {load()}")
        startup, summary = sweep_rate(space, cores, strategy, budget)
        print(f"  {title}: quarch sweep, {summary.workers} workers: {summary.evaluations:,} in {summary.seconds:.1f} s"
              f" = {summary.rate_per_min:,.0f}/min (+{startup:.1f} s cluster start-up); {load()}")

    print("\n2. scaling with workers (every design unique, fresh cluster each)")
    for workers in [int(w) for w in args.workers.split(",")]:
        _, summary = sweep_rate(cases[-1][1], workers, "random", args.worst_budget)
        print(f"  {workers} workers: {summary.rate_per_min:,.0f} evaluations/min ({summary.evaluations:,} in "
              f"{summary.seconds:.1f} s); {load()}")

    if not args.skip_store:
        print(f"\n3. a {args.rows:,}-row store, written then Pareto-ranked")
        folder = Path(tempfile.mkdtemp(prefix="quarch-bench-"))
        try:
            big_store(folder / "store", args.rows)
            subprocess.run([sys.executable, "-c", RANK, str(folder / "store")], check=True, cwd=REPO,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
        finally:
            shutil.rmtree(folder)


def load_space_text(text: str):
    folder = Path(tempfile.mkdtemp(prefix="quarch-bench-"))
    (folder / "space.yaml").write_text(text)
    return load_space(folder / "space.yaml")


if __name__ == "__main__":
    main()
