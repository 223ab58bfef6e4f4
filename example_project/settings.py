"""Settings for the example site, read from the environment (django-environ)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    OAUTH_PROVIDER_ISSUER=(str, "http://127.0.0.1:8000"),
    # The example MCP server's URL (example_project/mcp_server.py), which is
    # also its resource identifier: the two must agree.
    MCP_SERVER_URL=(str, "http://127.0.0.1:8001/mcp"),
)

# The default key is for the demo only; set SECRET_KEY anywhere else.
SECRET_KEY = env("SECRET_KEY", default="example-project-insecure-demo-key")
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth_provider",
    "example_project.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Back-channel logout when a session ends without a logout (another user signs in).
    "oauth_provider.middleware.LoginSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth_provider.rest_framework.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "oauth_provider.rest_framework.permissions.HasScope",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

OAUTH_PROVIDER = {
    # openid makes the site an OpenID Provider ("Sign in with ..."); profile
    # and email let apps read the user's name and e-mail address.
    "SCOPES": {
        "openid": "Sign you in with your account here",
        "profile": "See your name and username",
        "email": "See your e-mail address",
        "read": "Read your profile and notes",
        "write": "Create notes for you",
    },
    "DEFAULT_SCOPES": ["read"],
    "ISSUER": env("OAUTH_PROVIDER_ISSUER"),
    # The site's own API (/api/) as a protected resource (RFC 8707): tokens
    # name it as their audience, its views refuse others' tokens, and
    # /.well-known/oauth-protected-resource/api/ describes it (RFC 9728).
    "RESOURCES": {
        env("OAUTH_PROVIDER_ISSUER") + "/api/": {"scopes": ["read", "write"], "name": "Example notes API"},
        # The example MCP server: agents (MCP clients) ask for a token for it
        # by its URL, and it refuses tokens for anything else.
        env("MCP_SERVER_URL"): {"scopes": ["read"], "name": "Example MCP server"},
    },
    # A token requested without `resource` (every client that predates RFC
    # 8707) is for the API only, never usable at the MCP server.
    "DEFAULT_RESOURCES": [env("OAUTH_PROVIDER_ISSUER") + "/api/"],
    "RESOURCE_SERVER_RESOURCE": env("OAUTH_PROVIDER_ISSUER") + "/api/",
    # The demo lets apps registered at /o/clients/ work at once; the library's
    # default (True) makes them wait for an admin's approval.
    "SELF_SERVICE_APPROVAL_REQUIRED": False,
    # The demo lets software such as an MCP client register itself (RFC 7591)
    # and be used at once; `check --deploy` warns about it (W016). A public
    # site should keep approval on, or hand out initial access tokens.
    "REGISTRATION_POLICY": "open",
    "REGISTRATION_APPROVAL_REQUIRED": False,
    # Or it names itself by the https URL of its Client ID Metadata Document,
    # which the site fetches (public addresses only); the consent screen shows
    # that URL's host and that the site did not review the client.
    "CLIENT_ID_METADATA_DOCUMENTS": True,
}
