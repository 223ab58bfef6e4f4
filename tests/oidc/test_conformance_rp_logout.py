"""The OpenID Foundation's logout certification plans, replicated over HTTP
against the live server: ``oidcc-rp-initiated-logout-certification-test-plan``
(RP-Initiated Logout 1.0) and the back-channel module of
``oidcc-backchannel-rp-initiated-logout-certification-test-plan``
(Back-Channel Logout 1.0). One test per test module, named after it.

Each module signs in first (AbstractOIDCCRpInitiatedLogout), sends the
browser to the end_session_endpoint with ``id_token_hint``,
``post_logout_redirect_uri`` and ``state`` (some modules leave some out or
spoil them), and, where the logout must have happened, checks that a
``prompt=none`` request now fails with an error asking for a user interface.
"""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from .support import (
    POST_LOGOUT_REDIRECT_URI,
    USER_INTERFACE_ERRORS,
    CodeFlow,
    receiver,
    url_params,
    verify_logout_token,
)

pytestmark = pytest.mark.usefixtures("transactional_db")


def assert_logged_out(flow: CodeFlow) -> None:
    """The second, prompt=none, authorization of every logout module."""
    arrival = flow.agent.visit(flow.request_url(prompt="none", state="after", nonce="n"))
    assert arrival.params["error"] in USER_INTERFACE_ERRORS
    assert arrival.params["state"] == "after"


def assert_not_redirected(arrival) -> None:
    """The OP showed a page (an error, or a confirmation) and sent nobody back."""
    assert arrival.url is None, f"redirected to {arrival.url}"
    assert arrival.page.status_code in (200, 400)


def end_session_state() -> str:
    # AbstractOIDCCRpInitiatedLogout asks for long values, to see that the OP keeps them intact.
    return secrets.token_urlsafe(96)


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(op):
    """OIDCCRpInitiatedLogoutDiscoveryEndpointVerification: end_session_endpoint is published."""
    assert op.discovery()["end_session_endpoint"] == f"{op.url}/o/logout/"


def test_oidcc_rp_initiated_logout(flow):
    """oidcc-rp-initiated-logout: with a valid hint and a registered URI the
    OP logs the user out and redirects there with exactly the state
    (CheckPostLogoutState, CheckForUnexpectedParametersInPostLogoutRedirect)."""
    sign_in = flow.sign_in()
    state = end_session_state()

    arrival = flow.agent.log_out(
        id_token_hint=sign_in.raw_id_token, post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI, state=state
    )

    assert arrival.pages == [], "the hint ties the request to this session: no question asked"
    assert arrival.url.startswith(POST_LOGOUT_REDIRECT_URI + "?")
    assert url_params(arrival.url) == {"state": state}
    assert_logged_out(flow)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(flow):
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an unregistered
    post_logout_redirect_uri is never redirected to (RP-Initiated Logout §3)."""
    sign_in = flow.sign_in()

    arrival = flow.agent.log_out(
        confirm=False,
        id_token_hint=sign_in.raw_id_token,
        post_logout_redirect_uri="https://attacker.example/signed-out",
        state=end_session_state(),
    )

    assert_not_redirected(arrival)


def test_oidcc_rp_initiated_logout_modified_id_token_hint(flow):
    """oidcc-rp-initiated-logout-modified-id-token-hint: the hint turned into
    an alg "none" token (ChangeIdTokenToAlgNone) is not trusted: no redirect."""
    sign_in = flow.sign_in()
    header, payload, _signature = sign_in.raw_id_token.split(".")
    unsigned = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()

    arrival = flow.agent.log_out(
        confirm=False,
        id_token_hint=f"{unsigned}.{payload}.",
        post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
        state=end_session_state(),
    )

    assert header != unsigned
    assert_not_redirected(arrival)


def test_oidcc_rp_initiated_logout_no_id_token_hint(flow):
    """oidcc-rp-initiated-logout-no-id-token-hint: a post_logout_redirect_uri
    with nothing naming the client: an error or a confirmation, no redirect."""
    flow.sign_in()

    arrival = flow.agent.log_out(
        confirm=False, post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI, state=end_session_state()
    )

    assert_not_redirected(arrival)


def test_oidcc_rp_initiated_logout_no_params(flow):
    """oidcc-rp-initiated-logout-no-params: no parameters: the OP logs the
    user out (after confirming, as the request names nobody) and shows that
    they are logged out; no redirect."""
    flow.sign_in()

    arrival = flow.agent.log_out()

    # Nothing ties the request to the user: asked first, so no site can log them out (logout CSRF).
    assert arrival.pages == ["logout-confirmation"]
    assert_not_redirected(arrival)
    assert_logged_out(flow)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(flow):
    """oidcc-rp-initiated-logout-no-post-logout-redirect-uri: a hint and a
    state but nowhere to go back: logged out, no redirect."""
    sign_in = flow.sign_in()

    arrival = flow.agent.log_out(id_token_hint=sign_in.raw_id_token, state=end_session_state())

    assert arrival.pages == []
    assert_not_redirected(arrival)
    assert_logged_out(flow)


def test_oidcc_rp_initiated_logout_no_state(flow):
    """oidcc-rp-initiated-logout-no-state: without state the redirect carries no state."""
    sign_in = flow.sign_in()

    arrival = flow.agent.log_out(
        id_token_hint=sign_in.raw_id_token, post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI
    )

    assert arrival.url == POST_LOGOUT_REDIRECT_URI
    assert_logged_out(flow)


def test_oidcc_rp_initiated_logout_only_state(flow):
    """oidcc-rp-initiated-logout-only-state: only a state: logged out (after
    confirming), no redirect."""
    flow.sign_in()

    arrival = flow.agent.log_out(state=end_session_state())

    assert arrival.pages == ["logout-confirmation"]
    assert_not_redirected(arrival)
    assert_logged_out(flow)


def test_oidcc_backchannel_logout_discovery_endpoint_verification(op):
    """OIDCCBackchannelLogoutDiscoveryEndpointVerification (Back-Channel
    Logout 1.0 §2.1): back-channel logout with sid is announced."""
    discovery = op.discovery()

    assert discovery["backchannel_logout_supported"] is True
    assert discovery["backchannel_logout_session_supported"] is True


def test_oidcc_backchannel_rp_initiated_logout(op, make_rp, user_agent):
    """oidcc-backchannel-rp-initiated-logout: the logout reaches the
    registered backchannel_logout_uri with only a logout_token
    (CheckForUnexpectedParametersInBackchannelLogoutRequest), validly signed
    (ValidateLogoutTokenSignature, ValidateLogoutTokenClaims), for the sub
    and sid of the ID token, without nonce; the browser goes back with the
    state; a prompt=none request then fails."""
    with receiver() as relying_party:
        client = make_rp(backchannel_logout_uri=f"{relying_party.url}/backchannel_logout")
        flow = CodeFlow(op, client, user_agent)
        sign_in = flow.sign_in()
        state = end_session_state()

        arrival = user_agent.log_out(
            id_token_hint=sign_in.raw_id_token, post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI, state=state
        )

        assert url_params(arrival.url) == {"state": state}
        (request,) = relying_party.wait_for(1)
    assert request.path == "/backchannel_logout"
    assert list(request.form) == ["logout_token"]
    claims = verify_logout_token(op, request.form["logout_token"], client.client_id)
    assert claims["sid"] == sign_in.id_token["sid"]
    if "sub" in claims:
        assert claims["sub"] == sign_in.id_token["sub"]
    assert_logged_out(flow)
