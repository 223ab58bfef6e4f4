"""System checks of the registration settings: E036, E037, W016 (and E016 for the switch)."""

import pytest

from tests.test_checks import deploy_warnings_for, errors_for, shared_cache  # noqa: F401 - a fixture


@pytest.mark.parametrize("policy", ["off", "initial_access_token", "open"])
def test_known_policies_pass(policy):
    assert errors_for(REGISTRATION_POLICY=policy) == []


@pytest.mark.parametrize("policy", ["on", "OPEN", "", None, True, ["open"]])
def test_e036_unknown_policy(policy):
    assert errors_for(REGISTRATION_POLICY=policy) == ["oauth_provider.E036"]


@pytest.mark.parametrize("name", ["REGISTRATION_MAX_REQUESTS", "REGISTRATION_REQUEST_WINDOW_SECONDS"])
@pytest.mark.parametrize("value", [0, -1, None, True, 2.5, "10"])
def test_e037_rate_limit_not_a_positive_int(name, value):
    assert errors_for(**{name: value}) == ["oauth_provider.E037"]


def test_e016_approval_switch_not_a_bool():
    assert errors_for(REGISTRATION_APPROVAL_REQUIRED="no") == ["oauth_provider.E016"]


def test_w016_open_registration_without_approval():
    assert "oauth_provider.W016" in deploy_warnings_for(
        REGISTRATION_POLICY="open", REGISTRATION_APPROVAL_REQUIRED=False
    )


@pytest.mark.parametrize(
    "members",
    [
        {"REGISTRATION_POLICY": "open"},
        {"REGISTRATION_POLICY": "initial_access_token", "REGISTRATION_APPROVAL_REQUIRED": False},
        {"REGISTRATION_POLICY": "off", "REGISTRATION_APPROVAL_REQUIRED": False},
    ],
)
def test_no_w016_with_approval_or_a_token(members):
    assert "oauth_provider.W016" not in deploy_warnings_for(**members)
