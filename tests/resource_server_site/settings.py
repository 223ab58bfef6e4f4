"""A second Django site, the resource server: a DRF API that is not the
authorization server. Nothing of oauth_provider is installed but its
settings checks (``oauth_provider.remote_resource_server``); it has no
database at all. The live tests run it under gunicorn (one worker) with
these settings; the block below is what a team pastes into a fresh
``startproject`` (see the README).

Read from the environment: ``RS_ISSUER`` (the provider's issuer URL),
``RS_CLIENT_ID``, ``RS_CLIENT_SECRET`` and ``RS_RESOURCE`` (this API's
identifier, the ``aud`` of its tokens).
"""

import os

SECRET_KEY = "resource-server-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "tests.resource_server_site.urls"
DATABASES: dict = {}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "oauth_provider.remote_resource_server",
]
USE_TZ = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# --- oauth_provider's DRF classes against a remote issuer ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth_provider.rest_framework.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["oauth_provider.rest_framework.permissions.HasScope"],
}
OAUTH_PROVIDER = {
    "RESOURCE_SERVER_ISSUER": os.environ["RS_ISSUER"],
    "RESOURCE_SERVER_CLIENT_ID": os.environ["RS_CLIENT_ID"],
    "RESOURCE_SERVER_CLIENT_SECRET": os.environ["RS_CLIENT_SECRET"],
    "RESOURCE_SERVER_RESOURCE": os.environ["RS_RESOURCE"],
    # The defaults (60 s each), shortened by tests that cannot wait for them.
    "RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS": int(os.environ.get("RS_INTROSPECTION_CACHE_SECONDS", 60)),
    "RESOURCE_SERVER_JWKS_REFRESH_SECONDS": int(os.environ.get("RS_JWKS_REFRESH_SECONDS", 60)),
}
