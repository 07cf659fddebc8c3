"""FPGA presets, resources (DSP packing, FINN LUT cost, block RAM), feasibility and channel timing."""
from __future__ import annotations

import pytest

from hwmodels.loader import load_hardware
from hwmodels.pe import Infeasible
from sim.fpga import dsp_macs_per_slice, lut_mac_cost, resources
from sim.simulate import simulate
from workloads.ops import Gemm, OpFormats
from workloads.workload import Workload

FPGAS = ("u280", "vhk158", "zcu102")
INT8 = OpFormats(weight="int8", activation="int8", output="int8")


def test_dsp_packing_by_operand_width():
    # WP486: two INT8 MACs per DSP48E2; DSP-Packing/WP521: four INT4; UG1273: DSP58 INT8 dot product of 3
    assert dsp_macs_per_slice("dsp48e2", 8, 8, False) == 2
    assert dsp_macs_per_slice("dsp48e2", 4, 4, False) == 4
    assert dsp_macs_per_slice("dsp48e2", 16, 8, False) == 1
    assert dsp_macs_per_slice("dsp58", 8, 8, False) == 3


def test_finn_lut_costs_by_hand():
    # memory-models.md §2.3 worked values: 2x2 -> 4, 4x4 -> 24, 4x8 -> 36, 8x8 -> 80
    assert [lut_mac_cost(w, a) for w, a in ((2, 2), (4, 4), (4, 8), (8, 8))] == [4, 24, 36, 80]


@pytest.mark.parametrize("name", FPGAS)
def test_presets_fit_their_device_and_name_sources(name):
    hw = load_hardware(name)
    res = resources(hw)
    for kind in ("dsp", "lut", "bram36", "uram"):
        assert res[kind] <= res[f"{kind}_available"]
    assert res["dsp"] == hw.array.rows * hw.array.cols / dsp_macs_per_slice(hw.fpga.dsp_kind, 8, 8, False)
    for field in ("dsps", "luts", "bram36", "uram", "channels", "channel_bytes_per_s", "channel_efficiency"):
        assert f"fpga.{field}" in hw.fpga.sources
    assert any("[unverified" in text for text in hw.fpga.sources.values()) or name == "zcu102"


def test_block_ram_by_capacity_and_port_width():
    hw = load_hardware("u280", ["memory.bram.capacity_bytes=4608", "memory.bram.read_bandwidth_bytes_per_cycle=576"])
    # 4608 B = 1 BRAM36 by capacity, but 576 B/cycle = 4608 bits needs 4608 / (72 x 2) = 32 blocks
    assert resources(hw)["bram36"] == 32


def test_design_exceeding_the_device_is_infeasible_with_the_reason():
    with pytest.raises(Infeasible, match=r"needs 16,384 DSP, xcu280 has 8,482 usable"):
        simulate(Workload(ops=(Gemm(name="g", m=64, n=64, k=64, formats=INT8),)),
                 load_hardware("u280", ["array.rows=256", "array.cols=128"]))
    with pytest.raises(Infeasible, match="exceeds xczu9eg's 450 MHz"):
        simulate(Workload(ops=(Gemm(name="g", m=64, n=64, k=64, formats=INT8),)),
                 load_hardware("zcu102", ["clock_hz=6e8"]))


def test_lut_macs_free_the_dsps_and_cost_finn_luts():
    hw = load_hardware("u280", ["fpga.mac_implementation=lut", "pe.weight_format=int4", "pe.activation_format=int4"])
    res = resources(hw)
    lanes, pes = 64, 64
    assert res["dsp"] == 0
    assert res["lut"] == pytest.approx(300 + 1.1 * pes * (lanes * 24 + 8 * (2 * lanes - 1) + 32))


def test_more_hbm_channels_for_weights_speed_up_a_weight_bound_gemm():
    # output-stationary 64x64 array streams ~63 weight bytes per cycle: one channel (42 B/cycle) cannot keep up
    op = Gemm(name="g", m=64, n=512, k=8192, formats=INT8)
    sets = ["array.dataflow=os", "fpga.channels_used.input=8"]
    one = simulate(Workload(ops=(op,)), load_hardware("u280", sets + ["fpga.channels_used.weight=1"]))
    four = simulate(Workload(ops=(op,)), load_hardware("u280", sets + ["fpga.channels_used.weight=4"]))
    # 8 column folds of K + R + C - 2 cycles each: four channels (168 B/cycle) outrun the 63 B/cycle demand
    assert four.ops[0].bound == "compute"
    assert four.ops[0].cycles == 8 * (8192 + 126) - 1 and four.ops[0].stall_cycles == 0
    hw = load_hardware("u280", sets + ["fpga.channels_used.weight=1"])
    hand = 8192 * 512 / (hw.fpga.channel_bytes_per_s * hw.fpga.channel_efficiency)
    assert one.total.latency_s == pytest.approx(hand, rel=0.1)
    assert one.resources["channels"] == 11 and one.ops[0].stall_cycles > 0


def test_too_many_channels_is_a_spec_error():
    from workloads.errors import SpecError
    with pytest.raises(SpecError, match="takes 40 channels; xcu280 has 32"):
        load_hardware("u280", ["fpga.channels_used.weight=36"])
