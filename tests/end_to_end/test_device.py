"""The device authorization grant over HTTP (RFC 8628), against a live server.

``requests`` plays the device asking for a code; a ``requests.Session`` plays
the user's browser (real login form, CSRF tokens, verification page and
consent screen); Authlib's ``OAuth2Session`` plays the device polling the
token endpoint and calling the API. The live server runs in a thread of this
process, so the ``settings`` and ``frozen_clock`` fixtures reach it: polling
waits are clock moves, not sleeps.
"""

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from oauth_provider.models import AccessToken, Consent
from oauth_provider.settings import DEVICE_CODE, REFRESH_TOKEN

from ..factories import ClientFactory, PublicClientFactory, UserFactory
from ..test_end_to_end import csrf_token, log_in

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def issuer(live_server, settings):
    """The live server is the issuer, so verification_uri points at it."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": live_server.url}
    return live_server.url


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def device():
    """The device's ``OAuth2Session``, closed afterwards so no keep-alive
    connection outlives the live server."""
    sessions = []

    def make(client, **kwargs: object) -> OAuth2Session:
        session = OAuth2Session(client.client_id, client_secret=client.secret, **kwargs)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


def verify(browser: requests.Session, verification_uri_complete: str, action: str) -> tuple[str, str]:
    """Follow the link the device shows, confirm the code, press a button.

    Returns the consent screen's HTML and the result page's HTML.
    """
    form = browser.get(verification_uri_complete)
    assert form.status_code == 200, form.text
    user_code = verification_uri_complete.rpartition("user_code=")[2]
    assert f'value="{user_code}"' in form.text
    consent = browser.post(
        verification_uri_complete,
        data={"user_code": user_code, "csrfmiddlewaretoken": csrf_token(form.text)},
    )
    assert consent.status_code == 200, consent.text
    done = browser.post(
        verification_uri_complete,
        data={"user_code": user_code, "action": action, "csrfmiddlewaretoken": csrf_token(consent.text)},
    )
    assert done.status_code == 200, done.text
    return consent.text, done.text


def test_device_flow_with_a_public_client(issuer, browser, device, frozen_clock):
    user = UserFactory()
    tv = PublicClientFactory(name="Living Room TV", grant_types=[DEVICE_CODE, REFRESH_TOKEN])

    started = requests.post(
        f"{issuer}/o/device_authorization/", data={"client_id": tv.client_id, "scope": "read"}, timeout=10
    )
    assert started.status_code == 200
    assert started.headers["Cache-Control"] == "no-store"
    grant = started.json()
    assert grant["verification_uri"] == f"{issuer}/o/device/"
    assert grant["verification_uri_complete"] == f"{issuer}/o/device/?user_code={grant['user_code']}"

    app = device(tv, token_endpoint_auth_method="none")
    token_url = f"{issuer}/o/token/"
    with pytest.raises(OAuthError, match="authorization_pending"):
        app.fetch_token(token_url, grant_type=DEVICE_CODE, device_code=grant["device_code"])

    log_in(browser, issuer, user.username)
    consent, done = verify(browser, grant["verification_uri_complete"], "allow")
    assert "Living Room TV" in consent
    assert user.username in consent
    assert grant["user_code"] in consent
    assert "You can return to your device." in done

    frozen_clock.advance(seconds=grant["interval"])
    token = app.fetch_token(token_url, grant_type=DEVICE_CODE, device_code=grant["device_code"])

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert token["refresh_token"]
    me = app.get(f"{issuer}/api/me/")
    assert me.status_code == 200
    assert me.json() == {"username": user.username}
    assert Consent.objects.get(user=user, client=tv).scopes == ["read"]

    # Tokens are handed out once.
    frozen_clock.advance(seconds=grant["interval"])
    with pytest.raises(OAuthError, match="invalid_grant"):
        app.fetch_token(token_url, grant_type=DEVICE_CODE, device_code=grant["device_code"])
    assert AccessToken.objects.count() == 1


def test_device_polling_too_fast_is_told_to_slow_down(issuer, device, frozen_clock):
    console = ClientFactory(grant_types=[DEVICE_CODE])
    app = device(console, token_endpoint_auth_method="client_secret_basic")
    grant = requests.post(
        f"{issuer}/o/device_authorization/",
        data={"scope": "read"},
        auth=(console.client_id, console.secret),
        timeout=10,
    ).json()
    assert grant["interval"] == 5

    token_url = f"{issuer}/o/token/"
    with pytest.raises(OAuthError, match="authorization_pending"):
        app.fetch_token(token_url, grant_type=DEVICE_CODE, device_code=grant["device_code"])
    frozen_clock.advance(seconds=1)
    with pytest.raises(OAuthError, match="slow_down"):
        app.fetch_token(token_url, grant_type=DEVICE_CODE, device_code=grant["device_code"])


def test_user_denies_the_device(issuer, browser, device, frozen_clock):
    user = UserFactory()
    console = ClientFactory(grant_types=[DEVICE_CODE])
    app = device(console, token_endpoint_auth_method="client_secret_post")
    grant = requests.post(
        f"{issuer}/o/device_authorization/",
        data={"client_id": console.client_id, "client_secret": console.secret},
        timeout=10,
    ).json()

    log_in(browser, issuer, user.username)
    _consent, done = verify(browser, grant["verification_uri_complete"], "deny")
    assert "You can return to your device." in done

    with pytest.raises(OAuthError, match="access_denied"):
        app.fetch_token(f"{issuer}/o/token/", grant_type=DEVICE_CODE, device_code=grant["device_code"])
    assert not AccessToken.objects.exists()
    assert not Consent.objects.exists()
