"""Authorization code grant at the token endpoint (RFC 6749 §4.1.3-§4.1.4, RFC 7636 §4.5-§4.6)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, AuthorizationCode, RefreshToken
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    PublicClientFactory,
    UserFactory,
)
from tests.helpers import REDIRECT_URI, basic_auth, pkce_pair, post_token, request_cost

pytestmark = pytest.mark.django_db


def redeem(api_client, code, client=None, **params):
    client = client or code.client
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI, **params}
    data = {key: value for key, value in data.items() if value is not None}
    if client.is_confidential:
        return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))
    return post_token(api_client, {**data, "client_id": client.client_id})


def assert_invalid_grant(response):
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


def test_code_is_exchanged_for_tokens(api_client, user, frozen_clock):
    code = AuthorizationCodeFactory(user=user, scope="read write")
    response = redeem(api_client, code)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read write"
    assert body["access_token"].startswith("opat_")
    assert body["refresh_token"].startswith("oprt_")
    access = AccessToken.objects.get(token_hash=hash_secret(body["access_token"]))
    assert (access.client, access.user, access.scope) == (code.client, user, "read write")
    assert access.expires_at == frozen_clock.current + timedelta(seconds=3600)
    assert access.family_id == code.family_id
    refresh = RefreshToken.objects.get(token_hash=hash_secret(body["refresh_token"]))
    assert refresh.access_token == access
    assert refresh.expires_at == frozen_clock.current + timedelta(days=30)
    code.refresh_from_db()
    assert code.used_at is not None


def test_no_refresh_token_for_a_client_without_the_refresh_grant(api_client, user):
    app = ClientFactory(grant_types=["authorization_code"])
    body = redeem(api_client, AuthorizationCodeFactory(client=app, user=user)).json()
    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


def test_lifetimes_follow_settings(api_client, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 120}
    assert redeem(api_client, AuthorizationCodeFactory(user=user)).json()["expires_in"] == 120


def test_unknown_code_is_invalid_grant(api_client, oauth_client):
    data = {"grant_type": "authorization_code", "code": "opac_unknown", "redirect_uri": REDIRECT_URI}
    response = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert_invalid_grant(response)


def test_missing_code_is_invalid_request(api_client, oauth_client):
    data = {"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}
    response = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_code_issued_to_another_client_is_invalid_grant(api_client, user):
    code = AuthorizationCodeFactory(user=user)
    assert_invalid_grant(redeem(api_client, code, client=ClientFactory()))
    assert AuthorizationCode.objects.get(pk=code.pk).used_at is None
    assert redeem(api_client, code).status_code == 200  # the rightful client still can


def test_expired_code_is_invalid_grant(api_client, user, frozen_clock):
    code = AuthorizationCodeFactory(user=user)
    frozen_clock.advance(seconds=61)
    assert_invalid_grant(redeem(api_client, code))
    assert not AccessToken.objects.exists()


def test_code_works_until_it_expires(api_client, user, frozen_clock):
    code = AuthorizationCodeFactory(user=user)
    frozen_clock.advance(seconds=59)
    assert redeem(api_client, code).status_code == 200


def test_second_redemption_fails_and_revokes_the_tokens_issued(api_client, user):
    code = AuthorizationCodeFactory(user=user)
    first = redeem(api_client, code).json()
    assert_invalid_grant(redeem(api_client, code))
    for model, value in ((AccessToken, first["access_token"]), (RefreshToken, first["refresh_token"])):
        assert model.objects.get(token_hash=hash_secret(value)).revoked_at is not None
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert me.status_code == 401


def test_replay_does_not_touch_other_authorizations(api_client, user):
    code, other = AuthorizationCodeFactory(user=user), AuthorizationCodeFactory(user=user)
    redeem(api_client, code)
    other_tokens = redeem(api_client, other).json()
    redeem(api_client, code)
    assert AccessToken.objects.get(token_hash=hash_secret(other_tokens["access_token"])).revoked_at is None


@pytest.mark.parametrize(
    "redirect_uri",
    [None, REDIRECT_URI + "/", "https://client.example.com/other", "https://evil.com/callback"],
)
def test_redirect_uri_must_equal_the_authorization_requests(api_client, user, redirect_uri):
    code = AuthorizationCodeFactory(user=user)
    assert_invalid_grant(redeem(api_client, code, redirect_uri=redirect_uri))


def test_redirect_uri_may_be_omitted_when_it_was_omitted_at_authorization(api_client, user):
    code = AuthorizationCodeFactory(user=user, redirect_uri_provided=False)
    assert redeem(api_client, code, redirect_uri=None).status_code == 200


def test_inactive_user_cannot_redeem(api_client, user):
    code = AuthorizationCodeFactory(user=user)
    user.is_active = False
    user.save()
    assert_invalid_grant(redeem(api_client, code))


# -- PKCE ---------------------------------------------------------------------------------------


@pytest.fixture
def pkce_code(user):
    verifier, challenge = pkce_pair()
    public = PublicClientFactory(redirect_uris=REDIRECT_URI)
    code = AuthorizationCodeFactory(
        client=public, user=user, code_challenge=challenge, code_challenge_method="S256"
    )
    code.verifier = verifier
    return code


def test_public_client_redeems_with_the_right_verifier(api_client, pkce_code):
    response = redeem(api_client, pkce_code, code_verifier=pkce_code.verifier)
    assert response.status_code == 200
    assert "access_token" in response.json()


@pytest.mark.parametrize("verifier", [None, "x" * 43, "short", "a" * 127 + "=", "é" * 50])
def test_wrong_missing_or_malformed_verifier_is_invalid_grant(api_client, pkce_code, verifier):
    assert_invalid_grant(redeem(api_client, pkce_code, code_verifier=verifier))
    assert not AccessToken.objects.exists()


def test_verifier_over_the_length_limit_is_invalid_request(api_client, pkce_code):
    # RFC 7636 §4.1: at most 128 characters, which is also this parameter's limit.
    response = redeem(api_client, pkce_code, code_verifier="a" * 129)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()


def test_failed_verifier_does_not_burn_the_code(api_client, pkce_code):
    assert_invalid_grant(redeem(api_client, pkce_code, code_verifier="x" * 43))
    assert redeem(api_client, pkce_code, code_verifier=pkce_code.verifier).status_code == 200


def test_plain_challenge_verifies_when_it_was_accepted(api_client, user):
    verifier, _challenge = pkce_pair()
    code = AuthorizationCodeFactory(user=user, code_challenge=verifier, code_challenge_method="plain")
    assert redeem(api_client, code, code_verifier=verifier).status_code == 200


def test_verifier_for_a_code_without_challenge_is_refused(api_client, user):
    # RFC 9700 §4.8.2: PKCE downgrade.
    code = AuthorizationCodeFactory(user=user)
    verifier, _challenge = pkce_pair()
    assert_invalid_grant(redeem(api_client, code, code_verifier=verifier))


def test_code_row_holds_only_the_hash(user):
    code = AuthorizationCodeFactory(user=user)
    row = AuthorizationCode.objects.filter(pk=code.pk).values().get()
    assert code.value not in str(row)
    assert row["token_hash"] == hash_secret(code.value)


def test_exchange_costs_five_statements_in_one_transaction(api_client, user):
    # The client and the code, read; then the claim UPDATE and both INSERTs, committed together.
    code = AuthorizationCodeFactory(user=user)
    with CaptureQueriesContext(connection) as queries:
        assert redeem(api_client, code).status_code == 200
    assert request_cost(queries) == (5, 1)


# -- codes ended other than by redemption -----------------------------------------------------


def signals_during(action):
    """The authorization_code_reused and token_revoked signals sent while ``action`` runs."""
    from oauth_provider.signals import authorization_code_reused, token_revoked

    sent = []
    receivers = {
        authorization_code_reused: lambda sender, **kw: sent.append("authorization_code_reused"),
        token_revoked: lambda sender, reason, **kw: sent.append(f"token_revoked:{reason}"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False, dispatch_uid="end-test")
    try:
        return action(), sent
    finally:
        for signal in receivers:
            signal.disconnect(dispatch_uid="end-test")


def withdraw(code):
    from oauth_provider.consents import withdraw_consent
    from tests.factories import ConsentFactory

    withdraw_consent(ConsentFactory(user=code.user, client=code.client))


def admin_revoke(code):
    from django.contrib.admin.sites import site

    site._registry[AuthorizationCode].end_early(AuthorizationCode.objects.filter(pk=code.pk))


def change_password(code):
    code.user.set_password("a brand new password")
    code.user.save()


@pytest.mark.parametrize(
    ("end", "reason"),
    [(withdraw, "consent_withdrawn"), (admin_revoke, "revoked"), (change_password, "password_changed")],
)
def test_a_code_ended_otherwise_is_invalid_grant_without_replay_handling(api_client, user, end, reason):
    code = AuthorizationCodeFactory(user=user)
    # A token of the same family stands for anything a replay would revoke.
    sibling = AccessTokenFactory(client=code.client, user=UserFactory(), family_id=code.family_id)
    end(code)
    assert AuthorizationCode.objects.get(pk=code.pk).end_reason == reason
    response, sent = signals_during(lambda: redeem(api_client, code))
    assert_invalid_grant(response)
    assert response.json()["error_description"] == "The authorization code is no longer valid."
    assert sent == []
    sibling.refresh_from_db()
    assert sibling.revoked_at is None


def test_a_redeemed_code_records_why_it_ended(api_client, user):
    code = AuthorizationCodeFactory(user=user)
    assert redeem(api_client, code).status_code == 200
    code.refresh_from_db()
    assert code.end_reason == AuthorizationCode.EndReason.REDEEMED


def test_a_redeemed_code_coming_back_is_still_a_replay(api_client, user):
    code = AuthorizationCodeFactory(user=user)
    access = redeem(api_client, code).json()["access_token"]
    response, sent = signals_during(lambda: redeem(api_client, code))
    assert_invalid_grant(response)
    assert response.json()["error_description"] == "The authorization code was already used."
    assert sent == ["token_revoked:reuse", "token_revoked:reuse", "authorization_code_reused"]
    assert AccessToken.objects.get(token_hash=hash_secret(access)).revoked_at is not None


def test_a_code_withdrawn_between_lookup_and_claim_is_not_a_replay(api_client, user, monkeypatch):
    """The conditional UPDATE loses to a withdrawal that came after the lookup."""
    from oauth_provider.grants.authorization_code import AuthorizationCodeGrant

    code = AuthorizationCodeFactory(user=user)
    sibling = AccessTokenFactory(client=code.client, user=UserFactory(), family_id=code.family_id)
    looked_up = AuthorizationCodeGrant.credential

    def credential_then_withdrawal(self, *args, **kwargs):
        found = looked_up(self, *args, **kwargs)
        withdraw(code)
        return found

    monkeypatch.setattr(AuthorizationCodeGrant, "credential", credential_then_withdrawal)
    response, sent = signals_during(lambda: redeem(api_client, code))
    assert_invalid_grant(response)
    assert "authorization_code_reused" not in sent
    sibling.refresh_from_db()
    assert sibling.revoked_at is None
