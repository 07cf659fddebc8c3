"""Published GPU/FPGA results quarch reproduces: each a claim, its source, the published value,
a tolerance, and a function computing quarch's value (plain data, run by tests and `quarch validate`).

A reproduction passes when quarch's value lies in [low, high]; for a published number with a
relative tolerance t that is published * (1 -/+ t). Qualitative claims ("still significant")
give explicit bounds and no published number.

Workloads used here that the model zoo does not provide yet are built from their published
configurations (ResNet-50 v1.5: He et al. 2016 / torchvision; CodeLlama-34B: hidden 8192,
48 layers, 64 query and 8 KV heads of 128, MLP 22016, vocabulary 32000).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from hwmodels.loader import load_hardware
from sim.simulate import simulate, simulate_op
from workloads.ops import Conv2d, Gemm, OpFormats, Vector
from workloads.zoo import load_zoo
from workloads.workload import Workload, WorkloadMetadata


@dataclass(frozen=True)
class Reproduction:
    """One published result: quarch passes when `compute()` lies in [low, high]."""

    name: str
    claim: str
    source: str
    published: float | None
    low: float
    high: float
    compute: Callable[[], float]
    unit: str = "x"
    gap: str = ""  # why quarch does not reproduce it (reported with a failed outcome; the test expects the failure)

    @property
    def tolerance(self) -> str:
        if self.published is None:
            return f"in [{self.low:g}, {self.high:g}]"
        return f"±{(self.high / self.published - 1):.0%}"

    def check(self) -> tuple[float, bool]:
        value = float(self.compute())
        return value, self.low <= value <= self.high


def _within(published: float, tolerance: float) -> dict:
    return {"published": published, "low": published * (1 - tolerance), "high": published * (1 + tolerance)}


# ---- workloads built from published configurations -------------------------------------------------------

def resnet50(batch: int, bits: str) -> Workload:
    """ResNet-50 v1.5 at 224x224; every conv in `bits` (int8/int4) except the first conv and the FC,
    kept at int8 as HAWQ-V3 does; residual adds are separate element-wise kernels."""
    body = OpFormats(weight=bits, activation=bits, output=bits)
    edge = OpFormats(weight="int8", activation="int8", output="int8")

    def conv(name, size, cin, cout, kernel, stride=1, repeat=1, formats=body):
        return Conv2d(name=name, batch=batch, in_h=size, in_w=size, in_channels=cin, out_channels=cout,
                      kernel_h=kernel, kernel_w=kernel, stride_h=stride, stride_w=stride, pad_h=kernel // 2,
                      pad_w=kernel // 2, repeat=repeat, formats=formats)

    ops = [conv("conv1", 224, 3, 64, 7, 2, formats=edge),
           Vector(name="maxpool", operation="reduce_max", elements=batch * 112 * 112 * 64,
                  outputs=batch * 56 * 56 * 64, formats=body)]
    size, cin = 56, 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=1):
        stride = 1 if stage == 1 else 2
        out = size // stride
        cout = 4 * width
        ops += [conv(f"layer{stage}.0.conv1", size, cin, width, 1),
                conv(f"layer{stage}.0.conv2", size, width, width, 3, stride),
                conv(f"layer{stage}.0.conv3", out, width, cout, 1),
                conv(f"layer{stage}.0.downsample", size, cin, cout, 1, stride),
                conv(f"layer{stage}.conv1", out, cout, width, 1, repeat=blocks - 1),
                conv(f"layer{stage}.conv2", out, width, width, 3, repeat=blocks - 1),
                conv(f"layer{stage}.conv3", out, width, cout, 1, repeat=blocks - 1),
                Vector(name=f"layer{stage}.add", operation="add", elements=batch * out * out * cout, inputs=2,
                       repeat=blocks, formats=body)]
        size, cin = out, cout
    ops += [Vector(name="avgpool", operation="reduce_sum", elements=batch * 7 * 7 * 2048, outputs=batch * 2048,
                   formats=body),
            Gemm(name="fc", m=batch, n=1000, k=2048, formats=edge)]
    return Workload(metadata=WorkloadMetadata(model=f"resnet50-{bits}", batch=batch, source="HAWQ-V3 setup"),
                    ops=tuple(ops))


def llama_decode(hidden: int, layers: int, heads: int, kv_heads: int, mlp: int, vocab: int, context: int,
                 batch: int = 1, weight: str = "fp16", kv: str = "fp16", name: str = "llama") -> Workload:
    """One decode step (one new token per sequence) of a Llama-style decoder with a `context`-token
    KV cache: QKV, attention over the cache (grouped-query), O, gated MLP, LM head."""
    head_dim = hidden // heads
    group = heads // kv_heads
    lin = OpFormats(weight=weight, activation="fp16", output="fp16", group_size=128 if weight != "fp16" else None)
    cache = OpFormats(weight=kv, activation="fp16", output="fp16")
    fp16 = OpFormats(weight="fp16", activation="fp16", output="fp16")
    layer = [Gemm(name="qkv_proj", m=batch, n=hidden + 2 * kv_heads * head_dim, k=hidden, repeat=layers, formats=lin),
             Gemm(name="attn_score", m=group, n=context, k=head_dim, batch=kv_heads * batch, repeat=layers,
                  formats=cache),
             Vector(name="softmax", operation="softmax", elements=batch * heads * context, ops_per_element=5,
                    repeat=layers, formats=fp16),
             Gemm(name="attn_value", m=group, n=head_dim, k=context, batch=kv_heads * batch, repeat=layers,
                  formats=cache),
             Gemm(name="o_proj", m=batch, n=hidden, k=hidden, repeat=layers, formats=lin),
             Vector(name="rmsnorm", operation="rmsnorm", elements=batch * hidden, ops_per_element=4,
                    repeat=2 * layers, formats=fp16),
             Gemm(name="mlp_gate_up", m=batch, n=2 * mlp, k=hidden, repeat=layers, formats=lin),
             Vector(name="silu_mul", operation="silu", elements=batch * mlp, inputs=2, ops_per_element=4,
                    repeat=layers, formats=fp16),
             Gemm(name="mlp_down", m=batch, n=hidden, k=mlp, repeat=layers, formats=lin),
             Gemm(name="lm_head", m=batch, n=vocab, k=hidden, formats=fp16)]
    return Workload(metadata=WorkloadMetadata(model=name, phase="decode", batch=batch, context_len=context,
                                              source="published configuration"), ops=tuple(layer))


def codellama_34b_decode(context: int) -> Workload:
    return llama_decode(8192, 48, 64, 8, 22016, 32000, context, name="codellama-34b")


# ---- MARLIN (Frantar et al., PPoPP'25, arXiv 2408.11743; IST-DASLab/marlin README) --------------------------

MARLIN_SOURCE = ("MARLIN README (IST-DASLab/marlin) and arXiv 2408.11743: A10, K = 4*256*SMs, N = 256*SMs, "
                 "group 128, vs torch.matmul FP16; 'maximum possible 3.87x speedup up to batchsizes around 16-32'")


@lru_cache(maxsize=None)
def marlin_speedup(batch: int, hw_name: str = "a10") -> float:
    """FP16 GEMM time / W4A16-g128 GEMM time on MARLIN's 'ideal' matrix for `hw_name`."""
    hw = load_hardware(hw_name)
    sms = hw.array.cores
    k, n = 4 * 256 * sms, 256 * sms
    fp16 = OpFormats(weight="fp16", activation="fp16", output="fp16")
    w4 = OpFormats(weight="int4", activation="fp16", output="fp16", group_size=128)
    base = simulate_op(Gemm(name="fp16", m=batch, n=n, k=k, formats=fp16), hw).latency_s
    return base / simulate_op(Gemm(name="w4a16", m=batch, n=n, k=k, formats=w4), hw).latency_s


# ---- long-context decode at peak bandwidth ----------------------------------------------------------------

DECODE_CONTEXT = 32768


def decode_bytes(workload: Workload) -> float:
    """Bytes one decode step must read at least: every weight and KV-cache element once (hand count)."""
    total = 0.0
    for op in workload.ops:
        if isinstance(op, Gemm):
            total += op.repeat * op.batch * op.formats.weight_bytes(op.k * op.n)
    return total


def decode_time_ratio(hw_name: str = "h100") -> float:
    """quarch's decode-step time at full DRAM efficiency / (weight + KV bytes / peak bandwidth)."""
    hw = load_hardware(hw_name, ["gpu.dram_efficiency=1.0"])
    workload = codellama_34b_decode(DECODE_CONTEXT)
    peak = hw.memory[-1].read_bandwidth("input") * hw.clock_hz
    return simulate(workload, hw).total.latency_s / (decode_bytes(workload) / peak)


# ---- HAWQ-V3 (Yao et al., ICML'21): INT4 vs INT8 ResNet-50 on T4, batch 8 ------------------------------------

def hawq_speedup() -> float:
    hw = load_hardware("t4")
    return simulate(resnet50(8, "int8"), hw).total.latency_s / simulate(resnet50(8, "int4"), hw).total.latency_s


# ---- COMET (Liu et al., arXiv 2410.12168): W4Ax mixed kernel vs FP16 cuBLAS on A100, 2.88x ----------------------

COMET_SOURCE = ("COMET (Liu et al., arXiv 2410.12168) abstract: 2.88x kernel speedup over cuBLAS on one A100-80G-SXM4, "
                "LLaMA family; FMPQ 'compresses most activations into 4-bit' (128-channel blocks, outlier blocks "
                "INT8); memory-models.md §3.3")
COMET_SPEEDUP = 2.88
COMET_TOKENS = 2048


def llama2_7b_linears(tokens: int, weight: str, activation: str, group_size: int | None) -> list[Gemm]:
    """The zoo's linear GEMMs of one LLaMA-2-7B layer on `tokens` tokens (q, k, v, o, gate, up, down),
    in these formats with FP16 outputs."""
    formats = OpFormats(weight=weight, activation=activation, output="fp16", group_size=group_size)
    prefill = load_zoo(f"llama2-7b:prefill:batch=1,seq={tokens}")
    return [op.model_copy(update={"formats": formats, "repeat": 1}) for op in prefill.ops
            if op.name.startswith("layers.") and getattr(op, "weight_kind", None) == "parameter"]


def comet_int8_fraction(hw_name: str = "a100") -> float:
    """The fraction f of 128-channel activation blocks kept in INT8 at which quarch's W4Ax kernel is
    2.88x faster than FP16 on LLaMA-2-7B's linear layers (one 2048-token prefill).

    A W4Ax kernel runs each K-block at its own format's rate inside one kernel, so its time is
        t(f) = (1 - f) * t_W4A4 + f * t_W4A8          (per GEMM, both with per-128-block scales)
    and speedup(f) = t_FP16 / t(f); solving speedup(f) = 2.88 gives
        f = (t_FP16 / 2.88 - t_W4A4) / (t_W4A8 - t_W4A4),
    which must lie in [0, 0.5] for quarch to agree with the paper ('most activations' in 4 bits):
    below 0 quarch's pure W4A4 kernel is already slower than 2.88x, above 0.5 its W4A8 too fast."""
    hw = load_hardware(hw_name)

    def seconds(weight, activation, group):
        return sum(simulate_op(op, hw).latency_s for op in llama2_7b_linears(COMET_TOKENS, weight, activation, group))

    fp16, w4a4, w4a8 = seconds("fp16", "fp16", None), seconds("int4", "int4", 128), seconds("int4", "int8", 128)
    return (fp16 / COMET_SPEEDUP - w4a4) / (w4a8 - w4a4)


# ---- FlightLLM (Zeng et al., FPGA'24, arXiv 2401.03868): U280 vs V100S energy efficiency, LLaMA2-7B batch 1 ---

FLIGHTLLM_SOURCE = ("FlightLLM (Zeng et al., FPGA'24, arXiv 2401.03868) abstract: 6.0x energy efficiency of the U280 "
                    "over a V100S (vLLM + SmoothQuant W8A8) on LLaMA2-7B at batch 1, geomean over prefill x "
                    "decode lengths [128|512] x [512|1024|1536]; memory-models.md §3.2")
FLIGHTLLM_LENGTHS = [(p, d) for p in (128, 512) for d in (512, 1024, 1536)]
# A decode (GEMV) engine on the U280: one row of 4096 INT8 MACs (2048 DSP48E2, 2 MACs each), output-stationary
# so weights stream straight from HBM, 28 of the 32 pseudo-channels feeding weights; FlightLLM's mixed 4/8-bit
# weights taken at 4 bits (W4A8). Its N:M sparse DSP chains and always-on-chip decode are not modeled.
FLIGHTLLM_U280 = ("array.rows=1", "array.cols=4096", "array.dataflow=os", "fpga.channels_used.weight=28")


def flightllm_energy_ratio() -> float:
    """V100S joules per decoded token (W8A8) / U280 joules per decoded token (W4A8 on the GEMV engine),
    geomean over the six length pairs, each decode step taken at its mean context p + d/2."""
    v100s, u280 = load_hardware("v100s"), load_hardware("u280", list(FLIGHTLLM_U280))
    ratios = []
    for prompt, decode in FLIGHTLLM_LENGTHS:
        context = prompt + decode // 2
        gpu = simulate(load_zoo(f"llama2-7b:decode:batch=1,ctx={context},quant=w8a8"), v100s).total.energy_j
        fpga = simulate(load_zoo(f"llama2-7b:decode:batch=1,ctx={context},quant=w4a8"), u280).total.energy_j
        ratios.append(gpu / fpga)
    return float(np.exp(np.mean(np.log(ratios))))


REPRODUCTIONS: tuple[Reproduction, ...] = (
    *(Reproduction(name=f"marlin-a10-batch{b}", claim=f"W4A16-g128 vs FP16 GEMM speedup at batch {b} on A10",
                   source=MARLIN_SOURCE, compute=lambda b=b: marlin_speedup(b), **_within(3.87, 0.15))
      for b in (1, 2, 4, 8, 16, 32)),
    Reproduction(name="marlin-a10-batch128", claim="speedup at batch 64-128 'gradually decreasing, but still "
                 "significant': above 1, clearly below the 3.87x ideal", source=MARLIN_SOURCE, published=None,
                 low=1.05, high=3.0, compute=lambda: marlin_speedup(128)),
    Reproduction(name="decode-34b-h100-32k", claim="batch-1 decode of a 34B-class model (CodeLlama-34B, FP16, "
                 f"{DECODE_CONTEXT}-token KV cache) at peak bandwidth: time per token = bytes / bandwidth",
                 source="memory-models.md §3 (roofline decode arithmetic); hand count of weight + KV bytes",
                 compute=decode_time_ratio, **_within(1.0, 0.10)),
    Reproduction(name="hawq-v3-t4-resnet50", claim="uniform INT4 vs INT8 ResNet-50 latency on T4, batch 8",
                 source="HAWQ-V3 (Yao et al., ICML'21) abstract: average 1.45x; setup Zhen-Dong/HAWQ "
                 "tvm_benchmark/README.md (batch 8, TVM, HWNC)", compute=hawq_speedup, **_within(1.45, 0.15),
                 gap="quarch gives ~1.70x with every tensor in the layer's bits: memory-bound layers and residual "
                 "adds halve their bytes at INT4. HAWQ-V3's Fig. 2 keeps the residual path in INT32 (adds in INT32, "
                 "requantized before the next conv); run as separate INT32 kernels (block outputs INT32, add, "
                 "requantize) quarch gives ~1.11x. The measured 1.45x lies between: how TVM fuses those passes "
                 "is not published, so neither variant is adopted"),
    Reproduction(name="comet-a100-w4ax", claim=f"W4Ax (W4A4 + W4A8 blocks) kernel {COMET_SPEEDUP}x over FP16 cuBLAS "
                 f"on A100 (LLaMA-2-7B linears, {COMET_TOKENS} tokens): the INT8 block share this implies in quarch "
                 "must be a minority", source=COMET_SOURCE, published=None, low=0.0, high=0.5,
                 compute=comet_int8_fraction, unit="INT8 block fraction"),
    Reproduction(name="flightllm-u280-v100s", claim="energy per LLaMA2-7B batch-1 decoded token, V100S (W8A8) / "
                 "U280 (W4A8 GEMV engine)", source=FLIGHTLLM_SOURCE, compute=flightllm_energy_ratio,
                 **_within(6.0, 0.25),
                 gap="quarch gives ~0.93x: its U280 step takes ~61 ms (attention GEMVs pay the 4096-wide systolic "
                 "row's fill and drain per KV head, ~41 ms; linears ~20 ms at 28 x 14.375 GB/s x 0.66), so 30 W of "
                 "static power x time dominates (~1.9 J/token) against the V100S's 9.4 ms at 194 W (~1.8 J/token, "
                 "W8A8 emulated on FP16 tensor cores). FlightLLM's sparse DSP chains, N:M sparsity, mixed 4/8-bit "
                 "weights and its attention unit are not modeled, and its board power is not stated in the sources"),
)
