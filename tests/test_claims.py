"""Claims (OpenID Connect Core 1.0 §5): the default provider, any user model, and release."""

import datetime

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.test.utils import isolate_apps

from oauth_provider import claims
from oauth_provider.claims import UserClaims, claim_value, release, requested_claims, scope_claims
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {"preferred_username", "name", "given_name", "family_name"}


class AddressClaims(UserClaims):
    """A site's own provider: claims Django's user does not have."""

    def get_claims(self, user, client):
        return {
            **super().get_claims(user, client),
            "address": {"locality": "Oxford", "country": "GB"},
            "updated_at": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "birthdate": datetime.date(1852, 5, 4),
            "website": None,
            "groups": ["staff"],  # in no scope: never released
        }

    def email_verified(self, user):
        return False


class SubClaims(UserClaims):
    def get_claims(self, user, client):
        return {**super().get_claims(user, client), "sub": "admin"}


class RefusingClaims(UserClaims):
    def get_claims(self, user, client):
        raise AssertionError("the provider was asked although no claim could be released")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Liddell", email="alice@example.com")


@pytest.fixture
def provider(settings):
    def use(path):
        settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_CLAIMS_PROVIDER": path}

    return use


# -- the default provider, with any user model ----------------------------------------------------


def test_default_provider_reads_djangos_user(alice):
    assert UserClaims().get_claims(alice, ClientFactory()) == {
        "preferred_username": "alice",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com",
    }


@isolate_apps("tests")
def test_user_model_without_names_or_email_field_named_email():
    """An AbstractBaseUser signed in by handle, its address in another field:
    no names (none known), the e-mail from EMAIL_FIELD."""

    class Member(AbstractBaseUser):
        handle = models.CharField(max_length=30, unique=True)
        contact = models.EmailField()
        USERNAME_FIELD = "handle"
        EMAIL_FIELD = "contact"

        class Meta:
            app_label = "tests"

    member = Member(handle="mallory", contact="mallory@example.com")

    assert UserClaims().get_claims(member, None) == {
        "preferred_username": "mallory",
        "name": "",
        "given_name": "",
        "family_name": "",
        "email": "mallory@example.com",
    }


@isolate_apps("tests")
def test_user_model_without_any_email():
    class Device(AbstractBaseUser):
        serial = models.CharField(max_length=30, unique=True)
        USERNAME_FIELD = "serial"

        class Meta:
            app_label = "tests"

    assert "email" not in UserClaims().get_claims(Device(serial="sn-1"), None)


@isolate_apps("tests")
def test_user_models_own_full_name_is_the_name():
    class Person(AbstractBaseUser):
        login = models.CharField(max_length=30, unique=True)
        display_name = models.CharField(max_length=100)
        USERNAME_FIELD = "login"

        class Meta:
            app_label = "tests"

        def get_full_name(self):
            return self.display_name

    person = Person(login="jdoe", display_name="Jane Doe")

    assert UserClaims().get_claims(person, None)["name"] == "Jane Doe"


def test_email_verified_left_out_unless_the_site_knows(alice):
    assert "email_verified" not in UserClaims().get_claims(alice, None)
    assert AddressClaims().get_claims(alice, None)["email_verified"] is False


# -- release: what a client may see --------------------------------------------------------------


def test_release_gives_sub_and_the_claims_of_the_granted_scopes(alice):
    client = ClientFactory()

    assert release(alice, client, ["openid", "profile"]) == {
        "sub": subject(alice, client),
        "preferred_username": "alice",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
    }
    assert set(release(alice, client, ["openid", "email"])) == {"sub", "email"}
    assert release(alice, client, ["openid"]) == {"sub": subject(alice, client)}


def test_release_narrows_to_names_within_the_scopes(alice):
    client = ClientFactory()

    released = release(alice, client, ["openid", "profile"], names={"given_name", "email"})

    assert released == {"sub": subject(alice, client), "given_name": "Alice"}


def test_release_never_asks_the_provider_when_nothing_may_be_released(alice, provider):
    provider("tests.test_claims.RefusingClaims")
    client = ClientFactory()

    assert release(alice, client, ["openid", "read"]) == {"sub": subject(alice, client)}
    assert release(alice, client, ["openid", "email"], names={"name"}) == {"sub": subject(alice, client)}


def test_custom_provider_claims_are_released_by_scope_and_as_json_values(alice, provider):
    provider("tests.test_claims.AddressClaims")
    client = ClientFactory()

    released = release(alice, client, ["openid", "profile", "address", "email"])

    assert released["address"] == {"locality": "Oxford", "country": "GB"}
    assert released["updated_at"] == 1704164645
    assert released["birthdate"] == "1852-05-04"
    assert released["email_verified"] is False
    assert "website" not in released  # None: unknown
    assert "groups" not in released  # in no scope


def test_provider_cannot_replace_sub(alice, provider):
    provider("tests.test_claims.SubClaims")
    client = ClientFactory()

    assert release(alice, client, ["openid", "profile"])["sub"] == subject(alice, client)


def test_provider_follows_the_setting(provider):
    assert type(claims.provider()) is UserClaims
    provider("tests.test_claims.AddressClaims")
    assert type(claims.provider()) is AddressClaims


# -- helpers -------------------------------------------------------------------------------------


def test_scope_claims():
    assert scope_claims(["openid", "email", "phone", "read"]) == {
        "email",
        "email_verified",
        "phone_number",
        "phone_number_verified",
    }
    assert scope_claims(["profile"]) >= PROFILE


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (None, set()),
        ({}, set()),
        ({"userinfo": None}, set()),
        ({"id_token": {"auth_time": {"essential": True}}}, set()),
        ({"userinfo": {"email": None, "name": {"essential": True}}}, {"email", "name"}),
    ],
)
def test_requested_claims(request_, expected):
    assert requested_claims(request_, "userinfo") == expected


def test_claim_value_of_times_and_others():
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert claim_value(moment) == 1704164645
    assert claim_value(datetime.date(2000, 2, 29)) == "2000-02-29"
    assert claim_value({"country": "FR"}) == {"country": "FR"}
    assert claim_value(True) is True
