"""System checks for OAUTH_PROVIDER: every id, asserted exactly."""

import pytest
from django.core.checks import Error, Tags, Warning, registry
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from oauth_provider.checks import check_deploy_settings, check_logout_uris, check_settings
from tests.factories import ClientFactory

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
    "name", ["SELF_SERVICE_CLIENTS", "SELF_SERVICE_APPROVAL_REQUIRED", "REVOKE_TOKENS_ON_PASSWORD_CHANGE"]
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


def test_w005_unshared_token_cache_names_its_alias(settings):
    settings.CACHES = {"default": SHARED_CACHE, "tokens": LOCMEM}
    with override_settings(OAUTH_PROVIDER={**VALID, "TOKEN_CACHE": "tokens"}):
        (warning,) = check_deploy_settings()
    assert warning.id == "oauth_provider.W005"
    assert "OAUTH_PROVIDER['TOKEN_CACHE'] is the cache 'tokens'" in warning.msg
    assert "CACHES['tokens']" in warning.hint


def test_w005_not_for_a_shared_cache():
    assert deploy_warnings_for(TOKEN_CACHE="default") == []


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
    assert deploy_warnings_for(TOKEN_CACHE="counters") == []


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
