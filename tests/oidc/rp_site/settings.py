"""A second Django site, the relying party: ``mozilla-django-oidc`` signing
people in through our provider. The end-to-end tests run it in a subprocess
(``serve.py``) with these settings; the OIDC block below is what a team pastes
into their own site (see the README), with their provider's URL and the
client ``createclient`` printed.

Read from the environment: ``RP_PROVIDER_URL`` (the issuer), ``RP_CLIENT_ID``,
``RP_CLIENT_SECRET`` and ``RP_DATABASE`` (an SQLite file).
"""

import os

SECRET_KEY = "relying-party-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "tests.oidc.rp_site.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["RP_DATABASE"]}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "mozilla_django_oidc",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": False}]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Its own cookies: on one host (ports do not separate cookies) the two sites
# must not overwrite each other's session.
SESSION_COOKIE_NAME = "rp_sessionid"
CSRF_COOKIE_NAME = "rp_csrftoken"

# --- mozilla-django-oidc against oauth_provider ---
PROVIDER = os.environ["RP_PROVIDER_URL"]  # the provider's issuer, e.g. https://id.example.com
AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]
OIDC_RP_CLIENT_ID = os.environ["RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = os.environ["RP_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{PROVIDER}/o/authorize/"
OIDC_OP_TOKEN_ENDPOINT = f"{PROVIDER}/o/token/"
OIDC_OP_USER_ENDPOINT = f"{PROVIDER}/o/userinfo/"
OIDC_OP_JWKS_ENDPOINT = f"{PROVIDER}/o/jwks/"
OIDC_USE_PKCE = True
# Usernames from the provider's preferred_username instead of a hash of the e-mail.
OIDC_USERNAME_ALGO = "tests.oidc.rp_site.users.username"
# Signing out here also signs out at the provider (RP-Initiated Logout 1.0).
OIDC_STORE_ID_TOKEN = True
OIDC_OP_LOGOUT_URL_METHOD = "tests.oidc.rp_site.users.provider_logout_url"
OIDC_OP_LOGOUT_ENDPOINT = f"{PROVIDER}/o/logout/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
