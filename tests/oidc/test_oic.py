"""pyoidc (the ``oic`` package) as the relying party, with its defaults:
discovery (``provider_config``, which also loads the JWKS), static client
registration, an authentication request with ``state`` and ``nonce``, the
response parsed and checked by ``oic``, the code redeemed with
``client_secret_basic`` (``oic`` verifies the ID token's signature,
issuer, audience and nonce itself), UserInfo, and a refresh.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from oic import rndstr
from oic.oic import Client as OicClient
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationRequest,
    AuthorizationResponse,
    OpenIDSchema,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from .support import REDIRECT_URI

pytestmark = pytest.mark.usefixtures("transactional_db")


def oic_client(op, client) -> OicClient:
    """An ``oic`` client that discovered ``op`` and holds ``client``'s registration."""
    rp = OicClient(client_authn_method=CLIENT_AUTHN_METHOD)
    rp.provider_config(op.url)
    rp.store_registration_info(
        RegistrationResponse(
            client_id=client.client_id,
            client_secret=client.secret,
            redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="client_secret_basic",
            id_token_signed_response_alg=client.id_token_signed_response_alg,
        )
    )
    return rp


def test_oic_signs_in_calls_userinfo_and_refreshes(op, user_agent, person, make_rp):
    client = make_rp()
    rp = oic_client(op, client)
    assert rp.provider_info["issuer"] == op.url
    assert rp.keyjar.get_issuer_keys(op.url), "provider_config loaded the JWKS"
    state, nonce = rndstr(), rndstr()
    url, _body, _headers, _request = rp.request_info(
        AuthorizationRequest,
        method="GET",
        request_args={
            "response_type": "code",
            "scope": ["openid", "profile", "email"],
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "nonce": nonce,
        },
    )

    arrival = user_agent.visit(url)
    response = rp.parse_response(
        AuthorizationResponse, info=urlsplit(arrival.url).query, sformat="urlencoded"
    )
    assert isinstance(response, AuthorizationResponse)
    assert response["state"] == state
    token = rp.do_access_token_request(
        state=state,
        request_args={"code": response["code"], "redirect_uri": REDIRECT_URI},
        authn_method="client_secret_basic",
    )

    # oic raises on a bad signature, issuer, audience or nonce; here it parsed.
    assert isinstance(token, AccessTokenResponse), token.to_dict()
    id_token = token["id_token"]
    assert id_token["iss"] == op.url
    assert id_token["aud"] == [client.client_id]
    assert id_token["nonce"] == nonce
    userinfo = rp.do_user_info_request(state=state)
    assert isinstance(userinfo, OpenIDSchema), userinfo.to_dict()
    assert userinfo["sub"] == id_token["sub"]
    assert userinfo["email"] == "ada@example.com"
    assert userinfo["preferred_username"] == person.username

    refreshed = rp.do_access_token_refresh(state=state, authn_method="client_secret_basic")

    assert isinstance(refreshed, AccessTokenResponse), refreshed.to_dict()
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["id_token"]["sub"] == id_token["sub"]
    assert refreshed["id_token"]["auth_time"] == id_token["auth_time"]
    assert rp.do_user_info_request(state=state)["sub"] == id_token["sub"]
