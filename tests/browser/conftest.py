"""Real-browser tests: Playwright driving Debian's Chromium (never `playwright install`).

The ``chromium`` and ``page`` fixtures live in tests/conftest.py, so that one
browser serves these tests and the OpenID Connect ones (tests/oidc): two
Playwright instances cannot run at once. Without /usr/bin/chromium they are
skipped on a developer machine and fail in CI (CI=true), where .ci/run installs it.
"""

from pathlib import Path

import pytest
import requests

from tests.factories import PASSWORD
from tests.helpers import basic_auth

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def issuer(live_server, settings):
    """The live server is the issuer, so the URLs the server hands out
    (``verification_uri``, ``iss``) point at it. The server runs in a thread
    of this process, so ``settings`` (and ``frozen_clock``) reach it."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": live_server.url}
    return live_server.url


def sign_in(page, user, password: str = PASSWORD) -> None:
    """Fill in the login form the page was sent to and submit it."""
    page.wait_for_url("**/accounts/login/?next=**")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def exchange_code(server: str, client_id: str, secret: str, code: str, verifier: str) -> dict:
    """Redeem an authorization code at the token endpoint, as the client's back end would."""
    response = requests.post(
        f"{server}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{server}/callback/",
            "code_verifier": verifier,
        },
        headers={"Authorization": basic_auth(client_id, secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def call_api(server: str, access_token: str) -> requests.Response:
    """GET /api/me/ with a bearer token."""
    return requests.get(f"{server}/api/me/", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)
