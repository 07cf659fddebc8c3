"""What the page does: plain functions of the catalog and the controls, and the Dash wiring around them.

Every callback body is a call to one of the functions above it (`view_figure`, `brushes_after`,
`pick`, `detail_children`, `compare_children`, `selection_csv`, ...), which take and return
plain data and are tested without a browser. The data never leaves the server except as
figures: filtering, ranking and re-simulation happen here, per interaction.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.io
from dash import ALL, Dash, Input, Output, Patch, State, ctx, no_update

from dashboard import figures
from dashboard.data import Catalog, Limits, designs, select, varying
from dashboard.detail import DetailError, resimulate, stored_row
from dashboard.layout import MAX_PICKED, SUMMARY_METRICS, compare_panel, default_axes, default_limits, detail_panel

_BRUSH_KEY = re.compile(r"^dimensions\[(\d+)\]\.constraintrange$")


@dataclass(frozen=True)
class Settings:
    """The controls that shape every design-space view."""

    x: str
    y: str
    z: str
    workloads: tuple[str, ...] = ()
    x_options: tuple[str, ...] = ()
    y_options: tuple[str, ...] = ()
    z_options: tuple[str, ...] = ()
    color: str | None = None
    symbol: str | None = None
    limits: tuple[Limits, ...] = field(default_factory=tuple)

    @classmethod
    def from_controls(cls, workloads, x, x_options, y, y_options, z, z_options, color, symbol,
                      limit_metrics, limit_lows, limit_highs) -> "Settings":
        limits = tuple(Limits(metric, _number(low), _number(high))
                       for metric, low, high in zip(limit_metrics, limit_lows, limit_highs)
                       if metric and (_number(low) is not None or _number(high) is not None))
        return cls(x=x, y=y, z=z, workloads=tuple(workloads or ()), x_options=tuple(x_options or ()),
                   y_options=tuple(y_options or ()), z_options=tuple(z_options or ()), color=color or None,
                   symbol=symbol or None, limits=limits)

    def axes(self, view: str) -> list[str]:
        return [self.x, self.y, self.z] if view == "3d" else [self.x, self.y]

    def maximize(self, view: str) -> list[bool]:
        return self._ticked("max", view)

    def log(self, view: str) -> list[bool]:
        return self._ticked("log", view)

    def _ticked(self, option: str, view: str) -> list[bool]:
        """Whether each of the view's axes has `option` ticked."""
        options = (self.x_options, self.y_options, self.z_options)
        return [option in o for o in options[:len(self.axes(view))]]


def _number(value) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def labels(catalog: Catalog) -> dict[str, str]:
    return {name: catalog.label(name) for name in catalog.metrics}


def view_table(catalog: Catalog, settings: Settings, view: str, brushes: dict | None) -> pd.DataFrame:
    """Designs shown in `view`: within the limits and brushes, ranked over the view's objectives."""
    return select(designs(catalog, settings.workloads), settings.axes(view), settings.maximize(view),
                  list(settings.limits), brushes)


def parallel_dimensions(catalog: Catalog, settings: Settings, chosen: list[str] | None) -> list[str]:
    """The chosen axes, or the parameters that vary plus the plotted objectives."""
    if chosen:
        return list(chosen)
    table = designs(catalog, settings.workloads)
    extra = ["store"] if len(catalog.stores) > 1 else []
    return list(dict.fromkeys([*extra, *varying(table, catalog.parameters), settings.x, settings.y]))


def view_figure(catalog: Catalog, settings: Settings, view: str, brushes: dict | None, picked: list[str],
                chosen_dimensions: list[str] | None = None, table: pd.DataFrame | None = None,
                zoom: dict | None = None):
    """The figure of `view` (2d, 3d or parallel); `table`: its `view_table` if already made; `zoom`:
    the 2-D view's zoomed ranges (`zoomed_ranges`)."""
    names = labels(catalog)
    if view == "parallel":  # brushes are drawn on it, not applied to it
        table = view_table(catalog, settings, "2d", None)
        return figures.parallel_figure(table, parallel_dimensions(catalog, settings, chosen_dimensions), names,
                                       brushes)
    table = view_table(catalog, settings, view, brushes) if table is None else table
    if view == "3d":
        return figures.front_3d_figure(table, settings.x, settings.y, settings.z, names, tuple(settings.log("3d")),
                                       settings.color, settings.symbol)
    log_x, log_y = settings.log("2d")
    return figures.front_figure(table, settings.x, settings.y, names, log_x, log_y, settings.color, settings.symbol,
                                picked, zoom)


def zoomed_ranges(relayout: dict | None) -> dict | None:
    """{"x": (low, high), "y": ...} that a zoom or pan of the 2-D view set (axis units: log10 on a log
    axis), {} when it went back to autorange, None when the event is not about the axes' ranges."""
    relayout = relayout or {}
    if not any(key.startswith(("xaxis.range", "yaxis.range", "xaxis.autorange", "yaxis.autorange"))
               for key in relayout):
        return None
    ranges = {}
    for axis in "xy":
        pair = relayout.get(f"{axis}axis.range") or [relayout.get(f"{axis}axis.range[0]"),
                                                     relayout.get(f"{axis}axis.range[1]")]
        if None not in pair and not relayout.get(f"{axis}axis.autorange"):
            ranges[axis] = (float(pair[0]), float(pair[1]))
    return ranges


def picked_patch(table: pd.DataFrame, settings: Settings, picked: list[str]) -> Patch:
    """The 2-D figure's change when the picked designs change: its first trace, the rings, only."""
    patch = Patch()
    patch["data"][0].update(figures.picked_points(table[table["key"].isin(picked)], settings.x, settings.y))
    return patch


def selection_info(catalog: Catalog, settings: Settings, brushes: dict | None, table: pd.DataFrame) -> str:
    """How many designs the views show (`table`: the 2-D view's) and how many are on the front."""
    total = len(designs(catalog, settings.workloads))
    brushed = f"; brushed on {', '.join(brushes)}" if brushes else ""
    return (f"{len(table):,} of {total:,} designs meet the constraints{brushed}; "
            f"{int((table['pareto_rank'] == 0).sum()) if len(table) else 0} on the front.")


def initial_view(catalog: Catalog) -> tuple:
    """The 2-D figure and summary line the page opens with (drawn once, sent with the page)."""
    x, y, z = default_axes(catalog)
    settings = Settings(x=x, y=y, z=z, x_options=("max",) if catalog.maximize(x) else (),
                        y_options=("max",) if catalog.maximize(y) else (), limits=tuple(default_limits(catalog)))
    table = view_table(catalog, settings, "2d", {})
    return view_figure(catalog, settings, "2d", {}, [], table=table), selection_info(catalog, settings, {}, table)


def redraw_key(wanted: bool, inputs: list, drawn: str | None) -> str | None:
    """The settings (`inputs`, as text) a view is to be drawn with, or None when it need not be: it is
    not `wanted` (shown, or drawn in the background), or it is drawn with these settings already."""
    if not wanted:
        return None
    key = json.dumps(inputs, sort_keys=True, default=str)
    return None if key == drawn else key


def brushes_after(brushes: dict, restyle, dimensions: list[str]) -> dict:
    """Brushes (column -> [[low, high], ...]) after a parallel-coordinates restyle event."""
    if not restyle:
        return brushes
    out = dict(brushes or {})
    changes = restyle[0] if isinstance(restyle, list) else restyle
    for key, value in changes.items():
        match = _BRUSH_KEY.match(key)
        if not match or int(match.group(1)) >= len(dimensions):
            continue
        column = dimensions[int(match.group(1))]
        ranges = _ranges(value)
        if ranges:
            out[column] = ranges
        else:
            out.pop(column, None)
    return out


def _ranges(value) -> list[list[float]]:
    """[[low, high], ...] from a constraintrange as restyle reports it (per trace, one or many ranges)."""
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]  # [[lo, hi]] per trace, or [[[lo, hi], ...]]
    if not isinstance(value, list) or not value:
        return []
    if all(isinstance(v, (int, float)) for v in value) and len(value) == 2:
        return [sorted(map(float, value))]
    return [sorted(map(float, v)) for v in value if isinstance(v, list) and len(v) == 2]


def point_key(catalog: Catalog, workloads, event) -> str | None:
    """The design key a click or hover names: its customdata is the design's row in `designs`."""
    points = (event or {}).get("points") or []
    row = points[0].get("customdata") if points else None
    if not isinstance(row, (int, float)):
        return None
    table = designs(catalog, tuple(workloads or ()))
    return str(table.at[int(row), "key"]) if int(row) in table.index else None


def hover_text(catalog: Catalog, key: str | None, workloads=()) -> str:
    """One line naming the hovered design and its parameters."""
    if not key:
        return "Hover over a design to see its parameters; click it for its detail."
    row = designs(catalog, tuple(workloads or ())).set_index("key").loc[key]
    store = catalog.stores[row["store"]]
    values = " · ".join(f"{p}={row[p]}" for p in store.parameters if pd.notna(row[p]))
    return f"{key} ({row['design']}) · {values}"


def pick(picked: list[str], key: str | None) -> list[str]:
    """Picked designs after clicking `key`: appended (oldest dropped past MAX_PICKED)."""
    if not key or key in picked:
        return list(picked)
    return [*picked, key][-MAX_PICKED:]


def design_workloads(catalog: Catalog, key: str) -> list[str]:
    rows = catalog.rows[catalog.rows["key"] == key]
    return list(dict.fromkeys(rows["workload"].astype(str)))


def design_facts(catalog: Catalog, key: str, workload: str | None) -> dict:
    """Parameters and headline metrics of design `key` on `workload` (a stored row)."""
    row = stored_row(catalog.rows, key, workload)
    store = catalog.stores[row["store"]]
    names = ["store", "design", "design_id", "workload", "status", *store.parameters,
             *[m for m in SUMMARY_METRICS if m in row]]
    return {name: row.get(name) for name in names}


def resimulated(catalog: Catalog, key: str, workload: str | None):
    row = stored_row(catalog.rows, key, workload)
    return resimulate(catalog.stores[row["store"]].metadata, row)


def detail_children(catalog: Catalog, key: str | None, workload: str | None) -> list:
    """The detail panel for design `key` on `workload`: facts, per-layer breakdowns, or why not."""
    if not key:
        return []
    facts = {}
    try:
        facts = design_facts(catalog, key, workload)
        if facts["status"] != "ok":
            return detail_panel(key, facts, [], error=f"the sweep stored it as {facts['status']}: "
                                                       f"{stored_row(catalog.rows, key, workload)['reason']}")
        detail = resimulated(catalog, key, workload)
    except DetailError as err:
        return detail_panel(key, facts, [], error=str(err))
    result, hw = detail.result, detail.hardware
    shown = [figures.layer_latency_figure(result), figures.layer_energy_figure(result),
             figures.energy_components_figure(result), figures.roofline_figure(result, hw),
             figures.traffic_figure(result), figures.utilization_figure(result), figures.resources_figure(result)]
    return detail_panel(key, facts, [f for f in shown if f is not None], note=detail.mismatch)


def compare_children(catalog: Catalog, keys: list[str], workloads: tuple[str, ...] = ()) -> list:
    """Two or more designs side by side: metrics table, energy components and per-layer latency overlaid."""
    if len(keys) < 2:
        return []
    table = designs(catalog, tuple(workloads))
    table = table.set_index("key").reindex(keys).reset_index()
    parameters = varying(table, catalog.parameters)
    columns = ["store", "design", *parameters, *[m for m in SUMMARY_METRICS if m in table.columns]]
    results, problems = {}, []
    for key in keys:
        try:
            name = design_workloads(catalog, key)
            chosen = next((w for w in workloads if w in name), name[0] if name else None)
            results[key] = resimulated(catalog, key, chosen).result
        except DetailError as err:
            problems.append(f"{key}: {err}")
    shown = [figures.compare_components_figure(results), figures.compare_layers_figure(results)] if results else []
    return compare_panel(table, columns, shown, problems)


def enclosed(table: pd.DataFrame, settings: Settings, selected: dict) -> np.ndarray | None:
    """Which designs of the 2-D view's `table` a box or lasso selection encloses: every one, drawn or
    thinned away (plotly reports the region in data units; a log axis is straight in log10).
    None when the selection is not a region (points picked one by one)."""
    box, lasso = selected.get("range"), selected.get("lassoPoints")
    region = box or lasso
    if not region or "x" not in region or "y" not in region:
        return None
    points, corners = [], []
    for axis, column, log in zip("xy", (settings.x, settings.y), settings.log("2d")):
        values, bounds = table[column].to_numpy(dtype=float), np.asarray(region[axis], dtype=float)
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                values, bounds = np.log10(values), np.log10(bounds)
        points.append(values)
        corners.append(bounds)
    (x, y), (cx, cy) = points, corners
    if box:
        return (x >= cx.min()) & (x <= cx.max()) & (y >= cy.min()) & (y <= cy.max())
    inside = np.zeros(len(table), dtype=bool)  # even-odd rule: a ray to the right crosses the edges an odd number
    with np.errstate(divide="ignore", invalid="ignore"):
        for x0, y0, x1, y1 in zip(cx, cy, np.roll(cx, 1), np.roll(cy, 1)):
            inside ^= ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / (y1 - y0) + x0)
    return inside


def selection_csv(catalog: Catalog, settings: Settings, brushes: dict | None, selected) -> str:
    """CSV of the designs in view (those a lasso or box encloses, if any), with their Pareto rank."""
    table = view_table(catalog, settings, "2d", brushes)
    region = enclosed(table, settings, selected or {})
    keys = [point_key(catalog, settings.workloads, {"points": [point]}) for point in (selected or {}).get("points", [])]
    if region is not None:
        table = table[region]
    elif keys:
        table = table[table["key"].isin(keys)]
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


VIEW_CONTROLS = [("workloads", "value"), ("x-metric", "value"), ("x-options", "value"), ("y-metric", "value"),
                 ("y-options", "value"), ("z-metric", "value"), ("z-options", "value"), ("color", "value"),
                 ("symbol", "value"), ({"role": "limit-metric", "index": ALL}, "value"),
                 ({"role": "limit-low", "index": ALL}, "value"), ({"role": "limit-high", "index": ALL}, "value")]
GRAPHS = {"2d": "graph-2d", "3d": "graph-3d", "parallel": "graph-parallel"}


def register(app: Dash, catalog: Catalog) -> None:
    """Wire the page's components to the functions above."""
    if catalog.empty:
        return
    controls = [Input(*c) for c in VIEW_CONTROLS]
    controls_state = [State(*c) for c in VIEW_CONTROLS]
    count = len(VIEW_CONTROLS)

    @app.callback(Output("graph-2d", "figure"), Output("selection-info", "children"),
                  *controls, Input("brushes", "data"), Input("picked", "value"), Input("graph-2d", "relayoutData"),
                  prevent_initial_call=True)
    def _front(*values):  # the page opens with `initial_view`
        settings = Settings.from_controls(*values[:count])
        brushes, picked, relayout = values[count:]
        table = view_table(catalog, settings, "2d", brushes)
        zoom = zoomed_ranges(relayout) if ctx.triggered_id == "graph-2d" else None
        if ctx.triggered_id == "graph-2d" and (zoom is None or (table["pareto_rank"] > 0).sum() <= figures.THIN_ABOVE):
            return no_update, no_update  # not a zoom, or nothing thinned to redraw
        if ctx.triggered_id == "picked" and not table.empty:  # only the rings move
            return picked_patch(table, settings, picked or []), no_update
        return (view_figure(catalog, settings, "2d", brushes, picked or [], table=table, zoom=zoom),
                selection_info(catalog, settings, brushes, table))

    # the 3-D and parallel views are drawn once in the background after the first paint, then again only
    # when shown with other settings than they were drawn with (`drawn-*` holds those settings)
    @app.callback(Output("graph-3d", "figure"), Output("drawn-3d", "data"), *controls, Input("brushes", "data"),
                  Input("view", "value"), Input("background-views", "data"), State("drawn-3d", "data"),
                  prevent_initial_call=True)
    def _front_3d(*values):
        brushes, view, _, drawn = values[count:]
        key = redraw_key(view == "3d" or ctx.triggered_id == "background-views", values[:count + 1], drawn)
        if key is None:
            return no_update, no_update
        return view_figure(catalog, Settings.from_controls(*values[:count]), "3d", brushes, []), key

    @app.callback(Output("graph-parallel", "figure"), Output("drawn-parallel", "data"), *controls,
                  Input("parallel-dims", "value"), Input("view", "value"), Input("clear-brushes", "n_clicks"),
                  Input("background-views", "data"), State("brushes", "data"), State("drawn-parallel", "data"),
                  prevent_initial_call=True)
    def _parallel(*values):
        chosen, view, _, _, brushes, drawn = values[count:]
        brushes = None if ctx.triggered_id == "clear-brushes" else brushes
        key = redraw_key(view == "parallel" or ctx.triggered_id == "background-views",
                         [*values[:count], chosen, brushes], drawn)
        if key is None:
            return no_update, no_update
        return view_figure(catalog, Settings.from_controls(*values[:count]), "parallel", brushes, [], chosen), key

    app.clientside_callback(  # show the chosen view, hide the others (they stay drawn)
        "function(view) { return %s.map(function(v) { return v === view ? 'pane' : 'pane hidden'; }); }"
        % json.dumps(list(GRAPHS)), *[Output(f"pane-{view}", "className") for view in GRAPHS], Input("view", "value"))

    app.clientside_callback(  # once, when the browser is first idle after drawing the 2-D view
        """function(figure, done) {
            if (done) { return window.dash_clientside.no_update; }
            return new Promise(function(resolve) {
                (window.requestIdleCallback || setTimeout)(function() { resolve(Date.now()); });
            });
        }""", Output("background-views", "data"), Input("graph-2d", "figure"), State("background-views", "data"))

    @app.callback(Output("brushes", "data"), Input("graph-parallel", "restyleData"),
                  Input("clear-brushes", "n_clicks"), Input("parallel-dims", "value"), *controls_state,
                  State("brushes", "data"), prevent_initial_call=True)
    def _brush(restyle, _, chosen, *values):
        if ctx.triggered_id != "graph-parallel":
            return {}
        settings = Settings.from_controls(*values[:count])
        return brushes_after(values[count], restyle, parallel_dimensions(catalog, settings, chosen))

    @app.callback(Output("picked", "options"), Output("picked", "value"), Output("detail-key", "data"),
                  Output("detail-workload", "options"), Output("detail-workload", "value"),
                  Input("graph-2d", "clickData"), Input("graph-3d", "clickData"), Input("clear-picked", "n_clicks"),
                  State("picked", "value"), State("workloads", "value"), prevent_initial_call=True)
    def _click(click_2d, click_3d, _, picked, workloads):
        if ctx.triggered_id == "clear-picked":
            return [], [], no_update, no_update, no_update
        key = point_key(catalog, workloads, click_2d if ctx.triggered_id == "graph-2d" else click_3d)
        if key is None:
            return no_update, no_update, no_update, no_update, no_update
        picked = pick(picked or [], key)
        names = design_workloads(catalog, key)
        workload = next((w for w in workloads or () if w in names), names[0] if names else None)
        return ([{"label": f" {k}", "value": k} for k in picked], picked, key,
                [{"label": w, "value": w} for w in names], workload)

    @app.callback(Output("hover-info", "children"), Input("graph-2d", "hoverData"), Input("graph-3d", "hoverData"),
                  State("workloads", "value"), prevent_initial_call=True)
    def _hover(hover_2d, hover_3d, workloads):
        event = hover_2d if ctx.triggered_id == "graph-2d" else hover_3d
        return hover_text(catalog, point_key(catalog, workloads, event), workloads)

    @app.callback(Output("detail-body", "children"), Input("detail-key", "data"), Input("detail-workload", "value"),
                  prevent_initial_call=True)
    def _detail(key, workload):
        return detail_children(catalog, key, workload)

    @app.callback(Output("compare", "children"), Input("picked", "value"), Input("workloads", "value"),
                  prevent_initial_call=True)
    def _compare(keys, workloads):
        return compare_children(catalog, keys or [], tuple(workloads or ()))

    @app.callback(Output("download", "data"), Input("export-csv", "n_clicks"), Input("export-html", "n_clicks"),
                  *controls_state, State("brushes", "data"), State("graph-2d", "selectedData"), State("view", "value"),
                  State("picked", "value"), State("parallel-dims", "value"), prevent_initial_call=True)
    def _export(_, __, *values):
        settings = Settings.from_controls(*values[:count])
        brushes, selected, view, picked, chosen = values[count:]
        if ctx.triggered_id == "export-csv":
            return dict(content=selection_csv(catalog, settings, brushes, selected), filename="quarch-selection.csv")
        figure = view_figure(catalog, settings, view, brushes, picked or [], chosen)
        return dict(content=plotly.io.to_html(figure, include_plotlyjs=True, full_html=True),
                    filename=f"quarch-{view}.html")

    app.clientside_callback(
        """function(n, view) {
            if (!n) { return window.dash_clientside.no_update; }
            const ids = %s;
            const graph = document.querySelector('#' + ids[view] + ' .js-plotly-plot');
            if (!graph) { return 'no figure'; }
            window.Plotly.downloadImage(graph, {format: 'png', filename: 'quarch-' + view,
                                                width: graph.offsetWidth, height: graph.offsetHeight});
            return 'png ' + n;
        }""" % json.dumps(GRAPHS),
        Output("png-done", "children"), Input("export-png", "n_clicks"), State("view", "value"))


