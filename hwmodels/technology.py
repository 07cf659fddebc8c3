"""Re-price energy, delay and area between CMOS technology nodes (180 nm to 7 nm).

quarch keeps per-op energy tables at the node where each number was measured (Horowitz 45 nm defaults,
28 nm synthesis entries); this module converts such a number to another node using the polynomial
scaling equations of A. Stillmaker and B. Baas, "Scaling equations for the accurate prediction of CMOS
device performance from 180 nm to 7 nm", Integration, the VLSI Journal 58 (2017) 74-81,
doi:10.1016/j.vlsi.2017.02.002 (corrigendum: http://vcl.ece.ucdavis.edu/pubs/2017.02.VLSIintegration.TechScale/),
not classical Dennard scaling. Each node has fitted coefficients: EnergyFactor(V) = e2*V^2 + e1*V + e0 and
DelayFactor(V) = d3*V^3 + d2*V^2 + d1*V + d0, with V the supply voltage in volts; a value at node x and
voltage V_x becomes value * Factor(y, V_y) / Factor(x, V_x) at node y and voltage V_y (nominal V_DD where
no voltage is given). Area uses the paper's published pairwise area-scaling table as is. Only the eleven
nodes of the paper are supported (no interpolation): 28 nm and 22 nm, for instance, are rejected. Nodes of
45 nm and below have two fits, high-performance ("HP") and low-power ("LP"; for 20-7 nm the PTM-MG LSTP
models); the bulk nodes 180-65 nm have a single fit, used for either flavor.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SUPPORTED_NODES_NM",
    "FLAVORS",
    "NodeFit",
    "node_fit",
    "nominal_vdd",
    "energy_factor",
    "delay_factor",
    "energy_scale",
    "delay_scale",
    "area_scale",
]

SUPPORTED_NODES_NM: tuple[int, ...] = (180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7)
FLAVORS: tuple[str, ...] = ("HP", "LP")


@dataclass(frozen=True)
class NodeFit:
    """One row of the Stillmaker-Baas coefficient table, plus the node's nominal supply voltage."""

    node_nm: int
    flavor: str  # "bulk" (180-65 nm), "HP" or "LP"
    vdd_nominal: float  # volts
    delay: tuple[float, float, float, float]  # d3, d2, d1, d0
    energy: tuple[float, float, float]  # e2, e1, e0

    def energy_factor(self, vdd: float) -> float:
        e2, e1, e0 = self.energy
        return (e2 * vdd + e1) * vdd + e0

    def delay_factor(self, vdd: float) -> float:
        d3, d2, d1, d0 = self.delay
        return ((d3 * vdd + d2) * vdd + d1) * vdd + d0


# --- Coefficient tables --------------------------------------------------------------------------
# Provenance: Stillmaker & Baas (2017), the per-node fitting-coefficient table (Table 5 per the
# authors' corrigendum); delay columns d3..d0, energy columns e2..e0. The paper's text itself was not
# readable in the stored corpora; the numbers were taken from two independent public transcriptions
# that agree digit for digit: github.com/wromaszkan/nodeScale (nodeScale.py, `depCoeffDict`) and
# github.com/VerticalResearchGroup/upcycle (upcycle/pat/coeffs.py, `coeff_table`). The authors'
# corrigendum example uses the 32 nm HP and 65 nm energy rows below and reproduces exactly
# (see tests/test_technology.py). The 180 nm energy fit is linear (e2 = 0) in both transcriptions.
#
# Nominal V_DD provenance: the Predictive Technology Model (PTM, ptm.asu.edu) model cards that the
# paper's HSpice simulations used, as tabulated in github.com/Arcadia-1/gmoverid-skill
# (transistor-models/SKILL.md): bulk 180/130/90/65 nm = 1.8/1.3/1.2/1.1 V; 45/32 nm HP = 1.0/0.9 V;
# 45/32 nm LP = 1.1/1.0 V; PTM-MG 20/16/14/10/7 nm HP and LSTP = 0.9/0.85/0.8/0.75/0.7 V. Cross-checks:
# the 45 nm HP card header "nominal Vdd = 1.0V" (github.com/iveney/cts, tuned_45nm_HP.pm); 45/14/10/7 nm
# = 1.0/0.8/0.75/0.7 V "taken from the appropriate PTM NMOS model" in a Stillmaker-Baas delay-scaling
# script of the fpga21-scaled-tech code; 32 nm HP at 0.9 V is the operating point of the corrigendum
# example. The paper's own nominal-voltage table could not be checked directly.

_BULK: dict[int, NodeFit] = {
    n: NodeFit(n, "bulk", v, d, e)
    for n, v, d, e in (
        (180, 1.8, (0.0, 97.09, -356.7, 406.5), (0.0, 24.64, -17.98)),
        (130, 1.3, (-76.65, 334.9, -493.4, 275.8), (7.171, -6.709, 2.904)),
        (90, 1.2, (-60.34, 262.5, -384.2, 210.9), (4.762, -4.781, 2.092)),
        (65, 1.1, (-53.3, 230.4, -333.9, 178.6), (3.755, -4.398, 1.975)),
    )
}

# 45/32 nm: PTM high-k metal-gate HP/LP fits; 20-7 nm: PTM-MG (FinFET) HP/LSTP fits.
_HP: dict[int, NodeFit] = {
    n: NodeFit(n, "HP", v, d, e)
    for n, v, d, e in (
        (45, 1.0, (-501.6, 1567.0, -1619.0, 566.1), (1.018, -0.3107, 0.1539)),
        (32, 0.9, (-1047.0, 2982.0, -2797.0, 873.5), (0.8367, -0.4341, 0.1701)),
        (20, 0.9, (0.0, 34.63, -66.37, 41.15), (0.373, -0.1582, 0.04104)),
        (16, 0.85, (0.0, 24.8, -47.52, 28.87), (0.2958, -0.1241, 0.03024)),
        (14, 0.8, (-40.66, 109.2, -100.6, 35.92), (0.2363, -0.09675, 0.02239)),
        (10, 0.75, (-34.95, 93.65, -85.99, 30.4), (0.2068, -0.09311, 0.02375)),
        (7, 0.7, (-28.58, 76.6, -70.26, 24.69), (0.1776, -0.09097, 0.02447)),
    )
}

_LP: dict[int, NodeFit] = {
    n: NodeFit(n, "LP", v, d, e)
    for n, v, d, e in (
        (45, 1.1, (-285.7, 1239.0, -1795.0, 898.8), (1.103, -0.362, 0.2767)),
        (32, 1.0, (-325.9, 1374.0, -1922.0, 913.2), (0.9559, -0.7823, 0.471)),
        (20, 0.9, (-160.5, 514.1, -558.6, 217.5), (0.2632, -0.14, 0.06841)),
        (16, 0.85, (-114.6, 366.7, -397.4, 153.6), (0.2139, -0.1187, 0.05639)),
        (14, 0.8, (-85.37, 271.6, -292.2, 111.4), (0.1556, -0.06472, 0.03066)),
        (10, 0.75, (-71.76, 228.6, -246.3, 93.91), (0.1261, -0.0518, 0.02769)),
        (7, 0.7, (-61.79, 196.1, -210.3, 79.55), (0.09365, -0.03409, 0.02043)),
    )
}

# --- Area table ----------------------------------------------------------------------------------
# Provenance: Stillmaker & Baas (2017), pairwise area-scaling table (two significant digits), as
# transcribed identically in nodeScale.py (`areaDict`) and upcycle/pat/coeffs.py (`area_scale_factors`).
# Row = source node, column = target node (order of SUPPORTED_NODES_NM): area_to = area_from * entry.
# Because of the rounding, entry(a, b) * entry(b, a) deviates from 1 by up to 4.4 % (65 <-> 14 nm).
_AREA_ROWS: tuple[tuple[float, ...], ...] = (
    (1, 0.34, 0.15, 0.08, 0.053, 0.025, 0.011, 0.01, 0.0093, 0.0055, 0.0032),  # from 180
    (2.9, 1, 0.44, 0.23, 0.16, 0.072, 0.033, 0.03, 0.027, 0.016, 0.0092),  # from 130
    (6.6, 2.3, 1, 0.53, 0.35, 0.16, 0.075, 0.067, 0.061, 0.036, 0.021),  # from 90
    (12, 4.3, 1.9, 1, 0.66, 0.31, 0.14, 0.13, 0.12, 0.068, 0.039),  # from 65
    (19, 6.4, 2.8, 1.5, 1, 0.46, 0.21, 0.19, 0.17, 0.1, 0.059),  # from 45
    (40, 14, 6.1, 3.3, 2.2, 1, 0.46, 0.41, 0.38, 0.22, 0.13),  # from 32
    (88, 30, 13, 7.1, 4.7, 2.2, 1, 0.89, 0.82, 0.48, 0.28),  # from 20
    (99, 34, 15, 7.9, 5.3, 2.4, 1.1, 1, 0.91, 0.54, 0.31),  # from 16
    (110, 37, 16, 8.7, 5.8, 2.7, 1.2, 1.1, 1, 0.59, 0.34),  # from 14
    (180, 63, 28, 15, 9.8, 4.5, 2.1, 1.9, 1.7, 1, 0.58),  # from 10
    (320, 110, 48, 25, 17, 7.8, 3.6, 3.2, 2.9, 1.7, 1),  # from 7
)
_AREA: dict[int, dict[int, float]] = {
    src: dict(zip(SUPPORTED_NODES_NM, map(float, row)))
    for src, row in zip(SUPPORTED_NODES_NM, _AREA_ROWS, strict=True)
}


# --- Lookup and validation -----------------------------------------------------------------------
def _node(node_nm: object) -> int:
    try:
        value = float(node_nm)  # type: ignore[arg-type]
        ok = not isinstance(node_nm, bool) and value.is_integer() and int(value) in SUPPORTED_NODES_NM
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        allowed = ", ".join(str(n) for n in SUPPORTED_NODES_NM)
        raise ValueError(f"technology node {node_nm} nm is not supported: allowed are {allowed}")
    return int(value)


def node_fit(node_nm: int, flavor: str = "HP") -> NodeFit:
    """The table entry for a node; `flavor` ("HP" or "LP") matters only for 45 nm and below."""
    node = _node(node_nm)
    if flavor not in FLAVORS:
        raise ValueError(f"flavor {flavor!r} is not supported: allowed are {', '.join(FLAVORS)}")
    if node in _BULK:
        return _BULK[node]
    return (_HP if flavor == "HP" else _LP)[node]


def _vdd(fit: NodeFit, vdd: float | None) -> float:
    if vdd is None:
        return fit.vdd_nominal
    v = float(vdd)
    if not v > 0.0 or v == float("inf"):
        raise ValueError(f"supply voltage {vdd} V is not a positive finite number")
    return v


def _positive(value: float, what: str, fit: NodeFit, vdd: float) -> float:
    # The fits hold only over the voltage range the paper simulated; a non-positive factor means the
    # requested voltage is far outside it.
    if not value > 0.0:
        raise ValueError(
            f"{what} factor for {fit.node_nm} nm ({fit.flavor}) at {vdd} V is {value:.4g}: "
            "voltage outside the fitted range"
        )
    return value


# --- Public API ----------------------------------------------------------------------------------
def nominal_vdd(node_nm: int, flavor: str = "HP") -> float:
    """Nominal supply voltage in volts (PTM model card value) for a node."""
    return node_fit(node_nm, flavor).vdd_nominal


def energy_factor(node_nm: int, vdd: float | None = None, flavor: str = "HP") -> float:
    """Stillmaker-Baas EnergyFactor = e2*V^2 + e1*V + e0 (nominal V_DD where `vdd` is None)."""
    fit = node_fit(node_nm, flavor)
    v = _vdd(fit, vdd)
    return _positive(fit.energy_factor(v), "energy", fit, v)


def delay_factor(node_nm: int, vdd: float | None = None, flavor: str = "HP") -> float:
    """Stillmaker-Baas DelayFactor = d3*V^3 + d2*V^2 + d1*V + d0 (nominal V_DD where `vdd` is None)."""
    fit = node_fit(node_nm, flavor)
    v = _vdd(fit, vdd)
    return _positive(fit.delay_factor(v), "delay", fit, v)


def energy_scale(
    from_nm: int,
    to_nm: int,
    vdd_from: float | None = None,
    vdd_to: float | None = None,
    flavor: str = "HP",
) -> float:
    """Multiplier taking an energy (per op) at `from_nm` to `to_nm`: factor(to) / factor(from)."""
    return energy_factor(to_nm, vdd_to, flavor) / energy_factor(from_nm, vdd_from, flavor)


def delay_scale(
    from_nm: int,
    to_nm: int,
    vdd_from: float | None = None,
    vdd_to: float | None = None,
    flavor: str = "HP",
) -> float:
    """Multiplier taking a delay at `from_nm` to `to_nm`: factor(to) / factor(from)."""
    return delay_factor(to_nm, vdd_to, flavor) / delay_factor(from_nm, vdd_from, flavor)


def area_scale(from_nm: int, to_nm: int) -> float:
    """Multiplier taking an area at `from_nm` to `to_nm`: the paper's published table entry."""
    return _AREA[_node(from_nm)][_node(to_nm)]
