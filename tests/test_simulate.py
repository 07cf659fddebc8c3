"""End-to-end simulation against hand calculations: cycles, traffic, energy, re-pricing, bounds."""
from __future__ import annotations

import numpy as np
import pytest

from hwmodels.costs import EnergyTable
from hwmodels.loader import load_hardware
from hwmodels.spec import Hardware
from hwmodels.technology import energy_scale
from sim.energy import reprice
from sim.simulate import simulate
from workloads.ops import Gemm, OpFormats, Vector
from workloads.workload import Workload


def design(rows=4, cols=4, dataflow="os", sram=None, dram_bw=1000.0, order="cols_outer", **extra) -> Hardware:
    return Hardware.model_validate({
        "name": "t", "clock_hz": 1e9, "array": {"rows": rows, "cols": cols, "dataflow": dataflow},
        "memory": [{"name": "sram", "capacity_bytes": sram or {"input": 1 << 20, "weight": 1 << 20, "output": 1 << 20},
                    "read_bandwidth_bytes_per_cycle": 64, "write_bandwidth_bytes_per_cycle": 64,
                    "read_energy_pj_per_byte": 1.0, "write_energy_pj_per_byte": 2.0},
                   {"name": "dram", "read_bandwidth_bytes_per_cycle": dram_bw, "write_bandwidth_bytes_per_cycle": dram_bw,
                    "read_energy_pj_per_byte": 100.0, "write_energy_pj_per_byte": 100.0}],
        "mapper": {"fold_order": order}, **extra})


def run(op, hw):
    return simulate(Workload(ops=(op,)), hw)


def test_output_stationary_gemm_by_hand():
    op = Gemm(name="g", m=10, n=6, k=7)
    result = run(op, design())
    o = result.ops[0]
    # folds: ceil(10/4) * ceil(6/4) = 6, each K + R + C - 2 = 13 cycles
    assert (o.folds, o.cycles, o.stall_cycles) == (6, 6 * 13 - 1, 0)
    assert o.utilization == pytest.approx(10 * 6 * 7 / (77 * 16))
    # SRAM reads: inputs rows x K per fold (re-read per column fold), weights cols x K per fold,
    # plus the outputs read once to be written back
    assert o.read_bytes["sram"] == 10 * 7 * 2 + 7 * 6 * 3 + 10 * 6
    # SRAM writes: the operands filled from DRAM plus the outputs
    assert o.write_bytes["sram"] == 10 * 7 + 7 * 6 + 10 * 6
    # everything fits: DRAM is read once per operand and written once per output
    assert o.read_bytes["dram"] == 10 * 7 + 7 * 6 and o.write_bytes["dram"] == 10 * 6
    assert o.op_counts == {"mul:int8x8": 420.0, "add:int32": 420.0}
    assert sum(o.compute_energy_pj.values()) == pytest.approx(420 * (0.2 + 0.1))
    assert o.memory_energy_pj["dram"] == pytest.approx((70 + 42 + 60) * 100.0)


def test_weight_stationary_accumulates_partial_sums_on_chip():
    o = run(Gemm(name="g", m=5, n=4, k=9), design(dataflow="ws")).ops[0]
    # folds ceil(9/4)*1 = 3 of 2R + C + M - 2 = 15 cycles; partial sums of the first two K folds stay in SRAM
    assert o.cycles == 3 * 15 - 1
    assert o.write_bytes["sram"] == 5 * 9 + 9 * 4 + 3 * 5 * 4 and o.write_bytes["dram"] == 5 * 4
    assert o.read_bytes["sram"] >= 2 * 5 * 4  # psum read-back for accumulation


def test_streamed_operand_refetched_per_fold_when_it_does_not_fit():
    # weights 64x64 = 4 KiB do not fit one 1 KiB buffer: each column fold refetches its 64x4 slice once
    # (cols_outer keeps the slice across row folds); inputs 16x64 fit and are fetched once
    hw = design(sram={"input": 4096, "weight": 2048, "output": 4096})
    o = run(Gemm(name="g", m=16, n=64, k=64), hw).ops[0]
    assert o.read_bytes["dram"] == 16 * 64 + 64 * 64


def test_rows_outer_order_refetches_the_other_operand():
    hw = design(sram={"input": 512, "weight": 512, "output": 4096}, order="rows_outer")
    o = run(Gemm(name="g", m=16, n=16, k=64), hw).ops[0]
    # rows outer: the input slice (4 rows x 64) stays for 4 column folds; weights change every fold
    assert o.read_bytes["dram"] == 16 * 64 + 4 * (16 * 64)
    auto = run(Gemm(name="g", m=16, n=16, k=64), design(sram={"input": 512, "weight": 512, "output": 4096},
                                                        order="auto")).ops[0]
    assert auto.read_bytes["dram"] <= o.read_bytes["dram"]


def test_slow_dram_stalls_and_bounds():
    hw = design(sram={"input": 1024, "weight": 1024, "output": 4096}, dram_bw=1.0)
    o = run(Gemm(name="g", m=64, n=64, k=64), hw).ops[0]
    assert o.stall_cycles > 0 and o.cycles == o.compute_cycles + o.stall_cycles
    assert o.bound == "dram"
    fast = run(Gemm(name="g", m=64, n=64, k=64), design(sram={"input": 1024, "weight": 1024, "output": 4096})).ops[0]
    assert fast.stall_cycles == 0 and fast.bound == "compute"


def test_wider_operands_take_more_passes():
    narrow = run(Gemm(name="g", m=8, n=8, k=8), design()).ops[0]
    wide = run(Gemm(name="g", m=8, n=8, k=8, formats=OpFormats(weight="int16", activation="int8")), design()).ops[0]
    # the temporal term doubles: K*2 + R + C - 2 per fold
    assert wide.cycles == 4 * (16 + 6) - 1 and narrow.cycles == 4 * (8 + 6) - 1


def test_batch_instances_split_over_cores():
    one = run(Gemm(name="g", m=8, n=8, k=8, batch=4), design()).ops[0]
    two = run(Gemm(name="g", m=8, n=8, k=8, batch=4), design(**{"array": {"rows": 4, "cols": 4, "cores": 2}})).ops[0]
    assert one.cycles == 4 * (4 * 14 - 1) and two.cycles == 2 * (4 * 14 - 1)
    assert one.macs == two.macs == 4 * 512


def test_vector_op_is_compute_or_memory_bound():
    hw = design(dram_bw=4.0)
    add = run(Vector(name="a", operation="add", elements=1000, inputs=2), hw).ops[0]
    # 4 lanes: 250 cycles of compute; 2000 input bytes at 4 B/cycle: 500 cycles
    assert add.cycles == 500 and add.bound == "dram"


def test_reprice_at_another_node_scales_compute_energy_only():
    hw = load_hardware("systolic-int8-32x32-os")
    result = simulate(Workload(ops=(Gemm(name="g", m=64, n=64, k=64),)), hw)
    at7 = reprice(result, hw, EnergyTable().at_node(7))
    factor = energy_scale(45, 7)
    assert at7.total.compute_energy_j == pytest.approx(result.total.compute_energy_j * factor)
    assert at7.total.memory_energy_j == result.total.memory_energy_j
    assert at7.total.cycles == result.total.cycles and at7.area_mm2 < result.area_mm2


def test_result_views():
    result = simulate(Workload(ops=(Gemm(name="g", m=8, n=8, k=8, repeat=3),)), design())
    frame = result.to_dataframe()
    assert frame.loc[0, "cycles"] == result.ops[0].cycles and "read_bytes.dram" in frame
    assert result.total.cycles == 3 * result.ops[0].cycles
    assert '"total"' in result.to_json()


def test_three_level_hierarchy_conserves_traffic():
    hw = Hardware.model_validate({
        "name": "t3", "clock_hz": 1e9, "array": {"rows": 8, "cols": 8},
        "memory": [{"name": "l1", "capacity_bytes": 2048, "read_bandwidth_bytes_per_cycle": 64,
                    "write_bandwidth_bytes_per_cycle": 64},
                   {"name": "l2", "capacity_bytes": 1 << 20, "read_bandwidth_bytes_per_cycle": 32,
                    "write_bandwidth_bytes_per_cycle": 32},
                   {"name": "dram", "read_bandwidth_bytes_per_cycle": 8, "write_bandwidth_bytes_per_cycle": 8}]})
    o = run(Gemm(name="g", m=64, n=64, k=64), hw).ops[0]
    # everything fits L2: DRAM sees each operand once; L1 streams slices from L2
    assert o.read_bytes["dram"] == 2 * 64 * 64 and o.write_bytes["dram"] == 64 * 64
    assert o.read_bytes["l2"] > o.read_bytes["dram"]


def test_fold_tiles_by_hand():
    from sim.mapping import fold_schedule, split_folds
    from workloads.ops import GemmView
    view = GemmView(m=6, n=4, k=10, distinct_input_words=60)
    os_sched = fold_schedule(view, 4, 4, "os", 1, "cols_outer")
    whole = split_folds(os_sched, np.ones(2, dtype=np.int64), os_sched.used_cols)
    # os fold: K + R + C - 2 = 16 cycles; outputs leave the bottom rows at K-1+R-ur .. K+R-2
    assert whole.cycles.tolist() == [16, 16]
    assert whole.out_first.tolist() == [10 - 1 + 4 - 4, 10 - 1 + 4 - 2] and whole.out_last.tolist() == [12, 12]
    cut = split_folds(os_sched, np.array([3, 1]), os_sched.used_cols)
    # fold 0 in chunks of 4, 3, 3 steps: the last carries the R + C - 2 drain and the outputs
    assert cut.cycles.tolist() == [4, 3, 3 + 6, 16] and cut.out_cols.tolist() == [0, 0, 4, 4]
    assert cut.share.tolist() == [0.4, 0.3, 0.3, 1.0]
    ws_sched = fold_schedule(view, 4, 4, "ws", 1, "cols_outer")
    ws = split_folds(ws_sched, np.array([1, 2, 1]), ws_sched.used_cols)
    # ws fold: 2R + C + M - 2 = 16; halves carry the 2R-1 lead and the C-1 tail
    assert ws.cycles.tolist() == [16, 7 + 3, 3 + 3, 16]
    assert ws.out_first.tolist() == [7, 7, 0, 7] and ws.out_last.tolist() == [12, 9, 2, 12]


def test_broadcast_array_folds_have_no_skew_by_hand():
    from sim.mapping import fold_schedule, split_folds
    from workloads.ops import GemmView
    sched = fold_schedule(GemmView(m=6, n=4, k=10, distinct_input_words=60), 4, 4, "os", 1, "cols_outer", skew=False)
    tiles = split_folds(sched, np.array([2, 1]), sched.used_cols)
    # a fold lasts its K = 10 streaming cycles (5 + 5 when cut in two); outputs complete at its last cycle
    assert sched.fold_cycles.tolist() == [10, 10] and tiles.cycles.tolist() == [5, 5, 10]
    assert tiles.out_first.tolist() == tiles.out_last.tolist() == [4, 4, 9] and tiles.out_cols.tolist() == [0, 4, 4]
    # whole GEMM 10 x 6 x 7 on 4 x 4: 6 folds of K = 7 cycles, against 6 x 13 for the systolic array
    o = run(Gemm(name="g", m=10, n=6, k=7), design(array={"rows": 4, "cols": 4, "organization": "broadcast"})).ops[0]
    assert (o.folds, o.cycles, o.stall_cycles) == (6, 6 * 7 - 1, 0)
    with pytest.raises(ValueError, match="organization broadcast needs dataflow os"):
        design(array={"rows": 4, "cols": 4, "dataflow": "ws", "organization": "broadcast"})


def test_folds_overflowing_a_buffer_are_cut_into_tiles_that_fit():
    # K = 4096: a fold's input slice (4 x 4096 B) overflows a 1 KiB buffer; chunked loads overlap compute
    hw = design(sram={"input": 2048, "weight": 2048, "output": 4096}, dram_bw=64.0)
    o = run(Gemm(name="g", m=8, n=8, k=4096), hw).ops[0]
    assert o.compute_cycles == 4 * (4096 + 6) - 1
    assert o.stall_cycles < 0.05 * o.compute_cycles
    # the whole-layer latency includes the first tile's fill before cycle 0
    assert o.cycles_incl_prefetch > o.cycles and o.latency_s == o.cycles_incl_prefetch / 1e9
