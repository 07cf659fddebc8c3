"""ONNX importer on graphs built here with onnx.helper: shapes by inference, quantized types,
per-node precision attributes, attention, dynamic dims and unsupported ops."""
from __future__ import annotations

import numpy as np
import pytest

from workloads.errors import SpecError
from workloads.ops import Gemm
from workloads.workload import load_trace, save_trace

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from workloads.onnx_import import import_onnx  # noqa: E402

OPSET = [helper.make_opsetid("", 23)]


def _save(tmp_path, nodes, inputs, outputs, initializers=(), name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=OPSET)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def _tensor(name, dims, data_type=TensorProto.FLOAT):
    return helper.make_tensor(name, data_type, dims, np.zeros(int(np.prod(dims))).tolist())


def _ops(traced):
    return {op.name: op for op in traced.workload.ops}


def test_mlp_with_int4_block_dequantized_weights_and_fp8_gemm(tmp_path):
    nodes = [
        helper.make_node("DequantizeLinear", ["w1_q", "w1_scale"], ["w1"], axis=0, block_size=32, name="/fc1/dq"),
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="/fc1/MatMul"),
        helper.make_node("Relu", ["h"], ["r"], name="/act/Relu"),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_scale"], ["w2"], name="/fc2/dq"),
        helper.make_node("Gemm", ["r", "w2"], ["y"], transB=1, name="/fc2/Gemm"),
        helper.make_node("Softmax", ["y"], ["p"], axis=-1, name="/softmax/Softmax"),
    ]
    inits = [_tensor("w1_q", [64, 96], TensorProto.INT4), _tensor("w1_scale", [2, 96], TensorProto.FLOAT16),
             _tensor("w2_q", [10, 96], TensorProto.FLOAT8E4M3FN), _tensor("w2_scale", [], TensorProto.FLOAT16)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [8, 64])],
                 [helper.make_tensor_value_info("p", TensorProto.FLOAT16, None)], inits)
    traced = import_onnx(path)
    ops = _ops(traced)
    fc1, fc2 = ops["fc1"], ops["fc2"]
    assert (fc1.m, fc1.n, fc1.k, fc1.weight_kind) == (8, 96, 64, "parameter")
    assert (fc1.formats.weight, fc1.formats.group_size, fc1.formats.activation) == ("int4", 32, "fp16")
    assert (fc2.m, fc2.n, fc2.k, fc2.formats.weight) == (8, 10, 96, "fp8_e4m3")
    assert ops["act"].operation == "relu" and ops["softmax"].elements == 80
    assert traced.skipped == {}


def test_conv_qlinear_depthwise_and_padding(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1], name="/stem/Conv"),
        helper.make_node("Conv", ["c1", "dw"], ["c2"], group=16, pads=[1, 1, 1, 1], name="/dw/Conv"),
        helper.make_node("QuantizeLinear", ["c2", "s", "zp"], ["q"], name="/q"),
        helper.make_node("QLinearConv", ["q", "s", "zp", "pw", "s", "zp", "s", "zp"], ["c3"], name="/pw/QLinearConv"),
        helper.make_node("GlobalAveragePool", ["c3"], ["g"], name="/pool/GlobalAveragePool"),
    ]
    inits = [_tensor("w", [16, 3, 3, 3]), _tensor("dw", [16, 1, 3, 3]), _tensor("s", []),
             helper.make_tensor("zp", TensorProto.INT8, [], [0]), _tensor("pw", [32, 16, 1, 1], TensorProto.INT8)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                 [helper.make_tensor_value_info("g", TensorProto.INT8, None)], inits)
    ops = _ops(import_onnx(path))
    stem, dw, pw = ops["stem"], ops["dw"], ops["pw"]
    assert (stem.out_h, stem.macs) == (16, 16 * 16 * 16 * 27)
    assert (dw.groups, dw.gemm_view().instances, dw.macs) == (16, 16, 16 * 16 * 16 * 9)
    assert (pw.formats.weight, pw.formats.activation, pw.macs) == ("int8", "int8", 16 * 16 * 32 * 16)
    assert ops["pool"].operation == "reduce_sum" and ops["pool"].outputs == 32


def _attention_layer(prefix):
    """Decomposed attention of one layer: Q, K, V projections, QK^T, softmax, PV, output projection."""
    def mm(a, b, out, name):
        return helper.make_node("MatMul", [a, b], [out], name=f"/{prefix}/{name}/MatMul")
    return [
        mm("x", "wq", f"{prefix}_q", "q_proj"), mm("x", "wk", f"{prefix}_k", "k_proj"),
        mm("x", "wv", f"{prefix}_v", "v_proj"),
        helper.make_node("Reshape", [f"{prefix}_q", "heads_shape"], [f"{prefix}_qh"], name=f"/{prefix}/rq"),
        helper.make_node("Reshape", [f"{prefix}_k", "heads_shape"], [f"{prefix}_kh"], name=f"/{prefix}/rk"),
        helper.make_node("Reshape", [f"{prefix}_v", "heads_shape"], [f"{prefix}_vh"], name=f"/{prefix}/rv"),
        helper.make_node("Transpose", [f"{prefix}_qh"], [f"{prefix}_qt"], perm=[0, 2, 1, 3], name=f"/{prefix}/tq"),
        helper.make_node("Transpose", [f"{prefix}_kh"], [f"{prefix}_kt"], perm=[0, 2, 3, 1], name=f"/{prefix}/tk"),
        helper.make_node("Transpose", [f"{prefix}_vh"], [f"{prefix}_vt"], perm=[0, 2, 1, 3], name=f"/{prefix}/tv"),
        mm(f"{prefix}_qt", f"{prefix}_kt", f"{prefix}_s", "score"),
        helper.make_node("Softmax", [f"{prefix}_s"], [f"{prefix}_p"], axis=-1, name=f"/{prefix}/softmax/Softmax"),
        mm(f"{prefix}_p", f"{prefix}_vt", f"{prefix}_o", "value"),
    ]


def test_decomposed_attention_with_dynamic_dims(tmp_path):
    hidden, heads = 64, 4
    nodes = _attention_layer("layers.0") + [
        helper.make_node("Add", ["layers.0_o", "layers.0_o"], ["out"], name="/layers.0/residual/Add")]
    inits = [_tensor(n, [hidden, hidden]) for n in ("wq", "wk", "wv")]
    inits.append(helper.make_tensor("heads_shape", TensorProto.INT64, [4], [0, 0, heads, hidden // heads]))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", hidden])
    path = _save(tmp_path, nodes, [x], [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)], inits)
    with pytest.raises(SpecError, match="dynamic input dims without values: x\\[0\\] \\('batch'\\), x\\[1\\] \\('seq'\\)"):
        import_onnx(path)
    ops = _ops(import_onnx(path, dims={"batch": 2, "seq": 10}))
    q, score, value = ops["layers.0.q_proj"], ops["layers.0.score"], ops["layers.0.value"]
    assert (q.m, q.n, q.k, q.weight_kind) == (20, 64, 64, "parameter")
    assert (score.m, score.n, score.k, score.batch, score.weight_kind) == (10, 10, 16, 8, "activation")
    assert (value.m, value.n, value.k, value.batch) == (10, 16, 10, 8)
    assert ops["layers.0.softmax"].elements == 2 * heads * 10 * 10


def test_attention_op_with_gqa_and_repeated_layers(tmp_path):
    nodes = [helper.make_node("Attention", ["q", "k", "v"], [f"o{i}"], q_num_heads=8, kv_num_heads=2,
                              name=f"/layers.{i}/attn/Attention") for i in range(3)]
    inputs = [helper.make_tensor_value_info("q", TensorProto.FLOAT16, [1, 5, 8 * 16]),
              helper.make_tensor_value_info("k", TensorProto.FLOAT16, [1, 7, 2 * 16]),
              helper.make_tensor_value_info("v", TensorProto.FLOAT16, [1, 7, 2 * 16])]
    path = _save(tmp_path, nodes, inputs, [helper.make_tensor_value_info(f"o{i}", TensorProto.FLOAT16, None)
                                           for i in range(3)])
    ops = _ops(import_onnx(path))
    score = ops["layers.0-2.attn.score"]
    assert (score.m, score.n, score.k, score.batch, score.repeat) == (4 * 5, 7, 16, 2, 3)
    assert ops["layers.0-2.attn.value"].formats.activation == "fp16"


def test_per_node_precision_attributes_and_trace_round_trip(tmp_path):
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="/proj/MatMul")
    node.attribute.extend([helper.make_attribute("quarch_weight_format", "nvfp4"),
                           helper.make_attribute("quarch_activation_format", "fp8_e4m3"),
                           helper.make_attribute("quarch_group_size", 0)])
    path = _save(tmp_path, [node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [_tensor("w", [32, 16])])
    workload = import_onnx(path).workload
    f = workload.ops[0].formats
    assert (f.weight, f.activation, f.output, f.group_size) == ("nvfp4", "fp8_e4m3", "fp32", None)
    assert load_trace(save_trace(workload, tmp_path / "t.yaml")) == workload


def test_unsupported_ops_are_listed_or_fatal(tmp_path):
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="/fc/MatMul"),
             helper.make_node("TopK", ["y", "kk"], ["values", "indices"], name="/topk/TopK"),
             helper.make_node("Erf", ["y"], ["e"], name="/erf/Erf")]
    inits = [_tensor("w", [8, 8]), helper.make_tensor("kk", TensorProto.INT64, [1], [2])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                 [helper.make_tensor_value_info("values", TensorProto.FLOAT, None),
                  helper.make_tensor_value_info("e", TensorProto.FLOAT, None)], inits)
    traced = import_onnx(path)
    assert traced.skipped == {"TopK": 1, "Erf": 1} and isinstance(traced.workload.ops[0], Gemm)
    only = _save(tmp_path, nodes[1:], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
                 [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)], inits[1:], name="only")
    with pytest.raises(SpecError, match="no supported op .* unsupported: Erf x1, TopK x1"):
        import_onnx(only)


def test_bad_files(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a model")
    with pytest.raises(SpecError, match="junk.onnx: not a readable ONNX model"):
        import_onnx(junk)
    dilated = _save(tmp_path, [helper.make_node("Conv", ["x", "w"], ["y"], dilations=[2, 2], name="/c/Conv")],
                    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [_tensor("w", [4, 3, 3, 3])],
                    name="dilated")
    with pytest.raises(SpecError, match="dilation \\[2, 2\\] not supported"):
        import_onnx(dilated)

