"""The revocation endpoint (RFC 7009)."""

import threading
import time
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.views.debug import SafeExceptionReporterFilter
from rest_framework.test import APIClient

from oauth_provider.models import AccessToken, Client, RefreshToken
from oauth_provider.signals import token_revoked
from oauth_provider.views.revoke import RevokeView
from tests.factories import (
    AccessTokenFactory,
    ClientFactory,
    PublicClientFactory,
    RefreshTokenFactory,
    UserFactory,
)
from tests.helpers import basic_auth, post_token, request_cost

pytestmark = pytest.mark.django_db


def revoke(api_client, data, **headers):
    """POST form-encoded ``data`` (a dict, or a list of pairs for repeats) to the revocation endpoint."""
    return api_client.post(
        "/o/revoke/", urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **headers
    )


def as_client(oauth_client):
    return {"HTTP_AUTHORIZATION": basic_auth(oauth_client.client_id, oauth_client.secret)}


def assert_revoked_ok(response):
    """§2.2: 200, nothing in the body the client needs, never cached."""
    assert response.status_code == 200, response.content
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


def revoked(token):
    token.refresh_from_db()
    return token.revoked_at is not None


@pytest.fixture
def family(oauth_client, user):
    """An access token and the refresh token issued with it, plus an earlier access token of the grant."""
    access = AccessTokenFactory(client=oauth_client, user=user)
    earlier = AccessTokenFactory(client=oauth_client, user=user, family_id=access.family_id)
    refresh = RefreshTokenFactory(
        client=oauth_client, user=user, access_token=access, family_id=access.family_id
    )
    return access, earlier, refresh


@pytest.fixture
def revocations():
    """Every token_revoked signal sent during the test, as (sender, pks, reason)."""
    sent = []

    def receiver(sender, tokens, reason, **kwargs):
        sent.append((sender, sorted(token.pk for token in tokens), reason))

    token_revoked.connect(receiver)
    yield sent
    token_revoked.disconnect(receiver)


# -- success (§2.1) ------------------------------------------------------------------------------


def test_access_token_is_revoked_with_client_secret_basic(api_client, oauth_client, family):
    access, earlier, refresh = family

    assert_revoked_ok(revoke(api_client, {"token": access.value}, **as_client(oauth_client)))

    assert revoked(access)
    # Only that token: §2.1 lets the server revoke the refresh token too, but does not require it.
    assert not revoked(earlier)
    assert not revoked(refresh)


def test_access_token_revocation_costs_three_statements_in_one_transaction(api_client, oauth_client, family):
    # The client and the token, read; then the conditional UPDATE, which commits alone.
    with CaptureQueriesContext(connection) as queries:
        assert_revoked_ok(revoke(api_client, {"token": family[0].value}, **as_client(oauth_client)))
    assert request_cost(queries) == (3, 1)


def test_refresh_token_revocation_costs_seven_statements_in_one_transaction(api_client, oauth_client, family):
    # The client and the token, read; then together: the refresh token's row
    # lock (a racing rotation is seen or refused), its family's refresh and
    # access tokens, and their two UPDATEs.
    with CaptureQueriesContext(connection) as queries:
        assert_revoked_ok(revoke(api_client, {"token": family[2].value}, **as_client(oauth_client)))
    assert request_cost(queries) == (7, 1)


def test_access_token_is_revoked_with_client_secret_post(api_client, oauth_client, family):
    access = family[0]
    data = {"token": access.value, "client_id": oauth_client.client_id, "client_secret": oauth_client.secret}

    assert_revoked_ok(revoke(api_client, data))

    assert revoked(access)


def test_public_client_revokes_its_own_token_with_client_id_only(api_client, public_client, user):
    # §2.1: credentials are validated "in case of a confidential client".
    token = RefreshTokenFactory(client=public_client, user=user)

    assert_revoked_ok(revoke(api_client, {"token": token.value, "client_id": public_client.client_id}))

    assert revoked(token)


def test_refresh_token_revokes_its_whole_family(api_client, oauth_client, family):
    access, earlier, refresh = family
    other_grant = AccessTokenFactory(client=oauth_client, user=refresh.user)

    assert_revoked_ok(revoke(api_client, {"token": refresh.value}, **as_client(oauth_client)))

    # §2.1: the server "SHOULD also invalidate all access tokens based on the same authorization grant".
    assert revoked(refresh)
    assert revoked(access)
    assert revoked(earlier)
    assert not revoked(other_grant)


def test_access_tokens_of_a_revoked_refresh_token_are_refused_by_the_api(api_client, oauth_client, family):
    access, _earlier, refresh = family
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access.value}"}
    assert api_client.get("/api/me/", **bearer).status_code == 200

    revoke(api_client, {"token": refresh.value}, **as_client(oauth_client))

    response = api_client.get("/api/me/", **bearer)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoked_refresh_token_can_no_longer_be_used(api_client, oauth_client, family):
    refresh = family[2]
    revoke(api_client, {"token": refresh.value}, **as_client(oauth_client))

    response = post_token(
        api_client, {"grant_type": "refresh_token", "refresh_token": refresh.value}, **as_client(oauth_client)
    )

    assert_error(response, 400, "invalid_grant")


def test_revocation_sends_token_revoked(api_client, oauth_client, family, revocations):
    access, earlier, refresh = family

    revoke(api_client, {"token": refresh.value}, **as_client(oauth_client))

    assert sorted(revocations, key=lambda sent: sent[0].__name__) == [
        (AccessToken, sorted([access.pk, earlier.pk]), "revoked"),
        (RefreshToken, [refresh.pk], "revoked"),
    ]


# -- token_type_hint (§2.1) ----------------------------------------------------------------------


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token", "nonsense"])
def test_access_token_is_found_whatever_the_hint(api_client, oauth_client, family, hint):
    # "If the server is unable to locate the token using the given hint, it MUST
    # extend its search across all of its supported token types." An unknown hint is no error.
    access = family[0]

    assert_revoked_ok(
        revoke(api_client, {"token": access.value, "token_type_hint": hint}, **as_client(oauth_client))
    )

    assert revoked(access)


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "unknown"])
def test_refresh_token_is_found_whatever_the_hint(api_client, oauth_client, family, hint):
    access, _earlier, refresh = family

    assert_revoked_ok(
        revoke(api_client, {"token": refresh.value, "token_type_hint": hint}, **as_client(oauth_client))
    )

    assert revoked(refresh)
    assert revoked(access)


# -- nothing to revoke: still 200 (§2.2) ---------------------------------------------------------


def test_unknown_token_is_200(api_client, oauth_client, revocations):
    assert_revoked_ok(revoke(api_client, {"token": "opat_unknown"}, **as_client(oauth_client)))
    assert revocations == []


def test_expired_token_is_200(api_client, oauth_client, user, frozen_clock):
    token = AccessTokenFactory(client=oauth_client, user=user)
    frozen_clock.advance(hours=2)

    assert_revoked_ok(revoke(api_client, {"token": token.value}, **as_client(oauth_client)))


def test_already_revoked_token_is_200_and_signals_nothing(api_client, oauth_client, family, revocations):
    access = family[0]
    revoke(api_client, {"token": access.value}, **as_client(oauth_client))
    revocations.clear()

    assert_revoked_ok(revoke(api_client, {"token": access.value}, **as_client(oauth_client)))

    assert revocations == []


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
@pytest.mark.parametrize("index", [0, 2], ids=["access_token", "refresh_token"])
def test_another_clients_token_is_unauthorized_client_and_left_alone(
    api_client, family, index, hint, revocations
):
    # §2.1: "If this validation fails, the request is refused and the client
    # is informed of the error by the authorization server".
    other = ClientFactory()
    data = {"token": family[index].value} | ({"token_type_hint": hint} if hint else {})

    response = revoke(api_client, data, **as_client(other))

    assert_error(response, 400, "unauthorized_client")
    assert response.json()["error_description"] == "The token was issued to another client."
    assert not any(revoked(row) for row in family)
    assert revocations == []


def test_another_clients_expired_token_is_refused_too(api_client, family, frozen_clock):
    frozen_clock.advance(days=60)

    response = revoke(api_client, {"token": family[2].value}, **as_client(ClientFactory()))

    assert_error(response, 400, "unauthorized_client")
    assert not any(revoked(row) for row in family)


def test_public_client_cannot_revoke_another_clients_token(api_client, family):
    other = PublicClientFactory()

    response = revoke(api_client, {"token": family[2].value, "client_id": other.client_id})

    assert_error(response, 400, "unauthorized_client")
    assert not any(revoked(row) for row in family)


# -- errors (§2.2.1) -----------------------------------------------------------------------------


def test_missing_token_is_invalid_request(api_client, oauth_client):
    assert_error(revoke(api_client, {}, **as_client(oauth_client)), 400, "invalid_request")


def test_empty_token_is_invalid_request(api_client, oauth_client):
    # RFC 6749 §3.1: a parameter without a value is treated as omitted.
    assert_error(revoke(api_client, {"token": ""}, **as_client(oauth_client)), 400, "invalid_request")


@pytest.mark.parametrize("name", ["token", "token_type_hint", "client_id"])
def test_repeated_parameter_is_invalid_request(api_client, oauth_client, family, name):
    data = [
        ("token", family[0].value),
        ("token_type_hint", "access_token"),
        ("client_id", oauth_client.client_id),
    ]
    data.append((name, dict(data)[name]))

    assert_error(revoke(api_client, data, **as_client(oauth_client)), 400, "invalid_request")
    assert not revoked(family[0])


@pytest.mark.parametrize(
    "credentials",
    [
        {},  # none at all
        {"client_id": "unknown", "client_secret": "x"},
        {"client_id": "SELF"},  # confidential client without its secret
        {"client_id": "SELF", "client_secret": "wrong"},
    ],
)
def test_failed_client_authentication_is_invalid_client(api_client, oauth_client, family, credentials):
    if credentials.get("client_id") == "SELF":
        credentials["client_id"] = oauth_client.client_id

    response = revoke(api_client, {"token": family[0].value, **credentials})

    assert_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response
    assert not revoked(family[0])


def test_invalid_client_over_basic_gets_www_authenticate(api_client, oauth_client, family):
    auth = basic_auth(oauth_client.client_id, "wrong")

    response = revoke(api_client, {"token": family[0].value}, HTTP_AUTHORIZATION=auth)

    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not revoked(family[0])


def test_inactive_client_is_invalid_client(api_client, oauth_client, family):
    # By update(), which sends no signal: saving would end its grants (receivers).
    Client.objects.filter(pk=oauth_client.pk).update(is_active=False)

    assert_error(
        revoke(api_client, {"token": family[0].value}, **as_client(oauth_client)), 401, "invalid_client"
    )
    assert not revoked(family[0])


def test_missing_client_authentication_is_checked_before_the_token(api_client):
    # §2.1: "The authorization server first validates the client credentials".
    assert_error(revoke(api_client, {}), 401, "invalid_client")


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405_json(api_client, oauth_client, method):
    response = getattr(api_client, method)("/o/revoke/", **as_client(oauth_client))

    assert_error(response, 405, "invalid_request")


def test_json_body_is_invalid_request(api_client, oauth_client, family):
    response = api_client.post(
        "/o/revoke/", {"token": family[0].value}, format="json", **as_client(oauth_client)
    )

    assert_error(response, 400, "invalid_request")
    assert not revoked(family[0])


@pytest.mark.parametrize("raw", ["opat_%00x", "%ff%fe", "a%0d%0ab"])
def test_control_characters_in_token_are_invalid_request(api_client, oauth_client, raw):
    response = api_client.post(
        "/o/revoke/",
        f"token={raw}",
        content_type="application/x-www-form-urlencoded",
        **as_client(oauth_client),
    )

    assert_error(response, 400, "invalid_request")


def test_token_at_the_length_limit_is_200(api_client, oauth_client):
    assert_revoked_ok(revoke(api_client, {"token": "a" * 4096}, **as_client(oauth_client)))


def test_token_over_the_length_limit_is_invalid_request(api_client, oauth_client):
    response = revoke(api_client, {"token": "a" * 4097}, **as_client(oauth_client))

    assert_error(response, 400, "invalid_request")
    assert response.json()["error_description"] == "The token parameter is longer than 4096 characters."


# -- concurrency -----------------------------------------------------------------------------------


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_revocation_racing_a_rotation_leaves_no_live_token():
    """A client revokes its refresh token while another of its requests rotates it.

    The revocation is started from inside the rotation's transaction, after the
    rotation has claimed the old refresh token but before its new tokens are
    committed. Whatever the interleaving, no token of the grant may survive.
    """
    user = UserFactory()
    oauth_client = ClientFactory()
    access = AccessTokenFactory(client=oauth_client, user=user)
    refresh = RefreshTokenFactory(
        client=oauth_client, user=user, access_token=access, family_id=access.family_id
    )
    responses = []

    def revoke_in_another_thread():
        try:
            responses.append(revoke(APIClient(), {"token": refresh.value}, **as_client(oauth_client)))
        finally:
            connections.close_all()

    revoker = threading.Thread(target=revoke_in_another_thread)
    started = threading.Event()

    def during_rotation(sender, reason, **kwargs):
        if sender is RefreshToken and reason == "rotated" and not started.is_set():
            started.set()
            revoker.start()
            # Wait until the revocation is blocked by the rotation's row lock (or done).
            deadline = time.monotonic() + 10
            while revoker.is_alive() and not waiting_on_a_lock() and time.monotonic() < deadline:
                pass

    token_revoked.connect(during_rotation)
    try:
        rotation = post_token(
            APIClient(),
            {"grant_type": "refresh_token", "refresh_token": refresh.value},
            **as_client(oauth_client),
        )
    finally:
        token_revoked.disconnect(during_rotation)
    revoker.join(10)

    assert rotation.status_code == 200
    assert_revoked_ok(responses[0])
    assert not AccessToken.objects.filter(family_id=refresh.family_id, revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(family_id=refresh.family_id, revoked_at__isnull=True).exists()


def test_post_without_a_body_is_invalid_request(api_client, oauth_client):
    assert_error(api_client.post("/o/revoke/", **as_client(oauth_client)), 400, "invalid_request")


def test_token_and_secret_are_hidden_from_error_reports(rf, oauth_client):
    request = rf.post(
        "/o/revoke/", {"token": "opat_x", "client_id": oauth_client.client_id, "client_secret": "s"}
    )
    RevokeView.as_view()(request)

    hidden = SafeExceptionReporterFilter().get_post_parameters(request)

    assert hidden["token"] == hidden["client_secret"] == SafeExceptionReporterFilter.cleansed_substitute
    assert hidden["client_id"] == oauth_client.client_id
