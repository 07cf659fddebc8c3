"""Plotly figures as pure functions of plain data: design tables in, `go.Figure` out.

Design-space views take the table `dashboard.data.select` returns (one row per design, a
`pareto_rank` column) and draw rank-0 designs solid and dominated ones faded. WebGL traces
(Scattergl, Scatter3d, Parcoords), float32 coordinates and, past a few thousand dominated designs,
a thinned cloud (`thin_cloud`, `thin`; each title says what is drawn) keep 100 k designs
interactive. Each point's customdata is its row label in `dashboard.data.designs`, so a click or
hover names the design. Detail views take a `sim.result.Result`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.data import axis_values, categories
from hwmodels.spec import Hardware
from sim.result import OpResult, Result

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
SYMBOLS_2D = ("circle", "square", "diamond", "triangle-up", "x", "cross", "triangle-down", "star", "hexagon",
              "pentagon")
SYMBOLS_3D = ("circle", "square", "diamond", "cross", "x", "circle-open", "square-open", "diamond-open")
MAX_CATEGORIES = 12      # a numeric column with at most this many (repeated) values is coloured as categories
FADED_OPACITY = 0.35
THIN_ABOVE = 5_000           # a cloud of more dominated designs than this is drawn one per grid cell
CLOUD_CELLS_2D = (500, 250)  # cells of about 2 px on the page's plot
CLOUD_CELLS_3D = (32, 32, 32)    # cells of about 15 px across the 3-D box
MAX_PARALLEL_LINES = 200    # parallel coordinates slow down past this: the front is always drawn whole,
                            # dominated designs as a fixed-seed sample (the title says so)
MARGIN = dict(l=60, r=20, t=95, b=50)
TOP_LEGEND = dict(orientation="h", x=0, y=1.01, yanchor="bottom")


def empty_figure(message: str) -> go.Figure:
    """A blank figure saying why there is nothing to draw."""
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font=dict(size=15), xref="paper", yref="paper",
                          x=0.5, y=0.5)
    figure.update_layout(xaxis_visible=False, yaxis_visible=False, template="plotly_white", margin=MARGIN)
    return figure


def is_categorical(column: pd.Series) -> bool:
    """Text, or a few numbers each shared by several designs (a swept value, not a measured one)."""
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    distinct = column.nunique(dropna=True)
    return not numeric or (distinct <= MAX_CATEGORIES and 2 * distinct <= column.count())


def _hover(table: pd.DataFrame, axes: dict[str, str], labels: dict[str, str]):
    """customdata (each point's row in `dashboard.data.designs`) and a hovertemplate naming the axes
    and the trace (front or not); the hover panel lists the design's parameters."""
    # plain JSON ints, not a binary array: Dash's click and hover data index the figure's own
    # customdata, which a binary (base64) array is not, so a click would name no design
    rows = table.index.to_numpy(dtype=np.int64).tolist()
    lines = [f"{labels.get(column, column)}: %{{{axis}:.4g}}" for axis, column in axes.items()]
    return np.array(rows, dtype=object), "<br>".join(lines) + "<br>%{fullData.name}<extra></extra>"


def grid_cells(columns: list[np.ndarray], logs: list[bool], cells: tuple[int, ...], spans=None) -> np.ndarray:
    """Each row's cell on a grid of `cells` spanning, on every axis (in log10 on a log axis), its given
    (low, high) span or else the rows' range; rows outside a span fall in its edge cells."""
    index = np.zeros(len(columns[0]), dtype=np.int64)
    for values, log, count, given in zip(columns, logs, cells, spans or [None] * len(cells)):
        if log:
            values = np.log10(np.where(values > 0, values, np.nan))
        finite = values[np.isfinite(values)]
        low, span = (finite.min(), np.ptp(finite) or 1.0) if len(finite) else (0.0, 1.0)
        if given is not None:
            low, span = min(given), abs(given[1] - given[0]) or 1.0
        cell = np.nan_to_num((values - low) / span * count, nan=0.0)
        index = index * count + np.clip(cell, 0, count - 1).astype(np.int64)
    return index


def thin_cloud(table: pd.DataFrame, axes: list[str], logs: list[bool], color: str | None, symbol: str | None,
               cells: tuple[int, ...], limit: int, spans=None) -> tuple[pd.DataFrame, str]:
    """Every front design, and of the dominated ones (when more than `limit`) one per grid cell for each
    colour and symbol: the lowest-ranked, then the first. The cloud looks the same at the page's size,
    with a fraction of the points to send and draw; and a note saying so. `spans`: the grid's
    (low, high) per axis (a zoomed view's ranges), else the designs' range."""
    front = table["pareto_rank"].to_numpy() == 0
    if (~front).sum() <= limit:
        return table, ""
    group = np.zeros(len(table), dtype=np.int64)
    if color in table.columns and is_categorical(table[color]):  # a colour scale is not a group
        group = pd.factorize(table[color].astype(str))[0].astype(np.int64)
    if symbol in table.columns:
        group = group * (len(table) + 1) + pd.factorize(table[symbol].astype(str))[0]
    key = pd.factorize(group)[0] * int(np.prod(cells)) + grid_cells(
        [table[a].to_numpy(dtype=float) for a in axes], logs, cells, spans)
    order = np.lexsort((np.arange(len(table)), table["pareto_rank"].to_numpy()))
    order = order[~front[order]]
    kept = front.copy()
    kept[order[np.unique(key[order], return_index=True)[1]]] = True
    note = (f"drawn: every front design and one dominated design per grid cell, {kept.sum():,} of {len(table):,}; "
            "CSV export and selections cover all")
    return table[kept], note


def _groups(table: pd.DataFrame, color: str | None):
    """(name, rows mask, colour or numeric colour array) per legend group."""
    if not color or color not in table.columns:
        return [("designs", np.ones(len(table), dtype=bool), PALETTE[0])]
    column = table[color]
    if is_categorical(column):
        text = column.astype(str).where(column.notna(), "—")
        names = sorted(text.unique(), key=lambda v: (pd.to_numeric(v, errors="coerce"), v))
        return [(f"{color}={name}", (text == name).to_numpy(), PALETTE[i % len(PALETTE)])
                for i, name in enumerate(names)]
    return [(color, np.ones(len(table), dtype=bool), column.to_numpy(dtype=float))]


def _symbols(table: pd.DataFrame, symbol: str | None, choices: tuple[str, ...]) -> np.ndarray | None:
    """One marker symbol per distinct value of column `symbol` (in sorted order), cycling through `choices`."""
    if not symbol or symbol not in table.columns:
        return None
    column = table[symbol]
    names = sorted(column.dropna().unique(), key=lambda v: (isinstance(v, str), v))
    codes = pd.Categorical(column, categories=names).codes
    return np.array(choices)[np.where(codes >= 0, codes, 0) % len(choices)]


def _marker_groups(table: pd.DataFrame, front: np.ndarray, color: str | None, symbols, sizes: tuple[int, int]):
    """(group name, group rows, picked rows, on the front?, marker) for each colour group's dominated
    designs and its front designs; `sizes`: marker size (dominated, front)."""
    for name, rows, colour in _groups(table, color):
        continuous = not isinstance(colour, str)
        for on_front in (False, True):
            pick = rows & (front if on_front else ~front)
            if not pick.any():
                continue
            marker = dict(size=sizes[on_front], color=colour[pick] if continuous else colour)
            if continuous:
                marker.update(colorscale="Viridis", cmin=np.nanmin(colour), cmax=np.nanmax(colour),
                              colorbar=dict(title=name) if on_front else None, showscale=on_front)
            if symbols is not None:
                marker["symbol"] = symbols[pick]
            yield name, rows, pick, on_front, marker


def front_figure(table: pd.DataFrame, x: str, y: str, labels: dict[str, str], log_x: bool = False,
                 log_y: bool = False, color: str | None = None, symbol: str | None = None,
                 highlight: list[str] = (), zoom: dict | None = None) -> go.Figure:
    """Designs on two objectives: the front solid (and joined by a line), dominated designs faded
    (a large cloud thinned to one per grid cell, `thin_cloud`, over the `zoom` ranges {"x": (low,
    high), "y": ...} in axis units when zoomed), the `highlight` keys ringed."""
    if table.empty:
        return empty_figure("no design meets the constraints")
    designs_count, front_count = len(table), int((table["pareto_rank"] == 0).sum())
    picked_rows = table[table["key"].isin(highlight)] if highlight else table.iloc[:0]
    table, note = thin_cloud(table, [x, y], [log_x, log_y], color, symbol, CLOUD_CELLS_2D, THIN_ABOVE,
                             [(zoom or {}).get("x"), (zoom or {}).get("y")])
    front = (table["pareto_rank"] == 0).to_numpy()
    data, template = _hover(table, {"x": x, "y": y}, labels)
    symbols = _symbols(table, symbol, SYMBOLS_2D)
    # float32 halves what travels and draws the same (7 digits; the hover shows 4)
    xs, ys = table[x].to_numpy(dtype=np.float32), table[y].to_numpy(dtype=np.float32)
    figure = go.Figure(go.Scattergl(**picked_points(picked_rows, x, y), mode="markers", name="picked",
                                    hovertemplate=template, marker=dict(size=16, color="rgba(0,0,0,0)",
                                                                        line=dict(width=2.5, color="#d62728"))))
    for name, rows, pick, on_front, marker in _marker_groups(table, front, color, symbols, sizes=(6, 9)):
        marker.update(opacity=1.0 if on_front else FADED_OPACITY,
                      line=dict(width=1, color="#222") if on_front else dict(width=0))
        figure.add_trace(go.Scattergl(
            x=xs[pick], y=ys[pick], mode="markers", marker=marker, customdata=data[pick],
            hovertemplate=template, name=f"{name} (front)" if on_front else name, legendgroup=name,
            showlegend=on_front or not (rows & front).any()))
    order = np.argsort(xs[front], kind="stable")
    figure.add_trace(go.Scattergl(x=xs[front][order], y=ys[front][order], mode="lines", hoverinfo="skip",
                                  line=dict(color="#333", width=1, dash="dot"), name="Pareto front"))
    figure.update_layout(template="plotly_white", margin=MARGIN, clickmode="event", dragmode="lasso",
                         uirevision=f"{x}|{y}", legend=dict(itemsizing="constant"),
                         title=dict(text=f"{front_count} on the front of {designs_count:,} designs"
                                         + (f"<br><sup>{note}</sup>" if note else ""), x=0.01))
    figure.update_xaxes(title=labels.get(x, x), type="log" if log_x else "linear")
    figure.update_yaxes(title=labels.get(y, y), type="log" if log_y else "linear")
    for axis, update in (("x", figure.update_xaxes), ("y", figure.update_yaxes)):
        if (zoom or {}).get(axis):  # drawn for the zoomed ranges: keep showing them
            update(range=list(zoom[axis]))
    return figure


def picked_points(picked: pd.DataFrame, x: str, y: str) -> dict:
    """The 2-D view's first trace, rings around the picked designs (a pick changes only this trace)."""
    return dict(x=picked[x].to_numpy(dtype=float).tolist(), y=picked[y].to_numpy(dtype=float).tolist(),
                customdata=picked.index.to_numpy(dtype=np.int64).tolist(), showlegend=len(picked) > 0)


def thin(table: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, str]:
    """Every front design and a fixed-seed sample of the rest, at most `limit` rows; and a note saying so."""
    if len(table) <= limit:
        return table, ""
    front = table["pareto_rank"].to_numpy() == 0
    rest = np.flatnonzero(~front)
    keep = np.sort(np.concatenate([np.flatnonzero(front), np.random.default_rng(0).choice(
        rest, size=max(0, min(len(rest), limit - int(front.sum()))), replace=False)]))
    return table.iloc[keep], (f"drawn: every front design and a fixed-seed sample of the rest, {len(keep):,} of "
                              f"{len(table):,}; brushes and CSV export cover all")


def front_3d_figure(table: pd.DataFrame, x: str, y: str, z: str, labels: dict[str, str],
                    log: tuple[bool, bool, bool] = (False, False, False), color: str | None = None,
                    symbol: str | None = None) -> go.Figure:
    """Designs on three objectives (ranked over all three): the front solid, dominated designs faded
    (a large cloud thinned to one per cell of a grid over the box, `thin_cloud`)."""
    if table.empty:
        return empty_figure("no design meets the constraints")
    designs_count = len(table)
    table, note = thin_cloud(table, [x, y, z], list(log), color, symbol, CLOUD_CELLS_3D, THIN_ABOVE)
    front = (table["pareto_rank"] == 0).to_numpy()
    data, template = _hover(table, {"x": x, "y": y, "z": z}, labels)
    symbols = _symbols(table, symbol, SYMBOLS_3D)
    coords = {axis: table[column].to_numpy(dtype=np.float32) for axis, column in (("x", x), ("y", y), ("z", z))}
    figure = go.Figure()
    for name, _, pick, on_front, marker in _marker_groups(table, front, color, symbols, sizes=(3, 5)):
        figure.add_trace(go.Scatter3d(
            **{axis: values[pick] for axis, values in coords.items()}, mode="markers", marker=marker,
            opacity=1.0 if on_front else FADED_OPACITY, customdata=data[pick], hovertemplate=template,
            name=f"{name} (front)" if on_front else name, legendgroup=name))
    axes = {f"{axis}axis": dict(title=labels.get(column, column), type="log" if on else "linear")
            for (axis, column), on in zip((("x", x), ("y", y), ("z", z)), log)}
    figure.update_layout(template="plotly_white", margin=dict(l=0, r=0, t=40, b=0), scene=axes,
                         uirevision=f"{x}|{y}|{z}",
                         title=dict(text=f"{int(front.sum())} on the 3-objective front of {designs_count:,} designs"
                                         + (f"<br><sup>{note}</sup>" if note else ""), x=0.01))
    return figure


def short_name(column: str) -> str:
    """A column name short enough for a parallel-coordinates axis title."""
    name = column.removeprefix("memory.")
    for long, short in (("_bytes_per_cycle", " B/cyc"), ("_bandwidth", "_bw"), ("capacity_bytes", "capacity B"),
                        ("_hz", " Hz"), ("_format", "")):
        name = name.replace(long, short)
    return name


def parallel_figure(table: pd.DataFrame, dimensions: list[str], labels: dict[str, str],
                    brushes: dict[str, list[list[float]]] | None = None) -> go.Figure:
    """Parallel coordinates over parameters and metrics; lines on the front in red; brushes drawn."""
    if table.empty or not dimensions:
        return empty_figure("no design meets the constraints" if table.empty else "pick dimensions")
    brushes = brushes or {}
    designs_count = len(table)
    table, note = thin(table, MAX_PARALLEL_LINES)
    axes = []
    for column in dimensions:
        values = axis_values(table[column]).astype(np.float32)  # binary float32: half the bytes to send
        axis = dict(label=short_name(labels.get(column, column)), values=values)
        if not (pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(table[column])):
            names = categories(table[column])
            axis.update(tickvals=list(range(len(names))), ticktext=names, range=[-0.2, len(names) - 0.8])
        if brushes.get(column):
            ranges = brushes[column]
            axis["constraintrange"] = ranges[0] if len(ranges) == 1 else ranges
        axes.append(axis)
    on_front = (table["pareto_rank"] == 0).to_numpy(dtype=np.uint8)
    figure = go.Figure(go.Parcoords(dimensions=axes, labelangle=-12 if len(axes) > 7 else 0, line=dict(
        color=on_front, colorscale=[[0, "#9ecae1"], [1, "#d62728"]], cmin=0, cmax=1)))
    figure.update_layout(template="plotly_white", margin=dict(l=70, r=70, t=110, b=30),
                         title=dict(text=f"{designs_count:,} designs, front in red; drag along an axis to brush "
                                         "(filters every view)" + (f"<br><sup>{note}</sup>" if note else ""), x=0.01,
                                    y=0.98, yanchor="top"))
    return figure


# --------------------------------------------------------------------------- one design in detail

def layer_names(ops: tuple[OpResult, ...]) -> list[str]:
    """Op names, made unique (a repeated name gets its position) so bars do not merge."""
    names = [op.name for op in ops]
    repeated = {n for n in names if names.count(n) > 1}
    return [f"{n} #{i}" if n in repeated else n for i, n in enumerate(names)]


def layer_latency(result: Result) -> pd.DataFrame:
    """Seconds per layer (repeats applied): compute, stall and the rest (prefetch fill), summing to latency."""
    rows = []
    for name, op in zip(layer_names(result.ops), result.ops):
        scale = op.repeat / result.clock_hz
        compute, stall = op.compute_cycles * scale, op.stall_cycles * scale
        rows.append({"layer": name, "compute_s": compute, "stall_s": stall,
                     "other_s": op.latency_s * op.repeat - compute - stall})
    return pd.DataFrame(rows)


def energy_components(op_or_result) -> dict[str, float]:
    """Joules by component: compute per op kind, each memory level, static (repeats applied); sums to energy_j."""
    ops = op_or_result.ops if isinstance(op_or_result, Result) else (op_or_result,)
    out: dict[str, float] = {}
    for op in ops:
        for kind, pj in op.compute_energy_pj.items():
            out[f"compute: {kind}"] = out.get(f"compute: {kind}", 0.0) + pj * 1e-12 * op.repeat
        for level, pj in op.memory_energy_pj.items():
            out[f"memory: {level}"] = out.get(f"memory: {level}", 0.0) + pj * 1e-12 * op.repeat
        out["static"] = out.get("static", 0.0) + op.static_energy_j * op.repeat
    return out


def _component_colours(names) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}


def layer_latency_figure(result: Result) -> go.Figure:
    frame = layer_latency(result)
    figure = go.Figure([go.Bar(x=frame["layer"], y=frame[part] * 1e3, name=label) for part, label in
                        (("compute_s", "compute"), ("stall_s", "memory stall"), ("other_s", "buffer fill"))])
    figure.update_layout(barmode="stack", template="plotly_white", margin=MARGIN, title="Latency per layer",
                         yaxis_title="latency [ms]", xaxis_tickangle=-60, legend=TOP_LEGEND)
    return figure


def layer_energy_figure(result: Result) -> go.Figure:
    names = layer_names(result.ops)
    per_layer = [energy_components(op) for op in result.ops]
    parts = sorted({part for layer in per_layer for part in layer})
    colours = _component_colours(parts)
    figure = go.Figure([go.Bar(x=names, y=[layer.get(part, 0.0) * 1e3 for layer in per_layer], name=part,
                               marker_color=colours[part]) for part in parts])
    figure.update_layout(barmode="stack", template="plotly_white", margin=MARGIN, title="Energy per layer",
                         yaxis_title="energy [mJ]", xaxis_tickangle=-60, legend=TOP_LEGEND)
    return figure


def energy_components_figure(result: Result) -> go.Figure:
    parts = energy_components(result)
    colours = _component_colours(parts)
    names = sorted(parts, key=parts.get)
    figure = go.Figure(go.Bar(y=names, x=[parts[n] * 1e3 for n in names], orientation="h",
                              marker_color=[colours[n] for n in names],
                              text=[f"{parts[n] / result.total.energy_j:.1%}" if result.total.energy_j else ""
                                    for n in names], textposition="auto"))
    figure.update_layout(template="plotly_white", margin=dict(l=140, r=20, t=40, b=50),
                         title=f"Energy by component: {result.total.energy_j * 1e3:.4g} mJ", xaxis_title="energy [mJ]")
    return figure


def backing_bandwidth_bytes_per_s(hw: Hardware) -> float:
    """Read bandwidth of the backing store (per-operand channels add up), bytes per second."""
    level = hw.memory[-1]
    value = level.read_bandwidth_bytes_per_cycle
    per_cycle = sum(value.values()) if isinstance(value, dict) else float(value)
    return per_cycle * hw.clock_hz


def roofline_points(result: Result, hw: Hardware) -> pd.DataFrame:
    """Per layer with MACs: operational intensity (ops per backing-store byte; 1 MAC = 2 ops) and ops/s."""
    backing = hw.memory[-1].name
    rows = []
    for name, op in zip(layer_names(result.ops), result.ops):
        traffic = op.read_bytes.get(backing, 0.0) + op.write_bytes.get(backing, 0.0)
        if op.macs and traffic > 0 and op.latency_s > 0:
            rows.append({"layer": name, "ops_per_byte": 2 * op.macs / traffic,
                         "ops_per_s": 2 * op.macs / op.latency_s, "bound": op.bound})
    return pd.DataFrame(rows, columns=["layer", "ops_per_byte", "ops_per_s", "bound"])


def roofline_figure(result: Result, hw: Hardware) -> go.Figure:
    """Each layer against the roofs: nominal peak (one MAC per PE per cycle) and backing-store bandwidth.

    attainable(I) = min(2 * PEs * clock_hz, I * bandwidth_bytes_per_s)
    """
    points = roofline_points(result, hw)
    if points.empty:
        return empty_figure("no layer with MACs moves backing-store bytes")
    peak = 2.0 * result.pes * result.clock_hz
    bandwidth = backing_bandwidth_bytes_per_s(hw)
    low = min(points["ops_per_byte"].min(), peak / bandwidth) / 4
    high = max(points["ops_per_byte"].max(), peak / bandwidth) * 4
    intensity = np.geomspace(low, high, 200)
    figure = go.Figure(go.Scatter(x=intensity, y=np.minimum(peak, intensity * bandwidth), mode="lines",
                                  name="roof", line=dict(color="#333")))
    for i, (bound, group) in enumerate(points.groupby("bound")):
        figure.add_trace(go.Scatter(x=group["ops_per_byte"], y=group["ops_per_s"], mode="markers", text=group["layer"],
                                    name=f"{bound}-bound", marker=dict(size=9, color=PALETTE[i % len(PALETTE)]),
                                    hovertemplate="%{text}<br>%{x:.3g} op/B<br>%{y:.3g} op/s<extra></extra>"))
    figure.update_layout(template="plotly_white", margin=MARGIN, title=(
        f"Roofline: peak {peak / 1e12:.3g} TOP/s, {hw.memory[-1].name} {bandwidth / 1e9:.3g} GB/s"))
    figure.update_xaxes(type="log", title="operational intensity [op/B of " + hw.memory[-1].name + "]")
    figure.update_yaxes(type="log", title="attained [op/s]")
    return figure


def traffic_figure(result: Result) -> go.Figure:
    total = result.total
    levels = list(dict.fromkeys([*total.read_bytes, *total.write_bytes]))
    figure = go.Figure([go.Bar(x=levels, y=[getattr(total, f"{way}_bytes").get(level, 0.0) for level in levels],
                               name=way) for way in ("read", "write")])
    figure.update_layout(barmode="group", template="plotly_white", margin=MARGIN, title="Traffic per memory level",
                         yaxis=dict(title="bytes", type="log"))
    return figure


def utilization_figure(result: Result) -> go.Figure:
    names = layer_names(result.ops)
    figure = go.Figure([go.Bar(x=names, y=[op.utilization for op in result.ops], name="utilization"),
                        go.Bar(x=names, y=[op.mapping_efficiency for op in result.ops], name="mapping efficiency")])
    figure.update_layout(barmode="group", template="plotly_white", margin=MARGIN, xaxis_tickangle=-60,
                         title=f"Utilization per layer (whole workload {result.total.utilization:.1%})",
                         yaxis=dict(title="fraction", range=[0, 1.05], tickformat=".0%"), legend=TOP_LEGEND)
    return figure


def resources_figure(result: Result) -> go.Figure | None:
    """FPGA resources used as a share of what the device offers; None for designs without resources."""
    used = {name: value for name, value in result.resources.items() if not name.endswith("_available")}
    if not used:
        return None
    share = {name: value / result.resources[f"{name}_available"] if result.resources.get(f"{name}_available")
             else 0.0 for name, value in used.items()}
    figure = go.Figure(go.Bar(x=[n.upper() for n in share], y=list(share.values()),
                              text=[f"{used[n]:,.0f} / {result.resources.get(f'{n}_available', 0):,.0f}"
                                    for n in share], textposition="auto"))
    figure.update_layout(template="plotly_white", margin=MARGIN, title="FPGA resources used",
                         yaxis=dict(title="share of device", tickformat=".0%"))
    return figure


# --------------------------------------------------------------------------- designs side by side

def compare_components_figure(results: dict[str, Result]) -> go.Figure:
    """Energy by component, one bar group per design."""
    parts = {name: energy_components(result) for name, result in results.items()}
    components = sorted({c for p in parts.values() for c in p})
    figure = go.Figure([go.Bar(x=components, y=[p.get(c, 0.0) * 1e3 for c in components], name=name,
                               marker_color=PALETTE[i % len(PALETTE)]) for i, (name, p) in enumerate(parts.items())])
    figure.update_layout(barmode="group", template="plotly_white", margin=MARGIN, title="Energy by component",
                         yaxis_title="energy [mJ]", legend=TOP_LEGEND)
    return figure


def compare_layers_figure(results: dict[str, Result]) -> go.Figure:
    """Per-layer latency of each design, overlaid."""
    figure = go.Figure()
    for i, (name, result) in enumerate(results.items()):
        frame = layer_latency(result)
        figure.add_trace(go.Scatter(x=[f"{result.workload}: {layer}" for layer in frame["layer"]],
                                    y=(frame["compute_s"] + frame["stall_s"] + frame["other_s"]) * 1e3,
                                    mode="lines+markers", name=name, line=dict(color=PALETTE[i % len(PALETTE)])))
    figure.update_layout(template="plotly_white", margin=MARGIN, title="Latency per layer", xaxis_tickangle=-60,
                         yaxis=dict(title="latency [ms]", type="log"), legend=TOP_LEGEND)
    return figure
