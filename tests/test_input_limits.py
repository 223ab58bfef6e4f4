"""Every parameter has a documented maximum length, kept in one place (payload.MAX_LENGTHS)."""

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from oauth_provider import authentication_requests, authorization, logout, resources
from oauth_provider.client_auth import CLIENT_PARAMETERS
from oauth_provider.errors import InvalidRequest
from oauth_provider.grants import GRANTS
from oauth_provider.payload import MAX_LENGTHS, check_length, single_values
from oauth_provider.redirect_uris import MAX_REDIRECT_URI_LENGTH, validate_redirect_uri
from oauth_provider.token_lookup import TOKEN_PARAMETERS
from oauth_provider.userinfo import PARAMETERS as USERINFO_PARAMETERS
from oauth_provider.views import device as device_views
from tests.factories import ClientFactory
from tests.helpers import basic_auth, post_token

README = Path(__file__).resolve().parent.parent / "README.md"
READ_ELSEWHERE = {
    # Read by authorization.redirect_target (client_id, redirect_uri, state)
    # and by the device verification page (user_code), outside the lists below.
    "client_id",
    "redirect_uri",
    "state",
    "user_code",
}


def parameters_read():
    names = set(CLIENT_PARAMETERS) | set(TOKEN_PARAMETERS) | set(authorization.PARAMETERS)
    names |= set(authentication_requests.OPENID_PARAMETERS)
    names |= (
        set(device_views.PARAMETERS)
        | set(USERINFO_PARAMETERS)
        | set(logout.PARAMETERS)
        | READ_ELSEWHERE
        | {"grant_type", resources.PARAMETER}
    )
    for grant in GRANTS.values():
        names |= grant.parameters
    return names


def test_every_parameter_read_has_a_limit_and_no_limit_is_stale():
    assert set(MAX_LENGTHS) == parameters_read()


def test_readme_documents_exactly_these_limits():
    section = README.read_text().split("## Input limits", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([\d,]+) \|", section, flags=re.MULTILINE))
    assert {name: int(value.replace(",", "")) for name, value in rows.items()} == MAX_LENGTHS


@pytest.mark.parametrize("name", sorted(MAX_LENGTHS))
def test_value_at_the_limit_is_kept_and_one_more_is_invalid_request(name):
    limit = MAX_LENGTHS[name]

    assert single_values(QueryDict(urlencode({name: "a" * limit})), [name]) == {name: "a" * limit}
    with pytest.raises(InvalidRequest) as raised:
        single_values(QueryDict(urlencode({name: "a" * (limit + 1)})), [name])
    assert raised.value.wire_description() == f"The {name} parameter is longer than {limit} characters."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grant_type", "name"),
    sorted(
        (grant_type, name)
        for grant_type, grant in GRANTS.items()
        for name in grant.parameters | CLIENT_PARAMETERS | {"grant_type"}
    ),
)
def test_token_endpoint_refuses_every_parameter_over_its_limit(api_client, settings, grant_type, name):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": list(GRANTS)}
    app = ClientFactory(grant_types=list(GRANTS))
    data = {"grant_type": grant_type, "client_id": app.client_id, "client_secret": app.secret}

    response = post_token(api_client, {**data, name: "a" * (MAX_LENGTHS[name] + 1)})

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"The {name} parameter is longer than {MAX_LENGTHS[name]} characters.",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["client_id", "client_secret"])
def test_basic_credentials_have_the_same_limits(api_client, part):
    app = ClientFactory(grant_types=["client_credentials"])
    credentials = {
        "client_id": app.client_id,
        "client_secret": app.secret,
        part: "a" * (MAX_LENGTHS[part] + 1),
    }

    response = post_token(
        api_client,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(credentials["client_id"], credentials["client_secret"]),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_every_redirect_uri_that_may_be_registered_fits_in_a_request():
    """Registration's limit is within the request's, so no registered URI is unusable."""
    assert MAX_LENGTHS["redirect_uri"] >= MAX_REDIRECT_URI_LENGTH
    base = "https://client.example.com/"
    longest = base + "a" * (MAX_REDIRECT_URI_LENGTH - len(base))
    validate_redirect_uri(longest)
    check_length("redirect_uri", longest)
    with pytest.raises(ValidationError) as raised:
        validate_redirect_uri(longest + "a")
    assert raised.value.messages == [
        f"A redirect URI may be at most {MAX_REDIRECT_URI_LENGTH} characters long."
    ]
