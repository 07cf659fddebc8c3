"""The compiled plan and timing (sim.foldplan) against the readable numpy form (reference_plan.py),
exactly, on random designs and ops: every fetched byte, traffic total, tile and timing figure."""
from __future__ import annotations

import numpy as np
import pytest

from hwmodels import pe as pe_model
from hwmodels.spec import Hardware
from reference_plan import reference_op  # tests/ is on sys.path under pytest
from sim import foldplan, simulate
from workloads.ops import Conv2d, Gemm, OpFormats
from workloads.values import OpValues, TensorSource

PES = [{"family": "mac"}, {"family": "pragmatic", "lanes": 4}]


def random_level(rng, name: str, last: bool) -> dict:
    def per_operand(low, high, operands):
        if rng.random() < 0.5:
            return float(rng.uniform(low, high))
        return {o: float(rng.uniform(low, high)) for o in operands}

    level = {"name": name, "read_bandwidth_bytes_per_cycle": per_operand(0.5, 64, ("input", "weight")),
             "write_bandwidth_bytes_per_cycle": per_operand(0.5, 64, ("output",)),
             "buffering": int(rng.integers(1, 3)), "psum_write_through": bool(rng.random() < 0.3)}
    if not last:
        if rng.random() < 0.5:
            level["capacity_bytes"] = int(rng.integers(64, 1 << 18))
        else:
            level["capacity_bytes"] = {o: int(rng.integers(16, 1 << 17)) for o in ("input", "weight", "output")}
    return level


def random_design(rng) -> Hardware:
    dataflow = str(rng.choice(["os", "ws", "is"]))
    levels = int(rng.integers(2, 4))  # fetches and write-back need a next level
    return Hardware.model_validate({
        "name": "random", "clock_hz": 1e9,
        "pe": PES[int(rng.integers(len(PES)))],
        "array": {"rows": int(rng.integers(2, 40)), "cols": int(rng.integers(2, 40)), "dataflow": dataflow,
                  "cores": int(rng.integers(1, 4)),
                  "organization": "broadcast" if dataflow == "os" and rng.random() < 0.3 else "systolic"},
        "memory": [random_level(rng, f"l{i}", i == levels - 1) for i in range(levels)],
        "mapper": {"fold_order": str(rng.choice(["auto", "cols_outer", "rows_outer"])),
                   "memory_model": str(rng.choice(["double_buffered", "ideal_prefetch"]))}})


def random_op(rng, pe_family: str):
    weight, activation = ("int16", "uint8") if pe_family == "pragmatic" else \
        (str(rng.choice(["int8", "int4", "int16"])), str(rng.choice(["int8", "int16"])))
    formats = OpFormats(weight=weight, activation=activation, output="int8")
    values = OpValues(input=TensorSource(distribution="gaussian", relu=True, seed=int(rng.integers(100)))) \
        if pe_family == "pragmatic" and rng.random() < 0.5 else None
    if rng.random() < 0.5:
        return Gemm(name="g", m=int(rng.integers(1, 120)), n=int(rng.integers(1, 120)), k=int(rng.integers(1, 200)),
                    batch=int(rng.integers(1, 4)), formats=formats, values=values)
    groups = int(rng.choice([1, 1, 2, 4]))
    kernel = int(rng.choice([1, 3, 5]))
    return Conv2d(name="c", in_h=int(rng.integers(kernel, 20)), in_w=int(rng.integers(kernel, 20)),
                  in_channels=groups * int(rng.integers(1, 16)), out_channels=groups * int(rng.integers(1, 16)),
                  kernel_h=kernel, kernel_w=kernel, stride_h=int(rng.integers(1, 3)), stride_w=int(rng.integers(1, 3)),
                  pad_h=kernel // 2, pad_w=kernel // 2, groups=groups, formats=formats, values=values)


@pytest.mark.parametrize("seed", range(8))
def test_compiled_plan_and_timing_equal_the_numpy_form(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        hw = random_design(rng)
        op = pe_model.resolve_formats(hw.pe, random_op(rng, hw.pe.family))
        expected = reference_op(op, hw)
        plan = simulate.plan_array_op(simulate.array_op(op, hw.pe), hw)
        assert np.array_equal(plan.fetched_bytes, expected["fetched_bytes"])
        assert (plan.read_bytes, plan.write_bytes) == (expected["read_bytes"], expected["write_bytes"])
        assert (plan.compute_cycles, plan.folds, plan.mapping_efficiency) == \
            (expected["compute_cycles"], expected["folds"], expected["mapping_efficiency"])
        for field in ("fold", "share", "cycles", "out_first", "out_last", "out_cols"):
            assert np.array_equal(getattr(plan.tiles, field), getattr(expected["tiles"], field)), field
        cycles, read_stall, write_stall, drain_end, fill_start = simulate._timing(plan, hw)
        assert (cycles, read_stall, write_stall, drain_end) == expected["timing"][:4]
        if len(hw.memory) > 1 and hw.mapper.memory_model == "double_buffered":
            assert fill_start == -np.ceil(expected["timing"][4])


def test_pairwise_sum_is_numpys_sum_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in [*range(1, 300), *rng.integers(300, 50_000, 200)]:
        a = rng.random(n) * 10.0 ** rng.integers(-3, 4)
        a[rng.random(n) < 0.4] = 0.0
        assert foldplan._pairwise_sum(a, 0, n) == a.sum()
