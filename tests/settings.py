"""Test settings: the example project, with fast password hashing.

DATABASE_URL picks the database (SQLite by default; CI also runs PostgreSQL).
"""

from example_project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
OAUTH_PROVIDER = {
    "SCOPES": {"read": "Read your data", "write": "Change your data", "admin": "Administer your account"},
    "DEFAULT_SCOPES": ["read"],
    "ISSUER": "https://auth.example.com",
}
