"""Run the relying-party site: migrate its SQLite database, serve on a free
port of 127.0.0.1, print the port on stdout, serve until killed.

    DJANGO_SETTINGS_MODULE=tests.oidc.rp_site.settings python -m tests.oidc.rp_site.serve
"""

from __future__ import annotations

import sys

import django
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The tests look at pages, not access logs."""


def main() -> None:
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
