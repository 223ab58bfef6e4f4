"""Key rotation end to end: a relying party that cached the provider's JWKS
keeps validating ID tokens through ``manage.py rotatekeys`` with no failure.

The relying party is Authlib's Django client (``OAuth().register(...,
server_metadata_url=...)``): it caches the JWKS it fetched from the
discovered ``jwks_uri`` and, on an ID token whose ``kid`` it does not know,
fetches the JWKS again once (``OpenIDMixin.parse_id_token``). Time moves with
``frozen_clock`` for the provider, and for the relying party through
joserfc's clock (which Authlib's claim checks use), as both would on real
machines.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
import requests
from authlib.integrations.django_client import OAuth
from django.core.management import call_command

from .support import REDIRECT_URI, TIMEOUT, jwt_header, url_params

pytestmark = pytest.mark.usefixtures("transactional_db")

ACTIVATION_DELAY = 2 * 24 * 3600  # OIDC_KEY_ACTIVATION_DELAY_SECONDS' default
ID_TOKEN_LIFETIME = 3600  # ID_TOKEN_EXPIRE_SECONDS' default


@pytest.fixture
def rp_clock(frozen_clock, monkeypatch):
    """The relying party's clock (joserfc's "now", behind Authlib's exp/iat
    checks) follows the provider's frozen clock."""
    monkeypatch.setattr("joserfc._rfc7519.claims._generate_now", lambda: int(frozen_clock().timestamp()))
    return frozen_clock


class CountingApp:
    """Authlib's registered client, counting the JWKS fetches it makes."""

    def __init__(self, op, client) -> None:
        oauth = OAuth()
        self.app = oauth.register(
            "provider",
            client_id=client.client_id,
            client_secret=client.secret,
            server_metadata_url=op.discovery_url,
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
        )
        self.jwks_fetches = 0
        fetch = self.app.fetch_jwk_set

        def counting_fetch(force: bool = False) -> dict:
            if force or "jwks" not in self.app.server_metadata:
                self.jwks_fetches += 1
            return fetch(force=force)

        self.app.fetch_jwk_set = counting_fetch

    def sign_in(self, user_agent) -> tuple[dict, dict]:
        """The code flow, then ``parse_id_token`` with Authlib's defaults.
        Returns the token response and the validated claims."""
        request = self.app.create_authorization_url(REDIRECT_URI)
        params = url_params(user_agent.visit(request["url"]).url)
        assert params["state"] == request["state"]
        token = self.app.fetch_access_token(
            redirect_uri=REDIRECT_URI, code=params["code"], code_verifier=request["code_verifier"]
        )
        return token, self.validate(token, request["nonce"])

    def validate(self, token: dict, nonce: str) -> dict:
        return dict(self.app.parse_id_token(token, nonce))


def kid(token: dict) -> str:
    return jwt_header(token["id_token"])["kid"]


def published_kids(op) -> set[str]:
    return {key["kid"] for key in op.jwks()["keys"]}


def test_cached_jwks_keeps_validating_through_a_rotation(op, user_agent, make_rp, rp_clock):
    rp = CountingApp(op, make_rp())
    token, first = rp.sign_in(user_agent)
    old_kid = kid(token)
    assert rp.jwks_fetches == 1
    jwks_response = requests.get(op.discovery()["jwks_uri"], timeout=TIMEOUT)
    max_age = int(re.search(r"max-age=(\d+)", jwks_response.headers["Cache-Control"]).group(1))
    # A relying party honouring the cache lifetime learns a pending key before it signs.
    assert 0 < max_age <= ACTIVATION_DELAY

    call_command("rotatekeys", stdout=StringIO())

    new_kids = published_kids(op) - {key["kid"] for key in rp.app.server_metadata["jwks"]["keys"]}
    assert new_kids, "the pending keys are published at once"
    token, claims = rp.sign_in(user_agent)
    assert kid(token) == old_kid, "a pending key does not sign yet"

    rp_clock.advance(seconds=ACTIVATION_DELAY - 60)
    last_old, claims = rp.sign_in(user_agent)
    assert kid(last_old) == old_kid
    assert rp.jwks_fetches == 1, "the cached JWKS was enough so far"

    rp_clock.advance(seconds=61)
    token, claims = rp.sign_in(user_agent)
    assert kid(token) in new_kids, "the new key signs once active"
    assert rp.jwks_fetches == 2, "one JWKS fetch on the unknown kid"
    assert claims["sub"] == first["sub"]
    # A token the retired key signed a minute before is still good: its key is still published.
    assert old_kid in published_kids(op)
    assert rp.validate(last_old, None)["sub"] == first["sub"]

    rp_clock.advance(seconds=ID_TOKEN_LIFETIME)
    assert old_kid not in published_kids(op), "gone once every token it signed has expired"
    token, claims = rp.sign_in(user_agent)
    assert kid(token) in new_kids
    assert rp.jwks_fetches == 2
