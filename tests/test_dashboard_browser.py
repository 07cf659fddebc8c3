"""The dashboard in a real browser (headless Debian Chromium via Playwright), served once for the module.

Skipped only where /usr/bin/chromium is absent (CI installs it). Screenshots of the front, the
detail view and the bad-store panel are written under pytest's tmp folder for a person to look at.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard_helpers import CHROMIUM, NO_CHROMIUM, choose, chromium, figure_state, front_point_position, \
    make_store, wait_drawn  # tests/ is on sys.path under pytest
from dashboard import callbacks as cb
from dashboard.app import make_app, running
from dashboard.data import Limits, designs, load_catalog

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def served(store, tmp_path_factory):
    """(URL of the app over the store and a missing one, the catalog, a browser context, downloads folder)."""
    downloads = tmp_path_factory.mktemp("downloads")
    catalog = load_catalog([store, store.parent / "missing-store"])
    with running(make_app(catalog=catalog)) as url, chromium(downloads) as browser:
        yield url, catalog, browser


@pytest.fixture
def page(served):
    url, _, browser = served
    page = browser.new_page()
    page.goto(url)
    wait_drawn(page)
    yield page
    page.close()


def default_settings(*limits: Limits) -> cb.Settings:
    """The page's settings when it opens (the space's constraint), plus `limits`."""
    return cb.Settings(x="latency_s", y="energy_j", z="area_mm2", limits=(Limits("area_mm2", high=15.0), *limits))


def test_page_loads_with_the_front_drawn_and_the_bad_store_explained(page, served, tmp_path):
    _, catalog, _ = served
    table = cb.view_table(catalog, default_settings(), "2d", {})
    state = figure_state(page)
    assert state["points"] == len(table) > 0
    assert state["title"].startswith(f"{(table['pareto_rank'] == 0).sum()} on the front of {len(table)} designs")
    assert state["x"] == "latency_s [s]" and state["y"] == "energy_j [J]"
    panel = page.inner_text("#problems")
    assert "Some stores could not be opened" in panel and "missing-store: does not exist" in panel
    scripts = page.evaluate("() => performance.getEntriesByType('resource').map(r => r.name)")
    assert any("plotly-quarch.min.js" in s for s in scripts)  # the dashboard's own plotly.js, not the full one
    assert not any("package_data/plotly.min.js" in s for s in scripts)
    page.screenshot(path=str(tmp_path / "front.png"), full_page=True)


def test_changing_an_axis_updates_the_plot(page):
    before = figure_state(page)
    choose(page, "x-metric", "power_w")
    page.wait_for_function("() => document.querySelector('#graph-2d .js-plotly-plot')._fullLayout.xaxis.title.text"
                           " === 'power_w [W]'", timeout=15_000)
    after = figure_state(page)
    assert after["x"] == "power_w [W]" and before["x"] == "latency_s [s]"
    page.click("#x-options label:has-text('log')")
    page.wait_for_function("() => document.querySelector('#graph-2d .js-plotly-plot')._fullLayout.xaxis.type"
                           " === 'log'", timeout=15_000)


def test_a_constraint_filters_points(page, served):
    _, catalog, _ = served
    cut = float(designs(catalog)["latency_s"].median())
    expected = cb.view_table(catalog, default_settings(Limits("latency_s", high=cut)), "2d", {})
    before = figure_state(page)["points"]
    choose(page, json.dumps({"index": 1, "role": "limit-metric"}, separators=(",", ":")), "latency_s")
    high = page.locator("[id='" + json.dumps({"index": 1, "role": "limit-high"}, separators=(",", ":")) + "']")
    high.fill(repr(cut))
    high.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#graph-2d .js-plotly-plot')._fullLayout.title.text"
                           f".endsWith('of {len(expected)} designs')", timeout=15_000)
    assert figure_state(page)["points"] == len(expected) < before


def test_clicking_a_point_opens_the_detail_view(page, tmp_path):
    x, y = front_point_position(page)
    page.mouse.click(x, y)
    page.wait_for_selector("#detail-title", timeout=30_000)
    key = page.inner_text("#detail-title").removeprefix("Design ")
    assert key.startswith("store:")
    page.wait_for_function("() => document.querySelectorAll('[id^=detail-graph-] .js-plotly-plot').length >= 6",
                           timeout=30_000)
    titles = page.evaluate("() => [...document.querySelectorAll('[id^=detail-graph-] .js-plotly-plot')]"
                           ".map(g => g._fullLayout.title.text)")
    assert any(t.startswith("Latency per layer") for t in titles) and any(t.startswith("Roofline") for t in titles)
    assert page.is_checked(f"#picked input[value='{key}']")
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)


def test_export_produces_files(page):
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    frame = pd.read_csv(csv_download.value.path())
    assert csv_download.value.suggested_filename == "quarch-selection.csv"
    assert len(frame) == figure_state(page)["points"] and "pareto_rank" in frame
    with page.expect_download() as html_download:
        page.click("#export-html")
    text = open(html_download.value.path(), encoding="utf-8").read()
    assert html_download.value.suggested_filename == "quarch-2d.html" and "Plotly.newPlot" in text
    with page.expect_download() as png_download:
        page.click("#export-png")
    assert png_download.value.suggested_filename == "quarch-2d.png"
    assert open(png_download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_three_objective_and_parallel_views_draw(page):
    page.click("text=3 objectives")
    wait_drawn(page, "graph-3d")
    assert page.evaluate("() => document.querySelector('#graph-3d .js-plotly-plot')._fullData[0].type") == "scatter3d"
    page.click("text=Parallel coordinates")
    wait_drawn(page, "graph-parallel")
    assert page.evaluate("() => document.querySelector('#graph-parallel .js-plotly-plot')._fullData[0].type") \
        == "parcoords"


def test_a_page_over_bad_stores_only_shows_the_panel(served, tmp_path):
    _, _, browser = served
    with running(make_app([tmp_path / "nothing-here"])) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#problems", timeout=15_000)
        text = page.inner_text("#problems")
        assert "No result store could be opened" in text and "nothing-here: does not exist" in text
        assert page.locator("#graph-2d").count() == 0
        page.screenshot(path=str(tmp_path / "bad-store.png"))
        page.close()
