"""The OpenID Foundation's Basic OP certification plan
(``oidcc-basic-certification-test-plan``: static client, ``response_type=code``,
``client_secret_basic``), replicated over HTTP against the live server.

One test per test module of the plan, named after it, asserting what its
conditions assert (the conformance suite's class names are quoted where
useful). Verification uses joserfc with the keys from the discovered
``jwks_uri``. The table of results is in the README ("Which OpenID
certification checks pass").
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from collections import Counter

import pytest
import requests
from django.core.exceptions import ValidationError

from oauth_provider.pkce import s256

from .support import (
    REDIRECT_URI,
    TIMEOUT,
    USER_INTERFACE_ERRORS,
    CodeFlow,
    check_token_response,
    url_params,
    verify_id_token,
)

pytestmark = pytest.mark.usefixtures("transactional_db")

SCOPE_CLAIMS = {
    "profile": {"name", "given_name", "family_name", "preferred_username"},
    "email": {"email", "email_verified"},
    "address": {"address"},
    "phone": {"phone_number", "phone_number_verified"},
}
# ValidateUserInfoStandardClaims (OIDC Core §5.1): the type of each standard claim.
STRING_CLAIMS = {
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
    "picture", "website", "email", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
}  # fmt: skip
BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}


@pytest.fixture
def profile_claims(settings):
    """Claims beyond Django's user model (address, phone), as a site would add them."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_CLAIMS_PROVIDER": "tests.oidc.claims.ProfileClaims",
    }


def shannon_bits(value: str) -> float:
    """AbstractEnsureMinimumEntropy: Shannon entropy per character times length."""
    counts = Counter(value)
    per_character = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_character * len(value)


def check_userinfo(response: requests.Response, sign_in) -> dict:
    """OIDC Core §5.3.2 and the suite's ValidateUserInfoStandardClaims,
    EnsureUserInfoContainsSub and VerifyUserInfoAndIdTokenInTokenEndpointSameSub."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    userinfo = response.json()
    assert userinfo["sub"] == sign_in.id_token["sub"]
    for name, value in userinfo.items():
        if name in STRING_CLAIMS:
            assert isinstance(value, str), name
        if name in BOOLEAN_CLAIMS:
            assert isinstance(value, bool), name
    if "address" in userinfo:
        assert isinstance(userinfo["address"], dict)
    if "updated_at" in userinfo:
        assert isinstance(userinfo["updated_at"], int)
    return userinfo


def check_jwks(jwks: dict) -> None:
    """ValidateServerJWKs, CheckForKeyIdInServerJWKs and
    EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys (RFC 7517, RFC 7518 §6)."""
    assert jwks["keys"]
    kids = [key.get("kid") for key in jwks["keys"]]
    assert all(kids) and len(set(kids)) == len(kids)
    members = {"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}
    for key in jwks["keys"]:
        assert members[key["kty"]] <= set(key), key
        assert not {"d", "p", "q", "dp", "dq", "qi", "k", "oth"} & set(key), (
            "private or symmetric key material"
        )
        assert key.get("use", "sig") == "sig"


# --- oidcc-server: the happy flow ---------------------------------------------------------


def test_oidcc_server(op, flow):
    """oidcc-server: discovery and JWKS sane, the code flow, the ID token
    valid (signature by kid, iss, aud, exp, iat, nonce, sub, at_hash), an
    unguessable code, then the access token works at UserInfo."""
    discovery = op.discovery()
    # CheckServerConfiguration
    for member in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert discovery[member]
    check_jwks(op.jwks())

    sign_in = flow.sign_in(scope="openid profile email")

    code = sign_in.code
    assert len(code.encode()) * 8 >= 128  # EnsureMinimumAuthorizationCodeLength
    assert shannon_bits(code) > 96  # EnsureMinimumAuthorizationCodeEntropy
    assert sign_in.id_token["nonce"] == sign_in.nonce  # ValidateIdTokenNonce
    # OP-IDToken-at_hash: optional at the token endpoint, checked when present.
    assert "at_hash" in sign_in.id_token
    # EnsureIdTokenDoesNotContainName: claims go to UserInfo when an access token is issued.
    assert "name" not in sign_in.id_token
    check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)


def test_oidcc_server_client_secret_post(op, flow):
    """oidcc-server with the client_secret_post variant (OP-ClientAuth-SecretPost)."""
    assert "client_secret_post" in op.discovery()["token_endpoint_auth_methods_supported"]

    sign_in = flow.sign_in(auth="client_secret_post")

    check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)


def test_oidcc_response_type_missing(op, flow):
    """oidcc-response-type-missing: no response_type; the server shows an
    error or redirects with invalid_request / unsupported_response_type
    (RFC 6749 §4.1.2.1), never a code."""
    arrival = flow.agent.visit(flow.request_url(response_type=None, state="xyz", nonce="n"))

    if arrival.url is None:
        assert arrival.page.status_code == 400
    else:
        params = arrival.params
        assert params["error"] in ("invalid_request", "unsupported_response_type")
        assert params["state"] == "xyz"
        assert "code" not in params


# --- ID tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_oidcc_idtoken_signature(op, make_rp, user_agent, alg):
    """oidcc-idtoken-signature (OP-IDToken-Signature, OP-IDToken-kid): the ID
    token is signed with the client's algorithm by a key JWKS publishes
    under the header's kid (ValidateIdTokenSignatureUsingKid)."""
    client = make_rp(id_token_signed_response_alg=alg)

    sign_in = CodeFlow(op, client, user_agent).sign_in()

    header = json.loads(base64.urlsafe_b64decode(sign_in.raw_id_token.split(".")[0] + "=="))
    assert header["alg"] == alg
    (key,) = [key for key in op.jwks()["keys"] if key["kid"] == header["kid"]]
    assert key.get("alg", alg) == alg


def test_oidcc_idtoken_rs256(op, flow):
    """oidcc-idtoken-rs256 (dynamic plan, here with a client registered for
    RS256, the algorithm OIDC Core §15.1 makes mandatory)."""
    assert flow.client.id_token_signed_response_alg == "RS256"

    sign_in = flow.sign_in()

    header = json.loads(base64.urlsafe_b64decode(sign_in.raw_id_token.split(".")[0] + "=="))
    assert header["alg"] == "RS256"


def test_oidcc_idtoken_unsigned(op, make_rp):
    """oidcc-idtoken-unsigned: not applicable to a static client (the suite
    registers one asking for alg "none"). The server never offers "none",
    and a client cannot be registered with it."""
    assert "none" not in op.discovery()["id_token_signing_alg_values_supported"]
    client = make_rp(id_token_signed_response_alg="none")
    with pytest.raises(ValidationError) as refused:
        client.full_clean()
    assert "id_token_signed_response_alg" in refused.value.message_dict


# --- UserInfo ----------------------------------------------------------------------------


def test_oidcc_userinfo_get(flow):
    """oidcc-userinfo-get: GET with the access token in the Authorization header."""
    sign_in = flow.sign_in(scope="openid email")

    check_userinfo(flow.userinfo(sign_in.token["access_token"], "GET"), sign_in)


def test_oidcc_userinfo_post_header(flow):
    """oidcc-userinfo-post-header: POST with the access token in the Authorization header."""
    sign_in = flow.sign_in(scope="openid email")

    check_userinfo(flow.userinfo(sign_in.token["access_token"], "POST"), sign_in)


def test_oidcc_userinfo_post_body(flow):
    """oidcc-userinfo-post-body: POST with the access token in the form body
    (RFC 6750 §2.2)."""
    sign_in = flow.sign_in(scope="openid email")

    check_userinfo(flow.userinfo(sign_in.token["access_token"], in_body=True), sign_in)


# --- nonce, scopes and request parameters ------------------------------------------------


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(flow):
    """oidcc-ensure-request-without-nonce-succeeds-for-code-flow: nonce is
    optional in the code flow (Core §3.1.2.1); then the ID token has none."""
    sign_in = flow.sign_in(nonce=None)

    assert "nonce" not in sign_in.id_token


def check_scope(flow: CodeFlow, scope: str) -> dict:
    """AbstractOIDCCReturnedClaimsServerTest: the scope is in scopes_supported
    (OIDCCCheckScopesSupportedContainScopeTest), UserInfo answers with valid
    standard claims, some for each requested scope
    (VerifyScopesReturnedInUserInfoClaims), none for scopes not granted."""
    requested = set(scope.split()) - {"openid"}
    assert requested <= set(flow.provider.discovery()["scopes_supported"])
    sign_in = flow.sign_in(scope=scope)
    userinfo = check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)
    for name, claims in SCOPE_CLAIMS.items():
        if name in requested:
            assert claims & set(userinfo), f"no {name} claim in {userinfo}"
        else:
            assert not claims & set(userinfo), f"{name} claims without the {name} scope"
    return userinfo


def test_oidcc_scope_profile(flow, profile_claims, person):
    userinfo = check_scope(flow, "openid profile")

    assert userinfo["preferred_username"] == person.username
    assert userinfo["name"] == "Ada Lovelace"


def test_oidcc_scope_email(flow, profile_claims):
    userinfo = check_scope(flow, "openid email")

    assert userinfo["email"] == "ada@example.com"
    assert userinfo["email_verified"] is True


def test_oidcc_scope_address(flow, profile_claims):
    userinfo = check_scope(flow, "openid address")

    assert userinfo["address"]["locality"] == "London"


def test_oidcc_scope_phone(flow, profile_claims):
    userinfo = check_scope(flow, "openid phone")

    assert userinfo["phone_number"] == "+44 20 7946 0000"


def test_oidcc_scope_all(flow, profile_claims):
    check_scope(flow, "openid profile email address phone")


def test_oidcc_ensure_other_scope_order_succeeds(flow):
    """oidcc-ensure-other-scope-order-succeeds: "email openid" works as "openid email"."""
    sign_in = flow.sign_in(scope="email openid")

    assert check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)["email"]


@pytest.mark.parametrize("display", ["page", "popup"])
def test_oidcc_display_page_and_popup(flow, display):
    """oidcc-display-page and oidcc-display-popup: display is a hint; the request succeeds."""
    sign_in = flow.sign_in(display=display)

    assert sign_in.arrival.pages == ["login", "consent"]


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(flow):
    """oidcc-ensure-request-with-unknown-parameter-succeeds (OP-Req-NotUnderstood):
    unknown parameters are ignored (Core §3.1.2.1)."""
    sign_in = flow.sign_in(extra="foobar")

    assert sign_in.arrival.pages == ["login", "consent"]


def test_oidcc_login_hint(flow, person):
    """oidcc-login-hint: login_hint is accepted, and handed to the login page."""
    to_login = requests.get(
        flow.request_url(login_hint=person.email, state="xyz", nonce="n"),
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    sign_in = flow.sign_in(login_hint=person.email)

    assert url_params(to_login.headers["Location"])["login_hint"] == person.email
    assert sign_in.arrival.pages == ["login", "consent"]


def test_oidcc_ui_locales(flow):
    """oidcc-ui-locales: ui_locales is accepted, even for a language the site lacks."""
    sign_in = flow.sign_in(ui_locales="se")

    assert sign_in.arrival.pages == ["login", "consent"]


def test_oidcc_claims_locales(flow):
    """oidcc-claims-locales: claims_locales is accepted."""
    sign_in = flow.sign_in(claims_locales="se", scope="openid profile")

    check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)


def test_oidcc_ensure_request_with_acr_values_succeeds(flow):
    """oidcc-ensure-request-with-acr-values-succeeds: acr_values (voluntary) is
    accepted; no acr is claimed that was not met (ValidateIdTokenACRClaimAgainstRequest)."""
    sign_in = flow.sign_in(acr_values="1 2")

    assert sign_in.id_token.get("acr") in (None, "1", "2")


def test_oidcc_ensure_request_with_valid_pkce_succeeds(flow):
    """oidcc-ensure-request-with-valid-pkce-succeeds: S256 PKCE from a confidential client."""
    verifier = secrets.token_urlsafe(48)
    arrival, _state, nonce = flow.authorize(code_challenge=s256(verifier), code_challenge_method="S256")
    response = flow.token_request(
        {
            "grant_type": "authorization_code",
            "code": arrival.params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    )

    token = check_token_response(response)
    verify_id_token(flow.provider, token["id_token"], flow.client.client_id, nonce=nonce)


def test_oidcc_claims_essential(flow, person):
    """oidcc-claims-essential: name asked as an essential UserInfo claim
    (Core §5.5). The request succeeds; name comes back from UserInfo (the
    profile scope is granted: claims are never released beyond the granted
    scopes) and not in the ID token (EnsureIdTokenDoesNotContainName)."""
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})

    sign_in = flow.sign_in(scope="openid profile", claims=claims)

    assert "name" not in sign_in.id_token
    assert check_userinfo(flow.userinfo(sign_in.token["access_token"]), sign_in)["name"] == "Ada Lovelace"


# --- prompt, max_age, id_token_hint ------------------------------------------------------


def test_oidcc_prompt_login(flow, frozen_clock):
    """oidcc-prompt-login: a second request with prompt=login shows the login
    page again, for the same sub, with a later auth_time
    (CheckSecondIdTokenAuthTimeIsLaterIfPresent)."""
    first = flow.sign_in()
    frozen_clock.advance(seconds=1)

    second = flow.sign_in(prompt="login")

    assert second.arrival.pages[0] == "login"
    assert second.id_token["sub"] == first.id_token["sub"]
    assert second.id_token["auth_time"] > first.id_token["auth_time"]


def test_oidcc_prompt_none_not_logged_in(op, flow):
    """oidcc-prompt-none-not-logged-in: no session, prompt=none: an error
    that needs a user interface, redirected with the state, no page shown."""
    arrival = flow.agent.visit(flow.request_url(prompt="none", state="xyz", nonce="n"))

    assert arrival.pages == []
    assert arrival.params["error"] in USER_INTERFACE_ERRORS
    assert arrival.params["state"] == "xyz"
    assert arrival.params["iss"] == op.url


def test_oidcc_prompt_none_logged_in(flow):
    """oidcc-prompt-none-logged-in: signed in, prompt=none succeeds with no
    page, the same sub and auth_time (AbstractOIDCCSameAuthTwiceServerTest)."""
    first = flow.sign_in()

    second = flow.sign_in(prompt="none")

    assert second.arrival.pages == []
    assert second.id_token["sub"] == first.id_token["sub"]
    assert second.id_token["auth_time"] == first.id_token["auth_time"]


def test_oidcc_max_age_1(flow, frozen_clock):
    """oidcc-max-age-1: two seconds after signing in, max_age=1 asks for a
    login again; the ID token then carries a later, recent auth_time
    (CheckIdTokenAuthTimeClaimPresentDueToMaxAge, CheckSecondIdTokenAuthTimeIsLaterIfPresent)."""
    first = flow.sign_in()
    frozen_clock.advance(seconds=2)

    second = flow.sign_in(max_age="1")

    assert second.arrival.pages[0] == "login"
    assert second.id_token["auth_time"] > first.id_token["auth_time"]
    assert second.id_token["auth_time"] >= int(frozen_clock().timestamp()) - 1


def test_oidcc_max_age_10000(flow, frozen_clock):
    """oidcc-max-age-10000: a recent enough login is reused; auth_time is
    present (max_age was asked) and the same."""
    first = flow.sign_in()
    frozen_clock.advance(seconds=2)

    second = flow.sign_in(max_age="10000")

    assert "login" not in second.arrival.pages
    assert second.id_token["auth_time"] == first.id_token["auth_time"]


def test_oidcc_id_token_hint(flow):
    """oidcc-id-token-hint: prompt=none with the first ID token as
    id_token_hint succeeds for the same sub."""
    first = flow.sign_in()

    second = flow.sign_in(prompt="none", id_token_hint=first.raw_id_token)

    assert second.arrival.pages == []
    assert second.id_token["sub"] == first.id_token["sub"]


# --- codes, redirect URIs, request objects, refresh --------------------------------------


def test_oidcc_codereuse(flow):
    """oidcc-codereuse (OP-OAuth-2nd): a code works once; again, invalid_grant."""
    sign_in = flow.sign_in()

    again = flow.redeem(sign_in.code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_oidcc_codereuse_30seconds(flow, frozen_clock):
    """oidcc-codereuse-30seconds (OP-OAuth-2nd-30s, OP-OAuth-2nd-Revokes): 30 s
    later the reused code is refused and the access token it gave is revoked."""
    sign_in = flow.sign_in()
    assert flow.userinfo(sign_in.token["access_token"]).status_code == 200
    frozen_clock.advance(seconds=30)

    again = flow.redeem(sign_in.code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    revoked = flow.userinfo(sign_in.token["access_token"])
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["WWW-Authenticate"]


def test_oidcc_ensure_registered_redirect_uri(flow):
    """oidcc-ensure-registered-redirect-uri (OP-redirect_uri-NotReg): an
    unregistered redirect_uri gets an error page, never a redirect."""
    url = flow.request_url(redirect_uri="https://attacker.example/callback", state="xyz", nonce="n")

    arrival = flow.agent.visit(url)

    assert arrival.url is None
    assert arrival.page.status_code == 400


def test_oidcc_ensure_post_request_succeeds(flow):
    """oidcc-ensure-post-request-succeeds: the authentication request sent
    with POST, form-encoded (Core §3.1.2.1: servers MUST support GET and POST)."""
    query = {
        "response_type": "code",
        "client_id": flow.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "xyz",
        "nonce": "n-0S6_WzA2Mj",
    }

    arrival = flow.agent.visit(f"{flow.provider.url}/o/authorize/", method="POST", data=query)

    assert arrival.url is not None, arrival.page is not None and arrival.page.text[:500]
    assert arrival.params["state"] == "xyz"
    token = check_token_response(flow.redeem(arrival.params["code"]))
    verify_id_token(flow.provider, token["id_token"], flow.client.client_id, nonce="n-0S6_WzA2Mj")


def unsigned_request_object(claims: dict) -> str:
    """A request object with alg "none" (Core §6.1)."""

    def encode(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{encode({'alg': 'none'})}.{encode(claims)}."


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(op, flow):
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported
    (OP-request-Unsigned): request objects are not supported, so the answer
    is request_not_supported (Core §3.1.2.6), redirected with the state, and
    discovery says so (request_parameter_supported false)."""
    assert op.discovery().get("request_parameter_supported", False) is False
    request_object = unsigned_request_object(
        {"client_id": flow.client.client_id, "redirect_uri": REDIRECT_URI, "scope": "openid", "nonce": "n"}
    )

    arrival = flow.agent.visit(flow.request_url(request=request_object, state="xyz", nonce="n"))

    assert arrival.params["error"] == "request_not_supported"
    assert arrival.params["state"] == "xyz"
    assert "code" not in arrival.params


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(op, flow):
    """oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported
    (OP-request_uri-Unsigned; the suite runs it with dynamic clients only):
    request_uri is not supported: request_uri_not_supported, never a fetch."""
    assert op.discovery().get("request_uri_parameter_supported") is False

    arrival = flow.agent.visit(
        flow.request_url(request_uri="https://rp.example.com/request.jwt", state="xyz", nonce="n")
    )

    assert arrival.params["error"] == "request_uri_not_supported"
    assert arrival.params["state"] == "xyz"


def test_oidcc_ensure_request_object_with_redirect_uri(flow):
    """oidcc-ensure-request-object-with-redirect-uri: a valid redirect_uri in
    the request object and an unregistered one outside. The suite skips it
    when request objects are unsupported; what matters still holds: nothing
    is sent to the unregistered URI."""
    request_object = unsigned_request_object(
        {"client_id": flow.client.client_id, "redirect_uri": REDIRECT_URI, "scope": "openid", "nonce": "n"}
    )
    url = flow.request_url(
        request=request_object, redirect_uri="https://attacker.example/callback", state="xyz", nonce="n"
    )

    arrival = flow.agent.visit(url)

    assert arrival.url is None or arrival.url.startswith(REDIRECT_URI + "?")
    if arrival.url is not None:
        assert arrival.params["error"] == "request_not_supported"


def test_oidcc_refresh_token(op, flow, make_rp, frozen_clock):
    """oidcc-refresh-token: refresh gives a new access token and an ID token
    with the same iss, sub, aud, azp and auth_time and a new iat
    (CompareIdTokenClaims, Core §12.2); a refresh token is bound to its
    client (another client's is refused)."""
    assert "refresh_token" in op.discovery()["grant_types_supported"]
    sign_in = flow.sign_in()
    refresh_token = sign_in.token["refresh_token"]
    assert re.fullmatch(r"[\x20-\x7e]+", refresh_token)  # RFC 6749 A.17
    assert shannon_bits(refresh_token) > 96
    frozen_clock.advance(seconds=1)  # WaitForOneSecond: iat must differ

    response = flow.token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": "openid"}
    )

    token = check_token_response(response)
    assert token["access_token"] != sign_in.token["access_token"]
    claims = verify_id_token(op, token["id_token"], flow.client.client_id, access_token=token["access_token"])
    for claim in ("iss", "sub", "aud", "auth_time"):
        assert claims[claim] == sign_in.id_token[claim], claim
    assert claims.get("azp") == sign_in.id_token.get("azp")
    assert claims["iat"] != sign_in.id_token["iat"]
    assert flow.userinfo(token["access_token"]).status_code == 200

    other = CodeFlow(op, make_rp(name="Second client"), flow.agent)
    stolen = other.sign_in().token["refresh_token"]
    refused = flow.token_request({"grant_type": "refresh_token", "refresh_token": stolen})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
