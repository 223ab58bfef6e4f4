"""Builders shared by the ID token and authentication request tests."""

import warnings
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from oauth_provider import signing_keys
from tests.helpers import REDIRECT_URI, basic_auth, post_token

ISSUER = "https://auth.example.com"
STATE = "af0ifjsldkj"
NONCE = "n-0S6_WzA2Mj"
# The scopes of an OpenID Provider (Core 1.0 §5.4) next to the test settings' own.
OPENID_SCOPES = {
    "openid": "Sign you in",
    "profile": "Your name and username",
    "email": "Your e-mail address",
    "read": "Read your data",
    "write": "Change your data",
}


def enable_openid(settings, **extra):
    """Give the server the openid, profile and email scopes (and ``extra`` settings)."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": OPENID_SCOPES, **extra}


def decode(id_token):
    """(header, claims) of ``id_token``, verified with the keys JWKS publishes
    now (as a relying party would get them: public members only)."""
    key_set = KeySet.import_key_set(signing_keys.jwks())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=signing_keys.EDDSA_WARNING)
        token = jwt.decode(id_token, key_set, algorithms=list(signing_keys.ALGORITHMS))
    return token.header, token.claims


def fragment_params(response):
    """The fragment parameters of a redirect; asserts nothing went in the query."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response["Location"])
    assert parts.query == "", response["Location"]
    return {key: values[0] for key, values in parse_qs(parts.fragment).items()}


def redeem(api_client, app, code):
    """The token endpoint's successful answer to redeeming ``code`` (for ``app``, with a secret)."""
    response = post_token(
        api_client,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert response.status_code == 200, response.json()
    return response.json()
