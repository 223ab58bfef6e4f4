"""Settings for the benchmark: the example project in production mode.

DEBUG is off (Django would otherwise record every query), passwords use the
fast test hasher (no request here checks a password), and a second cache
alias points at the local Redis for the token cache scenario.
"""

from example_project.settings import *  # noqa: F403
from example_project.settings import OAUTH_PROVIDER, env

DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "benchmarks.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "tokens": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL", default="redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "oauth-provider-benchmark",
    },
}
OAUTH_PROVIDER = {**OAUTH_PROVIDER, "ISSUER": "https://auth.example.com"}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # SQLite as it is run in production: write-ahead log, and fsync at
    # checkpoints rather than on every commit (Django's docs on SQLite).
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (  # noqa: F405
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
