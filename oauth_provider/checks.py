"""System checks for the ``OAUTH_PROVIDER`` setting.

Every value is validated here, so ``manage.py check`` (and ``runserver``,
``migrate`` and the test runner) report a bad value with a hint instead of a
request failing later. Risky but legal choices are ``--deploy`` warnings.
"""

from __future__ import annotations

import importlib.util
import re
import warnings as python_warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.db.models import Q
from django.shortcuts import resolve_url
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import NoReverseMatch, Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.module_loading import import_string
from joserfc.errors import JoseError

from .claims import OPENID
from .metadata import is_openid_provider
from .models import Client, SigningKey
from .models.clients import SubjectType
from .pkce import PLAIN, S256
from .redirect_uris import split_redirect_uris
from .remote_resource_server.checks import check_resource_server_settings
from .rest_framework.permissions import HasReadWriteScope, HasScope, TokenScopePermission, is_scope_list
from .scopes import is_scope_token

# Shared with remote_resource_server.checks, which may not import models;
# under their old names here.
from .setting_values import RETIRED_SETTINGS
from .setting_values import check_dict as _check_dict
from .setting_values import error as _error
from .setting_values import plain_http as _plain_http
from .setting_values import positive_int as _positive_int
from .setting_values import resource_identifier_problem as _resource_identifier_problem
from .settings import (
    DEFAULTS,
    GRANT_TYPE_CHOICES,
    JWT,
    LEGACY_GRANT_TYPES,
    OPAQUE,
    REGISTRATION_OPEN,
    REGISTRATION_POLICIES,
    oauth_settings,
)
from .signing_keys import (
    ALGORITHMS,
    CURVES,
    KEY_TYPES,
    READABLE_WITH_FALLBACK,
    RS256,
    UNREADABLE,
    readability,
    signing_and_pending_keys,
)

LIFETIMES = (
    "AUTHORIZATION_CODE_EXPIRE_SECONDS",
    "ACCESS_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_EXPIRE_SECONDS",
    "DEVICE_CODE_EXPIRE_SECONDS",
    "DEVICE_CODE_INTERVAL",
    "USER_CODE_ATTEMPT_WINDOW_SECONDS",
    "BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS",
    "ID_TOKEN_EXPIRE_SECONDS",
)
# Settings that are True or False.
SWITCHES = (
    "SELF_SERVICE_CLIENTS",
    "SELF_SERVICE_APPROVAL_REQUIRED",
    "REVOKE_TOKENS_ON_PASSWORD_CHANGE",
    "OIDC_ENABLED",
    "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED",
    "REGISTRATION_APPROVAL_REQUIRED",
)
# A retry window longer than this is no longer "a client that lost the response".
MAX_GRACE_PERIOD_SECONDS = 60
# Cache backends that are not shared between processes (or keep nothing).
UNSHARED_CACHE_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _check_scopes() -> list[Error]:
    scopes = oauth_settings.SCOPES
    if not isinstance(scopes, dict) or not scopes:
        return [
            _error(3, "OAUTH_PROVIDER['SCOPES'] must be a non-empty dict.", 'e.g. {"read": "Read your data"}')
        ]
    bad = [name for name in scopes if not isinstance(name, str) or not is_scope_token(name)]
    if bad:
        return [
            _error(
                4,
                f"OAUTH_PROVIDER['SCOPES'] has invalid scope names: {bad!r}.",
                "Scope names are printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3).",
            )
        ]
    defaults = oauth_settings.DEFAULT_SCOPES
    if not _list_of(defaults, scopes):
        return [
            _error(
                5,
                "OAUTH_PROVIDER['DEFAULT_SCOPES'] must be a list of names from SCOPES.",
                "Use [] to require clients to always ask for a scope.",
            )
        ]
    return []


def _check_lifetimes() -> list[Error]:
    return [
        _error(6, f"OAUTH_PROVIDER['{name}'] must be a positive whole number of seconds.", "e.g. 3600")
        for name in LIFETIMES
        if not _positive_int(getattr(oauth_settings, name))
    ]


def _list_of(value: Any, allowed: Collection[str]) -> bool:
    """Whether ``value`` is a list or tuple of strings, each one of ``allowed``."""
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) and v in allowed for v in value)


def _check_pkce() -> list[Error]:
    methods = oauth_settings.PKCE_CODE_CHALLENGE_METHODS
    errors = []
    if not methods or not _list_of(methods, (S256, PLAIN)):
        errors.append(
            _error(
                7,
                "OAUTH_PROVIDER['PKCE_CODE_CHALLENGE_METHODS'] must list 'S256' and/or 'plain'.",
                "Use ['S256'].",
            )
        )
    if not isinstance(oauth_settings.PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS, bool):
        errors.append(
            _error(8, "OAUTH_PROVIDER['PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS'] must be True or False.", "")
        )
    return errors


def _check_grant_types() -> list[Error]:
    grant_types = oauth_settings.GRANT_TYPES
    supported = [name for name, _label in GRANT_TYPE_CHOICES]
    if not _list_of(grant_types, supported):
        return [
            _error(
                9,
                "OAUTH_PROVIDER['GRANT_TYPES'] must list supported grant types.",
                f"Supported: {', '.join(supported)}.",
            )
        ]
    return []


def _check_issuer() -> list[Error]:
    issuer = oauth_settings.ISSUER
    if issuer is None:
        return []
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except (TypeError, ValueError, AttributeError):
        parts = None
    if (
        parts is None
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        return [
            _error(
                10,
                "OAUTH_PROVIDER['ISSUER'] must be an absolute URL without query or fragment.",
                "e.g. 'https://auth.example.com' (RFC 8414 §2).",
            )
        ]
    return []


def _check_realm() -> list[Error]:
    realm = oauth_settings.RESOURCE_SERVER_REALM
    if not isinstance(realm, str) or not realm or '"' in realm or "\\" in realm:
        return [
            _error(
                11, "OAUTH_PROVIDER['RESOURCE_SERVER_REALM'] must be a non-empty string without quotes.", ""
            )
        ]
    return []


def _check_limits() -> list[Error]:
    errors = []
    if not _positive_int(oauth_settings.USER_CODE_MAX_ATTEMPTS):
        errors.append(
            _error(12, "OAUTH_PROVIDER['USER_CODE_MAX_ATTEMPTS'] must be a positive whole number.", "e.g. 10")
        )
    grace = oauth_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
    if not (_positive_int(grace) or grace == 0) or grace > MAX_GRACE_PERIOD_SECONDS:
        errors.append(
            _error(
                13,
                "OAUTH_PROVIDER['REFRESH_TOKEN_GRACE_PERIOD_SECONDS'] must be a whole number "
                f"from 0 to {MAX_GRACE_PERIOD_SECONDS}.",
                "0 turns the grace period off; a few seconds is enough for a lost response.",
            )
        )
    return errors


def _check_caches() -> list[Error]:
    alias = oauth_settings.THROTTLE_CACHE
    if not isinstance(alias, str) or alias not in settings.CACHES:
        return [
            _error(
                14,
                "OAUTH_PROVIDER['THROTTLE_CACHE'] must name a cache in CACHES.",
                f"Known caches: {', '.join(settings.CACHES)}.",
            )
        ]
    return []


REVOCATION_STREAM_KEYS = frozenset({"ENGINE", "LOCATION", "DATABASE", "CHANNEL", "HEARTBEAT_SECONDS"})
REDIS_URL_SCHEMES = ("redis", "rediss", "unix")
# A PostgreSQL channel is an identifier (at most 63 bytes); the listener
# adds a 30-character suffix for its private ping channel.
MAX_CHANNEL_LENGTH = 33


def _check_revocation_stream() -> list[CheckMessage]:
    """E038: REVOCATION_STREAM's shape. E039: the Redis engine's LOCATION and
    redis-py. E040: the PostgreSQL engine's DATABASE and psycopg 3. E041:
    the in-process cache's bounds. W018: a retired setting is still set.
    W019: the in-process cache is configured without a stream."""
    from .revocation_stream import ENGINES, POSTGRESQL, REDIS

    messages: list[CheckMessage] = [
        Warning(
            f"OAUTH_PROVIDER['{name}'] is retired and has no effect.",
            hint=f"Remove it; use {replacement} instead (README: Revocation that reaches every process).",
            id="oauth_provider.W018",
        )
        for name, replacement in RETIRED_SETTINGS.items()
        if name in oauth_settings.user_settings
    ]
    for name in ("IN_PROCESS_CACHE_MAX_TOKENS", "IN_PROCESS_CACHE_SECONDS"):
        if not _positive_int(getattr(oauth_settings, name)):
            messages.append(
                _error(41, f"OAUTH_PROVIDER['{name}'] must be a positive whole number.", "e.g. 300")
            )
    config = oauth_settings.REVOCATION_STREAM
    if config is None:
        configured = {
            "IN_PROCESS_CACHE_MAX_TOKENS",
            "IN_PROCESS_CACHE_SECONDS",
        } & oauth_settings.user_settings.keys()
        if configured:
            messages.append(
                Warning(
                    f"OAUTH_PROVIDER[{', '.join(sorted(map(repr, configured)))}] has no effect without "
                    "REVOCATION_STREAM: no process keeps tokens in memory.",
                    hint="Set REVOCATION_STREAM to {'ENGINE': 'redis', 'LOCATION': ...} or "
                    "{'ENGINE': 'postgresql', 'DATABASE': 'default'}, or remove the setting.",
                    id="oauth_provider.W019",
                )
            )
        return messages
    shape_hint = (
        "None, {'ENGINE': 'redis', 'LOCATION': 'redis://127.0.0.1:6379/0'} or "
        "{'ENGINE': 'postgresql', 'DATABASE': 'default'}; optional 'CHANNEL' (a name of letters, "
        f"digits and underscores, at most {MAX_CHANNEL_LENGTH}) and 'HEARTBEAT_SECONDS' (a positive number)."
    )
    if (
        not isinstance(config, dict)
        or config.get("ENGINE") not in ENGINES
        or not config.keys() <= REVOCATION_STREAM_KEYS
    ):
        return [
            *messages,
            _error(38, "OAUTH_PROVIDER['REVOCATION_STREAM'] is not a stream configuration.", shape_hint),
        ]
    channel = config.get("CHANNEL", "oauth_provider_revocations")
    heartbeat = config.get("HEARTBEAT_SECONDS", 1)
    if (
        not isinstance(channel, str)
        or not re.fullmatch(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_CHANNEL_LENGTH - 1}}}", channel)
        or isinstance(heartbeat, bool)
        or not isinstance(heartbeat, (int, float))
        or heartbeat <= 0
    ):
        messages.append(
            _error(
                38, "OAUTH_PROVIDER['REVOCATION_STREAM'] has a bad CHANNEL or HEARTBEAT_SECONDS.", shape_hint
            )
        )
    if config["ENGINE"] == REDIS:
        location = config.get("LOCATION")
        if not isinstance(location, str) or urlsplit(location).scheme not in REDIS_URL_SCHEMES:
            messages.append(
                _error(
                    39,
                    "REVOCATION_STREAM 'redis' needs a LOCATION: a redis://, rediss:// or unix:// URL.",
                    shape_hint,
                )
            )
        elif not _importable("redis"):
            messages.append(
                _error(39, "REVOCATION_STREAM 'redis' needs redis-py.", "pip install 'oauth-provider[redis]'")
            )
    if config["ENGINE"] == POSTGRESQL:
        alias = config.get("DATABASE", DEFAULT_DB_ALIAS)
        engine = settings.DATABASES.get(alias, {}).get("ENGINE", "") if isinstance(alias, str) else ""
        if not engine.endswith("postgresql"):
            known = [
                name for name, db in settings.DATABASES.items() if db.get("ENGINE", "").endswith("postgresql")
            ]
            messages.append(
                _error(
                    40,
                    f"REVOCATION_STREAM 'postgresql': DATABASE {alias!r} is not a PostgreSQL database.",
                    f"PostgreSQL databases: {', '.join(known) or 'none'}.",
                )
            )
        elif not _importable("psycopg"):
            messages.append(
                _error(40, "REVOCATION_STREAM 'postgresql' needs psycopg 3.", "pip install 'psycopg[binary]'")
            )
    return messages


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _check_introspection_scope() -> list[Error]:
    scope = oauth_settings.INTROSPECTION_SCOPE
    scopes = oauth_settings.SCOPES
    if scope is not None and not (isinstance(scope, str) and isinstance(scopes, dict) and scope in scopes):
        return [
            _error(
                15,
                "OAUTH_PROVIDER['INTROSPECTION_SCOPE'] must be None or a scope named in SCOPES.",
                'e.g. SCOPES = {..., "introspection": "Check tokens"}, '
                'INTROSPECTION_SCOPE = "introspection".',
            )
        ]
    return []


def _check_switches() -> list[Error]:
    return [
        _error(16, f"OAUTH_PROVIDER['{name}'] must be True or False.", "")
        for name in SWITCHES
        if not isinstance(getattr(oauth_settings, name), bool)
    ]


def _check_self_service() -> list[Error]:
    limit = oauth_settings.SELF_SERVICE_MAX_CLIENTS
    if limit is not None and not _positive_int(limit):
        return [
            _error(
                17,
                "OAUTH_PROVIDER['SELF_SERVICE_MAX_CLIENTS'] must be a positive whole number or None.",
                "None removes the limit.",
            )
        ]
    return []


def _check_privileged_scopes() -> list[Error]:
    scopes = oauth_settings.SCOPES
    if not _list_of(oauth_settings.PRIVILEGED_SCOPES, scopes if isinstance(scopes, dict) else ()):
        return [
            _error(
                20,
                "OAUTH_PROVIDER['PRIVILEGED_SCOPES'] must be a list of names from SCOPES.",
                "List the scopes only an admin may give a client, e.g. ['admin']; [] for none.",
            )
        ]
    return []


# Throttling (throttling.py): counts and windows in seconds.
THROTTLE_LIMITS = (
    "CLIENT_AUTH_MAX_ATTEMPTS",
    "CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS",
    "PASSWORD_GRANT_MAX_ATTEMPTS",
    "PASSWORD_GRANT_ATTEMPT_WINDOW_SECONDS",
    "DEVICE_AUTHORIZATION_MAX_REQUESTS",
    "DEVICE_AUTHORIZATION_REQUEST_WINDOW_SECONDS",
    "DEVICE_AUTHORIZATION_MAX_PENDING",
    "CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES",
    "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW_SECONDS",
)


def _check_throttle_limits() -> list[Error]:
    return [
        _error(
            21,
            f"OAUTH_PROVIDER['{name}'] must be a positive whole number.",
            f"The default is {DEFAULTS[name]}; throttling cannot be turned off.",
        )
        for name in THROTTLE_LIMITS
        if not _positive_int(getattr(oauth_settings, name))
    ]


def _check_claims_provider() -> list[Error]:
    """E022: ``OIDC_CLAIMS_PROVIDER`` must import as a class with a
    ``get_claims`` method, or UserInfo and ID tokens would fail per request."""
    path = oauth_settings.OIDC_CLAIMS_PROVIDER
    try:
        provider = import_string(path)
    except (ImportError, AttributeError, TypeError, ValueError):  # AttributeError: not a string
        provider = None
    if not isinstance(provider, type) or not callable(getattr(provider, "get_claims", None)):
        return [
            _error(
                22,
                f"OAUTH_PROVIDER['OIDC_CLAIMS_PROVIDER'] must be the dotted path of a claims provider "
                f"class with a get_claims(user, client) method: {path!r} is not.",
                "Subclass oauth_provider.claims.UserClaims, or use the default "
                f"{DEFAULTS['OIDC_CLAIMS_PROVIDER']!r}.",
            )
        ]
    return []


# -- OpenID Connect signing keys -------------------------------------------------------------

# Members of an OIDC_SIGNING_KEYS entry, and whether each is required.
SIGNING_KEY_MEMBERS = {"kid": True, "algorithm": True, "private_key": True, "active": False}
SIGNING_KEYS_EXAMPLE = (
    'e.g. [{"kid": "2026-01", "algorithm": "RS256", "private_key": '
    'Path("/run/secrets/oidc-rs256.pem").read_text()}]'
)
# RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
MIN_RSA_KEY_SIZE = 2048


def _is_forbidden_algorithm(name: str) -> bool:
    """``none`` (RFC 7518 §3.6, unsigned) and HMAC (``HS256``...): a token
    signed with a secret every client shares could be forged by any of them."""
    return name.lower() == "none" or name.upper().startswith("HS")


def _check_signing_algorithms() -> list[Error]:
    algorithms = oauth_settings.OIDC_SIGNING_ALGORITHMS
    setting = "OAUTH_PROVIDER['OIDC_SIGNING_ALGORITHMS']"
    supported = ", ".join(ALGORITHMS)
    if not isinstance(algorithms, (list, tuple)) or not all(isinstance(name, str) for name in algorithms):
        return [_error(24, f"{setting} must be a list of algorithm names.", f"Supported: {supported}.")]
    errors = []
    forbidden = [name for name in algorithms if _is_forbidden_algorithm(name)]
    if forbidden:
        errors.append(
            _error(
                24,
                f"{setting} lists {', '.join(forbidden)}, which is never accepted.",
                "'none' leaves ID tokens unsigned, so anyone can forge one; HMAC (HS256...) would sign "
                f"with a secret shared with clients. Use {supported}.",
            )
        )
    unknown = [name for name in algorithms if name not in ALGORITHMS and not _is_forbidden_algorithm(name)]
    if unknown:
        errors.append(
            _error(
                24, f"{setting} lists unknown algorithms: {', '.join(unknown)}.", f"Supported: {supported}."
            )
        )
    if RS256 not in algorithms:
        errors.append(
            _error(
                24,
                f"{setting} must include RS256.",
                "OpenID Connect Core §15.1: an OpenID Provider must support RS256, the algorithm "
                "relying parties expect by default.",
            )
        )
    return errors


def _signing_key_problem(entry: dict[Any, Any]) -> str | None:
    """What is wrong with one ``OIDC_SIGNING_KEYS`` entry, or None."""
    missing = [name for name, required in SIGNING_KEY_MEMBERS.items() if required and name not in entry]
    if missing:
        return f"lacks {', '.join(missing)}"
    unknown = sorted(str(name) for name in entry if name not in SIGNING_KEY_MEMBERS)
    if unknown:
        return f"has unknown members: {', '.join(unknown)}"
    kid, algorithm, pem = entry["kid"], entry["algorithm"], entry["private_key"]
    if not isinstance(kid, str) or not kid:
        return "has a kid that is not a non-empty string"
    if algorithm not in ALGORITHMS:
        return f"has algorithm {algorithm!r}, not one of {', '.join(ALGORITHMS)}"
    if not isinstance(entry.get("active", True), bool):
        return "has an active that is not True or False"
    key_type = KEY_TYPES[algorithm]
    try:
        with python_warnings.catch_warnings():
            # joserfc warns about small RSA keys; the size is checked below.
            python_warnings.simplefilter("ignore")
            key = key_type.import_key(pem) if isinstance(pem, (str, bytes)) else None
    except (JoseError, ValueError, TypeError):
        key = None
    if key is None:
        return (
            f"has a private_key that is not a PEM {key_type.key_type} key (the type {algorithm} signs with)"
        )
    if not key.is_private:
        return "has a private_key that holds only a public key"
    if algorithm == RS256 and key.private_key.key_size < MIN_RSA_KEY_SIZE:
        return (
            f"has an RSA key of {key.private_key.key_size} bits (RFC 7518 §3.3: at least {MIN_RSA_KEY_SIZE})"
        )
    if algorithm in CURVES and key.curve_name != CURVES[algorithm]:
        return f"has a key on curve {key.curve_name}; {algorithm} signs with {CURVES[algorithm]}"
    return None


def _check_signing_keys_setting() -> list[Error]:
    """E025: ``OIDC_SIGNING_KEYS`` cannot be read; E029: it has no active key
    for an algorithm of ``OIDC_SIGNING_ALGORITHMS`` (clients choosing it
    would get no ID token)."""
    entries = oauth_settings.OIDC_SIGNING_KEYS
    setting = "OAUTH_PROVIDER['OIDC_SIGNING_KEYS']"
    if entries is None:
        return []
    if not isinstance(entries, (list, tuple)) or not all(isinstance(entry, dict) for entry in entries):
        return [_error(25, f"{setting} must be None or a list of dicts.", SIGNING_KEYS_EXAMPLE)]
    errors = []
    for index, entry in enumerate(entries):
        problem = _signing_key_problem(entry)
        if problem is not None:
            errors.append(_error(25, f"{setting}[{index}] {problem}.", SIGNING_KEYS_EXAMPLE))
    kids = Counter(entry.get("kid") for entry in entries if isinstance(entry.get("kid"), str))
    duplicates = sorted(kid for kid, count in kids.items() if count > 1)
    if duplicates:
        errors.append(
            _error(
                25,
                f"{setting} repeats the kid {', '.join(duplicates)}.",
                "Each key needs its own kid: relying parties pick the key by it.",
            )
        )
    if errors or not entries:
        return errors
    algorithms = oauth_settings.OIDC_SIGNING_ALGORITHMS
    wanted = (
        [name for name in algorithms if name in ALGORITHMS] if isinstance(algorithms, (list, tuple)) else []
    )
    active = {entry["algorithm"] for entry in entries if entry.get("active", True)}
    return [
        _error(
            29,
            f"{setting} has no active {algorithm} key, an algorithm of OIDC_SIGNING_ALGORITHMS.",
            f"Add an {algorithm} key, or remove {algorithm} from OIDC_SIGNING_ALGORITHMS.",
        )
        for algorithm in dict.fromkeys([RS256, *wanted])
        if algorithm not in active
    ]


def _check_key_activation_delay() -> list[Error]:
    delay = oauth_settings.OIDC_KEY_ACTIVATION_DELAY_SECONDS
    if not (_positive_int(delay) or (type(delay) is int and delay == 0)):
        return [
            _error(
                27,
                "OAUTH_PROVIDER['OIDC_KEY_ACTIVATION_DELAY_SECONDS'] must be a whole number of seconds, "
                "0 or more.",
                f"The default, {DEFAULTS['OIDC_KEY_ACTIVATION_DELAY_SECONDS']} (two days), leaves relying "
                "parties' cached key sets time to learn a new key before it signs.",
            )
        ]
    return []


def _check_subject_type() -> list[Error]:
    value = oauth_settings.OIDC_DEFAULT_SUBJECT_TYPE
    if value not in SubjectType.values:
        return [
            _error(
                23,
                "OAUTH_PROVIDER['OIDC_DEFAULT_SUBJECT_TYPE'] must be 'public' or 'pairwise'.",
                "'public' gives every client the same sub for a user; 'pairwise' one per sector "
                "(OpenID Connect Core §8).",
            )
        ]
    return []


def _check_key_encryption_secret() -> list[Error]:
    secret = oauth_settings.OIDC_KEY_ENCRYPTION_SECRET
    fallbacks = oauth_settings.OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS
    valid_secret = secret is None or (isinstance(secret, str) and secret)
    valid_fallbacks = isinstance(fallbacks, (list, tuple)) and all(
        isinstance(value, str) and value for value in fallbacks
    )
    if valid_secret and valid_fallbacks:
        return []
    return [
        _error(
            28,
            "OAUTH_PROVIDER['OIDC_KEY_ENCRYPTION_SECRET'] must be None or a non-empty string, and "
            "OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS a list of non-empty strings.",
            "None encrypts the signing keys with SECRET_KEY (and reads them with SECRET_KEY_FALLBACKS).",
        )
    ]


def _check_backchannel_logout_retries() -> list[Error]:
    """E030: ``BACKCHANNEL_LOGOUT_RETRIES`` is compared with the attempts
    made in the delivery thread, after the response: a value that is not a
    whole number would fail there, unseen, instead of logging the failed
    delivery (Back-Channel Logout 1.0 §2.5)."""
    retries = oauth_settings.BACKCHANNEL_LOGOUT_RETRIES
    if _positive_int(retries) or (type(retries) is int and retries == 0):
        return []
    return [
        _error(
            30,
            "OAUTH_PROVIDER['BACKCHANNEL_LOGOUT_RETRIES'] must be a whole number, 0 or more.",
            f"The default is {DEFAULTS['BACKCHANNEL_LOGOUT_RETRIES']}; 0 posts each logout token once.",
        )
    ]


# Members a RESOURCES entry may have; "scopes" is required.
RESOURCE_MEMBERS = frozenset(
    {"scopes", "name", "documentation", "access_token_expire_seconds", "access_token_format"}
)


def _resource_problem(identifier: Any, declared: Any, scopes: Mapping[str, Any]) -> str | None:
    if _resource_identifier_problem(identifier):
        return "is not an https URL (http only for loopback) without query or fragment"
    if not isinstance(declared, dict) or not set(declared) <= RESOURCE_MEMBERS:
        return f"must be a dict with keys among {', '.join(sorted(RESOURCE_MEMBERS))}"
    if not _list_of(declared.get("scopes"), scopes) or not declared["scopes"]:
        return "must list its scopes, each one from SCOPES"
    if "access_token_expire_seconds" in declared and not _positive_int(
        declared["access_token_expire_seconds"]
    ):
        return "has an access_token_expire_seconds that is not a positive whole number"
    if "access_token_format" in declared and declared["access_token_format"] not in (OPAQUE, JWT):
        return f"has an access_token_format that is neither {OPAQUE!r} nor {JWT!r}"
    documentation = declared.get("documentation")
    if documentation is not None and (
        not isinstance(documentation, str) or urlsplit(documentation).scheme not in ("https", "http")
    ):
        return "has a documentation value that is not an http(s) URL"
    return None


def _check_resources() -> list[Error]:
    """E031: a ``RESOURCES`` entry is malformed (RFC 8707 §2, RFC 9728 §1.2);
    E032: ``DEFAULT_RESOURCES`` names an undeclared resource; E033:
    ``RESOURCE_SERVER_RESOURCE`` is not declared (every token would be refused)."""
    resources, scopes = oauth_settings.RESOURCES, oauth_settings.SCOPES
    if not isinstance(scopes, dict):
        return []  # E003 already reports it
    if not isinstance(resources, dict):
        return [
            _error(
                31,
                "OAUTH_PROVIDER['RESOURCES'] must be a dict.",
                'e.g. {"https://api.example.com/": {"scopes": ["read"]}}',
            )
        ]
    errors = []
    for identifier, declared in resources.items():
        problem = _resource_problem(identifier, declared, scopes)
        if problem is not None:
            errors.append(
                _error(
                    31,
                    f"OAUTH_PROVIDER['RESOURCES'] entry {identifier!r} {problem}.",
                    'e.g. "https://api.example.com/": {"scopes": ["read"], "name": "Example API"}.',
                )
            )
    defaults = oauth_settings.DEFAULT_RESOURCES
    if defaults is not None and not _list_of(defaults, resources):
        errors.append(
            _error(
                32,
                "OAUTH_PROVIDER['DEFAULT_RESOURCES'] must be None or a list of identifiers from RESOURCES.",
                "None gives a token requested without resource every resource accepting one of its scopes.",
            )
        )
    protected = oauth_settings.RESOURCE_SERVER_RESOURCE
    # With a remote issuer, RESOURCES is the issuer's: remote_resource_server.checks checks it.
    remote = oauth_settings.RESOURCE_SERVER_ISSUER is not None
    if (
        not remote
        and protected is not None
        and (not isinstance(protected, str) or protected not in resources)
    ):
        errors.append(
            _error(
                33,
                "OAUTH_PROVIDER['RESOURCE_SERVER_RESOURCE'] must be None or an identifier from RESOURCES.",
                "It names the resource the DRF BearerTokenAuthentication protects; declare it in RESOURCES.",
            )
        )
    return errors


def _openid_warnings() -> list[Warning]:
    scopes = oauth_settings.SCOPES
    if oauth_settings.OIDC_ENABLED is False and isinstance(scopes, dict) and OPENID in scopes:
        return [
            Warning(
                "OAUTH_PROVIDER['SCOPES'] offers 'openid' but OIDC_ENABLED is False: clients granted it "
                "get no ID token, and there is no OpenID Provider configuration.",
                hint="Set OIDC_ENABLED to True, or remove 'openid' from SCOPES.",
                id="oauth_provider.W011",
            )
        ]
    return []


# Client ID Metadata Documents (client_metadata_documents.py).
CIMD_SWITCHES = ("CLIENT_ID_METADATA_DOCUMENTS", "CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED")
CIMD_HOST_LISTS = ("CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS", "CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS")
CIMD_CACHE_TIMES = (
    "CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS",
    "CLIENT_ID_METADATA_DOCUMENT_CACHE_MAX_SECONDS",
)


def _is_host_pattern(value: Any) -> bool:
    """A lowercase host name, or one with a leading dot (every host under it)."""
    if not isinstance(value, str) or value != value.lower():
        return False
    labels = value.removeprefix(".").split(".")
    return all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)


def _check_client_id_metadata_documents() -> list[Error]:
    """E034: the switches are booleans and the host lists lists of host
    names ("example.com", ".example.com"). E035: the cache floor and cap
    are positive integers, the floor at most the cap."""
    errors = [
        _error(34, f"OAUTH_PROVIDER['{name}'] must be True or False.", "")
        for name in CIMD_SWITCHES
        if not isinstance(getattr(oauth_settings, name), bool)
    ]
    errors += [
        _error(
            34,
            f"OAUTH_PROVIDER['{name}'] must be a list of lowercase host names.",
            'Write "app.example.com" for one host, ".example.com" for every host under example.com.',
        )
        for name in CIMD_HOST_LISTS
        if not isinstance(getattr(oauth_settings, name), (list, tuple))
        or not all(map(_is_host_pattern, getattr(oauth_settings, name)))
    ]
    times = [getattr(oauth_settings, name) for name in CIMD_CACHE_TIMES]
    if not all(map(_positive_int, times)):
        errors.append(
            _error(
                35,
                f"OAUTH_PROVIDER['{CIMD_CACHE_TIMES[0]}'] and ['{CIMD_CACHE_TIMES[1]}'] must be "
                "positive integers (seconds).",
                "",
            )
        )
    elif times[0] > times[1]:
        errors.append(
            _error(
                35,
                f"OAUTH_PROVIDER['{CIMD_CACHE_TIMES[0]}'] is larger than ['{CIMD_CACHE_TIMES[1]}'].",
                "The floor on how long a fetched document is used must not exceed the cap.",
            )
        )
    return errors


# Beyond this, a "leeway" would make expiry meaningless for short-lived JWTs.
MAX_ACCESS_TOKEN_LEEWAY_SECONDS = 300


def _check_jwt_access_tokens() -> list[Error]:
    """E047: ``JWT_ACCESS_TOKEN_EXPIRE_SECONDS`` is not a positive whole
    number. E048: ``ACCESS_TOKEN_LEEWAY_SECONDS`` is not a whole number from 0
    to ``MAX_ACCESS_TOKEN_LEEWAY_SECONDS`` (RFC 9068 §4 has resource servers
    check ``exp``; a large leeway would keep expired tokens working)."""
    errors = []
    if not _positive_int(oauth_settings.JWT_ACCESS_TOKEN_EXPIRE_SECONDS):
        errors.append(
            _error(
                47,
                "OAUTH_PROVIDER['JWT_ACCESS_TOKEN_EXPIRE_SECONDS'] must be a positive whole number "
                "of seconds.",
                f"The default is {DEFAULTS['JWT_ACCESS_TOKEN_EXPIRE_SECONDS']}: JWT access tokens are "
                "validated without a lookup, so they should live minutes, not hours.",
            )
        )
    leeway = oauth_settings.ACCESS_TOKEN_LEEWAY_SECONDS
    if type(leeway) is not int or not 0 <= leeway <= MAX_ACCESS_TOKEN_LEEWAY_SECONDS:
        errors.append(
            _error(
                48,
                "OAUTH_PROVIDER['ACCESS_TOKEN_LEEWAY_SECONDS'] must be a whole number of seconds from 0 "
                f"to {MAX_ACCESS_TOKEN_LEEWAY_SECONDS}.",
                f"The default is {DEFAULTS['ACCESS_TOKEN_LEEWAY_SECONDS']}: enough for clocks a little "
                "apart.",
            )
        )
    return errors


def _check_registration() -> list[Error]:
    """E036: ``REGISTRATION_POLICY`` is not one of the policies. E037: the
    registration rate limit is not a positive whole number."""
    errors = []
    if oauth_settings.REGISTRATION_POLICY not in REGISTRATION_POLICIES:
        errors.append(
            _error(
                36,
                "OAUTH_PROVIDER['REGISTRATION_POLICY'] must be one of: "
                f"{', '.join(map(repr, REGISTRATION_POLICIES))}.",
                '"off" (the default) turns dynamic client registration (RFC 7591) off.',
            )
        )
    errors.extend(
        _error(
            37,
            f"OAUTH_PROVIDER['{name}'] must be a positive whole number.",
            f"The default is {DEFAULTS[name]}; the registration rate limit cannot be turned off.",
        )
        for name in ("REGISTRATION_MAX_REQUESTS", "REGISTRATION_REQUEST_WINDOW_SECONDS")
        if not _positive_int(getattr(oauth_settings, name))
    )
    return errors


def _check_remote_issuer_here() -> list[Error]:
    """E042: ``RESOURCE_SERVER_ISSUER`` set on the authorization server
    itself. It makes every bearer check, this server's own UserInfo and
    introspection included, take the remote issuer's tokens instead of its own."""
    if oauth_settings.RESOURCE_SERVER_ISSUER is None:
        return []
    return [
        _error(
            42,
            "OAUTH_PROVIDER['RESOURCE_SERVER_ISSUER'] is set in a project that has oauth_provider in "
            "INSTALLED_APPS: this server's own endpoints would take another issuer's tokens.",
            "It is for resource servers on other machines, which list "
            "'oauth_provider.remote_resource_server' instead; set it to None here.",
        )
    ]


SETTING_CHECKS: tuple[Callable[[], list[CheckMessage]], ...] = (
    _check_scopes,
    _check_lifetimes,
    _check_limits,
    _check_pkce,
    _check_grant_types,
    _check_issuer,
    _check_realm,
    _check_caches,
    _check_revocation_stream,
    _check_introspection_scope,
    _check_switches,
    _check_self_service,
    _check_privileged_scopes,
    _check_throttle_limits,
    _check_claims_provider,
    _check_subject_type,
    _check_signing_algorithms,
    _check_signing_keys_setting,
    _check_key_activation_delay,
    _check_key_encryption_secret,
    _check_backchannel_logout_retries,
    _check_resources,
    _check_client_id_metadata_documents,
    _check_registration,
    _check_jwt_access_tokens,
    _openid_warnings,
    check_resource_server_settings,
    _check_remote_issuer_here,
)


@register(Tags.security)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors = _check_dict()
    if errors:
        return errors
    for check in SETTING_CHECKS:
        errors.extend(check())
    return errors


@register(Tags.security, deploy=True)
def check_deploy_settings(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if _check_dict():
        return warnings
    methods = oauth_settings.PKCE_CODE_CHALLENGE_METHODS
    if isinstance(methods, (list, tuple)) and PLAIN in methods:
        warnings.append(
            Warning(
                "PKCE 'plain' is enabled: an intercepted code_challenge is enough to redeem a code.",
                hint="Remove 'plain' from PKCE_CODE_CHALLENGE_METHODS (RFC 9700 §2.1.1).",
                id="oauth_provider.W001",
            )
        )
    issuer = oauth_settings.ISSUER
    if issuer is None:
        warnings.append(
            Warning(
                "OAUTH_PROVIDER['ISSUER'] is not set; it is derived from each request's Host header.",
                hint="Set OAUTH_PROVIDER['ISSUER'] to the site's public https URL, such as "
                '"https://auth.example.com": the RFC 9207 mix-up defence relies on it.',
                id="oauth_provider.W002",
            )
        )
    elif isinstance(issuer, str) and issuer.startswith("http://"):
        warnings.append(
            Warning(
                "OAUTH_PROVIDER['ISSUER'] uses plain http.",
                hint="An authorization server must be served over https (RFC 8414 §2).",
                id="oauth_provider.W003",
            )
        )
    grant_types = oauth_settings.GRANT_TYPES
    enabled = grant_types if isinstance(grant_types, (list, tuple)) else []
    legacy = [name for name in LEGACY_GRANT_TYPES if name in enabled]
    if legacy:
        warnings.append(
            Warning(
                f"Legacy grant types are enabled: {', '.join(legacy)}.",
                hint="RFC 9700 §2.1.2 and §2.4: use the authorization code grant with PKCE instead.",
                id="oauth_provider.W004",
            )
        )
    resources = oauth_settings.RESOURCES
    insecure = (
        [name for name in resources if isinstance(name, str) and name.startswith("http://")]
        if isinstance(resources, dict)
        else []
    )
    if insecure:
        warnings.append(
            Warning(
                f"OAUTH_PROVIDER['RESOURCES'] has plain http identifiers: {', '.join(insecure)}.",
                hint="Loopback http is for development; a deployed resource is https (RFC 9728 §1.2).",
                id="oauth_provider.W014",
            )
        )
    cimd = oauth_settings.CLIENT_ID_METADATA_DOCUMENTS
    if cimd is True and oauth_settings.OUTBOUND_PRIVATE_ADDRESSES_ALLOWED is True:
        warnings.append(
            Warning(
                "Client ID metadata documents are on and OUTBOUND_PRIVATE_ADDRESSES_ALLOWED is True: anyone "
                "can make the server fetch a URL on its own network by using it as a client_id.",
                hint="Set OUTBOUND_PRIVATE_ADDRESSES_ALLOWED to False outside development.",
                id="oauth_provider.W015",
            )
        )
    if (
        oauth_settings.REGISTRATION_POLICY == REGISTRATION_OPEN
        and not oauth_settings.REGISTRATION_APPROVAL_REQUIRED
    ):
        warnings.append(
            Warning(
                "Anyone may register a client (REGISTRATION_POLICY 'open') and use it at once "
                "(REGISTRATION_APPROVAL_REQUIRED is False).",
                hint="Any name can then be put in front of your users unreviewed, their consent screen being "
                "the only defence: require approval, or an initial access token (RFC 7591 §3).",
                id="oauth_provider.W016",
            )
        )
    warnings.extend(_unshared_cache_warnings())
    warnings.extend(_non_atomic_throttle_cache_warnings())
    return warnings


def _cache_backend(alias: Any) -> str | None:
    """The BACKEND of cache ``alias`` (a cache setting's value), or None if there is no such cache."""
    return settings.CACHES.get(alias, {}).get("BACKEND") if isinstance(alias, str) else None


def _unshared_cache_warnings() -> list[Warning]:
    alias = oauth_settings.THROTTLE_CACHE
    backend = _cache_backend(alias)
    if backend not in UNSHARED_CACHE_BACKENDS:
        return []
    # Name the alias and both ways out: in a new project nobody set the
    # setting, and the cache is Django's default LocMemCache.
    return [
        Warning(
            f"OAUTH_PROVIDER['THROTTLE_CACHE'] is the cache {alias!r}, a {backend.rsplit('.', 1)[-1]}, which "
            "processes do not share: each process counts failed attempts on its own.",
            hint=f"Give CACHES[{alias!r}] a backend every process shares, such as "
            "django.core.cache.backends.redis.RedisCache, or set "
            "OAUTH_PROVIDER['THROTTLE_CACHE'] to the alias of such a cache.",
            id="oauth_provider.W005",
        )
    ]


# -- The URLconf: views guarded by our scope permissions, and the login page -------------------


@register(Tags.urls)
def check_view_scopes(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E018: a view guarded by ``HasScope`` or ``HasReadWriteScope`` names a
    scope that is not in ``SCOPES`` (every request with it would be 403).
    E019: its ``required_scopes`` is missing (``HasScope``) or has the wrong
    shape (every request would fail with ``ImproperlyConfigured``).

    Walks every URL pattern, through ``include()``; a DRF view's class and
    ``as_view()`` keyword arguments give its permissions and scopes.
    """
    scopes = oauth_settings.SCOPES
    if not isinstance(scopes, dict):
        return []  # E003 already reports it
    errors = []
    for route, callback in _url_patterns(get_resolver().url_patterns, ""):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue  # not a DRF view
        guards = [
            permission
            for permission in _permission_classes(_view_attribute(callback, "permission_classes"))
            if isinstance(permission, type) and issubclass(permission, TokenScopePermission)
        ]
        if not guards:
            continue
        where = f"{_dotted_name(view_class)} at /{route}"
        declared = _view_attribute(callback, "required_scopes")
        # HasScope reads required_scopes unless a subclass computes its scopes itself.
        must_declare = any(
            issubclass(guard, HasScope) and guard.required_scopes is HasScope.required_scopes
            for guard in guards
        )
        named = [
            name
            for guard in guards
            if issubclass(guard, HasReadWriteScope)
            for name in (guard.read_scope, guard.write_scope)
        ]
        methods = {method.upper() for method in getattr(view_class, "http_method_names", ())}
        scope_lists = _scope_lists(declared, methods)
        if scope_lists is None or (declared is None and must_declare):
            problem = "missing" if declared is None else "neither a list nor a dict of HTTP method -> list"
            errors.append(
                _error(
                    19,
                    f"{where}: required_scopes is {problem}.",
                    'Set required_scopes = ["read"] or {"GET": ["read"], "POST": ["write"]} on the view '
                    "(or pass it to as_view()); @api_view functions cannot carry it, use an APIView.",
                )
            )
        else:
            named += [name for names in scope_lists for name in names]
        unknown = sorted({str(name) for name in named if not isinstance(name, str) or name not in scopes})
        if unknown:
            errors.append(
                _error(
                    18,
                    f"{where} requires scopes that OAUTH_PROVIDER['SCOPES'] does not define: "
                    f"{', '.join(unknown)}.",
                    f"Known scopes: {', '.join(map(str, scopes))}.",
                )
            )
    return errors


def _url_patterns(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(route, view) of every pattern, ``include()``s followed; the route joins the patterns' text."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _view_attribute(callback: Any, name: str) -> Any:
    """A DRF view's attribute as its requests see it: ``as_view()``'s keyword arguments, then the class."""
    initkwargs = getattr(callback, "initkwargs", None) or {}
    return initkwargs.get(name, getattr(callback.cls, name, None))


def _scope_lists(declared: Any, methods: Collection[str]) -> list[Iterable[Any]] | None:
    """The lists of scope names a view's ``required_scopes`` holds (none when
    it is None); None when its shape is wrong, including a dict key that is
    not one of the view's HTTP methods in capitals (it would never match)."""
    if declared is None:
        return []
    if isinstance(declared, Mapping):
        if all(method in methods and is_scope_list(names) for method, names in declared.items()):
            return list(declared.values())
        return None
    return [declared] if is_scope_list(declared) else None


def _permission_classes(permissions: Any) -> Iterator[Any]:
    """Each permission class, looking inside DRF's ``&``, ``|`` and ``~`` compositions."""
    for permission in permissions if isinstance(permissions, (list, tuple)) else ():
        operands = [
            getattr(permission, name) for name in ("op1_class", "op2_class") if hasattr(permission, name)
        ]
        if operands:
            yield from _permission_classes(operands)
        else:
            yield permission


def _dotted_name(view_class: type) -> str:
    # @api_view renames the class it builds after the function, but not its __qualname__.
    qualname = view_class.__qualname__
    name = qualname if qualname.endswith(view_class.__name__) else view_class.__name__
    return f"{view_class.__module__}.{name}"


SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
LOGIN_SESSION_MIDDLEWARE = "oauth_provider.middleware.LoginSessionMiddleware"


@register(Tags.security)
def check_login_session_middleware(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W013: the server is an OpenID Provider but ``LoginSessionMiddleware``
    is not installed after ``SessionMiddleware``: a browser session that
    Django replaces without a logout (another user signing in, a password
    changed elsewhere) would end without its clients' back-channel logout."""
    if not is_openid_provider():
        return []
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if (
        LOGIN_SESSION_MIDDLEWARE in middleware
        and SESSION_MIDDLEWARE in middleware
        and middleware.index(SESSION_MIDDLEWARE) < middleware.index(LOGIN_SESSION_MIDDLEWARE)
    ):
        return []
    return [
        Warning(
            f"{LOGIN_SESSION_MIDDLEWARE} is not in MIDDLEWARE after {SESSION_MIDDLEWARE}: clients are "
            "not told (back-channel logout) when another user signs in on the same browser or a "
            "session ends after a password change elsewhere.",
            hint=f"Add {LOGIN_SESSION_MIDDLEWARE!r} to MIDDLEWARE, right after {SESSION_MIDDLEWARE!r}.",
            id="oauth_provider.W013",
        )
    ]


CORS_HEADERS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
# django-cors-headers' default CORS_URLS_REGEX: every path.
CORS_HEADERS_DEFAULT_URLS = r"^.*$"


@register(Tags.security)
def check_cors_headers_middleware(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W017: django-cors-headers' middleware covers this app's paths. It
    answers the preflights of every path its ``CORS_URLS_REGEX`` matches
    itself, before our views (``cors``) decide, and adds its own
    ``Access-Control-Allow-Origin`` (with ``CORS_ALLOW_CREDENTIALS``, credentials
    too): on the token endpoint, and on the consent page, which must never
    be readable cross-origin."""
    if CORS_HEADERS_MIDDLEWARE not in list(getattr(settings, "MIDDLEWARE", None) or []):
        return []
    pattern = getattr(settings, "CORS_URLS_REGEX", CORS_HEADERS_DEFAULT_URLS)
    covered = []
    for name in ("oauth_provider:token", "oauth_provider:authorize"):
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        try:
            if re.match(pattern, path):
                covered.append(path)
        except (re.error, TypeError):
            return []  # django-cors-headers' own checks report the pattern
    if not covered:
        return []
    return [
        Warning(
            f"{CORS_HEADERS_MIDDLEWARE} handles {', '.join(covered)} (CORS_URLS_REGEX): it answers their "
            "preflights and adds its own CORS headers, replacing oauth_provider's, which allow only the "
            "origins clients registered, never with credentials, and never on people's pages.",
            hint="Set CORS_URLS_REGEX to match only your own API, such as r'^/api/'.",
            id="oauth_provider.W017",
        )
    ]


@register(Tags.urls)
def check_login_url(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W006: ``LOGIN_URL``, where the authorization endpoint and every page for
    people send anonymous users, is no URL of this site. W007: it is Django's
    ``LoginView`` but its template is missing (Django ships none). A URL on
    another host (a separate login service) is not checked.
    """
    hint = (
        'Add path("accounts/", include("django.contrib.auth.urls")) to your URLconf and a '
        "registration/login.html template, or set LOGIN_URL to your login page."
    )
    try:
        url = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        url = None
    parts = urlsplit(str(url or ""))
    if url is not None and (parts.scheme or parts.netloc):
        return []
    path = parts.path
    script_name = settings.FORCE_SCRIPT_NAME
    if script_name and path.startswith(script_name.rstrip("/") + "/"):
        path = path[len(script_name.rstrip("/")) :]
    try:
        view = resolve(path).func if url is not None else None
    except Resolver404:
        view = None
    if view is None:
        return [
            Warning(
                f"LOGIN_URL ({settings.LOGIN_URL!r}) is no URL of this site: "
                "/o/authorize/ sends people there to sign in.",
                hint=hint,
                id="oauth_provider.W006",
            )
        ]
    view_class = getattr(view, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, LoginView):
        template = getattr(view, "view_initkwargs", {}).get("template_name", view_class.template_name)
        try:
            select_template([template])
        except TemplateDoesNotExist:
            return [
                Warning(
                    f"LOGIN_URL ({settings.LOGIN_URL!r}) is Django's LoginView, but its template "
                    f"{template!r} does not exist (Django ships none).",
                    # The login URL is mounted already: only the template is missing.
                    hint=f"Create {template} in a folder of TEMPLATES' DIRS (such as "
                    'BASE_DIR / "templates"), or set LOGIN_URL to your login page.',
                    id="oauth_provider.W007",
                )
            ]
    return []


# Cache backends whose incr is a get then a set: concurrent attempts can
# read the same count, so a burst of guesses gets past the limit.
NON_ATOMIC_CACHE_BACKENDS = (
    "django.core.cache.backends.db.DatabaseCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


def _non_atomic_throttle_cache_warnings() -> list[Warning]:
    backend = _cache_backend(oauth_settings.THROTTLE_CACHE)
    if backend not in NON_ATOMIC_CACHE_BACKENDS:
        return []
    return [
        Warning(
            f"OAUTH_PROVIDER['THROTTLE_CACHE'] uses {backend.rsplit('.', 1)[-1]}, whose incr is not atomic: "
            "concurrent guesses can get past the limits.",
            hint="Point it at Redis or memcached (Django's RedisCache or PyMemcacheCache).",
            id="oauth_provider.W008",
        )
    ]


# -- Registered clients ---------------------------------------------------------------------------

# Clients a warning names, at most.
SHOWN_CLIENTS = 10


@register(Tags.database, deploy=True)
def check_logout_uris(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[Warning]:
    """W009: clients whose logout URIs use plain http off loopback. A
    ``backchannel_logout_uri`` may (the server often calls an internal
    host), and rows written without the model's validators may have a
    ``post_logout_redirect_uri`` so too; over http, the logout token
    (Back-Channel Logout 1.0 §2.5) and the ``state`` sent back (RP-Initiated
    Logout 1.0 §3) can be read and changed on the way.

    Registered clients are data, so this is a database check; ``check
    --deploy`` runs it on the default database unless ``--database`` names
    others. A database that cannot be read (not migrated yet) has nothing to report.
    """
    insecure = []
    for alias in databases or [DEFAULT_DB_ALIAS]:
        rows = Client.objects.using(alias).filter(
            Q(backchannel_logout_uri__startswith="http:") | Q(post_logout_redirect_uris__contains="http:")
        )
        fields = ("client_id", "backchannel_logout_uri", "post_logout_redirect_uris")
        try:
            values = list(rows.values_list(*fields))
        except DatabaseError:
            continue
        insecure += [
            client_id
            for client_id, backchannel_uri, post_logout_uris in values
            if any(_plain_http(uri) for uri in [backchannel_uri, *split_redirect_uris(post_logout_uris)])
        ]
    if not insecure:
        return []
    shown = ", ".join(insecure[:SHOWN_CLIENTS]) + (
        f" and {len(insecure) - SHOWN_CLIENTS} more" if len(insecure) > SHOWN_CLIENTS else ""
    )
    return [
        Warning(
            f"Clients with logout URIs over plain http: {shown}.",
            hint="Register https back-channel logout and post-logout redirect URIs for them: over http, "
            "logout tokens and the state sent back can be read and changed on the network.",
            id="oauth_provider.W009",
        )
    ]


@register(Tags.database)
def check_signing_keys(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E026: a key that signs, or will, has a private part no configured
    secret decrypts (``SECRET_KEY`` changed without the old value in
    ``SECRET_KEY_FALLBACKS``): ID tokens cannot be signed. W012: only a
    fallback decrypts it, so dropping that fallback would break it.

    Like Django's database checks, this runs only when asked for databases
    (``migrate``, ``check --database default``), and says nothing before
    ``migrate`` has made the table.
    """
    if not databases or _check_dict() or _check_key_encryption_secret() or oauth_settings.OIDC_SIGNING_KEYS:
        return []
    messages: list[CheckMessage] = []
    for alias in databases:
        if not router.allow_migrate_model(alias, SigningKey):
            continue
        try:
            if SigningKey._meta.db_table not in connections[alias].introspection.table_names():
                continue
            keys = list(signing_and_pending_keys().using(alias).order_by("pk"))
        except DatabaseError:
            continue  # the database is not there yet, or not reachable: other checks say so
        by_readability: dict[str, list[str]] = {}
        for key in keys:
            by_readability.setdefault(readability(key), []).append(f"{key.kid} ({key.algorithm})")
        if UNREADABLE in by_readability:
            messages.append(
                _error(
                    26,
                    f"Signing keys in database {alias!r} cannot be decrypted: "
                    f"{', '.join(by_readability[UNREADABLE])}. ID tokens cannot be signed with them.",
                    "SECRET_KEY (or OIDC_KEY_ENCRYPTION_SECRET) changed without the old value in "
                    "SECRET_KEY_FALLBACKS (or OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS). Put it back there, "
                    "or replace the keys with `manage.py rotatekeys --now`.",
                )
            )
        if READABLE_WITH_FALLBACK in by_readability:
            messages.append(
                Warning(
                    f"Signing keys in database {alias!r} are encrypted with a fallback secret only: "
                    f"{', '.join(by_readability[READABLE_WITH_FALLBACK])}.",
                    hint="Run `manage.py rotatekeys --reencrypt` before removing the old secret from "
                    "SECRET_KEY_FALLBACKS (or OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS).",
                    id="oauth_provider.W012",
                )
            )
    return messages


@register(Tags.database)
def check_write_routing(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E045: ``DATABASE_ROUTERS`` send the writes of this app's models, or of
    the user model they point to, to more than one database. A code redeemed
    and its tokens issued, a refresh token rotated, a family revoked: each is
    one transaction on the primary (``primary``), which cannot cover writes
    that go elsewhere. Reads may go anywhere (replicas)."""
    models = [*apps.get_app_config("oauth_provider").get_models(), get_user_model()]
    by_alias: dict[str, list[str]] = {}
    for model in models:
        by_alias.setdefault(router.db_for_write(model), []).append(model._meta.label)
    if len(by_alias) < 2:
        return []
    listed = "; ".join(f"{alias!r}: {', '.join(labels)}" for alias, labels in sorted(by_alias.items()))
    return [
        _error(
            45,
            f"DATABASE_ROUTERS send the writes of oauth_provider's models and AUTH_USER_MODEL to more "
            f"than one database ({listed}): no transaction covers a token request's writes.",
            "Route the writes of every oauth_provider model and of AUTH_USER_MODEL to one database "
            "(the primary); send reads to replicas if you like.",
        )
    ]
