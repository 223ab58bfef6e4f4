"""oauth_settings: secure defaults, user overrides, reload on setting_changed."""

import pytest
from django.conf import settings
from django.test import override_settings

from oauth_provider.settings import DEFAULTS, oauth_settings


@pytest.fixture
def defaults_only():
    with override_settings(OAUTH_PROVIDER={}):
        yield oauth_settings


def test_authorization_code_lives_60_seconds_by_default(defaults_only):
    assert defaults_only.AUTHORIZATION_CODE_EXPIRE_SECONDS == 60


def test_access_token_lives_one_hour_by_default(defaults_only):
    assert defaults_only.ACCESS_TOKEN_EXPIRE_SECONDS == 3600


def test_refresh_token_expires_after_30_days_unused_by_default(defaults_only):
    assert defaults_only.REFRESH_TOKEN_EXPIRE_SECONDS == 30 * 24 * 3600


def test_pkce_is_s256_only_by_default(defaults_only):
    assert list(defaults_only.PKCE_CODE_CHALLENGE_METHODS) == ["S256"]


def test_pkce_is_optional_for_confidential_clients_by_default(defaults_only):
    assert defaults_only.PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS is False


def test_issuer_is_unset_by_default(defaults_only):
    assert defaults_only.ISSUER is None


def test_legacy_grants_are_off_by_default(defaults_only):
    assert "implicit" not in defaults_only.GRANT_TYPES
    assert "password" not in defaults_only.GRANT_TYPES


def test_no_default_scope_by_default(defaults_only):
    assert defaults_only.DEFAULT_SCOPES == []


def test_realm_is_api_by_default(defaults_only):
    assert defaults_only.RESOURCE_SERVER_REALM == "api"


def test_default_scopes_are_read_and_write(defaults_only):
    assert list(defaults_only.SCOPES) == ["read", "write"]


def test_test_settings_override_defaults():
    assert list(oauth_settings.SCOPES) == ["read", "write", "admin"]
    assert oauth_settings.DEFAULT_SCOPES == ["read"]
    assert oauth_settings.ISSUER == "https://auth.example.com"


def test_user_value_overrides_only_its_key():
    with override_settings(OAUTH_PROVIDER={"ACCESS_TOKEN_EXPIRE_SECONDS": 600}):
        assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 600
        assert oauth_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS == 60


def test_override_settings_reloads_and_restores():
    assert oauth_settings.ISSUER == "https://auth.example.com"  # read, so it is cached
    with override_settings(OAUTH_PROVIDER={"ISSUER": "https://other.example.com"}):
        assert oauth_settings.ISSUER == "https://other.example.com"
    assert oauth_settings.ISSUER == "https://auth.example.com"


def test_nested_override_settings_reload_each_time():
    with override_settings(OAUTH_PROVIDER={"ACCESS_TOKEN_EXPIRE_SECONDS": 600}):
        assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 600
        with override_settings(OAUTH_PROVIDER={"ACCESS_TOKEN_EXPIRE_SECONDS": 60}):
            assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 60
        assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 600
    assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 3600


def test_other_setting_changes_keep_the_cache():
    assert oauth_settings.ISSUER == "https://auth.example.com"
    with override_settings(DEBUG=True):
        assert "ISSUER" in vars(oauth_settings)


def test_unknown_setting_raises_attribute_error():
    with pytest.raises(AttributeError, match="NOT_A_SETTING"):
        oauth_settings.NOT_A_SETTING  # noqa: B018


def test_unknown_user_key_is_not_exposed():
    with override_settings(OAUTH_PROVIDER={"NOT_A_SETTING": 1}), pytest.raises(AttributeError):
        oauth_settings.NOT_A_SETTING  # noqa: B018


@pytest.mark.parametrize("value", [["ISSUER"], "https://auth.example.com", 42, None])
def test_non_dict_setting_falls_back_to_defaults(value):
    with override_settings(OAUTH_PROVIDER=value):
        assert oauth_settings.ISSUER is None
        assert oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 3600


def test_missing_setting_falls_back_to_defaults():
    with override_settings(OAUTH_PROVIDER={"ISSUER": "https://other.example.com"}):
        # Entering override_settings emptied the cache; remove the setting altogether.
        del settings.OAUTH_PROVIDER
        assert oauth_settings.ISSUER is None
        assert DEFAULTS["SCOPES"] == oauth_settings.SCOPES
    assert oauth_settings.ISSUER == "https://auth.example.com"
