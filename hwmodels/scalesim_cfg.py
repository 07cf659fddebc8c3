"""Import a SCALE-Sim v3 `.cfg` file as a quarch design.

Mapping (SCALE-Sim words are one byte):
  ArrayHeight/ArrayWidth/Dataflow -> array rows/cols/dataflow, fold order cols_outer;
  Ifmap/Filter/OfmapSramSzkB      -> one SRAM level, per-operand capacity (KiB), double
                                     buffered, partial sums written through to DRAM;
  InterfaceBandwidth CALC         -> `ideal_prefetch`; the DRAM feeds 10 words/cycle per input
                                     operand (SCALE-Sim's fixed fill rate) and drains ArrayWidth
                                     words/cycle of outputs;
  InterfaceBandwidth USER         -> `scalesim_v3_user` (an emulation of SCALE-Sim's USER-mode read
                                     buffers, quirks included: sim.scalesim_user); DRAM ifmap/filter
                                     read bandwidths from [layout] IfmapSRAMBankBandwidth /
                                     FilterSRAMBankBandwidth and the output write bandwidth from the
                                     first `Bandwidth` value (as SCALE-Sim does). For quarch's own
                                     physical double-buffered model, set mapper.memory_model.
SCALE-Sim has no clock or energies: 1 GHz and Horowitz 45 nm access energies are assumed
(override with `--set`). Custom layouts, sparsity and Ramulator traces are rejected.
"""
from __future__ import annotations

import configparser
from pathlib import Path

from pydantic import ValidationError

from hwmodels.costs import DRAM_PJ_PER_BYTE, SRAM_PJ_PER_BYTE
from hwmodels.spec import Hardware
from workloads.errors import SpecError, from_validation_error

CALC_FILL_WORDS_PER_CYCLE = 10  # single_layer_sim.py: "The number 10 elems per cycle is arbitrary"


def looks_like_scalesim_cfg(path: Path) -> bool:
    return path.suffix == ".cfg"


def scalesim_cfg_dict(path: str | Path) -> dict:
    """The quarch hardware dict (not yet validated) equivalent to a SCALE-Sim config."""
    path = Path(path)
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text(), source=str(path))
    except OSError as err:
        raise SpecError(f"cannot read config: {err.strerror}", file=path) from None
    except configparser.Error as err:
        raise SpecError(f"not a SCALE-Sim config: {str(err).splitlines()[0]}", file=path) from None
    if not parser.has_section("architecture_presets"):
        raise SpecError("not a SCALE-Sim config: no [architecture_presets] section", file=path)

    def get(section: str, key: str, default: str | None = None) -> str:
        if parser.has_option(section, key):
            return parser.get(section, key).strip()
        if default is not None:
            return default
        raise SpecError(f"missing key (SCALE-Sim requires it)", file=path, field=f"[{section}] {key}")

    def positive(section: str, key: str, default: str | None = None) -> int:
        text = get(section, key, default)
        try:
            value = int(float(text.split(",")[0]))
        except ValueError:
            value = 0
        if value < 1:
            raise SpecError(f"{text!r}: must be a positive integer", file=path, field=f"[{section}] {key}")
        return value

    def flag(section: str, key: str) -> bool:
        return get(section, key, "false").lower() in ("true", "1", "yes")

    dataflow = get("architecture_presets", "Dataflow").lower()
    if dataflow not in ("os", "ws", "is"):
        raise SpecError(f"{dataflow!r}: allowed dataflows are os, ws, is", file=path,
                        field="[architecture_presets] Dataflow")
    mode = get("run_presets", "InterfaceBandwidth", "CALC").upper()
    if mode not in ("CALC", "USER"):
        raise SpecError(f"{mode!r}: allowed are CALC, USER", file=path, field="[run_presets] InterfaceBandwidth")
    for section, key in (("layout", "IfmapCustomLayout"), ("layout", "FilterCustomLayout"),
                         ("sparsity", "SparsitySupport"), ("run_presets", "UseRamulatorTrace")):
        if flag(section, key):
            raise SpecError("True is not supported: quarch models neither custom SRAM layouts, sparsity nor "
                            "Ramulator traces; set it to False", file=path, field=f"[{section}] {key}")
    rows = positive("architecture_presets", "ArrayHeight")
    cols = positive("architecture_presets", "ArrayWidth")
    sram = {"input": positive("architecture_presets", "IfmapSramSzkB") * 1024,
            "weight": positive("architecture_presets", "FilterSramSzkB") * 1024,
            "output": positive("architecture_presets", "OfmapSramSzkB") * 1024}
    if mode == "CALC":
        dram_read = {"input": CALC_FILL_WORDS_PER_CYCLE, "weight": CALC_FILL_WORDS_PER_CYCLE}
        dram_write = cols
    else:
        dram_read = {"input": positive("layout", "IfmapSRAMBankBandwidth"),
                     "weight": positive("layout", "FilterSRAMBankBandwidth")}
        dram_write = positive("architecture_presets", "Bandwidth")
    name = get("general", "run_name", path.stem)
    return {
        "name": name,
        "description": f"SCALE-Sim config {path.name} ({mode} bandwidth)",
        "source": f"scalesim cfg {path}",
        "clock_hz": 1e9,
        "technology_node_nm": 45,
        "array": {"rows": rows, "cols": cols, "dataflow": dataflow},
        "memory": [
            {"name": "sram", "capacity_bytes": sram, "buffering": 2, "psum_write_through": True,
             "read_bandwidth_bytes_per_cycle": max(rows, cols), "write_bandwidth_bytes_per_cycle": max(rows, cols),
             "read_energy_pj_per_byte": SRAM_PJ_PER_BYTE, "write_energy_pj_per_byte": SRAM_PJ_PER_BYTE},
            {"name": "dram", "read_bandwidth_bytes_per_cycle": dram_read,
             "write_bandwidth_bytes_per_cycle": dram_write, "latency_cycles": 1,
             "read_energy_pj_per_byte": DRAM_PJ_PER_BYTE, "write_energy_pj_per_byte": DRAM_PJ_PER_BYTE},
        ],
        "mapper": {"fold_order": "cols_outer",
                   "memory_model": "ideal_prefetch" if mode == "CALC" else "scalesim_v3_user"},
    }


def load_scalesim_cfg(path: str | Path) -> Hardware:
    try:
        return Hardware.model_validate(scalesim_cfg_dict(path))
    except ValidationError as err:
        raise from_validation_error(err, file=path) from None
