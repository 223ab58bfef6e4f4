"""Adversarial: the revocation stream must never let a process trust a JWT
access token that the database would refuse, whenever the process started
(a new worker, a restart, a resubscription after a lost connection)."""

import pytest

from oauth_provider import bearer, revocation_stream
from oauth_provider.errors import InvalidBearerToken

from .factories import JWTAccessTokenFactory, UserFactory
from .stream_helpers import redis_config, use_stream


def authenticates(value):
    try:
        bearer.authenticate(value)
    except InvalidBearerToken:
        return False
    return True


@pytest.fixture
def started_later(settings):
    """Start this process's listener only when called: a worker started (or
    resubscribed) after the event it would have heard."""
    yield lambda: use_stream(settings, redis_config())
    revocation_stream.stop()


@pytest.mark.django_db(transaction=True)
def test_a_jwt_of_a_deleted_user_is_refused_by_a_process_started_afterwards(started_later):
    token = JWTAccessTokenFactory(user=UserFactory())
    token.user.delete()  # its tokens go with it (CASCADE)
    started_later()
    assert revocation_stream.trusted()
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_a_jwt_of_a_deleted_client_is_refused_by_a_process_started_afterwards(started_later):
    token = JWTAccessTokenFactory(user=UserFactory())
    token.client.delete()
    started_later()
    assert revocation_stream.trusted()
    assert not authenticates(token.value)
