"""manage.py setupdemo: demo accounts, the demo client and working instructions."""

import base64
import re
import shlex
from io import StringIO
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from oauth_provider.models import AccessToken, Client
from oauth_provider.pkce import s256

from .factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLE_ISSUER = "http://127.0.0.1:8000"


def setupdemo() -> dict:
    """Run the command; return what it printed, picked apart."""
    out = StringIO()
    call_command("setupdemo", stdout=out)
    text = out.getvalue()
    exports = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in text.splitlines()
        if re.match(r"export (CLIENT_ID|CLIENT_SECRET|VERIFIER)=", line)
    )
    urls = [line for line in text.splitlines() if "/o/authorize/?" in line]
    assert len(urls) == 1, text
    return {"text": text, **exports, "url": urls[0].strip()}


@pytest.fixture
def example_issuer(settings):
    """The example project's default issuer, instead of the test settings' one."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": EXAMPLE_ISSUER}


def test_creates_demo_user_and_admin():
    printed = setupdemo()

    User = get_user_model()
    demo = User.objects.get(username="demo")
    admin = User.objects.get(username="admin")
    assert demo.check_password("demo-password")
    assert demo.is_active and not demo.is_staff and not demo.is_superuser
    assert admin.check_password("admin-password")
    assert admin.is_active and admin.is_staff and admin.is_superuser
    assert "demo-password" in printed["text"]
    assert "admin-password" in printed["text"]


def test_updates_existing_users():
    UserFactory(username="demo", is_active=False)
    UserFactory(username="admin")

    setupdemo()

    User = get_user_model()
    demo = User.objects.get(username="demo")
    admin = User.objects.get(username="admin")
    assert demo.is_active and demo.check_password("demo-password")
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin-password")


def test_creates_demo_client(example_issuer):
    printed = setupdemo()

    client = Client.objects.get(name="Demo client")
    assert client.client_id == printed["CLIENT_ID"]
    assert client.is_confidential
    assert client.is_active
    assert client.grant_types == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert client.redirect_uri_list == ["http://127.0.0.1:8000/callback/"]
    assert client.scopes == ["read", "write"]


def test_printed_secret_authenticates():
    printed = setupdemo()

    client = Client.objects.get(client_id=printed["CLIENT_ID"])
    assert printed["CLIENT_SECRET"].startswith("opcs_")
    assert client.check_secret(printed["CLIENT_SECRET"])
    # Only the hash is stored.
    assert printed["CLIENT_SECRET"] not in client.client_secret_hash


def test_rerun_is_idempotent_and_rotates_the_secret():
    first = setupdemo()
    second = setupdemo()

    User = get_user_model()
    assert Client.objects.filter(name="Demo client").count() == 1
    assert User.objects.filter(username="demo").count() == 1
    assert User.objects.filter(username="admin").count() == 1
    assert second["CLIENT_ID"] == first["CLIENT_ID"]
    assert second["CLIENT_SECRET"] != first["CLIENT_SECRET"]
    client = Client.objects.get(name="Demo client")
    assert client.check_secret(second["CLIENT_SECRET"])
    assert not client.check_secret(first["CLIENT_SECRET"])
    assert second["VERIFIER"] != first["VERIFIER"]


def test_rerun_restores_a_changed_demo_client():
    setupdemo()
    Client.objects.filter(name="Demo client").update(
        is_active=False, redirect_uris="https://elsewhere.example.com/cb", grant_types=[]
    )

    setupdemo()

    client = Client.objects.get(name="Demo client")
    assert client.is_active
    assert client.grant_types == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert client.redirect_uri_list == ["https://auth.example.com/callback/"]


def test_authorization_url_parameters(example_issuer):
    printed = setupdemo()

    url = urlsplit(printed["url"])
    params = {key: values[0] for key, values in parse_qs(url.query, strict_parsing=True).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://127.0.0.1:8000/o/authorize/"
    assert params["response_type"] == "code"
    assert params["client_id"] == printed["CLIENT_ID"]
    assert params["redirect_uri"] == "http://127.0.0.1:8000/callback/"
    assert params["scope"] == "read write"
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == s256(printed["VERIFIER"])
    assert len(params["state"]) >= 16
    # RFC 7636 §4.1: 43-128 unreserved characters.
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", printed["VERIFIER"])
    # Properly encoded: the redirect URI's own ":" and "/" are escaped.
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcallback%2F" in url.query
    assert "scope=read+write" in url.query


def test_base_url_follows_the_issuer():
    printed = setupdemo()

    # tests/settings.py sets ISSUER to https://auth.example.com.
    assert printed["url"].startswith("https://auth.example.com/o/authorize/?")
    assert "https://auth.example.com/o/token/" in printed["text"]
    assert "https://auth.example.com/api/me/" in printed["text"]


def test_prints_token_and_api_curl_commands(example_issuer):
    text = setupdemo()["text"]

    assert 'curl -s -u "$CLIENT_ID:$CLIENT_SECRET" http://127.0.0.1:8000/o/token/' in text
    assert "-d grant_type=authorization_code -d code=CODE" in text
    assert '-d redirect_uri=http://127.0.0.1:8000/callback/ -d code_verifier="$VERIFIER"' in text
    assert 'curl -s -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8000/api/me/' in text


def test_printed_instructions_complete_the_flow(client, example_issuer):
    """Follow the printed steps with the test client: sign in, approve, exchange, call /api/me/."""
    printed = setupdemo()
    url = urlsplit(printed["url"])
    authorize = f"{url.path}?{url.query}"
    client.login(username="demo", password="demo-password")

    consent = client.get(authorize)
    approved = client.post(authorize, {"action": "allow"})

    assert consent.status_code == 200
    assert approved.status_code == 302
    redirect = urlsplit(approved["Location"])
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == "http://127.0.0.1:8000/callback/"
    query = parse_qs(redirect.query)
    assert query["state"] == parse_qs(url.query)["state"]
    basic = base64.b64encode(f"{printed['CLIENT_ID']}:{printed['CLIENT_SECRET']}".encode()).decode()
    body = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": "http://127.0.0.1:8000/callback/",
        "code_verifier": printed["VERIFIER"],
    }
    token = client.post(
        "/o/token/",
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert token.status_code == 200, token.content
    assert token.json()["scope"] == "read write"
    assert AccessToken.objects.get().user.username == "demo"
    me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    assert me.json() == {"username": "demo"}


def test_settings_without_demo_scopes_give_a_clear_error(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": {"profile": "Your profile"}}

    with pytest.raises(CommandError, match="not valid with these settings"):
        call_command("setupdemo", stdout=StringIO())

    assert not Client.objects.exists()


def test_callback_page_shows_the_exchange_command_for_this_site(client):
    response = client.get("/callback/?code=opac_example&state=s&iss=https://auth.example.com")

    html = response.content.decode()
    assert response.status_code == 200
    assert "opac_example" in html
    assert "http://testserver/o/token/" in html
    assert "redirect_uri=http://testserver/callback/" in html


def test_example_site_is_an_openid_provider():
    from example_project.settings import OAUTH_PROVIDER

    assert list(OAUTH_PROVIDER["SCOPES"]) == ["openid", "profile", "email", "read", "write"]
    assert OAUTH_PROVIDER.get("OIDC_ENABLED", True) is True


def test_demo_client_signs_in_with_openid_where_the_site_offers_it(settings):
    from example_project.settings import OAUTH_PROVIDER

    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": OAUTH_PROVIDER["SCOPES"]}

    printed = setupdemo()

    client = Client.objects.get(name="Demo client")
    assert client.scopes == ["openid", "profile", "email", "read", "write"]
    assert parse_qs(urlsplit(printed["url"]).query)["scope"] == ["openid profile email read write"]
