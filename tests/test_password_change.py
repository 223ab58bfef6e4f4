"""A password change ends what clients hold for the user (RFC 6819 §5.2.2.3)."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import update_last_login

from oauth_provider import token_lookup
from oauth_provider.models import AccessToken, AuthorizationCode, DeviceAuthorization, RefreshToken
from oauth_provider.signals import REVOKE_REASONS, token_revoked
from tests.factories import (
    PASSWORD,
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def holdings(user):
    """What one client holds for ``user``, and a token of another user."""
    access = AccessTokenFactory(user=user)
    return {
        "access": access,
        "refresh": RefreshTokenFactory(user=user, client=access.client, access_token=access),
        "code": AuthorizationCodeFactory(user=user, client=access.client),
        "device": DeviceAuthorizationFactory(
            user=user, client=access.client, status=DeviceAuthorization.Status.APPROVED
        ),
        "consent": ConsentFactory(user=user, client=access.client),
        "other": AccessTokenFactory(client=access.client),
    }


def reloaded(row):
    return type(row).objects.get(pk=row.pk)


def assert_all_ended(holdings):
    assert reloaded(holdings["access"]).revoked_at is not None
    assert reloaded(holdings["refresh"]).revoked_at is not None
    code = reloaded(holdings["code"])
    assert code.used_at is not None
    assert code.end_reason == AuthorizationCode.EndReason.PASSWORD_CHANGED
    assert reloaded(holdings["device"]).status == DeviceAuthorization.Status.DENIED
    # The user's own decisions and other users' tokens are left alone.
    assert reloaded(holdings["consent"]) is not None
    assert reloaded(holdings["other"]).revoked_at is None


def assert_none_ended(holdings):
    assert reloaded(holdings["access"]).revoked_at is None
    assert reloaded(holdings["refresh"]).revoked_at is None
    assert reloaded(holdings["code"]).used_at is None
    assert reloaded(holdings["device"]).status == DeviceAuthorization.Status.APPROVED


def test_set_password_and_save_ends_every_credential_of_the_user(user, holdings):
    user.set_password("a new password 123")
    user.save()
    assert_all_ended(holdings)


def test_set_unusable_password_ends_them_too(user, holdings):
    user.set_unusable_password()
    user.save()
    assert_all_ended(holdings)


def test_djangos_password_change_form_ends_them(user, holdings):
    form = PasswordChangeForm(
        user,
        {"old_password": PASSWORD, "new_password1": "Xq9!longer pass", "new_password2": "Xq9!longer pass"},
    )
    assert form.is_valid(), form.errors
    form.save()
    assert_all_ended(holdings)


def test_a_user_loaded_anew_and_saved_with_a_new_password(user, holdings):
    fresh = get_user_model().objects.get(pk=user.pk)
    fresh.set_password("another one 456")
    fresh.save(update_fields=["password"])
    assert_all_ended(holdings)


def test_revoked_tokens_are_announced_with_their_reason(user, holdings):
    reasons = []
    token_revoked.connect(lambda sender, reason, **kw: reasons.append(reason), weak=False, dispatch_uid="t")
    try:
        user.set_password("a new password 123")
        user.save()
    finally:
        token_revoked.disconnect(dispatch_uid="t")
    assert set(reasons) == {"password_changed"}
    assert "password_changed" in REVOKE_REASONS


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.save(),  # nothing changed
        lambda user: (setattr(user, "first_name", "Ada"), user.save()),
        lambda user: update_last_login(None, user),  # every login
        lambda user: (user.set_password("new 123"), user.save(update_fields=["first_name"])),
    ],
)
def test_saves_that_keep_the_password_end_nothing(user, holdings, change):
    change(user)
    assert_none_ended(holdings)


def test_saves_that_cannot_touch_the_password_cost_no_extra_query(user, django_assert_num_queries):
    with django_assert_num_queries(1):  # the UPDATE itself
        update_last_login(None, user)
    deferred = get_user_model().objects.defer("password").get(pk=user.pk)
    with django_assert_num_queries(1):
        deferred.first_name = "Ada"
        deferred.save()


def test_deactivation_suspends_and_reactivation_resumes(user, holdings):
    """is_active=False is not a password change: tokens are refused while
    inactive and work again afterwards (documented suspend/resume)."""
    access = holdings["access"]
    user.is_active = False
    user.save()
    assert_none_ended(holdings)
    assert token_lookup.find_token(access.value).user.is_active is False
    user.is_active = True
    user.save()
    assert token_lookup.find_token(access.value).user.is_active is True


def test_it_can_be_turned_off(user, holdings, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REVOKE_TOKENS_ON_PASSWORD_CHANGE": False}
    user.set_password("a new password 123")
    user.save()
    assert_none_ended(holdings)


def test_creating_a_user_ends_nothing(holdings):
    UserFactory()
    assert_none_ended(holdings)
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 2
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 1


class CheapPBKDF2(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations, so that raising them (as every Django
    release does) is cheap to test."""

    iterations = 2


def test_a_hash_upgrade_at_login_is_not_a_password_change(user, holdings, settings):
    """Django rehashes a password at login when the hasher's work factor
    went up (``check_password``'s setter): same password, new hash. Every
    Django upgrade does that, and it must not sign every user out of every app."""
    settings.PASSWORD_HASHERS = ["tests.test_password_change.CheapPBKDF2"]
    # As stored before the upgrade.
    old_hash = CheapPBKDF2().encode(PASSWORD, CheapPBKDF2().salt(), iterations=1)
    get_user_model().objects.filter(pk=user.pk).update(password=old_hash)
    assert authenticate(None, username=user.get_username(), password=PASSWORD) == user
    assert reloaded(user).password.startswith("pbkdf2_sha256$2$")  # rehashed
    assert_none_ended(holdings)


def test_a_new_password_hash_written_directly_is_still_a_change(user, holdings):
    """Only an outdated hash can be rehashed at login: a new hash saved the
    way check_password saves a rehash, over one that is up to date, is a
    password someone chose (a host's own password form, say)."""
    fresh = get_user_model().objects.get(pk=user.pk)
    fresh.password = make_password("chosen elsewhere 789")
    fresh.save(update_fields=["password"])
    assert_all_ended(holdings)
