"""The Dash app over one or more result stores: `make_app(paths)`, served by `quarch dashboard`.

The page loads `assets/plotly-quarch.min.js`, a plotly.js with only the traces the dashboard draws
(built by `plotlyjs/build.mjs`): starting plotly.js is most of a page's first paint, and this
bundle starts in about a third of the time of the full one. dcc.Graph uses a `window.Plotly` that is
already there; when the installed Python plotly ships a different plotly.js than the bundle was
built from, the bundle is left out and dcc.Graph loads Python plotly's full plotly.js as usual.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path

from dash import Dash
from plotly.offline import get_plotlyjs_version
from werkzeug.serving import WSGIRequestHandler, make_server

from dashboard import callbacks
from dashboard.data import Catalog, load_catalog
from dashboard.layout import build_layout, page_template
from dse.evaluate import warm_up

ASSETS = Path(__file__).parent / "assets"
BUNDLE = ASSETS / "plotly-quarch.min.js"


def make_app(paths: list[str | Path] | None = None, catalog: Catalog | None = None) -> Dash:
    """A Dash app showing the stores at `paths` (or an already loaded `catalog`)."""
    catalog = catalog if catalog is not None else load_catalog(list(paths or []))
    app = Dash(__name__, title="quarch dashboard", update_title=None, suppress_callback_exceptions=True,
               assets_folder=str(ASSETS), assets_ignore="" if bundle_matches() else ".*", serve_locally=True)
    app.index_string = page_template()
    app.layout = build_layout(catalog, *callbacks.initial_view(catalog)) if not catalog.empty else build_layout(catalog)
    callbacks.register(app, catalog)
    if not catalog.empty:
        warm_up()  # a detail view re-simulates: load the simulator's kernels now, not on the first click
    return app


def bundle_version() -> str | None:
    """The plotly.js version named in the bundle's first line (None if it is missing)."""
    if not BUNDLE.exists():
        return None
    with BUNDLE.open(encoding="utf-8") as bundle:
        found = re.search(r"plotly\.js v(\S+)", bundle.readline())
    return found.group(1) if found else None


def bundle_matches() -> bool:
    """Whether the dashboard's plotly.js bundle is the version the installed Python plotly expects."""
    return bundle_version() == get_plotlyjs_version()


@contextmanager
def running(app: Dash, host: str = "127.0.0.1", port: int = 0):
    """Serve `app` from a background thread (port 0: a free one); yields its URL, stops on exit."""
    server = make_server(host, port, app.server, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args) -> None:  # one line per request would bury a test's output
        pass
