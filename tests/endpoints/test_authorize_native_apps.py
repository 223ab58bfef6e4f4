"""Remembered consent and clients that cannot prove who they are (RFC 8252 §8.6, RFC 6749 §10.2).

A public client redirecting to a loopback address or a private-use scheme
could be any program on the device: the consent screen is always shown to it,
and ``prompt=none`` answers ``consent_required``. Confidential clients and
public clients on claimed ``https`` redirects keep remembered consent.
"""

import pytest

from oauth_provider.models import AuthorizationCode
from tests.factories import ClientFactory, ConsentFactory, PublicClientFactory
from tests.helpers import authorize_url, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db

NATIVE_REDIRECTS = [
    "http://127.0.0.1/callback",
    "http://127.0.0.1:50123/callback",  # any port (RFC 8252 §7.3)
    "http://[::1]/callback",
    "http://localhost/callback",
    "com.example.app:/callback",
]


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def pkce_url(app, **params):
    _verifier, challenge = pkce_pair()
    return authorize_url(app, code_challenge=challenge, code_challenge_method="S256", **params)


def native_app():
    return PublicClientFactory(
        redirect_uris="\n".join(
            [
                "http://127.0.0.1/callback",
                "http://[::1]/callback",
                "http://localhost/callback",
                "com.example.app:/callback",
                "https://app.example.com/callback",
            ]
        )
    )


@pytest.mark.parametrize("redirect_uri", NATIVE_REDIRECTS)
def test_remembered_consent_does_not_skip_the_screen_for_a_native_public_client(browser, user, redirect_uri):
    app = native_app()
    ConsentFactory(user=user, client=app, scope="read write")
    response = browser.get(pkce_url(app, redirect_uri=redirect_uri, scope="read"))
    assert response.status_code == 200
    assert response.templates[0].name == "oauth_provider/authorize.html"
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize("redirect_uri", NATIVE_REDIRECTS)
def test_prompt_none_answers_consent_required_for_a_native_public_client(browser, user, redirect_uri):
    app = native_app()
    ConsentFactory(user=user, client=app, scope="read write")
    params = redirect_params(browser.get(pkce_url(app, redirect_uri=redirect_uri, prompt="none")))
    assert params["error"] == "consent_required"
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://127.0.0.1:8443/callback",
        "https://[::1]/callback",
        "https://localhost/callback",
        "https://app.localhost/callback",  # RFC 6761 §6.3: every *.localhost is loopback
    ],
)
def test_https_on_a_loopback_host_proves_no_app_either(browser, user, redirect_uri):
    """Any local program can listen on a loopback port, https or not; a
    certificate for localhost proves nothing either."""
    app = PublicClientFactory(redirect_uris=redirect_uri)
    ConsentFactory(user=user, client=app, scope="read")
    params = redirect_params(browser.get(pkce_url(app, redirect_uri=redirect_uri, prompt="none")))
    assert params["error"] == "consent_required"
    assert not AuthorizationCode.objects.exists()


def test_public_client_on_a_claimed_https_redirect_keeps_remembered_consent(browser, user):
    app = native_app()
    ConsentFactory(user=user, client=app, scope="read write")
    url = pkce_url(app, redirect_uri="https://app.example.com/callback", prompt="none")
    assert "code" in redirect_params(browser.get(url))


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1/callback", "com.example.app:/callback"])
def test_confidential_client_keeps_remembered_consent_on_any_redirect(browser, user, redirect_uri):
    app = ClientFactory(redirect_uris=redirect_uri)
    ConsentFactory(user=user, client=app, scope="read")
    assert "code" in redirect_params(browser.get(authorize_url(app, redirect_uri=redirect_uri)))


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1/callback", "com.example.app:/callback"])
def test_a_confidential_clients_implicit_token_is_not_issued_silently_either(
    browser, user, settings, redirect_uri
):
    """A confidential client proves itself only at the token endpoint; the
    implicit grant hands the token straight to the redirect URI, where any
    local program could be listening."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "refresh_token", "implicit"],
    }
    app = ClientFactory(redirect_uris=redirect_uri, grant_types=["implicit"])
    ConsentFactory(user=user, client=app, scope="read")
    url = authorize_url(app, response_type="token", redirect_uri=redirect_uri, prompt="none")
    response = browser.get(url)
    assert response.status_code == 302
    assert "error=consent_required" in response["Location"].partition("#")[2]
    assert "access_token" not in response["Location"]


def test_the_screen_still_works_for_a_native_public_client(browser, user):
    app = native_app()
    ConsentFactory(user=user, client=app, scope="read")
    response = browser.post(pkce_url(app, redirect_uri="com.example.app:/callback"), {"action": "allow"})
    assert response["Location"].startswith("com.example.app:/callback?code=")


def test_a_first_party_native_client_marked_by_an_admin_still_skips(browser):
    """``skip_consent`` is an admin's decision about the app itself, not remembered consent."""
    app = PublicClientFactory(skip_consent=True)
    url = pkce_url(app, redirect_uri="http://127.0.0.1/callback")
    assert "code" in redirect_params(browser.get(url))
