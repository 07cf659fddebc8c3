"""GPU kernel model: thread-block tiles over SMs in waves, tensor-core and CUDA-core pipes, smem/L2/DRAM traffic.

One op = one kernel. The kernel is the best of a set of candidate tilings (CTA tile
Mt x Nt, K tile tk, split-K factor S; tensor-core or SIMT math), all scored at once with
numpy. For one candidate, with gm = ceil(M/Mt), gn = ceil(N/Nt), kc = K/S rounded up to tk:

  CTAs       = gm * gn * S * instances
  CTAs/SM    = min(max_ctas_per_sm, smem_per_SM // (stages*tk*(Mt*bA + Nt*bW)),
                   (register_file/2) // (4*Mt*Nt))                 (0 = the tile does not fit)
  waves      = ceil(CTAs / (SMs * CTAs/SM))                          (wave quantization)
  per CTA    tensor  = Mt*Nt*kc / (tensor MACs per SM and clock)    (padded tile: edge waste counts)
             cuda    = (weight conversions kc*Nt*cw + activation conversions Mt*kc*ca
                        + group rescales Mt*Nt*ceil(kc/g)*2 + epilogue Mt*Nt*e) / CUDA lanes
             smem    = (Mt*kc*bA*(1 + ceil(Nt/64)) + kc*Nt*bW*(1 + ceil(Mt/64))) / (smem B/clk * eff)
                       (one write of each staged tile, one read per 64x64 warp tile that uses it)
             l2      = Mt*kc*bA + kc*Nt*bW + output or fp32 partials
  a wave of c CTAs takes  max(ceil(c/SMs) * max(tensor, cuda, smem),  c * l2 / (L2 B/clk * eff),
                              DRAM bytes * c / CTAs / (DRAM B/clk * eff))
  — the tensor-core and CUDA-core pipes overlap (dequantization hides under MMA and vice versa),
  so W4A16, W4A4-g128 and W8A8 cost what their busiest pipe costs, not a peak ratio.
  DRAM bytes: each operand once when it fits half of L2, else re-fetched once per wave that
  needs it (A: per block of SMs*CTAs/SM // gm columns; W: per wave of rows when gm exceeds a wave);
  split-K writes S fp32 partials per output and reads them back (in L2 when they fit half of it,
  else in DRAM) and adds M*N*S/(lanes*SMs) cycles of reduction.
  kernel cycles = sum over waves + DRAM latency (once when 2+ CTAs share an SM and hide each
  other's prologue, else once per wave) + split-K reduction;  latency_s = cycles/clock + overhead.

Math path (`math_path`): both operands integer -> the narrowest native integer tensor format
covering them (binary, int4, int8); otherwise the fastest native float tensor format whose
exponent/significand cover both (integers need bits <= mantissa + 1); otherwise SIMT FMA on the
CUDA cores. An operand stored in another format is converted on the CUDA cores as its tile is
loaded, at these lane-operations per element (per-element instruction counts of the kernels):
    int <= 8 bit -> float   1.5  (LOP3 magic-number unpack, HSUB2 bias, HMUL2 group scale per half2: MARLIN)
    int -> wider int        0.5  (LOP3/shift unpack of packed nibbles)
    float -> float          1.0  (PRMT/shift + HMUL2 exponent re-bias per half2: emulated FP8 on Ampere)
Integer math with per-group weight scales rescales the int32 partial sum once per group
(I2F + FFMA = 2 ops per output and group); the epilogue costs 2 ops per output for integer
math (I2F + scale), 1 for float (down-convert).

Energy (power figures): P = P_idle + (TDP - P_idle) * u, u = the busiest pipe's share of the
kernel time (tensor, CUDA, DRAM); the dynamic part is split over the pipes by their busy time.
`OpResult.op_counts` holds the MACs and CUDA-core operations by kind (a per-op-table view that
`sim.energy.reprice` can price); the GPU energies themselves come from the board power figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodels.spec import Hardware
from sim.result import OpResult
from workloads.formats import parse_format
from workloads.ops import Conv2d, Gemm, Vector

TILE_M = (16, 32, 64, 128, 256)
TILE_N = (32, 64, 128, 256)
SPLIT_K = (1, 2, 4, 8, 16, 32, 64)
SIMT_TILE_M = (1, 2, 4, 8)
WARP_TILE = 64
TILE_K_BITS = 512  # one K tile = 64 bytes of the math format per row (32 FP16, 64 INT8, 128 INT4)

# (exponent bits, mantissa bits) a float tensor format holds; integer operands need bits <= m + 1
_FLOAT_TENSOR = {"fp8_e4m3": (4, 3), "fp8_e5m2": (5, 2), "fp16": (5, 10), "bf16": (8, 7), "tf32": (8, 10)}
_INT_TENSOR = {"binary": 1, "int4": 4, "int8": 8}
_MUL_KIND = {"fp8_e4m3": "mul:fp_e4m3", "fp8_e5m2": "mul:fp_e5m2", "fp16": "mul:fp_e5m10", "bf16": "mul:fp_e8m7",
             "tf32": "mul:fp_e8m10", "int8": "mul:int8x8", "int4": "mul:int4x4", "binary": "mul:int1x1",
             None: "mul:fp_e8m23"}
INT_TO_FLOAT_OPS = 1.5
INT_WIDEN_OPS = 0.5
FLOAT_CONVERT_OPS = 1.0


@dataclass(frozen=True)
class MathPath:
    """Where an op's multiplies run and what its operands cost to convert on the CUDA cores."""

    tensor: str | None            # tensor-core format; None = SIMT FMA on the CUDA cores
    macs_per_sm_cycle: float
    weight_convert_ops: float     # CUDA-core lane-ops per weight element a CTA loads
    activation_convert_ops: float
    group_rescale_ops: float      # per output element and weight group (integer math with group scales)
    epilogue_ops: float           # per output element
    note: str = ""


def _operand(name: str) -> tuple[str, int, int]:
    """('int', bits, 0) or ('fp', exponent, mantissa) of a format's elements."""
    fmt = parse_format(name)
    fmt = getattr(fmt, "element", None) or fmt
    if getattr(fmt, "exp_bits", None) is not None:
        return "fp", fmt.exp_bits, fmt.man_bits
    return "int", fmt.bits, 0


def _covers(tensor: str, operand: tuple[str, int, int]) -> bool:
    if tensor in _INT_TENSOR:
        return operand[0] == "int" and operand[1] <= _INT_TENSOR[tensor]
    e, m = _FLOAT_TENSOR[tensor]
    if operand[0] == "int":
        return operand[1] <= m + 1
    if tensor.startswith("fp8") and operand[1:] in ((4, 3), (5, 2)):
        return True  # FP8 MMA takes e4m3 and e5m2 inputs in any mix
    return operand[1] <= e and operand[2] <= m


def _convert_ops(operand: tuple[str, int, int], tensor: str | None, same: bool) -> float:
    if same:
        return 0.0
    if operand[0] == "int":
        return INT_WIDEN_OPS if tensor in _INT_TENSOR else INT_TO_FLOAT_OPS
    return FLOAT_CONVERT_OPS


def math_path(hw: Hardware, formats) -> MathPath:
    """The tensor-core (or SIMT) path an op with these formats runs on (see module docstring)."""
    gpu = hw.gpu
    weight, activation = _operand(formats.weight), _operand(formats.activation)
    native = gpu.tensor_tops_dense
    fp16_macs = hw.array.rows * hw.array.cols
    both_int = weight[0] == activation[0] == "int"
    order = list(_INT_TENSOR) if both_int else []
    order += sorted(_FLOAT_TENSOR, key=lambda f: -native.get(f, 0.0))
    tensor = next((f for f in order if f in native and _covers(f, weight) and _covers(f, activation)), None)
    if tensor is None:
        macs = float(gpu.cuda_core_lanes_per_sm)
        note = (f"no tensor-core format of {hw.name} ({', '.join(native)}) holds {formats.weight} x "
                f"{formats.activation}: SIMT FMA on the CUDA cores")
    else:
        macs = fp16_macs * native[tensor] / native["fp16"] * gpu.tensor_efficiency
        wanted = formats.activation if activation[0] == "fp" else formats.weight if weight[0] == "fp" else None
        emulated = (both_int and tensor not in _INT_TENSOR) or (
            wanted is not None and not _same(wanted, tensor) and _operand(wanted)[1:] != (8, 23)
            and not (tensor.startswith("fp8") and _covers(tensor, _operand(wanted))))
        note = (f"{formats.weight} x {formats.activation} has no tensor-core path of its own on {hw.name}: "
                f"emulated on {tensor} tensor cores, operands converted on the CUDA cores") if emulated else ""
    w_same = tensor is not None and _same(formats.weight, tensor)
    a_same = tensor is not None and _same(formats.activation, tensor)
    integer_math = tensor in _INT_TENSOR
    return MathPath(
        tensor=tensor, macs_per_sm_cycle=macs,
        weight_convert_ops=_convert_ops(weight, tensor, w_same) if tensor else FLOAT_CONVERT_OPS,
        activation_convert_ops=_convert_ops(activation, tensor, a_same) if tensor else FLOAT_CONVERT_OPS,
        group_rescale_ops=2.0 if integer_math and formats.group_size else 0.0,
        epilogue_ops=2.0 if integer_math else 1.0, note=note)


def _same(fmt: str, tensor: str) -> bool:
    name = parse_format(fmt).name
    return name == tensor or (tensor == "tf32" and name == "fp32")


def simulate_op(op, hw: Hardware) -> OpResult:
    """One kernel's timing, traffic and energy on a GPU design (see module docstring)."""
    if isinstance(op, Vector):
        return _vector_kernel(op, hw)
    if isinstance(op, (Gemm, Conv2d)):
        return _gemm_kernel(op, hw)
    raise TypeError(f"no GPU model for op kind {op.kind!r}")


def _candidates(m: int, k: int, simt: bool, tile_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tiles_m = SIMT_TILE_M if simt else TILE_M
    splits = [s for s in SPLIT_K if s == 1 or k // s >= tile_k]
    grid = np.array([(tm, tn, s) for tm in tiles_m for tn in TILE_N for s in splits
                     if tm == tiles_m[0] or tm // 2 < m], dtype=np.float64)
    return grid[:, 0], grid[:, 1], grid[:, 2]


def _gemm_kernel(op, hw: Hardware) -> OpResult:
    gpu, (smem, l2, dram) = hw.gpu, hw.memory
    view = op.gemm_view()
    m, n, k, inst = view.m, view.n, view.k, view.instances
    path = math_path(hw, op.formats)
    b_a = op.formats.activation_bytes(1)
    b_w = op.formats.weight_bytes(1)
    b_c = op.formats.output_bytes(1)
    sms = hw.array.cores
    math_bits = 32 if path.tensor is None else (16 if path.tensor in ("fp16", "bf16") else
                                               32 if path.tensor == "tf32" else parse_format(path.tensor).bits)
    tile_k = max(8, TILE_K_BITS // math_bits)
    tm, tn, split = _candidates(m, k, path.tensor is None, tile_k)

    gm, gn = np.ceil(m / tm), np.ceil(n / tn)
    kc = np.ceil(np.ceil(k / split) / tile_k) * tile_k
    split = np.ceil(k / kc)
    ctas = gm * gn * split * inst
    smem_per_cta = smem.buffering * tile_k * (tm * b_a + tn * b_w)
    per_sm = np.minimum.reduce([np.full_like(tm, gpu.max_ctas_per_sm),
                                np.floor(smem.capacity_for("input") * len(smem.holds) / smem_per_cta),
                                np.floor(gpu.register_file_bytes_per_sm / 2 / (4 * tm * tn))])
    fits = per_sm >= 1
    per_sm = np.maximum(per_sm, 1)
    concurrent = sms * per_sm

    tensor = tm * tn * kc / path.macs_per_sm_cycle
    cuda_ops = (kc * tn * path.weight_convert_ops + tm * kc * path.activation_convert_ops
                + tm * tn * (np.ceil(kc / op.formats.group_size) * path.group_rescale_ops
                             if op.formats.group_size else 0.0)
                + tm * tn * path.epilogue_ops)
    if path.tensor is None:
        cuda_ops = cuda_ops + tm * tn * kc  # the MACs themselves run as FMAs
        tensor = np.zeros_like(tensor)
    cuda = cuda_ops / gpu.cuda_core_lanes_per_sm
    smem_read = tm * kc * b_a * np.ceil(tn / WARP_TILE) + kc * tn * b_w * np.ceil(tm / WARP_TILE)
    smem_write = tm * kc * b_a + kc * tn * b_w
    smem_t = (smem_read + smem_write) / (smem.read_bandwidth("input") * gpu.smem_efficiency)
    partial_out = np.where(split > 1, tm * tn * 4.0, tm * tn * b_c)
    l2_read = tm * kc * b_a + kc * tn * b_w
    l2_t = (l2_read + partial_out) / (l2.read_bandwidth("input") * gpu.l2_efficiency)

    a_bytes = view.distinct_input_words * b_a * inst
    w_bytes = k * n * b_w * inst
    c_bytes = m * n * b_c * inst
    half_l2 = l2.capacity_for("input") * len(l2.holds) / 2
    cols_per_wave = np.maximum(1.0, np.floor(concurrent / (gm * inst)))
    dram_a = np.where(a_bytes <= half_l2, a_bytes, a_bytes * np.ceil(gn * split / cols_per_wave))
    dram_w = np.where((gm <= concurrent) | (w_bytes <= half_l2), w_bytes, w_bytes * np.ceil(gm / concurrent))
    partial_bytes = np.where(split > 1, m * n * inst * 4.0 * split, 0.0)
    partials_in_dram = partial_bytes > half_l2
    dram_read = dram_a + dram_w + np.where(partials_in_dram, partial_bytes, 0.0)
    dram_write = c_bytes + np.where(partials_in_dram, partial_bytes, 0.0)
    dram_rate = dram.read_bandwidth("input") * gpu.dram_efficiency

    full = np.floor(ctas / concurrent)
    last = ctas - full * concurrent
    per_cta = np.maximum.reduce([tensor, cuda, smem_t])

    def wave(c):
        return np.maximum.reduce([np.ceil(c / sms) * per_cta, c * l2_t, (dram_read + dram_write) * c / ctas / dram_rate])

    body = full * wave(concurrent) + np.where(last > 0, wave(last), 0.0)
    waves = full + (last > 0)
    fill = dram.latency_cycles * np.where(per_sm >= 2, 1.0, waves)
    reduce = np.where(split > 1, np.maximum(partial_bytes * 2 / (l2.read_bandwidth("input") * gpu.l2_efficiency),
                                            m * n * inst * split / (gpu.cuda_core_lanes_per_sm * sms)), 0.0)
    total = np.where(fits, body + fill + reduce, np.inf)
    best = int(np.argmin(total))
    if not np.isfinite(total[best]):
        from hwmodels.pe import Infeasible
        raise Infeasible(f"{op.name}: no thread-block tile fits {hw.name}'s shared memory or registers")

    def at(x):
        return float(np.broadcast_to(x, total.shape)[best])

    busy_per_sm = {pipe: at(np.ceil(ctas / sms) * t) for pipe, t in (("tensor", tensor), ("cuda", cuda), ("smem", smem_t))}
    busy = {"compute": busy_per_sm["tensor"], "cuda_cores": busy_per_sm["cuda"], smem.name: busy_per_sm["smem"],
            l2.name: at(ctas * l2_t), dram.name: at((dram_read + dram_write) / dram_rate)}
    kernel_cycles = at(total)
    overhead_cycles = gpu.kernel_overhead_s * hw.clock_hz
    cycles = kernel_cycles + overhead_cycles
    bound = max(busy, key=busy.get)
    if overhead_cycles > busy[bound]:
        bound = "launch"
    macs_padded = at(ctas * tm * tn * kc)
    reads = {smem.name: at(ctas * smem_read), l2.name: at(ctas * l2_read), dram.name: at(dram_read)}
    writes = {smem.name: at(ctas * smem_write), l2.name: at(ctas * partial_out + dram_read), dram.name: at(dram_write)}
    acc = "add:int32" if path.tensor in _INT_TENSOR else "add:fp_e8m23"
    counts = {_MUL_KIND[path.tensor]: macs_padded, acc: macs_padded}
    counts["add:fp_e8m23"] = counts.get("add:fp_e8m23", 0.0) + at(ctas * cuda_ops) - (
        macs_padded if path.tensor is None else 0.0)
    result = OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=view.macs, cycles=int(math.ceil(cycles)),
        compute_cycles=int(math.ceil(busy["compute"] if path.tensor else busy["cuda_cores"])),
        stall_cycles=int(math.ceil(cycles)) - int(math.ceil(busy["compute"] if path.tensor else busy["cuda_cores"])),
        cycles_incl_prefetch=int(math.ceil(cycles)), latency_s=cycles / hw.clock_hz,
        utilization=view.macs / (cycles * path.macs_per_sm_cycle * sms),
        mapping_efficiency=view.macs / macs_padded, folds=int(at(ctas)), bound=bound,
        read_bytes=reads, write_bytes=writes, op_counts=counts,
        note="; ".join(filter(None, [path.note, _kernel_label(path, at(tm), at(tn), at(split), at(per_sm), at(waves))])))
    return _priced(result, hw, cycles, {"tensor_cores": busy["compute"], "cuda_cores": busy["cuda_cores"]},
                   busy[dram.name])


def _kernel_label(path: MathPath, tm, tn, split, per_sm, waves) -> str:
    pipe = f"{path.tensor} tensor cores" if path.tensor else "SIMT"
    return (f"kernel: {pipe}, CTA tile {int(tm)}x{int(tn)}, split-K {int(split)}, {int(per_sm)} CTA/SM, "
            f"{int(waves)} wave{'s' if waves != 1 else ''}")


def _vector_kernel(op: Vector, hw: Hardware) -> OpResult:
    """Element-wise/reduction kernel: max(ops / (lanes * SMs), bytes / bandwidth) + overhead.

    Operands small enough to stay in L2 (in + out <= L2/2, as the producing kernel left them)
    stream at L2 bandwidth, others at DRAM bandwidth.
    """
    gpu, (_, l2, dram) = hw.gpu, hw.memory
    in_bytes = op.inputs * op.formats.activation_bytes(op.elements)
    out_bytes = op.formats.output_bytes(op.output_elements)
    ops = op.elements * op.ops_per_element
    compute = ops / (gpu.cuda_core_lanes_per_sm * hw.array.cores)
    level = l2 if in_bytes + out_bytes <= l2.capacity_for("input") * len(l2.holds) / 2 else dram
    efficiency = gpu.l2_efficiency if level is l2 else gpu.dram_efficiency
    memory = (in_bytes + out_bytes) / (level.read_bandwidth("input") * efficiency)
    overhead = gpu.kernel_overhead_s * hw.clock_hz
    cycles = max(compute, memory) + overhead
    bound = "launch" if overhead > max(compute, memory) else ("cuda_cores" if compute >= memory else level.name)
    reads = {lv.name: 0.0 for lv in hw.memory}
    writes = dict(reads)
    reads[level.name], writes[level.name] = float(in_bytes), float(out_bytes)
    result = OpResult(
        name=op.name, kind=op.kind, repeat=op.repeat, macs=0, cycles=int(math.ceil(cycles)),
        compute_cycles=int(math.ceil(compute)), stall_cycles=int(math.ceil(cycles)) - int(math.ceil(compute)),
        cycles_incl_prefetch=int(math.ceil(cycles)), latency_s=cycles / hw.clock_hz, utilization=0.0,
        mapping_efficiency=0.0, folds=0, bound=bound, read_bytes=reads, write_bytes=writes,
        op_counts={"add:fp_e8m23": float(ops)})
    return _priced(result, hw, cycles, {"cuda_cores": compute}, memory if level is dram else 0.0)


def _priced(result: OpResult, hw: Hardware, cycles: float, compute_busy: dict[str, float],
            dram_busy: float) -> OpResult:
    """Energy from board power: idle + (TDP - idle) x the busiest pipe's share of the kernel time."""
    from dataclasses import replace

    gpu = hw.gpu
    busy = {**compute_busy, hw.memory[-1].name: dram_busy}
    share = min(1.0, max(busy.values()) / cycles) if cycles > 0 else 0.0
    dynamic_j = (gpu.tdp_w - hw.static_power_w) * share * result.latency_s
    total_busy = sum(busy.values()) or 1.0
    split = {pipe: dynamic_j * t / total_busy * 1e12 for pipe, t in busy.items()}
    return replace(result, compute_energy_pj={p: split[p] for p in compute_busy},
                   memory_energy_pj={hw.memory[-1].name: split[hw.memory[-1].name]},
                   static_energy_j=hw.static_power_w * result.latency_s)
