"""Export a workload to peer tools' inputs: SCALE-Sim topology CSV and ZigZag layer YAML.

SCALE-Sim (v2/v3 topology files, read back by `workloads.scalesim_topology`):
  - conv form when every array op is a Conv2d of batch 1 with equal strides and groups 1 or
    depthwise (groups = in_channels; the row name gets SCALE-Sim's `DP` mark) or a GEMM of
    batch 1 (an M x 1 input of K channels, N 1x1 filters): IFMAP = (out - 1) * stride +
    kernel, the rows a padded input actually feeds, so SCALE-Sim's
    E = ceil((IFMAP - R + stride) / stride) equals quarch's output size;
  - GEMM form otherwise: `Layer, M, N, K,` from each op's GEMM view (im2col for convs).
  SCALE-Sim has neither batch/group instances nor repeats: a row is one GEMM instance of one
  layer; `expand_repeats` writes every instance and repeat as its own row (`name#i`).
ZigZag (its workload YAML: a list of layers with `equation`, `loop_dims`, `loop_sizes`,
`operand_precision`, as KULeuven-MICAS/zigzag validates them):
  - Gemm: O[b][k]+=I[b][c]*W[c][k] (B=M, C=K, K=N), with a G dim for batch instances;
  - Conv2d: O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix], stride relations,
    padding on IX/IY (the form of ZigZag's own ONNX conv parser);
  - two-input `add`: Add over G = elements;
  operand_precision: element bits of W and I (ZigZag has no quantization scales), O_final =
  output bits, O = 32-bit partial sums. Vector ops other than adds have no ZigZag operator
  and, like every vector op for SCALE-Sim, are skipped; both exporters return their names.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from workloads.formats import parse_format
from workloads.ops import Conv2d, Gemm, Vector
from workloads.workload import Workload

PARTIAL_SUM_BITS = 32


def _copies(op, expand: bool, instances: int = 1) -> list[str]:
    count = op.repeat * instances if expand else 1
    return [op.name] if count == 1 else [f"{op.name}#{i}" for i in range(count)]


def _conv_form_fits(op) -> bool:
    if isinstance(op, Gemm):
        return op.batch == 1
    return op.batch == 1 and op.stride_h == op.stride_w and op.groups in (1, op.in_channels)


def _conv_row(op) -> tuple[int, int, int, int, int, int, int]:
    """(IFMAP H, IFMAP W, R, S, channels, filters, stride) of a conv-form op."""
    if isinstance(op, Gemm):
        return op.m, 1, 1, 1, op.k, op.n, 1
    filters = op.out_channels // op.in_channels if op.groups > 1 else op.out_channels
    return ((op.out_h - 1) * op.stride_h + op.kernel_h, (op.out_w - 1) * op.stride_w + op.kernel_w,
            op.kernel_h, op.kernel_w, op.in_channels, filters, op.stride_h)


def export_scalesim(workload: Workload, path: str | Path, *, expand_repeats: bool = False) -> list[str]:
    """Write `workload` as a SCALE-Sim topology CSV; returns the names of skipped (vector) ops."""
    array_ops = [op for op in workload.ops if not isinstance(op, Vector)]
    skipped = [op.name for op in workload.ops if isinstance(op, Vector)]
    if array_ops and all(_conv_form_fits(op) for op in array_ops):
        lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"]
        for op in array_ops:
            depthwise = isinstance(op, Conv2d) and op.groups > 1
            row = ", ".join(str(value) for value in _conv_row(op))
            for name in _copies(op, expand_repeats):
                name = f"DP_{name}" if depthwise and "DP" not in name else name
                lines.append(f"{_csv_name(name)}, {row},")
    else:
        lines = ["Layer, M, N, K,"]
        for op in array_ops:
            view = op.gemm_view()
            for name in _copies(op, expand_repeats, view.instances):
                lines.append(f"{_csv_name(name)}, {view.m}, {view.n}, {view.k},")
    Path(path).write_text("\n".join(lines) + "\n")
    return skipped


def _csv_name(name: str) -> str:
    return name.replace(",", ";").replace(" ", "_")


def export_zigzag(workload: Workload, path: str | Path, *, expand_repeats: bool = False) -> list[str]:
    """Write `workload` as a ZigZag workload YAML; returns the names of skipped ops."""
    layers, skipped = [], []
    for op in workload.ops:
        body = _zigzag_layer(op)
        if body is None:
            skipped.append(op.name)
            continue
        for name in _copies(op, expand_repeats):
            layers.append({"id": len(layers), "name": name, **body})
    Path(path).write_text(yaml.safe_dump(layers, sort_keys=False, default_flow_style=None))
    return skipped


def _bits(name: str) -> int:
    return parse_format(name).bits


def _zigzag_layer(op) -> dict | None:
    f = op.formats
    precision = {"W": _bits(f.weight), "I": _bits(f.activation), "O": PARTIAL_SUM_BITS, "O_final": _bits(f.output)}
    if isinstance(op, Gemm):
        if op.batch == 1:
            return {"operator_type": "Gemm", "equation": "O[b][k]+=I[b][c]*W[c][k]", "dimension_relations": [],
                    "loop_dims": ["B", "C", "K"], "loop_sizes": [op.m, op.k, op.n], "operand_precision": precision}
        return {"operator_type": "Gemm", "equation": "O[g][b][k]+=I[g][b][c]*W[g][c][k]", "dimension_relations": [],
                "loop_dims": ["G", "B", "C", "K"], "loop_sizes": [op.batch, op.m, op.k, op.n],
                "operand_precision": precision}
    if isinstance(op, Conv2d):
        return {"operator_type": "Conv", "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
                "dimension_relations": [f"ix={op.stride_w}*ox+1*fx", f"iy={op.stride_h}*oy+1*fy"],
                "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
                "loop_sizes": [op.batch, op.out_channels // op.groups, op.groups, op.out_w, op.out_h,
                               op.in_channels // op.groups, op.kernel_w, op.kernel_h],
                "operand_precision": precision, "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [op.in_w, op.in_h],
                "padding": [[op.pad_w, op.pad_w], [op.pad_h, op.pad_h]]}
    if op.operation == "add" and op.inputs == 2:
        return {"operator_type": "Add", "equation": "O[g]=W[g]+I[g]", "dimension_relations": [],
                "loop_dims": ["G"], "loop_sizes": [op.elements],
                "operand_precision": {"W": _bits(f.activation), "I": _bits(f.activation), "O": _bits(f.output),
                                      "O_final": _bits(f.output)}}
    return None
