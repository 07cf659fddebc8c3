"""Evaluate resolved design points on workloads: one result row per (design, workload), memoized per op.

A row holds the identity (design_id, workload, workload_id), status and reason, the
point's parameters, the design's name, every `sim.result.Total` field (per-level dicts
flattened to `read_bytes.<level>` style columns) and power_w = energy_j / latency_s.
status: ok | invalid (the description fails validation) | infeasible (`Infeasible`: the
design cannot run the workload) | error (anything else; the sweep goes on).

Memo (per worker process, keyed by content): an op's `OpResult` depends only on the op's
shape and formats and on the hardware's timing fields — everything except names, clock,
technology node, static power and each level's access energies and area, which only
price. A hit is re-timed for the design's clock (latency_s = cycles_incl_prefetch /
clock_hz, as `sim.simulate` computes it) and re-priced, so the result equals
`sim.simulate.simulate` exactly (tested). On a miss, an array op's bandwidth-free plan
(`sim.simulate.ArrayPlan`: folds, tiles, traffic, counts) may still be shared with an
earlier design that differed in memory bandwidths only; then only its timing is computed.
What an op is on a PE (`sim.simulate.ArrayOp`: resolved formats, GEMM views, word sizes,
counts) is kept per PE and op, so a new design of the same PE only maps and times it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing

from pydantic import ValidationError

from hwmodels.costs import EnergyTable, default_table
from hwmodels.loader import load_hardware
from hwmodels.pe import Infeasible
from hwmodels.spec import Hardware
from sim.result import OpResult, Total, evolve
from sim.simulate import (ArrayOp, ArrayPlan, array_op, has_array_plan, plan_array_op, simulate, simulate_op,
                          time_array_op)
from workloads.errors import SpecError, from_validation_error
from workloads.ops import Gemm
from workloads.workload import Workload

IDENTITY = {"design_id": "str", "workload": "str", "workload_id": "str", "status": "str", "reason": "str",
            "design": "str"}
# Every Total field with its unit; per-level dict fields become one column per memory level.
TOTAL_UNITS = {"cycles": "cycle", "compute_cycles": "cycle", "stall_cycles": "cycle", "latency_s": "s",
               "macs": "MAC", "utilization": "1", "energy_j": "J", "compute_energy_j": "J",
               "memory_energy_j": "J", "static_energy_j": "J", "read_bytes": "B", "write_bytes": "B",
               "area_mm2": "mm^2", "throughput_inferences_per_s": "1/s", "tops": "TOPS",
               "tops_per_w": "TOPS/W", "bound": ""}
PER_LEVEL = ("memory_energy_j", "read_bytes", "write_bytes")
DERIVED_UNITS = {"power_w": "W"}
_KINDS = {int: "int", float: "float", str: "str"}
PRICING_ONLY = {"name", "description", "source", "clock_hz", "technology_node_nm", "static_power_w"}
LEVEL_PRICING_ONLY = {"read_energy_pj_per_byte", "write_energy_pj_per_byte", "area_mm2"}
BANDWIDTHS = {"read_bandwidth_bytes_per_cycle", "write_bandwidth_bytes_per_cycle"}


def metric_names(levels: list[str]) -> list[str]:
    return [name for name, _, _ in metric_columns(levels)]


def metric_columns(levels: list[str]) -> list[tuple[str, str, str]]:
    """(column, kind, unit) of every metric, for the given memory level names."""
    columns = []
    for name, annotation in typing.get_type_hints(Total).items():
        if name in PER_LEVEL:
            columns += [(f"{name}.{level}", "float", TOTAL_UNITS[name]) for level in levels]
        else:
            columns.append((name, _KINDS[annotation], TOTAL_UNITS[name]))
    return columns + [(name, "float", unit) for name, unit in DERIVED_UNITS.items()]


def row_columns(parameters: dict[str, str], levels: list[str]) -> list[tuple[str, str, str]]:
    """The store schema: identity, parameters (name -> kind), metrics; as (column, kind, unit)."""
    return ([(name, kind, "") for name, kind in IDENTITY.items()]
            + [(name, kind, "") for name, kind in parameters.items()]
            + metric_columns(levels))


class OpMemo:
    """`run_op(op, hw)`: `sim.simulate.simulate_op` memoized by content (see module docstring).

    Two levels: whole results keyed by every timing field, and (ASIC array ops) the op's
    bandwidth-free `ArrayPlan` keyed by the timing fields less the levels' bandwidths, so a
    design that differs from an earlier one in bandwidths alone is only re-timed.
    """

    def __init__(self, max_entries: int = 200_000, max_plan_folds: int = 2_000_000):
        self.max_entries, self.max_plan_folds = max_entries, max_plan_folds
        self.results: dict[tuple[str, str], OpResult] = {}
        self.plans: dict[tuple[str, str], ArrayPlan] = {}
        self.array_ops: dict[tuple[str, str], ArrayOp] = {}  # by PE and op: what the op is on that PE
        self.hits = self.misses = self.plan_hits = 0
        self._plan_folds = 0
        self._op_keys: dict[int, tuple[object, str]] = {}
        self._hw: tuple[object, str, str] | None = None

    def run_op(self, op, hw: Hardware) -> OpResult:
        plan_key, timing_key, pe_key = self._hardware_keys(hw)
        op_key = self._op_key(op)
        cached = self.results.get((timing_key, op_key))
        if cached is None:
            self.misses += 1
            if len(self.results) >= self.max_entries:
                self.results.clear()
            self.results[timing_key, op_key] = result = self._simulate(op, hw, (plan_key, op_key), (pe_key, op_key))
            return result
        self.hits += 1
        return evolve(cached, name=op.name, repeat=op.repeat, latency_s=cached.cycles_incl_prefetch / hw.clock_hz)

    def _simulate(self, op, hw: Hardware, plan_key, array_op_key) -> OpResult:
        if not has_array_plan(op, hw):
            return simulate_op(op, hw)
        plan = self.plans.get(plan_key)
        if plan is None:
            facts = self.array_ops.get(array_op_key)
            if facts is None:
                if len(self.array_ops) >= self.max_entries:
                    self.array_ops.clear()
                facts = self.array_ops[array_op_key] = array_op(op, hw.pe)
            plan = plan_array_op(facts, hw)
            if self._plan_folds + plan.folds > self.max_plan_folds:  # plans hold per-fold arrays
                self.plans.clear()
                self._plan_folds = 0
            self.plans[plan_key] = plan
            self._plan_folds += plan.folds
        else:
            self.plan_hits += 1
        # a plan (and an ArrayOp) serves every op of its shape: the result reports this op's name and repeat
        return evolve(time_array_op(plan, hw), name=op.name, repeat=op.repeat)

    def _hardware_keys(self, hw: Hardware) -> tuple[str, str, str]:
        if self._hw is None or self._hw[0] is not hw:
            plan_key = hw.model_dump_json(exclude={**{f: True for f in PRICING_ONLY},
                                                   "memory": {"__all__": LEVEL_PRICING_ONLY | BANDWIDTHS}})
            bandwidths = json.dumps([[level.read_bandwidth_bytes_per_cycle, level.write_bandwidth_bytes_per_cycle]
                                     for level in hw.memory], sort_keys=True)
            self._hw = (hw, plan_key, plan_key + bandwidths, hw.pe.model_dump_json())
        return self._hw[1:]

    def _op_key(self, op) -> str:
        entry = self._op_keys.get(id(op))
        if entry is None or entry[0] is not op:  # ids are reused once an op is freed
            if len(self._op_keys) > 10_000:
                self._op_keys.clear()
            entry = self._op_keys[id(op)] = (op, op.model_dump_json(exclude={"name", "repeat"}))
        return entry[1]


_MEMO = OpMemo()
_TABLES: dict[int, EnergyTable] = {}


def evaluate_batch(designs: list, shared: tuple[dict, dict]) -> list[dict]:
    """Rows for `designs`: pairs (`dse.space.Design`, [(workload name, workload_id), ...]).

    `shared` = (base designs by spec, workloads by workload_id). Runs inside a worker; a bad
    point becomes a row with its status and reason, never an exception.
    """
    _one_numba_thread()
    bases, workloads = shared
    rows = []
    for design, runs in designs:
        hw, status, reason = None, "ok", ""
        try:
            hw = Hardware.model_validate(design.hardware(bases))
        except SpecError as err:
            status, reason = "invalid", err.detail
        except ValidationError as err:
            status, reason = "invalid", str(from_validation_error(err))
        except Exception as err:  # noqa: BLE001 — a bad point is a row, never a crashed sweep
            status, reason = "error", f"{type(err).__name__}: {err}"
        for workload, workload_id in runs:
            row = {"design_id": design.design_id, "workload": workload, "workload_id": workload_id,
                   "design": hw.name if hw else None, **design.point}
            if hw is None:
                rows.append({**row, "status": status, "reason": reason})
                continue
            rows.append({**row, **evaluate_one(workloads[workload_id], hw)})
    return rows


def evaluate_one(workload, hw: Hardware, memo: OpMemo | None = None) -> dict:
    """status, reason and metric columns of one (workload, design)."""
    memo = memo or _MEMO
    table = _TABLES.get(hw.technology_node_nm)
    if table is None:  # one table object per node, so its memoized prices are found by identity
        table = _TABLES[hw.technology_node_nm] = default_table(hw.technology_node_nm)
    try:
        total = simulate(workload, hw, table, run_op=memo.run_op).total
    except (Infeasible, SpecError) as err:
        return {"status": "infeasible", "reason": str(err)}
    except Exception as err:  # noqa: BLE001
        return {"status": "error", "reason": f"{type(err).__name__}: {err}"}
    return {"status": "ok", "reason": "", **metrics(total)}


def metrics(total: Total) -> dict:
    row = {}
    for field in dataclasses.fields(Total):
        value = getattr(total, field.name)
        if field.name in PER_LEVEL:
            row.update({f"{field.name}.{level}": v for level, v in value.items()})
        else:
            row[field.name] = value
    row["power_w"] = total.energy_j / total.latency_s if total.latency_s > 0 else math.nan
    return row


def _one_numba_thread() -> None:
    """Workers run one process per core: Numba must not spawn threads of its own."""
    import numba
    from numba.core import config
    # A Dask nanny sets NUMBA_NUM_THREADS after numba was imported; the thread pool must start with
    # the count the environment states, or the next compile's config reload refuses to run.
    config.reload_config()
    if numba.get_num_threads() != 1:
        numba.set_num_threads(1)


def warm_up() -> None:
    """Load the simulator's compiled kernels in this process (from Numba's cache, or compiled
    when it is cold) by simulating one small GEMM, so that a worker's first task does not."""
    _one_numba_thread()
    hw = load_hardware("systolic-int8-32x32-os")
    simulate(Workload(ops=(Gemm(name="warm-up", m=64, n=64, k=64),)), hw)
