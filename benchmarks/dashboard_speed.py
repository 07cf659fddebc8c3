#!/usr/bin/env python3
"""Dashboard responsiveness on a 100 k-design store, in a real browser (figures, not timed tests).

    .venv/bin/python benchmarks/dashboard_speed.py [--rows 100000]

A store of --rows rows is written through `dse.store.Store` (`dse_throughput.big_store`: real
rows of a small ResNet-50 sweep, replicated with fresh design ids and jittered latency and
energy, so there are --rows distinct designs). The app is served in this process and driven
by headless Debian Chromium (Playwright, /usr/bin/chromium). Measured, wall clock, from the
browser's side:
- server start: loading the store into the dashboard (before any page is asked for);
- first paint: from navigating to a fresh page until the 2-D front is drawn; then until the 3-D and
  parallel views are drawn too (hidden, in the background: the page draws them when the browser is
  first idle after the first paint); the interactions below start from that settled page;
- interactions, each until the browser has drawn the result: changing the X objective,
  tightening a constraint, zooming into the lower-left quarter of the 2-D view (the thinned cloud is
  redrawn finer: until the points drawn change), the 3-objective view and parallel coordinates (each until it shows the
  constrained designs: drawn behind before the constraint, they are redrawn when shown), clicking a point until
  its detail view is up (a replicated design cannot be re-simulated as stored, so the panel
  says why: this times the round trip, not a simulation), and the CSV export until the file
  is saved; and, server side, the detail panel of a real stored design (re-simulation of
  ResNet-50, then memoized).
Targets (issue 7): first paint < 3 s, interactions < 1 s. The machine and its load average
are printed first: the machine may be shared, so the same page over the small real sweep
(a few hundred rows) is timed in the same run as a reference: what the browser and Dash cost
before any data.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from dse_throughput import big_store, load, machine  # noqa: E402
from dashboard_helpers import CHROMIUM, choose, chromium, figure_state, front_point_position, wait_drawn  # noqa: E402

from dashboard import callbacks as cb  # noqa: E402
from dashboard.app import make_app, running  # noqa: E402
from dashboard.data import Limits, designs, load_catalog  # noqa: E402
from dashboard.layout import default_limits  # noqa: E402


FIGURE_POINTS = """document.querySelector('#graph-2d .js-plotly-plot')._fullData
    .filter(t => t.mode === 'markers' && t.name !== 'picked').reduce((n, t) => n + t._length, 0)"""


def timed(action) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"    ({getattr(action, '__name__', 'step')}: {seconds:.2f} s)", flush=True)
    return seconds


def title_is(page, graph: str, suffix: str) -> None:
    page.wait_for_function(f"() => (document.querySelector('#{graph} .js-plotly-plot')._fullLayout.title.text || '')"
                           f".includes({json.dumps(suffix)})", timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, help="write the stores here, or reuse the ones an earlier run wrote")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is needed (apt-get install chromium)")
    print(f"machine: {machine()}; {load()}")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="quarch-dash-bench-"))
    if not (folder / "store").exists():
        big_store(folder / "store", args.rows)
    figures = {}

    baseline = load_catalog([folder / "seed"])  # the same page over the small real sweep: the machine's share
    with running(make_app(catalog=baseline)) as url, chromium() as browser:
        for attempt in ("cold browser", "warm browser"):
            page = browser.new_page()
            figures[f"reference: {len(baseline.rows)}-row store, {attempt}"] = timed(
                lambda: (page.goto(url), wait_drawn(page, timeout_ms=120_000)))
            page.close()

    start = time.perf_counter()
    catalog = load_catalog([folder / "store"])
    app = make_app(catalog=catalog)
    print(f"server start (load {len(catalog.rows):,} rows, build the page): {time.perf_counter() - start:.2f} s")
    with running(app) as url, chromium(folder / "downloads") as browser:
        for attempt in ("cold browser", "warm browser"):
            page = browser.new_page()
            seconds = timed(lambda: (page.goto(url), wait_drawn(page, timeout_ms=120_000)))
            state = figure_state(page)
            figures[f"first paint, {args.rows:,} rows, {attempt}"] = seconds
            figures[f"  + 3-D and parallel drawn behind, {attempt}"] = timed(
                lambda: [wait_drawn(page, graph, timeout_ms=120_000) for graph in ("graph-3d", "graph-parallel")])
            if attempt == "cold browser":
                page.close()
        print(f"  2-D view: {state['points']:,} points drawn; {state['title']}")

        def axis():
            choose(page, "x-metric", "power_w")
            page.wait_for_function("() => document.querySelector('#graph-2d .js-plotly-plot')._fullLayout.xaxis"
                                   ".title.text.startsWith('power_w')", timeout=60_000)
        figures["change X objective"] = timed(axis)
        choose(page, "x-metric", "latency_s")
        page.wait_for_function("() => document.querySelector('#graph-2d .js-plotly-plot')._fullLayout.xaxis"
                               ".title.text.startsWith('latency_s')", timeout=60_000)

        cut = float(designs(catalog)["latency_s"].quantile(0.25))
        opened = cb.Settings(x="latency_s", y="energy_j", z="area_mm2", limits=tuple(default_limits(catalog)))
        limits = tuple(default_limits(catalog)) + (Limits("latency_s", high=cut),)
        expected = cb.view_table(catalog, replace(opened, limits=limits), "2d", {})

        def constraint():
            row = len(opened.limits)  # the first empty constraint row
            limit = json.dumps({"index": row, "role": "limit-metric"}, separators=(",", ":"))
            high = json.dumps({"index": row, "role": "limit-high"}, separators=(",", ":"))
            choose(page, limit, "latency_s")
            page.locator(f"[id='{high}']").fill(repr(cut))
            page.locator(f"[id='{high}']").press("Enter")
            title_is(page, "graph-2d", f"of {len(expected):,} designs")
        figures["tighten a constraint"] = timed(constraint)

        drawn = figure_state(page)["points"]

        def zoom():  # into the lower-left quarter: the thinned cloud is redrawn with cells over the zoomed ranges
            page.evaluate("""() => { const g = document.querySelector('#graph-2d .js-plotly-plot');
                const [x0, x1] = g._fullLayout.xaxis.range, [y0, y1] = g._fullLayout.yaxis.range;
                window.Plotly.relayout(g, {'xaxis.range': [x0, x0 + (x1 - x0) / 4],
                                           'yaxis.range': [y0, y0 + (y1 - y0) / 4]}); }""")
            page.wait_for_function(f"() => {FIGURE_POINTS} !== {drawn}", timeout=60_000)
        figures["zoom into the cloud"] = timed(zoom)
        page.evaluate("""() => window.Plotly.relayout(document.querySelector('#graph-2d .js-plotly-plot'),
                                                     {'xaxis.autorange': true, 'yaxis.autorange': true})""")
        page.wait_for_function(f"() => {FIGURE_POINTS} === {drawn}", timeout=60_000)  # the whole range, as before

        position = front_point_position(page)
        page.mouse.move(*position)  # aimed when the hover panel names a design
        page.wait_for_function("() => document.querySelector('#hover-info').innerText.startsWith('store:')",
                               timeout=60_000)

        def click():
            page.mouse.click(*position)
            page.wait_for_selector("#detail-title", timeout=60_000)
        figures["click a point: detail panel"] = timed(click)

        def export():
            with page.expect_download(timeout=60_000) as download:
                page.click("#export-csv")
            download.value.path()
        figures["export selection CSV"] = timed(export)

        def view(tab: str, graph: str, title: str):
            def action():  # drawn in the background before the constraint: shown once redrawn with it
                page.click(f"text={tab}")
                title_is(page, graph, title)
            return action
        count = len(cb.view_table(catalog, replace(opened, limits=limits), "3d", {}))
        figures["3-objective view"] = timed(view("3 objectives", "graph-3d", f"of {count:,} designs"))
        figures["parallel coordinates"] = timed(view("Parallel coordinates", "graph-parallel",
                                                     f"{len(expected):,} designs"))
        page.close()

    seed = load_catalog([folder / "seed"])  # big_store's real sweep: its designs re-simulate as stored
    key, workload = designs(seed)["key"].iloc[0], seed.workloads[0]
    detail_cold = timed(lambda: cb.detail_children(seed, key, workload))
    detail_warm = timed(lambda: cb.detail_children(seed, key, workload))
    print(f"figures on {args.rows:,} designs (targets: first paint < 3 s, interactions < 1 s):")
    for name, seconds in figures.items():
        print(f"  {name:32s} {seconds:6.2f} s")
    print(f"  detail of a real stored design   {detail_cold:6.2f} s (re-simulated), {detail_warm:.2f} s memoized "
          "(server side)")
    print(f"machine after: {load()}")


if __name__ == "__main__":
    main()
