"""A stored design re-simulated from its parameters, for the per-layer detail view (memoized).

A store holds totals only. The design is rebuilt the way the sweep built it: the store's
space (its metadata, plain JSON) resolves the row's parameter values into a design
(`dse.space.Space.resolve`), whose id must equal the stored `design_id` (else the store was
written by a different space or quarch version, and we say so rather than show another
design); the hardware is validated and the workload loaded with the design's op formats,
then `sim.simulate.simulate` runs it. The stored and re-simulated total latency and energy
are compared, and a mismatch is reported next to the figures.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from pydantic import ValidationError

from dse.space import Space
from hwmodels.pe import Infeasible
from hwmodels.spec import Hardware
from sim.result import Result
from sim.simulate import simulate
from workloads.errors import SpecError, from_validation_error

MATCH_REL_TOL = 1e-9


@dataclass(frozen=True)
class Detail:
    """A design's re-simulated result on one workload, its hardware and what differs from the store."""

    key: str
    workload: str
    result: Result
    hardware: Hardware
    mismatch: str = ""   # empty when the re-simulated totals equal the stored ones


class DetailError(Exception):
    """The design cannot be re-simulated; the message says why (shown in the page)."""


def design_point(row: dict, parameters: tuple[str, ...], kinds: dict[str, str]) -> dict:
    """The sweep point of a stored row: its active parameters, typed as the space file gave them."""
    point = {}
    for name in parameters:
        value = row.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue  # an inactive conditional parameter
        kind = kinds.get(name)
        if kind == "json":
            value = json.loads(value)
        elif kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif kind == "bool":
            value = bool(value)
        else:
            value = str(value)
        point[name] = value
    return point


def resimulate(metadata: dict, row: dict) -> Detail:
    """Re-simulate the stored `row` (one design on one workload) of a store with `metadata`."""
    return _resimulate(json.dumps(metadata["space"], sort_keys=True), json.dumps(_plain(row), sort_keys=True),
                       json.dumps({c["name"]: c["kind"] for c in metadata["columns"]}, sort_keys=True))


@lru_cache(maxsize=128)
def _resimulate(space_json: str, row_json: str, kinds_json: str) -> Detail:
    row, kinds = json.loads(row_json), json.loads(kinds_json)
    try:
        space = Space.model_validate(json.loads(space_json))
        parameters = tuple(space.parameters)
        design = space.resolve(design_point(row, parameters, kinds))
        if design.design_id != row["design_id"]:
            raise DetailError(f"design {row['design_id']}: its stored parameters now resolve to design "
                              f"{design.design_id} (a base design or quarch changed since the sweep), so it "
                              "cannot be re-simulated as stored")
        hardware = Hardware.model_validate(design.hardware(space.bases))
        workload = space.workload(row["workload"], design.formats)[1]
        result = simulate(workload, hardware)
    except ValidationError as err:
        raise DetailError(str(from_validation_error(err))) from None
    except (SpecError, Infeasible) as err:
        raise DetailError(f"design {row['design_id']} on {row['workload']}: {err}") from None
    return Detail(key=row.get("key", row["design_id"]), workload=row["workload"], result=result,
                  hardware=hardware, mismatch=_mismatch(row, result))


def _mismatch(row: dict, result: Result) -> str:
    total = result.total
    differ = [f"{name} stored {row[name]:.6g}, now {getattr(total, name):.6g}"
              for name in ("latency_s", "energy_j")
              if isinstance(row.get(name), (int, float)) and not math.isclose(row[name], getattr(total, name),
                                                                              rel_tol=MATCH_REL_TOL)]
    return ("re-simulation differs from the store (written by another quarch version?): " + "; ".join(differ)
            if differ else "")


def _plain(row: dict) -> dict:
    """JSON-safe copy of a stored row (numpy scalars to Python, NaN to None)."""
    out = {}
    for name, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[name] = value
    return out


def stored_row(rows: pd.DataFrame, key: str, workload: str | None = None) -> dict:
    """The stored row of design `key` on `workload` (its first workload if None)."""
    match = rows[rows["key"] == key]
    if workload is not None:
        match = match[match["workload"] == workload]
    if match.empty:
        raise DetailError(f"no stored row for design {key}" + (f" on {workload}" if workload else ""))
    return match.iloc[0].to_dict()
