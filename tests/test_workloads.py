"""Ops, workloads, trace files, the SCALE-Sim topology importer and inline ops."""
from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings, strategies as st

from workloads.builtin import llama2_7b_decode_layer, resnet18, resnet50
from workloads.errors import SpecError
from workloads.loader import load_workload
from workloads.ops import Conv2d, Gemm, OpFormats, Vector
from workloads.scalesim_topology import load_topology
from workloads.workload import SCHEMA_PATH, Workload, WorkloadMetadata, load_trace, save_trace, trace_json_schema


def test_conv_gemm_view_hand_calculation():
    conv = Conv2d(name="c", in_h=56, in_w=56, in_channels=64, out_channels=128, kernel_h=3, kernel_w=3,
                  stride_h=2, stride_w=2, pad_h=1, pad_w=1)
    view = conv.gemm_view()
    assert (conv.out_h, conv.out_w) == (28, 28)
    assert (view.m, view.n, view.k) == (28 * 28, 128, 3 * 3 * 64)
    assert conv.macs == 28 * 28 * 128 * 576


def test_conv_ceil_mode_matches_scalesim_output_size():
    # SCALE-Sim: E = ceil((H - R + stride) / stride); 30x30, 3x3, stride 2 -> 15 (floor mode gives 14)
    conv = Conv2d(name="c", in_h=30, in_w=30, in_channels=4, out_channels=8, kernel_h=3, kernel_w=3,
                  stride_h=2, stride_w=2, ceil_mode=True)
    assert conv.out_h == 15
    assert conv.model_copy(update={"ceil_mode": False}).out_h == 14


def test_depthwise_groups():
    conv = Conv2d(name="dw", in_h=8, in_w=8, in_channels=16, out_channels=16, kernel_h=3, kernel_w=3, groups=16)
    view = conv.gemm_view()
    assert (view.n, view.k, view.instances) == (1, 9, 16)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        Conv2d(name="x", in_h=8, in_w=8, in_channels=16, out_channels=16, kernel_h=3, kernel_w=3, groups=3)


def test_builtin_workloads_match_published_mac_counts():
    # ResNet-18: 1.8 GFLOPs (multiply-adds) in He et al. 2016, Table 1
    assert resnet18().macs == pytest.approx(1.8e9, rel=0.01)
    # ResNet-50 is the zoo's torchvision v1.5 layout (stride in the 3x3 conv): 4.09 G MACs
    assert resnet50().macs == pytest.approx(4.09e9, rel=0.01)
    # one Llama-2-7B layer decode step: 4*4096^2 + 3*4096*11008 weights + 2*4096*2048 attention MACs
    assert llama2_7b_decode_layer().macs == 4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096 * 2048


def test_formats_are_canonicalized_and_validated():
    assert OpFormats(weight="INT4", activation="FP16").weight == "int4"
    with pytest.raises(ValueError, match="int33"):
        OpFormats(weight="int33")


def test_weight_bytes_include_group_scales():
    # int4 with a 16-bit scale per 128 weights: 4 + 16/128 = 4.125 bits
    assert OpFormats(weight="int4", group_size=128).weight_bytes(1024) == 1024 * 4.125 / 8


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_trace_round_trips_exactly(tmp_path, suffix):
    for workload in (resnet18(), llama2_7b_decode_layer()):
        path = save_trace(workload, tmp_path / f"w{suffix}")
        assert load_trace(path) == workload


_dims = st.integers(min_value=1, max_value=4096)
_formats = st.sampled_from(["int2", "int4", "uint8", "fp8_e4m3", "fp16", "bf16", "mxfp4", "nvfp4", "ternary"])


@settings(max_examples=40, deadline=None)
@given(m=_dims, n=_dims, k=_dims, batch=st.integers(1, 64), repeat=st.integers(1, 100), w=_formats, a=_formats,
       group=st.one_of(st.none(), st.sampled_from([32, 64, 128])))
def test_trace_round_trip_property(tmp_path_factory, m, n, k, batch, repeat, w, a, group):
    op = Gemm(name="g", m=m, n=n, k=k, batch=batch, repeat=repeat,
              formats=OpFormats(weight=w, activation=a, group_size=group))
    workload = Workload(metadata=WorkloadMetadata(model="p", phase="decode", context_len=7), ops=(op,))
    path = save_trace(workload, tmp_path_factory.mktemp("t") / "w.yaml")
    assert load_trace(path) == workload


def test_committed_schema_is_current_and_validates_traces():
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(json.dumps(trace_json_schema(), sort_keys=True))
    jsonschema.validate(resnet18().to_dict(), trace_json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"quarch_trace": 1, "ops": [{"kind": "gemm", "name": "g", "m": 0, "n": 1, "k": 1}]},
                            trace_json_schema())


@pytest.mark.parametrize("text, match", [
    ("ops: [\n  - {kind: gemm\n", "malformed YAML/JSON at line"),
    ("quarch_trace: 2\nops: []\n", "quarch_trace: 2: unsupported trace version"),
    ("[1, 2]\n", "not a quarch trace"),
    ("quarch_trace: 1\nops:\n  - {kind: gemm, name: g, m: 4, n: 4, k: 0}\n", "ops.0.gemm.k: 0: Input should be greater than 0"),
    ("quarch_trace: 1\nops:\n  - {kind: gemm, name: g, m: 4, n: 4, k: 4, colour: red}\n", "ops.0.gemm.colour: 'red': unknown field; allowed are batch, formats, k, kind, m, n, name, repeat, values, weight_kind$"),
    ("quarch_trace: 1\nops:\n  - {kind: gemm, name: g, m: 4, n: 4, k: 4, formats: {weight: int99}}\n", "unknown number format 'int99'"),
    ("quarch_trace: 1\nops:\n  - {kind: matmul, name: g}\n", "ops.0: Input tag 'matmul' found using 'kind' does not match any of the expected tags"),
])
def test_bad_traces_give_one_line_messages(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=match) as info:
        load_trace(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_topology_conv_and_gemm_forms(tmp_path):
    conv = tmp_path / "conv.csv"
    conv.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                    "Conv1,224,224,7,7,3,64,2,\n\nConvDP_1, 16, 16, 3, 3, 8, 1, 1,\n")
    ops = load_topology(conv).ops
    assert (ops[0].out_h, ops[0].gemm_view().k) == (110, 147)  # SCALE-Sim: Conv1 is 110x110
    assert ops[1].groups == 8 and ops[1].gemm_view().instances == 8
    gemm = tmp_path / "gemm.csv"
    gemm.write_text("Layer, M, N, K,\ng1, 256, 128, 64,\ng2, 7, 9, 11\n")
    assert [(op.m, op.n, op.k) for op in load_topology(gemm).ops] == [(256, 128, 64), (7, 9, 11)]


@pytest.mark.parametrize("text, match", [
    ("name, a, b,\nx,1,2,\n", "is not a SCALE-Sim topology header"),
    ("Layer, M, N, K,\ng1, 256, 0, 64,\n", "line 2, N: '0': N must be a positive integer"),
    ("Layer, M, N, K,\ng1, 256, 12.5, 64,\n", "line 2, N: '12.5'"),
    ("Layer, M, N, K,\ng1, 256, 64,\n", "line 2: 3 fields, expected 4"),
    ("Layer, M, N, K,\ng1, 8, 8, 8, 2:4,\n", "only dense layers"),
    ("Layer, M, N, K,\n", "no layers"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
     "c, 4, 4, 7, 7, 3, 8, 1,\n", "line 2: kernel 7x7 is larger than the padded input 4x4"),
])
def test_bad_topologies(tmp_path, text, match):
    path = tmp_path / "topo.csv"
    path.write_text(text)
    with pytest.raises(SpecError, match=match):
        load_topology(path)


def test_inline_ops():
    op = load_workload("gemm:M=64,N=4096,K=4096,w=int4,a=fp16,g=128").ops[0]
    assert (op.m, op.n, op.k, op.formats.weight, op.formats.activation, op.formats.group_size) == \
        (64, 4096, 4096, "int4", "fp16", 128)
    conv = load_workload("conv:H=56,W=56,C=64,K=64,R=3,S=3,stride=1,pad=1,w=int4").ops[0]
    assert (conv.in_w, conv.out_h, conv.formats.weight) == (56, 56, "int4")
    with pytest.raises(SpecError, match="unknown key 'x'"):
        load_workload("gemm:M=1,N=1,K=1,x=3")
    with pytest.raises(SpecError, match="is not a workload"):
        load_workload("resnet19")


def test_vector_op_outputs():
    assert Vector(name="s", operation="reduce_sum", elements=100, outputs=10).output_elements == 10
