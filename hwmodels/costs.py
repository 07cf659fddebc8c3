"""Energy and area per primitive operation: a swappable table, priced after simulation.

The simulator only counts operations by kind (e.g. `mul:int8x8`, `add:int32`,
`mul:fp_e4m3`); `EnergyTable.op_energy_pj(kind)` prices one of them. Changing the table
(another node, another source) re-prices a result without re-simulating it.

Default anchors: Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm / 0.9 V
(../shared/anchors/pe-models.md §0.1). Widths between anchors follow power laws fitted
exactly through the two anchors of each family:

    int multiply b1 x b2:   E = E(8x8)  * (b1*b2/64)^a,  a = ln(3.1/0.2)/ln 16
    int add b:              E = E(8)    * (b/8)^c,       c = ln(0.1/0.03)/ln 4
    fp multiply (e, m):     E = E_int_add(e) + k_m * ((m+1)^2)^p, exact at FP16 and FP32
                            (exponent adder + significand multiplier array)
    fp add (e, m):          E = E_int_add(e) + k_a * (m+1)^q,     exact at FP16 and FP32
                            (exponent compare + significand align/add)

    shift b bits:           E = E(8)    * (b/8)^s,       s through the INT8 and 32-bit shifter anchors
    lookup of a b-bit entry E = E(16b) * b/16          (a table read moves b bits)
    k x another kind:       `<kind>*<k>` costs k times `<kind>` (e.g. FP8 MACs priced as k x INT8)

Areas use the same forms through Horowitz's areas. Other nodes scale energy and area by
`hwmodels.technology` factors (Stillmaker & Baas / DeepScaleTool), never by Dennard rules.
Synthesized PEs are priced per PE-cycle by `pe:<name>` entries (energy per PE per compute
cycle, area per PE) at the node where they were synthesized: 28 nm entries live in their own
table (`SYNTH_28NM`, node 28, never scaled: Stillmaker & Baas have no 28 nm fit), so a 28 nm
design is priced only by figures measured at 28 nm (`default_table`).
On-chip SRAM is priced per bit (`sram:bit`, CACTI at 45 nm) wherever a memory level states no area.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from hwmodels import technology
from workloads.errors import SpecError

HOROWITZ = "Horowitz, ISSCC 2014, 45 nm 0.9 V (pe-models.md §0.1)"
HOROWITZ_AREA = "Horowitz ISSCC 2014 area figures, 45 nm (pe-models.md §0.1, marked [M] there)"


@dataclass(frozen=True)
class Anchor:
    """One measured primitive: energy per operation, area per unit, and where both come from."""

    energy_pj: float
    area_um2: float
    source: str = HOROWITZ


HOROWITZ_45NM: dict[str, Anchor] = {
    "add:int8": Anchor(0.03, 36.0),
    "add:int32": Anchor(0.1, 137.0),
    "mul:int8x8": Anchor(0.2, 282.0),
    "mul:int32x32": Anchor(3.1, 3495.0),
    "add:fp_e5m10": Anchor(0.4, 1360.0),
    "mul:fp_e5m10": Anchor(1.1, 1640.0),
    "add:fp_e8m23": Anchor(0.9, 4184.0),
    "mul:fp_e8m23": Anchor(3.7, 7700.0),
}

SHIFTADD = "ShiftAddViT pvt/hw_utils.py / ShiftAddLLM energy/hw_utils.py, 45 nm Horowitz-based (pe-models.md §0.2)"
SHIFTER_AREA = "ShiftAddNet Table 1 shifter areas, 45 nm (pe-models.md §0.2, marked [M] there)"

# Shift-and-add / LUT primitives of the ShiftAdd line of work (45 nm, Horowitz-based).
# A table lookup's area is its select multiplexer, for which no source gives a figure: 0, which
# understates LUT-based PE area (stated wherever such a PE reports area).
SHIFTADD_45NM: dict[str, Anchor] = {
    "shift:int8": Anchor(0.024, 34.0, f"{SHIFTADD}; area {SHIFTER_AREA}"),
    "shift:int32": Anchor(0.13, 157.0, f"{SHIFTADD}; area {SHIFTER_AREA}"),
    "lookup:16b": Anchor(0.37, 0.0, "ShiftAddLLM energy/hw_utils.py unit_lut (FP16 entry), pe-models.md §0.2; "
                                    "mux area not sourced (0)"),
}

BITFUSION = "Bit Fusion 45 nm 500 MHz synthesis, hsharma35/bitfusion results/systolic_array_synth.csv (pe-models.md §0.4)"
# Synthesized PEs at 45 nm: energy = dynamic pJ per PE per cycle (power / clock), area per PE.
SYNTH_45NM: dict[str, Anchor] = {
    "pe:bitfusion_fu": Anchor(0.560, 1733.0, f"{BITFUSION}: 8/2 fusion unit, 16 BitBricks"),
    "pe:bitfusion_int8_mac": Anchor(0.298, 688.0, f"{BITFUSION}: fixed 8/8 MAC"),
    "pe:bitfusion_int16_mac": Anchor(0.947, 2203.0, f"{BITFUSION}: fixed 16/16 MAC"),
}

CACTI_BITFUSION = ("CACTI 6.5 itrs-hp 45 nm, 16 KB single-port RAM with 4-byte lines, as run and committed by "
                   "Bit Fusion (hsharma35/bitfusion bitfusion/sram/cacti_sweep.csv): 0.108577 mm2, 9.98 pJ per read")
# On-chip SRAM per bit: macro area (cells, decoders, sense amplifiers, wiring) divided by its bits,
# and read energy per bit accessed. Levels state their own access energies; the area prices the
# on-chip capacity of levels that state no area (sim.energy.level_area_mm2).
SRAM_45NM: dict[str, Anchor] = {
    "sram:bit": Anchor(9.9817 / 32, 0.108577e6 / (16384 * 8), CACTI_BITFUSION),
}

BITMOD = ("BitMoD TSMC 28 nm synthesis at 1 GHz (mW = pJ/cycle), PE energy x1.5 post place-and-route "
          "(bitmod_sim PR_SCALING), area unscaled as in its pe_array_area; pe-models.md §0.4")
MIXPE = ("MixPE simulator results/systolic_array_synth.csv (yuzhang712/mixpe_simulator; 28 nm flow, rows partly "
         "reused from Bit Fusion: weak data, pe-models.md §0.4)")
# TSMC 28 nm synthesized PEs. Priced only at 28 nm: no 28 nm scaling fit exists in hwmodels.technology.
SYNTH_28NM: dict[str, Anchor] = {
    "pe:bitmod": Anchor(0.56 * 1.5, 1507.7, f"{BITMOD}: BitMoD 4-lane bit-serial PE (simulator figure)"),
    "pe:fp16_mac_28nm": Anchor(0.77 * 1.5, 1968.7, f"{BITMOD}: FP16 MAC PE"),
    "pe:ant": Anchor(0.56 * 1.5, 1318.6, f"{BITMOD}: FP16 x INT8 -> FP16 PE, ANT figure of the HPCA repo"),
    "pe:olive": Anchor(0.613 * 1.5, 1318.6, f"{BITMOD}: FP16 x INT8 -> FP16 PE, OliVe figure"),
    **{f"pe:mixpe_sim_{row}": Anchor(mw / 0.5, 0.0, f"{MIXPE}, {row.replace('_', '/')} row: {mw} mW dynamic at "
                                                    "500 MHz; area column is a placeholder (0 here)")
       for row, mw in (("8_4", 0.27996), ("16_16", 0.839982), ("16_8", 0.544982), ("6_6", 0.123882))},
}

_KIND = re.compile(r"^(?P<op>mul|add):(?:int(?P<b1>\d+)(?:x(?P<b2>\d+))?|fp_e(?P<e>\d+)m(?P<m>\d+))$")
_SHIFT = re.compile(r"^shift:int(?P<b>\d+)$")
_LOOKUP = re.compile(r"^lookup:(?P<b>\d+)b$")
_SCALED = re.compile(r"^(?P<kind>.+)\*(?P<k>\d+(?:\.\d*)?)$")


@dataclass(frozen=True)
class EnergyTable:
    """Prices op kinds (`mul:int4x8`, `add:int32`, `mul:fp_e4m3`, `add:fp_e8m23`) at a node."""

    node_nm: int = 45
    anchors: dict[str, Anchor] = field(default_factory=lambda: {**HOROWITZ_45NM, **SHIFTADD_45NM, **SYNTH_45NM,
                                                                   **SRAM_45NM})
    anchor_node_nm: int = 45
    name: str = "horowitz-45nm"
    fallback: "EnergyTable | None" = None  # prices the kinds this table has no figure for

    def __post_init__(self) -> None:
        # prices are memoized per (table, kind): hash the anchors once, not at every lookup
        object.__setattr__(self, "_hash", hash((self.name, self.node_nm, self.anchor_node_nm,
                                                tuple(sorted(self.anchors.items())), self.fallback)))

    def __hash__(self) -> int:
        return self._hash

    def at_node(self, node_nm: int) -> "EnergyTable":
        """The same table priced at another technology node."""
        if node_nm != self.anchor_node_nm:
            technology.energy_scale(self.anchor_node_nm, node_nm)  # validates the node
        return EnergyTable(node_nm=node_nm, anchors=self.anchors, anchor_node_nm=self.anchor_node_nm,
                           name=self.name, fallback=self.fallback)

    def op_energy_pj(self, kind: str) -> float:
        """Energy of one operation of `kind` at this table's node, in pJ."""
        return self._priced(kind, "energy_pj", technology.energy_scale)

    def op_area_um2(self, kind: str) -> float:
        """Area of one functional unit of `kind` at this table's node, in µm²."""
        return self._priced(kind, "area_um2", technology.area_scale)

    def _priced(self, kind: str, attribute: str, scaling) -> float:
        try:
            return _price(self, kind, attribute) * self._scale(scaling)
        except SpecError:
            if self.fallback is None:
                raise
            return self.fallback._priced(kind, attribute, scaling)

    def _scale(self, scaling) -> float:
        return 1.0 if self.node_nm == self.anchor_node_nm else scaling(self.anchor_node_nm, self.node_nm)


def _fit(x: float, x0: float, y0: float, x1: float, y1: float) -> float:
    """Power law y = y0 * (x/x0)^p through (x0, y0) and (x1, y1)."""
    return y0 * (x / x0) ** (math.log(y1 / y0) / math.log(x1 / x0))


@lru_cache(maxsize=4096)
def _price(table: EnergyTable, kind: str, attribute: str) -> float:
    if kind in table.anchors:
        return getattr(table.anchors[kind], attribute)
    if scaled := _SCALED.match(kind):
        return float(scaled["k"]) * _price(table, scaled["kind"], attribute)
    a = {name: getattr(anchor, attribute) for name, anchor in table.anchors.items()}
    try:
        return _fitted(a, kind)
    except KeyError as missing:
        raise SpecError(f"operation kind {kind!r} cannot be priced by table {table.name} "
                        f"({table.anchor_node_nm} nm): it has no {missing} figure; its entries are "
                        f"{', '.join(sorted(table.anchors))}") from None


def _fitted(a: dict[str, float], kind: str) -> float:
    """Price of a kind between anchors (see the module docstring); KeyError names a missing anchor."""
    if shift := _SHIFT.match(kind):
        return _fit(int(shift["b"]), 8, a["shift:int8"], 32, a["shift:int32"])
    if lookup := _LOOKUP.match(kind):
        return a["lookup:16b"] * int(lookup["b"]) / 16
    match = _KIND.match(kind)
    if not match:
        raise SpecError(f"operation kind {kind!r} has no cost model: allowed are mul:int<b>x<b>, "
                        "add:int<b>, mul:fp_e<E>m<M>, add:fp_e<E>m<M>, shift:int<b>, lookup:<b>b, "
                        "<kind>*<factor> or an entry of the table")
    op = match["op"]
    if match["b1"]:
        b1 = int(match["b1"])
        if op == "mul":
            b2 = int(match["b2"] or b1)
            return _fit(b1 * b2, 64, a["mul:int8x8"], 1024, a["mul:int32x32"])
        return _fit(b1, 8, a["add:int8"], 32, a["add:int32"])
    e, m = int(match["e"]), int(match["m"])

    def int_add(bits: int) -> float:
        return _fit(bits, 8, a["add:int8"], 32, a["add:int32"])

    if op == "mul":
        core16 = a["mul:fp_e5m10"] - int_add(5)
        core32 = a["mul:fp_e8m23"] - int_add(8)
        return int_add(e) + _fit((m + 1) ** 2, 121, core16, 576, core32)
    core16 = a["add:fp_e5m10"] - int_add(5)
    core32 = a["add:fp_e8m23"] - int_add(8)
    return int_add(e) + _fit(m + 1, 11, core16, 24, core32)


def synthesized_28nm() -> EnergyTable:
    """The 28 nm table: figures synthesized at 28 nm (no primitive fits, no scaling).

    Primitive operations it has no 28 nm figure for (the vector unit's adds and multiplies)
    fall back to the Horowitz table scaled to 32 nm, the nearest node Stillmaker & Baas
    characterize; that over-prices them slightly rather than inventing a 28 nm factor.
    """
    return EnergyTable(node_nm=28, anchors=dict(SYNTH_28NM), anchor_node_nm=28, name="synth-28nm",
                       fallback=EnergyTable().at_node(32))


NATIVE_TABLES = {28: synthesized_28nm}  # nodes priced by their own measured table only


def default_table(node_nm: int) -> EnergyTable:
    """The table a design at `node_nm` is priced with by default: Horowitz scaled, or a native table."""
    if node_nm in NATIVE_TABLES:
        return NATIVE_TABLES[node_nm]()
    return EnergyTable().at_node(node_nm)


# Per-byte access energies used where a hardware source gives none (45 nm).
SRAM_PJ_PER_BYTE = 10.0 / 8  # Horowitz ISSCC 2014: 8 KB SRAM, 64-bit access, 10 pJ
DRAM_PJ_PER_BYTE = 1300.0 / 8  # Horowitz ISSCC 2014: DRAM 64-bit access 1.3-2.6 nJ (low end)
