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

Areas use the same forms through Horowitz's areas. Other nodes scale energy and area by
`hwmodels.technology` factors (Stillmaker & Baas / DeepScaleTool), never by Dennard rules.
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

_KIND = re.compile(r"^(?P<op>mul|add):(?:int(?P<b1>\d+)(?:x(?P<b2>\d+))?|fp_e(?P<e>\d+)m(?P<m>\d+))$")


@dataclass(frozen=True)
class EnergyTable:
    """Prices op kinds (`mul:int4x8`, `add:int32`, `mul:fp_e4m3`, `add:fp_e8m23`) at a node."""

    node_nm: int = 45
    anchors: dict[str, Anchor] = field(default_factory=lambda: dict(HOROWITZ_45NM))
    anchor_node_nm: int = 45
    name: str = "horowitz-45nm"

    def __hash__(self) -> int:
        return hash((self.name, self.node_nm, self.anchor_node_nm, tuple(sorted(self.anchors.items()))))

    def at_node(self, node_nm: int) -> "EnergyTable":
        """The same table priced at another technology node."""
        technology.energy_scale(self.anchor_node_nm, node_nm)  # validates the node
        return EnergyTable(node_nm=node_nm, anchors=self.anchors, anchor_node_nm=self.anchor_node_nm,
                           name=self.name)

    def op_energy_pj(self, kind: str) -> float:
        """Energy of one operation of `kind` at this table's node, in pJ."""
        return _price(self, kind, "energy_pj") * technology.energy_scale(self.anchor_node_nm, self.node_nm)

    def op_area_um2(self, kind: str) -> float:
        """Area of one functional unit of `kind` at this table's node, in µm²."""
        return _price(self, kind, "area_um2") * technology.area_scale(self.anchor_node_nm, self.node_nm)


def _fit(x: float, x0: float, y0: float, x1: float, y1: float) -> float:
    """Power law y = y0 * (x/x0)^p through (x0, y0) and (x1, y1)."""
    return y0 * (x / x0) ** (math.log(y1 / y0) / math.log(x1 / x0))


@lru_cache(maxsize=4096)
def _price(table: EnergyTable, kind: str, attribute: str) -> float:
    if kind in table.anchors:
        return getattr(table.anchors[kind], attribute)
    match = _KIND.match(kind)
    if not match:
        raise SpecError(f"operation kind {kind!r} has no cost model: allowed are mul:int<b>x<b>, "
                        "add:int<b>, mul:fp_e<E>m<M>, add:fp_e<E>m<M> or an entry of the table")
    a = {name: getattr(anchor, attribute) for name, anchor in table.anchors.items()}
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


# Per-byte access energies used where a hardware source gives none (45 nm).
SRAM_PJ_PER_BYTE = 10.0 / 8  # Horowitz ISSCC 2014: 8 KB SRAM, 64-bit access, 10 pJ
DRAM_PJ_PER_BYTE = 1300.0 / 8  # Horowitz ISSCC 2014: DRAM 64-bit access 1.3-2.6 nJ (low end)
