"""Subject identifiers (OpenID Connect Core 1.0 §8): public and pairwise, and sectors."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from oauth_provider.models import Client, Subject
from oauth_provider.subjects import sector_identifier, subject, subject_of
from tests.factories import ClientFactory, PublicClientFactory, UserFactory

pytestmark = pytest.mark.django_db

PAIRWISE = Client.SubjectType.PAIRWISE


def pairwise(redirect_uris="https://app.example.com/callback", **kwargs):
    return ClientFactory(subject_type=PAIRWISE, redirect_uris=redirect_uris, **kwargs)


# -- public ---------------------------------------------------------------------------------------


def test_public_sub_is_stable_and_the_same_for_every_public_client(user):
    first, second = ClientFactory(), PublicClientFactory()

    sub = subject(user, first)

    assert sub == subject(user, second) == subject(get_user_model().objects.get(pk=user.pk), first)
    assert sub == Subject.objects.get(user=user).public_id


def test_public_sub_does_not_reveal_the_primary_key(user):
    sub = subject(user, ClientFactory())

    assert sub != str(user.pk)
    assert len(sub) >= 32  # random: not guessable from other users' identifiers


def test_users_have_different_subs():
    client = ClientFactory()

    assert subject(UserFactory(), client) != subject(UserFactory(), client)


# -- pairwise (§8.1) ------------------------------------------------------------------------------


def test_pairwise_sub_differs_between_sectors_and_from_the_public_sub(user):
    public = subject(user, ClientFactory())
    one = subject(user, pairwise("https://one.example/cb"))
    other = subject(user, pairwise("https://other.example/cb"))

    assert len({public, one, other}) == 3


def test_pairwise_sub_is_the_same_within_a_sector_and_stable(user):
    web = pairwise("https://app.example.com/callback")
    admin = pairwise("https://app.example.com/admin/callback\nhttps://app.example.com/other")

    assert subject(user, web) == subject(user, admin) == subject(user, web)


def test_pairwise_sub_differs_per_user(user):
    client = pairwise()

    assert subject(user, client) != subject(UserFactory(), client)


def test_sector_identifier_uri_host_is_the_sector(user):
    """Core §8.1: "When a sector_identifier_uri is provided, the host component
    of that URL is used as the Sector Identifier"."""
    shared = "https://sector.example.org/clients.json"
    web = pairwise("https://www.example.org/cb", sector_identifier_uri=shared)
    mobile = pairwise("https://m.example.net/cb", sector_identifier_uri=shared)
    same_host = pairwise("https://sector.example.org/cb")

    assert sector_identifier(web) == "sector.example.org"
    assert subject(user, web) == subject(user, mobile) == subject(user, same_host)


@pytest.mark.parametrize(
    ("registered", "change"),
    [
        (
            {"sector_identifier_uri": "https://sector.example.org/x.json"},
            {"sector_identifier_uri": "https://other-sector.example/x.json"},
        ),
        ({}, {"redirect_uris": "https://other-sector.example/cb"}),
    ],
)
def test_a_sector_change_awaiting_review_changes_no_sub(user, registered, change):
    """An owner's change of sector is a reviewed change: until an admin
    approves it, ID tokens on refresh, UserInfo and logout tokens keep the sub
    the client's users have."""
    client = pairwise("https://www.example.org/cb", **registered)
    before = subject(user, client)
    approved = client.reviewed_values()
    for name, value in change.items():
        setattr(client, name, value)
    client.request_review(approved)
    client.save()

    assert subject(user, client) == before
    client.approve()
    assert subject(user, client) != before


@pytest.mark.parametrize(
    "redirect_uris",
    ["http://127.0.0.1/callback", "com.example.app:/callback", "https://localhost/cb", ""],
)
def test_redirect_uris_any_app_could_receive_make_a_sector_of_its_own(user, redirect_uris):
    """Loopback and private-use scheme URIs belong to no host (RFC 8252 §8.6):
    two native apps must not share a sector through "127.0.0.1"."""
    one = pairwise(redirect_uris)
    other = pairwise(redirect_uris)

    assert sector_identifier(one) == one.client_id
    assert subject(user, one) != subject(user, other)


def test_subject_of_uses_a_subject_already_loaded_with_the_user(user, django_assert_num_queries):
    record = subject_of(user)
    loaded = get_user_model().objects.select_related("oauth_subject").get(pk=user.pk)

    with django_assert_num_queries(0):
        assert subject_of(loaded) == record


# -- registration (Registration 1.0 §5) -----------------------------------------------------------


def test_pairwise_client_with_redirect_uris_on_several_hosts_needs_a_sector_identifier_uri():
    client = pairwise("https://one.example/cb\nhttps://two.example/cb")

    with pytest.raises(ValidationError) as raised:
        client.full_clean()

    assert "sector identifier URI" in raised.value.message_dict["redirect_uris"][0]


@pytest.mark.parametrize(
    "redirect_uris",
    [
        "https://app.example.com/a\nhttps://app.example.com/b",
        "http://127.0.0.1/callback\ncom.example.app:/callback",  # the client's own sector
    ],
)
def test_pairwise_client_in_one_sector_is_valid(redirect_uris):
    pairwise(redirect_uris).full_clean()


def test_public_client_may_have_redirect_uris_on_several_hosts():
    ClientFactory(redirect_uris="https://one.example/cb\nhttps://two.example/cb").full_clean()


def test_pairwise_client_mixing_a_host_and_loopback_needs_a_sector_identifier_uri():
    client = pairwise("https://app.example.com/cb\nhttp://127.0.0.1/cb")

    with pytest.raises(ValidationError) as raised:
        client.full_clean()

    assert "redirect_uris" in raised.value.message_dict
