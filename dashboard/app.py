"""The Dash app over one or more result stores: `make_app(paths)`, served by `quarch dashboard`."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from dash import Dash
from werkzeug.serving import WSGIRequestHandler, make_server

from dashboard import callbacks
from dashboard.data import Catalog, load_catalog
from dashboard.layout import build_layout, page_template


def make_app(paths: list[str | Path] | None = None, catalog: Catalog | None = None) -> Dash:
    """A Dash app showing the stores at `paths` (or an already loaded `catalog`)."""
    catalog = catalog if catalog is not None else load_catalog(list(paths or []))
    app = Dash(__name__, title="quarch dashboard", update_title=None, suppress_callback_exceptions=True,
               assets_ignore=".*", serve_locally=True)
    app.index_string = page_template()
    app.layout = build_layout(catalog, *callbacks.initial_view(catalog)) if not catalog.empty else build_layout(catalog)
    callbacks.register(app, catalog)
    return app


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
