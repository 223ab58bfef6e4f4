"""A real local HTTP(S) server for tests of what the server fetches
(sector identifiers, client ID metadata documents, key sets), with TLS
certificates from a throwaway authority (trustme). Its fixtures (``authority``,
``site``, ``https``) are in tests/conftest.py."""

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType


class Site:
    """What the test server answers: path -> (status, headers, body), or a callable
    taking the handler for anything else (slow answers)."""

    def __init__(self):
        self.routes = {}
        self.requests = []


def serve(site, ssl_context=None):
    """A threaded HTTP(S) server on 127.0.0.1 answering from ``site``; returns (server, base URL)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            site.requests.append(self.path)
            route = site.routes.get(self.path, (404, {}, b"not here"))
            if callable(route):
                route(self)
                return
            status, headers, body = route
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        # A route answers POSTs too: a callable one reads the body (an introspection request).
        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    scheme = "https" if ssl_context is not None else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


def https_server(site, authority):
    """An HTTPS server for ``site`` with a certificate for 127.0.0.1 from
    ``authority``; returns (server, base URL)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return serve(site, context)


def trust(monkeypatch, module: ModuleType, authority) -> None:
    """Production verification plus trust in the test authority, through the
    module's one seam, its ``ssl_context``."""
    production = module.ssl_context

    def test_context():
        context = production()
        authority.configure_trust(context)
        return context

    monkeypatch.setattr(module, "ssl_context", test_context)
