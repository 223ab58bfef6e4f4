"""What people are told each scope allows: the site's words, else the standard
OpenID Connect scopes' own (Core 1.0 §5.4), on every screen that lists scopes."""

import pytest
from django.utils.functional import Promise

from oauth_provider.forms import ClientForm
from oauth_provider.scopes import STANDARD_DESCRIPTIONS, describe, description
from oauth_provider.settings import DEVICE_CODE
from tests.factories import ClientFactory, ConsentFactory, DeviceAuthorizationFactory
from tests.helpers import authorize_url

pytestmark = pytest.mark.django_db

OIDC = ["openid", "profile", "email", "address", "phone"]
PLAIN_WORDS = {
    "openid": "Sign you in with your account",
    "profile": "Your name and username",
    "email": "Your e-mail address",
    "address": "Your postal address",
    "phone": "Your phone number",
}


@pytest.fixture(autouse=True)
def oidc_scopes(settings):
    """The standard scopes listed with no description ("" and None alike),
    and one described by the site itself."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {
            "read": "Read your data",
            "openid": None,
            "profile": "",
            "email": None,
            "address": None,
            "phone": "Your phone number, to call you about your orders",
            "custom": None,
        },
    }


def test_standard_scopes_without_a_description_get_plain_words():
    assert describe(["openid", "profile", "email", "address"]) == [
        (name, PLAIN_WORDS[name]) for name in ["openid", "profile", "email", "address"]
    ]


def test_the_sites_own_description_wins():
    assert description("phone") == "Your phone number, to call you about your orders"
    assert description("read") == "Read your data"


def test_other_scope_without_a_description_is_shown_by_name():
    assert description("custom") == "custom"


def test_every_standard_scope_has_words():
    assert {name: str(text) for name, text in STANDARD_DESCRIPTIONS.items()} == PLAIN_WORDS


def test_descriptions_are_translated_when_shown_not_when_defined():
    """Lazy: each request's language applies (the French catalog is the coordinator's)."""
    assert all(isinstance(text, Promise) for text in STANDARD_DESCRIPTIONS.values())


def test_consent_screen_describes_each_scope(client, user):
    client.force_login(user)
    app = ClientFactory()

    response = client.get(authorize_url(app, scope="openid profile email address phone"))

    assert response.status_code == 200
    assert response.context["scopes"] == [
        ("openid", PLAIN_WORDS["openid"]),
        ("profile", PLAIN_WORDS["profile"]),
        ("email", PLAIN_WORDS["email"]),
        ("address", PLAIN_WORDS["address"]),
        ("phone", "Your phone number, to call you about your orders"),
    ]
    page = response.content.decode()
    for words in [*list(PLAIN_WORDS.values())[:4], "Your phone number, to call you about your orders"]:
        assert words in page


def test_device_consent_screen_describes_each_scope(client, user):
    client.force_login(user)
    pending = DeviceAuthorizationFactory(
        client=ClientFactory(grant_types=[DEVICE_CODE]), scope="openid email"
    )

    response = client.post("/o/device/", {"user_code": pending.user_code})

    assert response.status_code == 200
    assert response.context["scopes"] == [("openid", PLAIN_WORDS["openid"]), ("email", PLAIN_WORDS["email"])]
    assert PLAIN_WORDS["email"] in response.content.decode()


def test_authorized_apps_page_describes_each_scope(client, user):
    client.force_login(user)
    ConsentFactory(user=user, scope="openid profile")

    page = client.get("/o/authorized-apps/").content.decode()

    assert PLAIN_WORDS["openid"] in page
    assert PLAIN_WORDS["profile"] in page


def test_client_form_labels_the_scopes_with_their_descriptions():
    choices = dict(ClientForm().fields["scopes"].choices)

    assert choices["openid"] == f"openid: {PLAIN_WORDS['openid']}"
    assert choices["custom"] == "custom: custom"
