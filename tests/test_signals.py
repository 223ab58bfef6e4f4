"""Audit signals (``oauth_provider.signals``): sent when they should, and never
carrying a raw token, code or secret."""

import pytest
from django.db.models import Model

from oauth_provider import signals
from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, AuthorizationCode, Client, RefreshToken

from .factories import AccessTokenFactory, AuthorizationCodeFactory, RefreshTokenFactory
from .helpers import REDIRECT_URI, basic_auth, post_token

pytestmark = pytest.mark.django_db

SIGNAL_NAMES = [
    "token_issued",
    "token_revoked",
    "refresh_token_reused",
    "authorization_code_reused",
    "client_authentication_failed",
]
REMOTE_ADDR = "203.0.113.7"


class Recorder:
    def __init__(self):
        self.sent = []

    def receiver(self, name):
        def receive(sender, signal, **kwargs):
            self.sent.append((name, sender, kwargs))

        return receive

    def of(self, name):
        return [(sender, kwargs) for sent, sender, kwargs in self.sent if sent == name]

    def names(self):
        return [name for name, _sender, _kwargs in self.sent]


@pytest.fixture
def recorded():
    """Every signal sent during the test, with its sender and kwargs."""
    recorder = Recorder()
    connected = []
    for name in SIGNAL_NAMES:
        signal, receive = getattr(signals, name), recorder.receiver(name)
        signal.connect(receive, weak=False)
        connected.append((signal, receive))
    yield recorder
    for signal, receive in connected:
        signal.disconnect(receive)


def dump(value, seen=None):
    """``repr`` of a value and of everything it holds, model instances' fields
    and cached related objects included."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return ""
    seen.add(id(value))
    parts = [repr(value)]
    if isinstance(value, Model):
        parts.append(repr(vars(value)))
        parts += [dump(related, seen) for related in value._state.fields_cache.values()]
    elif isinstance(value, list | tuple | set):
        parts += [dump(item, seen) for item in value]
    elif isinstance(value, dict):
        parts += [dump(item, seen) for item in value.values()]
    return "\n".join(parts)


def assert_carries_no_secret(recorded, *values):
    assert recorded.sent
    text = "\n".join(repr(sender) + dump(kwargs) for _name, sender, kwargs in recorded.sent)
    leaked = [value for value in values if value and value in text]
    assert not leaked


def token_request(api_client, client, data, **headers):
    headers.setdefault("HTTP_AUTHORIZATION", basic_auth(client.client_id, client.secret))
    return post_token(api_client, data, REMOTE_ADDR=REMOTE_ADDR, **headers)


def redeem(api_client, code):
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
    return token_request(api_client, code.client, data)


def refresh(api_client, token):
    data = {"grant_type": "refresh_token", "refresh_token": token.value}
    return token_request(api_client, token.client, data)


@pytest.fixture
def refresh_token(oauth_client, user):
    access = AccessTokenFactory(client=oauth_client, user=user)
    return RefreshTokenFactory(
        client=oauth_client, user=user, access_token=access, family_id=access.family_id
    )


# token_issued ---------------------------------------------------------------


def test_code_exchange_sends_token_issued_for_access_and_refresh_token(
    api_client, oauth_client, user, recorded
):
    code = AuthorizationCodeFactory(client=oauth_client, user=user)

    body = redeem(api_client, code).json()

    issued = recorded.of("token_issued")
    assert [sender for sender, _kwargs in issued] == [AccessToken, RefreshToken]
    assert [kwargs["token"].token_hash for _sender, kwargs in issued] == [
        hash_secret(body["access_token"]),
        hash_secret(body["refresh_token"]),
    ]
    assert {kwargs["grant_type"] for _sender, kwargs in issued} == {"authorization_code"}
    assert recorded.names() == ["token_issued", "token_issued"]
    assert_carries_no_secret(
        recorded, body["access_token"], body["refresh_token"], code.value, oauth_client.secret
    )


# token_revoked --------------------------------------------------------------


def test_rotation_sends_token_revoked_with_reason_rotated(api_client, refresh_token, recorded):
    body = refresh(api_client, refresh_token).json()

    revoked = recorded.of("token_revoked")
    assert {sender: [t.pk for t in kwargs["tokens"]] for sender, kwargs in revoked} == {
        RefreshToken: [refresh_token.pk],
        AccessToken: [refresh_token.access_token.pk],
    }
    assert {kwargs["reason"] for _sender, kwargs in revoked} == {"rotated"}
    issued = recorded.of("token_issued")
    assert {kwargs["grant_type"] for _sender, kwargs in issued} == {"refresh_token"}
    assert_carries_no_secret(
        recorded,
        refresh_token.value,
        refresh_token.access_token.value,
        body["access_token"],
        body["refresh_token"],
        refresh_token.client.secret,
    )


def test_refresh_token_reuse_sends_reused_and_token_revoked_with_reason_reuse(
    api_client, refresh_token, recorded
):
    body = refresh(api_client, refresh_token).json()
    recorded.sent.clear()

    assert refresh(api_client, refresh_token).status_code == 400

    [(sender, kwargs)] = recorded.of("refresh_token_reused")
    assert sender is RefreshToken
    assert kwargs["credential"].pk == refresh_token.pk
    revoked = recorded.of("token_revoked")
    assert {kwargs["reason"] for _sender, kwargs in revoked} == {"reuse"}
    revoked_hashes = {t.token_hash for _sender, kwargs in revoked for t in kwargs["tokens"]}
    assert revoked_hashes == {hash_secret(body["access_token"]), hash_secret(body["refresh_token"])}
    assert_carries_no_secret(
        recorded,
        refresh_token.value,
        body["access_token"],
        body["refresh_token"],
        refresh_token.client.secret,
    )


def test_code_replay_sends_reused_and_token_revoked_with_reason_reuse(
    api_client, oauth_client, user, recorded
):
    code = AuthorizationCodeFactory(client=oauth_client, user=user)
    body = redeem(api_client, code).json()
    recorded.sent.clear()

    assert redeem(api_client, code).status_code == 400

    [(sender, kwargs)] = recorded.of("authorization_code_reused")
    assert sender is AuthorizationCode
    assert kwargs["credential"].pk == code.pk
    revoked = recorded.of("token_revoked")
    assert {kwargs["reason"] for _sender, kwargs in revoked} == {"reuse"}
    revoked_hashes = {t.token_hash for _sender, kwargs in revoked for t in kwargs["tokens"]}
    assert revoked_hashes == {hash_secret(body["access_token"]), hash_secret(body["refresh_token"])}
    assert_carries_no_secret(
        recorded, code.value, body["access_token"], body["refresh_token"], oauth_client.secret
    )


# client_authentication_failed -----------------------------------------------

WRONG_SECRET = "opcs_not-the-secret-but-looks-like-one-0123456789"


def grant_data(**extra):
    return {
        "grant_type": "authorization_code",
        "code": "opac_whatever",
        "redirect_uri": REDIRECT_URI,
        **extra,
    }


def send_wrong_secret_basic(api_client, client, public):
    headers = {"HTTP_AUTHORIZATION": basic_auth(client.client_id, WRONG_SECRET)}
    return token_request(api_client, client, grant_data(), **headers), client.client_id


def send_wrong_secret_post(api_client, client, public):
    data = grant_data(client_id=client.client_id, client_secret=WRONG_SECRET)
    return token_request(api_client, client, data, HTTP_AUTHORIZATION=""), client.client_id


def send_unknown_client(api_client, client, public):
    headers = {"HTTP_AUTHORIZATION": basic_auth("no-such-client", WRONG_SECRET)}
    return token_request(api_client, client, grant_data(), **headers), "no-such-client"


def send_inactive_client(api_client, client, public):
    Client.objects.filter(pk=client.pk).update(is_active=False)
    return token_request(api_client, client, grant_data()), client.client_id


def send_no_secret(api_client, client, public):
    data = grant_data(client_id=client.client_id)
    return token_request(api_client, client, data, HTTP_AUTHORIZATION=""), client.client_id


def send_secret_from_public_client(api_client, client, public):
    data = grant_data(client_id=public.client_id, client_secret=WRONG_SECRET)
    return token_request(api_client, client, data, HTTP_AUTHORIZATION=""), public.client_id


def send_malformed_header(api_client, client, public):
    return token_request(api_client, client, grant_data(), HTTP_AUTHORIZATION="Basic %%%not-base64"), None


def send_no_client_id(api_client, client, public):
    return token_request(api_client, client, grant_data(), HTTP_AUTHORIZATION=""), None


def send_mismatched_client_ids(api_client, client, public):
    return token_request(api_client, client, grant_data(client_id=public.client_id)), client.client_id


@pytest.mark.parametrize(
    ("send", "reason"),
    [
        (send_wrong_secret_basic, "invalid_secret"),
        (send_wrong_secret_post, "invalid_secret"),
        (send_unknown_client, "unknown_client"),
        (send_inactive_client, "unknown_client"),
        (send_no_secret, "missing_secret"),
        (send_secret_from_public_client, "secret_from_public_client"),
        (send_malformed_header, "malformed_header"),
        (send_no_client_id, "missing_client_id"),
        (send_mismatched_client_ids, "client_id_mismatch"),
    ],
)
def test_failed_client_authentication_is_signalled(
    api_client, oauth_client, public_client, recorded, send, reason
):
    response, claimed_id = send(api_client, oauth_client, public_client)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    [(sender, kwargs)] = recorded.of("client_authentication_failed")
    assert sender is Client
    assert kwargs == {"client_id": claimed_id, "reason": reason, "remote_addr": REMOTE_ADDR}
    assert recorded.names() == ["client_authentication_failed"]
    assert_carries_no_secret(recorded, WRONG_SECRET, oauth_client.secret, oauth_client.client_secret_hash)


def test_successful_client_authentication_is_not_signalled(api_client, oauth_client, recorded):
    response = token_request(api_client, oauth_client, grant_data())

    assert response.json()["error"] == "invalid_grant"  # the client was fine, the code was not
    assert recorded.of("client_authentication_failed") == []


def test_two_authentication_methods_is_invalid_request_not_a_failed_authentication(
    api_client, oauth_client, recorded
):
    response = token_request(api_client, oauth_client, grant_data(client_secret=oauth_client.secret))

    assert response.json()["error"] == "invalid_request"
    assert recorded.of("client_authentication_failed") == []
