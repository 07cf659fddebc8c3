"""Simulation results as plain data: per-op counts and energies, totals, DataFrame and JSON views.

An `OpResult` describes ONE execution of an op (its `repeat` is carried, not applied);
`Result.total` applies repeats. Energies are counts x the energy table, so `sim.energy.reprice`
can redo them for another table without re-simulating.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import pandas as pd


def evolve(instance, **changes):
    """A copy of a frozen dataclass with some fields set, for classes without __post_init__ or
    __slots__: `dataclasses.replace` re-runs __init__ over every field, ten times slower on a
    hot path (and `copy.copy` goes through the pickle protocol)."""
    result = object.__new__(type(instance))
    object.__setattr__(result, "__dict__", {**instance.__dict__, **changes})
    return result


@dataclass(frozen=True)
class OpResult:
    """Counts, timing and energy of one execution of one op."""

    name: str
    kind: str
    repeat: int
    macs: int
    cycles: int
    compute_cycles: int
    stall_cycles: int
    cycles_incl_prefetch: int
    latency_s: float
    utilization: float
    mapping_efficiency: float
    folds: int
    bound: str
    read_bytes: dict[str, float]
    write_bytes: dict[str, float]
    op_counts: dict[str, float]
    compute_energy_pj: dict[str, float] = field(default_factory=dict)
    memory_energy_pj: dict[str, float] = field(default_factory=dict)
    static_energy_j: float = 0.0
    cycle_model: str = "dense"  # "dense", "dense worst case (no ... values)" or "values (...)"
    note: str = ""  # what the target model chose or had to emulate (kernel, tile, format fallback)

    @property
    def energy_j(self) -> float:
        return (sum(self.compute_energy_pj.values()) + sum(self.memory_energy_pj.values())) * 1e-12 \
            + self.static_energy_j

    def to_dict(self) -> dict:
        data = asdict(self)
        data["energy_j"] = self.energy_j
        return data


# Total's figures where more is better; every other numeric one is a cost
HIGHER_IS_BETTER = frozenset({"utilization", "throughput_inferences_per_s", "tops", "tops_per_w"})


@dataclass(frozen=True)
class Total:
    """Whole-workload figures (repeats applied)."""

    cycles: int
    compute_cycles: int
    stall_cycles: int
    latency_s: float
    macs: int
    utilization: float
    energy_j: float
    compute_energy_j: float
    memory_energy_j: dict[str, float]
    static_energy_j: float
    read_bytes: dict[str, float]
    write_bytes: dict[str, float]
    area_mm2: float
    throughput_inferences_per_s: float
    tops: float
    tops_per_w: float
    bound: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    """A design evaluated on a workload."""

    design: str
    workload: str
    clock_hz: float
    pes: int
    area_mm2: float
    ops: tuple[OpResult, ...]
    resources: dict[str, float] = field(default_factory=dict)  # FPGA: used and available DSP/LUT/FF/BRAM/URAM

    @property
    def total(self) -> Total:
        return _total(self)

    def to_dict(self) -> dict:
        data = {"design": self.design, "workload": self.workload, "total": self.total.to_dict(),
                "ops": [op.to_dict() for op in self.ops]}
        if self.resources:
            data["resources"] = dict(self.resources)
        return data

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per op; per-level bytes and energies as `read_bytes.<level>` style columns."""
        rows = []
        for op in self.ops:
            row = {key: value for key, value in op.to_dict().items() if not isinstance(value, dict)}
            for group in ("read_bytes", "write_bytes", "op_counts", "compute_energy_pj", "memory_energy_pj"):
                row.update({f"{group}.{key}": value for key, value in getattr(op, group).items()})
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame.insert(0, "workload", self.workload)
        frame.insert(0, "design", self.design)
        return frame


def _sum(dicts) -> dict[str, float]:
    out: dict[str, float] = {}
    for weight, values in dicts:
        for key, value in values.items():
            out[key] = out.get(key, 0.0) + weight * value
    return out


def _total(result: Result) -> Total:
    ops = result.ops
    cycles = sum(op.cycles * op.repeat for op in ops)
    latency = sum(op.latency_s * op.repeat for op in ops)
    macs = sum(op.macs * op.repeat for op in ops)
    memory = {level: pj * 1e-12 for level, pj in _sum((op.repeat, op.memory_energy_pj) for op in ops).items()}
    compute = sum(sum(op.compute_energy_pj.values()) * op.repeat for op in ops) * 1e-12
    static = sum(op.static_energy_j * op.repeat for op in ops)
    energy = compute + sum(memory.values()) + static
    by_bound = _sum((op.repeat * op.latency_s, {op.bound: 1.0}) for op in ops)
    tops = 2 * macs / latency / 1e12 if latency > 0 else 0.0
    return Total(
        cycles=cycles,
        compute_cycles=sum(op.compute_cycles * op.repeat for op in ops),
        stall_cycles=sum(op.stall_cycles * op.repeat for op in ops),
        latency_s=latency,
        macs=macs,
        utilization=macs / (cycles * result.pes) if cycles > 0 else 0.0,
        energy_j=energy,
        compute_energy_j=compute,
        memory_energy_j=memory,
        static_energy_j=static,
        read_bytes=_sum((op.repeat, op.read_bytes) for op in ops),
        write_bytes=_sum((op.repeat, op.write_bytes) for op in ops),
        area_mm2=result.area_mm2,
        throughput_inferences_per_s=1.0 / latency if latency > 0 else math.inf,
        tops=tops,
        tops_per_w=tops / (energy / latency) if energy > 0 and latency > 0 else 0.0,
        bound=max(by_bound, key=by_bound.get) if by_bound else "compute",
    )
