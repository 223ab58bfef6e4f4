"""``manage.py cleartokens``: what may go, what must stay, in bounded batches."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_provider import signing_keys
from oauth_provider.crypto import hash_secret
from oauth_provider.models import (
    AccessToken,
    AuthorizationCode,
    DeviceAuthorization,
    RefreshToken,
    SignIn,
    SigningKey,
)

from .factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
)
from .helpers import basic_auth, post_token

pytestmark = pytest.mark.django_db

MODELS = [AccessToken, RefreshToken, AuthorizationCode, DeviceAuthorization]


def cleartokens(*args):
    out = StringIO()
    call_command("cleartokens", *args, stdout=out)
    return out.getvalue()


def pks(model):
    return set(model.objects.values_list("pk", flat=True))


@pytest.fixture
def rows(frozen_clock, oauth_client):
    """One row of each kind and state, named by whether it must survive."""
    now = frozen_clock()
    past, soon = now - timedelta(seconds=1), now + timedelta(seconds=30)
    live_access = AccessTokenFactory(client=oauth_client)
    denied = DeviceAuthorization.Status.DENIED
    approved = DeviceAuthorization.Status.APPROVED
    return {
        "keep": [
            live_access,
            RefreshTokenFactory(client=oauth_client, access_token=live_access),
            # Revoked by rotation but unexpired: a replay must still revoke the family.
            RefreshTokenFactory(client=oauth_client, revoked_at=now),
            # Revoked but unexpired: the revocation stream's deny list is loaded from it.
            AccessTokenFactory(client=oauth_client, revoked_at=now),
            AuthorizationCodeFactory(client=oauth_client),
            # Used but unexpired: a replay must still revoke what it was exchanged for.
            AuthorizationCodeFactory(client=oauth_client, used_at=now, expires_at=soon),
            DeviceAuthorizationFactory(client=oauth_client),
            DeviceAuthorizationFactory(client=oauth_client, status=denied, decided_at=now),
            DeviceAuthorizationFactory(client=oauth_client, status=approved, used_at=now),
        ],
        "delete": [
            AccessTokenFactory(client=oauth_client, expires_at=past),
            AccessTokenFactory(client=oauth_client, revoked_at=now, expires_at=past),
            RefreshTokenFactory(client=oauth_client, expires_at=past),
            RefreshTokenFactory(client=oauth_client, revoked_at=now, expires_at=past),
            AuthorizationCodeFactory(client=oauth_client, expires_at=past),
            AuthorizationCodeFactory(client=oauth_client, used_at=now, expires_at=past),
            DeviceAuthorizationFactory(client=oauth_client, expires_at=past),
            DeviceAuthorizationFactory(client=oauth_client, status=denied, expires_at=past),
            DeviceAuthorizationFactory(client=oauth_client, status=approved, used_at=now, expires_at=past),
        ],
    }


def test_deletes_what_can_never_be_used_again_and_keeps_the_rest(rows):
    cleartokens()

    for model in MODELS:
        assert pks(model) == {row.pk for row in rows["keep"] if isinstance(row, model)}, model


def test_reports_count_per_kind(rows):
    output = cleartokens()

    assert output.splitlines() == [
        "Deleted 2 refresh tokens.",
        "Deleted 2 access tokens.",
        "Deleted 2 authorization codes.",
        "Deleted 3 device authorizations.",
        "Deleted 0 sign-ins.",
        "Deleted 0 signing keys.",
    ]


def test_second_run_deletes_nothing(rows):
    cleartokens()
    before = {model: pks(model) for model in MODELS}

    output = cleartokens()

    assert {model: pks(model) for model in MODELS} == before
    assert output.splitlines() == [
        "Deleted 0 refresh tokens.",
        "Deleted 0 access tokens.",
        "Deleted 0 authorization codes.",
        "Deleted 0 device authorizations.",
        "Deleted 0 sign-ins.",
        "Deleted 0 signing keys.",
    ]


def test_dry_run_counts_and_deletes_nothing(rows):
    before = {model: pks(model) for model in MODELS}

    output = cleartokens("--dry-run")

    assert {model: pks(model) for model in MODELS} == before
    assert output.splitlines() == [
        "Would delete 2 refresh tokens.",
        "Would delete 2 access tokens.",
        "Would delete 2 authorization codes.",
        "Would delete 3 device authorizations.",
        "Would delete 0 sign-ins.",
        "Would delete 0 signing keys.",
    ]


def test_singular_name_for_one_row(frozen_clock):
    AccessTokenFactory(expires_at=frozen_clock() - timedelta(seconds=1))

    assert "Deleted 1 access token." in cleartokens().splitlines()


def test_rows_expire_by_the_clock(frozen_clock):
    token = AccessTokenFactory()
    assert "Deleted 0 access tokens." in cleartokens()

    frozen_clock.advance(hours=1)

    assert "Deleted 1 access token." in cleartokens()
    assert not AccessToken.objects.filter(pk=token.pk).exists()


def test_deletes_in_batches_of_batch_size(frozen_clock):
    expired = frozen_clock() - timedelta(seconds=1)
    AccessTokenFactory.create_batch(5, expires_at=expired)
    kept = AccessTokenFactory()

    with CaptureQueriesContext(connection) as queries:
        output = cleartokens("--batch-size", "2")

    table = AccessToken._meta.db_table
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE") and table in q["sql"]]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert "Deleted 5 access tokens." in output.splitlines()
    assert pks(AccessToken) == {kept.pk}


def test_batch_size_is_bounded(frozen_clock):
    expired = frozen_clock() - timedelta(seconds=1)
    AccessTokenFactory.create_batch(3, expires_at=expired)

    with CaptureQueriesContext(connection) as queries:
        cleartokens("--batch-size", "2")

    # Each SELECT of primary keys asks for at most --batch-size rows.
    table = AccessToken._meta.db_table
    selects = [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{table}"."id" AS "pk"')]
    assert len(selects) == 3  # 2, 1, then none left
    assert all(sql.endswith("LIMIT 2") for sql in selects)


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_batch_size_must_be_a_positive_integer(value):
    with pytest.raises(CommandError):
        cleartokens("--batch-size", value)


def test_deleting_an_expired_access_token_keeps_its_refresh_token_usable(
    api_client, frozen_clock, oauth_client
):
    access = AccessTokenFactory(client=oauth_client, expires_at=frozen_clock() - timedelta(seconds=1))
    refresh = RefreshTokenFactory(client=oauth_client, access_token=access, family_id=access.family_id)

    cleartokens()

    refresh.refresh_from_db()
    assert refresh.access_token is None
    data = {"grant_type": "refresh_token", "refresh_token": refresh.value}
    response = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert response.status_code == 200, response.content


def test_reuse_detection_still_works_after_cleartokens(api_client, frozen_clock, oauth_client, user):
    access = AccessTokenFactory(client=oauth_client, user=user)
    old = RefreshTokenFactory(client=oauth_client, user=user, access_token=access, family_id=access.family_id)
    auth = basic_auth(oauth_client.client_id, oauth_client.secret)

    def refresh(value):
        data = {"grant_type": "refresh_token", "refresh_token": value}
        return post_token(api_client, data, HTTP_AUTHORIZATION=auth)

    rotated = refresh(old.value).json()
    frozen_clock.advance(hours=2)  # the old and the new access token are expired
    output = cleartokens()
    assert "Deleted 2 access tokens." in output.splitlines()
    assert "Deleted 0 refresh tokens." in output.splitlines()

    replay = refresh(old.value)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked the family: the successor no longer works.
    successor = RefreshToken.objects.get(token_hash=hash_secret(rotated["refresh_token"]))
    assert successor.revoked_at is not None
    assert refresh(rotated["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoked_refresh_token_goes_once_expired(frozen_clock):
    token = RefreshTokenFactory(revoked_at=frozen_clock())
    cleartokens()
    assert RefreshToken.objects.filter(pk=token.pk).exists()

    frozen_clock.advance(days=30)
    cleartokens()

    assert not RefreshToken.objects.filter(pk=token.pk).exists()


def test_rotated_chain_is_deleted_across_batches(frozen_clock, oauth_client):
    """Successors point at their predecessor (SET_NULL): deleting a chain in
    small batches must not fail on those references."""
    past = frozen_clock() - timedelta(seconds=1)
    previous = None
    for _ in range(5):
        previous = RefreshTokenFactory(client=oauth_client, expires_at=past, previous=previous)

    output = cleartokens("--batch-size", "2")

    assert "Deleted 5 refresh tokens." in output.splitlines()
    assert not RefreshToken.objects.exists()


# -- OpenID Connect: signing keys and sign-ins -------------------------------------------------

REFRESH_LIFETIME = timedelta(days=30)  # REFRESH_TOKEN_EXPIRE_SECONDS' default


def test_deletes_signing_keys_no_longer_published(frozen_clock):
    retiring = {signing_keys.signing_key(algorithm).kid for algorithm in ("RS256", "ES256", "EdDSA")}
    signing_keys.rotate(delay=timedelta(0))
    new = set(SigningKey.objects.exclude(kid__in=retiring).values_list("kid", flat=True))

    assert "Deleted 0 signing keys." in cleartokens().splitlines()  # retired, still published
    frozen_clock.advance(seconds=3600)  # every ID token they signed has expired

    assert "Deleted 3 signing keys." in cleartokens().splitlines()
    assert set(SigningKey.objects.values_list("kid", flat=True)) == new


def sign_in(client, user, now, *, age=timedelta(0), ended=False):
    return SignIn.objects.create(
        family_id=uuid.uuid4(),
        client=client,
        user=user,
        sid="sid",
        auth_time=now - age,
        created_at=now - age,
        ended_at=now if ended else None,
    )


@pytest.fixture
def sign_ins(frozen_clock, oauth_client, user):
    """Sign-ins named by whether they must survive, with their family's credentials."""
    now = frozen_clock()
    old = REFRESH_LIFETIME + timedelta(seconds=1)
    past = now - timedelta(seconds=1)

    def with_credential(row, factory, **fields):
        factory(client=oauth_client, user=user, family_id=row.family_id, **fields)
        return row

    keep = {
        "live access token, signed out": with_credential(
            sign_in(oauth_client, user, now, ended=True), AccessTokenFactory
        ),
        "live refresh token, old": with_credential(
            sign_in(oauth_client, user, now, age=old), RefreshTokenFactory
        ),
        "unused code": with_credential(sign_in(oauth_client, user, now, age=old), AuthorizationCodeFactory),
        "nothing live, recent": with_credential(
            sign_in(oauth_client, user, now), AccessTokenFactory, expires_at=past
        ),
        "revoked refresh token, recent": with_credential(
            sign_in(oauth_client, user, now), RefreshTokenFactory, revoked_at=now
        ),
    }
    delete = {
        "nothing live, signed out": with_credential(
            sign_in(oauth_client, user, now, ended=True), RefreshTokenFactory, revoked_at=now
        ),
        "nothing live, old": with_credential(
            sign_in(oauth_client, user, now, age=old), AuthorizationCodeFactory, used_at=now
        ),
        "no credential at all, old": sign_in(oauth_client, user, now, age=old),
    }
    return keep, delete


def test_deletes_finished_sign_ins_only(sign_ins):
    keep, delete = sign_ins

    output = cleartokens()

    assert f"Deleted {len(delete)} sign-ins." in output.splitlines()
    assert pks(SignIn) == {row.pk for row in keep.values()}


def test_sign_ins_kept_as_long_as_a_browser_session_can_last(settings, frozen_clock, oauth_client, user):
    # A back-channel logout of the session needs the sign-in's sid while the session may live.
    settings.SESSION_COOKIE_AGE = int((REFRESH_LIFETIME + timedelta(days=10)).total_seconds())
    row = sign_in(oauth_client, user, frozen_clock(), age=REFRESH_LIFETIME + timedelta(days=1))

    cleartokens()

    assert SignIn.objects.filter(pk=row.pk).exists()


def test_sign_ins_deleted_in_batches(frozen_clock, oauth_client, user):
    for _ in range(3):
        sign_in(oauth_client, user, frozen_clock(), ended=True)

    with CaptureQueriesContext(connection) as queries:
        output = cleartokens("--batch-size", "2")

    table = SignIn._meta.db_table
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE") and table in q["sql"]]
    assert len(deletes) == 2
    assert "Deleted 3 sign-ins." in output.splitlines()
