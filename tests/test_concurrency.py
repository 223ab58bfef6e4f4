"""One code, refresh token or device code redeemed by many requests at once yields one success;
an initial access token registers no more clients than it allows;
an owner's edit racing an admin's approval is never approved unseen.

These need PostgreSQL: SQLite serialises writers, so it proves nothing.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.urls import reverse
from rest_framework.test import APIClient

from oauth_provider.backchannel_logout import end_sign_ins
from oauth_provider.consents import withdraw_consent
from oauth_provider.models import (
    AccessToken,
    Client,
    Consent,
    DeviceAuthorization,
    InitialAccessToken,
    RefreshToken,
    SignIn,
)
from oauth_provider.settings import DEVICE_CODE, REFRESH_TOKEN
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    SignInFactory,
)
from tests.helpers import REDIRECT_URI, basic_auth, hidden_fields, post_token
from tests.registration_helpers import metadata, post_json

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(data, client):
    """POST ``data`` to the token endpoint from THREADS threads released together."""
    barrier = threading.Barrier(THREADS)
    auth = basic_auth(client.client_id, client.secret)

    def attempt(_):
        try:
            barrier.wait()
            response = post_token(APIClient(), data, HTTP_AUTHORIZATION=auth)
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


def test_one_code_redeemed_concurrently_succeeds_once(user):
    code = AuthorizationCodeFactory(user=user)
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
    results = race(data, code.client)
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [400] * (THREADS - 1)
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    # Exactly one access token was ever issued (and revoked again by the replays).
    assert AccessToken.objects.filter(family_id=code.family_id).count() == 1


def test_one_refresh_token_used_concurrently_rotates_once(user):
    access = AccessTokenFactory(user=user)
    token = RefreshTokenFactory(
        client=access.client, user=user, access_token=access, family_id=access.family_id
    )
    data = {"grant_type": "refresh_token", "refresh_token": token.value}
    results = race(data, token.client)
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [400] * (THREADS - 1)
    assert AccessToken.objects.filter(family_id=token.family_id).count() == 2  # the original + one rotation


# RFC 8628 §3.4-§3.5: polling.


def test_approved_device_code_polled_concurrently_gets_tokens_once(user):
    client = ClientFactory(grant_types=[DEVICE_CODE, REFRESH_TOKEN])
    authorization = DeviceAuthorizationFactory(
        client=client, user=user, status=DeviceAuthorization.Status.APPROVED
    )
    results = race({"grant_type": DEVICE_CODE, "device_code": authorization.value}, client)
    successes = [body for status, body in results if status == 200]
    assert len(successes) == 1
    assert all(body["error"] in {"invalid_grant", "slow_down"} for status, body in results if status != 200)
    assert AccessToken.objects.filter(family_id=authorization.family_id).count() == 1
    # The one token issued stays valid: losing the race is not a replay.
    assert AccessToken.objects.get().revoked_at is None


def test_pending_device_code_polled_concurrently_is_on_time_once(user):
    client = ClientFactory(grant_types=[DEVICE_CODE])
    authorization = DeviceAuthorizationFactory(client=client)
    results = race({"grant_type": DEVICE_CODE, "device_code": authorization.value}, client)
    errors = sorted(body["error"] for _status, body in results)
    assert errors == ["authorization_pending"] + ["slow_down"] * (THREADS - 1)
    authorization.refresh_from_db()
    # Every poll that came too soon added its 5 seconds (§3.5).
    assert authorization.interval == 5 + 5 * (THREADS - 1)


# Withdrawing consent (consents.withdraw_consent), or signing out of the
# session an authorization was made in (backchannel_logout.end_sign_ins),
# while the app is redeeming or rotating: whichever commits first, the app
# must end up with no live token.

ROUNDS = 8


def race_token_request(client, data, action):
    """Run ``action`` while the token endpoint handles ``data``, released together."""
    barrier = threading.Barrier(2)
    auth = basic_auth(client.client_id, client.secret)

    def redeem():
        try:
            barrier.wait()
            return post_token(APIClient(), data, HTTP_AUTHORIZATION=auth).status_code
        finally:
            connections.close_all()

    def act():
        try:
            barrier.wait()
            action()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        redeemed, acted = pool.submit(redeem), pool.submit(act)
        acted.result()
        return redeemed.result()


def race_withdrawal(consent, data):
    """Withdraw ``consent`` while the token endpoint handles ``data``."""
    return race_token_request(
        consent.client,
        data,
        lambda: withdraw_consent(Consent.objects.select_related("client").get(pk=consent.pk)),
    )


def live_tokens(client, user):
    return sum(
        model.objects.filter(client=client, user=user, revoked_at__isnull=True).count()
        for model in (AccessToken, RefreshToken)
    )


def test_withdrawal_racing_a_rotation_leaves_no_live_token(user):
    statuses = []
    for _ in range(ROUNDS):
        consent = ConsentFactory(user=user)
        token = RefreshTokenFactory(client=consent.client, user=user)
        statuses.append(
            race_withdrawal(consent, {"grant_type": "refresh_token", "refresh_token": token.value})
        )
        assert live_tokens(consent.client, user) == 0
    assert set(statuses) <= {200, 400}


def test_withdrawal_racing_a_code_exchange_leaves_no_live_token(user):
    statuses = []
    for _ in range(ROUNDS):
        consent = ConsentFactory(user=user)
        code = AuthorizationCodeFactory(client=consent.client, user=user)
        data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
        statuses.append(race_withdrawal(consent, data))
        assert live_tokens(consent.client, user) == 0
    assert set(statuses) <= {200, 400}


def test_sign_out_racing_a_code_exchange_leaves_no_live_token(user):
    """The code ends with its session (backchannel_logout), or it was redeemed
    first and its tokens are revoked with the session."""
    statuses = []
    for round_ in range(ROUNDS):
        code = AuthorizationCodeFactory(user=user, scope="openid read")
        sid = f"session-{round_}"
        SignInFactory(client=code.client, user=user, family_id=code.family_id, sid=sid)
        data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
        statuses.append(
            race_token_request(
                code.client,
                data,
                lambda sid=sid: end_sign_ins(SignIn.objects.filter(sid=sid), issuer=None, revoke=True),
            )
        )
        assert live_tokens(code.client, user) == 0
    assert set(statuses) <= {200, 400}


def test_an_owner_edit_between_the_digest_check_and_the_approval_is_not_approved(admin_client, monkeypatch):
    """The admin's approval holds the client's row from the digest check to the save,
    so an owner's edit (the stale full save the self-service form makes) lands after it."""
    client = ClientFactory(name="Photo Printer", is_active=False, awaiting_approval=True)
    changelist = reverse("admin:oauth_provider_client_changelist")
    page = admin_client.post(changelist, {"action": "approve_selected", "_selected_action": [client.pk]})
    edits = []

    def owner_edit():
        try:
            Client.objects.filter(pk=client.pk).update(
                name="Evil Printer", awaiting_approval=True, is_active=False
            )
        finally:
            connections.close_all()

    checked = Client.has_review_digest

    def check_then_edit(self, digest):
        matches = checked(self, digest)
        edit = threading.Thread(target=owner_edit)
        edit.start()
        edit.join(timeout=0.5)  # returns at once unless the row is locked
        edits.append(edit)
        return matches

    monkeypatch.setattr(Client, "has_review_digest", check_then_edit)

    admin_client.post(changelist, hidden_fields(page))
    for edit in edits:
        edit.join()

    client.refresh_from_db()
    assert client.name == "Evil Printer"
    assert client.awaiting_approval and not client.is_active


# RFC 7591 §3: an initial access token allowing N registrations.


def test_an_initial_access_token_registers_no_more_clients_than_it_allows(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "REGISTRATION_POLICY": "initial_access_token",
        "REGISTRATION_MAX_REQUESTS": THREADS,
    }
    token = InitialAccessToken(description="race", max_uses=3)
    value = token.set_token()
    token.save()
    barrier = threading.Barrier(THREADS)

    def attempt(_):
        try:
            barrier.wait()
            return post_json(APIClient(), metadata(), HTTP_AUTHORIZATION=f"Bearer {value}").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = sorted(pool.map(attempt, range(THREADS)))

    assert statuses == [201] * 3 + [401] * (THREADS - 3)
    assert Client.objects.count() == 3
    token.refresh_from_db()
    assert token.use_count == 3
