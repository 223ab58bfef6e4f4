"""Revocation reaches every worker process: gunicorn with 2 workers, the real
Redis and the real PostgreSQL LISTEN/NOTIFY.

The workers (``tests.stream_site``) share the test's PostgreSQL database,
whose rows a ``transaction=True`` test commits. Each case first makes both
workers remember a token (a hit costs them no query), then revokes it here
in one of the ways a token ends, and shows every worker refuses it. Then the
subscriptions are killed on the server (``CLIENT KILL`` of the listeners'
pub/sub connections, ``pg_terminate_backend`` of the LISTEN connections):
the workers stop trusting memory and answer from the database (still
correct, never stale) until they have subscribed and resynchronised again.
"""

import pytest
from django.db import connection

from oauth_provider import clock
from oauth_provider.consents import withdraw_consent
from oauth_provider.models import AccessToken
from oauth_provider.revocation import RevocationReason, revoke_tokens

from .factories import AccessTokenFactory, ConsentFactory
from .gunicorn_site import Answer, GunicornSite
from .stream_helpers import kill_redis_subscriptions, postgresql_config, redis_config

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

WORKERS = 2
# Requests, at most, to see every worker answer a certain way (the kernel
# picks the worker; a condition none reaches in this many has failed).
ATTEMPTS = 2000
# Requests that must all be refused once every worker has refused once.
AFTERWARDS = 20
ME = "/api/me/"


@pytest.fixture(scope="module", params=["redis", "postgresql"])
def site(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """Gunicorn on the test database and a stream of its own; ``site.gate``
    is the file whose absence keeps its workers from subscribing."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("the workers share the test's database: needs DATABASE_URL=postgres://...")
        config = redis_config() if request.param == "redis" else postgresql_config()
        database = connection.settings_dict["NAME"]
    gate = tmp_path_factory.mktemp("gate") / "open"
    gate.touch()
    with GunicornSite(database=database, config=config, workers=WORKERS, gate=str(gate)) as running:
        running.config = config
        running.gate = gate
        yield running


@pytest.fixture
def publishing(site, settings):
    """This process publishes on the site's stream (and never listens)."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REVOCATION_STREAM": site.config}


def until_every_worker(site, token, predicate) -> dict[int, Answer]:
    """Ask until each worker has given an answer ``predicate`` accepts; those answers."""
    seen: dict[int, Answer] = {}
    for _ in range(ATTEMPTS):
        answer = site.get(ME, token)
        if predicate(answer):
            seen[answer.worker] = answer
            if len(seen) == WORKERS:
                return seen
    raise AssertionError(f"only workers {sorted(seen)} did, in {ATTEMPTS} requests")


def remembered_everywhere(site, token):
    until_every_worker(site, token, lambda a: a.status == 200 and a.trusted and a.remembered)


def refused_everywhere(site, token):
    """Every worker refuses ``token``, and keeps refusing it."""
    until_every_worker(site, token, lambda a: a.status == 401)
    assert {site.get(ME, token).status for _ in range(AFTERWARDS)} == {401}


def revoke(token):
    revoke_tokens([token], reason=RevocationReason.REVOKED)


def deactivate_user(token):
    token.user.is_active = False
    token.user.save()


def deactivate_client(token):
    token.client.is_active = False
    token.client.save()


def withdraw(token):
    withdraw_consent(ConsentFactory(client=token.client, user=token.user))


@pytest.mark.parametrize("end", [revoke, deactivate_user, deactivate_client, withdraw])
def test_every_worker_refuses_an_ended_token_it_remembered(site, publishing, end):
    token, bystander = AccessTokenFactory(), AccessTokenFactory()
    remembered_everywhere(site, token.value)
    remembered_everywhere(site, bystander.value)
    end(token)
    refused_everywhere(site, token.value)
    # Nothing else was ended: the other token is still served from memory.
    remembered_everywhere(site, bystander.value)


def kill_subscriptions(site):
    if site.config["ENGINE"] == "redis":
        assert kill_redis_subscriptions() >= WORKERS
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                ["oauth_provider-revocations"],
            )
            assert cursor.fetchone()[0] >= WORKERS


def test_workers_that_lost_their_subscription_fall_back_to_the_database(site, publishing):
    valid, missed = AccessTokenFactory(), AccessTokenFactory()
    for token in (valid, missed):
        remembered_everywhere(site, token.value)
    site.gate.unlink()
    try:
        kill_subscriptions(site)
        # Not trusted, nothing remembered: every answer comes from the database.
        until_every_worker(
            site, valid.value, lambda a: a.status == 200 and not a.trusted and not a.remembered
        )
        # Revoked meanwhile without any process hearing it (its event is lost).
        AccessToken.objects.filter(pk=missed.pk).update(revoked_at=clock.now())
        refused_everywhere(site, missed.value)
        answers = [site.get(ME, valid.value) for _ in range(AFTERWARDS)]
        assert {(a.status, a.trusted, a.remembered) for a in answers} == {(200, False, False)}
    finally:
        site.gate.touch()
    # Subscribed and resynchronised again: trusted, remembering, and the
    # revocation it never heard of is in its deny list (loaded from the database).
    remembered_everywhere(site, valid.value)
    until_every_worker(site, missed.value, lambda a: a.status == 401 and a.trusted)
    assert {site.get(ME, missed.value).status for _ in range(AFTERWARDS)} == {401}
