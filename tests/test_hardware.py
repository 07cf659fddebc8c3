"""Hardware descriptions: validation, presets, overrides, the SCALE-Sim .cfg importer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from hwmodels.loader import apply_overrides, load_hardware, preset_names
from hwmodels.scalesim_cfg import load_scalesim_cfg
from workloads.errors import SpecError

BASE_CFG = (Path(__file__).parent / "parity" / "cases" / "user_gemm_os_16x16_4k_bw4" / "scale.cfg").read_text()


def cfg_text(**settings) -> str:
    """The committed USER-mode case config with some `Key: value` lines changed."""
    text = BASE_CFG
    for key, value in settings.items():
        text = re.sub(rf"^{key}\s*:.*$", f"{key}: {value}", text, flags=re.M)
    return text


CFG = cfg_text(ArrayWidth=8, Dataflow="ws", IfmapSramSzkB=64, FilterSramSzkB=32, OfmapSramSzkB=16, Bandwidth=12,
               IfmapSRAMBankBandwidth=6)


def test_every_preset_loads_and_is_described():
    names = preset_names()
    assert len(names) >= 3
    for name in names:
        hw = load_hardware(name)
        assert hw.name == name and hw.description and hw.source
        assert hw.memory[-1].capacity_bytes is None


def test_scalesim_cfg_user_mode(tmp_path):
    path = tmp_path / "s.cfg"
    path.write_text(CFG)
    hw = load_scalesim_cfg(path)
    assert (hw.array.rows, hw.array.cols, hw.array.dataflow) == (16, 8, "ws")
    sram, dram = hw.memory
    assert sram.capacity_for("input") == 64 * 1024 and sram.capacity_for("output") == 16 * 1024
    assert dram.read_bandwidth("input") == 6 and dram.read_bandwidth("weight") == 4
    assert dram.write_bandwidth("output") == 12
    assert hw.mapper.memory_model == "scalesim_v3_user" and hw.mapper.fold_order == "cols_outer"


def test_scalesim_cfg_calc_mode_uses_scalesims_fixed_rates(tmp_path):
    path = tmp_path / "s.cfg"
    path.write_text(CFG.replace("InterfaceBandwidth: USER", "InterfaceBandwidth: CALC"))
    hw = load_scalesim_cfg(path)
    assert hw.mapper.memory_model == "ideal_prefetch"
    assert hw.memory[1].read_bandwidth("input") == 10 and hw.memory[1].write_bandwidth("output") == 8


@pytest.mark.parametrize("edit, match", [
    (("Dataflow: ws", "Dataflow: xs"), r"\[architecture_presets\] Dataflow: 'xs': allowed dataflows are os, ws, is"),
    (("ArrayHeight: 16", "ArrayHeight: 0"), r"ArrayHeight: '0': must be a positive integer"),
    (("ArrayHeight: 16", "ArrayHeight: big"), r"ArrayHeight: 'big'"),
    (("ArrayHeight: 16\n", ""), r"\[architecture_presets\] ArrayHeight: missing key"),
    (("[architecture_presets]", "[arch]"), "no \\[architecture_presets\\] section"),
    (("SparsitySupport : false", "SparsitySupport : true"), "SparsitySupport: True is not supported"),
    (("InterfaceBandwidth: USER", "InterfaceBandwidth: FAST"), "'FAST': allowed are CALC, USER"),
    (("[general]", "general"), "not a SCALE-Sim config"),
])
def test_bad_cfg_files(tmp_path, edit, match):
    path = tmp_path / "bad.cfg"
    path.write_text(CFG.replace(*edit))
    with pytest.raises(SpecError, match=match) as info:
        load_hardware(path)
    assert str(path) in str(info.value)


def test_overrides_by_dotted_path_and_level_name():
    hw = load_hardware("systolic-int8-32x32-os", ["array.rows=64", "memory.dram.read_bandwidth_bytes_per_cycle=8",
                                                  "memory.0.buffering=1", "clock_hz=2e9"])
    assert hw.array.rows == 64 and hw.memory[1].read_bandwidth("input") == 8
    assert hw.memory[0].buffering == 1 and hw.clock_hz == 2e9


@pytest.mark.parametrize("override, match", [
    ("array.rows=-4", "array.rows: -4: Input should be greater than 0"),
    ("array.dataflow=diag", "array.dataflow: 'diag': Input should be 'os', 'ws' or 'is'"),
    ("array.colour=3", "array.colour: 3: unknown field; allowed are cols, cores, dataflow, organization, rows"),
    ("memory.l9.buffering=2", "no entry 'l9'; allowed are sram, dram"),
    ("clock_hz", "an override is key.path=value"),
    ("clock_hz=fast", "clock_hz: 'fast': Input should be a valid number"),
    ("technology_node_nm=40", "technology node 40 nm is not supported"),
    ("pe.weight_format=int77", "unknown number format 'int77'"),
    ("memory.dram.capacity_bytes=1024", "must be null"),
])
def test_bad_overrides(override, match):
    with pytest.raises(SpecError, match=match):
        load_hardware("systolic-int8-32x32-os", [override])


def test_unknown_hardware_names_list_presets():
    with pytest.raises(SpecError, match="neither a file nor a preset: presets are .*systolic-int8-32x32-os"):
        load_hardware("tpu-v9")
    with pytest.raises(SpecError, match="no such file"):
        load_hardware("missing.yaml")


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "hw.yaml"
    path.write_text("name: x\narray: {rows: 4\n")
    with pytest.raises(SpecError, match=r"hw.yaml: malformed YAML/JSON at line"):
        load_hardware(path)


def test_per_operand_mapping_must_match_held_operands():
    with pytest.raises(SpecError, match="capacity_bytes names operands"):
        load_hardware("systolic-int8-32x32-os", ["memory.sram.capacity_bytes={input: 1024}"])


def test_apply_overrides_does_not_mutate():
    data = {"array": {"rows": 1}}
    assert apply_overrides(data, ["array.rows=2"])["array"]["rows"] == 2 and data["array"]["rows"] == 1


@pytest.mark.parametrize("text", ["64", "-3", "0", "-0", "012", "0x1f", "1_000", "+5", "1.5", "-2.25", "0.0001",
                                  "1e3", "1.5e3", "1.5e-05", "3.", ".5", "007.5", "1.0", "true", "null", "~", "1:2",
                                  "[1, 2]", "{input: 4}", "int8", " 64", "64 ", "0.5.1"])
def test_override_values_read_as_yaml_reads_them(text):
    from hwmodels.loader import _parsed
    value, expected = _parsed(text), yaml.safe_load(text)
    assert (type(value), value) == (type(expected), expected)


def test_an_asic_design_needs_an_on_chip_level(tmp_path):
    # one level would leave the array no output buffer to write through (it used to spin forever)
    path = tmp_path / "one-level.yaml"
    path.write_text("name: one-level\nclock_hz: 1.0e+9\npe: {family: mac}\narray: {rows: 4, cols: 4}\n"
                    "memory:\n- name: dram\n  read_bandwidth_bytes_per_cycle: 8\n  write_bandwidth_bytes_per_cycle: 8\n")
    with pytest.raises(SpecError, match=r"one-level.yaml.*needs an on-chip level below the backing store 'dram'"):
        load_hardware(path)
