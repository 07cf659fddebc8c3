"""Sweeps end to end on real Dask clusters: store contents, resume after SIGKILL, a worker killed, determinism."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from dse.pareto import rank_designs
from dse.space import load_space
from dse.store import KEY, read_store
from dse.sweep import run_sweep
from hwmodels.costs import default_table
from hwmodels.loader import load_hardware
from sim.energy import level_area_mm2

SMALL = """\
quarch_space: 1
name: small
hardware: systolic-int8-32x32-os
workloads: [resnet18, "gemm:M=64,N=256,K=256"]
parameters:
  array.rows: {values: [0, 16, 32]}
  array.dataflow: {values: [os, ws]}
  memory.sram.capacity_bytes: {range: [32768, 262144], steps: 4, log: true, integer: true}
constraints: ["area_mm2 <= 1"]
"""

SLOW = """\
quarch_space: 1
name: slow
hardware: systolic-int8-32x32-os
workloads: [resnet50]
parameters:
  array.rows: {values: [8, 16, 24, 32, 48, 64]}
  array.cols: {values: [8, 16, 32, 64]}
  array.dataflow: {values: [os, ws, is]}
  memory.dram.read_bandwidth_bytes_per_cycle: {values: [8, 32]}
"""


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local.scheduler_address


def space_at(tmp_path: Path, text: str, name: str = "space.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_space(path)


def sorted_store(path) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(list(KEY)).reset_index(drop=True)


def test_store_is_one_dataframe_for_pandas_and_duckdb_with_provenance_units_and_failures(tmp_path, cluster):
    space = space_at(tmp_path, SMALL)
    summary = run_sweep(space, tmp_path / "store", scheduler=cluster)
    frame = pd.read_parquet(tmp_path / "store")
    assert len(frame) == summary.evaluations == 3 * 2 * 4 * 2
    assert not frame.duplicated(list(KEY)).any()
    assert (frame[frame["array.rows"] == 0].status == "invalid").all()
    assert frame[frame["array.rows"] == 0].reason.str.contains("array.rows: 0").all()
    assert (frame[frame["array.rows"] > 0].status == "ok").all()
    assert {"latency_s", "energy_j", "read_bytes.dram", "memory_energy_j.sram", "power_w", "bound"} <= set(frame)
    count = duckdb.sql(f"select count(*) from read_parquet('{tmp_path / 'store'}/*.parquet') "
                       "where status = 'ok'").fetchall()[0][0]
    assert count == 32
    meta = json.loads((tmp_path / "store" / "_quarch_store.json").read_text())
    assert meta["space_hash"] == space.hash and meta["quarch_version"] == "0.1.0" and meta["git_revision"]
    schema = pq.read_schema(next((tmp_path / "store").glob("part-*.parquet")))
    assert schema.field("latency_s").metadata == {b"unit": b"s"}
    assert json.loads(schema.metadata[b"quarch"])["space_hash"] == space.hash
    again = run_sweep(space, tmp_path / "store", scheduler=cluster)
    assert again.evaluations == 0 and again.already_stored == 48
    # the constraint holds on the front read back from the store
    ranked = rank_designs(read_store(tmp_path / "store"), space.objectives, space.constraint_list)
    assert len(ranked) and (ranked.area_mm2 <= 1).all()


def test_a_store_refuses_another_space(tmp_path, cluster):
    run_sweep(space_at(tmp_path, SMALL), tmp_path / "store", budget=2, scheduler=cluster)
    other = space_at(tmp_path, SMALL.replace("[os, ws]", "[os, is]"), "other.yaml")
    with pytest.raises(ValueError, match="resume with the same space file"):
        run_sweep(other, tmp_path / "store", scheduler=cluster)


@pytest.mark.parametrize("strategy", ["random", "lhs", "nsga2", "optuna"])
def test_same_seed_same_store_other_seed_other_points(tmp_path, cluster, strategy):
    space = space_at(tmp_path, SLOW.replace("resnet50", "resnet18"))
    stores = {}
    for run, seed in (("a", 1), ("b", 1), ("c", 2)):
        run_sweep(space, tmp_path / run, strategy, budget=16, seed=seed, scheduler=cluster)
        stores[run] = sorted_store(tmp_path / run)
    pd.testing.assert_frame_equal(stores["a"], stores["b"])
    assert set(stores["a"].design_id) != set(stores["c"].design_id)


def test_nsga2_is_told_constraints_and_moves_towards_feasible_designs(tmp_path, cluster):
    sram = load_hardware("systolic-int8-32x32-os").memory[0]
    bound = 0.25 + level_area_mm2(sram, default_table(45))  # the fixed SRAM plus 0.25 mm2 of PEs
    space = space_at(tmp_path, SLOW.replace("resnet50", "resnet18") + f'constraints: ["area_mm2 <= {bound}"]\n'
                     "nsga2: {population: 12}\n")
    fractions = {}
    for strategy in ("nsga2", "random"):
        run_sweep(space, tmp_path / strategy, strategy, budget=72, seed=0, scheduler=cluster)
        fractions[strategy] = (read_store(tmp_path / strategy).area_mm2 <= bound).mean()
    assert fractions["nsga2"] > fractions["random"]


def test_resume_after_sigkill_equals_an_uninterrupted_run(tmp_path, cluster):
    space_path = tmp_path / "space.yaml"
    space_path.write_text(SLOW)
    killed = tmp_path / "killed"
    sweep = subprocess.Popen([sys.executable, "-m", "quarch", "sweep", str(space_path), "-o", str(killed),
                              "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(killed.glob("part-*.parquet"))) < 3 and sweep.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(sweep.pid, signal.SIGKILL)  # the driver and its Dask workers, mid-sweep
    sweep.wait()
    partial = len(pd.read_parquet(killed))
    space = load_space(space_path)
    total = space.grid_size()
    assert 0 < partial < total, "the sweep was not killed mid-way"
    resumed = run_sweep(space, killed, scheduler=cluster)
    assert resumed.already_stored == partial and resumed.evaluations == total - partial
    run_sweep(space, tmp_path / "whole", scheduler=cluster)
    pd.testing.assert_frame_equal(sorted_store(killed), sorted_store(tmp_path / "whole"))


def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path):
    space = space_at(tmp_path, SLOW)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one(done, total):
            if done > 0 and not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(done)

        summary = run_sweep(space, tmp_path / "store", scheduler=local.scheduler_address, progress=kill_one)
        assert killed and killed[0] < space.grid_size()
    frame = read_store(tmp_path / "store")
    assert len(frame) == summary.evaluations == space.grid_size()
    assert (frame.status == "ok").all() and not frame.duplicated(list(KEY)).any()


def test_cli_sweep_and_pareto(tmp_path, cluster):
    space_path = tmp_path / "space.yaml"
    space_path.write_text(SMALL)
    store = tmp_path / "store"

    def quarch(*args):
        return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=300)

    run = quarch("sweep", str(space_path), "-o", str(store), "--strategy", "random", "--budget", "10",
                 "--scheduler", cluster)
    assert run.returncode == 0, run.stderr
    assert "evaluations" in run.stdout and "Pareto front" in run.stdout
    run = quarch("pareto", str(store), "--objectives", "latency_s,tops_per_w:max", "--constraint", "area_mm2<=5")
    assert run.returncode == 0, run.stderr
    assert "latency_s min, tops_per_w max; area_mm2 <= 5" in run.stdout.replace("\n", " ").replace("  ", " ")
    run = quarch("pareto", str(store), "--csv")
    front = pd.read_csv(pd.io.common.StringIO(run.stdout))
    assert (front.pareto_rank == 0).all() and (front.area_mm2 <= 1).all()
    for args, message in ((("pareto", str(tmp_path)), "not a quarch result store"),
                          (("pareto", str(store), "--objectives", "speed"), "speed"),
                          (("pareto", str(store), "--constraint", "area<<5"), "--constraint: 'area<<5'"),
                          (("sweep", str(tmp_path / "nope.yaml"), "-o", str(store)), "cannot read file")):
        run = quarch(*args)
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_workers_compiling_numba_from_a_cold_cache_evaluate_every_point(tmp_path):
    """A fresh clone has no Numba cache: the CLI's own workers compile, and no point may fail for it."""
    space_path = tmp_path / "space.yaml"
    space_path.write_text(SMALL)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}  # empty: every kernel compiles
    script = Path(sys.executable).with_name("quarch")  # as README runs it: workers re-import the script's imports
    run = subprocess.run([str(script), "sweep", str(space_path), "-o", str(tmp_path / "store"),
                          "--strategy", "random", "--budget", "4", "--workers", "2"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    frame = read_store(tmp_path / "store")
    assert len(frame) and not (frame.status == "error").any(), frame.reason[frame.status == "error"].iloc[0]
