"""The page: controls on the left, design-space views, the clicked design's detail, the comparison.

Component ids are constants here so callbacks and browser tests name the same things.
Panels (`problems_panel`, `detail_panel`, `compare_panel`) are functions of plain data.
"""
from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard.data import Catalog, Limits
from dse.space import parse_constraint
from workloads.errors import SpecError

LIMIT_ROWS = 3
MAX_PICKED = 6
DEFAULT_Z = ("area_mm2", "power_w", "tops_per_w")
VIEWS = {"2d": "Pareto front (2 objectives)", "3d": "3 objectives", "parallel": "Parallel coordinates"}
SUMMARY_METRICS = ("latency_s", "energy_j", "area_mm2", "power_w", "tops", "tops_per_w", "utilization",
                   "throughput_inferences_per_s")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #f6f7f9; }
header { background: #1f2d3d; color: #fff; padding: 10px 18px; }
header h1 { font-size: 20px; margin: 0 0 2px 0; }
header .summary { font-size: 13px; color: #c9d3de; }
.main { display: flex; gap: 14px; padding: 12px 14px; align-items: flex-start; }
.controls { width: 290px; flex: none; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 12px; font-size: 13px; }
.controls label.title { display: block; font-weight: 600; margin: 10px 0 3px 0; }
.controls .row { display: flex; gap: 4px; align-items: center; }
.controls .limit { margin-bottom: 8px; }
.controls button { margin: 6px 4px 0 0; }
.views { flex: 1; min-width: 0; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 6px; }
.panel { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 14px; margin: 0 14px 12px 14px; }
.panel h2 { font-size: 17px; margin: 2px 0 8px 0; }
.problem { background: #fff4e5; border: 1px solid #f0a43a; border-radius: 6px; padding: 10px 14px; margin: 12px 14px; }
.problem h2 { font-size: 16px; margin: 0 0 6px 0; color: #8a4b00; }
.problem li { font-family: ui-monospace, monospace; font-size: 13px; }
.stack { position: relative; }
.pane.hidden { position: absolute; top: 0; left: 0; right: 0; visibility: hidden; pointer-events: none; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
table.facts { border-collapse: collapse; font-size: 12px; }
table.facts td, table.facts th { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; }
.note { color: #8a4b00; font-size: 13px; }
.muted { color: #666; font-size: 13px; }
"""


def page_template() -> str:
    """Dash's index page with the stylesheet inline (no external assets)."""
    return ("<!DOCTYPE html><html><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>" + CSS
            + "</style></head><body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>")


def default_limits(catalog: Catalog) -> list[Limits]:
    """The first store's space constraints as metric ranges."""
    limits = []
    for text in catalog.constraints:
        try:
            rule = parse_constraint(text)
        except SpecError:
            continue
        low = rule.bound if rule.op in (">=", ">", "==") else None
        high = rule.bound if rule.op in ("<=", "<", "==") else None
        limits.append(Limits(rule.metric, low, high))
    return limits[:LIMIT_ROWS]


def default_axes(catalog: Catalog) -> tuple[str, str, str]:
    named = [o["metric"] for o in catalog.objectives if o["metric"] in catalog.metrics]
    fallback = [m for m in ("latency_s", "energy_j", *DEFAULT_Z) if m in catalog.metrics] + catalog.metrics
    axes = list(dict.fromkeys([*named, *fallback]))
    return axes[0], axes[1], axes[2]


def _options(names) -> list[dict]:
    return [{"label": name, "value": name} for name in names]


def _axis_control(axis: str, value: str, catalog: Catalog) -> html.Div:
    checks = [{"label": " log", "value": "log"}, {"label": " maximize", "value": "max"}]
    return html.Div([
        html.Label(f"{axis.upper()} objective", className="title"),
        dcc.Dropdown(id=f"{axis}-metric", options=_options(catalog.metrics), value=value, clearable=False),
        dcc.Checklist(id=f"{axis}-options", options=checks, inline=True, inputStyle={"marginLeft": "6px"},
                      value=["max"] if catalog.maximize(value) else []),
    ])


def _limit_row(i: int, catalog: Catalog, limit: Limits | None) -> html.Div:
    number = dict(type="number", debounce=True, style={"width": "100%"})
    return html.Div([
        dcc.Dropdown(id={"role": "limit-metric", "index": i}, options=_options(catalog.metrics),
                     value=limit.metric if limit else None, placeholder="metric"),
        html.Div([dcc.Input(id={"role": "limit-low", "index": i}, placeholder="min",
                            value=limit.low if limit else None, **number),
                  dcc.Input(id={"role": "limit-high", "index": i}, placeholder="max",
                            value=limit.high if limit else None, **number)], className="row"),
    ], className="limit")


def problems_panel(problems: list[str], anything_loaded: bool) -> html.Div | None:
    if not problems:
        return None
    title = ("Some stores could not be opened; the others are shown" if anything_loaded
             else "No result store could be opened")
    return html.Div([html.H2(title), html.Ul([html.Li(line) for line in problems]),
                     html.Div("A store is the folder `quarch sweep SPACE.yaml -o STORE` writes; run or resume the "
                              "sweep, then reload this page after restarting `quarch dashboard`.", className="muted")],
                    id="problems", className="problem")


def build_layout(catalog: Catalog, figure=None, info: str = "") -> html.Div:
    """The page; `figure` and `info`: the 2-D view and summary line it opens with."""
    designs = catalog.rows["key"].nunique() if not catalog.empty else 0
    summary = (f"{len(catalog.stores)} store(s): {', '.join(catalog.stores)} · {len(catalog.rows):,} rows · "
               f"{designs:,} designs · {len(catalog.workloads)} workload(s)" if not catalog.empty else "no store loaded")
    header = html.Header([html.H1("quarch · design-space dashboard"), html.Div(summary, className="summary")])
    problems = problems_panel(catalog.problems, not catalog.empty)
    if catalog.empty:
        return html.Div([header, problems])
    x, y, z = default_axes(catalog)
    limits = default_limits(catalog)
    several = len(catalog.stores) > 1
    colour_options = (["store"] if several else []) + catalog.parameters + ["design", "bound"] + catalog.metrics
    symbol_options = (["store"] if several else []) + catalog.parameters + ["design"]
    controls = html.Div([
        html.Label("Workloads (aggregated as each space says)", className="title"),
        dcc.Dropdown(id="workloads", options=_options(catalog.workloads), value=[], multi=True,
                     placeholder="all workloads"),
        _axis_control("x", x, catalog), _axis_control("y", y, catalog), _axis_control("z", z, catalog),
        html.Label("Colour by", className="title"),
        dcc.Dropdown(id="color", options=_options(colour_options), value="store" if several else None,
                     placeholder="(none)"),
        html.Label("Symbol by", className="title"),
        dcc.Dropdown(id="symbol", options=_options(symbol_options), value=None, placeholder="(none)"),
        html.Label("Constraints (metric between min and max)", className="title"),
        *[_limit_row(i, catalog, limits[i] if i < len(limits) else None) for i in range(LIMIT_ROWS)],
        html.Label("Parallel-coordinate axes", className="title"),
        dcc.Dropdown(id="parallel-dims", options=_options(catalog.parameters + catalog.metrics), multi=True,
                     value=None, placeholder="varying parameters + objectives"),
        html.Button("Clear brushes", id="clear-brushes", n_clicks=0),
        html.Label("Export", className="title"),
        html.Button("Selection CSV", id="export-csv", n_clicks=0),
        html.Button("Figure HTML", id="export-html", n_clicks=0),
        html.Button("Figure PNG", id="export-png", n_clicks=0),
        html.Div(info, id="selection-info", className="muted", style={"marginTop": "8px"}),
    ], className="controls")
    # every view stays mounted, the inactive ones hidden: a WebGL view is built once (its contexts and
    # shaders), drawn in the background after the first paint, and shown again without redrawing
    views = html.Div([
        dcc.Tabs(id="view", value="2d", children=[dcc.Tab(label=label, value=view) for view, label in VIEWS.items()]),
        html.Div([html.Div(dcc.Graph(id=f"graph-{view}", figure=figure if view == "2d" else None,
                                     style={"height": "620px"}, config={"displaylogo": False}),
                           id=f"pane-{view}", className="pane" if view == "2d" else "pane hidden")
                  for view in VIEWS], className="stack"),
        html.Div("Hover over a design to see its parameters; click it for its detail.", id="hover-info",
                 className="muted", style={"padding": "4px 8px", "minHeight": "2.6em"}),
    ], className="views")
    return html.Div([
        header, problems,
        html.Div([controls, views], className="main"),
        html.Div([html.H2("Picked designs"),
                  html.Div("Click a point to open its detail and pick it; tick two or more to compare.",
                           className="muted"),
                  dcc.Checklist(id="picked", options=[], value=[], labelStyle={"display": "block"}),
                  html.Button("Clear picks", id="clear-picked", n_clicks=0),
                  html.Div(id="compare")], className="panel"),
        html.Div(id="detail", className="panel", children=[
            html.Div([html.Span("Detail on workload: "),
                      dcc.Dropdown(id="detail-workload", options=[], value=None, clearable=False,
                                   style={"width": "320px", "display": "inline-block", "verticalAlign": "middle"})]),
            html.Div(id="detail-body", children=html.Div("Click a design to see it layer by layer.",
                                                         className="muted"))]),
        dcc.Store(id="brushes", data={}),
        dcc.Store(id="background-views", data=None),
        dcc.Store(id="drawn-3d", data=None),
        dcc.Store(id="drawn-parallel", data=None),
        dcc.Store(id="detail-key", data=None),
        dcc.Download(id="download"),
        html.Div(id="png-done", style={"display": "none"}),
    ])


def facts_table(values: dict) -> html.Table:
    return html.Table([html.Tr([html.Th(name), html.Td(_text(value))]) for name, value in values.items()],
                      className="facts")


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def detail_panel(key: str, design: dict, figures: list, note: str = "", error: str = "") -> list:
    """Children of the detail panel: what the design is, its figures, or why it cannot be shown."""
    head = [html.H2(f"Design {key}", id="detail-title"), html.Div(facts_table(design), style={"margin": "8px 0"})]
    if error:
        return head + [html.Div(f"Cannot re-simulate: {error}", className="note", id="detail-error")]
    notes = [html.Div(note, className="note")] if note else []
    graphs = [dcc.Graph(figure=figure, id=f"detail-graph-{i}", style={"height": "420px"},
                        config={"displaylogo": False}) for i, figure in enumerate(figures)]
    return head + notes + [html.Div(graphs, className="grid")]


def compare_panel(table: pd.DataFrame, columns: list[str], figures: list, problems: list[str]) -> list:
    """Metrics side by side (one column per design) and the overlaid breakdowns."""
    header = html.Tr([html.Th("")] + [html.Th(key) for key in table["key"]])
    body = [html.Tr([html.Th(column)] + [html.Td(_text(value)) for value in table[column]]) for column in columns]
    out = [html.H2(f"{len(table)} designs side by side"), html.Table([header, *body], className="facts",
                                                                      id="compare-table")]
    out += [html.Div(line, className="note") for line in problems]
    out.append(html.Div([dcc.Graph(figure=f, style={"height": "420px"}, config={"displaylogo": False})
                         for f in figures], className="grid"))
    return out
