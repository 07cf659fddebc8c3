"""Dashboard test helpers: a small real store, and driving the page in headless Chromium.

The browser is Debian's /usr/bin/chromium driven by Playwright; nothing is downloaded (never
`playwright install`). Shared by the dashboard tests and benchmarks/dashboard_speed.py.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from distributed import LocalCluster

from dse.space import load_space
from dse.sweep import run_sweep

SPACE = """\
quarch_space: 1
name: dash-small
hardware: systolic-int8-32x32-os
workloads: [resnet18, "gemm:M=64,N=512,K=512"]
parameters:
  array.rows: {values: [0, 16, 32, 64]}
  array.cols: {values: [16, 64]}
  array.dataflow: {values: [os, ws]}
constraints: ["area_mm2 <= 15"]  # 1.5 MB of SRAM is 10.4 mm2
objectives:
  - {metric: latency_s}
  - {metric: energy_j}
"""


def make_store(folder: Path, text: str = SPACE) -> Path:
    """A real sweep of a small space (an in-process Dask cluster: no worker start-up)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "space.yaml").write_text(text)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        run_sweep(load_space(folder / "space.yaml"), folder / "store", scheduler=cluster.scheduler_address)
    return folder / "store"


CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIGURE_DRAWN = """id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
                          return !!(g && g._fullData && g._fullData.length > 0 && g._fullLayout); }"""


NO_CHROMIUM = f"{CHROMIUM} is absent: apt-get install chromium chromium-driver (.ci/run does)"


@contextmanager
def chromium(downloads: Path | None = None):
    """A fresh headless Chromium context (own profile folder) with a 1500x1000 viewport."""
    from playwright.sync_api import sync_playwright
    profile = Path(tempfile.mkdtemp(prefix="quarch-chromium-"))
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), args=FLAGS, headless=True, accept_downloads=True,
                downloads_path=str(downloads) if downloads else None, viewport={"width": 1500, "height": 1000})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_drawn(page, graph: str = "graph-2d", timeout_ms: int = 30_000) -> None:
    page.wait_for_function(FIGURE_DRAWN, arg=graph, timeout=timeout_ms)


def figure_state(page, graph: str = "graph-2d") -> dict:
    """Title, axis titles and point count of the figure drawn in `graph`."""
    return page.evaluate("""id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
        const L = g._fullLayout;
        const points = g._fullData.filter(t => t.mode && t.mode.includes('markers') && t.name !== 'picked')
                                  .reduce((n, t) => n + (t._length || (t.x ? t.x.length : 0)), 0);
        return {title: L.title && L.title.text, x: L.xaxis && L.xaxis.title.text, y: L.yaxis && L.yaxis.title.text,
                points: points, revision: g.data.length + ':' + (L.title && L.title.text) + ':' + (L.xaxis && L.xaxis.title.text)}; }""",
                         graph)


def choose(page, dropdown: str, value: str) -> None:
    """Pick `value` in the Dash dropdown with id `dropdown`."""
    page.click(f"[id='{dropdown}']")
    page.click(f".dash-dropdown-option:has(input[value='{value}'])")


def front_point_position(page, graph: str = "graph-2d") -> tuple[float, float]:
    """Page coordinates of the first point of the first Pareto-front trace."""
    return tuple(page.evaluate("""id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
        const t = g._fullData.find(d => (d.name || '').endsWith('(front)'));
        const r = g.getBoundingClientRect(), xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        return [r.left + xa._offset + xa.l2p(xa.d2l(t.x[0])), r.top + ya._offset + ya.l2p(ya.d2l(t.y[0]))]; }""",
                               graph))
