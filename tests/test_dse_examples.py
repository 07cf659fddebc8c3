"""Every example space file loads and sweeps end to end (a few random points each, on a real Dask cluster)."""
from __future__ import annotations

from pathlib import Path

import pytest
from distributed import LocalCluster

from dse.space import load_space
from dse.store import read_store
from dse.sweep import run_sweep

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local.scheduler_address


def test_the_issue_asks_for_these_examples():
    names = {path.stem for path in EXAMPLES}
    assert {"pe-families-llama2-decode", "fpga-u280-resnet50", "gpu-formats-llama2"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_sweeps_end_to_end(tmp_path, cluster, path):
    space = load_space(path)
    summary = run_sweep(space, tmp_path / "store", "random", budget=4, seed=1, scheduler=cluster)
    frame = read_store(tmp_path / "store")
    per_point = 1 if "workload" in space.parameters else len(space.workloads)
    assert len(frame) == summary.evaluations == 4 * per_point
    assert set(frame.status) <= {"ok", "infeasible"}, frame.reason.unique()
    assert (frame.status == "ok").any() and (frame.loc[frame.status == "ok", "latency_s"] > 0).all()
    assert (frame.loc[frame.status == "infeasible", "reason"].str.len() > 0).all()


def test_pe_family_example_spans_the_four_families():
    space = load_space(next(p for p in EXAMPLES if p.stem == "pe-families-llama2-decode"))
    families = {base["pe"]["family"] for base in space.bases.values()}
    assert {"bitmod", "lut_tensor_core", "mixpe", "mac"} <= families, families


def test_fpga_example_stores_designs_that_do_not_fit_as_infeasible_with_the_resource(tmp_path, cluster):
    space = load_space(next(p for p in EXAMPLES if p.stem == "fpga-u280-resnet50"))
    points = [{"array.rows": 128, "array.cols": 128, "array.dataflow": "ws", "formats.weight": "int8",
               "clock_hz": 6.0e8}, {"array.rows": 192, "array.cols": 128, "array.dataflow": "ws",
                                    "formats.weight": "int8", "clock_hz": 2.25e8}, {"array.rows": 32, "array.cols": 32, "array.dataflow": "ws",
                                    "formats.weight": "int8", "clock_hz": 2.25e8}]
    from dse.evaluate import evaluate_batch
    items, workloads = [], {}
    for point in points:
        design = space.resolve(point)
        workload_id, workload = space.workload("resnet50", design.formats)
        workloads[workload_id] = workload
        items.append((design, [("resnet50", workload_id)]))
    fast, big, small = evaluate_batch(items, (space.bases, workloads))
    assert fast["status"] == "infeasible" and "clock" in fast["reason"].lower()
    assert big["status"] == "infeasible" and "dsp" in big["reason"].lower(), big["reason"]
    assert small["status"] == "ok"
