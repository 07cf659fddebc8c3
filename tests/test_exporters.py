"""Exporters: SCALE-Sim topology CSV read back by the importer, ZigZag YAML checked against ZigZag's own schema rules."""
from __future__ import annotations

import math
import re

import pytest
import yaml

from workloads.exporters import export_scalesim, export_zigzag
from workloads.loader import load_workload
from workloads.ops import Vector
from workloads.scalesim_topology import load_topology

# From ZigZag's parser/workload_validator.py (KULeuven-MICAS/zigzag): what its workload files must match
ZIGZAG_EQUATION = re.compile(r"^O(\[\w+\])+\+?=\w(\[\w+\])+[*+]\w(\[(?:\w+)?\])+$")
ZIGZAG_RELATION = re.compile(r"^(\w+)\s*=\s*(?:(\w+)\s*\*\s*)?(\w+)\s*\+\s*(?:(\w+)\s*\*\s*)?(\w+)$")
ZIGZAG_OPERATORS = {"Max", "Conv", "Pooling", "Add", "Conv_downsample", "Gemm", "Pool", "MaxPool", "AveragePool",
                    "GlobalAveragePool", "SConv"}


def _views(ops):
    return [(v.m, v.n, v.k) for op in ops if not isinstance(op, Vector) for v in [op.gemm_view()]]


@pytest.mark.parametrize("spec, header", [("resnet18", "Layer name"), ("mobilenetv2", "Layer name"),
                                          ("llama2-7b:decode:batch=1,ctx=128", "Layer, M, N, K")])
def test_scalesim_export_reads_back_with_the_same_gemms(tmp_path, spec, header):
    workload = load_workload(spec)
    path = tmp_path / "topology.csv"
    skipped = export_scalesim(workload, path)
    assert path.read_text().startswith(header)
    assert skipped == [op.name for op in workload.ops if isinstance(op, Vector)]
    back = load_topology(path)
    array_ops = [op for op in workload.ops if not isinstance(op, Vector)]
    assert _views(back.ops) == _views(array_ops)
    # one row is one instance: batched attention GEMMs and conv groups become instances again only by expansion
    per_row = sum(op.macs // op.gemm_view().instances for op in array_ops)
    assert back.macs == (per_row if header.startswith("Layer,") else sum(op.macs for op in array_ops))


def test_scalesim_expanded_rows_carry_every_instance_and_repeat(tmp_path):
    workload = load_workload("llama3-8b:decode:batch=2,ctx=64,layers=2")
    path = tmp_path / "topology.csv"
    export_scalesim(workload, path, expand_repeats=True)
    assert load_topology(path).macs == workload.macs


def test_depthwise_rows_are_marked_for_scalesim(tmp_path):
    path = tmp_path / "topology.csv"
    export_scalesim(load_workload("mobilenetv2"), path)
    depthwise = [op for op in load_topology(path).ops if op.groups > 1]
    assert depthwise and all(op.name.startswith("DP_") and op.groups == op.in_channels for op in depthwise)


@pytest.mark.parametrize("spec", ["resnet50", "llama2-7b:prefill:batch=1,seq=64,quant=w4a8", "mobilenetv2"])
def test_zigzag_export_follows_zigzag_schema_and_keeps_macs(tmp_path, spec):
    workload = load_workload(spec)
    path = tmp_path / "workload.yaml"
    skipped = export_zigzag(workload, path)
    layers = yaml.safe_load(path.read_text())
    assert [layer["id"] for layer in layers] == list(range(len(layers)))
    for layer in layers:
        assert layer["operator_type"] in ZIGZAG_OPERATORS and ZIGZAG_EQUATION.match(layer["equation"])
        assert all(ZIGZAG_RELATION.match(r) for r in layer["dimension_relations"])
        assert len(layer["loop_dims"]) == len(layer["loop_sizes"])
        assert {"W", "I", "O", "O_final"} <= set(layer["operand_precision"])
    by_name = {op.name: op for op in workload.ops}
    macs = sum(math.prod(layer["loop_sizes"]) * by_name[layer["name"]].repeat
               for layer in layers if layer["operator_type"] != "Add")
    assert macs == workload.macs
    assert set(skipped) == {op.name for op in workload.ops if isinstance(op, Vector)
                            and not (op.operation == "add" and op.inputs == 2)}


def test_zigzag_precisions_follow_formats(tmp_path):
    path = tmp_path / "w.yaml"
    export_zigzag(load_workload("llama2-7b:decode:quant=w4a8,kv=int2,layers=1"), path)
    layers = {layer["name"]: layer for layer in yaml.safe_load(path.read_text())}
    assert layers["layers.0.self_attn.q_proj"]["operand_precision"] == {"W": 4, "I": 8, "O": 32, "O_final": 8}
    score = layers["layers.0.self_attn.score"]
    assert score["operand_precision"]["W"] == 2 and score["loop_dims"] == ["G", "B", "C", "K"]
