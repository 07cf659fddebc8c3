"""Result stores as the dashboard sees them: loaded once, one row per design, filtered, ranked.

`load_catalog(paths)` reads every store with `dse.store.read_store` (Parquet and the JSON
metadata only: nothing in a store is ever executed or unpickled). A store that is missing,
empty or unreadable becomes one line in `Catalog.problems`, shown in the page, and the
others load. Rows of all stores are stacked with a `store` column naming each; a design's
`key` is `store:design_id`.

`designs(catalog, workloads)` gives one row per design: its metrics aggregated over the
chosen workloads the way its store's space says (`dse.pareto.per_design`; a design with a
row that is not ok is dropped). `select` then applies constraints (metric ranges) and
parallel-coordinate brushes, and ranks the survivors over the plotted objectives with
`dse.pareto.pareto_rank` (rank 0 = the front).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dse.pareto import pareto_rank, per_design
from dse.store import read_store, require_store, store_metadata
from sim.result import HIGHER_IS_BETTER
from workloads.errors import SpecError

IDENTITY = ("design_id", "workload", "workload_id", "status", "reason", "design")
NOT_METRICS = ("bound",)
MAX_DETAIL = 200  # characters of a reader's error quoted in a problem line


@dataclass(frozen=True)
class StoreInfo:
    """One loaded store: its label in the page, folder, metadata and parameter names."""

    label: str
    path: Path
    metadata: dict
    parameters: tuple[str, ...]


@dataclass(eq=False)
class Catalog:
    """Every row of every readable store, and what the page needs to know about them."""

    rows: pd.DataFrame
    stores: dict[str, StoreInfo]
    parameters: list[str]                     # union over stores, in order
    metrics: list[str]                        # numeric result columns
    units: dict[str, str]
    workloads: list[str]
    problems: list[str] = field(default_factory=list)
    objectives: list[dict] = field(default_factory=list)   # of the first store's space
    constraints: list[str] = field(default_factory=list)
    per_design: dict = field(default_factory=dict, repr=False)  # workloads -> `designs` table (memo)

    @property
    def empty(self) -> bool:
        return self.rows.empty

    def label(self, column: str) -> str:
        """`column [unit]` for axis titles."""
        unit = self.units.get(column)
        return f"{column} [{unit}]" if unit and unit != "1" else column

    def maximize(self, metric: str) -> bool:
        goals = {o["metric"]: o.get("goal") == "maximize" for o in self.objectives}
        return goals.get(metric, metric.split(".", 1)[0] in HIGHER_IS_BETTER)


def load_catalog(paths: list[str | Path]) -> Catalog:
    """Load the stores at `paths`; a bad one is a line in `problems`, never an exception."""
    frames, stores, problems = [], {}, []
    units: dict[str, str] = {}
    for path in map(Path, paths):
        try:
            info, frame = _load_store(path, _unique_label(path, stores))
        except SpecError as err:
            problems.append(str(err))
            continue
        stores[info.label] = info
        frames.append(frame)
        for column in info.metadata["columns"]:
            units.setdefault(column["name"], column.get("unit") or "")
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*IDENTITY, "store", "key"])
    parameters = list(dict.fromkeys(p for info in stores.values() for p in info.parameters))
    taken = set(IDENTITY) | set(parameters) | {"store", "key", *NOT_METRICS}
    metrics = [c for c in rows.columns if c not in taken and pd.api.types.is_numeric_dtype(rows[c])]
    first = next(iter(stores.values()), None)
    space = first.metadata.get("space", {}) if first else {}
    return Catalog(rows=rows, stores=stores, parameters=parameters, metrics=metrics, units=units,
                   workloads=sorted(rows["workload"].dropna().unique()) if not rows.empty else [],
                   problems=problems, objectives=list(space.get("objectives", [])),
                   constraints=list(space.get("constraints", [])))


def _unique_label(path: Path, taken: dict) -> str:
    label = path.name or str(path)
    n = 2
    while label in taken:
        label, n = f"{path.name}-{n}", n + 1
    return label


def _load_store(path: Path, label: str) -> tuple[StoreInfo, pd.DataFrame]:
    if not path.exists():
        raise SpecError("does not exist: give a folder written by `quarch sweep`", file=path)
    if not path.is_dir():
        raise SpecError("is not a folder: a result store is the folder `quarch sweep -o` wrote", file=path)
    require_store(path)
    try:
        metadata = store_metadata(path)
        parameters = tuple(p for p in metadata["space"]["parameters"] if p != "workload")
        kinds = {c["name"]: c["kind"] for c in metadata["columns"]}
        frame = read_store(path)
    except (OSError, ValueError, KeyError, TypeError) as err:  # bad JSON, Arrow errors (SpecError is a ValueError)
        detail = err.detail if isinstance(err, SpecError) else f"{type(err).__name__}: {err}"
        raise SpecError(f"is not a readable quarch result store ({detail[:MAX_DETAIL]})", file=path) from None
    if frame.empty:
        raise SpecError("holds no results yet: run (or resume) `quarch sweep` into it first", file=path)
    for name in parameters:
        if kinds.get(name) == "json":  # per-operand values are stored as JSON text; shown as such
            frame[name] = frame[name].map(lambda text: text if text is None else json.dumps(json.loads(text)))
    frame.insert(0, "store", label)
    frame.insert(1, "key", label + ":" + frame["design_id"].astype(str))
    return StoreInfo(label=label, path=path, metadata=metadata, parameters=parameters), frame


def designs(catalog: Catalog, workloads: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per design (key, store, design_id, design, parameters, metrics) over `workloads` (all if empty)."""
    workloads = tuple(sorted(workloads))
    if workloads not in catalog.per_design:
        rows = catalog.rows[catalog.rows["workload"].isin(workloads)] if workloads else catalog.rows
        tables = []
        for label, info in catalog.stores.items():
            part = rows[rows["store"] == label]
            if not part.empty:
                aggregate = info.metadata.get("space", {}).get("aggregate", "mean")
                fixed = ["store", "design_id", "design", *info.parameters]
                tables.append(_per_design(part, fixed, [m for m in catalog.metrics if m in part], aggregate))
        columns = ["key", "store", "design_id", "design", *catalog.parameters, *catalog.metrics]
        table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
        if len(catalog.per_design) > 8:
            catalog.per_design.clear()
        catalog.per_design[workloads] = table
    return catalog.per_design[workloads]


def _per_design(part: pd.DataFrame, fixed: list[str], metrics: list[str], aggregate: str) -> pd.DataFrame:
    """`dse.pareto.per_design` keyed by `key` (a design id may be in several stores)."""
    keyed = part.rename(columns={"design_id": "_design_id", "key": "design_id"})
    level = ["_design_id" if c == "design_id" else c for c in fixed]
    table = per_design(keyed, [*level, *metrics], aggregate, design_level=level)
    return table.rename(columns={"design_id": "key", "_design_id": "design_id"})


@dataclass(frozen=True)
class Limits:
    """A metric range a design must fall in (either end may be open)."""

    metric: str
    low: float | None = None
    high: float | None = None

    def mask(self, values: np.ndarray) -> np.ndarray:
        keep = np.isfinite(values)
        if self.low is not None:
            keep &= values >= self.low
        if self.high is not None:
            keep &= values <= self.high
        return keep


def select(table: pd.DataFrame, objectives: list[str], maximize: list[bool], limits: list[Limits] = (),
           brushes: dict[str, list[list[float]]] | None = None) -> pd.DataFrame:
    """Designs within every limit and brush, ranked over `objectives` (`pareto_rank`, 0 = front)."""
    keep = np.ones(len(table), dtype=bool)
    for limit in limits:
        if limit.metric in table.columns:
            keep &= limit.mask(pd.to_numeric(table[limit.metric], errors="coerce").to_numpy(dtype=float))
    for column, ranges in (brushes or {}).items():
        if column in table.columns and ranges:
            values = axis_values(table[column])
            inside = np.zeros(len(table), dtype=bool)
            for low, high in ranges:
                inside |= (values >= low) & (values <= high)
            keep &= inside
    values = table[objectives].to_numpy(dtype=float) if objectives else np.zeros((len(table), 0))
    keep &= np.isfinite(values).all(axis=1)
    chosen = table[keep].copy()
    chosen["pareto_rank"] = pareto_rank(values[keep], maximize) if len(chosen) and objectives else 0
    return chosen


def categories(column: pd.Series) -> list[str]:
    """The sorted distinct values of a non-numeric column, as text."""
    return sorted(column.dropna().astype(str).unique())


def axis_values(column: pd.Series) -> np.ndarray:
    """Numbers to place a column on an axis: itself if numeric, else the index of its category."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float)
    names = categories(column)
    codes = pd.Categorical(column.astype(str).where(column.notna()), categories=names).codes
    return np.where(codes >= 0, codes, np.nan).astype(float)


def varying(table: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns that take more than one value in `table`."""
    return [c for c in columns if c in table.columns and table[c].nunique(dropna=True) > 1]
