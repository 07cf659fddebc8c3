"""`quarch validate`: reproduce the published low-bit PE results and compare (quarch.validation)."""
from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from quarch.cli import app, console, fail
from quarch.validation import run_all
from quarch.validation.claims import REPRODUCTIONS


def _figure(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (tuple, list)):
        return "-".join(f"{v:.3g}" for v in value)
    return f"{value:.4g}"


@app.command("validate")
def validate_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of claim outcomes")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="Run only these reproductions")] = None,
) -> None:
    """Reproduce each published claim and print published vs quarch, relative error, tolerance, pass."""
    unknown = sorted(set(only or []) - set(REPRODUCTIONS))
    if unknown:
        fail(f"--only: no reproduction {unknown[0]!r}: allowed are {', '.join(REPRODUCTIONS)}")
    outcomes = run_all((lambda name: name in only) if only else None)
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in outcomes], indent=1))
        return
    table = Table(title=f"published claims: {sum(o.passed for o in outcomes)} of {len(outcomes)} reproduced")
    for column in ("claim", "source", "published", "quarch", "rel. error", "tolerance", "pass", "note"):
        table.add_column(column, justify="right" if column in ("published", "quarch", "rel. error", "tolerance")
                         else "left", overflow="fold")
    for o in outcomes:
        error = "-" if o.rel_error is None else f"{o.rel_error:+.1%}"
        check = {"ratio": f"±{o.tolerance:.0%}", "at_least": f">= -{o.tolerance:.0%}", "range": "in range"}[o.check]
        table.add_row(o.claim, o.source, _figure(o.published), _figure(o.quarch), error, check,
                      "[green]yes[/]" if o.passed else "[red]no[/]", o.note)
    console.print(table)
