"""Trace a PyTorch nn.Module into a workload: torch.export (non-strict) under FakeTensorMode.

The module is built and run on fake tensors, so no real weights are allocated and nothing is
computed: only shapes flow. Every ATen op of the exported graph that does arithmetic becomes
an op, named after the module that owns it (`layers.3.self_attn.q_proj`; see
`workloads.importing` for names, matmul and attention geometry), so per-layer policies
attach by name, and identical layers collapse into repeats:
  linear x[..., K] @ W[N, K]        -> Gemm M = prod(x[:-1]), parameter weights
  matmul/mm/bmm/addmm/baddbmm       -> Gemm over broadcast batch dims (a 2-D right operand
                                       folds the batch into M); parameter weights when the
                                       right operand is a parameter/buffer, else activation
  conv2d                            -> Conv2d (stride, padding, groups; dilation 1 only)
  scaled_dot_product_attention      -> score Gemm, softmax, value Gemm (GQA heads stacked on M
                                       per KV head, as the zoo does), activation weights
  softmax, layer_norm, rms_norm, gelu, silu, relu/relu6, tanh, tensor add/mul, embedding,
  max/avg pools, mean                -> Vector ops over the input's elements
Layout-only ops (view, transpose, cat, ...) are no work; any other op is reported as skipped.
Torch is imported only here (the `trace` extra), never by the rest of quarch.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections import Counter
from pathlib import Path

from workloads.errors import SpecError
from workloads.importing import Traced, attention_ops, matmul_op, name_and_collapse
from workloads.ops import Conv2d, Gemm
from workloads.quant import QuantPolicy, apply_policy
from workloads.workload import Workload, WorkloadMetadata
from workloads.zoo.layers import vector

LAYOUT_OPS = frozenset({
    "view", "reshape", "_unsafe_view", "transpose", "permute", "expand", "contiguous", "unsqueeze", "squeeze",
    "flatten", "cat", "stack", "slice", "select", "clone", "t", "split", "split_with_sizes", "chunk", "to",
    "_to_copy", "detach", "dropout", "alias", "lift_fresh_copy", "sym_size", "arange", "zeros", "ones", "full",
    "zeros_like", "ones_like", "full_like", "empty", "new_zeros", "new_ones", "type_as", "unbind", "repeat",
    "repeat_interleave", "index", "gather", "masked_fill", "where", "triu", "tril", "scalar_tensor", "item",
    "_assert_tensor_metadata", "copy_", "fill_", "le", "lt", "ge", "gt", "eq", "ne", "logical_not", "bitwise_not",
    "pad", "constant_pad_nd", "narrow", "view_as", "reshape_as", "size", "dim", "numel", "_local_scalar_dense",
    "linspace", "expand_as", "unflatten", "movedim", "einsum_layout"})
_VECTOR = {"softmax": "softmax", "_softmax": "softmax", "layer_norm": "layernorm", "native_layer_norm": "layernorm",
           "rms_norm": "rmsnorm", "gelu": "gelu", "silu": "silu", "relu": "relu", "relu_": "relu",
           "hardtanh": "relu", "relu6": "relu", "tanh": "tanh", "embedding": "gather", "max_pool2d": "reduce_max",
           "max_pool2d_with_indices": "reduce_max", "avg_pool2d": "reduce_sum", "adaptive_avg_pool2d": "reduce_sum",
           "mean": "reduce_sum", "sum": "reduce_sum", "add": "add", "add_": "add", "mul": "mul", "mul_": "mul"}


def trace_module(factory, *, name: str = "", policy: QuantPolicy | None = None) -> Traced:
    """Trace the (module, example_inputs) that `factory()` returns, both built under FakeTensorMode.

    `example_inputs` is a tensor or a tuple of tensors (created inside the factory, so fake).
    """
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode(allow_non_fake_inputs=True):
        made = factory()
        if not (isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], torch.nn.Module)):
            raise SpecError(f"the factory returned {type(made).__name__}: it must return (nn.Module, example_inputs)",
                            field="MODEL")
        module, inputs = made
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        try:
            program = torch.export.export(module.eval(), inputs, strict=False)
        except Exception as err:  # export failures are user-model problems: report them in one line
            raise SpecError(f"torch.export failed: {type(err).__name__}: {str(err).splitlines()[0]}",
                            field="MODEL") from None
    constants = set(program.graph_signature.inputs_to_parameters) | set(program.graph_signature.inputs_to_buffers)
    records, skipped = [], Counter()
    for node in program.graph.nodes:
        if node.op != "call_function" or not str(node.target).startswith("aten."):
            continue
        opname = str(node.target).split(".")[1]
        made_ops = _convert(opname, node, constants)
        if made_ops is None:
            if opname not in LAYOUT_OPS:
                skipped[opname] += 1
            continue
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.values())[-1][0] if stack else ""
        records += [(owner, suffix, op) for suffix, op in made_ops]
    if not records:
        raise SpecError("no matmul, conv, attention or vector op found in the traced module"
                        + (f" (skipped: {', '.join(sorted(skipped))})" if skipped else ""), field="MODEL")
    ops = name_and_collapse(records)
    workload = Workload(metadata=WorkloadMetadata(model=name or type(module).__name__, batch=_batch(inputs),
                                                  source="torch.export trace"), ops=ops)
    return Traced(apply_policy(workload, policy or QuantPolicy()), dict(skipped))


def _batch(inputs: tuple) -> int:
    shape = tuple(getattr(inputs[0], "shape", ())) if inputs else ()
    return shape[0] if shape and isinstance(shape[0], int) else 1


def _shape(value, node) -> tuple[int, ...]:
    shape = tuple(getattr(value, "shape", ()))
    if not all(isinstance(d, int) for d in shape):  # torch.SymInt: a size only known at run time
        raise SpecError(f"{node.name}: dynamic shape {shape}: give example inputs with concrete sizes", field="MODEL")
    return shape


def _val(arg, node):
    return _shape(arg.meta["val"], node) if hasattr(arg, "meta") else None


def _convert(opname: str, node, constants: set) -> list | None:
    """[(suffix, op)] for one ATen node, or None when it is not work quarch records."""
    args = node.args
    if opname == "linear":
        x, w = _val(args[0], node), _val(args[1], node)
        return [("linear", Gemm(name="_", m=math.prod(x[:-1]), n=w[0], k=w[1]))]
    if opname in ("matmul", "mm", "bmm", "addmm", "baddbmm"):
        left, right = (args[1], args[2]) if opname in ("addmm", "baddbmm") else (args[0], args[1])
        parameter = getattr(right, "name", None) in constants
        return [(opname, matmul_op(_val(left, node), _val(right, node), parameter))]
    if opname in ("conv2d", "convolution", "_convolution"):
        return [("conv", _conv(node))]
    if opname == "scaled_dot_product_attention":
        q, k, v = (_val(a, node) for a in args[:3])
        return attention_ops(math.prod(q[:-3]), q[-3], k[-3], q[-2], k[-2], q[-1], v[-1], node.name)
    operation = _VECTOR.get(opname)
    if operation is None:
        return None
    tensors = [a for a in args if hasattr(a, "meta") and hasattr(a.meta.get("val"), "shape")]
    if operation in ("add", "mul") and len(tensors) < 2:
        return None  # tensor-scalar arithmetic: folded into its neighbour
    if operation == "gather":
        out = _shape(node.meta["val"], node)
        return [(opname, vector("_", "gather", math.prod(out)))]
    source = _val(tensors[0], node)
    out = node.meta["val"]
    out = out[0] if isinstance(out, (tuple, list)) else out
    outputs = math.prod(_shape(out, node))
    elements = math.prod(source)
    return [(opname, vector("_", operation, elements, inputs=len(tensors) if operation in ("add", "mul") else 1,
                            outputs=outputs if outputs != elements else None))]


def _pair(value, default: int) -> tuple[int, int]:
    if value is None:
        return default, default
    if isinstance(value, int):
        return value, value
    values = list(value)
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def _conv(node) -> Conv2d:
    args = list(node.args) + [None] * 9
    x, w = _val(args[0], node), _val(args[1], node)
    if len(x) != 4:
        raise SpecError(f"{node.name}: only 2-D convolutions are supported, got input shape {x}", field="MODEL")
    stride, padding, dilation = args[3], args[4], args[5]
    groups = args[8] if str(node.target).split(".")[1] != "conv2d" else args[6]
    if str(node.target).split(".")[1] != "conv2d" and args[6]:
        raise SpecError(f"{node.name}: transposed convolutions are not supported", field="MODEL")
    if isinstance(padding, str):  # conv2d.padding overload: 'valid' or 'same' (stride 1)
        padding = [0, 0] if padding == "valid" else [(w[2] - 1) // 2, (w[3] - 1) // 2]
    if _pair(dilation, 1) != (1, 1):
        raise SpecError(f"{node.name}: dilated convolutions (dilation {dilation}) are not supported", field="MODEL")
    (stride_h, stride_w), (pad_h, pad_w) = _pair(stride, 1), _pair(padding, 0)
    return Conv2d(name="_", batch=x[0], in_channels=x[1], in_h=x[2], in_w=x[3], out_channels=w[0],
                  kernel_h=w[2], kernel_w=w[3], stride_h=stride_h, stride_w=stride_w, pad_h=pad_h, pad_w=pad_w,
                  groups=groups or 1)


def load_factory(spec: str):
    """The callable named by `package.module:factory` or `path/to/file.py:factory`."""
    target, sep, attribute = spec.rpartition(":")
    if not sep or not target or not attribute:
        raise SpecError(f"{spec!r}: name a factory as module:function or file.py:function", field="MODEL")
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise SpecError(f"{target!r}: no such file", field="MODEL")
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[path.stem] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except ImportError as err:
        raise SpecError(f"{target!r}: cannot import: {err}", field="MODEL") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise SpecError(f"{attribute!r} is not a callable in {target!r}", field="MODEL")
    return factory
