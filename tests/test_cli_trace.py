"""`quarch trace`, `quarch export`, `quarch zoo` and zoo names in `quarch simulate`, run as a user would."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workloads.loader import load_workload
from workloads.workload import load_trace


def quarch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=300)


def _one_line_error(run, text):
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert text in run.stderr and run.stderr.strip().count("\n") == 0, run.stderr


def test_core_never_imports_torch_or_onnx():
    code = ("import sys, quarch.cli, workloads.zoo, workloads.quant, workloads.exporters, workloads.importing; "
            "from workloads.loader import load_workload; load_workload('llama2-7b:quant=w4a16g128'); "
            "print(sorted(m for m in ('torch', 'onnx') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


def test_trace_a_zoo_name_with_a_policy_loads_back_identically(tmp_path):
    out = tmp_path / "llama.yaml"
    run = quarch("trace", "llama2-7b:decode:batch=2,ctx=128", "-o", str(out), "--quant", "W4A16 g128", "--kv", "int4")
    assert run.returncode == 0, run.stderr
    assert load_trace(out) == load_workload("llama2-7b:decode:batch=2,ctx=128,quant=w4a16g128,kv=int4")
    assert "21 ops" in run.stdout


def test_simulate_takes_zoo_names_and_reports_bad_ones():
    run = quarch("simulate", "--hw", "systolic-fp16-32x32-os", "--workload",
                 "llama2-7b:decode:batch=1,ctx=128,layers=1,quant=w4a16g128", "--format", "json")
    assert run.returncode == 0, run.stderr
    names = [op["name"] for op in json.loads(run.stdout)["ops"]]
    assert "layers.0.self_attn.score" in names and "lm_head" in names
    _one_line_error(quarch("simulate", "--hw", "systolic-fp16-32x32-os", "--workload", "lama2-7b:decode"),
                    "did you mean 'llama2-7b'?")


def test_export_then_simulate_the_scalesim_topology(tmp_path):
    topology = tmp_path / "resnet50.csv"
    run = quarch("export", "resnet50", "--to", "scalesim", "-o", str(topology))
    assert run.returncode == 0 and "left out" in run.stderr
    run = quarch("simulate", "--hw", "systolic-int8-32x32-os", "--workload", str(topology), "--format", "json")
    assert run.returncode == 0, run.stderr
    _one_line_error(quarch("export", "resnet50", "--to", "timeloop", "-o", str(topology)),
                    "'timeloop' not allowed: allowed are scalesim, zigzag")


def test_zoo_listing():
    run = quarch("zoo", "--quant", "w4a16g128")
    assert run.returncode == 0 and "llama2-70b" in run.stdout and "mobilenetv2" in run.stdout
    _one_line_error(quarch("zoo", "--quant", "w9z"), "unknown scheme 'w9z'")


def test_trace_bad_models(tmp_path):
    _one_line_error(quarch("trace", "llama-7b", "-o", str(tmp_path / "t.yaml")), "did you mean 'llama2-7b'?")
    _one_line_error(quarch("trace", "resnet18", "-o", str(tmp_path / "t.txt")), "suffix '.txt' not allowed")
    policy = tmp_path / "p.csv"
    policy.write_text("layer,bits\nlayer9.conv,4\n")
    _one_line_error(quarch("trace", "resnet18", "-o", str(tmp_path / "t.yaml"), "--policy", str(policy)),
                    "'layer9.conv' is not a layer of this workload")


def test_trace_onnx_file(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from workloads.onnx_import import import_onnx
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="/fc/MatMul"),
             helper.make_node("TopK", ["y", "k"], ["v", "i"], name="/topk/TopK")]
    inits = [helper.make_tensor("w", TensorProto.INT8, [16, 8], [0] * 128),
             helper.make_tensor("k", TensorProto.INT64, [1], [2])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT8, ["batch", 16])],
                              [helper.make_tensor_value_info("v", TensorProto.INT8, None)], initializer=inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), str(path))
    out = tmp_path / "m.json"
    run = quarch("trace", str(path), "-o", str(out), "--dim", "batch=3")
    assert run.returncode == 0, run.stderr
    assert "skipped unsupported ops: TopK x1" in run.stderr
    assert load_trace(out) == import_onnx(path, dims={"batch": 3}).workload
    _one_line_error(quarch("trace", str(path), "-o", str(out)), "dynamic input dims without values: x[0] ('batch')")
    _one_line_error(quarch("trace", str(path), "-o", str(out), "--dim", "batch=x"), "NAME=VALUE")


def test_trace_a_pytorch_factory(tmp_path):
    pytest.importorskip("torch")
    source = tmp_path / "tiny.py"
    source.write_text("import torch\n\n\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.blocks = torch.nn.ModuleList(torch.nn.Linear(32, 32) for _ in range(4))\n\n"
                      "    def forward(self, x):\n        for block in self.blocks:\n            x = torch.relu(block(x))\n"
                      "        return x\n\n\ndef make():\n    return Net(), torch.randn(5, 32)\n")
    out = tmp_path / "tiny.yaml"
    run = quarch("trace", f"{source}:make", "-o", str(out), "--quant", "w8a8")
    assert run.returncode == 0, run.stderr
    ops = {op.name: op for op in load_trace(out).ops}
    assert ops["blocks.0-3"].repeat == 4 and ops["blocks.0-3"].formats.weight == "int8"
    assert load_trace(out).macs == 4 * 5 * 32 * 32
