"""Settings of the site gunicorn serves in ``test_revocation_stream_processes``
and ``benchmarks.propagation``: the test settings, on the database and the
revocation stream the starting process names in the environment.

``STREAM_SITE_DATABASE``: the name of the (test) database, on the server
``DATABASE_URL`` names; ``STREAM_SITE_CONFIG``: ``REVOCATION_STREAM`` as JSON;
``STREAM_SITE_GATE``: a file path; while the file is missing, the workers'
listeners cannot subscribe (to keep them unsubscribed while a test looks).
``STREAM_SITE_CONN_MAX_AGE``: Django's ``CONN_MAX_AGE`` (default 0, Django's).
"""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, OAUTH_PROVIDER

DEBUG = False
ROOT_URLCONF = "tests.stream_site_urls"
MIDDLEWARE = ["tests.stream_site_urls.worker_headers", *MIDDLEWARE]  # noqa: F405
DATABASES["default"]["NAME"] = os.environ["STREAM_SITE_DATABASE"]
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("STREAM_SITE_CONN_MAX_AGE") or 0)
OAUTH_PROVIDER = {**OAUTH_PROVIDER, "REVOCATION_STREAM": json.loads(os.environ["STREAM_SITE_CONFIG"])}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
