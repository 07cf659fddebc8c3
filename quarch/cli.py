"""The `quarch` command line: simulate, compare (designs on one workload), presets, formats.

Bad input never shows a traceback: a `SpecError` (or an infeasible design) prints one line
naming the file, field and value, and exits with code 2.
"""
from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hwmodels.loader import load_hardware, preset_names
from hwmodels.pe import Infeasible
from sim.simulate import simulate
from workloads.errors import SpecError
from workloads.formats import list_formats
from workloads.loader import load_workload

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="quarch: cycle-approximate simulator and co-design explorer for low-bit NN accelerators.")
console = Console(width=None if sys.stdout.isatty() else 160)
DEFAULT_DESIGNS = ("systolic-int8-32x32-os", "systolic-int8-64x64-ws", "systolic-fp16-32x32-os")


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str) -> None:
    """Print a one-line error and exit with code 2 (bad input)."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command("simulate")
def simulate_command(
    hw: Annotated[str, typer.Option("--hw", help="Preset name, quarch YAML file or SCALE-Sim .cfg")],
    workload: Annotated[str, typer.Option("--workload", help="Built-in name, trace file, SCALE-Sim topology .csv, "
                                                             "or inline op like gemm:M=64,N=4096,K=4096,w=int4,a=fp16")],
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a hardware field: key.path=value")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format")] = OutputFormat.table,
) -> None:
    """Simulate one workload on one design and print per-op and total figures."""
    try:
        design = load_hardware(hw, set_ or [])
        result = simulate(load_workload(workload), design)
    except (SpecError, Infeasible) as err:
        fail(str(err))
    if output is OutputFormat.json:
        typer.echo(result.to_json())
    elif output is OutputFormat.csv:
        typer.echo(result.to_dataframe().to_csv(index=False), nl=False)
    else:
        _print_result(result)


@app.command("compare")
def compare_command(
    workload: Annotated[str, typer.Option("--workload", help="Workload to compare the designs on")] = "resnet18",
    hw: Annotated[Optional[list[str]], typer.Option("--hw", help="Designs to compare (default: built-in baselines)")] = None,
) -> None:
    """Simulate a workload on several designs (built-in baselines by default) and compare them in one table."""
    try:
        wl = load_workload(workload)
        designs = [load_hardware(name) for name in (hw or DEFAULT_DESIGNS)]
    except SpecError as err:
        fail(str(err))
    table = Table(title=f"{wl.name}: {wl.macs / 1e9:.3g} G MACs, {len(wl.ops)} ops")
    for column in ("design", "latency ms", "energy mJ", "TOPS", "TOPS/W", "utilization", "area mm²", "bound"):
        table.add_column(column, justify="left" if column in ("design", "bound") else "right")
    for design in designs:
        try:
            t = simulate(wl, design).total
        except Infeasible as err:  # a design that cannot run the workload is a row, not a crash
            table.add_row(design.name, *["-"] * 6, f"infeasible: {err}")
            continue
        table.add_row(design.name, f"{t.latency_s * 1e3:.4g}", f"{t.energy_j * 1e3:.4g}", f"{t.tops:.3g}",
                      f"{t.tops_per_w:.3g}", f"{t.utilization:.1%}", f"{t.area_mm2:.3g}", t.bound)
    console.print(table)


@app.command("presets")
def presets_command() -> None:
    """List the built-in hardware presets."""
    table = Table(title="hardware presets")
    table.add_column("name")
    table.add_column("description")
    for name in preset_names():
        table.add_row(name, load_hardware(name).description)
    console.print(table)


@app.command("formats")
def formats_command() -> None:
    """List the number formats ops can use."""
    table = Table(title="number formats")
    for column in ("name", "kind", "bits", "bits/element", "description"):
        table.add_column(column)
    for fmt in list_formats():
        table.add_row(fmt.name, fmt.kind, str(fmt.bits), f"{fmt.bits_per_element:g}", fmt.description)
    console.print(table)


def _print_result(result) -> None:
    table = Table(title=f"{result.design} on {result.workload}")
    for column in ("op", "kind", "repeat", "MACs", "cycles", "stall", "latency µs", "energy µJ", "util", "bound"):
        table.add_column(column, justify="left" if column in ("op", "kind", "bound") else "right")
    for op in result.ops:
        table.add_row(op.name, op.kind, str(op.repeat), f"{op.macs:,}", f"{op.cycles:,}", f"{op.stall_cycles:,}",
                      f"{op.latency_s * 1e6:.4g}", f"{op.energy_j * 1e6:.4g}", f"{op.utilization:.1%}", op.bound)
    t = result.total
    table.add_row("total", "", "", f"{t.macs:,}", f"{t.cycles:,}", f"{t.stall_cycles:,}", f"{t.latency_s * 1e6:.4g}",
                  f"{t.energy_j * 1e6:.4g}", f"{t.utilization:.1%}", t.bound, style="bold")
    console.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# Commands of other topics live in their own modules and register themselves on `app`
# (one import line each, kept at the end to avoid a circular import).
from quarch import cli_trace  # noqa: E402,F401
from quarch import cli_validate  # noqa: E402,F401
from quarch import cli_check  # noqa: E402,F401
from quarch import cli_dse  # noqa: E402,F401
from quarch import cli_serve  # noqa: E402,F401
from quarch import cli_dashboard  # noqa: E402,F401
