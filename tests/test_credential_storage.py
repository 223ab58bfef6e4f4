"""A database dump holds no usable credential: secrets and tokens are stored only as hashes."""

import io

import pytest
from django.core.management import call_command

from tests.factories import ClientFactory, UserFactory
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, pkce_pair, post_token, query_params


@pytest.mark.django_db
def test_dump_of_every_table_contains_no_raw_secret_or_token(client, api_client):
    app = ClientFactory()
    user = UserFactory()
    client.force_login(user)
    verifier, challenge = pkce_pair()
    url = authorize_url(app, scope="read write", code_challenge=challenge, code_challenge_method="S256")
    location = client.post(url, {"action": "allow"})["Location"]
    code = query_params(location)["code"]
    auth = basic_auth(app.client_id, app.secret)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    tokens = post_token(api_client, data, HTTP_AUTHORIZATION=auth).json()
    rotated = post_token(
        api_client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    ).json()

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    dump = dump.getvalue()

    credentials = [
        app.secret,
        code,
        tokens["access_token"],
        tokens["refresh_token"],
        rotated["access_token"],
        rotated["refresh_token"],
    ]
    assert all(value and len(value) > 40 for value in credentials)
    for value in credentials:
        assert value not in dump
        assert value.split("_", 1)[1] not in dump  # not even without the prefix
    assert app.client_id in dump  # the dump itself is real
