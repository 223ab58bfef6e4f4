"""One code or one refresh token redeemed by many requests at once yields one success.

These need PostgreSQL: SQLite serialises writers, so it proves nothing.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from oauth_provider.models import AccessToken
from tests.factories import AccessTokenFactory, AuthorizationCodeFactory, RefreshTokenFactory
from tests.helpers import REDIRECT_URI, basic_auth, post_token

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
