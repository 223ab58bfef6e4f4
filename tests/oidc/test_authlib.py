"""Authlib as the relying party: discovery, the code flow with PKCE and a
nonce, and the ID token validated by Authlib's own OIDC claims class
(``CodeIDToken``: ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``azp``,
``at_hash``) with the keys from the discovered ``jwks_uri``, for each
signing algorithm a client may pick. Then UserInfo and a refresh (OIDC Core
§12.2: a new ID token, same ``sub`` and ``auth_time``).
"""

from __future__ import annotations

import warnings

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken, UserInfo
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from .support import EDDSA_WARNING, REDIRECT_URI, close_session

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def relying_party():
    """Builds the relying party's ``OAuth2Session``; closes them afterwards so
    no keep-alive connection outlives the live server."""
    sessions = []

    def make(client, **kwargs: object) -> OAuth2Session:
        session = OAuth2Session(
            client.client_id,
            client.secret,
            scope="openid profile email",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            **kwargs,
        )
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        close_session(session)


def validate_id_token(session: OAuth2Session, metadata: dict, token: dict, nonce: str | None) -> CodeIDToken:
    """What an Authlib relying party does with a token response: the keys
    from ``jwks_uri``, the algorithms the provider announces, then Authlib's
    ``CodeIDToken`` rules with the issuer and client it expects."""
    jwks = session.get(metadata["jwks_uri"], withhold_token=True).json()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=EDDSA_WARNING)
        decoded = jwt.decode(
            token["id_token"],
            KeySet.import_key_set(jwks),
            registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
        )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": session.client_id},
        },
        {"nonce": nonce, "client_id": session.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=120)  # Authlib's default leeway (parse_id_token)
    return claims


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_authlib_signs_in_and_validates_the_id_token(op, user_agent, person, make_rp, relying_party, alg):
    client = make_rp(id_token_signed_response_alg=alg)
    session = relying_party(client)
    metadata = session.get(op.discovery_url, withhold_token=True).json()
    assert alg in metadata["id_token_signing_alg_values_supported"]
    nonce, verifier = generate_token(20), generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )

    arrival = user_agent.visit(url)
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=arrival.url, state=state, code_verifier=verifier
    )
    claims = validate_id_token(session, metadata, token, nonce)

    assert arrival.pages == ["login", "consent"]
    assert claims.header["alg"] == alg
    assert claims["aud"] in (client.client_id, [client.client_id])
    assert claims["nonce"] == nonce
    assert claims["at_hash"]  # checked against the access token by CodeIDToken
    assert isinstance(claims["auth_time"], int)
    assert claims["sub"] not in (str(person.pk), person.username)  # Core §8: no database key leaks
    userinfo = UserInfo(session.get(metadata["userinfo_endpoint"]).json())
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == "ada@example.com"
    assert userinfo["preferred_username"] == person.username
    assert userinfo["name"] == "Ada Lovelace"


def test_authlib_refresh_gives_a_new_id_token_for_the_same_sign_in(
    op, user_agent, make_rp, relying_party, frozen_clock
):
    client = make_rp(id_token_signed_response_alg="ES256")
    session = relying_party(client)
    metadata = session.get(op.discovery_url, withhold_token=True).json()
    nonce, verifier = generate_token(20), generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    arrival = user_agent.visit(url)
    first = session.fetch_token(
        metadata["token_endpoint"], authorization_response=arrival.url, state=state, code_verifier=verifier
    )
    signed_in = validate_id_token(session, metadata, first, nonce)

    frozen_clock.advance(seconds=1)
    refreshed = session.refresh_token(metadata["token_endpoint"])
    # No new authentication request, so no nonce to expect (Core §12.2).
    again = validate_id_token(session, metadata, refreshed, None)

    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["id_token"] != first["id_token"]
    # Core §12.2: same iss, sub, aud, azp; auth_time of the original sign-in; a new iat.
    for claim in ("iss", "sub", "aud", "auth_time"):
        assert again[claim] == signed_in[claim], claim
    assert again.get("azp") == signed_in.get("azp")
    assert again["iat"] == signed_in["iat"] + 1
    assert session.get(metadata["userinfo_endpoint"]).json()["sub"] == signed_in["sub"]
