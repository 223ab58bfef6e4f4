"""``mozilla-django-oidc`` as a second Django site signing people in through
our provider, in Chromium: "Sign in" on the relying party, the provider's
login page and consent screen, back on the relying party signed in as a user
it created from the claims (RS256 ID token checked against
``OIDC_OP_JWKS_ENDPOINT``, nonce, PKCE, UserInfo). Then "Sign out" on the
relying party ends the provider session too (RP-Initiated Logout through
``OIDC_OP_LOGOUT_URL_METHOD``) and lands back on the relying party.

The relying party runs in a subprocess (``rp_site/serve.py``) with its own
SQLite database; it only talks HTTP to the live server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oauth_provider.models import Client

from . import browser
from .support import url_params

pytestmark = pytest.mark.usefixtures("transactional_db")

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RelyingPartySite:
    url: str
    client: Client


@pytest.fixture
def rp_site(op, make_rp, tmp_path) -> Iterator[RelyingPartySite]:
    """The relying-party site, registered at the provider as a confidential
    client, served until the test ends."""
    client = make_rp(name="Intranet")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc.rp_site.settings",
        "RP_PROVIDER_URL": op.url,
        "RP_CLIENT_ID": client.client_id,
        "RP_CLIENT_SECRET": client.secret,
        "RP_DATABASE": str(tmp_path / "rp.sqlite3"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc.rp_site.serve"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the relying party did not start (exit code {process.poll()})"
        url = f"http://127.0.0.1:{port}"
        # Registered once its port is known.
        client.redirect_uris = f"{url}/oidc/callback/"
        client.post_logout_redirect_uris = f"{url}/"
        client.save()
        yield RelyingPartySite(url, client)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_mozilla_django_oidc_signs_in_and_out_through_the_provider(op, person, rp_site, page):
    page.goto(rp_site.url)
    sign_in_link = page.get_attribute("#sign-in", "href")

    browser.sign_in(page, rp_site.url + sign_in_link, person, until=rp_site.url + "/")

    page.wait_for_selector("#user")
    assert page.inner_text("#username") == person.username
    assert page.inner_text("#email") == "ada@example.com"

    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    with page.expect_navigation(url=f"{rp_site.url}/"):
        page.click("#sign-out")
    page.wait_for_selector("#anonymous")
    # By way of the provider's end_session_endpoint, with the ID token as hint.
    (logout,) = [url for url in visited if url.startswith(f"{op.url}/o/logout/?")]
    assert url_params(logout)["post_logout_redirect_uri"] == f"{rp_site.url}/"
    assert "id_token_hint" in url_params(logout)
    # Signed out at the provider as well: its pages ask for a login again.
    page.goto(f"{op.url}/o/authorized-apps/")
    assert "/accounts/login/" in page.url
