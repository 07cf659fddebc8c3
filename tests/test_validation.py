"""`quarch validate` and the claim checks; every PE family through `quarch simulate`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwmodels.loader import load_hardware, preset_names
from quarch.cli import app
from quarch.validation import judge, not_reproduced

runner = CliRunner()
TOPOLOGY = Path(__file__).parent / "parity" / "cases" / "conv_calc_os_8x8" / "topology.csv"


def test_loom_dynamic_precision_table_by_hand():
    from hwmodels.pe_bitserial import precision_table
    assert precision_table(-4, 4, True).tolist() == [4, 3, 3, 2, 1, 2, 3, 3, 4]
    assert precision_table(0, 5, False).tolist() == [1, 1, 2, 2, 3, 3]


def test_judge_checks_by_hand():
    assert judge("c", "s", 2.0, 2.15).passed and not judge("c", "s", 2.0, 2.25).passed
    assert judge("c", "s", 2.0, 2.25).rel_error == pytest.approx(0.125)
    assert judge("c", "s", 0.8, 0.75, check="at_least").passed and not judge("c", "s", 0.8, 0.7, check="at_least").passed
    assert judge("c", "s", (1.5, 2.8), 2.0, check="range").passed and not judge("c", "s", (1.5, 2.8), 3.0,
                                                                                check="range").passed
    missing = not_reproduced("c", "s", 1.9, "no traces")
    assert not missing.passed and missing.quarch is None and "no traces" in missing.note


def test_validate_json_lists_every_claim_of_the_issue():
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all({"claim", "published", "quarch", "rel_error", "tolerance", "passed"} <= set(row) for row in rows)
    text = " ".join(row["claim"] for row in rows)
    for topic in ("BitMoD (lossy) speedup vs ANT", "vs OliVe", "ShiftAddLLM", "L-Mul element-wise", "L-Mul FP32 dot",
                  "Stripes", "Bit Fusion throughput", "Loom", "Pragmatic", "LUT Tensor Core energy",
                  "LUT Tensor Core compute density", "T-MAC compute", "MixPE", "FP8 vs INT8 MAC energy",
                  "FP8 vs INT8 MAC area"):
        assert topic in text, topic
    for row in rows:  # a claim is either compared or failed with its reason
        assert row["quarch"] is not None or (not row["passed"] and row["note"].startswith("not reproduced"))
    by_claim = {row["claim"]: row for row in rows}
    assert by_claim["Bit Fusion throughput at 4x4 bits vs 8x8"]["published"] == 4


def test_validate_table_and_bad_selection():
    result = runner.invoke(app, ["validate", "--only", "lmul"])
    assert result.exit_code == 0 and "L-Mul" in result.output and "reproduced" in result.output
    bad = runner.invoke(app, ["validate", "--only", "nope"])
    assert bad.exit_code == 2 and "allowed are bitmod" in bad.output


def _formats_for(name: str) -> str:
    pe = load_hardware(name).pe
    weight = {"shift": "pow2_k1", "lmul": "fp8_e4m3"}.get(pe.family, "int4")
    activation = "fp16" if pe.family in ("bitmod", "lmul", "lut_tensor_core", "lut_gemm", "shiftaddllm") else "int8"
    if pe.family == "mac":
        weight, activation = pe.weight_format, pe.activation_format
    return f"w={weight},a={activation}"


@pytest.mark.parametrize("name", preset_names())
def test_simulate_every_preset_on_an_inline_gemm_and_a_scalesim_topology(name):
    result = runner.invoke(app, ["simulate", "--hw", name, "--workload",
                                 f"gemm:M=32,N=128,K=256,g=64,{_formats_for(name)}", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"]["cycles"] > 0
    # a topology states no formats: every design runs it in its default formats
    topo = runner.invoke(app, ["simulate", "--hw", name, "--workload", str(TOPOLOGY), "--format", "json"])
    assert topo.exit_code == 0, topo.output
    assert json.loads(topo.output)["total"]["cycles"] > 0
    bare = runner.invoke(app, ["simulate", "--hw", name, "--workload", "gemm:M=32,N=128,K=256", "--format", "json"])
    assert bare.exit_code == 0, bare.output


@pytest.mark.parametrize("name, stated, role", [("deepshift-32x32", "w=int8", "weight"),
                                               ("lmul-32x32", "a=int8", "activation")])
def test_stated_formats_a_design_cannot_run_are_refused(name, stated, role):
    run = runner.invoke(app, ["simulate", "--hw", name, "--workload", f"gemm:M=32,N=128,K=256,{stated}"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert f"{role} format int8" in run.output and f"formats it states: {role})" in run.output


def test_value_tensors_through_the_cli(tmp_path):
    import numpy as np
    np.save(tmp_path / "acts.npy", np.zeros((5, 5)))
    trace = tmp_path / "t.yaml"
    op = "{kind: gemm, name: g, m: 64, n: 64, k: 64, formats: {activation: uint8, weight: int16}, values: {input: %s}}"
    trace.write_text("quarch_trace: 1\nops:\n  - " + op % f"{{file: {tmp_path / 'acts.npy'}}}" + "\n")
    bad = runner.invoke(app, ["simulate", "--hw", "pragmatic", "--workload", str(trace)])
    assert bad.exit_code == 2 and "values have shape (5, 5); op 'g' needs (64, 64)" in bad.output
    assert "Traceback" not in bad.output
    trace.write_text("quarch_trace: 1\nops:\n  - " + op % "{distribution: laplace, relu: true, seed: 1}" + "\n")
    good = runner.invoke(app, ["simulate", "--hw", "pragmatic", "--workload", str(trace), "--format", "json"])
    assert good.exit_code == 0 and json.loads(good.output)["ops"][0]["cycle_model"] == "values (effectual bits)"
    trace.write_text("quarch_trace: 1\nops:\n  - " + op % "{distribution: laplace, file: x.npy}" + "\n")
    both = runner.invoke(app, ["simulate", "--hw", "pragmatic", "--workload", str(trace)])
    assert both.exit_code == 2 and "exactly one of 'file'" in both.output
