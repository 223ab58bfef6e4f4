"""Adversarial: the revocation stream must never let a process trust a JWT
access token that the database would refuse, whenever the process started
(a new worker, a restart, a resubscription after a lost connection)."""

import pytest

from oauth_provider import bearer, revocation_stream, token_lookup
from oauth_provider.errors import InvalidBearerToken
from oauth_provider.revocation import RevocationReason, end_grants, revoke_tokens

from .factories import AccessTokenFactory, JWTAccessTokenFactory, UserFactory
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


@pytest.fixture
def lagging_database(monkeypatch):
    """The database path reads rows as they were before (a read replica
    behind the primary: ``RESOURCE_SERVER`` reads honour the routers)."""

    def freeze(token):
        stale = token_lookup.PROTECTED.fetch(token.token_hash)
        monkeypatch.setattr(token_lookup.PROTECTED, "fetch", lambda token_hash: stale)

    return freeze


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("factory", [AccessTokenFactory, JWTAccessTokenFactory])
def test_a_token_the_stream_revoked_is_refused_even_if_the_database_lags(
    redis_stream, lagging_database, factory
):
    token = factory(user=UserFactory())
    lagging_database(token)
    revoke_tokens([token], reason=RevocationReason.REVOKED)
    assert token.token_hash in redis_stream.state.denied
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("factory", [AccessTokenFactory, JWTAccessTokenFactory])
def test_a_password_change_heard_is_refused_even_if_the_database_lags(
    redis_stream, lagging_database, frozen_clock, factory
):
    token = factory(user=UserFactory())
    lagging_database(token)
    frozen_clock.advance(seconds=2)  # the not-before time is in a later second than the token's
    end_grants(user=token.user, reason=RevocationReason.PASSWORD_CHANGED)
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_a_row_read_just_before_its_user_changed_is_not_remembered(redis_stream, monkeypatch):
    """The request reads the token's row, the user loses ``is_staff`` (a
    ``changed`` event, heard here), then the request remembers what it read:
    the next request must see the user as it is now."""
    token = AccessTokenFactory(user=UserFactory(is_staff=True))
    fetch = token_lookup.PROTECTED.fetch

    def fetch_then_change(token_hash):
        found = fetch(token_hash)
        token.user.is_staff = False
        token.user.save()
        return found

    monkeypatch.setattr(token_lookup.PROTECTED, "fetch", fetch_then_change)
    bearer.authenticate(token.value)
    monkeypatch.undo()
    assert bearer.authenticate(token.value).user.is_staff is False
