"""The client registration endpoint (RFC 7591 §3): policies, metadata, errors, limits."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata
from rest_framework.test import APIClient

from oauth_provider import clock
from oauth_provider.crypto import hash_secret
from oauth_provider.models import Client, InitialAccessToken
from oauth_provider.payload import (
    REGISTRATION_MAX_BODY_BYTES,
    REGISTRATION_MAX_ITEMS,
    REGISTRATION_MAX_LENGTHS,
)
from tests.factories import ClientFactory
from tests.registration_helpers import (
    REDIRECT_URI,
    REGISTER_URL,
    metadata,
    post_json,
)

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"  # tests/settings.py


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response["Cache-Control"] == "no-store"


# -- policies -----------------------------------------------------------------------------------------


OPENID_SCOPES = {"openid": "Sign you in", "read": "Read your data"}


def test_off_by_default_is_404_and_not_in_the_metadata(api_client, registration_settings):
    registration_settings(SCOPES=OPENID_SCOPES)
    assert post_json(api_client, metadata()).status_code == 404
    for url in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        assert "registration_endpoint" not in api_client.get(url).json()
    assert not Client.objects.exists()


@pytest.mark.parametrize("policy", ["open", "initial_access_token"])
def test_endpoint_in_both_metadata_documents(api_client, registration_settings, policy):
    registration_settings(REGISTRATION_POLICY=policy, SCOPES=OPENID_SCOPES)
    for url in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        assert api_client.get(url).json()["registration_endpoint"] == f"{ISSUER}/o/register/"


def test_open_registers_a_confidential_client(api_client, open_registration):
    response = post_json(api_client, metadata(client_uri="https://app.example.org", scope="read write"))

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    client = Client.objects.get(client_id=body["client_id"])
    assert body["client_secret"].startswith("opcs_")
    assert body["registration_access_token"].startswith("opra_")
    # Hashed at rest (RFC 7591 §3.2.1 credentials shown once).
    assert client.check_secret(body["client_secret"])
    assert client.registration_access_token_hash == hash_secret(body["registration_access_token"])
    assert body["client_secret"] not in repr(Client.objects.filter(pk=client.pk).values().get())
    assert body == {
        "client_id": client.client_id,
        "client_secret": body["client_secret"],
        "registration_access_token": body["registration_access_token"],
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_secret_expires_at": 0,
        "registration_client_uri": f"{ISSUER}/o/register/{client.client_id}/",
        "client_name": "Registered App",
        "client_uri": "https://app.example.org",
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "read write",
        "id_token_signed_response_alg": "RS256",
        "subject_type": "public",
    }
    assert client.is_confidential
    assert client.owner is None


def test_public_client_gets_no_secret(api_client, open_registration):
    response = post_json(api_client, metadata(token_endpoint_auth_method="none"))

    body = response.json()
    assert response.status_code == 201
    assert "client_secret" not in body
    assert "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    client = Client.objects.get(client_id=body["client_id"])
    assert client.client_type == Client.ClientType.PUBLIC
    assert client.client_secret_hash == ""


def test_client_secret_post_is_registered_as_a_confidential_client(api_client, open_registration):
    response = post_json(api_client, metadata(token_endpoint_auth_method="client_secret_post"))

    # Either secret method works for every confidential client; the stored one is named.
    assert response.json()["token_endpoint_auth_method"] == "client_secret_basic"
    assert Client.objects.get().is_confidential


def test_rfc_7591_defaults(api_client, open_registration):
    """§2: grant_types defaults to authorization_code, the method to client_secret_basic."""
    body = post_json(
        api_client, metadata(grant_types=None, response_types=None, token_endpoint_auth_method=None)
    ).json()

    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert Client.objects.get().scopes == []  # every scope but the privileged ones


def test_metadata_not_understood_is_ignored_and_not_listed(api_client, open_registration):
    """§2: "MUST ignore any client metadata sent by the client that it does not understand"."""
    extra = {
        "logo_uri": "https://app.example.org/logo.png",
        "tos_uri": "https://app.example.org/tos",
        "application_type": "native",
        "contacts": ["dev@example.org"],
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "software_version": "2.1",
        "jwks": {"keys": []},
    }
    response = post_json(api_client, metadata(**extra))

    assert response.status_code == 201
    assert not set(extra) & set(response.json())


def test_client_without_a_name_is_shown_by_its_client_id(api_client, open_registration):
    """§2 client_name: "If omitted, the authorization server MAY display the raw client_id"."""
    body = post_json(api_client, metadata(client_name=None)).json()

    assert body["client_name"] == body["client_id"]
    assert Client.objects.get().name == body["client_id"]


@pytest.mark.parametrize(
    "members",
    [
        {"redirect_uris": ["http://127.0.0.1:3030/callback"]},
        {
            "redirect_uris": ["http://localhost:3030/callback"],
            "client_name": "MCP client",
            "token_endpoint_auth_method": "none",
            "scope": "read",
        },
    ],
)
def test_what_the_mcp_sdk_sends_and_reads(api_client, open_registration, members):
    """The official MCP SDK's registration body (mcp.client.auth), and its parse of our answer."""
    sent = OAuthClientMetadata(**members).model_dump(by_alias=True, mode="json", exclude_none=True)

    response = post_json(api_client, sent)

    assert response.status_code == 201, response.content
    information = OAuthClientInformationFull.model_validate(response.json())
    assert information.client_id == Client.objects.get().client_id
    assert [str(uri) for uri in information.redirect_uris] == members["redirect_uris"]
    assert (information.client_secret is None) == ("token_endpoint_auth_method" in members)


def test_null_members_count_as_omitted(api_client, open_registration):
    response = post_json(api_client, {**metadata(), "scope": None, "client_uri": None})

    assert response.status_code == 201
    assert "scope" not in response.json()


# -- the approval workflow ---------------------------------------------------------------------------------


def test_registered_client_awaits_approval_by_default(api_client, open_registration):
    body = post_json(api_client, metadata()).json()

    client = Client.objects.get(client_id=body["client_id"])
    assert client.awaiting_approval
    assert not client.is_active
    assert not client.accepts_new_authorizations


def test_approval_can_be_turned_off(api_client, registration_settings):
    registration_settings(REGISTRATION_POLICY="open", REGISTRATION_APPROVAL_REQUIRED=False)

    client = Client.objects.get(client_id=post_json(api_client, metadata()).json()["client_id"])

    assert client.accepts_new_authorizations


def test_self_service_approval_setting_does_not_apply(api_client, registration_settings):
    registration_settings(REGISTRATION_POLICY="open", SELF_SERVICE_APPROVAL_REQUIRED=False)

    client = Client.objects.get(client_id=post_json(api_client, metadata()).json()["client_id"])

    assert client.awaiting_approval


# -- initial access tokens (§3) -----------------------------------------------------------------------------


@pytest.fixture
def initial_token(registration_settings):
    """Turns the initial_access_token policy on; makes tokens, returning (token, raw value)."""
    registration_settings(REGISTRATION_POLICY="initial_access_token")

    def make(**fields):
        token = InitialAccessToken(description="partner", **fields)
        value = token.set_token()
        token.save()
        return token, value

    return make


def test_initial_access_token_registers_and_is_counted(api_client, initial_token):
    token, value = initial_token()

    response = post_json(api_client, metadata(), HTTP_AUTHORIZATION=f"Bearer {value}")

    assert response.status_code == 201
    token.refresh_from_db()
    assert token.use_count == 1


def test_missing_initial_access_token_is_401_without_error_in_challenge(api_client, initial_token):
    response = post_json(api_client, metadata())

    assert_error(response, 401, "invalid_token")
    # RFC 6750 §3.1: a request without credentials gets no error code in the challenge.
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not Client.objects.exists()


@pytest.mark.parametrize("header", ["Bearer opia_wrong", "Bearer a b", "Bearer caf\xe9"])
def test_wrong_initial_access_token_is_invalid_token(api_client, initial_token, header):
    initial_token()

    response = post_json(api_client, metadata(), HTTP_AUTHORIZATION=header)

    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_expired_initial_access_token(api_client, initial_token):
    _token, value = initial_token(expires_at=clock.now() - timedelta(seconds=1))

    assert_error(
        post_json(api_client, metadata(), HTTP_AUTHORIZATION=f"Bearer {value}"), 401, "invalid_token"
    )


def test_initial_access_token_used_up(api_client, initial_token):
    _token, value = initial_token(max_uses=1)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {value}"}

    assert post_json(api_client, metadata(), **headers).status_code == 201
    assert_error(post_json(api_client, metadata(), **headers), 401, "invalid_token")
    assert Client.objects.count() == 1


def test_refused_metadata_uses_up_nothing(api_client, initial_token):
    token, value = initial_token(max_uses=1)

    response = post_json(api_client, metadata(client_name="   "), HTTP_AUTHORIZATION=f"Bearer {value}")

    assert_error(response, 400, "invalid_client_metadata")
    token.refresh_from_db()
    assert token.use_count == 0


def test_token_used_up_meanwhile_is_refused(api_client, initial_token, monkeypatch):
    """The use is counted with a conditional UPDATE, not by the earlier read."""
    _token, value = initial_token(max_uses=1)
    monkeypatch.setattr(InitialAccessToken, "use", lambda self: False)

    assert_error(
        post_json(api_client, metadata(), HTTP_AUTHORIZATION=f"Bearer {value}"), 401, "invalid_token"
    )
    assert not Client.objects.exists()


def test_use_is_a_conditional_update(initial_token):
    token, _value = initial_token(max_uses=1)
    stale = InitialAccessToken.objects.get(pk=token.pk)

    assert token.use()
    assert not stale.use()  # read before the first use, refused all the same


def test_open_policy_ignores_an_authorization_header(api_client, open_registration):
    assert post_json(api_client, metadata(), HTTP_AUTHORIZATION="Bearer whatever").status_code == 201


# -- RFC 7591 §3.2.2 errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uris",
    [
        ["http://app.example.org/callback"],  # plain http off loopback
        ["https://app.example.org/callback#fragment"],
        ["javascript:alert(1)"],
        ["https://good@evil.example/"],
        "https://app.example.org/callback",  # a string, not a list
        [42],
        [],  # the code grant needs one
    ],
)
def test_invalid_redirect_uri(api_client, open_registration, redirect_uris):
    response = post_json(api_client, metadata(redirect_uris=redirect_uris))

    assert_error(response, 400, "invalid_redirect_uri")
    assert not Client.objects.exists()


def test_too_many_redirect_uris(api_client, open_registration):
    uris = [f"https://app.example.org/{n}" for n in range(REGISTRATION_MAX_ITEMS + 1)]

    assert_error(post_json(api_client, metadata(redirect_uris=uris)), 400, "invalid_redirect_uri")


@pytest.mark.parametrize(
    "members",
    [
        {"client_name": "   "},
        {"client_name": "Evil\u202eppA"},  # a bidirectional override
        {"client_uri": "javascript:alert(1)"},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]},
        {"grant_types": ["implicit"], "response_types": ["token"]},
        {"grant_types": ["client_credentials"], "response_types": None, "token_endpoint_auth_method": "none"},
        {"response_types": ["token"]},
        {"response_types": ["code"], "grant_types": ["client_credentials"]},
        {"response_types": [], "grant_types": ["authorization_code"]},
        {"scope": "unknown"},
        {"scope": "read\\"},
        {"id_token_signed_response_alg": "none"},
        {"id_token_signed_response_alg": "HS256"},
        {"subject_type": "sometimes"},
        {"post_logout_redirect_uris": ["http://app.example.org/bye"]},
        {"backchannel_logout_uri": "https://app.example.org/logout#x"},
        {"sector_identifier_uri": "http://app.example.org/sector.json"},
    ],
)
def test_invalid_client_metadata(api_client, open_registration, members):
    response = post_json(api_client, metadata(**members))

    assert_error(response, 400, "invalid_client_metadata")
    assert not Client.objects.exists()


def test_legacy_grants_are_an_admins_even_when_enabled(api_client, registration_settings, settings):
    registration_settings(
        REGISTRATION_POLICY="open",
        GRANT_TYPES=["authorization_code", "refresh_token", "password", "implicit"],
    )

    for grant_type in ("password", "implicit"):
        response = post_json(api_client, metadata(grant_types=["authorization_code", grant_type]))
        assert_error(response, 400, "invalid_client_metadata")


@pytest.mark.parametrize(
    ("policy", "approval", "allowed"),
    [("open", False, False), ("open", True, True), ("initial_access_token", False, True)],
)
def test_client_credentials_needs_someone_answerable(
    api_client, registration_settings, policy, approval, allowed
):
    """Open registration that no admin reviews gives no client credentials:
    anyone could otherwise give themselves API access with no user behind it."""
    registration_settings(REGISTRATION_POLICY=policy, REGISTRATION_APPROVAL_REQUIRED=approval)
    if policy == "initial_access_token":
        token = InitialAccessToken(description="partner")
        value = token.set_token()
        token.save()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")

    response = post_json(api_client, metadata(grant_types=["client_credentials"], response_types=[]))

    if allowed:
        assert response.status_code == 201, response.content
    else:
        assert_error(response, 400, "invalid_client_metadata")
        assert not Client.objects.exists()


def test_grant_type_the_site_does_not_offer(api_client, registration_settings):
    registration_settings(REGISTRATION_POLICY="open", GRANT_TYPES=["authorization_code"])

    response = post_json(api_client, metadata(grant_types=["authorization_code", "refresh_token"]))

    assert_error(response, 400, "invalid_client_metadata")
    assert "authorization_code" in response.json()["error_description"]


@pytest.mark.parametrize(
    "settings_members", [{"PRIVILEGED_SCOPES": ["admin"]}, {"INTROSPECTION_SCOPE": "admin"}]
)
def test_privileged_scopes_are_an_admins(api_client, registration_settings, settings_members):
    registration_settings(REGISTRATION_POLICY="open", **settings_members)

    response = post_json(api_client, metadata(scope="read admin"))

    assert_error(response, 400, "invalid_client_metadata")


def test_software_statement_is_refused(api_client, open_registration):
    response = post_json(api_client, metadata(software_statement="eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))

    assert_error(response, 400, "invalid_software_statement")


def test_error_description_never_echoes_input(api_client, open_registration):
    response = post_json(api_client, metadata(redirect_uris=["http://evil.example/<script>"]))

    assert "evil" not in response.json()["error_description"]


# -- OpenID Connect Registration members -------------------------------------------------------------------


def test_openid_connect_members(api_client, open_registration, sector_document):
    sector_document.extend([REDIRECT_URI, "https://other.example.org/callback"])
    members = {
        "redirect_uris": [REDIRECT_URI, "https://other.example.org/callback"],
        "post_logout_redirect_uris": ["https://app.example.org/bye"],
        "backchannel_logout_uri": "https://app.example.org/backchannel",
        "id_token_signed_response_alg": "ES256",
        "subject_type": "pairwise",
        "sector_identifier_uri": "https://app.example.org/sector.json",
    }

    body = post_json(api_client, metadata(**members)).json()

    assert {name: body[name] for name in members} == members
    client = Client.objects.get(client_id=body["client_id"])
    assert client.post_logout_redirect_uri_list == ["https://app.example.org/bye"]
    assert client.backchannel_logout_uri == "https://app.example.org/backchannel"
    assert (client.id_token_signed_response_alg, client.subject_type) == ("ES256", "pairwise")
    assert client.sector_identifier_uri == "https://app.example.org/sector.json"


def test_pairwise_on_several_hosts_needs_a_sector(api_client, open_registration):
    uris = [REDIRECT_URI, "https://other.example.org/callback"]

    response = post_json(api_client, metadata(redirect_uris=uris, subject_type="pairwise"))

    assert_error(response, 400, "invalid_redirect_uri")


def test_registered_client_reaches_public_addresses_only(api_client, open_registration):
    """Nobody reviewed who registered it: like a self-service client, its back-channel
    logout URI may not point at the server's own network (outbound)."""
    response = post_json(api_client, metadata(backchannel_logout_uri="https://10.0.0.5/logout"))

    assert_error(response, 400, "invalid_client_metadata")
    assert "backchannel_logout_uri" in response.json()["error_description"]


def test_private_addresses_when_the_site_allows_them(api_client, registration_settings):
    registration_settings(REGISTRATION_POLICY="open", OUTBOUND_PRIVATE_ADDRESSES_ALLOWED=True)

    response = post_json(api_client, metadata(backchannel_logout_uri="https://10.0.0.5/logout"))

    assert response.status_code == 201


# -- rate limit per address ---------------------------------------------------------------------------------


def test_registrations_are_limited_per_address(api_client, registration_settings):
    registration_settings(
        REGISTRATION_POLICY="open", REGISTRATION_MAX_REQUESTS=2, REGISTRATION_REQUEST_WINDOW_SECONDS=600
    )
    # Refused requests count too: the limit is on requests, not on clients made.
    assert post_json(api_client, metadata()).status_code == 201
    assert post_json(api_client, b"not json").status_code == 400

    response = post_json(api_client, metadata())

    assert_error(response, 429, "invalid_request")
    assert 0 < int(response["Retry-After"]) <= 600
    assert Client.objects.count() == 1
    # Another address is counted on its own.
    assert post_json(api_client, metadata(), REMOTE_ADDR="203.0.113.9").status_code == 201


# -- hostile bodies: never a 500 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"a string"',
        b"null",
        b'{"client_name": "A", "client_name": "B"}',  # a repeated member
        b'{"client_name": NaN}',
        b'{"client_name": Infinity}',
        b"[" * 15_000 + b"]" * 15_000,  # nesting past the recursion limit, within the size cap
        b'{"n": ' + b"9" * 5000 + b"}",  # an integer too long to convert
        b'{"client_name": "caf\xe9"}',  # Latin-1, not UTF-8
        b"\xef\xbb\xbf{}",  # a byte order mark
    ],
)
def test_body_that_is_no_json_object(api_client, open_registration, body):
    assert_error(post_json(api_client, body), 400, "invalid_client_metadata")


@pytest.mark.parametrize(
    "members",
    [
        {"client_name": 5},
        {"client_name": ["App"]},
        {"client_name": {"en": "App"}},
        {"client_name": True},
        {"scope": ["read"]},
        {"grant_types": "authorization_code"},
        {"grant_types": [None]},
        {"response_types": {"code": True}},
        {"token_endpoint_auth_method": 1.5},
        {"client_name": "\ud800"},  # a lone surrogate
        {"client_name": "A\x00B"},
        {"client_name": "A\nB"},
        {"post_logout_redirect_uris": ["https://app.example.org/a\nhttps://evil.example/"]},
    ],
)
def test_wrong_json_types_and_characters(api_client, open_registration, members):
    assert_error(post_json(api_client, metadata(**members)), 400, "invalid_client_metadata")


def test_lone_surrogate_as_json_escape(api_client, open_registration):
    body = json.dumps(metadata()).replace('"Registered App"', '"\\ud800"').encode()

    assert_error(post_json(api_client, body), 400, "invalid_client_metadata")


@pytest.mark.parametrize("member", sorted(REGISTRATION_MAX_LENGTHS))
def test_every_member_is_bounded(api_client, open_registration, member):
    limit = REGISTRATION_MAX_LENGTHS[member]
    value = "a" * (limit + 1)
    sent = (
        [value]
        if member in {"redirect_uris", "grant_types", "response_types", "post_logout_redirect_uris"}
        else value
    )

    response = post_json(api_client, metadata(**{member: sent}))

    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_client_metadata", "invalid_redirect_uri"}
    if member != "redirect_uris":
        assert response.json()["error_description"] == (
            f"The value of {member} is longer than {limit} characters."
        )


def test_name_at_its_limit_is_kept(api_client, open_registration):
    name = "a" * REGISTRATION_MAX_LENGTHS["client_name"]

    assert post_json(api_client, metadata(client_name=name)).json()["client_name"] == name


def test_body_over_the_cap_is_413(api_client, open_registration):
    body = json.dumps(metadata(padding="x" * REGISTRATION_MAX_BODY_BYTES)).encode()

    assert_error(post_json(api_client, body), 413, "invalid_request")


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin-1"]
)
def test_other_content_types(api_client, open_registration, content_type):
    response = post_json(api_client, json.dumps(metadata()).encode(), content_type=content_type)

    assert_error(response, 400, "invalid_client_metadata")


def test_json_with_utf8_charset(api_client, open_registration):
    response = post_json(api_client, metadata(), content_type="application/json; charset=UTF-8")

    assert response.status_code == 201


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(api_client, open_registration, method):
    assert_error(api_client.generic(method, REGISTER_URL), 405, "invalid_request")


# -- the consent screen ------------------------------------------------------------------------------------


def test_consent_screen_says_the_client_registered_itself(client, user, registration_settings):
    """Anyone may have registered it under any name: users are told (threat model)."""
    registration_settings(REGISTRATION_POLICY="open", REGISTRATION_APPROVAL_REQUIRED=False)
    registered = post_json(APIClient(), metadata(client_name="Friendly App")).json()
    admin_registered = ClientFactory(redirect_uris=REDIRECT_URI)
    client.force_login(user)

    pages = {
        client_id: client.get(
            "/o/authorize/?"
            + urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "scope": "read",
                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "code_challenge_method": "S256",
                }
            )
        ).content.decode()
        for client_id in (registered["client_id"], admin_registered.client_id)
    }

    assert "This app registered itself with this site" in pages[registered["client_id"]]
    assert "Friendly App" in pages[registered["client_id"]]
    assert "This app registered itself" not in pages[admin_registered.client_id]
