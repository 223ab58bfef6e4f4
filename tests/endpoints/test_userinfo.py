"""The UserInfo endpoint (OpenID Connect Core 1.0 §5.3; RFC 6750 for the token)."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.views.debug import SafeExceptionReporterFilter

from oauth_provider import bearer as bearer_lookup
from oauth_provider import clock
from oauth_provider.claims import UserClaims
from oauth_provider.models import Client, Subject
from oauth_provider.subjects import subject
from oauth_provider.views.userinfo import UserInfoView
from tests.factories import AccessTokenFactory, ClientFactory, SignInFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/o/userinfo/"
FORM = "application/x-www-form-urlencoded"
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


class VerifiedEmailClaims(UserClaims):
    """A site that knows its users' addresses are verified, and their phone numbers."""

    def get_claims(self, user, client):
        return {**super().get_claims(user, client), "phone_number": "+33 1 23 45 67 89"}

    def email_verified(self, user):
        return True


@pytest.fixture(autouse=True)
def oidc_scopes(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {
            **settings.OAUTH_PROVIDER["SCOPES"],
            **dict.fromkeys(["openid", "profile", "email", "address", "phone"]),
        },
    }


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Liddell", email="alice@example.com")


def token_for(user, scope="openid profile email", **kwargs):
    return AccessTokenFactory(user=user, scope=scope, **kwargs)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token.value}"}


def claims(response):
    """The body of a successful answer, which must be JSON, CORS-readable and never cached."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def assert_refused(response, status, error, challenge):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response["WWW-Authenticate"] == challenge
    assert response["Cache-Control"] == "no-store"
    # Readable by a browser script, so that it can tell why.
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "WWW-Authenticate"


# -- the claims (Core §5.3.2, §5.4) -------------------------------------------------------------


def test_get_with_bearer_header_gives_the_claims_of_the_scopes(api_client, alice):
    token = token_for(alice)

    body = claims(api_client.get(URL, **bearer(token)))

    assert body == {
        "sub": Subject.objects.get(user=alice).public_id,
        "preferred_username": "alice",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com",
    }


def test_post_with_bearer_header(api_client, alice):
    token = token_for(alice)

    assert claims(api_client.post(URL, **bearer(token)))["email"] == "alice@example.com"


def test_post_with_token_in_form_body(api_client, alice):
    """RFC 6750 §2.2: the access_token form parameter."""
    token = token_for(alice)

    body = claims(api_client.post(URL, urlencode({"access_token": token.value}), content_type=FORM))

    assert body["preferred_username"] == "alice"


def test_openid_alone_gives_only_sub(api_client, alice):
    token = token_for(alice, scope="openid")

    assert claims(api_client.get(URL, **bearer(token))) == {"sub": subject(alice, token.client)}


def test_scopes_without_claims_add_none(api_client, alice):
    token = token_for(alice, scope="openid read write")

    assert set(claims(api_client.get(URL, **bearer(token)))) == {"sub"}


def test_claims_the_user_has_no_value_for_are_left_out(api_client):
    nameless = UserFactory(username="bob", first_name="", last_name="", email="")

    body = claims(api_client.get(URL, **bearer(token_for(nameless))))

    assert body == {"sub": subject(nameless, Client.objects.get()), "preferred_username": "bob"}


def test_email_verified_only_when_the_provider_knows(api_client, alice, settings):
    token = token_for(alice, scope="openid email")
    assert "email_verified" not in claims(api_client.get(URL, **bearer(token)))

    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_CLAIMS_PROVIDER": "tests.endpoints.test_userinfo.VerifiedEmailClaims",
    }
    body = claims(api_client.get(URL, **bearer(token)))

    assert body["email"] == "alice@example.com"
    assert body["email_verified"] is True
    # Known to the provider, but the phone scope was not granted.
    assert "phone_number" not in body


def test_custom_provider_claims_of_a_granted_scope_are_released(api_client, alice, settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_CLAIMS_PROVIDER": "tests.endpoints.test_userinfo.VerifiedEmailClaims",
    }

    body = claims(api_client.get(URL, **bearer(token_for(alice, scope="openid phone"))))

    assert body == {"sub": subject(alice, Client.objects.get()), "phone_number": "+33 1 23 45 67 89"}


def test_claims_request_cannot_reach_beyond_the_granted_scopes(api_client, alice):
    """Core §5.5's userinfo member names claims; the user consented to scopes,
    so a requested claim of a scope not granted is still withheld."""
    sign_in = SignInFactory(
        user=alice, claims={"userinfo": {"email": {"essential": True}, "given_name": None}}
    )
    token = token_for(alice, scope="openid profile", client=sign_in.client, family_id=sign_in.family_id)

    body = claims(api_client.get(URL, **bearer(token)))

    assert body["given_name"] == "Alice"
    assert "email" not in body


def test_sub_is_the_public_subject_and_never_the_primary_key(api_client, alice):
    first = claims(api_client.get(URL, **bearer(token_for(alice))))["sub"]
    again = claims(api_client.get(URL, **bearer(token_for(alice))))["sub"]

    assert first == again == Subject.objects.get(user=alice).public_id
    assert first != str(alice.pk)


def test_pairwise_client_gets_its_sectors_sub(api_client, alice):
    pairwise = ClientFactory(subject_type=Client.SubjectType.PAIRWISE)
    public = claims(api_client.get(URL, **bearer(token_for(alice))))["sub"]

    sub = claims(api_client.get(URL, **bearer(token_for(alice, client=pairwise))))["sub"]

    assert sub == subject(alice, pairwise)
    assert sub != public


# -- refused requests (RFC 6750 §3.1) -----------------------------------------------------------


def test_no_token_is_401_with_a_challenge_naming_no_error(api_client):
    """§3.1: "If the request lacks any authentication information [...] the
    resource server SHOULD NOT include an error code" in the challenge."""
    response = api_client.get(URL)

    assert_refused(response, 401, "invalid_token", 'Bearer realm="api"')


def test_challenge_points_at_the_metadata_of_a_resource_at_the_site_root(api_client, settings):
    """RFC 9728 §5.1, for a site declaring its root (where UserInfo lies) as a resource."""
    root = settings.OAUTH_PROVIDER["ISSUER"] + "/"
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": {root: {"scopes": ["read"]}}}
    response = api_client.get(URL)

    challenge = f'Bearer realm="api", resource_metadata="{root}.well-known/oauth-protected-resource"'
    assert_refused(response, 401, "invalid_token", challenge)


def test_other_authorization_scheme_counts_as_no_token(api_client, oauth_client):
    response = api_client.get(URL, HTTP_AUTHORIZATION="Basic YTpi")

    assert_refused(response, 401, "invalid_token", 'Bearer realm="api"')


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer opat_unknown", "Bearer \u00e9t\u00e9"])
def test_malformed_or_unknown_token_is_invalid_token(api_client, header):
    response = api_client.get(URL, HTTP_AUTHORIZATION=header)

    assert_refused(response, 401, "invalid_token", INVALID_TOKEN)


def test_unknown_token_in_form_body_is_invalid_token(api_client):
    response = api_client.post(URL, "access_token=opat_unknown", content_type=FORM)

    assert_refused(response, 401, "invalid_token", INVALID_TOKEN)


def test_expired_token_is_invalid_token(api_client, alice):
    token = token_for(alice, expires_at=clock.now() - timedelta(seconds=1))

    assert_refused(api_client.get(URL, **bearer(token)), 401, "invalid_token", INVALID_TOKEN)


def test_revoked_token_is_invalid_token(api_client, alice):
    token = token_for(alice, revoked_at=clock.now())

    assert_refused(api_client.get(URL, **bearer(token)), 401, "invalid_token", INVALID_TOKEN)


def test_inactive_user_is_invalid_token(api_client, alice):
    token = token_for(alice)
    alice.is_active = False
    alice.save()

    assert_refused(api_client.get(URL, **bearer(token)), 401, "invalid_token", INVALID_TOKEN)


def test_inactive_client_is_invalid_token(api_client, alice):
    token = token_for(alice)
    Client.objects.update(is_active=False)

    assert_refused(api_client.get(URL, **bearer(token)), 401, "invalid_token", INVALID_TOKEN)


def test_token_without_openid_is_insufficient_scope(api_client, alice):
    token = token_for(alice, scope="profile email")

    response = api_client.get(URL, **bearer(token))

    assert_refused(
        response,
        403,
        "insufficient_scope",
        'Bearer realm="api", error="insufficient_scope", scope="openid"',
    )


def test_client_credentials_token_is_insufficient_scope(api_client):
    """A client's own token speaks for no user, whatever its scope."""
    token = AccessTokenFactory(user=None, scope="openid profile")

    response = api_client.get(URL, **bearer(token))

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_token_in_query_string_is_refused(api_client, alice):
    """RFC 9700 §4.3.2: tokens in URLs end up in logs and Referer headers."""
    token = token_for(alice)

    for response in (
        api_client.get(URL, {"access_token": token.value}),
        api_client.get(f"{URL}?access_token={token.value}", **bearer(token)),
        api_client.post(f"{URL}?access_token={token.value}"),
    ):
        assert_refused(response, 400, "invalid_request", 'Bearer realm="api", error="invalid_request"')


def test_token_in_header_and_body_is_invalid_request(api_client, alice):
    """RFC 6750 §3.1: a request that "uses more than one method to include the access token"."""
    token = token_for(alice)

    response = api_client.post(
        URL, urlencode({"access_token": token.value}), content_type=FORM, **bearer(token)
    )

    assert_refused(response, 400, "invalid_request", 'Bearer realm="api", error="invalid_request"')


def test_repeated_body_token_is_invalid_request(api_client, alice):
    token = token_for(alice)

    response = api_client.post(URL, urlencode([("access_token", token.value)] * 2), content_type=FORM)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_body_token_is_ignored_on_get(api_client, alice):
    """§2.2: the form body method is for requests "for which the request-body
    has defined semantics", which GET is not."""
    token = token_for(alice)

    response = api_client.generic("GET", URL, urlencode({"access_token": token.value}), content_type=FORM)

    assert_refused(response, 401, "invalid_token", 'Bearer realm="api"')


def test_json_body_is_invalid_request(api_client, alice):
    response = api_client.post(URL, {"access_token": token_for(alice).value}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_other_methods_are_405(api_client, alice):
    response = api_client.put(URL, **bearer(token_for(alice)))

    assert response.status_code == 405
    assert response["Access-Control-Allow-Origin"] == "*"


def test_body_token_is_hidden_from_error_reports(rf):
    request = rf.post(URL, {"access_token": "opat_secret"})
    UserInfoView.as_view()(request)

    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)

    assert cleansed["access_token"] != "opat_secret"


def test_no_endpoint_when_openid_connect_is_off(api_client, alice, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_ENABLED": False}

    assert api_client.get(URL, **bearer(token_for(alice))).status_code == 404


def test_token_whose_client_was_just_deleted_is_invalid_token(api_client, alice, monkeypatch):
    """Read from the token cache, say, after the client (and so the token) was deleted."""
    token = token_for(alice)
    authenticate = bearer_lookup.authenticate

    def authenticate_then_delete(value):
        found = authenticate(value)
        Client.objects.all().delete()
        return found

    monkeypatch.setattr(bearer_lookup, "authenticate", authenticate_then_delete)

    assert_refused(api_client.get(URL, **bearer(token)), 401, "invalid_token", INVALID_TOKEN)


# -- CORS ---------------------------------------------------------------------------------------


def test_preflight_allows_the_authorization_header_from_any_origin(api_client):
    response = api_client.options(
        URL,
        HTTP_ORIGIN="https://spa.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Headers"] == "Authorization"
    assert set(response["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    # Cookies are never what authenticates here, so never allowed along.
    assert "Access-Control-Allow-Credentials" not in response


def test_answer_is_readable_from_any_origin_without_credentials(api_client, alice):
    response = api_client.get(URL, HTTP_ORIGIN="https://spa.example.net", **bearer(token_for(alice)))

    claims(response)
    assert "Access-Control-Allow-Credentials" not in response


# -- cost ---------------------------------------------------------------------------------------


def test_two_queries(api_client, alice, settings, django_assert_num_queries):
    """The token's lookup, then one for the sign-in with its client (its
    subject is the sub, its claims request is read)."""
    pairwise = ClientFactory(subject_type=Client.SubjectType.PAIRWISE)
    sign_in = SignInFactory(user=alice, client=pairwise, claims={"userinfo": {"email": None}})
    token = token_for(alice, client=pairwise, family_id=sign_in.family_id)
    expected = claims(api_client.get(URL, **bearer(token)))  # makes the user's Subject

    with django_assert_num_queries(2):
        assert claims(api_client.get(URL, **bearer(token))) == expected


def test_first_call_makes_the_subject(api_client, alice):
    token = token_for(alice, scope="openid")
    assert not Subject.objects.filter(user=alice).exists()

    sub = claims(api_client.get(URL, **bearer(token)))["sub"]

    assert Subject.objects.get(user=alice).public_id == sub
