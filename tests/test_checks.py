"""System checks for OAUTH_PROVIDER: every id, asserted exactly."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.checks import Error, Tags, Warning, registry
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings

from oauth_provider import signing_keys
from oauth_provider.checks import (
    check_cors_headers_middleware,
    check_deploy_settings,
    check_login_session_middleware,
    check_logout_uris,
    check_settings,
    check_signing_keys,
)
from oauth_provider.models import SigningKey
from tests.factories import ClientFactory

from .helpers import private_pem

VALID = {
    "SCOPES": {"read": "Read your data", "write": "Change your data"},
    "DEFAULT_SCOPES": ["read"],
    "ISSUER": "https://auth.example.com",
}


SHARED_CACHE = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379",
}


@pytest.fixture(autouse=True)
def shared_cache(settings):
    """A production-like cache, so that W005 fires only in the tests about it."""
    settings.CACHES = {"default": SHARED_CACHE}


def ids(messages):
    return [message.id for message in messages]


def errors_for(**overrides):
    with override_settings(OAUTH_PROVIDER={**VALID, **overrides}):
        return ids(check_settings())


def deploy_warnings_for(**overrides):
    with override_settings(OAUTH_PROVIDER={**VALID, **overrides}):
        return ids(check_deploy_settings())


def test_test_settings_pass_every_check():
    assert check_settings() == []
    assert check_deploy_settings() == []


def test_empty_dict_uses_defaults_without_errors():
    with override_settings(OAUTH_PROVIDER={}):
        assert check_settings() == []


def test_valid_settings_pass():
    assert errors_for() == []


def test_errors_are_errors_with_hints():
    with override_settings(OAUTH_PROVIDER={**VALID, "ACCESS_TOKEN_EXPIRE_SECONDS": 0}):
        (error,) = check_settings()
    assert isinstance(error, Error)
    assert error.hint


@pytest.mark.parametrize("value", [["SCOPES"], "SCOPES", 42])
def test_e001_oauth_provider_not_a_dict(value):
    with override_settings(OAUTH_PROVIDER=value):
        assert ids(check_settings()) == ["oauth_provider.E001"]


def test_e002_unknown_key():
    errors = errors_for(ACCESS_TOKEN_LIFETIME=3600)
    assert errors == ["oauth_provider.E002"]


def test_e002_names_the_unknown_key():
    with override_settings(OAUTH_PROVIDER={**VALID, "PKCE_METHODS": ["S256"]}):
        (error,) = check_settings()
    assert "PKCE_METHODS" in error.msg


@pytest.mark.parametrize("value", [{}, ["read"], "read", None])
def test_e003_scopes_not_a_non_empty_dict(value):
    assert errors_for(SCOPES=value, DEFAULT_SCOPES=[]) == ["oauth_provider.E003"]


@pytest.mark.parametrize("name", ["read write", 'say"hi', "back\\slash", "", "caf\u00e9", 1])
def test_e004_invalid_scope_name(name):
    assert errors_for(SCOPES={name: "x"}, DEFAULT_SCOPES=[]) == ["oauth_provider.E004"]


@pytest.mark.parametrize("value", [["admin"], "read", None, {"read": "x"}])
def test_e005_default_scopes_not_a_list_of_known_scopes(value):
    assert errors_for(DEFAULT_SCOPES=value) == ["oauth_provider.E005"]


@pytest.mark.parametrize(
    "name",
    [
        "AUTHORIZATION_CODE_EXPIRE_SECONDS",
        "ACCESS_TOKEN_EXPIRE_SECONDS",
        "REFRESH_TOKEN_EXPIRE_SECONDS",
        "BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS",
        "ID_TOKEN_EXPIRE_SECONDS",
    ],
)
@pytest.mark.parametrize("value", [0, -1, 60.0, "60", True, None])
def test_e006_lifetime_not_a_positive_int(name, value):
    assert errors_for(**{name: value}) == ["oauth_provider.E006"]


def test_e006_reported_once_per_bad_lifetime():
    errors = errors_for(AUTHORIZATION_CODE_EXPIRE_SECONDS=0, REFRESH_TOKEN_EXPIRE_SECONDS=None)
    assert errors == ["oauth_provider.E006", "oauth_provider.E006"]


@pytest.mark.parametrize("value", [[], ["S512"], ["s256"], "S256", None])
def test_e007_pkce_methods_not_s256_or_plain(value):
    assert errors_for(PKCE_CODE_CHALLENGE_METHODS=value) == ["oauth_provider.E007"]


@pytest.mark.parametrize("value", [["S256"], ["plain"], ["S256", "plain"], ("S256",)])
def test_pkce_methods_s256_and_plain_accepted(value):
    assert errors_for(PKCE_CODE_CHALLENGE_METHODS=value) == []


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_e008_pkce_required_for_confidential_not_bool(value):
    assert errors_for(PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS=value) == ["oauth_provider.E008"]


@pytest.mark.parametrize("value", [["implict"], ["client-credentials"], "authorization_code", None])
def test_e009_unsupported_grant_types(value):
    assert errors_for(GRANT_TYPES=value) == ["oauth_provider.E009"]


@pytest.mark.parametrize(
    "value",
    [
        "auth.example.com",
        "ftp://auth.example.com",
        "https://",
        "https://auth.example.com/?tenant=1",
        "https://auth.example.com/#top",
        42,
    ],
)
def test_e010_issuer_not_an_absolute_url(value):
    assert errors_for(ISSUER=value) == ["oauth_provider.E010"]


@pytest.mark.parametrize("value", ["https://[::1", "https://auth.example.com:port"])
def test_e010_malformed_issuer_reported_not_raised(value):
    # A bad value must be a check error, never a traceback from `manage.py check`.
    assert errors_for(ISSUER=value) == ["oauth_provider.E010"]


@pytest.mark.parametrize("value", ["", 'my "api"', "back\\slash", None, 5])
def test_e011_realm_not_a_plain_string(value):
    assert errors_for(RESOURCE_SERVER_REALM=value) == ["oauth_provider.E011"]


@pytest.mark.parametrize(
    "name",
    [
        "SELF_SERVICE_CLIENTS",
        "SELF_SERVICE_APPROVAL_REQUIRED",
        "REVOKE_TOKENS_ON_PASSWORD_CHANGE",
        "OIDC_ENABLED",
        "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED",
    ],
)
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_e016_switches_not_bool(name, value):
    assert errors_for(**{name: value}) == ["oauth_provider.E016"]


@pytest.mark.parametrize("value", [0, -1, "20", 2.5, True])
def test_e017_self_service_client_limit_not_a_positive_int(value):
    assert errors_for(SELF_SERVICE_MAX_CLIENTS=value) == ["oauth_provider.E017"]


@pytest.mark.parametrize("value", [None, 1, 500])
def test_self_service_client_limit_accepts_none_or_a_positive_int(value):
    assert errors_for(SELF_SERVICE_MAX_CLIENTS=value) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"DEFAULT_SCOPES": [["read"]]},
        {"PKCE_CODE_CHALLENGE_METHODS": [["S256"]]},
        {"GRANT_TYPES": [["authorization_code"]]},
    ],
    ids=["DEFAULT_SCOPES", "PKCE_CODE_CHALLENGE_METHODS", "GRANT_TYPES"],
)
def test_unhashable_list_items_are_reported_not_raised(overrides):
    errors = errors_for(**overrides)
    assert len(errors) == 1
    assert errors[0].startswith("oauth_provider.E")


def test_unknown_keys_of_mixed_types_are_reported_not_raised():
    with override_settings(OAUTH_PROVIDER={**VALID, 1: "x", "EXTRA": "y"}):
        assert ids(check_settings()) == ["oauth_provider.E002"]


def test_several_bad_values_are_all_reported():
    errors = errors_for(GRANT_TYPES=["implict"], RESOURCE_SERVER_REALM="")
    assert errors == ["oauth_provider.E009", "oauth_provider.E011"]


def test_w001_plain_pkce_in_deploy_checks():
    assert deploy_warnings_for(PKCE_CODE_CHALLENGE_METHODS=["S256", "plain"]) == ["oauth_provider.W001"]


def test_w002_issuer_unset_in_deploy_checks():
    assert deploy_warnings_for(ISSUER=None) == ["oauth_provider.W002"]


def test_w002_hint_says_which_setting_and_gives_an_example():
    with override_settings(OAUTH_PROVIDER={**VALID, "ISSUER": None}):
        (warning,) = check_deploy_settings()
    assert "OAUTH_PROVIDER['ISSUER']" in warning.hint
    assert '"https://auth.example.com"' in warning.hint


LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def test_w005_new_project_default_cache_counts_attempts_per_process(settings):
    # startproject sets no CACHES: Django's default is a LocMemCache, and THROTTLE_CACHE is "default".
    settings.CACHES = {"default": LOCMEM}
    with override_settings(OAUTH_PROVIDER=VALID):
        (warning,) = check_deploy_settings()
    assert warning.id == "oauth_provider.W005"
    assert warning.msg == (
        "OAUTH_PROVIDER['THROTTLE_CACHE'] is the cache 'default', a LocMemCache, which processes do not "
        "share: each process counts failed attempts on its own."
    )
    assert "CACHES['default']" in warning.hint
    assert "django.core.cache.backends.redis.RedisCache" in warning.hint
    assert "OAUTH_PROVIDER['THROTTLE_CACHE']" in warning.hint


def test_w003_http_issuer_in_deploy_checks():
    assert deploy_warnings_for(ISSUER="http://auth.example.com") == ["oauth_provider.W003"]


def test_deploy_warnings_are_warnings():
    with override_settings(OAUTH_PROVIDER={**VALID, "ISSUER": None}):
        (warning,) = check_deploy_settings()
    assert isinstance(warning, Warning)
    assert not isinstance(warning, Error)


def test_risky_choices_are_not_errors_outside_deploy():
    assert errors_for(PKCE_CODE_CHALLENGE_METHODS=["plain"], ISSUER="http://auth.example.com") == []


def test_deploy_checks_skip_non_dict_setting():
    with override_settings(OAUTH_PROVIDER="nope"):
        assert check_deploy_settings() == []


def test_manage_py_check_fails_on_bad_value():
    with (
        override_settings(OAUTH_PROVIDER={**VALID, "ACCESS_TOKEN_EXPIRE_SECONDS": "1h"}),
        pytest.raises(SystemCheckError, match=r"oauth_provider\.E006"),
    ):
        call_command("check")


def test_manage_py_check_passes_with_test_settings():
    call_command("check")


def test_manage_py_check_deploy_reports_plain_pkce(capsys):
    with override_settings(OAUTH_PROVIDER={**VALID, "PKCE_CODE_CHALLENGE_METHODS": ["plain"]}):
        call_command("check", "--deploy", "--tag", "security")
    assert "oauth_provider.W001" in capsys.readouterr().err


# -- throttling (E021, W008) ----------------------------------------------------------------------

THROTTLE_LIMITS = [
    "CLIENT_AUTH_MAX_ATTEMPTS",
    "CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS",
    "PASSWORD_GRANT_MAX_ATTEMPTS",
    "PASSWORD_GRANT_ATTEMPT_WINDOW_SECONDS",
    "DEVICE_AUTHORIZATION_MAX_REQUESTS",
    "DEVICE_AUTHORIZATION_REQUEST_WINDOW_SECONDS",
    "DEVICE_AUTHORIZATION_MAX_PENDING",
]


@pytest.mark.parametrize("name", THROTTLE_LIMITS)
@pytest.mark.parametrize("value", [0, -1, None, True, 2.5, "10"])
def test_e018_throttle_limit_not_a_positive_int(name, value):
    assert errors_for(**{name: value}) == ["oauth_provider.E021"]


@pytest.mark.parametrize("name", THROTTLE_LIMITS)
def test_throttle_limits_accept_a_positive_int(name):
    assert errors_for(**{name: 1}) == []


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.db.DatabaseCache", "django.core.cache.backends.filebased.FileBasedCache"],
)
def test_w006_throttle_cache_without_atomic_incr(settings, backend):
    settings.CACHES = {"default": SHARED_CACHE, "counters": {"BACKEND": backend, "LOCATION": "counters"}}
    assert deploy_warnings_for(THROTTLE_CACHE="counters") == ["oauth_provider.W008"]


# -- logout URIs over plain http (W009) ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"backchannel_logout_uri": "http://app.internal:8000/logout"},
        # Written without the model's validators, which refuse it.
        {"post_logout_redirect_uris": "https://client.example.com/bye\nhttp://client.example.com/bye"},
    ],
)
def test_w009_logout_uri_over_plain_http(fields):
    app = ClientFactory(**fields)

    (warning,) = check_logout_uris()
    assert warning.id == "oauth_provider.W009"
    assert isinstance(warning, Warning)
    assert app.client_id in warning.msg


@pytest.mark.django_db
def test_w009_not_for_https_or_loopback_logout_uris():
    ClientFactory(
        backchannel_logout_uri="https://client.example.com/logout",
        post_logout_redirect_uris="https://client.example.com/bye\nhttp://127.0.0.1/bye\nhttp://localhost/bye",
    )
    ClientFactory(backchannel_logout_uri="http://127.0.0.1:8001/logout")

    assert check_logout_uris() == []


@pytest.mark.django_db
def test_w009_names_ten_clients_and_counts_the_rest():
    for _ in range(12):
        ClientFactory(backchannel_logout_uri="http://app.internal/logout")

    (warning,) = check_logout_uris()
    assert warning.msg.endswith(" and 2 more.")


@pytest.mark.django_db
def test_w009_runs_with_check_deploy(capsys):
    ClientFactory(backchannel_logout_uri="http://app.internal/logout")

    call_command("check", "--deploy")

    assert "oauth_provider.W009" in capsys.readouterr().err


def test_w009_is_a_deploy_check_of_the_database():
    assert check_logout_uris in registry.registry.get_checks(include_deployment_checks=True)
    assert check_logout_uris not in registry.registry.get_checks(include_deployment_checks=False)
    assert tuple(check_logout_uris.tags) == (Tags.database,)


# -- OpenID Connect signing keys (E024-E029, W011, W012) --------------------------------------


def pem_entry(algorithm="RS256", **overrides):
    return {
        "kid": f"key-{algorithm}",
        "algorithm": algorithm,
        "private_key": private_pem(algorithm),
        **overrides,
    }


PEM_KEYS = [pem_entry("RS256"), pem_entry("ES256"), pem_entry("EdDSA")]


@pytest.mark.parametrize(
    "value",
    [["RS256", "RS512"], ["RS256", "PS256"], ["RS256", "ES384"], "RS256", ["RS256", 256], None],
)
def test_e024_signing_algorithms_unknown_or_not_a_list(value):
    assert errors_for(OIDC_SIGNING_ALGORITHMS=value) == ["oauth_provider.E024"]


@pytest.mark.parametrize(
    "value", [["RS256", "none"], ["RS256", "None"], ["RS256", "HS256"], ["RS256", "hs512"]]
)
def test_e024_none_and_hmac_are_never_accepted(value):
    with override_settings(OAUTH_PROVIDER={**VALID, "OIDC_SIGNING_ALGORITHMS": value}):
        (error,) = check_settings()
    assert error.id == "oauth_provider.E024"
    assert "never accepted" in error.msg
    assert "forge" in error.hint


@pytest.mark.parametrize("value", [["ES256"], ["ES256", "EdDSA"], []])
def test_e024_rs256_is_required(value):
    with override_settings(OAUTH_PROVIDER={**VALID, "OIDC_SIGNING_ALGORITHMS": value}):
        (error,) = check_settings()
    assert error.id == "oauth_provider.E024"
    assert "§15.1" in error.hint


@pytest.mark.parametrize("value", [["RS256"], ["RS256", "ES256"], ("EdDSA", "RS256")])
def test_signing_algorithms_accept_supported_lists_with_rs256(value):
    assert errors_for(OIDC_SIGNING_ALGORITHMS=value) == []


def test_pem_keys_in_settings_pass():
    assert errors_for(OIDC_SIGNING_KEYS=PEM_KEYS) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a list", "must be None or a list of dicts"),
        ([PEM_KEYS[0], "key"], "must be None or a list of dicts"),
        ([{"kid": "k", "algorithm": "RS256"}], "lacks private_key"),
        ([pem_entry(use="sig")], "unknown members: use"),
        ([pem_entry(kid="")], "kid that is not a non-empty string"),
        ([pem_entry(algorithm="RS512")], "algorithm 'RS512'"),
        ([pem_entry(active="yes")], "active that is not True or False"),
        (
            [pem_entry(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")],
            "not a PEM RSA key",
        ),
        ([pem_entry(private_key=12345)], "not a PEM RSA key"),
        # A key of another type than the algorithm signs with.
        ([pem_entry(private_key=private_pem("ES256"))], "not a PEM RSA key"),
        ([pem_entry(private_key=private_pem("RS256", rsa_size=1024))], "1024 bits"),
        ([PEM_KEYS[0], pem_entry("ES256", private_key=private_pem("ES256", curve="P-384"))], "curve P-384"),
        ([PEM_KEYS[0], pem_entry("ES256", kid="key-RS256")], "repeats the kid key-RS256"),
    ],
)
def test_e025_signing_keys_malformed(value, message):
    with override_settings(OAUTH_PROVIDER={**VALID, "OIDC_SIGNING_KEYS": value}):
        errors = check_settings()
    assert ids(errors) == ["oauth_provider.E025"]
    assert message in errors[0].msg


def test_e025_public_key_only():
    public_pem = (
        signing_keys.KEY_TYPES["RS256"].import_key(private_pem("RS256")).as_pem(private=False).decode()
    )
    with override_settings(
        OAUTH_PROVIDER={**VALID, "OIDC_SIGNING_KEYS": [pem_entry(private_key=public_pem)]}
    ):
        (error,) = check_settings()
    assert error.id == "oauth_provider.E025"
    assert "only a public key" in error.msg


def test_e029_no_active_rs256_key():
    value = [pem_entry("RS256", active=False), PEM_KEYS[1], PEM_KEYS[2]]
    with override_settings(OAUTH_PROVIDER={**VALID, "OIDC_SIGNING_KEYS": value}):
        (error,) = check_settings()
    assert error.id == "oauth_provider.E029"
    assert "no active RS256 key" in error.msg


def test_e029_no_active_key_for_a_configured_algorithm():
    # OIDC_SIGNING_ALGORITHMS defaults to RS256, ES256 and EdDSA.
    assert errors_for(OIDC_SIGNING_KEYS=PEM_KEYS[:2]) == ["oauth_provider.E029"]
    assert errors_for(OIDC_SIGNING_KEYS=PEM_KEYS[:2], OIDC_SIGNING_ALGORITHMS=["RS256", "ES256"]) == []


def test_inactive_pem_key_beside_the_active_one_passes():
    assert errors_for(OIDC_SIGNING_KEYS=[*PEM_KEYS, pem_entry("RS256", kid="next", active=False)]) == []


@pytest.mark.parametrize("value", [-1, 1.5, "3600", None, True])
def test_e027_activation_delay_not_a_whole_number_of_seconds(value):
    assert errors_for(OIDC_KEY_ACTIVATION_DELAY_SECONDS=value) == ["oauth_provider.E027"]


@pytest.mark.parametrize("value", [0, 60, 7 * 24 * 3600])
def test_activation_delay_accepts_zero_or_more(value):
    assert errors_for(OIDC_KEY_ACTIVATION_DELAY_SECONDS=value) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"OIDC_KEY_ENCRYPTION_SECRET": ""},
        {"OIDC_KEY_ENCRYPTION_SECRET": 42},
        {"OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS": "old"},
        {"OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS": ["old", ""]},
    ],
)
def test_e028_key_encryption_secret_not_a_string(overrides):
    assert errors_for(**overrides) == ["oauth_provider.E028"]


@pytest.mark.parametrize("value", [-1, 1.5, "2", None, True])
def test_e030_backchannel_logout_retries_not_a_whole_number(value):
    assert errors_for(BACKCHANNEL_LOGOUT_RETRIES=value) == ["oauth_provider.E030"]


@pytest.mark.parametrize("value", [0, 2, 5])
def test_backchannel_logout_retries_accepts_zero_or_more(value):
    assert errors_for(BACKCHANNEL_LOGOUT_RETRIES=value) == []


def test_w011_openid_scope_with_oidc_disabled():
    scopes = {**VALID["SCOPES"], "openid": "Sign you in"}
    with override_settings(OAUTH_PROVIDER={**VALID, "SCOPES": scopes, "OIDC_ENABLED": False}):
        (warning,) = check_settings()
    assert warning.id == "oauth_provider.W011"
    assert isinstance(warning, Warning) and not isinstance(warning, Error)


def test_oidc_enabled_without_openid_scope_is_fine():
    # OpenID Connect is simply unused (tests/settings.py offers no openid scope).
    assert errors_for(OIDC_ENABLED=True) == []
    assert errors_for(OIDC_ENABLED=False) == []


# Database checks: run for `migrate` and `check --database`, never by plain `check`.


@pytest.mark.django_db
def test_database_check_passes_with_readable_keys():
    assert check_signing_keys(databases=["default"]) == []


@pytest.mark.django_db
def test_database_check_runs_only_when_asked_for_databases(settings):
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"
    assert check_signing_keys() == []
    assert check_signing_keys(databases=None) == []


@pytest.mark.django_db
def test_e026_signing_keys_no_secret_decrypts(settings):
    kids = {signing_keys.signing_key(algorithm).kid for algorithm in ("RS256", "ES256", "EdDSA")}
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"

    (error,) = check_signing_keys(databases=["default"])

    assert error.id == "oauth_provider.E026"
    assert all(kid in error.msg for kid in kids)
    assert "rotatekeys --now" in error.hint


@pytest.mark.django_db
def test_e026_not_for_retired_keys(settings, frozen_clock):
    signing_keys.rotate(delay=timedelta(0))  # the undecryptable ones retire: they never sign again
    SigningKey.objects.filter(retired_at__isnull=False).update(private_key="gAAAAAgarbage")

    assert check_signing_keys(databases=["default"]) == []


@pytest.mark.django_db
def test_w012_keys_readable_only_with_a_fallback_secret(settings):
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-secret-key", [old_secret]

    (warning,) = check_signing_keys(databases=["default"])

    assert warning.id == "oauth_provider.W012"
    assert "rotatekeys --reencrypt" in warning.hint
    call_command("rotatekeys", "--reencrypt", stdout=StringIO())
    assert check_signing_keys(databases=["default"]) == []


@pytest.mark.django_db
def test_database_check_before_migrate_made_the_table(monkeypatch):
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    assert check_signing_keys(databases=["default"]) == []


@pytest.mark.django_db
def test_database_check_skips_keys_managed_in_settings(settings):
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_KEYS": PEM_KEYS}
    assert check_signing_keys(databases=["default"]) == []


@pytest.mark.django_db
def test_manage_py_check_database_reports_e026(settings):
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"
    call_command("check")  # database checks are not run by default
    with pytest.raises(SystemCheckError, match=r"oauth_provider\.E026"):
        call_command("check", "--database", "default")


# -- LoginSessionMiddleware (W013) -----------------------------------------------------------------

OPENID_SCOPES = {"read": "Read", "openid": None}
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
LOGIN_SESSIONS = "oauth_provider.middleware.LoginSessionMiddleware"


@pytest.mark.parametrize(
    "middleware",
    [[SESSIONS], [LOGIN_SESSIONS, SESSIONS], []],
    ids=["missing", "before the sessions", "no sessions"],
)
def test_w013_openid_provider_without_the_login_session_middleware(settings, middleware):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": OPENID_SCOPES}
    settings.MIDDLEWARE = middleware

    (warning,) = check_login_session_middleware()

    assert warning.id == "oauth_provider.W013"


def test_w013_not_when_installed_after_the_sessions(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": OPENID_SCOPES}
    settings.MIDDLEWARE = [SESSIONS, "django.middleware.common.CommonMiddleware", LOGIN_SESSIONS]

    assert check_login_session_middleware() == []


@pytest.mark.parametrize(
    "oidc", [{"OIDC_ENABLED": False, "SCOPES": OPENID_SCOPES}, {}], ids=["off", "no openid"]
)
def test_w013_not_when_the_server_is_no_openid_provider(settings, oidc):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, **oidc}
    settings.MIDDLEWARE = [SESSIONS]

    assert check_login_session_middleware() == []


# -- RESOURCES (RFC 8707, RFC 9728) -----------------------------------------------------------------

API = "https://api.example.com/"


def test_declared_resources_pass():
    resources = {
        API: {"scopes": ["read"], "name": "API", "documentation": "https://docs.example.com/"},
        "http://127.0.0.1:8000/api/": {"scopes": ["write"], "access_token_expire_seconds": 60},
    }
    assert errors_for(RESOURCES=resources, DEFAULT_RESOURCES=[API], RESOURCE_SERVER_RESOURCE=API) == []


@pytest.mark.parametrize(
    "resources",
    [
        [API],
        {"http://api.example.com/": {"scopes": ["read"]}},
        {"https://api.example.com/#top": {"scopes": ["read"]}},
        {"https://api.example.com/?v=1": {"scopes": ["read"]}},
        {"api.example.com": {"scopes": ["read"]}},
        # Written into WWW-Authenticate's quoted resource_metadata (RFC 9728 §5.1):
        # a quote, backslash, space or non-ASCII character would break the header.
        {'https://api.example.com/a"b': {"scopes": ["read"]}},
        {"https://api.example.com/a\\b": {"scopes": ["read"]}},
        {"https://api.example.com/a b": {"scopes": ["read"]}},
        {"https://api.example.com/caf\u00e9": {"scopes": ["read"]}},
        {API: {"scopes": []}},
        {API: {"scopes": ["unknown"]}},
        {API: {"scopes": "read"}},
        {API: {"scopes": ["read"], "access_token_expire_seconds": 0}},
        {API: {"scopes": ["read"], "access_token_expire_seconds": "60"}},
        {API: {"scopes": ["read"], "documentation": "javascript:alert(1)"}},
        {API: {"scopes": ["read"], "audience": "x"}},
    ],
)
def test_e031_resources_malformed(resources):
    assert errors_for(RESOURCES=resources) == ["oauth_provider.E031"]


@pytest.mark.parametrize("value", [["https://undeclared.example/"], API, [1]])
def test_e032_default_resources_not_declared(value):
    assert errors_for(RESOURCES={API: {"scopes": ["read"]}}, DEFAULT_RESOURCES=value) == [
        "oauth_provider.E032"
    ]


@pytest.mark.parametrize("value", ["https://undeclared.example/", [API]])
def test_e033_resource_server_resource_not_declared(value):
    errors = errors_for(RESOURCES={API: {"scopes": ["read"]}}, RESOURCE_SERVER_RESOURCE=value)
    assert errors == ["oauth_provider.E033"]


def test_w014_plain_http_resource_identifier():
    resources = {"http://localhost:8000/api/": {"scopes": ["read"]}}
    assert deploy_warnings_for(RESOURCES=resources) == ["oauth_provider.W014"]
    assert deploy_warnings_for(RESOURCES={API: {"scopes": ["read"]}}) == []


# -- django-cors-headers over our paths (W017) -----------------------------------------------------

CORS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"


@pytest.mark.parametrize(
    "regex", [None, r"^/o/", r"^/o/authorize/"], ids=["default: every path", "/o/", "authorize"]
)
def test_w017_cors_headers_middleware_over_our_endpoints(settings, regex):
    settings.MIDDLEWARE = [CORS_MIDDLEWARE, *settings.MIDDLEWARE]
    if regex is not None:
        settings.CORS_URLS_REGEX = regex

    (warning,) = check_cors_headers_middleware()

    assert warning.id == "oauth_provider.W017"


def test_w017_not_when_limited_to_the_sites_own_api(settings):
    settings.MIDDLEWARE = [CORS_MIDDLEWARE, *settings.MIDDLEWARE]
    settings.CORS_URLS_REGEX = r"^/api/"

    assert check_cors_headers_middleware() == []


def test_w017_not_without_the_middleware(settings):
    settings.CORS_URLS_REGEX = r"^.*$"

    assert check_cors_headers_middleware() == []
