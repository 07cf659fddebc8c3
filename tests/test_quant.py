"""Quantization and mixed-precision policies: schemes, rules, per-layer files, KV format, weight memory."""
from __future__ import annotations

import pytest

from hwmodels.loader import load_hardware
from sim.simulate import simulate
from workloads.errors import SpecError
from workloads.formats import FormatError
from workloads.loader import load_workload
from workloads.ops import Gemm
from workloads.quant import QuantPolicy, apply_policy, load_policy, parse_scheme, weight_memory
from workloads.zoo import build, model_weight_memory
from workloads.zoo.config import zoo_configs


@pytest.mark.parametrize("text, fields", [
    ("W4A16 g128", {"weight": "int4", "activation": "fp16", "group_size": 128}),
    ("w8a8", {"weight": "int8", "activation": "int8", "group_size": None}),
    ("W4A4KV4", {"weight": "int4", "activation": "int4", "kv": "int4", "group_size": None}),
    ("w4-a8-kv8-g64", {"weight": "int4", "activation": "int8", "kv": "int8", "group_size": 64}),
    ("FP8-E4M3", {"weight": "fp8_e4m3", "activation": "fp8_e4m3", "kv": "fp8_e4m3"}),
])
def test_schemes(text, fields):
    assert parse_scheme(text) == fields


def test_bad_scheme():
    with pytest.raises(FormatError, match="unknown scheme 'w4x'"):
        parse_scheme("w4x")


def _by_name(workload) -> dict:
    return {op.name: op for op in workload.ops}


def test_uniform_scheme_sets_formats_by_role_and_kv_apart():
    ops = _by_name(build("llama2-7b", policy=QuantPolicy(default="W4A16 g128", kv_cache="int8")))
    q = ops["layers.0-31.self_attn.q_proj"].formats
    assert (q.weight, q.activation, q.output, q.group_size) == ("int4", "fp16", "fp16", 128)
    score = ops["layers.0-31.self_attn.score"].formats
    assert (score.weight, score.activation, score.group_size) == ("int8", "fp16", None)
    assert ops["layers.0-31.self_attn.kv_write"].formats.output == "int8"
    assert ops["embed_tokens"].formats.weight == "fp16"  # tables stay 16-bit unless named
    assert ops["layers.0-31.mlp.act"].formats.activation == "fp16"


def test_w4a4kv4_quantizes_everything_to_four_bits():
    ops = _by_name(load_workload("llama2-7b:quant=W4A4KV4"))
    assert ops["layers.0-31.self_attn.value"].formats.weight == "int4"
    assert ops["layers.0-31.mlp.down_proj"].formats.activation == "int4"


def test_keep_first_and_last_layers_at_8_bits():
    resnet = _by_name(build("resnet18", policy=QuantPolicy(default="w4a4", keep_first_last="w8a8")))
    assert resnet["conv1"].formats.weight == resnet["fc"].formats.weight == "int8"
    assert resnet["layer1.0-1.conv1"].formats.weight == "int4"
    llama = build("llama2-7b", policy=QuantPolicy(default="w4a16g128", keep_first_last="w8a16"))
    kept = {op.name: op.repeat for op in llama.ops if isinstance(op, Gemm) and op.formats.weight == "int8"}
    # layer 0's q/k/v read the same input; the ranged ops split into layer 0 and layers 1-31
    assert kept == {"layers.0.self_attn.q_proj": 1, "layers.0.self_attn.k_proj": 1,
                    "layers.0.self_attn.v_proj": 1, "lm_head": 1}
    assert _by_name(llama)["layers.1-31.self_attn.q_proj"].repeat == 31


def test_rules_and_per_layer_entries_split_repeats_without_changing_work():
    base = build("llama2-7b")
    policy = QuantPolicy(default="w4a16g128", rules=[{"match": "*.mlp.down_proj", "weight": "int8"}],
                         layers={"layers.3.mlp.down_proj": "fp16", "lm_head": {"scheme": "fp16"}})
    ops = _by_name(apply_policy(base, policy))
    assert [(n, o.repeat, o.formats.weight) for n, o in ops.items() if "down_proj" in n] == [
        ("layers.0-2.mlp.down_proj", 3, "int8"), ("layers.3.mlp.down_proj", 1, "fp16"),
        ("layers.4-31.mlp.down_proj", 28, "int8")]
    assert ops["lm_head"].formats.weight == "fp16" and ops["lm_head"].formats.group_size is None
    assert sum(o.macs * o.repeat for o in ops.values()) == base.macs


def test_per_layer_files_yaml_and_csv(tmp_path):
    yaml_file = tmp_path / "bits.yaml"
    yaml_file.write_text("conv1: 8\nlayer1.1.conv2: int2\nfc: w8a8\n")
    csv_file = tmp_path / "bits.csv"
    csv_file.write_text("layer,bits,activation\nconv1,8,int8\nlayer1.1.conv2,2,\n")
    for path in (yaml_file, csv_file):
        ops = _by_name(load_workload(f"resnet18:quant=w4a8,policy={path}"))
        assert ops["conv1"].formats.weight == "int8"
        assert ops["layer1.0.conv2"].formats.weight == "int4"
        assert ops["layer1.1.conv2"].formats.weight == "int2"
    full = tmp_path / "policy.yaml"
    full.write_text("default: w4a16g128\nkv_cache: int4\nrules:\n  - {match: 'layers.0.*', scheme: w8a16}\n")
    ops = _by_name(apply_policy(build("llama2-7b"), load_policy(full)))
    assert ops["layers.0.mlp.up_proj"].formats.weight == "int8"
    assert ops["layers.1-31.self_attn.score"].formats.weight == "int4"


@pytest.mark.parametrize("text, suffix, match", [
    ("layers.40.mlp.down_proj: 4\n", ".yaml", "layers: 'layers.40.mlp.down_proj' is not a layer of this workload; "
                                              "closest is 'layers.4.mlp.down_proj'"),
    ("rules:\n  - {match: '*.ffn.*', weight: int4}\n", ".yaml", "rules.0.match: '\\*.ffn.\\*' matches no layer"),
    ("default: w4q8\n", ".yaml", "unknown scheme 'w4q8'"),
    ("rules:\n  - {match: '*', weight: int99}\n", ".yaml", "unknown number format 'int99'"),
    ("rules:\n  - {match: '*', colour: red}\n", ".yaml", "rules.0.colour: 'red': unknown field; allowed are activation"),
    ("layer,width\nfc,4\n", ".csv", "needs a 'layer' column and any of .*unknown width"),
    ("layer,bits\nfc,12\n", ".csv", "line 2: bits: 12 bits"),
    ("[1, 2]\n", ".yaml", "a policy is a mapping"),
])
def test_bad_policies_name_file_field_and_closest_layer(tmp_path, text, suffix, match):
    path = tmp_path / f"policy{suffix}"
    path.write_text(text)
    with pytest.raises(SpecError, match=match) as info:
        apply_policy(build("llama2-7b"), load_policy(path), file=path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_weight_memory_hand_calculation_llama2_7b_w4_g128():
    c = zoo_configs()["llama2-7b"]
    counts = c.parameter_breakdown()
    keep_head = QuantPolicy(default="W4A16 g128", layers={"lm_head": "fp16"})
    memory = model_weight_memory("llama2-7b", build("llama2-7b", policy=keep_head))
    body = counts["matmul"] - c.vocab * c.hidden
    assert memory.element_bytes == body * 4 / 8 + c.vocab * c.hidden * 2
    assert memory.scale_bytes == body * 16 / 128 / 8  # one 16-bit scale per 128 weights
    assert memory.table_bytes == c.vocab * c.hidden * 2 and memory.other_bytes == counts["other"] * 2
    # GPTQ 4-bit g128 checkpoints of Llama-2-7B (fp16 embedding and LM head, plus 4-bit zero points
    # and int32 group indexes we do not store) are about 3.9 GB
    assert memory.total_bytes == pytest.approx(3.9e9, rel=0.03)
    fp16 = model_weight_memory("llama2-7b", build("llama2-7b"))
    assert fp16.total_bytes == 2 * c.parameters() and fp16.scale_bytes == 0


def test_weight_memory_block_formats_carry_their_scales():
    memory = weight_memory(load_workload("gemm:M=1,N=64,K=64,w=mxfp4,a=fp16"))
    # MXFP4: 4-bit elements + one 8-bit scale per 32 elements
    assert (memory.element_bytes, memory.scale_bytes) == (64 * 64 * 4 / 8, 64 * 64 * 8 / 32 / 8)


def test_tied_lm_head_stored_once():
    c = zoo_configs()["opt-1.3b"]
    memory = model_weight_memory("opt-1.3b", build("opt-1.3b"))
    assert memory.total_bytes == 2 * c.parameters()


def test_quantized_decode_reads_fewer_dram_bytes_in_simulation():
    design = load_hardware("systolic-fp16-32x32-os")
    spec = "llama2-7b:decode:batch=1,ctx=256,layers=1"
    fp16 = simulate(load_workload(spec), design).total
    w4 = simulate(load_workload(spec + ",quant=w4a16g128,kv=int4"), design).total
    assert w4.read_bytes["dram"] < 0.4 * fp16.read_bytes["dram"]
