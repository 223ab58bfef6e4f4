"""Adversarial: a resource server of another issuer refuses what cannot be
a JWT access token of any issuer (malformed, another ``typ``, a refused
algorithm) as ``invalid_token`` before asking the issuer anything: such a
token is never worth a fetch, and while the issuer is down it must not be
answered 503 ("try again with the same token") either."""

import base64
import json

import pytest

from oauth_provider.errors import InvalidBearerToken
from oauth_provider.remote_resource_server import authenticate

from .test_remote_resource_server import JWKS, OIDC, RFC8414, issuer  # noqa: F401 - the fixture


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "value",
    [
        "abc.def.ghi",
        f"{b64({'typ': 'JWT', 'alg': 'RS256', 'kid': 'k'})}.{b64({})}.c2ln",  # an ID token
        f"{b64({'typ': 'at+jwt', 'alg': 'none', 'kid': 'k'})}.{b64({})}.",
        f"{b64({'typ': 'at+jwt', 'alg': 'HS256', 'kid': 'k'})}.{b64({})}.c2ln",
    ],
)
def test_what_cannot_be_an_access_token_is_refused_without_asking_the_issuer(issuer, value):  # noqa: F811
    with pytest.raises(InvalidBearerToken):
        authenticate(value)
    assert [issuer.asked(path) for path in (RFC8414, OIDC, JWKS)] == [0, 0, 0]
