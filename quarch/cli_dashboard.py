"""`quarch dashboard` (serve the web app over result stores) and `quarch run` (the main job: sweep, front, dashboard)."""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from quarch.cli import app, console, fail
from quarch.cli_dse import Strategy, sweep_command

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RUN_SPACE = EXAMPLES / "mac-resnet50.yaml"
RUN_OUTPUT = Path("quarch-out")
RUN_STRATEGY, RUN_BUDGET, RUN_SEED = "lhs", 160, 0


def serve(stores: list[Path], host: str, port: int) -> None:
    """Load the stores and serve the dashboard until Ctrl-C; exit 2 (one line) when none can be shown."""
    from dashboard.app import make_app  # dash and plotly load only for this command
    from dashboard.data import load_catalog

    catalog = load_catalog(stores)
    if catalog.empty:
        fail(catalog.problems[0] if len(catalog.problems) == 1 else
             f"no store can be shown: {'; '.join(catalog.problems)}")
    warn = Console(stderr=True)
    for problem in catalog.problems:
        warn.print(f"[bold yellow]warning:[/] skipped {problem}", highlight=False, soft_wrap=True)
    if not _loopback(host):
        warn.print(f"[bold yellow]warning:[/] serving on {host}: anyone who can reach this machine on port {port} "
                   "can read these results and make it simulate; the default, 127.0.0.1, keeps it local",
                   highlight=False, soft_wrap=True)
    dash_app = make_app(catalog=catalog)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    console.print(f"dashboard on {len(catalog.rows):,} rows of {', '.join(catalog.stores)}: "
                  f"http://{shown}:{port}/  (Ctrl-C stops it)", highlight=False, soft_wrap=True)
    try:
        dash_app.run(host=host, port=port, debug=False)
    except OSError as err:
        fail(f"cannot serve on {host}:{port}: {err.strerror or err}; give another --port or --host")
    except SystemExit as err:  # werkzeug exits when the port is taken
        fail(f"cannot serve on {host}:{port} (is the port in use? give another --port): exit {err.code}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


HostOption = Annotated[str, typer.Option(help="Address to bind; anything but loopback exposes the results")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on")]


@app.command("dashboard")
def dashboard_command(
    stores: Annotated[list[Path], typer.Argument(metavar="STORE...", help="Result stores written by `quarch sweep`")],
    host: HostOption = "127.0.0.1",
    port: PortOption = 8050,
) -> None:
    """Serve a web dashboard over result stores: Pareto fronts, parallel coordinates, drill-down, comparison."""
    serve(stores, host, port)


@app.command("run")
def run_command(
    space: Annotated[Path, typer.Option(help="Space file to sweep")] = RUN_SPACE,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Result store (default: "
                                                   "quarch-out/<space name>; rerun to resume)")] = None,
    strategy: Annotated[Strategy, typer.Option(help="Search strategy")] = Strategy(RUN_STRATEGY),
    budget: Annotated[Optional[int], typer.Option(help="Design points to evaluate")] = RUN_BUDGET,
    dashboard: Annotated[bool, typer.Option("--dashboard/--no-dashboard", help="Serve the dashboard on the "
                                                                               "store afterwards")] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8050,
) -> None:
    """The main job: sweep an example design space, print its Pareto front, open the dashboard on it."""
    if not space.exists():
        fail(f"{space}: space file not found (the examples/ folder comes with a source checkout); "
             "give --space SPACE.yaml")
    store = output or RUN_OUTPUT / space.stem
    sweep_command(space_file=space, output=store, strategy=strategy, budget=budget, seed=RUN_SEED,
                  scheduler=None, workers=None)
    if dashboard:
        serve([store], host, port)
