"""Settings for the benchmark: the example project in production mode.

DEBUG is off (Django would otherwise record every query), passwords use the
fast test hasher (no request here checks a password), and the in-process
cache scenario's revocation stream is on the local Redis.
"""

from example_project.settings import *  # noqa: F403
from example_project.settings import OAUTH_PROVIDER, env

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
ROOT_URLCONF = "benchmarks.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REVOCATION_STREAM = {
    "ENGINE": "redis",
    "LOCATION": env("REDIS_URL", default="redis://127.0.0.1:6379/0"),
    "CHANNEL": "oauth_provider_benchmark",
}
OAUTH_PROVIDER = {**OAUTH_PROVIDER, "ISSUER": "https://auth.example.com"}
if env("BENCHMARK_REVOCATION_STREAM", default=""):
    # benchmarks.http's workers: revocation pushed through Redis pub/sub.
    OAUTH_PROVIDER["REVOCATION_STREAM"] = {"ENGINE": "redis", "LOCATION": env("BENCHMARK_REVOCATION_STREAM")}
if env("BENCHMARK_CONN_MAX_AGE", default=""):
    # benchmarks.http's workers: persistent connections, as the README recommends.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("BENCHMARK_CONN_MAX_AGE")  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # psycopg 3's prepared statements (Django's server_side_binding and
    # prepare_threshold options): a statement run five times on a connection
    # is then parsed and planned once. Django leaves them off because a
    # pooler in transaction mode may not support them (``run.py --no-prepare``).
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)  # noqa: F405
