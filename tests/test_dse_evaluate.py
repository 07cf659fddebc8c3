"""Evaluation rows: the per-op memo equals plain simulation; failing points become rows with a reason."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dse.evaluate import OpMemo, evaluate_batch, evaluate_one, metric_names, metrics
from dse.space import Design
from hwmodels.loader import apply_overrides, load_hardware
from hwmodels.spec import Hardware
from sim.result import Total
from sim.simulate import simulate
from workloads.builtin import resnet18
from workloads.loader import load_workload

BASE = load_hardware("systolic-int8-32x32-os").model_dump(mode="json")


def _design(overrides: dict) -> Hardware:
    return Hardware.model_validate(apply_overrides(BASE, [f"{k}={v}" for k, v in overrides.items()]))


def test_memoized_results_equal_plain_simulation_across_timing_and_pricing_changes():
    """Designs that share timing fields (differing in clock, node, energies) hit the memo; all equal simulate()."""
    rng = np.random.default_rng(3)
    workload = resnet18()
    memo = OpMemo()
    for _ in range(12):
        hw = _design({"array.rows": rng.choice([16, 32]), "array.dataflow": rng.choice(["os", "ws"]),
                      "clock_hz": float(rng.choice([5e8, 1e9, 2e9])),
                      "technology_node_nm": int(rng.choice([45, 16])),
                      "memory.dram.read_energy_pj_per_byte": float(rng.choice([100.0, 162.5])),
                      "static_power_w": float(rng.choice([0.0, 0.5]))})
        expected = simulate(workload, hw)
        assert evaluate_one(workload, hw, memo) == {"status": "ok", "reason": "", **metrics(expected.total)}
        got = simulate(workload, hw, run_op=memo.run_op)
        assert got == expected  # per op too: names, repeats, latencies, energies
    assert memo.hits > memo.misses > 0


def test_every_total_field_is_a_column():
    names = set(metric_names(["sram", "dram"]))
    for field in dataclasses.fields(Total):
        assert field.name in names or f"{field.name}.dram" in names
    assert "power_w" in names


def test_failing_points_become_rows_with_status_and_reason():
    bases = {"base": BASE}
    workload = load_workload("gemm:M=64,N=64,K=64,w=int8,a=int8")  # stated: a design cannot swap them
    workloads = {"w": workload}

    def design(name, overrides):
        return (Design(point={"p": name}, design_id=name, base="base", overrides=overrides, workloads=("x",),
                       formats=()), [("x", "w")])

    rows = evaluate_batch([design("ok", ("array.rows=16",)),
                           design("bad-value", ("array.rows=0",)),
                           design("bad-level", ("memory.l2.capacity_bytes=1",)),
                           design("infeasible", ("pe.weight_format=fp8_e4m3",))],
                          (bases, workloads))
    by_id = {row["design_id"]: row for row in rows}
    assert by_id["ok"]["status"] == "ok" and by_id["ok"]["latency_s"] > 0 and by_id["ok"]["p"] == "ok"
    assert by_id["bad-value"]["status"] == "invalid" and "array.rows: 0" in by_id["bad-value"]["reason"]
    assert by_id["bad-level"]["status"] == "invalid" and "no entry 'l2'" in by_id["bad-level"]["reason"]
    assert by_id["infeasible"]["status"] == "infeasible"
    assert "significand" in by_id["infeasible"]["reason"] and "latency_s" not in by_id["infeasible"]


@pytest.mark.parametrize("clock", [5e8, 2e9])
def test_a_memo_hit_is_retimed_for_the_clock(clock):
    memo = OpMemo()
    workload = load_workload("gemm:M=128,N=128,K=128")
    memo.run_op(workload.ops[0], _design({"clock_hz": 1e9}))
    hw = _design({"clock_hz": clock})
    hit = memo.run_op(workload.ops[0], hw)
    assert memo.hits == 1 and hit.latency_s == pytest.approx(hit.cycles_incl_prefetch / clock)


def test_designs_differing_in_bandwidth_share_plans_and_still_equal_plain_simulation():
    """A plan made for one design, timed for another with other bandwidths, equals simulate() on that one."""
    rng = np.random.default_rng(7)
    workload = resnet18()
    memo = OpMemo()
    for _ in range(10):
        hw = _design({"array.rows": int(rng.choice([8, 16])), "array.dataflow": str(rng.choice(["os", "ws", "is"])),
                      "memory.dram.read_bandwidth_bytes_per_cycle": float(rng.uniform(2, 64)),
                      "memory.dram.write_bandwidth_bytes_per_cycle": float(rng.uniform(2, 64)),
                      "memory.sram.read_bandwidth_bytes_per_cycle": float(rng.uniform(16, 256))})
        assert simulate(workload, hw, run_op=memo.run_op) == simulate(workload, hw)
    assert memo.plan_hits > 0 and memo.misses > 0


def test_plan_memory_is_bounded():
    memo = OpMemo(max_plan_folds=50)
    op = load_workload("gemm:M=256,N=256,K=64").ops[0]
    for bandwidth in (4.0, 8.0):
        for rows in (8, 16):
            memo.run_op(op, _design({"array.rows": rows, "memory.dram.read_bandwidth_bytes_per_cycle": bandwidth}))
    assert sum(plan.folds for plan in memo.plans.values()) <= 50 + max(plan.folds for plan in memo.plans.values())


@pytest.mark.parametrize("preset", ["deepshift-32x32", "lmul-32x32", "stripes"])
def test_the_memo_gives_format_less_ops_the_design_defaults_as_simulate_does(preset):
    """A SCALE-Sim-like op with no formats runs on a shift/L-Mul design through the memo as through simulate()."""
    hw = load_hardware(preset)
    workload = load_workload("gemm:M=64,N=96,K=80")
    memo = OpMemo()
    assert simulate(workload, hw, run_op=memo.run_op) == simulate(workload, hw)
    assert simulate(workload, hw, run_op=memo.run_op) == simulate(workload, hw)  # the plan-hit path too
