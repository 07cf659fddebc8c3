"""`quarch sweep`, `quarch pareto` and `quarch store compact`: design-space exploration from the command line."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, \
    TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from dse.pareto import rank_designs
from dse.space import Objective, load_space, parse_constraint
from dse.store import TARGET_CHUNK_ROWS, compact, read_store, store_metadata
from dse.strategies import STRATEGIES
from dse.sweep import run_sweep
from quarch.cli import app, console, fail
from workloads.errors import SpecError

Strategy = Enum("Strategy", {name: name for name in STRATEGIES}, type=str)
SHOWN_PARAMETERS = 8


@app.command("sweep")
def sweep_command(
    space_file: Annotated[Path, typer.Argument(metavar="SPACE.yaml", help="Space file (see examples/)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Result store folder (created, or resumed)")],
    strategy: Annotated[Strategy, typer.Option(help="Search strategy")] = Strategy.grid,
    budget: Annotated[Optional[int], typer.Option(help="Design points to evaluate (grid: all by default; "
                                                       "others: 100)")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (random, lhs, nsga2, optuna)")] = 0,
    scheduler: Annotated[Optional[str], typer.Option(help="Remote Dask scheduler address (default: "
                                                          "$DASK_SCHEDULER_ADDRESS, else a local cluster)")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Local worker processes (default: one per core)")] = None,
) -> None:
    """Sweep a design space into a resumable Parquet store; rerun to resume."""
    try:
        space = load_space(space_file)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(f"{space.name} ({strategy.value})", total=None, rate="")

            def report(done: int, total: int | None) -> None:
                speed = bar.tasks[0].speed
                bar.update(task, completed=done, total=total, rate=f"{speed * 60:,.0f} evals/min" if speed else "")

            summary = run_sweep(space, output, strategy.value, budget, seed, scheduler, workers, progress=report)
    except SpecError as err:
        fail(str(err))
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(summary.status.items())) or "none"
    console.print(f"{summary.evaluations:,} evaluations ({statuses}) on {summary.workers} workers in "
                  f"{summary.seconds:.1f} s = {summary.rate_per_min:,.0f}/min; {summary.already_stored:,} already "
                  f"stored; store: {summary.store}", highlight=False)
    _print_front(summary.store, None, None, None, limit=10)


@app.command("pareto")
def pareto_command(
    store: Annotated[Path, typer.Argument(metavar="STORE", help="Result store written by `quarch sweep`")],
    objectives: Annotated[Optional[str], typer.Option(help="Comma-separated metrics, each minimized unless "
                                                           "suffixed :max (default: the space's)")] = None,
    constraint: Annotated[Optional[list[str]], typer.Option(help="e.g. 'area_mm2<=5' (repeatable; default: "
                                                                 "the space's)")] = None,
    aggregate: Annotated[Optional[str], typer.Option(help="Over a design's workloads: mean, sum or max "
                                                          "(default: the space's)")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print")] = 50,
    csv: Annotated[bool, typer.Option("--csv", help="Print the whole front as CSV")] = False,
) -> None:
    """Print the Pareto front of a result store over the chosen objectives."""
    try:
        _print_front(store, objectives, constraint, aggregate, limit, csv)
    except SpecError as err:
        fail(str(err))


store_app = typer.Typer(no_args_is_help=True, help="Maintain result stores.")
app.add_typer(store_app, name="store")


@store_app.command("compact")
def compact_command(
    store: Annotated[Path, typer.Argument(metavar="STORE", help="Result store written by `quarch sweep`")],
    target_rows: Annotated[int, typer.Option(min=1, help="Rows per merged chunk at most")] = TARGET_CHUNK_ROWS,
) -> None:
    """Merge a store's small chunks into larger ones (crash-safe; sweeps also do it when they end)."""
    try:
        before = len(list(store.glob("part-*.parquet")))
        compact(store, target_rows)
    except SpecError as err:
        fail(str(err))
    after = len(list(store.glob("part-*.parquet")))
    console.print(f"{store}: {before} chunks -> {after}", highlight=False)


def _print_front(store: Path, objectives: str | None, constraints: list[str] | None, aggregate: str | None,
                 limit: int, csv: bool = False) -> None:
    space = store_metadata(store)["space"]
    goals = _objectives(objectives) if objectives else [Objective(**o) for o in space["objectives"]]
    rules = [parse_constraint(c, field="--constraint") for c in (constraints if constraints is not None
                                                                 else space["constraints"])]
    aggregate = aggregate or space["aggregate"]
    if aggregate not in ("mean", "sum", "max"):
        raise SpecError(f"{aggregate!r}: allowed are mean, sum, max", field="--aggregate")
    parameters = [p for p in space["parameters"] if p != "workload"]
    wanted = list(dict.fromkeys(["design_id", "workload", "status", *parameters, *(o.metric for o in goals),
                                 *(r.metric for r in rules)]))
    available = [c["name"] for c in store_metadata(store)["columns"]]
    for option, metrics in (("--objectives", [o.metric for o in goals]), ("--constraint", [r.metric for r in rules])):
        for metric in metrics:
            if metric not in available:
                raise SpecError(f"{metric!r} is not a column of this store; metrics are "
                                f"{', '.join(available[available.index('design') + 1:])}", field=option)
    frame = read_store(store, columns=wanted)
    ranked = rank_designs(frame, goals, rules, aggregate, design_level=parameters)
    front = ranked[ranked.pareto_rank == 0]
    shown = [p for p in parameters if ranked[p].nunique(dropna=True) > 1][:SHOWN_PARAMETERS]
    columns = ["design_id", *shown, *dict.fromkeys(o.metric for o in goals), *dict.fromkeys(r.metric for r in rules)]
    designs = frame.design_id.nunique()
    if csv:
        typer.echo(front.to_csv(index=False), nl=False)
        return
    title = (f"Pareto front: {len(front)} of {len(ranked)} feasible designs ({designs} in store); "
             f"{', '.join(f'{o.metric} {o.goal[:3]}' for o in goals)}"
             + (f"; {', '.join(map(str, rules))}" if rules else ""))
    table = Table(title=title)
    for column in dict.fromkeys(columns):
        table.add_column(column, justify="left" if column == "design_id" else "right")
    for values in front.head(limit).to_dict("records"):
        table.add_row(*[_cell(values[c]) for c in dict.fromkeys(columns)])
    console.print(table)


def _objectives(text: str) -> list[Objective]:
    goals = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        metric, _, goal = item.partition(":")
        if goal not in ("", "min", "max"):
            raise SpecError(f"{item!r}: suffix an objective with :min or :max", field="--objectives")
        goals.append(Objective(metric=metric, goal="maximize" if goal == "max" else "minimize"))
    if not goals:
        raise SpecError(f"{text!r}: give metrics separated by commas, e.g. latency_s,energy_j", field="--objectives")
    return goals


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
