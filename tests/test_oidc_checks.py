"""System checks for the OpenID Connect claims and subject settings (E022, E023),
and SCOPES listing the standard OpenID Connect scopes without descriptions."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from oauth_provider.checks import check_settings
from oauth_provider.claims import UserClaims

VALID = {
    "SCOPES": {"read": "Read your data", "write": "Change your data"},
    "DEFAULT_SCOPES": ["read"],
    "ISSUER": "https://auth.example.com",
}


class SiteClaims(UserClaims):
    """A provider as the README shows: a subclass of the default."""


class DuckClaims:
    """Any class with get_claims will do."""

    def get_claims(self, user, client):
        return {}


class NoGetClaims:
    pass


class AttributeGetClaims:
    get_claims = "not a method"


def get_claims(user, client):
    return {}


def errors_for(**overrides):
    with override_settings(OAUTH_PROVIDER={**VALID, **overrides}):
        return [message.id for message in check_settings()]


@pytest.mark.parametrize(
    "path",
    [
        "oauth_provider.claims.UserClaims",
        "tests.test_oidc_checks.SiteClaims",
        "tests.test_oidc_checks.DuckClaims",
    ],
)
def test_claims_provider_class_passes(path):
    assert errors_for(OIDC_CLAIMS_PROVIDER=path) == []


@pytest.mark.parametrize(
    "path",
    [
        "tests.test_oidc_checks.Missing",  # no such attribute
        "tests.no_such_module.Claims",  # no such module
        "UserClaims",  # not a dotted path
        "",
        None,
        42,
        "tests.test_oidc_checks.NoGetClaims",
        "tests.test_oidc_checks.AttributeGetClaims",
        "tests.test_oidc_checks.get_claims",  # a function, not a class
    ],
)
def test_bad_claims_provider_is_e022(path):
    assert errors_for(OIDC_CLAIMS_PROVIDER=path) == ["oauth_provider.E022"]


def test_e022_names_the_value_and_hints_at_the_default():
    with override_settings(OAUTH_PROVIDER={**VALID, "OIDC_CLAIMS_PROVIDER": "mysite.Claims"}):
        (error,) = check_settings()
    assert "'mysite.Claims'" in error.msg
    assert "oauth_provider.claims.UserClaims" in error.hint


@pytest.mark.parametrize("value", ["public", "pairwise"])
def test_subject_types_pass(value):
    assert errors_for(OIDC_DEFAULT_SUBJECT_TYPE=value) == []


@pytest.mark.parametrize("value", ["Public", "private", "", None, 1])
def test_unknown_subject_type_is_e023(value):
    assert errors_for(OIDC_DEFAULT_SUBJECT_TYPE=value) == ["oauth_provider.E023"]


def test_standard_scopes_without_descriptions_pass():
    """The consent screen describes them itself (scopes.STANDARD_DESCRIPTIONS)."""
    scopes = {**VALID["SCOPES"], "openid": None, "profile": None, "email": "", "address": None, "phone": ""}

    assert errors_for(SCOPES=scopes) == []
    with override_settings(OAUTH_PROVIDER={**VALID, "SCOPES": scopes}):
        call_command("check", "--fail-level", "ERROR")
