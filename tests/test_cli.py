"""The `quarch` command line, run as a user would (subprocess): outputs, exit codes, no tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

PARITY = Path(__file__).parent / "parity"


def quarch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=120)


def test_simulate_scalesim_files_as_json_gives_scalesim_cycles_layer_by_layer():
    case = PARITY / "cases" / "resnet_calc_ws_32x32"
    run = quarch("simulate", "--hw", str(case / "scale.cfg"), "--workload", str(case / "topology.csv"),
                 "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert {"cycles", "latency_s", "energy_j", "utilization"} <= set(data["total"])
    for op in data["ops"]:
        assert {"name", "kind", "macs", "repeat", "cycles", "compute_cycles", "stall_cycles", "latency_s",
                "energy_j"} <= set(op)
    goldens = pd.read_csv(PARITY / "scalesim_goldens.csv").query("case_id == 'resnet_calc_ws_32x32'")
    assert [op["cycles"] for op in data["ops"]] == goldens.sort_values("layer_index").total_cycles.tolist()
    assert data["total"]["cycles"] == goldens.total_cycles.sum()


def test_simulate_inline_op_with_override_table_and_csv():
    run = quarch("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "gemm:M=64,N=64,K=64",
                 "--set", "array.rows=16")
    assert run.returncode == 0 and "total" in run.stdout
    run = quarch("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "resnet18", "--format", "csv")
    frame = pd.read_csv(pd.io.common.StringIO(run.stdout))
    assert len(frame) == 22 and {"cycles", "energy_j", "read_bytes.dram"} <= set(frame.columns)  # zoo ResNet-18 ops


def test_compare_compares_builtin_designs():
    run = quarch("compare")
    assert run.returncode == 0, run.stderr
    for name in ("systolic-int8-32x32-os", "systolic-int8-64x64-ws", "systolic-fp16-32x32-os"):
        assert name in run.stdout


def test_listings():
    assert "systolic-int8-32x32-os" in quarch("presets").stdout
    formats = quarch("formats").stdout
    assert "mxfp4" in formats and "fp8_e4m3" in formats


@pytest.mark.parametrize("args, message", [
    (("simulate", "--hw", "no-such-design", "--workload", "resnet18"), "neither a file nor a preset"),
    (("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "gemm:M=-1,N=2,K=2"), "gemm.m: '-1'"),
    (("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "gemm:M=1,N=2,K=2,w=fp99"), "unknown number format"),
    (("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "gemm:M=1,N=2,K=2,w=fp16"), "floating point"),
    (("simulate", "--hw", "systolic-int8-32x32-os", "--workload", "missing.yaml"), "missing.yaml: cannot read file"),
    (("simulate", "--hw", "systolic-int8-32x32-os", "--set", "array.rows=0", "--workload", "resnet18"),
     "array.rows: 0: Input should be greater than 0"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message):
    run = quarch(*args)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.stderr.strip().splitlines()) == 1


def test_bad_files_named_in_message(tmp_path):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nx, 1, two, 3,\n")
    run = quarch("simulate", "--hw", "systolic-int8-32x32-os", "--workload", str(topo))
    assert run.returncode == 2 and f"{topo}: line 2, N: 'two'" in run.stderr
    cfg = tmp_path / "c.cfg"
    cfg.write_text("this is not an ini file\n")
    run = quarch("simulate", "--hw", str(cfg), "--workload", "resnet18")
    assert run.returncode == 2 and f"{cfg}: not a SCALE-Sim config" in run.stderr
