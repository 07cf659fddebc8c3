"""Model zoo: parameter and MAC counts against published figures and hand calculations,
GQA/KV-cache sizing, layers as repeats, zoo names and their error messages."""
from __future__ import annotations

import pytest

from workloads.errors import SpecError
from workloads.loader import load_workload
from workloads.ops import Conv2d, Gemm, Vector
from workloads.workload import load_trace, save_trace
from workloads.zoo import build, load_zoo, zoo_names
from workloads.zoo.config import zoo_configs

# (published parameter count, tolerance, source). Tolerances: half a unit of the last published
# digit where the figure is rounded; 0 where the source gives the exact count.
PUBLISHED_PARAMETERS = {
    "llama2-7b": (6.74e9, 0.005e9, "Llama 2 model card / HF meta-llama/Llama-2-7b-hf: 6.74B"),
    "llama2-13b": (13.0e9, 0.05e9, "Llama 2 model card: 13B; HF: 13.0B"),
    "llama2-70b": (69.0e9, 0.05e9, "HF meta-llama/Llama-2-70b-hf: 69.0B (nominal 70B)"),
    "llama3-8b": (8.03e9, 0.005e9, "HF meta-llama/Meta-Llama-3-8B: 8.03B"),
    "mistral-7b": (7.24e9, 0.005e9, "HF mistralai/Mistral-7B-v0.1: 7.24B"),
    "opt-1.3b": (1.3e9, 0.05e9, "Zhang et al. 2022, OPT, Table 1: 1.3B"),
    "opt-6.7b": (6.7e9, 0.05e9, "Zhang et al. 2022, OPT, Table 1: 6.7B"),
    "opt-13b": (13e9, 0.5e9, "Zhang et al. 2022, OPT, Table 1: 13B"),
    "phi-2": (2.78e9, 0.005e9, "HF microsoft/phi-2: 2.78B"),
    "yi-6b": (6.06e9, 0.005e9, "HF 01-ai/Yi-6B: 6.06B"),
    "yi-34b": (34.4e9, 0.05e9, "HF 01-ai/Yi-34B: 34.4B"),
    "bert-base": (110e6, 1.1e6, "Devlin et al. 2019: 110M (1 %: the paper rounds loosely)"),
    "vit-b16": (86_567_656, 0, "torchvision vit_b_16 weights table"),
    "deit-s": (22e6, 0.5e6, "Touvron et al. 2021, DeiT, Table 1: 22M"),
    "resnet18": (11_689_512, 0, "torchvision resnet18 weights table"),
    "resnet50": (25_557_032, 0, "torchvision resnet50 weights table"),
    "mobilenetv2": (3_504_872, 0, "torchvision mobilenet_v2 weights table"),
}

# MACs at batch 1 (torchvision's "GFLOPS" column counts multiply-accumulates, as fvcore does).
PUBLISHED_GMACS = {
    "resnet18": (1.81, 0.005, "torchvision resnet18: 1.81 GFLOPS"),
    "resnet50": (4.09, 0.005, "torchvision resnet50: 4.09 GFLOPS"),
    "mobilenetv2": (0.30, 0.005, "torchvision mobilenet_v2: 0.30 GFLOPS; Sandler et al. 2018: 300M MAdds"),
    "vit-b16": (17.56, 0.005, "torchvision vit_b_16: 17.56 GFLOPS"),
    "deit-s": (4.6, 0.05, "Touvron et al. 2021, DeiT, Table 1: 4.6 GFLOPs"),
}


def _weight_elements(workload) -> int:
    """Weights read by parameter GEMM/conv ops, repeats included (from the ops, not the config)."""
    total = 0
    for op in workload.ops:
        if isinstance(op, Conv2d) or (isinstance(op, Gemm) and op.weight_kind == "parameter"):
            view = op.gemm_view()
            total += view.k * view.n * view.instances * op.repeat
    return total


def test_every_zoo_model_has_a_published_figure():
    assert set(PUBLISHED_PARAMETERS) == set(zoo_names())


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETERS))
def test_parameter_count_matches_published_figure(name):
    published, tolerance, _source = PUBLISHED_PARAMETERS[name]
    assert zoo_configs()[name].parameters() == pytest.approx(published, abs=tolerance)


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETERS))
def test_ops_read_exactly_the_configs_matmul_weights(name):
    # second implementation: weights summed over the expanded ops == the architecture formula
    config = zoo_configs()[name]
    counts = config.parameter_breakdown()
    tied = getattr(config, "tie_embeddings", False) * counts["tables"].get("embed_tokens", 0)
    assert _weight_elements(build(name)) == counts["matmul"] + tied


def test_exact_counts_of_well_known_checkpoints():
    # exact counts of the Hugging Face checkpoints (sum of tensor sizes)
    exact = {"llama2-7b": 6_738_415_616, "llama2-13b": 13_015_864_320, "llama2-70b": 68_976_648_192,
             "llama3-8b": 8_030_261_248, "mistral-7b": 7_241_732_096, "opt-1.3b": 1_315_758_080,
             "phi-2": 2_779_683_840, "bert-base": 109_482_240}
    assert {name: zoo_configs()[name].parameters() for name in exact} == exact


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMACS))
def test_vision_macs_match_published_figures(name):
    published, tolerance, _source = PUBLISHED_GMACS[name]
    assert build(name).macs / 1e9 == pytest.approx(published, abs=tolerance)


@pytest.mark.parametrize("name, ctx", [("llama2-7b", 2048), ("llama2-70b", 4096), ("mistral-7b", 8192),
                                       ("phi-2", 100), ("opt-1.3b", 2048)])
def test_decode_macs_hand_calculation(name, ctx):
    # Kaplan et al. 2020, Table 1: forward cost per token = N (non-embedding matmul weights, one MAC each)
    # + attention over the context: QK^T and PV, each heads*head_dim*span MACs per layer
    c = zoo_configs()[name]
    span = min(ctx, c.sliding_window or ctx)
    for batch in (1, 3):
        workload = load_zoo(f"{name}:decode:batch={batch},ctx={ctx}")
        matmul = c.parameter_breakdown()["matmul"] + (c.vocab * c.hidden if c.tie_embeddings else 0)
        assert workload.macs == batch * (matmul + 2 * c.layers * c.heads * c.head_dim * span)


def test_prefill_macs_hand_calculation():
    c = zoo_configs()["llama3-8b"]
    batch, seq = 2, 512
    layer_weights = (c.parameter_breakdown()["matmul"] - c.vocab * c.hidden) // c.layers
    attention = 2 * c.heads * c.head_dim * seq * seq  # dense QK^T and PV per sequence per layer
    expected = c.layers * (batch * seq * layer_weights + batch * attention) + batch * c.vocab * c.hidden
    assert load_zoo(f"llama3-8b:prefill:batch={batch},seq={seq}").macs == expected


def _kv_bytes(workload) -> tuple[float, float]:
    """(KV-cache bytes read by attention GEMMs, KV bytes written), repeats included."""
    read = sum(op.formats.weight_bytes(op.batch * op.k * op.n) * op.repeat
               for op in workload.ops if isinstance(op, Gemm) and op.weight_kind == "kv_cache")
    written = sum(op.formats.output_bytes(op.elements) * op.repeat
                  for op in workload.ops if isinstance(op, Vector) and op.operation == "kv_write")
    return read, written


def test_kv_cache_per_token_matches_vllm_paper():
    # Kwon et al. 2023 (vLLM), section 3: OPT-13B's KV cache takes 800 KB per token
    # (2 (K and V) x 5120 hidden x 40 layers x 2 bytes = 819,200 bytes)
    ctx = 1000
    read, written = _kv_bytes(load_zoo(f"opt-13b:decode:batch=1,ctx={ctx}"))
    assert read / ctx == written == 2 * 5120 * 40 * 2
    read4, written4 = _kv_bytes(load_zoo(f"opt-13b:decode:batch=1,ctx={ctx},kv=int4"))
    assert (read4, written4) == (read / 4, written / 4)


def test_gqa_reads_each_kv_head_once():
    # Llama-2-70B: 8 KV heads of 128 shared by 64 query heads -> 2*80*8*128*2 bytes per token in fp16
    ctx = 4096
    workload = load_zoo(f"llama2-70b:decode:batch=2,ctx={ctx}")
    read, written = _kv_bytes(workload)
    assert read == 2 * ctx * 2 * 80 * 8 * 128 * 2 and written == 2 * 2 * 80 * 8 * 128 * 2
    score = next(op for op in workload.ops if op.name.endswith("self_attn.score"))
    assert (score.m, score.n, score.k, score.batch) == (8, ctx, 128, 2 * 8)  # 8 query heads per KV head on M


def test_prefill_attention_uses_fresh_kv_and_writes_the_cache():
    workload = load_zoo("mistral-7b:prefill:batch=1,seq=8192,kv=fp8_e4m3")
    score = next(op for op in workload.ops if op.name.endswith("self_attn.score"))
    assert score.weight_kind == "activation" and score.n == 4096  # sliding window caps the span
    _, written = _kv_bytes(workload)
    assert written == 8192 * 2 * 32 * 8 * 128 * 1


def test_identical_layers_are_repeats():
    small, large = build("llama2-7b"), build("llama2-70b")
    assert len(small.ops) == len(large.ops)
    q_proj = next(op for op in large.ops if op.name.endswith("q_proj"))
    assert (q_proj.name, q_proj.repeat) == ("layers.0-79.self_attn.q_proj", 80)
    names = [op.name for op in build("resnet50").ops]
    assert len(names) == len(set(names)) and "layer3.1-5.conv1" in names


def test_builtin_names_are_the_zoo():
    assert load_workload("resnet18") == build("resnet18")
    layer = load_workload("llama2-7b-layer")
    assert all(op.repeat == 1 and op.name.startswith("layers.0.") for op in layer.ops)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_zoo_workloads_round_trip_through_trace_files(tmp_path, suffix):
    for spec in ("phi-2:prefill:batch=2,seq=64,quant=w8a8", "bert-base", "mobilenetv2:batch=4"):
        workload = load_workload(spec)
        assert load_trace(save_trace(workload, tmp_path / f"w{suffix}")) == workload


def test_names_set_phase_batch_and_lengths():
    workload = load_workload("llama2-7b:decode:batch=4,ctx=512")
    m = workload.metadata
    assert (m.model, m.phase, m.batch, m.context_len, m.seq_len) == ("llama2-7b:decode:batch=4,ctx=512", "decode",
                                                                     4, 512, None)
    assert load_workload("bert-base:seq=384").metadata.seq_len == 384
    assert load_workload("resnet50:batch=8").ops[0].batch == 8
    assert load_workload("LLaMA2-7B:layers=2").ops[1].repeat == 2


@pytest.mark.parametrize("spec, match", [
    ("llama2-7", "did you mean 'llama2-7b'"),
    ("resnet-50:batch=2", "did you mean 'resnet50'"),
    ("llama2-7b:train", "phase 'train' not allowed for llama2-7b: allowed are prefill, decode"),
    ("resnet50:decode", "phase 'decode' not allowed for resnet50: allowed are inference"),
    ("llama2-7b:decode:seq=5", "seq= does not apply to llama2-7b decode: use ctx="),
    ("llama2-7b:batch=0", "batch='0'.*must be a positive integer"),
    ("llama2-7b:ctx=8192", "ctx=8192 not allowed for llama2-7b: at most its 4096 positions"),
    ("llama2-7b:colour=red", "allowed keys are batch, ctx, seq, layers, quant, kv, policy"),
    ("llama2-7b:layers=33", "layers=33 not allowed for llama2-7b: it has 32 layers"),
    ("resnet50:seq=3", "seq= does not apply to resnet50"),
    ("llama2-7b:quant=w3a77", "77 bits: allowed are 1..8"),
    ("llama2-7b:quant=w4b16", "unknown scheme 'w4b16'"),
])
def test_bad_zoo_names(spec, match):
    with pytest.raises(SpecError, match=match) as info:
        load_workload(spec)
    assert "\n" not in str(info.value)
