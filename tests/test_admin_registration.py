"""The admin of initial access tokens: the value is shown once, never stored or shown again."""

import re

import pytest

from oauth_provider.crypto import hash_secret
from oauth_provider.models import InitialAccessToken

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/oauth_provider/initialaccesstoken/add/"
TOKEN = re.compile(r"opia_[A-Za-z0-9_-]{43}")


def test_adding_shows_the_token_once(staff_client):
    staff_client.grant("add_initialaccesstoken", "view_initialaccesstoken", "change_initialaccesstoken")

    response = staff_client.post(ADD_URL, {"description": "partner", "expires_at_0": "", "max_uses": "3"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    # Like the client secret page (shown_once.html): no Referer leaves it.
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()
    value = TOKEN.search(response.content.decode()).group()
    token = InitialAccessToken.objects.get()
    assert token.token_hash == hash_secret(value)
    assert token.max_uses == 3
    assert token.created_by.is_staff
    change = staff_client.get(f"/admin/oauth_provider/initialaccesstoken/{token.pk}/change/").content.decode()
    listing = staff_client.get("/admin/oauth_provider/initialaccesstoken/").content.decode()
    for page in (change, listing):
        assert value not in page
        assert token.token_hash not in page
    assert "partner" in listing


def test_list_tells_usable_tokens_from_spent_ones(staff_client):
    staff_client.grant("view_initialaccesstoken")
    for description, uses in (("fresh", 0), ("spent", 1)):
        token = InitialAccessToken(description=description, max_uses=1, use_count=uses)
        token.set_token()
        token.save()

    listing = staff_client.get("/admin/oauth_provider/initialaccesstoken/").content.decode()

    rows = {name: row for row in listing.split("<tr")[1:] for name in ("fresh", "spent") if name in row}
    assert 'alt="True"' in rows["fresh"]
    assert 'alt="False"' in rows["spent"]


def test_client_change_page_says_software_registered_it(staff_client, registered):
    staff_client.grant("change_client", "view_client")
    client = registered()["client"]

    page = staff_client.get(f"/admin/oauth_provider/client/{client.pk}/change/").content.decode()

    assert "Software registered this client at the registration endpoint" in page
