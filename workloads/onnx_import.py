"""Import an ONNX graph as a workload: shapes from ONNX shape inference, formats from tensor types.

Symbolic input dims (`dim_param`) need values (`dims={"batch": 1}`); inference then gives
every tensor's shape. Ops (names from node names, `/model/layers.0/q_proj/MatMul` ->
`model.layers.0.q_proj`; geometry and naming in `workloads.importing`):
  MatMul, MatMulInteger, QLinearMatMul  -> Gemm (parameter weights when B is an initializer,
                                           possibly behind DequantizeLinear/Transpose/Reshape)
  Gemm (transA/transB)                  -> Gemm
  MatMulNBits (com.microsoft)           -> Gemm with `bits`-bit weights in groups of `block_size`
  Conv, ConvInteger, QLinearConv        -> Conv2d (2-D; symmetric padding, dilation 1)
  Attention (opset 23; 3-D inputs use q_num_heads/kv_num_heads) -> score, softmax, value
  Softmax, LayerNormalization, RMSNormalization, Gelu, Relu, Clip (ReLU6), Tanh, Sigmoid
  (priced as silu: the same 4 operations), tensor x tensor Add/Mul, Gather of an initializer
  (embedding), MaxPool, AveragePool, GlobalAveragePool, ReduceMean -> Vector ops
Formats: an operand's element type (INT4/UINT4/INT8/UINT8/FLOAT8E4M3FN/FLOAT8E5M2/FLOAT4E2M1/
FLOAT16/BFLOAT16/FLOAT) — looked through DequantizeLinear to the stored type, whose
`block_size` is the group size; then per-node string attributes `quarch_weight_format`,
`quarch_activation_format`, `quarch_output_format` and int `quarch_group_size` override.
Layout ops (Reshape, Transpose, Concat, Q/DQ, ...) are no work; other ops are skipped and
listed; a graph with nothing left is an error.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from workloads.errors import SpecError
from workloads.importing import Traced, attention_ops, matmul_op, name_and_collapse
from workloads.ops import Conv2d, Gemm, OpFormats
from workloads.workload import Workload, WorkloadMetadata
from workloads.zoo.layers import vector

LAYOUT_OPS = frozenset({
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Split", "Shape", "Constant",
    "ConstantOfShape", "Identity", "Cast", "CastLike", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
    "Expand", "Dropout", "Range", "Tile", "Pad", "Where", "Equal", "Less", "Greater", "Not", "And", "Or",
    "Trilu", "ScatterND", "GatherElements", "GatherND", "Size", "NonZero"})
_VECTOR = {"Softmax": "softmax", "LayerNormalization": "layernorm", "RMSNormalization": "rmsnorm",
           "SimplifiedLayerNormalization": "rmsnorm", "Gelu": "gelu", "Relu": "relu", "Clip": "relu", "Tanh": "tanh",
           "Sigmoid": "silu", "Add": "add", "Mul": "mul", "MaxPool": "reduce_max", "AveragePool": "reduce_sum",
           "GlobalAveragePool": "reduce_sum", "ReduceMean": "reduce_sum", "Gather": "gather"}
_FORMAT_ATTRIBUTES = {"quarch_weight_format": "weight", "quarch_activation_format": "activation",
                      "quarch_output_format": "output"}


def import_onnx(path: str | Path, *, dims: dict[str, int] | None = None) -> Traced:
    """Read `path` (protobuf, weights not needed) into a workload; see the module docstring."""
    import onnx
    from onnx import shape_inference

    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # protobuf decode errors carry no useful type
        raise SpecError(f"not a readable ONNX model: {err}", file=path) from None
    _fix_input_dims(model, dims or {}, path)
    try:
        model = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as err:
        raise SpecError(f"ONNX shape inference failed: {str(err).splitlines()[0]}", file=path) from None
    return _Importer(model, path).run()


def _fix_input_dims(model, dims: dict[str, int], path: Path) -> None:
    """Replace symbolic input dims by the given values; unknown ones are an error naming them."""
    initializers = {init.name for init in model.graph.initializer}
    missing = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_value"):
                continue
            key = dim.dim_param
            if key in dims:
                dim.dim_value = int(dims[key])
            else:
                missing.append(f"{value.name}[{index}]" + (f" ({key!r})" if key else ""))
    if missing:
        raise SpecError(f"dynamic input dims without values: {', '.join(missing)}; give them as "
                        f"--dim NAME=VALUE" + (f" (unused: {', '.join(sorted(dims))})" if dims else ""), file=path)


class _Importer:
    def __init__(self, model, path: Path):
        from onnx import helper

        self.helper, self.path = helper, path
        graph = model.graph
        self.initializers = {init.name: init for init in graph.initializer}
        self.types: dict[str, int] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        for value in list(graph.value_info) + list(graph.input) + list(graph.output):
            tensor = value.type.tensor_type
            self.types[value.name] = tensor.elem_type
            if tensor.HasField("shape") and all(d.HasField("dim_value") for d in tensor.shape.dim):
                self.shapes[value.name] = tuple(d.dim_value for d in tensor.shape.dim)
        for init in graph.initializer:
            self.types[init.name], self.shapes[init.name] = init.data_type, tuple(init.dims)
        self.producer = {out: node for node in graph.node for out in node.output}
        self.nodes = list(graph.node)
        self.model_name = graph.name or self.path.stem

    def run(self) -> Traced:
        records, skipped = [], Counter()
        for index, node in enumerate(self.nodes):
            made = self._convert(node)
            if made is None:
                if node.op_type not in LAYOUT_OPS:
                    skipped[node.op_type] += 1
                continue
            owner = _owner(node, index)
            attributes = {a.name: self.helper.get_attribute_value(a) for a in node.attribute}
            records += [(owner, suffix, self._formats(node, op, attributes)) for suffix, op in made]
        if not records:
            raise SpecError("no supported op (MatMul, Gemm, Conv, Attention, ...) in the graph"
                            + (f"; unsupported: {_listing(skipped)}" if skipped else ""), file=self.path)
        workload = Workload(metadata=WorkloadMetadata(model=self.model_name, source=f"onnx {self.path.name}"),
                            ops=name_and_collapse(records))
        return Traced(workload, dict(skipped))

    # -- shapes and sources -------------------------------------------------------------

    def shape(self, name: str, node) -> tuple[int, ...]:
        if name not in self.shapes:
            raise SpecError(f"node {node.name or node.op_type!r}: the shape of {name!r} is unknown after shape "
                            "inference (dynamic shape?): give input dims with --dim NAME=VALUE", file=self.path)
        return self.shapes[name]

    def source(self, name: str) -> tuple[str, object | None]:
        """(stored tensor, DequantizeLinear node or None): follows DQ and layout ops back to an initializer."""
        dequantize = None
        while name not in self.initializers and name in self.producer:
            node = self.producer[name]
            if node.op_type == "DequantizeLinear":
                dequantize = dequantize or node
            elif node.op_type not in ("Transpose", "Reshape", "Cast", "Identity", "Unsqueeze", "Squeeze"):
                break
            name = node.input[0]
        return name, dequantize

    def is_parameter(self, name: str) -> bool:
        return self.source(name)[0] in self.initializers

    # -- conversion -------------------------------------------------------------------------

    def _convert(self, node) -> list | None:
        op_type, inputs = node.op_type, node.input
        if op_type in ("MatMul", "MatMulInteger"):
            return [("matmul", matmul_op(self.shape(inputs[0], node), self.shape(inputs[1], node),
                                         self.is_parameter(inputs[1])))]
        if op_type == "QLinearMatMul":  # a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero
            return [("matmul", matmul_op(self.shape(inputs[0], node), self.shape(inputs[3], node),
                                         self.is_parameter(inputs[3])))]
        if op_type == "Gemm":
            a, b = self.shape(inputs[0], node), self.shape(inputs[1], node)
            attrs = {a_.name: self.helper.get_attribute_value(a_) for a_ in node.attribute}
            m, k = (a[1], a[0]) if attrs.get("transA") else a
            n = b[0] if attrs.get("transB") else b[1]
            return [("gemm", Gemm(name="_", m=m, n=n, k=k,
                                  weight_kind="parameter" if self.is_parameter(inputs[1]) else "activation"))]
        if op_type == "MatMulNBits":
            attrs = {a_.name: self.helper.get_attribute_value(a_) for a_ in node.attribute}
            a = self.shape(inputs[0], node)
            return [("matmul", Gemm(name="_", m=math.prod(a[:-1]), n=attrs["N"], k=attrs["K"]))]
        if op_type in ("Conv", "ConvInteger", "QLinearConv"):
            return [("conv", self._conv(node))]
        if op_type == "Attention":
            return self._attention(node)
        operation = _VECTOR.get(op_type)
        if operation is None:
            return None
        if operation in ("add", "mul"):
            tensors = [i for i in inputs if i and i not in self.initializers and self.shapes.get(i, ()) != ()]
            if len(tensors) < 2:
                return None  # bias or scale by a constant: folded into its neighbour
            return [(op_type.lower(), vector("_", operation, math.prod(self.shape(node.output[0], node)), inputs=2))]
        if operation == "gather":
            if inputs[0] not in self.initializers:
                return None  # index selection, no table
            return [("gather", vector("_", "gather", math.prod(self.shape(node.output[0], node))))]
        elements = math.prod(self.shape(inputs[0], node))
        outputs = math.prod(self.shape(node.output[0], node))
        return [(op_type.lower(), vector("_", operation, elements, outputs=outputs if outputs != elements else None))]

    def _conv(self, node) -> Conv2d:
        inputs = node.input
        x_name, w_name = (inputs[0], inputs[3]) if node.op_type == "QLinearConv" else (inputs[0], inputs[1])
        x, w, y = self.shape(x_name, node), self.shape(w_name, node), self.shape(node.output[0], node)
        where = f"node {node.name or node.op_type!r}"
        if len(x) != 4:
            raise SpecError(f"{where}: only 2-D convolutions are supported, got input shape {x}", file=self.path)
        attrs = {a.name: self.helper.get_attribute_value(a) for a in node.attribute}
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise SpecError(f"{where}: dilation {attrs['dilations']} not supported", file=self.path)
        stride_h, stride_w = attrs.get("strides", [1, 1])
        kernel_h, kernel_w = w[2], w[3]
        pads = attrs.get("pads", [0, 0, 0, 0])
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            pads = [max((y[2] - 1) * stride_h + kernel_h - x[2], 0), max((y[3] - 1) * stride_w + kernel_w - x[3], 0)]
            pads = [pads[0] // 2, pads[1] // 2, pads[0] - pads[0] // 2, pads[1] - pads[1] // 2]
        conv = Conv2d(name="_", batch=x[0], in_channels=x[1], in_h=x[2], in_w=x[3], out_channels=w[0],
                      kernel_h=kernel_h, kernel_w=kernel_w, stride_h=stride_h, stride_w=stride_w,
                      pad_h=max(pads[0], pads[2]), pad_w=max(pads[1], pads[3]), groups=attrs.get("group", 1))
        if (conv.out_h, conv.out_w) != (y[2], y[3]):
            raise SpecError(f"{where}: padding {pads} is not representable (quarch pads symmetrically)",
                            file=self.path)
        return conv

    def _attention(self, node) -> list:
        q, k, v = (self.shape(name, node) for name in node.input[:3])
        attrs = {a.name: self.helper.get_attribute_value(a) for a in node.attribute}
        if len(q) == 4:
            batch, heads, length, dim = q
            kv_heads, span, v_dim = k[1], k[2], v[3]
        else:
            heads, kv_heads = attrs.get("q_num_heads"), attrs.get("kv_num_heads")
            if not heads or not kv_heads:
                raise SpecError(f"node {node.name or 'Attention'!r}: 3-D inputs need q_num_heads and kv_num_heads",
                                file=self.path)
            batch, length, dim, span, v_dim = q[0], q[1], q[2] // heads, k[1], v[2] // kv_heads
        return attention_ops(batch, heads, kv_heads, length, span, dim, v_dim, f"node {node.name or 'Attention'!r}")

    # -- formats ------------------------------------------------------------------------------

    def _formats(self, node, op, attributes: dict):
        weight_input, activation_input = _operands(node)
        activation = self._format_of(activation_input) if activation_input else "fp32"
        output = _format_name(self.types.get(node.output[0])) or activation
        weight, group = activation, None
        if node.op_type == "MatMulNBits":
            weight, group = f"int{attributes.get('bits', 4)}", attributes.get("block_size")
        elif weight_input:
            stored, dequantize = self.source(weight_input)
            weight = _format_name(self.types.get(stored)) or activation
            if dequantize is not None:
                block = {a.name: self.helper.get_attribute_value(a) for a in dequantize.attribute}.get("block_size")
                group = block or None
        fields = {"weight": weight, "activation": activation, "output": output, "group_size": group}
        for attribute, key in _FORMAT_ATTRIBUTES.items():
            if attribute in attributes:
                value = attributes[attribute]
                fields[key] = value.decode() if isinstance(value, bytes) else str(value)
        if "quarch_group_size" in attributes:
            fields["group_size"] = int(attributes["quarch_group_size"]) or None
        if getattr(op, "weight_kind", "parameter") != "parameter" and not isinstance(op, Conv2d):
            fields["group_size"] = None
        try:
            return op.model_copy(update={"formats": OpFormats(**fields)})
        except ValueError as err:
            raise SpecError(f"node {node.name or node.op_type!r}: {str(err).splitlines()[-1].strip()}",
                            file=self.path) from None

    def _format_of(self, name: str) -> str | None:
        """Format of the tensor `name` is stored as: through DequantizeLinear to the quantized tensor."""
        return _format_name(self.types.get(self.source(name)[0]))


def _operands(node) -> tuple[str | None, str | None]:
    """(weight input, activation input) names of a matmul/conv node."""
    op_type, inputs = node.op_type, list(node.input)
    if op_type in ("QLinearMatMul", "QLinearConv"):
        return inputs[3], inputs[0]
    if op_type in ("MatMul", "MatMulInteger", "Gemm", "Conv", "ConvInteger", "MatMulNBits"):
        return (inputs[1] if len(inputs) > 1 else None), inputs[0]
    if op_type == "Attention":
        return inputs[1], inputs[0]
    return None, inputs[0] if inputs else None


def _owner(node, index: int) -> str:
    """Dotted owner path from a node name: `/model/layers.0/q_proj/MatMul` -> `model.layers.0.q_proj`."""
    name = node.name.strip("/").replace("/", ".")
    if not name:
        return f"{node.op_type.lower()}_{index}"
    parts = name.split(".")
    last = parts[-1].split("_")[0]
    if len(parts) > 1 and last.lower() == node.op_type.lower():
        parts = parts[:-1]
    return ".".join(parts)


def _format_name(elem_type: int | None) -> str | None:
    from onnx import TensorProto

    names = {TensorProto.FLOAT: "fp32", TensorProto.FLOAT16: "fp16", TensorProto.BFLOAT16: "bf16",
             TensorProto.INT8: "int8", TensorProto.UINT8: "uint8", TensorProto.INT16: "int16",
             TensorProto.UINT16: "uint16", TensorProto.FLOAT8E4M3FN: "fp8_e4m3", TensorProto.FLOAT8E5M2: "fp8_e5m2"}
    for attribute, name in (("INT4", "int4"), ("UINT4", "uint4"), ("FLOAT4E2M1", "fp4_e2m1")):
        if hasattr(TensorProto, attribute):
            names[getattr(TensorProto, attribute)] = name
    return names.get(elem_type)


def _listing(skipped: Counter | dict) -> str:
    return ", ".join(f"{op} x{count}" for op, count in sorted(skipped.items()))
