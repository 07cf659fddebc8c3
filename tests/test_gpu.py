"""GPU presets and the GPU kernel model against vendor figures and hand calculations."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from hwmodels.loader import load_hardware
from sim.gpu import simulate_op
from sim.simulate import simulate
from workloads.errors import SpecError
from workloads.ops import Gemm, OpFormats, Vector
from workloads.workload import Workload

GPUS = ("a100", "h100", "a10", "v100s", "t4")
# Dense tensor-core peaks from the vendor datasheets (TOPS), independent of the presets' array sizes.
DATASHEET_TOPS = {"a100": {"fp16": 312, "int8": 624}, "h100": {"fp16": 989.4, "fp8_e4m3": 1978.9},
                  "a10": {"fp16": 125, "int8": 250}, "v100s": {"fp16": 130}, "t4": {"fp16": 65, "int8": 130, "int4": 260}}
DATASHEET_GBPS = {"a100": 2039, "h100": 3350, "a10": 600, "v100s": 1134, "t4": 320}


def fmt(w="fp16", a="fp16", o="fp16", g=None):
    return OpFormats(weight=w, activation=a, output=o, group_size=g)


@pytest.mark.parametrize("name", GPUS)
def test_preset_peaks_match_datasheets(name):
    hw = load_hardware(name)
    fp16_peak = 2 * hw.array.rows * hw.array.cols * hw.array.cores * hw.clock_hz / 1e12
    for tensor, tops in DATASHEET_TOPS[name].items():
        derived = fp16_peak * hw.gpu.tensor_tops_dense[tensor] / hw.gpu.tensor_tops_dense["fp16"]
        assert derived == pytest.approx(tops, rel=0.01)
    assert hw.memory[-1].read_bandwidth("input") * hw.clock_hz / 1e9 == pytest.approx(DATASHEET_GBPS[name], rel=0.001)


@pytest.mark.parametrize("name", GPUS)
def test_every_preset_number_has_a_source(name):
    hw = load_hardware(name)
    needed = {"clock_hz", "array.cores", "array.rows", "technology_node_nm", "static_power_w"}
    needed |= {f"gpu.{field}" for field in hw.gpu.model_fields_set - {"sources", "architecture", "tensor_tops_dense"}}
    needed |= {f"gpu.tensor_tops_dense.{f}" for f in hw.gpu.tensor_tops_dense}
    for level in hw.memory:
        needed |= {f"memory.{level.name}.read_bandwidth_bytes_per_cycle", f"memory.{level.name}.latency_cycles"}
        if level.capacity_bytes is not None:
            needed.add(f"memory.{level.name}.capacity_bytes")
    missing = needed - set(hw.gpu.sources)
    assert not missing, f"{name}: no source for {sorted(missing)}"
    assert all(text.strip() for text in hw.gpu.sources.values())


def test_large_gemm_is_compute_bound_at_the_tensor_peak():
    hw = load_hardware("a100")
    for w, tops in (("fp16", 312), ("int8", 624)):
        r = simulate_op(Gemm(name="g", m=8192, n=8192, k=8192, formats=fmt(w, w)), hw)
        hand = 2 * 8192 ** 3 / (tops * 1e12 * hw.gpu.tensor_efficiency)
        assert r.bound == "compute"
        assert r.latency_s == pytest.approx(hand, rel=0.05)


@pytest.mark.parametrize("name", GPUS)
def test_decode_gemv_is_memory_bound_at_the_achieved_bandwidth(name):
    hw = load_hardware(name)
    r = simulate_op(Gemm(name="gemv", m=1, n=11008, k=4096, formats=fmt()), hw)
    bandwidth = hw.memory[-1].read_bandwidth("input") * hw.clock_hz * hw.gpu.dram_efficiency
    hand = 2 * 11008 * 4096 / bandwidth + hw.gpu.kernel_overhead_s
    assert r.bound == hw.memory[-1].name
    assert r.latency_s == pytest.approx(hand, rel=0.05)


def test_wave_quantization_a_few_more_ctas_cost_a_partial_wave():
    # 27648 rows fill whole waves of 128x256 tiles on 108 SMs; 16 rows more cannot, whatever the tile
    hw = load_hardware("a100", ["gpu.max_ctas_per_sm=1"])
    one = simulate_op(Gemm(name="g", m=256 * 108, n=256, k=8192, formats=fmt()), hw)
    more = simulate_op(Gemm(name="g", m=256 * 108 + 16, n=256, k=8192, formats=fmt()), hw)
    assert more.macs / one.macs < 1.001 and more.latency_s > 1.15 * one.latency_s


def test_dequantization_pipe_overlaps_and_can_bound():
    hw = load_hardware("a100")
    w4 = Gemm(name="w4", m=16, n=8192, k=8192, formats=fmt("int4", g=128))
    assert simulate_op(w4, hw).bound == "hbm"  # dequantization hides under the weight stream
    starved = load_hardware("a100", ["gpu.cuda_core_lanes_per_sm=1"])
    assert simulate_op(w4, starved).bound == "cuda_cores"


def test_int4_weights_cut_decode_time_by_the_byte_ratio():
    hw = load_hardware("h100")
    fp16 = simulate_op(Gemm(name="f", m=1, n=28672, k=8192, formats=fmt()), hw)
    w4 = simulate_op(Gemm(name="q", m=1, n=28672, k=8192, formats=fmt("int4", g=128)), hw)
    overhead = hw.gpu.kernel_overhead_s
    assert (fp16.latency_s - overhead) / (w4.latency_s - overhead) == pytest.approx(16 / 4.125, rel=0.03)


def test_fp8_is_native_on_h100_and_emulated_with_its_cost_on_a100():
    op = Gemm(name="g", m=4096, n=4096, k=4096, formats=fmt("fp8_e4m3", "fp8_e4m3"))
    h100, a100 = simulate_op(op, load_hardware("h100")), simulate_op(op, load_hardware("a100"))
    assert "emulated" not in h100.note and "fp8_e4m3 tensor cores" in h100.note
    assert "no tensor-core path" in a100.note and "emulated on fp16 tensor cores" in a100.note
    fp16_a100 = simulate_op(Gemm(name="g", m=4096, n=4096, k=4096, formats=fmt()), load_hardware("a100"))
    assert a100.latency_s >= fp16_a100.latency_s  # no FP8 speedup on Ampere
    assert "int8 x int8 has no tensor-core path" in simulate_op(
        Gemm(name="g", m=64, n=64, k=64, formats=fmt("int8", "int8")), load_hardware("v100s")).note


def test_split_k_for_skinny_deep_gemms():
    hw = load_hardware("a100")
    r = simulate_op(Gemm(name="g", m=64, n=256, k=65536, formats=fmt()), hw)
    assert "split-K 1," not in r.note
    # partial sums add L2 traffic beyond the operands
    assert r.write_bytes["l2"] > 64 * 256 * 2 + r.read_bytes["hbm"]


def test_power_stays_between_idle_and_tdp():
    for name in GPUS:
        hw = load_hardware(name)
        for op in (Gemm(name="big", m=4096, n=4096, k=4096, formats=fmt()),
                   Gemm(name="gemv", m=1, n=4096, k=4096, formats=fmt()),
                   Vector(name="v", operation="add", elements=1 << 20, inputs=2, formats=fmt())):
            r = simulate_op(op, hw)
            watts = r.energy_j / r.latency_s
            assert hw.static_power_w <= watts <= hw.gpu.tdp_w * 1.0001


def test_whole_workload_on_a_gpu_and_the_asic_path_untouched():
    result = simulate(Workload(ops=(Gemm(name="g", m=64, n=64, k=64, formats=fmt()),
                                    Vector(name="v", operation="add", elements=4096, formats=fmt()))),
                      load_hardware("t4"))
    assert result.total.latency_s == pytest.approx(sum(op.latency_s for op in result.ops))
    assert all(op.latency_s >= load_hardware("t4").gpu.kernel_overhead_s for op in result.ops)


def test_bad_gpu_descriptions():
    with pytest.raises(SpecError, match="tensor format 'fp7'"):
        load_hardware("a100", ["gpu.tensor_tops_dense.fp7=1"])
    with pytest.raises(SpecError, match="gpu section is required for target gpu"):
        load_hardware("a100", ["target=asic"])
    with pytest.raises(SpecError, match="dram_efficiency: 1.5"):
        load_hardware("a100", ["gpu.dram_efficiency=1.5"])


def test_cli_simulate_on_a_gpu_gives_kernel_time_with_overhead():
    run = subprocess.run([sys.executable, "-m", "quarch", "simulate", "--hw", "a100", "--workload",
                          "gemm:M=64,N=12288,K=12288,w=fp16,a=fp16", "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    latency = json.loads(run.stdout)["total"]["latency_s"]
    hw = load_hardware("a100")
    weights = 12288 * 12288 * 2 / (hw.memory[-1].read_bandwidth("input") * hw.clock_hz * hw.gpu.dram_efficiency)
    assert latency == pytest.approx(weights + hw.gpu.kernel_overhead_s, rel=0.05)
    assert math.isfinite(latency)
