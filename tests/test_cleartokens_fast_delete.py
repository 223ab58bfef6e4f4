"""``manage.py cleartokens`` deletes tokens without Django's deletion collector,
leaving nothing pointing at a deleted row, and falls back to the collector
when a project listens to the delete signals."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext

from oauth_provider.models import AccessToken, RefreshToken

from .factories import AccessTokenFactory, RefreshTokenFactory

pytestmark = pytest.mark.django_db


def cleartokens(*args):
    call_command("cleartokens", *args, stdout=StringIO())


@pytest.fixture
def past(frozen_clock):
    return frozen_clock() - timedelta(seconds=1)


def test_loads_no_token_row(past, oauth_client):
    """Only primary keys are read: the collector would SELECT every column of
    every row it deletes, and of every refresh token pointing at one."""
    for _ in range(3):
        access = AccessTokenFactory(client=oauth_client, expires_at=past)
        RefreshTokenFactory(client=oauth_client, access_token=access, expires_at=past)

    with CaptureQueriesContext(connection) as queries:
        cleartokens()

    tables = (AccessToken._meta.db_table, RefreshToken._meta.db_table)
    selects = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and any(t in q["sql"] for t in tables)
    ]
    assert selects
    assert not [sql for sql in selects if "token_hash" in sql]
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()


def test_nothing_is_left_pointing_at_a_deleted_token(past, oauth_client):
    """Live refresh tokens whose access token or predecessor went keep
    working, with the reference set to NULL (SET_NULL, as the models say)."""
    expired_access = AccessTokenFactory(client=oauth_client, expires_at=past)
    expired_refresh = RefreshTokenFactory(client=oauth_client, expires_at=past)
    live = RefreshTokenFactory(client=oauth_client, access_token=expired_access, previous=expired_refresh)
    # A successor that goes in the same batch as its predecessor, and one in another batch.
    chain = [RefreshTokenFactory(client=oauth_client, expires_at=past)]
    for _ in range(3):
        chain.append(RefreshTokenFactory(client=oauth_client, expires_at=past, previous=chain[-1]))

    cleartokens("--batch-size", "2")

    live.refresh_from_db()
    assert (live.access_token_id, live.previous_id) == (None, None)
    assert list(RefreshToken.objects.all()) == [live]
    assert not AccessToken.objects.exists()
    connection.check_constraints()  # no foreign key points at a missing row


def first_write_of_batch(sql):
    """The DELETE of access tokens, or the UPDATE of the refresh tokens pointing at them."""
    return sql.startswith(("DELETE", "UPDATE")) and AccessToken._meta.db_table in sql


@pytest.mark.parametrize(
    "moment",
    [
        lambda sql: sql.startswith(f'SELECT "{AccessToken._meta.db_table}"."id"'),  # after the read
        first_write_of_batch,  # between the batch's statements
    ],
    ids=["after the read", "between the statements"],
)
def test_token_revoked_during_its_batch_leaves_nothing_dangling(moment, past, oauth_client, frozen_clock):
    """A token that becomes deletable while its batch is being deleted goes
    with what points at it set to NULL, or stays for the next run; never
    goes with a reference to it left behind."""
    first = AccessTokenFactory(client=oauth_client, expires_at=past)
    revoked_meanwhile = AccessTokenFactory(client=oauth_client)
    last = AccessTokenFactory(client=oauth_client, expires_at=past)
    refresh = RefreshTokenFactory(client=oauth_client, access_token=revoked_meanwhile)
    revoked = []

    def revoke_meanwhile(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if moment(sql) and not revoked:
            revoked.append(None)  # once: the UPDATE below comes through here too
            revoked[0] = AccessToken.objects.filter(pk=revoked_meanwhile.pk).update(revoked_at=frozen_clock())
        return result

    with connection.execute_wrapper(revoke_meanwhile):
        cleartokens()

    assert revoked == [1]
    assert not AccessToken.objects.filter(pk__in=[first.pk, last.pk]).exists()
    refresh.refresh_from_db()
    assert refresh.access_token_id in (None, revoked_meanwhile.pk)
    connection.check_constraints()  # no foreign key points at a missing row


def test_newer_token_expiring_after_the_read_waits_for_the_next_run(past, oauth_client, frozen_clock):
    """A batch is the range of primary keys it read: a newer token that
    becomes deletable meanwhile is not deleted without what points at it
    being set to NULL."""
    AccessTokenFactory(client=oauth_client, expires_at=past)
    newest = AccessTokenFactory(client=oauth_client)
    refresh = RefreshTokenFactory(client=oauth_client, access_token=newest)
    table = AccessToken._meta.db_table

    def expire_after_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith(f'SELECT "{table}"."id"') and newest.expires_at != past:
            newest.expires_at = past
            newest.save(update_fields=["expires_at"])
        return result

    with connection.execute_wrapper(expire_after_read):
        cleartokens()

    assert list(AccessToken.objects.all()) == [newest]
    refresh.refresh_from_db()
    assert refresh.access_token_id == newest.pk
    connection.check_constraints()
    cleartokens()  # the next run
    refresh.refresh_from_db()
    assert (AccessToken.objects.count(), refresh.access_token_id) == (0, None)


def test_delete_signal_receivers_still_get_every_deleted_token(past, oauth_client):
    """A project listening to post_delete of tokens gets its signals: the
    command then lets Django's collector delete them."""
    deleted = []

    def receiver(sender, instance, **kwargs):
        deleted.append(instance.pk)

    expired = [AccessTokenFactory(client=oauth_client, expires_at=past) for _ in range(3)]
    live = AccessTokenFactory(client=oauth_client)
    refresh = RefreshTokenFactory(client=oauth_client, access_token=expired[0])
    post_delete.connect(receiver, sender=AccessToken, weak=False, dispatch_uid="cleartokens-test")
    try:
        cleartokens("--batch-size", "2")
    finally:
        post_delete.disconnect(sender=AccessToken, dispatch_uid="cleartokens-test")

    assert sorted(deleted) == sorted(token.pk for token in expired)
    assert list(AccessToken.objects.all()) == [live]
    refresh.refresh_from_db()
    assert refresh.access_token_id is None
