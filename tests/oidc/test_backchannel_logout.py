"""Back-Channel Logout 1.0 end to end: a person signs in to several relying
parties in Chromium, then signs out at the provider's ``/o/logout/``; each
relying party with a ``backchannel_logout_uri`` (a real HTTP server here)
receives a logout token it can verify with the provider's JWKS, naming the
session (``sid``) its ID token named. An endpoint that is down or failing
does not stop or slow the person's logout.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests

from oauth_provider import backchannel_logout

from . import browser
from .support import (
    POST_LOGOUT_REDIRECT_URI,
    REDIRECT_URI,
    TIMEOUT,
    receiver,
    refused_url,
    url_params,
    verify_id_token,
    verify_logout_token,
)

pytestmark = pytest.mark.usefixtures("transactional_db")


def authorize_url(op, client, redirect_uri: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s-" + client.client_id[:8],
        "nonce": "n-" + client.client_id[:8],
        **params,
    }
    return f"{op.url}/o/authorize/?{urlencode(query)}"


def redeem(op, client, code: str, redirect_uri: str) -> dict:
    response = requests.post(
        f"{op.url}/o/token/",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=(client.client_id, client.secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def logout_url(op, **params: str) -> str:
    return f"{op.url}/o/logout/?{urlencode(params)}"


def test_logout_in_the_browser_reaches_each_backchannel_endpoint(op, person, make_rp, page):
    with receiver() as site:
        callback = f"{site.url}/callback"
        mail = make_rp(
            name="Mail",
            redirect_uris=callback,
            post_logout_redirect_uris=f"{site.url}/signed-out",
            backchannel_logout_uri=f"{site.url}/mail/backchannel",
        )
        calendar = make_rp(
            name="Calendar", redirect_uris=callback, backchannel_logout_uri=f"{site.url}/calendar/backchannel"
        )
        wiki = make_rp(name="Wiki", redirect_uris=callback)  # registered no back-channel URI
        id_tokens = {}
        for client in (mail, calendar, wiki):
            arrived = browser.sign_in(page, authorize_url(op, client, callback), person, until=callback)
            token = redeem(op, client, url_params(arrived)["code"], callback)
            id_tokens[client.client_id] = token["id_token"]
        jwks = op.jwks()
        sids = {
            client_id: verify_id_token(op, id_token, client_id, jwks=jwks)["sid"]
            for client_id, id_token in id_tokens.items()
        }
        # One browser session at the provider: one sid, whichever client asks.
        assert len(set(sids.values())) == 1

        page.goto(
            logout_url(
                op,
                id_token_hint=id_tokens[mail.client_id],
                post_logout_redirect_uri=f"{site.url}/signed-out",
                state="bye",
            )
        )
        page.wait_for_url(f"{site.url}/signed-out?**")
        assert url_params(page.url) == {"state": "bye"}

        delivered = {request.path: request for request in site.wait_for(2)}
        assert set(delivered) == {"/mail/backchannel", "/calendar/backchannel"}
        for client, path in ((mail, "/mail/backchannel"), (calendar, "/calendar/backchannel")):
            request = delivered[path]
            assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
            claims = verify_logout_token(op, request.form["logout_token"], client.client_id, jwks)
            assert claims["sid"] == sids[client.client_id]
        assert len(site.received("POST")) == 2

    # Signed out at the provider too: the next request needs a login.
    again = requests.get(
        authorize_url(op, wiki, callback, prompt="none"),
        cookies={cookie["name"]: cookie["value"] for cookie in page.context.cookies()},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert url_params(again.headers["Location"])["error"] == "login_required"


def test_dead_slow_or_failing_backchannel_endpoints_do_not_hold_up_logout(
    op, person, make_rp, user_agent, settings
):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS": 1,
        "BACKCHANNEL_LOGOUT_RETRIES": 0,
    }
    with receiver() as healthy, receiver(status=500) as failing, receiver(delay=1.5) as slow:
        clients = [
            make_rp(name="Down", backchannel_logout_uri=refused_url()),
            make_rp(name="Broken", backchannel_logout_uri=f"{failing.url}/backchannel"),
            make_rp(name="Slow", backchannel_logout_uri=f"{slow.url}/backchannel"),
            make_rp(name="Fine", backchannel_logout_uri=f"{healthy.url}/backchannel"),
        ]
        id_tokens = []
        for client in clients:
            params = user_agent.visit(authorize_url(op, client, REDIRECT_URI)).params
            id_tokens.append(redeem(op, client, params["code"], REDIRECT_URI)["id_token"])

        started = time.monotonic()
        arrival = user_agent.visit(
            logout_url(
                op,
                id_token_hint=id_tokens[0],
                post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
                state="bye",
            )
        )
        took = time.monotonic() - started

        assert arrival.url == f"{POST_LOGOUT_REDIRECT_URI}?state=bye"
        # Faster than the slow endpoint's timeout: deliveries happen after the response.
        assert took < 1
        (request,) = healthy.wait_for(1)
        verify_logout_token(op, request.form["logout_token"], clients[-1].client_id)
        failing.wait_for(1)
        slow.wait_for(1)
        # Every delivery ends (the slow one by its timeout) without anyone waiting on it.
        assert backchannel_logout.flush(timeout=10)

    # The provider session ended whatever the relying parties answered.
    assert user_agent.visit(authorize_url(op, clients[-1], REDIRECT_URI)).pages[0] == "login"
