"""The dashboard's data, figures and callbacks as plain functions, and `quarch dashboard` on bad stores."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard_helpers import SPACE, make_store  # tests/ is on sys.path under pytest
from dashboard import callbacks as cb
from dashboard import figures
from dashboard.data import Limits, designs, load_catalog, select
from dashboard.detail import DetailError, resimulate, stored_row
from hwmodels.loader import load_hardware
from sim.simulate import simulate
from workloads.loader import load_workload

@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("dash"))


@pytest.fixture(scope="module")
def catalog(store):
    return load_catalog([store])


def settings(**overrides) -> cb.Settings:
    base = dict(x="latency_s", y="energy_j", z="area_mm2")
    return cb.Settings(**{**base, **overrides})


def dominated(values: np.ndarray, i: int) -> bool:
    """Brute force: some other point is no worse everywhere and better somewhere (all minimized)."""
    others = np.delete(values, i, axis=0)
    return bool(((others <= values[i]).all(axis=1) & (others < values[i]).any(axis=1)).any())


# --------------------------------------------------------------------------- the page's plotly.js

def test_the_plotly_bundle_is_the_version_python_plotly_draws_for_and_is_left_out_otherwise(catalog, monkeypatch):
    from plotly.offline import get_plotlyjs_version
    from dashboard import app
    assert app.bundle_version() == get_plotlyjs_version(), \
        "rebuild the bundle: cd dashboard/plotlyjs && npm ci && node build.mjs"
    assert "plotly-quarch.min.js" in app.make_app(catalog=catalog).server.test_client().get("/").text
    monkeypatch.setattr(app, "BUNDLE", app.ASSETS / "absent.js")
    assert not app.bundle_matches()
    assert "plotly-quarch" not in app.make_app(catalog=catalog).server.test_client().get("/").text


# --------------------------------------------------------------------------- loading and selecting

def test_catalog_holds_every_row_with_store_and_key_columns(store, catalog):
    frame = pd.read_parquet(store)
    assert len(catalog.rows) == len(frame) == 4 * 2 * 2 * 2
    assert set(catalog.rows["store"]) == {"store"}
    assert (catalog.rows["key"] == "store:" + catalog.rows["design_id"]).all()
    assert catalog.parameters == sorted(["array.rows", "array.cols", "array.dataflow"])  # metadata is key-sorted
    assert {"latency_s", "energy_j", "area_mm2", "power_w", "read_bytes.dram"} <= set(catalog.metrics)
    assert "bound" not in catalog.metrics and "array.rows" not in catalog.metrics
    assert catalog.units["latency_s"] == "s" and catalog.label("energy_j") == "energy_j [J]"
    assert catalog.workloads == sorted(frame["workload"].unique())
    assert catalog.maximize("tops_per_w") and not catalog.maximize("latency_s")


def test_designs_aggregate_the_chosen_workloads_and_drop_failed_designs(catalog):
    rows = catalog.rows
    both = designs(catalog)
    ok = rows[rows["status"] == "ok"]
    assert len(both) == ok["key"].nunique() == 3 * 2 * 2  # array.rows = 0 is invalid
    expected = ok.groupby("key")["latency_s"].mean()
    assert np.allclose(both.set_index("key")["latency_s"].loc[expected.index], expected)
    one = designs(catalog, ("resnet18",))
    only = ok[ok["workload"] == "resnet18"].set_index("key")["latency_s"]
    assert np.allclose(one.set_index("key")["latency_s"].loc[only.index], only)
    assert designs(catalog, ("resnet18",)) is one  # memoized per workload selection


def test_select_applies_limits_and_brushes_and_ranks_like_brute_force(catalog):
    table = designs(catalog)
    cut = float(table["latency_s"].median())
    chosen = select(table, ["latency_s", "energy_j"], [False, False], [Limits("latency_s", high=cut)])
    assert len(chosen) == (table["latency_s"] <= cut).sum()
    values = chosen[["latency_s", "energy_j"]].to_numpy()
    assert [not dominated(values, i) for i in range(len(values))] == list(chosen["pareto_rank"] == 0)
    brushed = select(table, ["latency_s", "energy_j"], [False, False], brushes={"array.cols": [[40, 70]]})
    assert set(brushed["array.cols"]) == {64}
    # a category is brushed by its position among the sorted names: os = 0, ws = 1
    by_dataflow = select(table, ["latency_s", "energy_j"], [False, False], brushes={"array.dataflow": [[0.5, 1.5]]})
    assert set(by_dataflow["array.dataflow"]) == {"ws"}
    maximized = select(table, ["tops", "energy_j"], [True, False])
    flipped = maximized[["tops", "energy_j"]].to_numpy() * [-1, 1]
    assert [not dominated(flipped, i) for i in range(len(flipped))] == list(maximized["pareto_rank"] == 0)


# --------------------------------------------------------------------------- bad stores

def bad_stores(root: Path, good: Path) -> dict[str, Path]:
    empty = root / "empty"
    empty.mkdir()
    (empty / "_quarch_store.json").write_text((good / "_quarch_store.json").read_text())
    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "_quarch_store.json").write_text((good / "_quarch_store.json").read_text())
    (corrupt / "part-000001-deadbeef.parquet").write_bytes(b"PAR1 this is not parquet")
    bad_json = root / "bad-json"
    bad_json.mkdir()
    (bad_json / "_quarch_store.json").write_text("{not json")
    (bad_json / "part-000001-deadbeef.parquet").write_bytes(next(good.glob("*.parquet")).read_bytes())
    plain = root / "plain"
    plain.mkdir()
    a_file = root / "file.txt"
    a_file.write_text("x")
    return {"missing": root / "missing", "empty": empty, "corrupt": corrupt, "bad-json": bad_json,
            "plain": plain, "file": a_file}


def test_bad_stores_are_one_line_problems_and_the_good_one_loads(tmp_path, store):
    bad = bad_stores(tmp_path, store)
    catalog = load_catalog([store, *bad.values()])
    assert len(catalog.rows) == 32 and len(catalog.problems) == len(bad)
    messages = dict(zip(bad, catalog.problems))
    assert "does not exist" in messages["missing"]
    assert "holds no results yet" in messages["empty"]
    assert "not a readable quarch result store" in messages["corrupt"]
    assert "not a readable quarch result store" in messages["bad-json"]
    assert "no _quarch_store.json" in messages["plain"]
    assert "is not a folder" in messages["file"]
    for name, line in messages.items():
        assert str(bad[name]) in line and "\n" not in line


def test_a_page_over_only_bad_stores_explains_and_draws_nothing(tmp_path, store):
    from dashboard.app import make_app
    app = make_app([tmp_path / "missing"])
    text = json.dumps(app.layout.to_plotly_json(), default=str)
    assert "No result store could be opened" in text and "does not exist" in text
    assert "graph-2d" not in text


def quarch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("name, message", [("missing", "does not exist"), ("empty", "holds no results yet"),
                                           ("corrupt", "not a readable quarch result store")])
def test_cli_refuses_a_bad_store_with_one_line_and_exit_2(tmp_path, store, name, message):
    run = quarch("dashboard", str(bad_stores(tmp_path, store)[name]), "--port", "1")
    assert run.returncode == 2 and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr + run.stdout


def test_cli_serves_warns_off_loopback_and_skips_bad_stores(tmp_path, store):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "quarch", "dashboard", str(store), str(tmp_path / "nope"),
                                "--host", "0.0.0.0", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert f"http://localhost:{port}/" in line
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    page = connection.recv(65536).decode(errors="replace")
                break
            except OSError:
                time.sleep(0.2)
        assert "200 OK" in page
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert "skipped" in errors and "nope: does not exist" in errors
    assert "warning:" in errors and "serving on 0.0.0.0" in errors


# --------------------------------------------------------------------------- re-simulating a design

def test_a_stored_design_resimulates_to_its_stored_totals(catalog):
    key = designs(catalog).sort_values("latency_s")["key"].iloc[0]
    row = stored_row(catalog.rows, key, "resnet18")
    detail = resimulate(catalog.stores["store"].metadata, row)
    assert detail.mismatch == ""
    assert detail.result.total.latency_s == pytest.approx(row["latency_s"], rel=1e-12)
    assert detail.result.total.energy_j == pytest.approx(row["energy_j"], rel=1e-12)
    assert detail.hardware.array.rows == row["array.rows"] and detail.hardware.array.dataflow == row["array.dataflow"]
    assert resimulate(catalog.stores["store"].metadata, row) is detail  # memoized


def test_a_row_that_no_longer_resolves_is_refused_not_shown_as_another_design(catalog):
    row = dict(stored_row(catalog.rows, designs(catalog)["key"].iloc[0]))
    row["array.cols"] = 16 if row["array.cols"] == 64 else 64  # parameters of another design
    with pytest.raises(DetailError, match="resolve to design"):
        resimulate(catalog.stores["store"].metadata, row)


def test_detail_and_compare_panels(catalog):
    keys = list(designs(catalog)["key"].iloc[:3])
    text = json.dumps([c.to_plotly_json() for c in cb.detail_children(catalog, keys[0], "resnet18")], default=str)
    for title in ("Latency per layer", "Energy per layer", "Energy by component", "Roofline",
                  "Traffic per memory level", "Utilization per layer"):
        assert title in text
    assert "FPGA resources" not in text  # an ASIC design has none
    invalid = catalog.rows[catalog.rows["status"] == "invalid"]["key"].iloc[0]
    text = json.dumps([c.to_plotly_json() for c in cb.detail_children(catalog, invalid, None)], default=str)
    assert "Cannot re-simulate" in text and "invalid" in text
    assert cb.compare_children(catalog, keys[:1]) == []
    text = json.dumps([c.to_plotly_json() for c in cb.compare_children(catalog, keys, ("resnet18",))], default=str)
    assert "3 designs side by side" in text and all(k in text for k in keys)


# --------------------------------------------------------------------------- figures of one design

@pytest.fixture(scope="module")
def resnet_result():
    hw = load_hardware("systolic-int8-32x32-os")
    return simulate(load_workload("resnet18"), hw), hw


def test_energy_components_add_up_to_the_total(resnet_result):
    result, _ = resnet_result
    parts = figures.energy_components(result)
    assert sum(parts.values()) == pytest.approx(result.total.energy_j, rel=1e-12)
    assert parts["memory: dram"] == pytest.approx(result.total.memory_energy_j["dram"], rel=1e-12)
    assert any(name.startswith("compute: ") for name in parts) and "static" in parts


def test_layer_latency_adds_up_to_each_layer_and_the_total(resnet_result):
    result, _ = resnet_result
    frame = figures.layer_latency(result)
    total = frame[["compute_s", "stall_s", "other_s"]].sum(axis=1)
    assert np.allclose(total, [op.latency_s * op.repeat for op in result.ops], rtol=1e-12)
    assert total.sum() == pytest.approx(result.total.latency_s, rel=1e-12)
    assert len(set(frame["layer"])) == len(result.ops)


def test_roofline_places_a_gemm_by_hand():
    hw = load_hardware("systolic-int8-32x32-os")
    result = simulate(load_workload("gemm:M=64,N=512,K=512"), hw)
    op = result.ops[0]
    traffic = op.read_bytes["dram"] + op.write_bytes["dram"]
    points = figures.roofline_points(result, hw)
    assert points["ops_per_byte"].iloc[0] == pytest.approx(2 * 64 * 512 * 512 / traffic)
    assert points["ops_per_s"].iloc[0] == pytest.approx(2 * 64 * 512 * 512 / op.latency_s)
    assert figures.backing_bandwidth_bytes_per_s(hw) == hw.memory[-1].read_bandwidth_bytes_per_cycle * hw.clock_hz
    roof = figures.roofline_figure(result, hw).data[0]
    assert max(roof.y) == pytest.approx(2 * 32 * 32 * hw.clock_hz)  # the compute roof


def test_fpga_designs_show_their_resources():
    hw = load_hardware("zcu102")
    result = simulate(load_workload("gemm:M=64,N=512,K=512"), hw)
    figure = figures.resources_figure(result)
    assert figure is not None and "DSP" in figure.data[0].x
    assert figure.data[0].y[0] == pytest.approx(result.resources["dsp"] / result.resources["dsp_available"])


# --------------------------------------------------------------------------- design-space figures and callbacks

def test_front_figure_draws_the_front_solid_and_the_rest_faded(catalog):
    figure = cb.view_figure(catalog, settings(), "2d", {}, [])
    table = cb.view_table(catalog, settings(), "2d", {})
    front = [t for t in figure.data if t.name.endswith("(front)")]
    faded = [t for t in figure.data if t.mode == "markers" and not t.name.endswith("(front)") and t.name != "picked"]
    assert all(t.type == "scattergl" for t in front + faded)
    assert sum(len(t.x) for t in front) == (table["pareto_rank"] == 0).sum()
    assert sum(len(t.x) for t in front + faded) == len(table)
    assert all(t.marker.opacity < 0.5 for t in faded) and all(t.marker.opacity == 1 for t in front)
    rows = {int(row) for t in front for row in t.customdata}
    assert set(designs(catalog).loc[sorted(rows), "key"]) == set(table.loc[table["pareto_rank"] == 0, "key"])
    assert "latency_s [s]" in front[0].hovertemplate and "fullData.name" in front[0].hovertemplate
    assert "drawn:" not in figure.layout.title.text  # a small store is drawn whole
    assert figure.layout.xaxis.title.text == "latency_s [s]"


def big_cloud(count: int = 20_000) -> pd.DataFrame:
    """`count` designs on two objectives in two groups, ranked (few on the front, a large dominated cloud)."""
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"key": [f"s:{i}" for i in range(count)], "a": rng.lognormal(0, 1, count),
                          "b": rng.lognormal(0, 1, count), "g": rng.choice(["os", "ws"], count)})
    return select(table, ["a", "b"], [False, False])


def test_a_large_cloud_is_drawn_one_dominated_design_per_grid_cell_and_says_so():
    table = big_cloud()
    drawn, note = figures.thin_cloud(table, ["a", "b"], [False, True], "g", None, (50, 25), limit=1000)
    front = table["pareto_rank"] == 0
    assert set(table.index[front]) <= set(drawn.index)  # the front is always whole
    # second implementation: per group and cell (b in log10), the lowest-ranked dominated design, then the first
    cells = pd.DataFrame({"g": table["g"],
                          "cx": np.minimum(((table["a"] - table["a"].min()) / np.ptp(table["a"]) * 50).astype(int), 49),
                          "cy": np.minimum(((np.log10(table["b"]) - np.log10(table["b"]).min())
                                            / np.ptp(np.log10(table["b"])) * 25).astype(int), 24),
                          "rank": table["pareto_rank"]})[~front]
    expected = cells.sort_values("rank", kind="stable").groupby(["g", "cx", "cy"]).head(1).index
    assert set(drawn.index[drawn["pareto_rank"] > 0]) == set(expected)
    assert len(drawn) < len(table) / 5 and f"{len(drawn):,} of {len(table):,}" in note
    whole, no_note = figures.thin_cloud(table, ["a", "b"], [False, False], None, None, (50, 25), limit=len(table))
    assert whole is table and no_note == ""


def test_the_thinned_2d_view_states_what_it_draws_and_keeps_the_picks():
    table = big_cloud()
    figure = figures.front_figure(table, "a", "b", {}, highlight=list(table["key"].iloc[:3]))
    drawn = sum(len(t.x) for t in figure.data if t.mode == "markers" and t.name != "picked")
    assert drawn < len(table) / 5
    assert f"on the front of {len(table):,} designs" in figure.layout.title.text
    assert f"drawn: every front design and one dominated design per grid cell, {drawn:,} of {len(table):,}" \
        in figure.layout.title.text
    assert len(next(t for t in figure.data if t.name == "picked").x) == 3  # picks are drawn thinned or not
    assert all(isinstance(row, int) for t in figure.data if t.mode == "markers" for row in t.customdata)
    parallel = figures.parallel_figure(table, ["a", "b", "g"], {})
    lines = figures.MAX_PARALLEL_LINES
    assert len(parallel.data[0].dimensions[0].values) == lines
    assert (parallel.data[0].line.color == 1).sum() == (table["pareto_rank"] == 0).sum()  # the whole front, in red
    assert f"a fixed-seed sample of the rest, {lines:,} of {len(table):,}" in parallel.layout.title.text


def test_a_zoom_redraws_the_thinned_cloud_over_the_zoomed_ranges():
    assert cb.zoomed_ranges({"autosize": True}) is None and cb.zoomed_ranges(None) is None
    assert cb.zoomed_ranges({"xaxis.autorange": True, "yaxis.autorange": True}) == {}
    assert cb.zoomed_ranges({"xaxis.range[0]": 1, "xaxis.range[1]": 2}) == {"x": (1.0, 2.0)}
    assert cb.zoomed_ranges({"xaxis.range": [0, 1], "yaxis.range": [3, 4]}) == {"x": (0.0, 1.0), "y": (3.0, 4.0)}
    table = big_cloud()
    window = {"x": (0.0, float(table["a"].quantile(0.3))), "y": (0.0, float(table["b"].quantile(0.3)))}

    def drawn_inside(figure) -> int:
        return sum(int(((np.asarray(t.x) <= window["x"][1]) & (np.asarray(t.y) <= window["y"][1])).sum())
                   for t in figure.data if t.mode == "markers" and t.name != "picked")
    whole, zoomed = figures.front_figure(table, "a", "b", {}), figures.front_figure(table, "a", "b", {}, zoom=window)
    inside = int(((table["a"] <= window["x"][1]) & (table["b"] <= window["y"][1])).sum())
    assert drawn_inside(whole) < drawn_inside(zoomed) <= inside  # finer cells where the view is
    assert zoomed.layout.xaxis.range == window["x"] and whole.layout.xaxis.range is None


def test_a_box_or_lasso_selection_exports_every_enclosed_design(catalog):
    table = cb.view_table(catalog, settings(), "2d", {})
    x, y = table["latency_s"], table["energy_j"]
    box = {"x": [x.quantile(0.2), x.quantile(0.8)], "y": [y.quantile(0.1), y.quantile(0.9)]}
    inside = table[x.between(*box["x"]) & y.between(*box["y"])]
    assert 0 < len(inside) < len(table)
    drawn = {"points": [{"customdata": int(table.index[0])}]}  # what plotly lists: only the points drawn
    for region in ({"range": box}, {"lassoPoints": {"x": [box["x"][0], box["x"][1], box["x"][1], box["x"][0]],
                                                    "y": [box["y"][0], box["y"][0], box["y"][1], box["y"][1]]}}):
        for options in ((), ("log",)):  # a log axis: the lasso's edges are straight in log10
            s = settings(x_options=options, y_options=options)
            frame = pd.read_csv(pd.io.common.StringIO(cb.selection_csv(catalog, s, {}, {**drawn, **region})))
            assert set(frame["key"]) == set(inside["key"])
    triangle = {"lassoPoints": {"x": [box["x"][0], box["x"][1], box["x"][0]], "y": [box["y"][0], box["y"][0],
                                                                                    box["y"][1]]}}
    u = (x - box["x"][0]) / (box["x"][1] - box["x"][0])
    v = (y - box["y"][0]) / (box["y"][1] - box["y"][0])
    frame = pd.read_csv(pd.io.common.StringIO(cb.selection_csv(catalog, settings(), {}, triangle)))
    assert set(frame["key"]) == set(table.loc[(u >= 0) & (v >= 0) & (u + v <= 1), "key"])


def test_colour_symbol_log_axes_and_picks(catalog):
    picked = list(designs(catalog)["key"].iloc[:2])
    figure = cb.view_figure(catalog, settings(color="array.dataflow", symbol="array.cols", x_options=("log",)),
                            "2d", {}, picked)
    names = {t.name for t in figure.data}
    assert {"array.dataflow=os", "array.dataflow=ws"} <= {n.removesuffix(" (front)") for n in names}
    assert set(np.concatenate([t.marker.symbol for t in figure.data if t.name.startswith("array.dataflow")])) \
        == {"circle", "square"}
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "linear"
    assert len(next(t for t in figure.data if t.name == "picked").x) == 2
    # a pick changes the rings only (the first trace): the patch is what a redraw would send
    s = settings(color="array.dataflow", symbol="array.cols", x_options=("log",))
    patch = cb.picked_patch(cb.view_table(catalog, s, "2d", {}), s, picked[:1]).to_plotly_json()
    rings = figure.data[0]
    assert rings.name == "picked" and patch["operations"][0]["location"] == ["data", 0]
    assert patch["operations"][0]["params"]["value"]["x"] == [rings.x[0]]
    assert patch["operations"][0]["params"]["value"]["customdata"] == [rings.customdata[0]]
    continuous = cb.view_figure(catalog, settings(color="power_w"), "2d", {}, [])
    assert continuous.data[1].marker.colorscale is not None  # data[0]: the picked rings


def test_three_objective_view_ranks_over_three(catalog):
    figure = cb.view_figure(catalog, settings(), "3d", {}, [])
    table = cb.view_table(catalog, settings(), "3d", {})
    front = [t for t in figure.data if t.name.endswith("(front)")]
    assert all(t.type == "scatter3d" for t in figure.data)
    assert sum(len(t.x) for t in front) == (table["pareto_rank"] == 0).sum()
    values = table[["latency_s", "energy_j", "area_mm2"]].to_numpy()
    assert [not dominated(values, i) for i in range(len(values))] == list(table["pareto_rank"] == 0)


def test_parallel_coordinates_and_brushing_filter_the_other_views(catalog):
    dimensions = cb.parallel_dimensions(catalog, settings(), None)
    assert dimensions == ["array.cols", "array.dataflow", "array.rows", "latency_s", "energy_j"]
    # plotly reports a brush on one axis as a restyle of that dimension's constraintrange
    brushes = cb.brushes_after({}, [{"dimensions[2].constraintrange": [[20, 40]]}, [0]], dimensions)
    assert brushes == {"array.rows": [[20.0, 40.0]]}
    brushes = cb.brushes_after(brushes, [{"dimensions[1].constraintrange": [[[-0.5, 0.5], [0.9, 1.2]]]}, [0]],
                               dimensions)
    assert brushes["array.dataflow"] == [[-0.5, 0.5], [0.9, 1.2]]
    assert cb.brushes_after(brushes, [{"dimensions[2].constraintrange": None}, [0]], dimensions) == \
        {"array.dataflow": [[-0.5, 0.5], [0.9, 1.2]]}
    figure = cb.view_figure(catalog, settings(), "2d", {"array.rows": [[20, 40]]}, [])
    table = designs(catalog)
    shown = {table.at[int(row), "key"] for t in figure.data if t.mode == "markers" for row in t.customdata}
    assert shown == set(table.loc[table["array.rows"] == 32, "key"])
    parallel = cb.view_figure(catalog, settings(), "parallel", {"array.rows": [[20, 40]]}, [])
    axes = parallel.data[0].dimensions
    assert axes[2].constraintrange == (20, 40) and axes[1].ticktext == ("os", "ws")
    assert len(axes[0].values) == len(table)  # the brush is drawn on it, not applied to it


def test_a_hidden_view_is_redrawn_only_when_wanted_with_new_settings():
    key = cb.redraw_key(True, ["latency_s", {"array.rows": [[20, 40]]}], None)
    assert key is not None and cb.redraw_key(True, ["latency_s", {"array.rows": [[20, 40]]}], key) is None
    assert cb.redraw_key(True, ["power_w", {"array.rows": [[20, 40]]}], key) not in (None, key)
    assert cb.redraw_key(False, ["power_w"], key) is None  # hidden and not drawn in the background


def test_settings_from_controls_keep_only_complete_limits():
    s = cb.Settings.from_controls(["resnet18"], "latency_s", ["log"], "energy_j", ["max"], "area_mm2", None, None,
                                  None, ["area_mm2", "power_w", None], [None, "", 1], [5, None, 2])
    assert s.limits == (Limits("area_mm2", None, 5.0),)
    assert s.workloads == ("resnet18",) and s.log("2d") == [True, False] and s.maximize("2d") == [False, True]


def test_clicks_and_hovers_name_designs_and_picks_keep_the_last_six(catalog):
    table = designs(catalog)
    row = int(table.index[3])
    event = {"points": [{"x": 1, "y": 2, "customdata": row}]}
    assert cb.point_key(catalog, (), event) == table.at[row, "key"]
    assert cb.point_key(catalog, (), {"points": []}) is None and cb.point_key(catalog, (), None) is None
    text = cb.hover_text(catalog, table.at[row, "key"])
    assert text.startswith(table.at[row, "key"]) and f"array.dataflow={table.at[row, 'array.dataflow']}" in text
    picked = []
    for key in "abcdefgh":
        picked = cb.pick(picked, key)
    assert picked == list("cdefgh") and cb.pick(picked, "h") == picked


def test_selection_csv_is_the_shown_designs_or_the_lasso_selection(catalog):
    s = settings(limits=(Limits("latency_s", high=float(designs(catalog)["latency_s"].median())),))
    frame = pd.read_csv(pd.io.common.StringIO(cb.selection_csv(catalog, s, {}, None)))
    assert set(frame["key"]) == set(cb.view_table(catalog, s, "2d", {})["key"])
    assert {"pareto_rank", "latency_s", "array.rows"} <= set(frame.columns)
    rows = designs(catalog).reset_index().set_index("key").loc[frame["key"].iloc[:2], "index"]
    lasso = {"points": [{"customdata": int(row)} for row in rows]}
    assert len(pd.read_csv(pd.io.common.StringIO(cb.selection_csv(catalog, s, {}, lasso)))) == 2


def test_two_stores_are_told_apart(tmp_path, store):
    other = make_store(tmp_path / "other", SPACE.replace("values: [16, 64]", "values: [16]"))
    catalog = load_catalog([store, other])
    assert set(catalog.rows["store"]) == {"store", "store-2"}
    table = designs(catalog)
    assert table.groupby("store").size().to_dict() == {"store": 12, "store-2": 6}
    # the same design in both stores stays two rows with two keys
    assert table["key"].is_unique and table["design_id"].duplicated().any()
    figure = cb.view_figure(catalog, settings(color="store"), "2d", {}, [])
    assert {t.name.removesuffix(" (front)") for t in figure.data if t.mode == "markers"} \
        == {"store=store", "store=store-2", "picked"}
    assert cb.hover_text(catalog, table["key"].iloc[-1]).startswith("store-2:")


def test_run_sweeps_the_example_and_prints_its_front(tmp_path):
    run = quarch("run", "--no-dashboard", "--budget", "4", "-o", str(tmp_path / "store"), timeout=400)
    assert run.returncode == 0, run.stderr
    assert "Pareto front" in run.stdout and "mac-resnet50" in run.stdout
    assert len(pd.read_parquet(tmp_path / "store")) == 4
