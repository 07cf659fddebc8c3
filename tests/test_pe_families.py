"""Low-bit PE families against hand calculations; the value kernels against plain numpy."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hwmodels import pe as pe_model
from hwmodels.costs import EnergyTable, default_table
from hwmodels.loader import load_hardware
from hwmodels.pe_specs import (BitFusionPE, BitModPE, LMulPE, LoomPE, LutGemmPE, LutTensorCorePE, MixPE, PragmaticPE,
                               ShiftAddLLMPE, ShiftPE, StripesPE, TMacPE)
from hwmodels.spec import Hardware, MacPE
from sim import values as value_kernels
from sim.mapping import fold_schedule
from sim.simulate import simulate
from workloads.errors import SpecError
from workloads.ops import Conv2d, Gemm, OpFormats
from workloads.values import OpValues, TensorSource, operand_codes, to_codes
from workloads.workload import Workload


def gemm(m=8, n=8, k=64, w="int8", a="int8", g=None, values=None):
    return Gemm(name="g", m=m, n=n, k=k, formats=OpFormats(weight=w, activation=a, group_size=g), values=values)


def conv(a="int8", w="int8"):
    return Conv2d(name="c", in_h=8, in_w=8, in_channels=4, out_channels=8, kernel_h=3, kernel_w=3, pad_h=1, pad_w=1,
                  formats=OpFormats(weight=w, activation=a))


def design(pe, rows=4, cols=4, dataflow="os", node=45) -> Hardware:
    big = {"input": 1 << 22, "weight": 1 << 22, "output": 1 << 22}
    return Hardware.model_validate({
        "name": "t", "clock_hz": 1e9, "technology_node_nm": node, "pe": pe,
        "array": {"rows": rows, "cols": cols, "dataflow": dataflow}, "mapper": {"memory_model": "ideal_prefetch"},
        "memory": [{"name": "sram", "capacity_bytes": big, "read_bandwidth_bytes_per_cycle": 1 << 12,
                    "write_bandwidth_bytes_per_cycle": 1 << 12},
                   {"name": "dram", "read_bandwidth_bytes_per_cycle": 1 << 12,
                    "write_bandwidth_bytes_per_cycle": 1 << 12}]})


def run(op, hw):
    return simulate(Workload(ops=(op,)), hw).ops[0]


# ----------------------------------------------------------------------------- cycle formulas by hand

@pytest.mark.parametrize("bits", [2, 5, 8, 13, 16])
def test_stripes_step_is_activation_bits(bits):
    assert pe_model.step_cycles(StripesPE(), gemm(a=f"int{bits}", w="int16")) == bits


def test_loom_conv_is_ceil_pa_over_s_times_pw_and_fc_is_pw():
    pe = LoomPE(activation_bits_per_cycle=2)
    assert pe_model.step_cycles(pe, conv(a="int7", w="int5")) == math.ceil(7 / 2) * 5
    assert pe_model.step_cycles(pe, gemm(a="int7", w="int5")) == 5


@pytest.mark.parametrize("a, w, pf", [(8, 8, 1), (8, 4, 2), (4, 4, 4), (8, 2, 4), (4, 2, 8), (2, 2, 16), (3, 1, 8)])
def test_bit_fusion_throughput_multiplier(a, w, pf):
    # PF = floor(8/max(p_a,2)) * floor(8/max(p_w,2)) (bitfusion simulator)
    op = gemm(a=f"int{a}", w=f"int{w}")
    assert pe_model.lanes(BitFusionPE(), op) == pf and pe_model.step_cycles(BitFusionPE(), op) == 1


def test_bit_fusion_cycles_on_the_array_follow_the_gemm_formula():
    # B * ceil(N_out/M) * ceil(N_in/(N*PF)) steps: K=256 at PF 4 -> 64 steps per fold
    hw = design({"family": "bitfusion"}, rows=4, cols=4)
    o = run(gemm(m=4, n=4, k=256, a="int4", w="int4"), hw)
    assert o.compute_cycles == 256 // 4 + 4 + 4 - 2 - 1


def test_pragmatic_dense_worst_case_and_booth():
    assert pe_model.step_cycles(PragmaticPE(), gemm(a="uint8", w="int16")) == 8
    assert pe_model.step_cycles(PragmaticPE(booth=True), gemm(a="uint8", w="int16")) == math.ceil(9 / 2)


def test_bitmod_two_bits_per_cycle_and_hidden_dequant():
    pe = BitModPE()
    assert [pe_model.step_cycles(pe, gemm(w=f"int{b}", a="fp16")) for b in (3, 4, 6, 8)] == [2, 2, 3, 4]
    # G=128, d=4: 32 steps x 2 cycles >= 8 scale bits -> hidden; G=8: 2 steps x 2 = 4 < 8 -> +4/2 per step
    assert pe_model.step_cycles(pe, gemm(w="int4", a="fp16", g=128)) == 2
    assert pe_model.step_cycles(pe, gemm(w="int4", a="fp16", g=8)) == 2 + (8 - 4) / 2
    assert pe_model.lanes(pe, gemm(w="int4", a="fp16")) == 4


def test_lut_families_bit_planes_and_table_builds():
    op = gemm(m=2, n=64, k=64, w="int2", a="fp16", g=32)
    lut = LutTensorCorePE()
    assert pe_model.lanes(lut, op) == 4 and pe_model.step_cycles(lut, op) == 2
    counts = pe_model.op_counts(lut, op, op.macs, 1)
    macs = 2 * 64 * 64
    assert counts["lookup:16b"] == macs * 2 / 4
    # accumulating adds b*MNK/g plus table precompute M*(K/g)*2^(g-1)
    assert counts["add:fp_e5m10"] == macs * 2 / 4 + 2 * (64 // 4) * 8
    assert counts["mul:fp_e5m10"] == macs / 32
    gemm_counts = pe_model.op_counts(LutGemmPE(), op, op.macs, 1)
    assert gemm_counts["add:fp_e5m10"] == macs * 2 / 8 + 2 * (64 // 8) * 256
    # T-MAC: compute linear in b (one lookup + one add instruction per bit-plane)
    assert [pe_model.step_cycles(TMacPE(), gemm(w=f"int{b}", a="int8")) for b in (1, 2, 4)] == [2, 4, 8]


def test_shift_add_families():
    mix = MixPE()
    assert pe_model.lanes(mix, gemm(w="int4", a="int8")) == 2
    counts = pe_model.op_counts(mix, gemm(w="int4", a="int8", g=64), 64, 1)
    assert counts == {"add:int32": 4 * 64, "mul:int32x16": 1.0}
    sall = pe_model.op_counts(ShiftAddLLMPE(), gemm(w="int3", a="fp16", g=128), 1024, 1)
    assert "mul:fp_e5m10" not in sall and sall["add:int5"] == 3 * 1024 / 128
    shift = pe_model.op_counts(ShiftPE(), gemm(w="pow2_k2", a="int8"), 1, 1)
    assert shift == {"shift:int24": 2.0, "add:int32": 2.0}
    assert pe_model.op_counts(ShiftPE(), gemm(w="pow2_k1", a="fp16"), 1, 1) == {"add:int4": 1.0, "add:int32": 1.0}
    assert pe_model.op_counts(LMulPE(), gemm(w="fp16", a="fp16"), 1, 1) == {"add:int15": 1.0, "add:fp_e8m23": 1.0}


def test_fp8_vs_int8_cost_ratio_prices_fp8_as_k_times_int8():
    table = EnergyTable()
    op = gemm(w="fp8_e4m3", a="fp8_e4m3")
    pe = MacPE(weight_format="fp8_e4m3", activation_format="fp8_e4m3", accumulator_format="fp16",
               fp8_vs_int8_cost_ratio=2.0)
    counts = pe_model.op_counts(pe, op, 1, 1)
    energy = sum(n * table.op_energy_pj(kind) for kind, n in counts.items())
    assert energy == pytest.approx(2.0 * (0.2 + 0.1))
    assert pe_model.pe_area_um2(pe, table) == pytest.approx(2.0 * (282 + 137))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("pe, op, match", [
    (StripesPE(), gemm(a="fp16"), "not an integer format"),
    (StripesPE(max_activation_bits=8), gemm(a="int12"), "at most 8"),
    (BitModPE(), gemm(w="int4", a="fp32"), "FP16 datapath"),
    (LutTensorCorePE(), gemm(w="fp8_e4m3", a="fp16"), "no bit-planes"),
    (ShiftPE(), gemm(w="int4"), "power-of-two"),
    (LMulPE(), gemm(w="int8", a="fp16"), "L-Mul multiplies FP"),
])
def test_unsupported_format_pe_combinations_are_infeasible(pe, op, match):
    with pytest.raises(pe_model.Infeasible, match=match):
        pe_model.step_cycles(pe, op)
        pe_model.op_counts(pe, op, 1, 1)


def test_value_shape_mismatch_names_the_op_and_shapes(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.zeros((3, 3)))
    op = gemm(values=OpValues(input=TensorSource(file=str(path))))
    with pytest.raises(SpecError, match=r"ops.g.values.input: values have shape \(3, 3\); op 'g' needs \(8, 64\)"):
        operand_codes(op, "input")


def test_28nm_table_uses_28nm_figures_and_prices_other_primitives_at_32nm():
    from hwmodels.costs import EnergyTable
    assert default_table(28).op_energy_pj("pe:bitmod") == pytest.approx(0.84)
    # primitives without a 28 nm figure (vector-unit adds): Horowitz scaled to 32 nm, never below
    assert default_table(28).op_energy_pj("add:int32") == EnergyTable().at_node(32).op_energy_pj("add:int32")
    with pytest.raises(SpecError, match="'pe:no_such_pe' has no cost model"):
        default_table(28).op_energy_pj("pe:no_such_pe")


# ----------------------------------------------------------------------------- value kernels vs numpy

def numpy_lockstep(codes, table, offset, unit, group):
    cost = table[codes - offset]
    out = []
    for lo in range(0, cost.shape[0], unit):
        block = cost[lo:lo + unit]
        out.append(max(block[g:g + group].max(axis=0).sum() for g in range(0, block.shape[0], group)))
    return np.array(out)


@pytest.mark.parametrize("seed", range(4))
def test_lockstep_kernel_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    lanes, steps = rng.integers(1, 70), rng.integers(1, 50)
    codes = rng.integers(-128, 128, size=(lanes, steps)).astype(np.int32)
    table = rng.integers(1, 9, size=256).astype(np.int64)
    unit, group = int(rng.integers(1, 40)), int(rng.integers(1, 20))
    got = value_kernels.lockstep_work(codes, table, -128, unit, group)
    assert np.array_equal(got, numpy_lockstep(codes, table, -128, unit, group))
    assert value_kernels.mean_cost(codes, table, -128) == pytest.approx(table[codes + 128].mean())


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_fold_work_matches_a_direct_per_fold_computation(dataflow):
    rng = np.random.default_rng(7)
    m, k, n, rows, cols, d = 9, 22, 7, 4, 3, 2
    a = rng.integers(0, 256, size=(m, k)).astype(np.int32)
    cost = pe_model.serial_cost(PragmaticPE(lanes=d), gemm(m=m, n=n, k=k, a="uint8", w="int16"))
    kp = -(-k // d)
    from workloads.ops import GemmView
    sched = fold_schedule(GemmView(m=m, n=n, k=kp, distinct_input_words=m * kp), rows, cols, dataflow, 8, "cols_outer")
    work = value_kernels.fold_work(sched, a, cost, d)
    pop = np.vectorize(lambda v: max(1, bin(v).count("1")))(a)
    padded = np.ones((m, kp * d), dtype=np.int64)
    padded[:, :k] = pop
    for f in range(sched.folds):
        r, c = sched.row_fold[f], sched.col_fold[f]
        if dataflow == "os":  # rows hold M; a step reads d elements of K per row
            block = padded[r * rows:(r + 1) * rows].reshape(-1, kp, d)
            expected = block.max(axis=(0, 2)).sum()
        elif dataflow == "ws":  # rows hold K' (d lanes each); M streams
            expected = padded[:, r * rows * d:(r + 1) * rows * d].max(axis=1).sum()
        else:  # inputs stationary: T = N steps at the block's max
            expected = n * padded[c * cols:(c + 1) * cols, r * rows * d:(r + 1) * rows * d].max()
        assert work[f] == expected


def test_pragmatic_with_values_is_faster_than_dense_and_says_so():
    hw = design({"family": "pragmatic", "lanes": 4}, rows=4, cols=4)
    dense = run(gemm(m=16, n=16, k=256, a="uint8", w="int16"), hw)
    source = TensorSource(distribution="gaussian", relu=True, seed=3)
    valued = run(gemm(m=16, n=16, k=256, a="uint8", w="int16", values=OpValues(input=source)), hw)
    assert dense.cycle_model == "dense worst case (no input values)" and valued.cycle_model.startswith("values")
    assert valued.cycles < dense.cycles
    codes = operand_codes(gemm(m=16, n=16, k=256, a="uint8", w="int16", values=OpValues(input=source)), "input")[0]
    pop = np.maximum(np.vectorize(lambda v: bin(v).count("1"))(codes), 1)
    per_row_fold = [pop[r * 4:(r + 1) * 4].reshape(4, 64, 4).max(axis=(0, 2)).sum() for r in range(4)]
    # 4 row folds x 4 column folds, each fold its row fold's work + R + C - 2 fill/drain
    assert valued.compute_cycles == 4 * sum(w + 6 for w in per_row_fold) - 1
    raw = np.vectorize(lambda v: bin(v).count("1"))(codes)  # zero activations add nothing
    assert valued.op_counts["add:int32"] == pytest.approx(raw.mean() * 16 * 16 * 256)


def test_codes_quantize_symmetrically_per_group_and_check_integer_ranges():
    x = np.array([[1.0, -2.0, 0.5, 4.0]])
    assert to_codes(x, "int4", 2, "w").tolist() == [[4, -7, 1, 7]]
    with pytest.raises(SpecError, match="outside int4"):
        to_codes(np.array([[9]]), "int4", None, "w")


def test_safetensors_and_npz_sources(tmp_path):
    import json
    data = np.arange(64 * 8, dtype=np.float32).reshape(64, 8) - 100
    header = json.dumps({"w": {"dtype": "F32", "shape": [64, 8], "data_offsets": [0, data.nbytes]}}).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + data.tobytes())
    op = gemm(values=OpValues(weight=TensorSource(file=str(path), key="w")))
    codes = operand_codes(op, "weight")
    assert codes.shape == (1, 64, 8) and codes.max() == 127
    np.savez(tmp_path / "a.npz", x=np.ones((8, 64)))
    op = gemm(values=OpValues(input=TensorSource(file=str(tmp_path / "a.npz"), key="y")))
    with pytest.raises(SpecError, match="key 'y' not in the archive: allowed are x"):
        operand_codes(op, "input")


def test_conv_feature_map_values_are_lowered_by_im2col():
    op = conv(a="uint8")
    fmap = np.arange(4 * 8 * 8).reshape(1, 4, 8, 8) % 7
    from workloads.values import im2col
    cols = im2col(op, fmap, "x")
    assert cols.shape == (1, 64, 36)
    # output pixel (1, 1), channel 2, kernel tap (0, 0) reads input pixel (0, 0) of channel 2
    assert cols[0, 1 * 8 + 1, 2 * 9] == fmap[0, 2, 0, 0]


def test_loom_dynamic_precision_uses_the_widest_lane_of_each_lockstep_group():
    hw = design({"family": "loom", "lanes": 2, "activation_bits_per_cycle": 1}, rows=2, cols=2)
    small = OpValues(input=TensorSource(distribution="laplace", std=0.05, outlier_fraction=0.001, seed=1))
    op = conv(a="int8", w="int4").model_copy(update={"values": small})
    dense, valued = run(conv(a="int8", w="int4"), hw), run(op, hw)
    assert valued.cycle_model == "values (dynamic-precision cycles)" and valued.cycles <= dense.cycles
    assert dense.cycle_model == "dense worst case (no input values)"


def test_shift_pe_skips_zero_power_of_two_terms_with_weight_values(tmp_path):
    from workloads.formats import parse_format
    fmt = parse_format("pow2_k2")
    weights = np.tile([1.0, 3.0, 0.0, 0.5], (64, 2))  # K x N = 64 x 8
    codes = to_codes(weights.T, "pow2_k2", None, "w")  # values already in pow2_k2: taken as they are
    assert codes[:4, 0].tolist() == [1, 2, 0, 1]  # 2^0; 2^1 + 2^0; nothing; 2^-1
    scaled = to_codes(weights.T * 1.1, "pow2_k2", None, "w")  # not representable: absmax-scaled to max_value
    assert np.array_equal(scaled, (fmt.terms(weights.T * 1.1 / (3.3 / fmt.max_value))[0] != 0).sum(-1))
    np.save(tmp_path / "w.npy", weights)
    hw = design({"family": "shift"}, rows=4, cols=4)
    dense = run(gemm(m=8, n=8, k=64, w="pow2_k2"), hw)
    valued = run(gemm(m=8, n=8, k=64, w="pow2_k2",
                      values=OpValues(weight=TensorSource(file=str(tmp_path / "w.npy")))), hw)
    assert valued.cycle_model == "values (non-zero power-of-two terms)"
    # columns 0..3 of a fold hold weights 1, 3, 0, 0.5: the lock-step max is 2 terms, as dense
    assert valued.cycles == dense.cycles
    # but only the non-zero terms are added: mean (1 + 2 + 0 + 1) / 4 = 1 per MAC instead of 2
    assert valued.op_counts["add:int32"] == pytest.approx(dense.op_counts["add:int32"] / 2)


def test_unstated_formats_take_the_design_defaults_and_stated_ones_are_kept():
    from workloads.loader import load_workload
    bare = load_workload("gemm:M=8,N=8,K=8").ops[0]
    assert bare.formats.unstated == ("weight", "activation", "output")
    half = load_workload("gemm:M=8,N=8,K=8,w=int4").ops[0]
    assert half.formats.unstated == ("activation", "output")
    # shift PEs default to +-2^p weights; the stated INT4 weight of `half` is kept (and then refused)
    shifted = pe_model.resolve_formats(ShiftPE(), bare)
    assert (shifted.formats.weight, shifted.formats.activation) == ("pow2_k1", "int8")
    assert shifted.formats.unstated == ("activation", "output")
    assert pe_model.resolve_formats(ShiftPE(), half).formats.weight == "int4"
    lmul = pe_model.resolve_formats(LMulPE(), half).formats
    assert (lmul.weight, lmul.activation, lmul.output, lmul.unstated) == ("int4", "fp16", "fp16", ())
    # MAC: its native formats, outputs in the activation format; a spec's default_formats overrides
    from hwmodels.spec import MacPE
    mac = MacPE(weight_format="fp8_e4m3", activation_format="fp16", default_formats={"output": "fp32"})
    resolved = pe_model.resolve_formats(mac, bare).formats
    assert (resolved.weight, resolved.activation, resolved.output) == ("fp8_e4m3", "fp16", "fp32")
    # stated formats survive a trace round trip (the file states them); unstated ones stay unstated
    from workloads.workload import Workload
    again = Workload.model_validate(Workload(ops=(bare,)).model_dump(mode="json")).ops[0]
    assert again.formats.unstated == bare.formats.unstated
