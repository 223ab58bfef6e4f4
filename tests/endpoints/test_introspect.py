"""The introspection endpoint (RFC 7662)."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.views.debug import SafeExceptionReporterFilter

from oauth_provider import clock
from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, Client, Subject
from oauth_provider.revocation import revoke_tokens
from oauth_provider.subjects import subject, subject_of
from oauth_provider.views.introspect import IntrospectView
from tests.factories import AccessTokenFactory, ClientFactory, PublicClientFactory, RefreshTokenFactory
from tests.helpers import basic_auth

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"  # tests/settings.py
INACTIVE = {"active": False}


def introspect(api_client, data, **headers):
    """POST form-encoded ``data`` (a dict, or a list of pairs for repeats) to the introspection endpoint."""
    return api_client.post(
        "/o/introspect/",
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def as_client(oauth_client):
    return {"HTTP_AUTHORIZATION": basic_auth(oauth_client.client_id, oauth_client.secret)}


def as_bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token.value}"}


def answer(response):
    """The §2.2 body of a successful response, which must never be cached."""
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


def unix(moment):
    return int(moment.timestamp())


@pytest.fixture
def resource_server(db):
    """A confidential client allowed to introspect (a protected resource)."""
    return ClientFactory(allow_introspection=True, grant_types=["client_credentials"], redirect_uris="")


@pytest.fixture
def enable_bearer_introspection(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "INTROSPECTION_SCOPE": "admin"}


# -- active tokens (§2.2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "aud"),
    [
        ("https://api.example.com/", "https://api.example.com/"),
        ("https://a.example/ https://b.example/", ["https://a.example/", "https://b.example/"]),
    ],
)
def test_aud_is_the_tokens_audience(api_client, resource_server, resources, aud):
    token = AccessTokenFactory(resources=resources)
    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))["aud"] == aud


def test_token_without_audience_has_no_aud(api_client, resource_server):
    token = AccessTokenFactory(resources="")
    assert "aud" not in answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))


def test_user_bound_access_token(api_client, resource_server, user, frozen_clock):
    token = AccessTokenFactory(user=user, scope="read write")

    body = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))

    assert body == {
        "active": True,
        "scope": "read write",
        "client_id": token.client.client_id,
        "username": user.username,
        "sub": subject(user, token.client),
        "token_type": "Bearer",
        "exp": unix(clock.now() + timedelta(hours=1)),
        "iat": unix(clock.now()),
        "iss": ISSUER,
    }


def test_sub_is_never_the_database_key(api_client, resource_server, user):
    token = AccessTokenFactory(user=user)

    body = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))

    assert body["sub"] != str(user.pk)
    assert body["sub"] == Subject.objects.get(user=user).public_id


def test_sub_is_the_one_the_tokens_client_knows(api_client, resource_server, user):
    """OpenID Connect Core §8.1: a pairwise client's users have its own sub,
    in its ID tokens and UserInfo; its resource server sees the same one."""
    pairwise = ClientFactory(subject_type=Client.SubjectType.PAIRWISE)
    token = AccessTokenFactory(user=user, client=pairwise)

    body = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))

    assert body["sub"] == subject(user, pairwise) != subject_of(user).public_id


def test_a_user_without_subject_identifiers_gets_them_once(
    api_client, resource_server, user, django_assert_num_queries
):
    token = AccessTokenFactory(user=user)
    first = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))["sub"]

    with django_assert_num_queries(2):  # made above; now read with the token
        again = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))["sub"]

    assert first == again
    assert Subject.objects.filter(user=user).count() == 1


def test_client_only_access_token_has_no_username_or_sub(api_client, resource_server, frozen_clock):
    token = AccessTokenFactory(user=None, scope="read")

    body = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))

    assert body == {
        "active": True,
        "scope": "read",
        "client_id": token.client.client_id,
        "token_type": "Bearer",
        "exp": unix(clock.now() + timedelta(hours=1)),
        "iat": unix(clock.now()),
        "iss": ISSUER,
    }


def test_refresh_token_has_no_token_type(api_client, resource_server, user, frozen_clock):
    token = RefreshTokenFactory(user=user, scope="read")

    body = answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))

    assert body == {
        "active": True,
        "scope": "read",
        "client_id": token.client.client_id,
        "username": user.username,
        "sub": subject(user, token.client),
        "exp": unix(clock.now() + timedelta(days=30)),
        "iat": unix(clock.now()),
        "iss": ISSUER,
    }


def test_client_secret_post(api_client, resource_server):
    token = AccessTokenFactory()
    data = {
        "token": token.value,
        "client_id": resource_server.client_id,
        "client_secret": resource_server.secret,
    }

    assert answer(introspect(api_client, data))["active"] is True


def test_client_may_introspect_its_own_token(api_client, resource_server):
    token = AccessTokenFactory(client=resource_server, user=None)

    assert (
        answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))["active"] is True
    )


# -- inactive: {"active": false} and nothing else (§2.2) -----------------------------------------


def test_unknown_token_is_inactive(api_client, resource_server):
    body = answer(introspect(api_client, {"token": "opat_unknown"}, **as_client(resource_server)))
    assert body == INACTIVE


@pytest.mark.parametrize("factory", [AccessTokenFactory, RefreshTokenFactory])
def test_expired_token_is_inactive(api_client, resource_server, frozen_clock, factory):
    token = factory()
    frozen_clock.advance(days=31)

    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server))) == INACTIVE


def test_token_is_inactive_the_second_it_expires(api_client, resource_server, frozen_clock):
    token = AccessTokenFactory()
    frozen_clock.advance(seconds=3599)
    assert (
        answer(introspect(api_client, {"token": token.value}, **as_client(resource_server)))["active"] is True
    )

    frozen_clock.advance(seconds=1)

    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server))) == INACTIVE


@pytest.mark.parametrize("factory", [AccessTokenFactory, RefreshTokenFactory])
def test_revoked_token_is_inactive(api_client, resource_server, factory):
    token = factory()
    revoke_tokens([token], reason="revoked")

    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server))) == INACTIVE


def test_token_revoked_through_the_revocation_endpoint_is_inactive(api_client, resource_server):
    token = RefreshTokenFactory()
    access = AccessTokenFactory(client=token.client, user=token.user, family_id=token.family_id)
    api_client.post(
        "/o/revoke/",
        urlencode({"token": token.value}),
        content_type="application/x-www-form-urlencoded",
        **as_client(token.client),
    )

    assert answer(introspect(api_client, {"token": access.value}, **as_client(resource_server))) == INACTIVE


def test_token_of_an_inactive_client_is_inactive(api_client, resource_server):
    token = AccessTokenFactory()
    token.client.is_active = False
    token.client.save()

    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server))) == INACTIVE


def test_token_of_an_inactive_user_is_inactive(api_client, resource_server):
    token = AccessTokenFactory()
    token.user.is_active = False
    token.user.save()

    assert answer(introspect(api_client, {"token": token.value}, **as_client(resource_server))) == INACTIVE


# -- token_type_hint (§2.1) ----------------------------------------------------------------------


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token", "nonsense"])
@pytest.mark.parametrize("factory", [AccessTokenFactory, RefreshTokenFactory])
def test_token_is_found_whatever_the_hint(api_client, resource_server, factory, hint):
    # "If the server is unable to locate the token using the given hint, it MUST
    # extend its search across all of its supported token types."
    token = factory()

    response = introspect(
        api_client, {"token": token.value, "token_type_hint": hint}, **as_client(resource_server)
    )

    assert answer(response)["active"] is True


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", None])
@pytest.mark.parametrize("factory", [AccessTokenFactory, RefreshTokenFactory])
def test_a_token_issued_here_costs_one_lookup_whatever_the_hint(
    api_client, resource_server, django_assert_num_queries, factory, hint
):
    # The client, then the token with its client, user and the user's subject
    # in one query: its prefix names its table, so a wrong or missing hint costs nothing.
    token = factory()
    subject_of(token.user)  # made when the user first signed in with openid, or first introspected
    data = {"token": token.value} | ({"token_type_hint": hint} if hint else {})

    with django_assert_num_queries(2):
        response = introspect(api_client, data, **as_client(resource_server))

    assert answer(response)["active"] is True


def test_an_unknown_token_is_searched_for_in_every_table(
    api_client, resource_server, django_assert_num_queries
):
    with django_assert_num_queries(3):
        response = introspect(api_client, {"token": "opat_unknown"}, **as_client(resource_server))

    assert answer(response) == {"active": False}


def test_a_value_without_our_prefix_is_still_found_in_any_table(api_client, resource_server):
    # RFC 7662 §2.1: the search extends to every token type, whatever the hint.
    token = AccessTokenFactory()
    AccessToken.objects.filter(pk=token.pk).update(token_hash=hash_secret("issued-before-prefixes"))

    response = introspect(
        api_client,
        {"token": "issued-before-prefixes", "token_type_hint": "refresh_token"},
        **as_client(resource_server),
    )

    assert answer(response)["active"] is True
    assert answer(response)["client_id"] == token.client.client_id


# -- who may ask (§2.1, §4) ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["live", "opat_unknown"])
def test_client_without_the_flag_is_refused_and_learns_nothing(api_client, oauth_client, value):
    # §4: the server "SHOULD require protected resources to be specifically
    # authorized to call the introspection endpoint". The answer is the same
    # for a live token and an unknown one.
    token = AccessTokenFactory(client=oauth_client)
    response = introspect(
        api_client, {"token": token.value if value == "live" else value}, **as_client(oauth_client)
    )

    assert_error(response, 403, "unauthorized_client")
    assert response.json()["error_description"] == "This client is not allowed to introspect tokens."
    assert "WWW-Authenticate" not in response


@pytest.mark.parametrize("allow_introspection", [False, True])
def test_public_client_is_invalid_client(api_client, allow_introspection):
    # "none" is not an introspection endpoint auth method: a client_id alone proves nothing.
    public_client = PublicClientFactory(allow_introspection=allow_introspection)
    token = AccessTokenFactory(client=public_client)

    response = introspect(api_client, {"token": token.value, "client_id": public_client.client_id})

    assert_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "credentials",
    [
        {},  # none at all
        {"client_id": "unknown", "client_secret": "x"},
        {"client_id": "SELF"},  # confidential client without its secret
        {"client_id": "SELF", "client_secret": "wrong"},
    ],
)
def test_failed_client_authentication_is_invalid_client(api_client, resource_server, credentials):
    if credentials.get("client_id") == "SELF":
        credentials["client_id"] = resource_server.client_id

    response = introspect(api_client, {"token": AccessTokenFactory().value, **credentials})

    assert_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response


def test_invalid_client_over_basic_gets_www_authenticate(api_client, resource_server):
    auth = basic_auth(resource_server.client_id, "wrong")

    response = introspect(api_client, {"token": AccessTokenFactory().value}, HTTP_AUTHORIZATION=auth)

    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_inactive_client_is_invalid_client(api_client, resource_server):
    resource_server.is_active = False
    resource_server.save()

    response = introspect(api_client, {"token": AccessTokenFactory().value}, **as_client(resource_server))

    assert_error(response, 401, "invalid_client")


# -- bearer-authorized callers (INTROSPECTION_SCOPE) ---------------------------------------------


@pytest.mark.usefixtures("enable_bearer_introspection")
def test_bearer_with_the_introspection_scope(api_client, django_assert_num_queries):
    caller = AccessTokenFactory(user=None, scope="admin")
    token = AccessTokenFactory(scope="read")
    subject_of(token.user)

    with django_assert_num_queries(2):  # the caller's token, then the introspected one
        response = introspect(api_client, {"token": token.value}, **as_bearer(caller))

    body = answer(response)
    assert body["active"] is True
    assert body["client_id"] == token.client.client_id


@pytest.mark.usefixtures("enable_bearer_introspection")
def test_bearer_without_the_introspection_scope_is_401_insufficient_scope(api_client):
    # §2.3: a bearer token that "does not contain sufficient privileges" gets 401 (RFC 6750 §3).
    caller = AccessTokenFactory(scope="read write")

    response = introspect(api_client, {"token": AccessTokenFactory().value}, **as_bearer(caller))

    assert_error(response, 401, "insufficient_scope")
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="insufficient_scope", scope="admin"'


@pytest.mark.usefixtures("enable_bearer_introspection")
@pytest.mark.parametrize("state", ["unknown", "expired", "revoked", "malformed"])
def test_bad_bearer_is_401_invalid_token(api_client, frozen_clock, state):
    caller = AccessTokenFactory(user=None, scope="admin")
    token = AccessTokenFactory()
    header = f"Bearer {caller.value}"
    if state == "unknown":
        header = "Bearer opat_unknown"
    elif state == "expired":
        frozen_clock.advance(hours=2)
        token = AccessTokenFactory()
    elif state == "revoked":
        revoke_tokens([caller], reason="revoked")
    else:
        header = "Bearer a b"

    response = introspect(api_client, {"token": token.value}, HTTP_AUTHORIZATION=header)

    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_bearer_is_not_accepted_when_introspection_scope_is_unset(api_client):
    # INTROSPECTION_SCOPE None (the default): only flagged clients may introspect.
    caller = AccessTokenFactory(user=None, scope="admin")

    response = introspect(api_client, {"token": AccessTokenFactory().value}, **as_bearer(caller))

    assert_error(response, 401, "invalid_client")


@pytest.mark.usefixtures("enable_bearer_introspection")
def test_bearer_and_client_credentials_together_is_invalid_request(api_client, resource_server):
    # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    caller = AccessTokenFactory(user=None, scope="admin")
    data = {
        "token": AccessTokenFactory().value,
        "client_id": resource_server.client_id,
        "client_secret": resource_server.secret,
    }

    assert_error(introspect(api_client, data, **as_bearer(caller)), 400, "invalid_request")


@pytest.mark.usefixtures("enable_bearer_introspection")
def test_flagged_clients_still_introspect_when_bearers_may(api_client, resource_server):
    response = introspect(api_client, {"token": AccessTokenFactory().value}, **as_client(resource_server))

    assert answer(response)["active"] is True


# -- malformed requests --------------------------------------------------------------------------


def test_missing_token_is_invalid_request(api_client, resource_server):
    assert_error(introspect(api_client, {}, **as_client(resource_server)), 400, "invalid_request")


@pytest.mark.parametrize("name", ["token", "token_type_hint", "client_id"])
def test_repeated_parameter_is_invalid_request(api_client, resource_server, name):
    data = [
        ("token", AccessTokenFactory().value),
        ("token_type_hint", "access_token"),
        ("client_id", resource_server.client_id),
    ]
    data.append((name, dict(data)[name]))

    assert_error(introspect(api_client, data, **as_client(resource_server)), 400, "invalid_request")


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405_json(api_client, resource_server, method):
    response = getattr(api_client, method)("/o/introspect/", **as_client(resource_server))

    assert_error(response, 405, "invalid_request")


def test_json_body_is_invalid_request(api_client, resource_server):
    response = api_client.post(
        "/o/introspect/", {"token": AccessTokenFactory().value}, format="json", **as_client(resource_server)
    )

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("raw", ["opat_%00x", "%ff%fe", "a%0d%0ab"])
def test_control_characters_in_token_are_invalid_request(api_client, resource_server, raw):
    response = api_client.post(
        "/o/introspect/",
        f"token={raw}",
        content_type="application/x-www-form-urlencoded",
        **as_client(resource_server),
    )

    assert_error(response, 400, "invalid_request")


def test_token_at_the_length_limit_is_inactive(api_client, resource_server):
    assert answer(introspect(api_client, {"token": "a" * 4096}, **as_client(resource_server))) == INACTIVE


def test_token_over_the_length_limit_is_invalid_request(api_client, resource_server):
    response = introspect(api_client, {"token": "a" * 4097}, **as_client(resource_server))

    assert_error(response, 400, "invalid_request")
    assert response.json()["error_description"] == "The token parameter is longer than 4096 characters."


def test_post_without_a_body_is_invalid_request(api_client, resource_server):
    assert_error(api_client.post("/o/introspect/", **as_client(resource_server)), 400, "invalid_request")


def test_token_and_secret_are_hidden_from_error_reports(rf, resource_server):
    data = {"token": "opat_x", "client_id": resource_server.client_id, "client_secret": "s"}
    request = rf.post("/o/introspect/", data)
    IntrospectView.as_view()(request)

    hidden = SafeExceptionReporterFilter().get_post_parameters(request)

    assert hidden["token"] == hidden["client_secret"] == SafeExceptionReporterFilter.cleansed_substitute
    assert hidden["client_id"] == resource_server.client_id
