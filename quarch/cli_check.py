"""`quarch check` and `quarch baseline create`: regression checks on simulated figures (see quarch.regression).

Exit codes of `quarch check`: 0 every guarded metric holds, 1 a regression (or, with --strict, an
improvement beyond tolerance; or a design that can no longer run its workload), 2 bad input.
"""
from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from quarch import regression
from quarch.cli import app, console, fail
from workloads.errors import SpecError

baseline_app = typer.Typer(no_args_is_help=True, help="Make regression baselines for `quarch check`.")
app.add_typer(baseline_app, name="baseline")

JOBS_HELP = "Worker processes that simulate entries in parallel (default: all cores; 1: none)"
STATUS_STYLE = {regression.OK: "green", regression.IMPROVED: "cyan", regression.REGRESSED: "bold red",
                regression.INFEASIBLE: "bold red"}


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


@baseline_app.command("create")
def baseline_create(
    entries: Annotated[Path, typer.Argument(help="Entries file: hw, set, workload, metrics (+ tolerances) per entry")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Baseline file to write (YAML)")],
    jobs: Annotated[Optional[int], typer.Option("--jobs", min=1, help=JOBS_HELP)] = None,
) -> None:
    """Simulate every entry and record its current values, with the quarch version and git revision."""
    try:
        data = regression.create(entries, output, jobs=jobs)
    except SpecError as err:
        fail(str(err))
    try:
        output.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None))
    except OSError as err:
        fail(f"{output}: cannot write file: {err.strerror}")
    metrics = sum(len(entry["metrics"]) for entry in data["entries"])
    console.print(f"wrote {output}: {len(data['entries'])} entries, {metrics} metrics "
                  f"(quarch {data['quarch_version']}, revision {data['git_revision']})", highlight=False)


@app.command("check")
def check_command(
    baseline: Annotated[Path, typer.Argument(help="Baseline file made by `quarch baseline create`")],
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Also write JUnit XML here (one test case per entry)")] = None,
    output: Annotated[CheckFormat, typer.Option("--format", help="Output format")] = CheckFormat.table,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on improvements beyond tolerance too "
                                                          "(the baseline must be updated)")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", min=1, help=JOBS_HELP)] = None,
) -> None:
    """Re-simulate a baseline's entries; exit 0 if every metric holds, 1 on a regression, 2 on bad input."""
    try:
        report = regression.check(baseline, strict=strict, jobs=jobs)
    except SpecError as err:
        fail(str(err))
    if junit is not None:
        try:
            junit.write_text(report.to_junit_xml())
        except OSError as err:
            fail(f"{junit}: cannot write file: {err.strerror}")
    if output is CheckFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=1))
    else:
        _print_report(report)
    raise typer.Exit(0 if report.passed else 1)


def _print_report(report: regression.Report) -> None:
    table = Table(title=f"quarch check {report.baseline}")
    for column in ("entry", "metric", "expected", "actual", "delta %", "tolerance", "status"):
        table.add_column(column, justify="left" if column in ("entry", "metric", "status") else "right")
    for entry in report.entries:
        if entry.infeasible is not None:
            table.add_row(escape(entry.name), "", "", "", "", "", escape(f"infeasible: {entry.infeasible}"),
                          style=STATUS_STYLE[regression.INFEASIBLE])
        for index, m in enumerate(entry.metrics):
            status = m.status + (" (--strict)" if m.failed(report.strict) and m.status == regression.IMPROVED else "")
            table.add_row(escape(entry.name) if index == 0 else "", m.metric, f"{m.expected:.6g}", f"{m.actual:.6g}",
                          f"{m.delta_pct:+.3g}", m.tolerance.describe(), f"[{STATUS_STYLE[m.status]}]{status}[/]",
                          end_section=index == len(entry.metrics) - 1)
    console.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
    verdict = "[green]PASS[/]" if report.passed else "[bold red]FAIL[/]"
    console.print(f"{verdict}: {len(report.entries)} entries, {counts}. Baseline recorded with quarch "
                  f"{report.recorded_version or '?'} at {report.recorded_revision or '?'}; now quarch "
                  f"{report.version} at {report.revision}.", highlight=False)
