"""Adversarial: a resource server of another issuer refuses what cannot be
a JWT access token of any issuer (malformed, another ``typ``, a refused
algorithm) as ``invalid_token`` even while the issuer is down: a 503 would
tell the client to try the same token again. And the issuer's answers are
input too: times out of range are no server error."""

import base64
import json

import pytest

from oauth_provider.errors import InvalidBearerToken
from oauth_provider.remote_resource_server import IssuerUnavailable, authenticate

from .test_remote_resource_server import JWKS, issuer  # noqa: F401 - the fixture


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
def test_what_cannot_be_an_access_token_is_invalid_while_the_issuer_is_down(issuer, value):  # noqa: F811
    del issuer.site.routes[JWKS]
    with pytest.raises(InvalidBearerToken):
        authenticate(value)


def test_what_could_be_one_is_unavailable_while_the_issuer_is_down(issuer):  # noqa: F811
    del issuer.site.routes[JWKS]
    with pytest.raises(IssuerUnavailable):
        authenticate(issuer.sign())


@pytest.mark.parametrize("exp", [10**13, -(10**13)])  # milliseconds (a common slip), or before 1970
def test_an_introspection_answer_with_an_exp_out_of_range_is_an_invalid_token(issuer, exp):  # noqa: F811
    """The issuer's answer is input too: a time no datetime can hold makes
    the token unusable, never a 500."""
    issuer.answer("opaque-token", exp=exp)
    with pytest.raises(InvalidBearerToken):
        authenticate("opaque-token")


def test_an_introspection_answer_with_an_iat_out_of_range_ignores_it(issuer):  # noqa: F811
    """``iat`` is optional (RFC 7662 §2.2): one that cannot be a time is as if absent."""
    issuer.answer("opaque-token", iat=10**13)
    assert authenticate("opaque-token").issued_at.year < 9999


def test_a_jwt_with_an_exp_out_of_range_is_an_invalid_token(issuer):  # noqa: F811
    with pytest.raises(InvalidBearerToken):
        authenticate(issuer.sign({"exp": 10**13}))
